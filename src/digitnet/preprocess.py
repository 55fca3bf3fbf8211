"""Any image -> the 784 inputs the network expects, made the way MNIST's digits were made.

MNIST's recipe (LeCun et al.): the ink is bright on a dark background, the digit is scaled to fit a
20x20 box keeping its aspect ratio (anti-aliased, so edges are grey), then placed in a 28x28 field
so that its centre of mass sits at the centre, pixel (14, 14). A drawing that skips any of these
steps looks nothing like what the network learned from, and gets misread.

Real digits arrive in ways MNIST's never did, so on the way:
- a photo's uneven lighting is taken out (the paper's shade estimated tile by tile, `_uneven_paper`),
  and grey pencil or a thin pen is stretched so its strokes saturate as MNIST's do;
- strokes far thinner or thicker than MNIST's (a fine pen, a marker, the page's fixed pen on a small
  digit) are grown or thinned to MNIST's median width; strokes MNIST itself has are left alone;
- several digits side by side are refused with a clear error if asked (`require_one_digit`, as
  `digitnet predict` does): one digit per image.
Slant is *not* undone here: a model that learned on deskewed digits (the shipped record) deskews
this function's output itself (`modelfile.Model.prepare`, deskew.py), so the video and strong
models see exactly this and the explorer shows each model's own input.

Accepted images: a path to a PNG/JPEG/BMP/GIF/... file, the file's bytes, a `PIL.Image.Image`, or a
numpy array `(H, W)` grayscale, `(H, W, 2)` gray+alpha, `(H, W, 3)` RGB or `(H, W, 4)` RGBA, as
uint8 0-255, uint16 0-65535, bool, or float in [0, 1]. A bad image raises DigitnetError.
"""

from __future__ import annotations

import io
import os
import warnings
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from .errors import DigitnetError
from .files import read_bytes

SIDE = 28  # the network sees 28x28 = 784 pixels
BOX = 20  # MNIST scaled each digit to fit 20x20, leaving a 4-pixel margin for centring
MAX_PIXELS = 40_000_000  # a phone photo is ~12 MP; anything far beyond is a mistake or a bomb
MAX_SIDE = 20_000  # pixels along one side: a 1x40,000,000 strip is within MAX_PIXELS yet no picture of a digit
MAX_FILE_BYTES = 256 << 20  # an image file read whole: a 40 MP PNG of noise is ~120 MB
BLANK_CONTRAST = 0.1  # ink fainter than this (after removing the background) counts as no ink
NOISE_FLOOR = 0.1  # relative to the strongest ink: fainter specks (paper grain, JPEG noise) go to 0
NOISE_SIGMAS = 5  # ink must also stand this many noise sigmas (measured on the border) above paper
UNIFORM_SPREAD = 0.1  # colour spread under which a transparent image's alpha is its only content
PAPER_TILES = 8  # a photo's lighting is estimated on up to 8x8 tiles ...
PAPER_TILE_MIN = 16  # ... of at least 16 pixels a side
PAPER_PERCENTILE = 30  # the paper in a tile: its darker pixels (after inverting, ink is bright)
UNEVEN_PAPER = 0.08  # paper shades spreading further than this are a photo's lighting, taken out
DIGIT_MIN_HEIGHT = 0.5  # a run of columns at least half the ink's height ...
DIGIT_MIN_INK = 0.15  # ... holding at least 15% of the ink is a digit of its own
CLIPPED = 1e-3  # border pixels this close to the paper's median are paper clipped at white (or black)
SATURATED = 10  # percent of the ink pixels that come out at full brightness, 1.0
WORK_SIDE = 80  # stroke widths are measured and changed with the digit scaled to 80 pixels
STROKE_BAND = (0.045, 0.185)  # MNIST's 0.5th-99.5th percentile stroke widths, as a fraction of the box
STROKE_TARGET = 0.093  # MNIST's median, 1.9 of 20 pixels
TOO_LARGE_HINT = f"give one of at most {MAX_PIXELS // 1_000_000} megapixels"
# Pillow identifies a file by its content and would otherwise try every plugin it has, including EPS,
# which hands the file to Ghostscript (a PostScript interpreter). (Phones' MPO files open as JPEG.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as Pillow's convert("L")


def to_network_input(image, require_one_digit: bool = False) -> np.ndarray:
    """Any accepted image (see the module docstring) -> inputs `(784,)` float32 in [0, 1].

    The ink comes out bright (its brightest pixel exactly 1.0) on a dark (0.0) background, whatever
    the polarity of the original. A blank or unreadable image raises DigitnetError, and so does one
    of several digits side by side if `require_one_digit` (as `digitnet predict` asks: a file of a
    whole number; off by default, as a drawing in progress may look like two digits for a moment).
    """
    name = _name_of(image)
    ink = _crop(_ink(load_image(image), name))  # (h, w) cropped to the ink, ink > 0, background 0
    if require_one_digit:
        _check_one_digit(ink, name)
    digit = _normalise_stroke(ink)
    field = _center(_fit_in_box(digit))  # (28, 28)
    # MNIST strokes saturate; a thin pen averages down to grey and pencil is grey and grainy, so
    # stretch: the brightest SATURATED share of the ink becomes 1.0 (MNIST's own strokes already are).
    ink = field[field > 0]
    full = max(float(np.percentile(ink, 100 - SATURATED)) if ink.size else 1.0, 1e-6)
    return np.minimum(field / np.float32(full), 1).astype(np.float32).reshape(-1)


def load_image(image) -> np.ndarray:
    """Any accepted image -> grayscale `(H, W)` float32 in [0, 1], as a person would see it.

    Transparent pixels show the background: white, unless the image is one light colour whose
    alpha alone draws the strokes (then black, so the strokes stay visible). Animated images give
    their first frame (a PIL image: its current frame). Raises DigitnetError if unreadable or huge.
    """
    name = _name_of(image)
    if isinstance(image, (str, os.PathLike)):
        # Read whole, within a bound: a file, a pipe, or a device (an endless one is refused after
        # MAX_FILE_BYTES, a FIFO with no writer after a wait), an OS error a DigitnetError.
        return _decode(io.BytesIO(read_bytes(image, MAX_FILE_BYTES, "image file")), name)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _decode(io.BytesIO(image), name)
    if isinstance(image, Image.Image):
        with _reading(name):  # a lazily opened image decodes only now
            return _from_array(_pixels_of(image, name), name)
    if isinstance(image, np.ndarray):
        return _from_array(image, name)
    raise DigitnetError(
        f"{name}: cannot use a {type(image).__name__} as an image; pass a file path, the file's "
        "bytes, a PIL image or a numpy array"
    )


def center_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    """Brightness-weighted mean position `(row, col)` of `pixels: (H, W)`, in pixel indices.

    Pixel (i, j) counts as sitting at (i, j), so a 28x28 MNIST digit's centre of mass is (14, 14).
    The pixels must be non-negative with a positive sum.
    """
    total = pixels.sum(dtype=np.float64)
    if not total > 0:
        raise ValueError("center_of_mass: the pixels sum to zero, there is no mass to centre")
    row = pixels.sum(axis=1, dtype=np.float64) @ np.arange(pixels.shape[0]) / total
    col = pixels.sum(axis=0, dtype=np.float64) @ np.arange(pixels.shape[1]) / total
    return float(row), float(col)


def _name_of(image) -> str:
    return str(image) if isinstance(image, (str, os.PathLike)) else "image"


@contextmanager
def _reading(name: str):
    """Turn any failure to decode an image into a one-line DigitnetError naming it."""
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x its pixel limit; a bomb must stop here, not hang.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except DigitnetError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DigitnetError(f"{name}: the image is too large; {TOO_LARGE_HINT}") from None
        except UnidentifiedImageError:
            raise DigitnetError(f"{name}: not an image file; give a PNG, JPEG, BMP or GIF") from None
        except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, struct.error, ...
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            raise DigitnetError(f"{name}: damaged or unsupported image ({reason})") from None


def _decode(file, name: str) -> np.ndarray:
    """An open binary file -> grayscale `(H, W)`."""
    if file.seek(0, io.SEEK_END) == 0:
        raise DigitnetError(f"{name}: the file is empty (0 bytes); give a PNG, JPEG, BMP or GIF image")
    file.seek(0)
    with _reading(name), Image.open(file, formats=FORMATS) as picture:  # an animated image: its first frame
        _check_size(picture.width, picture.height, name)  # before exif_transpose decodes the pixels
        upright = ImageOps.exif_transpose(picture)  # phones store "rotate me to show" in EXIF
        return _from_array(_pixels_of(upright, name), name)


def _pixels_of(picture: Image.Image, name: str) -> np.ndarray:
    """A PIL image in any mode -> an array `_from_array` takes, refused before decoding if huge."""
    _check_size(picture.width, picture.height, name)
    if picture.mode in ("I", "F"):  # 32-bit: no fixed range, so take the smallest that fits
        values = np.asarray(picture, dtype=np.float32)
        if not np.isfinite(values).all():
            raise DigitnetError(f"{name}: the image has NaN or infinite pixels")
        full_scale = next((s for s in (1.0, 255.0, 65535.0) if values.max() <= s), values.max())
        return np.clip(values / full_scale, 0.0, 1.0)
    transparent = "transparency" in picture.info  # e.g. a PNG tRNS colour or a GIF's clear index
    if picture.mode in ("1", "L", "RGB") and transparent:
        picture = picture.convert("RGBA")
    elif picture.mode not in ("1", "L", "LA", "RGB", "RGBA") and not picture.mode.startswith("I;16"):
        has_alpha = transparent or not {"A", "a"}.isdisjoint(picture.getbands())
        picture = picture.convert("RGBA" if has_alpha else "RGB")  # P, CMYK, YCbCr, PA, ...
    return np.asarray(picture)


def _from_array(pixels: np.ndarray, name: str) -> np.ndarray:
    """`(H, W)` or `(H, W, 1|2|3|4)` pixels -> grayscale `(H, W)`; alpha shows the background."""
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (1, 2, 3, 4))):
        raise DigitnetError(
            f"{name}: an array of shape {pixels.shape} is not an image; need (H, W) grayscale "
            "or (H, W, 3) RGB or (H, W, 4) RGBA"
        )
    _check_size(pixels.shape[1], pixels.shape[0], name)
    values = _unit_range(pixels, name)
    if values.ndim == 2:
        return values
    has_alpha = values.shape[2] in (2, 4)
    colour = values[..., :-1] if has_alpha else values  # (H, W, 1 or 3)
    gray = colour @ LUMA if colour.shape[2] == 3 else colour[..., 0]  # (H, W)
    return _show_on_background(gray, values[..., -1]) if has_alpha else gray


def _unit_range(pixels: np.ndarray, name: str) -> np.ndarray:
    """Pixels of any supported dtype -> float32 in [0, 1], same shape."""
    if pixels.dtype == np.bool_:
        return pixels.astype(np.float32)
    if pixels.dtype.kind in "ui":
        full_scale = 65535 if pixels.dtype.itemsize == 2 and pixels.dtype.kind == "u" else 255
        fits = pixels.dtype in (np.uint8, np.uint16)  # within 0-full_scale by their type: no pass over them
        if not fits and (pixels.min() < 0 or pixels.max() > full_scale):
            raise DigitnetError(f"{name}: integer pixels must lie in 0-{full_scale}")
        return pixels.astype(np.float32) / np.float32(full_scale)
    if pixels.dtype.kind == "f":
        if not (np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1):
            raise DigitnetError(f"{name}: float pixels must lie in [0, 1] (divide 0-255 values by 255)")
        return pixels.astype(np.float32)
    raise DigitnetError(f"{name}: unsupported pixel type {pixels.dtype}; use uint8 or float in [0, 1]")


def _show_on_background(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite grayscale `(H, W)` with alpha `(H, W)` onto white, or onto black if the image is
    one light colour (white strokes on transparent): there the alpha is the drawing."""
    lowest = alpha.min()
    if lowest == 1:  # opaque (as the page's canvas sends it): gray * 1 + b * 0 is gray, exactly; 0.7 ms saved
        return gray
    weight = alpha.sum(dtype=np.float64)
    background = 1.0
    if weight > 0 and lowest < 1:
        stroke = (gray * alpha).sum(dtype=np.float64) / weight  # alpha-weighted mean colour
        spread = np.sqrt(((gray - stroke) ** 2 * alpha).sum(dtype=np.float64) / weight)
        if spread < UNIFORM_SPREAD and stroke > 0.5:
            background = 0.0
    return gray * alpha + np.float32(background) * (1 - alpha)  # "over" compositing


def _ink(gray: np.ndarray, name: str) -> np.ndarray:
    """Grayscale `(H, W)` -> ink `(H, W)` in [0, 1]: bright ink, background and faint noise 0."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))  # robust: strokes rarely cover half the border
    light_paper = background > 0.5
    if light_paper:  # dark ink on light paper: invert, as MNIST's ink is bright
        gray, background, border = 1 - gray, 1 - background, 1 - border
    paper = _uneven_paper(gray)  # (H, W) or None: a photo's lighting, where the paper is not one shade
    if paper is not None:
        gray = gray - paper  # the paper's shade taken out pixel by pixel (adaptive thresholding)
        if light_paper:  # and ink in the shadow is as dark, relative to its paper, as in the light
            gray = gray / np.maximum(1 - paper, np.float32(0.05))
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        background = float(np.median(border))
    # The paper's grain, as a sigma: from the median absolute deviation, or, where the paper is clipped
    # at white (a scan) and the grain shows on the ink's side only, from that side's quartile.
    noise = 1.4826 * float(np.median(np.abs(border - background)))
    if (np.abs(border - background) < CLIPPED).mean() > 0.25:
        noise = max(noise, float(np.percentile(border - background, 75)) / 0.6745)
    ink = gray - np.float32(background)  # (H, W); pixels darker than the background go negative
    contrast = float(ink.max())
    if contrast < max(BLANK_CONTRAST, NOISE_SIGMAS * noise):
        raise DigitnetError(f"{name}: the image is blank (no ink found); draw a digit")
    # Specks this faint are grain or JPEG noise; left in, one far away would stretch the crop.
    ink[ink < max(NOISE_FLOOR * contrast, NOISE_SIGMAS * noise)] = 0  # also clears the negatives
    ink /= np.float32(contrast)
    return ink


def _crop(ink: np.ndarray) -> np.ndarray:
    """Ink `(H, W)` -> the ink's bounding box `(h, w)`."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _uneven_paper(gray: np.ndarray) -> np.ndarray | None:
    """The paper's own brightness `(H, W)` under uneven light (paper dark, ink bright, as after the
    inversion in `_ink`), or None where the paper is one shade (a scan, a drawing: nothing to do).

    The image is cut into up to PAPER_TILES x PAPER_TILES tiles; in each, the paper is the darker
    pixels (PAPER_PERCENTILE: strokes cover less than most of a tile), and a tile inside a thick stroke
    takes its darkest neighbour's. Bilinear between tile centres gives every pixel's paper shade.
    """
    height, width = gray.shape
    rows, cols = (max(1, min(PAPER_TILES, side // PAPER_TILE_MIN)) for side in (height, width))
    if rows * cols < 4:
        return None
    row_edges = np.linspace(0, height, rows + 1).astype(int)
    col_edges = np.linspace(0, width, cols + 1).astype(int)
    tiles = _tile_percentiles(gray, row_edges, col_edges, PAPER_PERCENTILE)  # (rows, cols)
    framed = np.pad(tiles, 1, mode="edge")
    tiles = np.min([framed[1 + dy:1 + dy + rows, 1 + dx:1 + dx + cols]
                    for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)  # skip tiles under a stroke
    if float(tiles.max() - tiles.min()) < UNEVEN_PAPER:
        return None
    return np.asarray(Image.fromarray(tiles).resize((width, height), Image.Resampling.BILINEAR))


def _tile_percentiles(gray: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray,
                      percentile: float) -> np.ndarray:
    """The `percentile` of each tile of `gray` `(H, W)` cut at `row_edges` and `col_edges` ->
    `(rows, cols)` float32, exactly as np.percentile of each tile alone gives it.

    Tiles of one shape are stacked and done in one call along their last axis (the same partition
    and interpolation, value for value): 64 calls of np.percentile took ~3.5 ms of a 280x280
    drawing's ~6.5 ms, one per shape (at most 4) ~0.4 ms. `edges` come from np.linspace, so tile
    heights (and widths) take at most two values."""
    heights, widths = np.diff(row_edges), np.diff(col_edges)
    tiles = np.empty((len(heights), len(widths)), dtype=np.float32)
    for height in np.unique(heights):
        rows = np.flatnonzero(heights == height)
        for width in np.unique(widths):
            cols = np.flatnonzero(widths == width)
            stack = np.stack([gray[row_edges[r]:row_edges[r] + height, col_edges[c]:col_edges[c] + width].reshape(-1)
                              for r in rows for c in cols])  # (tiles of this shape, height * width)
            found = np.percentile(stack, percentile, axis=1)  # (tiles of this shape,)
            tiles[np.ix_(rows, cols)] = found.reshape(len(rows), len(cols))
    return tiles


def _check_one_digit(digit: np.ndarray, name: str) -> None:
    """DigitnetError if cropped ink `(h, w)` is several digits side by side: runs of
    inked columns split by empty ones, each run a digit's share of the ink and height. (One digit per
    image: cut a number into its digits first. A broken stroke stays one digit: its pieces overlap
    in columns, or one of them is small.)"""
    columns = digit.sum(axis=0)  # (w,) ink per column
    inked = np.concatenate([[False], columns > 0, [False]])
    starts, stops = np.flatnonzero(inked[1:] & ~inked[:-1]), np.flatnonzero(~inked[1:] & inked[:-1])
    if len(starts) < 2:
        return
    total = float(columns.sum())
    digits = 0
    for start, stop in zip(starts, stops):
        part = digit[:, start:stop]
        rows = np.flatnonzero(part.any(axis=1))
        tall = (rows[-1] - rows[0] + 1) >= DIGIT_MIN_HEIGHT * digit.shape[0]
        digits += bool(tall and part.sum() >= DIGIT_MIN_INK * total)
    if digits > 1:
        raise DigitnetError(f"{name}: the image holds {digits} digits side by side; give one digit per "
                            "image (crop each digit out)")


def stroke_width(digit: np.ndarray) -> float:
    """Mean stroke width of ink `(h, w)` (full ink 1.0) in pixels: 2 x area / perimeter, as a stroke
    of width s and length L has area s L and perimeter about 2 L. The area is the ink's total, so a
    stroke thinner than a pixel (grey after scaling down) counts its true width; the perimeter is
    that of the pixels with any real ink (a quarter of the brightest)."""
    inked = np.pad(digit > 0.25 * float(digit.max(initial=0.0)), 1)
    perimeter = int((inked[1:] != inked[:-1]).sum() + (inked[:, 1:] != inked[:, :-1]).sum())
    return 2 * float(digit.sum(dtype=np.float64)) / perimeter if perimeter else 0.0


def _normalise_stroke(digit: np.ndarray) -> np.ndarray:
    """Cropped ink `(h, w)` -> the same, with its strokes as wide as an MNIST digit's if they are
    far thinner (a fine pen) or thicker (a marker, or the page's fixed pen on a small digit).

    MNIST's strokes are 0.9-3.7 pixels wide in a 20-pixel box (0.5th-99.5th percentile, measured
    with `stroke_width`); inside STROKE_BAND nothing changes, outside it the strokes are made
    STROKE_TARGET of the box: at WORK_SIDE pixels, grown with a max filter or thinned with a min one.
    """
    scale = WORK_SIDE / max(digit.shape)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    # BOX (area averaging) keeps the ink's total: a thin stroke comes out grey, not broken
    work = np.clip(np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.BOX)), 0, 1)
    width = stroke_width(work) / WORK_SIDE  # as a fraction of the box
    work /= max(float(work.max()), 1e-6)
    if STROKE_BAND[0] <= width <= STROKE_BAND[1] or width == 0:
        return digit
    # A thin pen is grown to MNIST's median; a thick one is thinned only to the band's edge: thinning
    # further closes nothing that is open but erodes what the pen filled (a small 8 drawn with the
    # page's thick pen became a 9 when thinned to the median).
    target = STROKE_TARGET if width < STROKE_TARGET else STROKE_BAND[1]
    radius = round(abs(width - target) * WORK_SIDE / 2)  # pixels to add or take off each side
    if radius == 0:
        return digit
    if width < STROKE_TARGET:
        work = np.pad(work, radius)  # room to grow
        changed = Image.fromarray(work).filter(ImageFilter.MaxFilter(2 * radius + 1))
    else:
        changed = Image.fromarray(work).filter(ImageFilter.MinFilter(2 * radius + 1))
    changed = np.asarray(changed)
    if not changed.max() > BLANK_CONTRAST:  # thinned away entirely (a blot): keep it as it was
        return digit
    changed = np.where(changed > NOISE_FLOOR * changed.max(), changed, 0).astype(np.float32)
    return _crop(changed / changed.max())


def _fit_in_box(digit: np.ndarray) -> np.ndarray:
    """Cropped ink `(h, w)` -> `(h', w')` with max(h', w') = 20, aspect kept, anti-aliased."""
    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL sizes are (w, h)
    # LANCZOS on a float image blends edge pixels into greys, as MNIST's anti-aliasing did;
    # its slight ringing is clipped away.
    scaled = Image.fromarray(digit).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(scaled), 0.0, 1.0)


def _center(digit: np.ndarray) -> np.ndarray:
    """Digit `(h, w)`, h, w <= 20 -> field `(28, 28)` with its centre of mass at (14, 14)."""
    field = np.zeros((SIDE, SIDE), dtype=np.float32)
    row, col = center_of_mass(digit)
    height, width = digit.shape
    # Whole-pixel shift, as MNIST; clamped so a lopsided digit (a "7") is never cut off.
    top = min(max(round(SIDE / 2 - row), 0), SIDE - height)
    left = min(max(round(SIDE / 2 - col), 0), SIDE - width)
    field[top:top + height, left:left + width] = digit
    return field


def _check_size(width: int, height: int, name: str) -> None:
    if width * height == 0:
        raise DigitnetError(f"{name}: the image has no pixels ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise DigitnetError(f"{name}: the image is too large ({width}x{height}); {TOO_LARGE_HINT}")
    if max(width, height) > MAX_SIDE:
        raise DigitnetError(f"{name}: the image is too large ({width}x{height}); give one of at most "
                            f"{MAX_SIDE:,} pixels a side")
