"""The one way the studio turns a file or an upload into pixels.

Every reader (dataset summary, training, prediction, the webcam page, the scoring server)
goes through :func:`load_image`, so an odd file behaves the same everywhere: it either comes
back as a plain 8-bit RGB image, the right way up, or raises
:class:`~cvlib.errors.BadImageError` naming the file and saying in plain words what is wrong.
Decompression bombs are refused from the header, before a single pixel is decoded.

This module needs only Pillow and numpy, so pages can import it at the top without delay.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cvlib.errors import BadImageError

MAX_PIXELS = 40_000_000
"""Largest image accepted by default (40 MP): above any camera phone, far below a bomb."""

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
"""File name endings treated as images when scanning folders and archives."""

Source = str | Path | bytes

# Pillow's decoders raise all of these on malformed data (found by its own fuzzing); each one
# means "this file cannot be used", never a bug in the caller.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError,
                  KeyError, TypeError)
_HIGH_BIT_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_WHITE = (255, 255, 255, 255)


def is_image_name(name: str | Path) -> bool:
    """Whether a file name ends like an image the studio reads (case-insensitive)."""
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def load_image(source: Source, name: str | None = None, *,
               max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Read an image file or uploaded bytes into a fully decoded 8-bit RGB image.

    Parameters
    ----------
    source : a path, or the raw bytes of an upload.
    name : what to call the image in error messages; defaults to the file name.
    max_pixels : refuse images with more pixels than this (checked from the header, before
        decoding); Pillow's own decompression-bomb limit applies too.

    Returns
    -------
    An ``RGB`` image independent of the file (already closed): EXIF orientation applied,
    transparency composited on white, 16-bit and CMYK scaled to 8-bit RGB, first frame only.

    Raises
    ------
    BadImageError : empty, missing, not an image, truncated or corrupt, or too large.

    Examples
    --------
    >>> load_image("photos/milk/IMG_0001.jpg").mode
    'RGB'
    """
    label = _display_name(source, name)
    with _reasons(label), _open(source, label, max_pixels) as img:
        img.load()
        upright = _upright(img)
    return _to_rgb(upright)


def image_size(source: Source, name: str | None = None, *,
               max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` from the header alone: cheap enough to call on every file.

    Catches empty files, non-images and oversized images, but not truncated pixel data (see
    :func:`check_image`).  The size is as stored, before any EXIF rotation.
    """
    label = _display_name(source, name)
    with _reasons(label), _open(source, label, max_pixels) as img:
        return img.size


def check_image(source: Source, name: str | None = None, *,
                max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Decode an image completely to prove it is readable, and return its stored size.

    JPEGs are decoded at reduced scale (which still reads every byte, so truncation shows),
    making this several times faster than :func:`load_image` for checking a whole dataset.
    """
    label = _display_name(source, name)
    with _reasons(label), _open(source, label, max_pixels) as img:
        size = img.size
        img.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
        img.load()
    return size


def load_images_report(paths: Iterable[str | Path], *, max_pixels: int = MAX_PIXELS,
                       ) -> tuple[list[tuple[Path, Image.Image]], list[tuple[str, str]]]:
    """Load many images, setting the bad ones aside instead of stopping at the first.

    Returns ``(images, problems)``: ``(path, image)`` for each readable file, in order, and
    ``(name, reason)`` for each one that could not be used, ready to show the user.
    """
    images: list[tuple[Path, Image.Image]] = []
    problems: list[tuple[str, str]] = []
    for path in map(Path, paths):
        try:
            images.append((path, load_image(path, max_pixels=max_pixels)))
        except BadImageError as exc:
            problems.append((exc.name, exc.reason))
    return images, problems


def thumbnail(img: Image.Image, size: int) -> Image.Image:
    """A copy that fits in a ``size`` x ``size`` square, aspect kept, for image grids."""
    small = img.copy()
    small.thumbnail((size, size), Image.Resampling.BILINEAR)
    return small


def _display_name(source: Source, name: str | None) -> str:
    """The name errors use: the caller's, else the file name, else a generic word."""
    if name is not None:
        return name
    if isinstance(source, bytes):
        return "uploaded image"
    return Path(source).name


@contextmanager
def _reasons(label: str) -> Iterator[None]:
    """Turn whatever Pillow raises on a bad file into a :class:`BadImageError` for people."""
    try:
        yield
    except Image.DecompressionBombError as exc:
        limit = _megapixels(2 * (Image.MAX_IMAGE_PIXELS or 0))
        raise BadImageError(label, f"too large: over {limit}, a likely decompression "
                                   "bomb") from exc
    except UnidentifiedImageError as exc:
        raise BadImageError(label, "not an image (unrecognised format)") from exc
    except PermissionError as exc:
        raise BadImageError(label, "cannot be opened (permission denied)") from exc
    except _DECODE_ERRORS as exc:
        raise BadImageError(label, "truncated or corrupt image data") from exc


def _open(source: Source, label: str, max_pixels: int) -> Image.Image:
    """Open (header only) and refuse anything too large before its pixels are decoded.

    Paths go to Pillow as paths, so the file is closed with the image (or on failure).
    """
    with warnings.catch_warnings():
        # _check_pixels turns Pillow's bomb warning into an error that names the size.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(_openable(source, label))
    _check_pixels(img, label, max_pixels)
    return img


def _openable(source: Source, label: str) -> Path | io.BytesIO:
    """What Pillow should open, after the checks whose messages are clearer than its own."""
    if isinstance(source, bytes):
        if not source:
            raise BadImageError(label, "empty file (0 bytes)")
        return io.BytesIO(source)
    path = Path(source)
    if not path.exists():
        raise BadImageError(label, "file not found")
    if not path.is_file():
        raise BadImageError(label, "not a file")
    if path.stat().st_size == 0:
        raise BadImageError(label, "empty file (0 bytes)")
    return path


def _check_pixels(img: Image.Image, label: str, max_pixels: int) -> None:
    """Refuse an image over our limit or Pillow's, naming its size; closes it if refused."""
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    width, height = img.size
    if width * height > limit:
        img.close()
        raise BadImageError(label, f"too large: {width}x{height} pixels, "
                                   f"limit {_megapixels(limit)}")


def _megapixels(pixels: int) -> str:
    """``40000000`` -> ``"40 MP"``, for messages."""
    return f"{pixels / 1e6:.3g} MP"


def _upright(img: Image.Image) -> Image.Image:
    """The image turned the way the camera's EXIF says it was held.

    A damaged EXIF block should not cost the user an otherwise good photo, so the image is
    kept as stored when the orientation cannot be read.
    """
    try:
        return ImageOps.exif_transpose(img)
    except _DECODE_ERRORS:
        return img.copy()


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB, with transparency shown as white (like a web page)."""
    if img.mode in _HIGH_BIT_DEPTH_MODES:
        img = _to_8bit_gray(img)
    if img.has_transparency_data:
        canvas = Image.new("RGBA", img.size, _WHITE)
        canvas.alpha_composite(img.convert("RGBA"))
        img = canvas
    return img if img.mode == "RGB" else img.convert("RGB")


def _to_8bit_gray(img: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer or float grayscale to 8 bits instead of clipping at 255."""
    pixels = np.asarray(img, dtype=np.float64)
    scale = _to_8bit_scale(img.mode, float(pixels.max(initial=0.0)))
    return Image.fromarray(np.clip(pixels * scale, 0, 255).round().astype(np.uint8))


def _to_8bit_scale(mode: str, peak: float) -> float:
    """The factor mapping a high-bit-depth image onto 0-255.

    Integer images are assumed to use the 16-bit range (what scanners and microscopes
    write) unless their values go beyond it; float images are assumed to be in [0, 1].
    """
    if mode == "F":
        return 255.0 if peak <= 1.0 else 1.0
    return 255.0 / max(65535.0, peak)
