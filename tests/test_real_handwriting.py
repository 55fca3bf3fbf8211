"""to_network_input on digits as they really arrive: any pen, slanted, faint, photographed, at the edge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from digitnet.errors import DigitnetError
from digitnet.modelfile import load_model, shipped_models
from digitnet.preprocess import STROKE_BAND, stroke_width, to_network_input

# Digits as polylines in a 60x100 box (x right, y down).
STROKES = {
    "0": [[(30, 0), (5, 20), (0, 50), (5, 80), (30, 100), (55, 80), (60, 50), (55, 20), (30, 0)]],
    "1": [[(15, 20), (35, 0), (35, 100)]],
    "2": [[(5, 20), (20, 3), (42, 0), (58, 18), (50, 45), (0, 100), (60, 100)]],
    "3": [[(5, 10), (30, 0), (55, 15), (50, 40), (25, 48), (55, 60), (58, 85), (30, 100), (3, 90)]],
    "4": [[(45, 100), (45, 0), (0, 65), (60, 65)]],
    "5": [[(55, 0), (10, 0), (5, 45), (35, 38), (58, 60), (52, 90), (25, 100), (2, 90)]],
    "6": [[(50, 5), (25, 10), (5, 45), (5, 80), (30, 100), (55, 85), (52, 60), (30, 50), (8, 62)]],
    "7": [[(0, 0), (60, 0), (22, 100)]],
    "8": [[(30, 48), (8, 30), (12, 5), (30, 0), (50, 8), (52, 30), (30, 48), (5, 70), (10, 95), (30, 100),
           (52, 94), (55, 70), (30, 48)]],
    "9": [[(52, 38), (30, 50), (8, 35), (12, 8), (35, 0), (55, 15), (52, 38), (45, 100)]],
}
fast = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sheet(digit: str, height: int = 200, pen: int = 14, slant: float = 0.0, size=(260, 300), at=(40, 40),
          ink=0.0, paper=1.0) -> np.ndarray:
    """A grayscale sheet `size` (w, h) in [0, 1] with `digit` drawn `height` pixels tall, its box's
    corner `at`, slanted (x moves right by slant x the height above the baseline), pen `pen` wide."""
    image = Image.new("F", size, paper)
    draw = ImageDraw.Draw(image)
    scale = height / 100
    for line in STROKES[digit]:
        points = [(at[0] + (x + slant * (100 - y)) * scale, at[1] + y * scale) for x, y in line]
        draw.line(points, fill=ink, width=pen, joint="curve")
        for x, y in points:  # round ends, as a pen leaves them
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=ink)
    return np.array(image)


def difference_up_to_a_pixel(inputs, expected) -> float:
    """Mean absolute difference of two inputs `(784,)`, allowing a one-pixel shift: centring moves a
    digit by whole pixels (as MNIST did), so a centre of mass near x.5 may round either way."""
    image, target = inputs.reshape(28, 28), expected.reshape(28, 28)
    return min(float(np.abs(np.roll(image, (dy, dx), axis=(0, 1)) - target).mean())
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


@pytest.fixture(scope="module")
def networks():
    return {name: load_model(path).network for name, path in shipped_models().items()}


def guess(network, pixels) -> int:
    return int(network.predict_digit(to_network_input(np.clip(pixels, 0, 1))[np.newaxis])[0])


def output_stroke(inputs) -> float:
    """Stroke width of the network's input, as a fraction of its 20-pixel box."""
    return stroke_width(inputs.reshape(28, 28)) / 20


@fast
@given(digit=st.sampled_from(sorted(STROKES)), pen=st.sampled_from([1, 2, 3, 34, 44, 56]))
def test_a_thin_pen_and_a_thick_marker_give_mnist_strokes(digit, pen):
    """The thinnest and thickest pens come out with strokes as wide as MNIST's (its 0.5th-99.5th
    percentile, STROKE_BAND), where a 1-pixel pen alone would be 0.005 of the box and the 56-pixel marker 0.28."""
    # (measured at 28x28 rather than where it was set, at 80 pixels: 10% of leeway)
    assert STROKE_BAND[0] * 0.9 <= output_stroke(to_network_input(sheet(digit, pen=pen))) <= STROKE_BAND[1] * 1.1


def test_thin_and_thick_versions_of_a_digit_get_the_same_answer(networks):
    """A fine pen (2 pixels), a normal one (14) and a marker (44) on a 200-pixel digit: the strong
    model reads all three alike for at least 9 of the 10 digits (today: all but the fine pen's 6,
    read as a 5)."""
    answers = {digit: {pen: guess(networks["strong"], sheet(digit, pen=pen)) for pen in (2, 14, 44)}
               for digit in sorted(STROKES)}
    same = [digit for digit, by_pen in answers.items() if set(by_pen.values()) == {int(digit)}]
    assert len(same) >= 9, answers


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_the_pages_fixed_pen_on_a_small_digit(networks, digit):
    """The explorer's pen is 18 pixels on a 280-pixel pad; a digit drawn 70 pixels tall is all stroke."""
    small = sheet(digit, height=70, pen=18, size=(280, 280), at=(100, 100))
    assert guess(networks["strong"], small) == int(digit)


@pytest.mark.parametrize("digit", sorted(STROKES))
@pytest.mark.parametrize("slant", [-0.25, 0.35])
def test_a_slanted_digit_gets_the_same_answer(networks, digit, slant):
    """No deskewing: the strong model learned slants from its training's shears (augment.py)."""
    assert guess(networks["strong"], sheet(digit, slant=slant, size=(340, 300))) == int(digit)


def photo(pixels: np.ndarray, seed: int = 0) -> np.ndarray:
    """`pixels` `(H, W)` as a phone sees paper: light falling off from one corner to the other, ink
    that is dark grey rather than black, grain."""
    rng = np.random.default_rng(seed)
    height, width = pixels.shape
    rows, cols = np.mgrid[0:height, 0:width]
    light = 0.95 - 0.55 * (rows / height + cols / width) / 2  # (H, W): 0.95 down to 0.4
    page = light * (0.35 + 0.65 * pixels)  # ink reflects 35% of the light falling on it
    return np.clip(page + rng.normal(0, 0.015, page.shape), 0, 1).astype(np.float32)


@fast
@given(digit=st.sampled_from(sorted(STROKES)), seed=st.integers(0, 100))
def test_a_photo_like_background_is_removed(digit, seed):
    clean = sheet(digit)
    inputs, expected = to_network_input(photo(clean, seed)), to_network_input(clean)
    assert difference_up_to_a_pixel(inputs, expected) < 0.07  # strokes a little thinner, nothing more
    # a shadow left as ink would light up far more; the strokes may be thickened to MNIST's (near STROKE_BAND)
    assert (inputs > 0.5).sum() <= (expected > 0.5).sum() * 2


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_a_photographed_digit_gets_the_same_answer(networks, digit):
    assert guess(networks["strong"], photo(sheet(digit))) == int(digit)


@fast
@given(digit=st.sampled_from(sorted(STROKES)), contrast=st.floats(0.2, 0.4), seed=st.integers(0, 100))
def test_faint_pencil_gives_the_same_input(digit, contrast, seed):
    """Pencil: grey ink, grainy, and the grain is in the strokes too. (At 15% contrast some grain
    patterns differ by up to 0.09: hypothesis found seed 56 for a 0, a 2 and a 3; not claimed.)"""
    rng = np.random.default_rng(seed)
    clean = sheet(digit)
    pencil = 1 - contrast * (1 - clean) * rng.uniform(0.7, 1.0, clean.shape) + rng.normal(0, 0.01, clean.shape)
    inputs = to_network_input(np.clip(pencil, 0, 1).astype(np.float32))
    assert difference_up_to_a_pixel(inputs, to_network_input(clean)) < 0.07


@pytest.mark.parametrize("digit", ["2", "4", "7"])
def test_a_digit_touching_the_edge_is_read_whole(digit):
    """Cut so the digit runs into the top, left and bottom edges: the same input as with a margin."""
    full = sheet(digit, pen=14)
    rows, cols = np.flatnonzero((full < 0.5).any(axis=1)), np.flatnonzero((full < 0.5).any(axis=0))
    touching = full[rows[0] + 2:rows[-1] - 1, cols[0] + 2:]
    assert difference_up_to_a_pixel(to_network_input(touching), to_network_input(full)) < 0.03


def test_two_digits_side_by_side_are_a_clear_error_when_one_is_required():
    pair = np.minimum(sheet("4", size=(500, 300)), sheet("2", size=(500, 300), at=(260, 40)))
    with pytest.raises(DigitnetError, match="holds 2 digits side by side; give one digit per image"):
        to_network_input(pair, require_one_digit=True)
    three = np.minimum(pair, sheet("1", size=(500, 300), at=(170, 40)))
    with pytest.raises(DigitnetError, match="holds 3 digits"):
        to_network_input(three, require_one_digit=True)
    assert to_network_input(pair).shape == (784,)  # a drawing in progress (the page) is read as one


def test_predict_names_the_file_holding_two_digits(tmp_path, capsys):
    from digitnet import cli
    path = tmp_path / "42.png"
    pair = np.minimum(sheet("4", size=(500, 300)), sheet("2", size=(500, 300), at=(260, 40)))
    Image.fromarray((pair * 255).astype(np.uint8)).save(path)
    assert cli.main(["predict", str(path)]) == 1
    assert f"{path}: the image holds 2 digits side by side" in capsys.readouterr().err


def test_a_digit_with_a_speck_or_a_broken_stroke_is_still_one_digit():
    seven = sheet("7")
    speck = seven.copy()
    speck[150:156, 240:246] = 0  # a dot of dirt to the right, past empty columns
    assert to_network_input(speck, require_one_digit=True).shape == (784,)
    broken = sheet("4")
    broken[:, 150:154] = 1  # a gap through the crossbar: the parts overlap in height, but the right
    # part is tall and the left small (the 4's slanted stroke and bar)
    assert to_network_input(broken, require_one_digit=True).shape == (784,)
