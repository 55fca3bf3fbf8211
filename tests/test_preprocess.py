"""Tests for digitnet.preprocess: any image -> the 784 inputs, made the way MNIST's digits were made."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from PIL import Image, ImageDraw

from digitnet.data import read_idx, shipped_data_dir
from digitnet.errors import DigitnetError
from digitnet.preprocess import MAX_PIXELS, center_of_mass, load_image, to_network_input

# Digits as polylines in a 60x100 box (x right, y down), drawn with a pen 12 units wide.
STROKES = {
    "7": [[(0, 0), (60, 0), (22, 100)]],
    "1": [[(15, 20), (35, 0), (35, 100)]],
    "4": [[(45, 100), (45, 0), (0, 65), (60, 65)]],
}
PEN = 12
MARGIN = 10  # canvas space around the digit at scale 1

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def draw_digit(digit="7", scale=1.0, offset=(0, 0), canvas=None, ink=0, paper=255, mode="L"):
    """A PIL image with `digit` drawn at `scale`, its box's corner at MARGIN * scale + offset."""
    left, top = MARGIN * scale + offset[0], MARGIN * scale + offset[1]
    if canvas is None:
        canvas = (round(left + (60 + MARGIN) * scale), round(top + (100 + MARGIN) * scale))
    image = Image.new(mode, canvas, paper)
    pen = ImageDraw.Draw(image)
    for line in STROKES[digit]:
        points = [(left + x * scale, top + y * scale) for x, y in line]
        pen.line(points, fill=ink, width=round(PEN * scale), joint="curve")
    return image


def grid(inputs):
    return inputs.reshape(28, 28)


def difference_up_to_a_pixel(inputs, expected):
    """Mean absolute difference of two 28x28 images, allowing a one-pixel shift: centring moves a
    digit by whole pixels (as MNIST did), so a centre of mass near x.5 may round either way."""
    shifted = [np.roll(grid(inputs), (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return min(np.abs(image - grid(expected)).mean() for image in shifted)


def ink_box(inputs, level=0.05):
    """(height, width) of the output's ink above `level`."""
    rows = np.flatnonzero((grid(inputs) > level).any(axis=1))
    cols = np.flatnonzero((grid(inputs) > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def png_bytes(image, **params):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


def png_claiming_size(width, height):
    """A tiny valid PNG whose header claims width x height (its data is far too short)."""
    data = png_bytes(Image.new("1", (1, 1)))
    header = struct.pack(">II", width, height) + data[24:29]  # IHDR: size, then depth, colour, ...
    chunk = b"IHDR" + header
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


@pytest.fixture(scope="module")
def reference():
    """The inputs for a clean "7": dark on white, scale 1."""
    return to_network_input(draw_digit("7"))


# --- the output's contract -------------------------------------------------------------------------


def test_output_is_784_float32_in_unit_range_with_saturated_ink(reference):
    assert reference.shape == (784,)
    assert reference.dtype == np.float32
    assert reference.min() == 0.0
    assert reference.max() == 1.0


def test_ink_fits_the_20x20_box_and_its_centre_of_mass_is_at_14_14(reference):
    height, width = ink_box(reference, level=0.0)
    assert max(height, width) in (20, 21)  # the digit is scaled to fill the box; 1 px anti-aliasing
    assert height > width  # a "7" is taller than wide: the aspect ratio is kept, not stretched
    assert np.allclose(center_of_mass(grid(reference)), (14, 14), atol=0.5)  # whole-pixel shift


def test_center_of_mass_is_brightness_weighted_in_pixel_indices():
    pixels = np.zeros((5, 7))
    pixels[1, 2] = 3.0
    pixels[3, 6] = 1.0
    assert center_of_mass(pixels) == pytest.approx((1.5, 3.0))
    with pytest.raises(ValueError):
        center_of_mass(np.zeros((3, 3)))


def test_load_image_returns_grayscale_as_seen():
    gray = load_image(np.array([[0, 255], [51, 102]], dtype=np.uint8))
    assert gray.dtype == np.float32
    assert np.allclose(gray, [[0, 1], [0.2, 0.4]])
    pure_red = np.zeros((2, 2, 3), dtype=np.uint8)
    pure_red[..., 0] = 255
    assert np.allclose(load_image(pure_red), 0.299, atol=1e-3)  # ITU-R 601-2 luma


# --- invariances: what a user would notice -----------------------------------------------------------


@fast
@given(
    digit=st.sampled_from(sorted(STROKES)),
    offset=st.tuples(st.integers(0, 300), st.integers(0, 300)),
    extra=st.tuples(st.integers(0, 200), st.integers(0, 200)),
    light_on_dark=st.booleans(),
)
def test_shifting_the_digit_anywhere_in_a_larger_canvas_changes_nothing(digit, offset, extra, light_on_dark):
    base = draw_digit(digit)
    canvas = (base.width + offset[0] + extra[0], base.height + offset[1] + extra[1])
    ink, paper = (255, 0) if light_on_dark else (0, 255)
    moved = draw_digit(digit, offset=offset, canvas=canvas, ink=ink, paper=paper)
    assert np.abs(to_network_input(moved) - to_network_input(base)).mean() < 0.01


@fast
@given(digit=st.sampled_from(sorted(STROKES)), scale=st.floats(1.5, 3.0), offset=st.integers(0, 50))
def test_scaling_the_digit_up_gives_nearly_the_same_input(digit, scale, offset):
    small = to_network_input(draw_digit(digit))
    large = to_network_input(draw_digit(digit, scale=scale, offset=(offset, 2 * offset)))
    assert difference_up_to_a_pixel(large, small) < 0.05
    assert np.allclose(center_of_mass(grid(large)), (14, 14), atol=1.0)
    assert max(ink_box(large, level=0.0)) <= 21


def test_a_thin_pen_still_gives_saturated_ink():
    # A 2-pixel pen on a 600-pixel-tall digit averages down to faint grey; MNIST's strokes are 1.0.
    thin = Image.new("L", (480, 720), 255)
    ImageDraw.Draw(thin).line([(60, 60), (420, 60), (192, 660)], fill=0, width=2)
    inputs = to_network_input(thin)
    assert inputs.max() == 1.0
    assert (inputs > 0.5).sum() >= 10


def test_scaling_down_anti_aliases_the_edges():
    # The drawing is pure black and white; scaled down to 20x20, its edges must blend into greys.
    large = to_network_input(draw_digit("4", scale=3.0))
    ink = large[large > 0]
    assert ((ink > 0.05) & (ink < 0.95)).mean() > 0.2


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    dark_on_light = to_network_input(draw_digit("4", ink=0, paper=255))
    light_on_dark = to_network_input(draw_digit("4", ink=255, paper=0))
    blue_on_yellow = to_network_input(draw_digit("4", ink=(30, 30, 160), paper=(250, 240, 120), mode="RGB"))
    assert np.abs(dark_on_light - light_on_dark).mean() < 0.01
    assert np.abs(dark_on_light - blue_on_yellow).mean() < 0.02


def test_polarity_holds_when_the_digit_touches_the_border():
    # Cropped tight: the "1"'s stroke runs into the top and bottom edges, the border is still paper.
    tight = draw_digit("1").crop((MARGIN + 10, MARGIN, MARGIN + 50, MARGIN + 100))
    for image in (tight, Image.eval(tight, lambda value: 255 - value)):
        inputs = to_network_input(image)
        assert grid(inputs)[:, :4].max() == 0 and grid(inputs)[:, -4:].max() == 0  # background dark
        assert inputs.mean() < 0.3  # a "1" is thin: mostly background


def test_faint_background_noise_and_grey_paper_are_removed(reference):
    rng = np.random.default_rng(0)
    clean = np.asarray(draw_digit("7"), dtype=np.float64) / 255
    paper = 0.55 + 0.35 * clean  # grey paper (0.9), dim ink (0.55)
    noisy = np.clip(paper + rng.normal(0, 0.02, clean.shape), 0, 1)
    inputs = to_network_input(noisy)
    assert np.abs(inputs - reference).mean() < 0.03
    assert grid(inputs)[:2].max() == 0  # no specks in the margin


def test_mnist_test_images_come_back_as_they_were():
    images = read_idx(shipped_data_dir() / "t10k-images-idx3-ubyte.gz")[:50]
    for image in images[:10]:  # MNIST is already in this form, so preprocessing changes little
        assert np.abs(to_network_input(image) - image.reshape(-1) / 255).mean() < 0.06
    for image in images:  # at worst a one-pixel shift, where MNIST rounded a centre of x.5 the other way
        assert difference_up_to_a_pixel(to_network_input(image), image / 255) < 0.01


# --- every kind of image -------------------------------------------------------------------------


def _as_rgba_canvas(gray):
    """Black strokes on a transparent background, as an HTML canvas exports a drawing."""
    rgba = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(gray, lambda value: 255 - value))
    return rgba


def _as_white_on_transparent(gray):
    rgba = Image.new("RGBA", gray.size, (255, 255, 255, 0))
    rgba.putalpha(Image.eval(gray, lambda value: 255 - value))
    return rgba


def _as_16_bit(gray):
    return Image.fromarray(np.asarray(gray, dtype=np.uint16) * 257)  # mode "I;16"


FORMATS = {  # name -> (the digit as a PIL image, how to save it)
    "L png": (lambda gray: gray, "PNG"),
    "RGB png": (lambda gray: gray.convert("RGB"), "PNG"),
    "RGBA canvas png": (_as_rgba_canvas, "PNG"),
    "white on transparent png": (_as_white_on_transparent, "PNG"),
    "16-bit png": (_as_16_bit, "PNG"),
    "palette png": (lambda gray: gray.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
    "1-bit png": (lambda gray: gray.point(lambda value: 255 if value > 127 else 0).convert("1"), "PNG"),
    "jpeg": (lambda gray: gray.convert("RGB"), "JPEG"),
    "bmp": (lambda gray: gray.convert("RGB"), "BMP"),
    "gif": (lambda gray: gray.convert("P"), "GIF"),
}


def _as_array(picture):
    """The pixels as a user would hand them over: palette indices are not a picture, colours are."""
    return np.asarray(picture.convert("RGB") if picture.mode == "P" else picture)


@pytest.mark.parametrize("kind", ["path", "str path", "bytes", "pil", "array"])
@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_every_format_and_kind_of_image_gives_the_same_input(format_name, kind, reference, tmp_path):
    make, file_format = FORMATS[format_name]
    path = tmp_path / f"digit.{file_format.lower()}"
    make(draw_digit("7")).save(path, file_format)
    image = {
        "path": lambda: path,
        "str path": lambda: str(path),
        "bytes": lambda: path.read_bytes(),
        "pil": lambda: Image.open(path),
        "array": lambda: _as_array(Image.open(path)),
    }[kind]()
    assert np.abs(to_network_input(image) - reference).mean() < 0.02


def test_float_rgba_array_from_a_canvas(reference):
    rgba = np.asarray(_as_rgba_canvas(draw_digit("7")), dtype=np.float64) / 255
    assert np.abs(to_network_input(rgba) - reference).mean() < 0.02


def test_animated_gif_uses_the_first_frame(reference, tmp_path):
    path = tmp_path / "animated.gif"
    first, second = draw_digit("7").convert("P"), draw_digit("1").convert("P")
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(path).n_frames == 2
    assert np.abs(to_network_input(path) - reference).mean() < 0.02
    one = to_network_input(draw_digit("1"))
    assert np.abs(to_network_input(path) - one).mean() > 0.05  # the frames do differ


# --- mistakes: one clear DigitnetError, never a Pillow or numpy exception ------------------------------


@pytest.mark.parametrize(
    "blank",
    [
        np.full((280, 280), 255, dtype=np.uint8),
        np.zeros((28, 28), dtype=np.uint8),
        np.zeros((280, 280, 4), dtype=np.uint8),  # an untouched canvas: all transparent
        np.full((50, 50), 0.5) + np.random.default_rng(1).normal(0, 0.01, (50, 50)),  # faint noise
    ],
    ids=["white", "black", "transparent", "faint noise"],
)
def test_blank_image_asks_for_a_digit(blank):
    with pytest.raises(DigitnetError, match=r"^image: the image is blank.*draw a digit"):
        to_network_input(blank)


def test_blank_file_names_the_file(tmp_path):
    path = tmp_path / "empty-canvas.png"
    Image.new("RGB", (100, 100), "white").save(path)
    with pytest.raises(DigitnetError, match=rf"^{re.escape(str(path))}: the image is blank"):
        to_network_input(path)


def test_the_size_limit_sits_below_pillows_own_bomb_warning():
    # 7000x7000 is refused by digitnet's own limit, 10000x10000 by Pillow's warning turned error.
    assert 1_000_000 < MAX_PIXELS < 7_000 * 7_000 < Image.MAX_IMAGE_PIXELS < 10_000 * 10_000


def _truncated_png(path):
    data = png_bytes(draw_digit("7"))
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "write, problem",
    [
        (lambda path: path.write_bytes(b""), "empty"),
        (lambda path: path.write_text("this is not a picture\n"), "not an image"),
        (_truncated_png, "damaged"),
        (lambda path: path.write_bytes(png_claiming_size(20_000, 20_000)), "too large"),  # Pillow refuses
        (lambda path: path.write_bytes(png_claiming_size(10_000, 10_000)), "too large"),  # Pillow warns
        (lambda path: path.write_bytes(png_claiming_size(7_000, 7_000)), "too large"),  # over 40 MP
    ],
    ids=["empty", "text", "truncated", "bomb 400 MP", "bomb 100 MP", "49 MP"],
)
def test_unreadable_file_is_one_line_naming_the_file(write, problem, tmp_path):
    path = tmp_path / "upload.png"
    write(path)
    for image in (path, path.read_bytes()):
        name = re.escape(str(path)) if image is path else "image"  # the path as the user gave it
        with pytest.raises(DigitnetError, match=rf"^{name}: .*{problem}") as error:
            to_network_input(image)
        assert "\n" not in str(error.value)


def test_bomb_made_by_pillow_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(path)  # 400 MP, a few kB on disk
    assert path.stat().st_size < 100_000
    with pytest.raises(DigitnetError, match="too large"):
        to_network_input(path)


def test_a_bomb_gives_the_error_and_no_stray_warning(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming_size(10_000, 10_000))  # between Pillow's warning and error limits
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DigitnetError, match="too large"):
            to_network_input(path)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_missing_file_and_directory_name_the_path(tmp_path):
    with pytest.raises(DigitnetError, match=r"nowhere.png: no such image file"):
        to_network_input(tmp_path / "nowhere.png")
    with pytest.raises(DigitnetError, match="is a folder, not an image file"):
        to_network_input(tmp_path)


@pytest.mark.parametrize(
    "image, problem",
    [
        (np.broadcast_to(np.uint8(0), (7_000, 7_000)), "too large"),
        (np.zeros((0, 5), dtype=np.uint8), "no pixels"),
        (np.zeros((4, 4, 5), dtype=np.uint8), "not an image"),
        (np.zeros(784, dtype=np.uint8), "not an image"),
        (np.full((4, 4), 255.0), "float pixels must lie in"),
        (np.full((4, 4), np.nan), "float pixels must lie in"),
        (np.full((4, 4), 300), "integer pixels must lie in"),
        (np.full((4, 4), "x"), "unsupported pixel type"),
        (Image.new("L", (0, 0)), "no pixels"),
        ([[0, 1], [1, 0]], "cannot use a list"),
    ],
    ids=["49 MP", "empty", "5 channels", "flat", "0-255 floats", "nan", "300", "strings", "0x0 PIL", "list"],
)
def test_bad_in_memory_images_say_what_to_pass(image, problem):
    with pytest.raises(DigitnetError, match=problem):
        to_network_input(image)


@pytest.mark.parametrize("value", [0, 255])
def test_one_pixel_image_is_refused_or_processed(value):
    try:
        inputs = to_network_input(np.full((1, 1), value, dtype=np.uint8))
    except DigitnetError:
        return
    assert inputs.shape == (784,) and inputs.max() == 1.0


SMALL_SHAPES = array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.uint8, SMALL_SHAPES)
    | arrays(np.float32, SMALL_SHAPES, elements=st.floats(0, 1, width=32))
    | arrays(np.bool_, SMALL_SHAPES)
)
def test_any_small_array_gives_valid_inputs_or_a_digitnet_error(pixels):
    try:
        inputs = to_network_input(pixels)
    except DigitnetError as error:
        assert str(error).startswith("image: ") and "\n" not in str(error)
        return
    assert inputs.shape == (784,) and inputs.dtype == np.float32
    assert inputs.min() >= 0.0 and inputs.max() == 1.0
    assert max(ink_box(inputs, level=0.0)) <= 21
