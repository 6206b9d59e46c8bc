"""The one image loader: every odd or hostile file either loads as upright 8-bit RGB or is
refused with a message that names the file and says why.

The hostile corpus is generated here into ``tmp_path``; no binary blobs live in the repo.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from cvlib.data.images import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    check_image,
    image_size,
    is_image_name,
    load_image,
    load_images_report,
    thumbnail,
)
from cvlib.errors import BadImageError, StudioError
from tests.corpus import png_claiming
from tests.samples import FRIDGE4

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    """The bytes of ``img`` saved in ``fmt``."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def noisy_jpeg(size: int = 224) -> bytes:
    """A JPEG with real entropy, so truncating it cuts into pixel data."""
    rng = np.random.default_rng(0)
    return encode(Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)), "JPEG")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    """Put ``data`` in ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(source, **kwargs) -> BadImageError:
    """The error ``load_image`` raises for ``source``."""
    with pytest.raises(BadImageError) as info:
        load_image(source, **kwargs)
    return info.value


class TestRefusesBadFiles:
    def test_zero_byte_file(self, tmp_path):
        error = refusal(write(tmp_path, "empty.jpg", b""))
        assert (error.name, error.reason) == ("empty.jpg", "empty file (0 bytes)")
        assert str(error) == "empty.jpg: empty file (0 bytes)"

    def test_text_file_with_an_image_extension(self, tmp_path):
        error = refusal(write(tmp_path, "notes.png", b"shopping list: milk, juice\n"))
        assert (error.name, error.reason) == ("notes.png", "not an image (unrecognised format)")

    def test_truncated_jpeg(self, tmp_path):
        data = noisy_jpeg()
        error = refusal(write(tmp_path, "cut.jpg", data[: len(data) // 2]))
        assert (error.name, error.reason) == ("cut.jpg", "truncated or corrupt image data")

    def test_truncated_png(self, tmp_path):
        rng = np.random.default_rng(1)
        data = encode(Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)), "PNG")
        error = refusal(write(tmp_path, "cut.png", data[: len(data) // 2]))
        assert error.reason == "truncated or corrupt image data"

    def test_missing_file_and_folder(self, tmp_path):
        assert refusal(tmp_path / "gone.jpg").reason == "file not found"
        (tmp_path / "album.jpg").mkdir()
        assert refusal(tmp_path / "album.jpg").reason == "not a file"

    def test_header_over_our_pixel_limit_is_refused_before_decoding(self, tmp_path):
        bomb = write(tmp_path, "bomb.png", png_claiming(12_000, 12_000))
        error = refusal(bomb)
        assert error.name == "bomb.png"
        assert error.reason == "too large: 12000x12000 pixels, limit 40 MP"

    def test_pillow_bomb_warning_becomes_an_error_even_with_a_higher_own_limit(self, tmp_path):
        over_pillows_warning = png_claiming(10_000, 10_000)  # 100 MP > Pillow's 89.5 MP
        error = refusal(over_pillows_warning, name="big.png", max_pixels=150_000_000)
        assert error.reason.startswith("too large: 10000x10000 pixels, limit 89.5 MP")

    def test_pillow_bomb_error_is_refused_in_plain_words(self, tmp_path):
        error = refusal(png_claiming(100_000, 100_000), name="huge.png")
        assert error.reason.startswith("too large: over 179 MP")
        assert "decompression bomb" in error.reason

    def test_a_small_pixel_limit_is_respected(self):
        error = refusal(noisy_jpeg(64), name="photo.jpg", max_pixels=1_000)
        assert error.reason == "too large: 64x64 pixels, limit 0.001 MP"

    def test_empty_upload(self):
        error = refusal(b"")
        assert str(error) == "uploaded image: empty file (0 bytes)"

    def test_every_refusal_is_a_studio_error(self, tmp_path):
        assert isinstance(refusal(b"GIF89a-no"), StudioError)


class TestConvertsToUprightRgb:
    def test_cmyk_jpeg(self):
        cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # full magenta + yellow = red
        img = load_image(encode(cmyk, "JPEG", quality=95))
        assert img.mode == "RGB"
        assert_close(img.getpixel((4, 4)), RED)

    def test_16_bit_grayscale_png_is_scaled_not_clipped(self):
        levels = np.array([[0, 128 * 257, 65535]], dtype=np.uint16)
        source = Image.fromarray(levels)
        assert source.mode == "I;16"
        img = load_image(encode(source, "PNG"))
        assert img.mode == "RGB"
        assert [img.getpixel((x, 0)) for x in range(3)] == [(0,) * 3, (128,) * 3, (255,) * 3]

    def test_32_bit_integer_tiff(self):
        source = Image.new("I", (2, 1))
        source.putpixel((1, 0), 65535)
        img = load_image(encode(source, "TIFF"))
        assert [img.getpixel((x, 0)) for x in range(2)] == [(0, 0, 0), (255, 255, 255)]

    def test_grayscale_jpeg(self):
        img = load_image(encode(Image.new("L", (8, 8), 90), "JPEG"))
        assert img.mode == "RGB"
        assert_close(img.getpixel((0, 0)), (90, 90, 90))

    def test_palette_with_transparency_shows_white(self):
        source = Image.new("P", (2, 1), 0)
        source.putpalette([*BLUE, *RED])
        source.putpixel((1, 0), 1)
        img = load_image(encode(source, "PNG", transparency=0))
        assert [img.getpixel((x, 0)) for x in range(2)] == [WHITE, RED]

    def test_rgba_is_composited_on_white(self):
        source = Image.new("RGBA", (2, 1), (255, 0, 0, 0))
        source.putpixel((1, 0), (0, 0, 0, 128))
        img = load_image(encode(source, "PNG"))
        assert img.getpixel((0, 0)) == WHITE
        assert_close(img.getpixel((1, 0)), (127, 127, 127))

    def test_gray_with_alpha(self):
        img = load_image(encode(Image.new("LA", (2, 2), (0, 0)), "PNG"))
        assert img.getpixel((0, 0)) == WHITE

    def test_exif_orientation_is_applied(self):
        landscape = Image.new("RGB", (40, 20), BLUE)
        landscape.paste(RED, (0, 0, 20, 20))  # left half red
        exif = Image.Exif()
        exif[0x0112] = 6  # camera held rotated: display turned 90° clockwise
        img = load_image(encode(landscape, "JPEG", exif=exif, quality=95))
        assert img.size == (20, 40)
        assert_close(img.getpixel((10, 5)), RED)  # the left half is now on top
        assert_close(img.getpixel((10, 35)), BLUE)

    def test_animated_gif_gives_its_first_frame(self):
        frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), BLUE)]
        data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
        assert Image.open(io.BytesIO(data)).n_frames == 2
        img = load_image(data)
        assert img.mode == "RGB"
        assert img.getpixel((4, 4)) == RED

    @pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
    def test_webp(self):
        img = load_image(encode(Image.new("RGB", (8, 8), RED), "WEBP", lossless=True))
        assert img.getpixel((4, 4)) == RED

    def test_bmp_and_tiff(self):
        for fmt in ("BMP", "TIFF"):
            assert load_image(encode(Image.new("RGB", (3, 3), BLUE), fmt)).getpixel((1, 1)) == BLUE


class TestLoadsFromPathsAndBytes:
    def test_image_is_independent_of_the_file(self, tmp_path):
        path = write(tmp_path, "photo.jpg", noisy_jpeg(32))
        img = load_image(path)
        path.write_bytes(b"")  # the pixels must already be in memory
        assert img.size == (32, 32) and len(img.tobytes()) == 32 * 32 * 3

    def test_accepts_str_paths_and_names_uploads(self, tmp_path):
        path = write(tmp_path, "photo.jpg", noisy_jpeg(16))
        assert load_image(str(path)).size == (16, 16)
        assert load_image(path.read_bytes(), "upload.jpg").size == (16, 16)
        assert refusal(b"nope", name="upload.jpg").name == "upload.jpg"

    def test_jpeg_photos_load_as_rgb_at_their_size(self):
        for path in sorted(FRIDGE4.glob("*/*.jpg"))[::15]:
            img = load_image(path)
            assert (img.mode, img.size) == ("RGB", (224, 224))


class TestCheapChecks:
    def test_image_size_reads_only_the_header(self, tmp_path):
        data = noisy_jpeg(48)
        assert image_size(write(tmp_path, "cut.jpg", data[: len(data) // 2])) == (48, 48)
        with pytest.raises(BadImageError, match=re.escape("notes.png: not an image")):
            image_size(write(tmp_path, "notes.png", b"hello"))

    def test_check_image_finds_truncation_and_returns_the_size(self, tmp_path):
        data = noisy_jpeg(64)
        assert check_image(write(tmp_path, "ok.jpg", data)) == (64, 64)
        expected = "cut.jpg: truncated or corrupt image data"
        with pytest.raises(BadImageError, match=re.escape(expected)):
            check_image(write(tmp_path, "cut.jpg", data[: len(data) // 2]))

    def test_check_image_handles_cmyk_and_16_bit(self):
        assert check_image(encode(Image.new("CMYK", (9, 5)), "JPEG")) == (9, 5)
        assert check_image(encode(Image.new("I;16", (7, 3)), "PNG")) == (7, 3)

    def test_image_names(self):
        assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"} \
            == IMAGE_EXTENSIONS
        assert is_image_name("IMG_0001.JPG") and is_image_name(Path("a/b.webp"))
        assert not is_image_name("labels.csv") and not is_image_name("README")

    def test_default_limit_is_forty_megapixels(self):
        assert MAX_PIXELS == 40_000_000


def test_load_images_report_keeps_good_images_and_lists_bad_ones(tmp_path):
    good = write(tmp_path, "good.jpg", noisy_jpeg(16))
    empty = write(tmp_path, "empty.jpg", b"")
    text = write(tmp_path, "text.png", b"not a picture")
    images, problems = load_images_report([good, empty, text])
    assert [path for path, _ in images] == [good]
    assert problems == [("empty.jpg", "empty file (0 bytes)"),
                        ("text.png", "not an image (unrecognised format)")]


def test_thumbnail_keeps_the_aspect_and_the_original():
    img = Image.new("RGB", (400, 200))
    small = thumbnail(img, 100)
    assert small.size == (100, 50) and img.size == (400, 200)


def assert_close(actual, expected, tolerance: int = 6) -> None:
    """Colours equal within JPEG's rounding."""
    assert max(abs(a - e) for a, e in zip(actual, expected, strict=True)) <= tolerance, actual
