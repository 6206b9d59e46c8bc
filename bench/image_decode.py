"""What a photo costs before the network sees it: decoding and resizing, by photo size.

The network looks at 224-260 px, yet a phone photo is 12 megapixels: every epoch of full
training (and every uncached feature extraction) decodes all of it and throws most of it
away.  This prints, for one real photo and copies of it saved at phone-like sizes (upscaled
with sensor-like noise, quality 90, so they compress like photos, not like flat pictures):

* the file size (what the disk or the network must deliver per image),
* the median time to decode it and resize it to 224 px (what training pays per image),
* for the 12 MP copy, the same with Pillow's ``draft`` mode (the JPEG decoder scales by 1/2,
  1/4 or 1/8 while decoding) and through the studio's loader
  (:func:`cvlib.data.images.load_image`: EXIF orientation, colour modes, no draft),

then the same figures as the Markdown table page 03 shows, and the ratios the FAQ quotes.
Page 03's table and the FAQ's figures come from one run of this script.

Run (under a minute; the machine should be otherwise idle)::

    nice -n 10 .venv/bin/python bench/image_decode.py
    nice -n 10 .venv/bin/python bench/image_decode.py --photo your_photo.jpg
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from cvlib.data.images import load_image

REPO = Path(__file__).resolve().parent.parent
SIDE = 224
SIZES = [(4000, 3000), (2000, 1500), (1024, 768), (640, 480)]


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``action()`` in milliseconds, after one warm-up call."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def photo_at(photo: Path, width: int, height: int) -> bytes:
    """``photo`` resized to ``width`` x ``height`` with sensor-like noise, as JPEG bytes."""
    base = load_image(photo).resize((width, height), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    pixels = np.clip(np.asarray(base, np.float32) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def decode_resize(raw: bytes, draft: bool = False) -> Image.Image:
    """Decode JPEG bytes (at reduced scale with ``draft``) and resize them to the input."""
    img = Image.open(io.BytesIO(raw))
    if draft:
        img.draft("RGB", (SIDE, SIDE))
    return img.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)


def measure(photo: Path) -> list[dict]:
    """One row per photo size (and per way of decoding the 12 MP one), printed as JSON."""
    original = photo.read_bytes()
    width, height = Image.open(io.BytesIO(original)).size
    rows = [{"what": f"the photo as it is ({width}x{height} JPEG)", "pixels": width * height,
             "kb": len(original) // 1024,
             "ms": median_ms(lambda: decode_resize(original), 50)}]
    for w, h in SIZES:
        raw = photo_at(photo, w, h)
        rows.append({"what": f"{w}x{h} JPEG ({w * h / 1e6:.1f} MP)", "pixels": w * h,
                     "kb": len(raw) // 1024, "ms": median_ms(lambda r=raw: decode_resize(r), 7)})
        if (w, h) == SIZES[0]:
            rows.append({"what": f"{w}x{h}, decoded at 1/8 scale (Pillow's draft mode)",
                         "pixels": w * h, "kb": len(raw) // 1024,
                         "ms": median_ms(lambda r=raw: decode_resize(r, draft=True), 7)})
            rows.append({"what": f"{w}x{h}, through the studio's loader (load_image)",
                         "pixels": w * h, "kb": len(raw) // 1024,
                         "ms": median_ms(lambda r=raw: load_image(r, "12mp.jpg").resize(
                             (SIDE, SIDE), Image.Resampling.BILINEAR), 7)})
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    """The table page 03 shows, and the ratios the FAQ quotes."""
    lines = [f"| decoding one photo and resizing it to {SIDE} px | ms | file size |",
             "| --- | --- | --- |"]
    lines += [f"| {r['what']} | {r['ms']:.1f} | {r['kb']:,} KB |" for r in rows]
    by_size = {r["what"].split(" ")[0]: r["ms"] for r in rows}
    big, small = by_size["4000x3000"], by_size["1024x768"]
    lines += ["", f"4000x3000 costs {big / small:.0f}x the same photo at 1024x768 and "
              f"{big / rows[0]['ms']:.0f}x the photo as it is."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path,
                        default=sorted((REPO / "sample_data" / "fridge4").rglob("*.jpg"))[0],
                        help="a JPEG to start from (default: the sample data's first photo)")
    print(markdown(measure(parser.parse_args().photo)))


if __name__ == "__main__":
    main()
