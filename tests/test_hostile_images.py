"""Hostile and odd image files: each gets a digit or a one-line DigitnetError, never a traceback.

test_preprocess.py covers the ordinary formats and the basic mistakes (empty, text, a truncated
PNG, bombs by header); this adds the rest of the corpus and runs all of it through the real
`digitnet predict --json` command.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import sys
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile, PngImagePlugin, features

from digitnet.data import read_idx, shipped_data_dir
from digitnet.errors import DigitnetError
from digitnet.preprocess import to_network_input
from helpers import digitnet_env, run_digitnet


def digit_seven() -> Image.Image:
    """MNIST test image 0 (a 7) as a user would draw it: dark ink on light paper, 112x112."""
    pixels = read_idx(shipped_data_dir() / "t10k-images-idx3-ubyte.gz")[0]
    return Image.fromarray(255 - pixels).resize((112, 112), Image.BILINEAR)


def encoded(image: Image.Image, file_format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **params)
    return buffer.getvalue()


def one_line_error(image, *fragments: str) -> str:
    with pytest.raises(DigitnetError) as caught:
        to_network_input(image)
    message = str(caught.value)
    assert "\n" not in message, message
    name = str(image) if isinstance(image, (str, os.PathLike)) else "image"  # the path as given
    assert message.startswith(f"{name}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def same_as_seven(inputs: np.ndarray, reference: np.ndarray) -> bool:
    return float(np.abs(inputs - reference).mean()) < 0.03


@pytest.fixture(scope="module")
def seven():
    return digit_seven()


@pytest.fixture(scope="module")
def reference(seven):
    return to_network_input(seven)


# --- the image files of the corpus ---------------------------------------------------------------------


def png_with_size(width: int, height: int, data: bytes) -> bytes:
    """A PNG whose IHDR says width x height (8-bit gray) and whose IDAT holds `data`, compressed."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")


def huge_bilevel_png() -> bytes:
    """A real 10000x10000 image (100 MP, over Pillow's bomb limit) in ~30 kB: mode "1" compresses well."""
    image = Image.new("1", (10_000, 10_000), 1)
    ImageDraw.Draw(image).line([(5_000, 1_000), (5_000, 9_000)], fill=0, width=400)
    return encoded(image, "PNG")


def gif_with_zero_frames() -> bytes:
    """Header, a 10x10 logical screen, no image descriptor, trailer."""
    return b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0, 0, 0) + b";"


def gif_with_corrupt_lzw(seven) -> bytes:
    data = bytearray(encoded(seven.convert("P"), "GIF"))
    for index in range(len(data) // 2, len(data) - 2):  # scramble the second half of the image data
        data[index] ^= 0x5A
    return bytes(data)


def animated_gif(seven) -> bytes:
    one = Image.new("L", seven.size, 255)
    ImageDraw.Draw(one).line([(56, 10), (56, 100)], fill=0, width=10)
    return encoded(seven.convert("P"), "GIF", save_all=True, append_images=[one.convert("P")], duration=80, loop=0)


def rgba_on_transparent(seven) -> bytes:
    """Black ink on a fully transparent background, as an HTML canvas exports a drawing."""
    rgba = Image.new("RGBA", seven.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(seven, lambda value: 255 - value))
    return encoded(rgba, "PNG")


def exif_rotated_jpeg(seven) -> bytes:
    """Stored sideways, with EXIF orientation 6 ("rotate 90 clockwise to show"), as phones save photos."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(seven.convert("RGB").transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif.tobytes())


def float_tiff_with(value) -> bytes:
    pixels = np.asarray(digit_seven(), dtype=np.float32) / 255
    pixels[0, 0] = value
    return encoded(Image.fromarray(pixels, "F"), "TIFF")


def png_with_a_text_bomb(seven) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "A" * (16 << 20), zip=True)  # a zTXt chunk inflating to 16 MiB (Pillow's limit: 1)
    return encoded(seven, "PNG", pnginfo=info)


EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n"
       b"(digitnet ran this PostScript) print flush\nnewpath 4 4 moveto 24 24 lineto stroke showpage\n")


# The command's peak memory on the corpus: Python, numpy, Pillow and the model take ~150 MB; one of the
# corpus's bombs decoded would add 400 MB (10000x10000 as float32), so the bound shows none was.
MAX_CORPUS_PEAK = 500 << 20  # predict also reads the training digits once, to warn on unlike inputs (~380 MB measured)


def corpus(folder: Path, seven: Image.Image) -> dict[str, str]:
    """Write every file; returns file name -> "7" (must be read as a 7), "digit", "error" or "either"."""
    files = {
        "seven.png": (encoded(seven, "PNG"), "7"),
        "empty.png": (b"", "error"),
        "not-an-image.png": (b"digitnet predict reads images; this is text\n", "error"),
        "truncated.png": (encoded(seven, "PNG")[:300], "error"),
        "bomb-header-20000x20000.png": (png_with_size(20_000, 20_000, b"\0" * 1000), "error"),
        "bomb-real-10000x10000.png": (huge_bilevel_png(), "error"),
        "one-pixel.png": (encoded(Image.new("L", (1, 1), 0), "PNG"), "either"),
        "16-bit.png": (encoded(Image.fromarray(np.asarray(seven, np.uint16) * 257), "PNG"), "7"),
        "palette.png": (encoded(seven.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE), "PNG"), "7"),
        "rgba-transparent.png": (rgba_on_transparent(seven), "7"),
        "animated.gif": (animated_gif(seven), "7"),
        "zero-frames.gif": (gif_with_zero_frames(), "error"),
        "corrupt-lzw.gif": (gif_with_corrupt_lzw(seven), "error"),
        "digit.tiff": (encoded(seven, "TIFF", compression="tiff_lzw"), "7"),
        "digit.webp": (encoded(seven, "WEBP", lossless=True), "7") if features.check("webp") else (b"RIFF", "error"),
        "cmyk.jpg": (encoded(seven.convert("CMYK"), "JPEG", quality=95), "7"),
        "exif-rotated.jpg": (exif_rotated_jpeg(seven), "digit"),
        "float-nan.tiff": (float_tiff_with(np.nan), "error"),
        "text-bomb.png": (png_with_a_text_bomb(seven), "error"),
        "postscript.eps": (EPS, "error"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    (folder / "a-folder.png").mkdir()
    expected = {name: answer for name, (_, answer) in files.items()}
    expected.update({"a-folder.png": "error", "missing.png": "error"})
    return expected


def run_cli(*args, cwd, path_prefix: Path | None = None, measure_memory=False):
    """The real command; with `path_prefix` first on its PATH (to plant a fake program)."""
    env = digitnet_env()
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env.get('PATH', '')}"
    return run_digitnet(*args, cwd=cwd, env=env, timeout=120, measure_memory=measure_memory)


def test_predict_answers_every_file_of_the_corpus_without_a_traceback(tmp_path, seven):
    expected = corpus(tmp_path, seven)
    result = run_cli("predict", "--json", *expected, cwd=tmp_path, measure_memory=True)
    # Bounded by memory, not by time: the largest image the corpus lets through is decoded once, in
    # float32, and the bombs are refused before they are decoded (MAX_CORPUS_PEAK says how much).
    assert result.peak_rss_bytes < MAX_CORPUS_PEAK, f"{result.peak_rss_bytes:,} bytes at the peak"
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1  # some files are errors
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [answer["file"] for answer in answers] == list(expected)
    for answer in answers:
        want = expected[answer["file"]]
        if "error" in answer:
            assert set(answer) == {"file", "error"}, answer
            assert want in ("error", "either"), answer
            assert "\n" not in answer["error"] and answer["error"].startswith(answer["file"] + ": "), answer
        else:
            assert set(answer) == {"file", "digit", "confidence", "probabilities", "familiarity",
                                   "unlike_training_digits"}, answer
            assert want in ("7", "digit", "either"), answer
            assert answer["digit"] in range(10)
            if want == "7":
                assert answer["digit"] == 7, answer


# --- in process: what the corpus alone cannot show -----------------------------------------------------------


def test_pillows_decompression_bomb_guard_is_on():
    import digitnet.preprocess  # noqa: F401  (importing digitnet must not turn the guard off)
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= 100_000_000


@pytest.fixture
def decoded_images(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image whose pixels Pillow decodes while the test runs (ImageFile.load is
    where every file format's decoder runs), to show that a bomb is refused from its header."""
    decoded, load = [], ImageFile.ImageFile.load

    def recording_load(picture):
        decoded.append(picture.size)
        return load(picture)
    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return decoded


def test_a_real_100_megapixel_image_is_refused_from_its_header_with_a_clear_message(tmp_path, decoded_images):
    path = tmp_path / "scan.png"
    path.write_bytes(huge_bilevel_png())
    one_line_error(path, "too large", "megapixels")
    assert decoded_images == []


@pytest.mark.parametrize("make", [
    lambda seven: _resized_header(encoded(seven.convert("RGB"), "BMP"), 18, struct.pack("<ii", 50_000, 50_000)),
    lambda seven: _resized_header(encoded(seven.convert("RGB"), "BMP"), 18, struct.pack("<ii", 2**31 - 1, -(2**31 - 1))),
    lambda seven: _resized_header(encoded(seven.convert("P"), "GIF"), 6, struct.pack("<HH", 65_535, 65_535)),
    lambda seven: png_with_size(1, 39_999_999, b"\0\0" * 1000),
    lambda seven: png_with_size(39_999_999, 1, b"\0" * 1000),
], ids=["bmp 50000x50000", "bmp 2^31 top-down", "gif screen 65535x65535", "png 1x39999999", "png 39999999x1"])
def test_bombs_in_other_formats_are_refused(seven, make, decoded_images):
    one_line_error(make(seven), "too large")
    assert decoded_images == []


def _resized_header(data: bytes, offset: int, size: bytes) -> bytes:
    return data[:offset] + size + data[offset + len(size):]


def test_a_text_chunk_bomb_is_refused_without_inflating_it(seven):
    bomb = png_with_a_text_bomb(seven)
    tracemalloc.start()  # zlib's output is a Python bytes object, so inflating it would show here
    try:
        one_line_error(bomb, "too large")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Pillow inflates at most MAX_TEXT_CHUNK (1 MiB) of a text chunk before it refuses: a few of those
    # at the peak, never the 16 MiB.
    assert peak < 4 * PngImagePlugin.MAX_TEXT_CHUNK < 16 << 20, f"{peak:,} bytes allocated: the text was inflated"


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow: "Corrupt EXIF data" (see the report)
@pytest.mark.parametrize("file_format, params", [("PNG", {}), ("GIF", {}), ("JPEG", {"quality": 90}), ("BMP", {}),
                                                 ("TIFF", {"compression": "tiff_lzw"})])
def test_every_truncation_gives_a_digit_or_a_one_line_error(seven, reference, file_format, params):
    data = encoded(seven.convert("P") if file_format == "GIF" else seven, file_format, **params)
    cuts = sorted(set(range(0, min(len(data), 400))) | set(np.linspace(0, len(data) - 1, 150, dtype=int)))
    errors = 0
    for cut in cuts:
        try:
            inputs = to_network_input(data[:cut])
        except DigitnetError as error:
            assert "\n" not in str(error) and str(error).startswith("image: "), (cut, str(error))
            errors += 1
        else:
            assert inputs.shape == (784,) and np.isfinite(inputs).all(), cut
    assert errors >= len(cuts) // 2  # most cuts are refused; the rest decode what arrived


def test_gif_with_zero_frames_or_corrupt_lzw_names_the_file(tmp_path, seven):
    for name, data in (("zero.gif", gif_with_zero_frames()), ("lzw.gif", gif_with_corrupt_lzw(seven))):
        path = tmp_path / name
        path.write_bytes(data)
        one_line_error(path)


def test_a_phones_multi_picture_jpeg_is_read(reference, seven):
    # Many phones save MPO (a JPEG followed by more JPEGs); Pillow opens it with its JPEG plugin.
    data = encoded(seven.convert("RGB"), "MPO", save_all=True, append_images=[seven.convert("RGB")], quality=95)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert same_as_seven(to_network_input(data), reference)


def test_tiff_and_webp_are_read_like_png(reference, seven):
    assert same_as_seven(to_network_input(encoded(seven, "TIFF", compression="tiff_lzw")), reference)
    if features.check("webp"):
        assert same_as_seven(to_network_input(encoded(seven, "WEBP", lossless=True)), reference)


def test_an_exif_rotated_photo_is_read_upright(reference, seven):
    inputs = to_network_input(exif_rotated_jpeg(seven))
    assert same_as_seven(inputs, reference), float(np.abs(inputs - reference).mean())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # test_float_tiff_with_infinity_warns_nothing
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_float_tiff_with_non_finite_pixels_is_a_clear_error(value):
    message = one_line_error(float_tiff_with(value))
    assert "NaN" in message or "must lie in" in message


def test_float_tiff_with_minus_infinity_is_answered():
    # Refused like NaN and +inf, or clipped into [0, 1] like any value below 0: read as a black pixel.
    try:
        inputs = to_network_input(float_tiff_with(-np.inf))
    except DigitnetError as error:
        assert "\n" not in str(error) and str(error).startswith("image: ")
    else:
        np.testing.assert_array_equal(inputs, to_network_input(float_tiff_with(0.0)))


def test_float_tiff_with_infinity_warns_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DigitnetError):
            to_network_input(float_tiff_with(np.inf))
    assert [str(w.message) for w in caught] == []


@pytest.fixture
def fake_ghostscript(tmp_path):
    """A `gs` first on PATH that leaves a mark when run: Pillow hands EPS files to Ghostscript."""
    folder = tmp_path / "bin"
    folder.mkdir()
    gs = folder / "gs"
    gs.write_text(f"#!/bin/sh\ntouch '{tmp_path / 'ghostscript-ran'}'\nexit 1\n")
    gs.chmod(gs.stat().st_mode | stat.S_IXUSR)
    return folder, tmp_path / "ghostscript-ran"


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script gs")
@pytest.mark.parametrize("name", ["drawing.eps", "disguised.png"])
def test_a_postscript_file_never_reaches_ghostscript(tmp_path, fake_ghostscript, name):
    folder, mark = fake_ghostscript
    (tmp_path / name).write_bytes(EPS)
    result = run_cli("predict", "--json", name, cwd=tmp_path, path_prefix=folder)
    answer = json.loads(result.stdout)
    assert "error" in answer and "Traceback" not in result.stderr
    assert not mark.exists(), "digitnet ran Ghostscript on a downloaded file"
