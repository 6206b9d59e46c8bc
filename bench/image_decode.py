"""What a large JPEG costs before the network sees it: decoding, by image size.

The network looks at 224-260 px, yet a phone photo is 12 megapixels: every epoch (and every
uncached feature extraction) decodes all of it and throws most of it away.  This prints,
for one photo-like JPEG saved at several sizes (quality 90):

* the file size (what the disk or the network must deliver per image),
* the median time to decode it with the studio's loader (:func:`cvlib.data.images.load_image`),
* the median time to decode it and resize it to 260 px (what training pays per image),

so the FAQ's advice ("resize your photos first") rests on figures measured here.

Run: ``.venv/bin/python bench/image_decode.py`` (under a minute; the machine should be idle).
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
from PIL import Image

from cvlib.data.images import load_image

SIZES = [(4000, 3000), (2000, 1500), (1024, 768), (640, 480), (300, 300)]
SIDE = 260
REPEATS = 7


def photo_like(width: int, height: int) -> bytes:
    """scikit-image's astronaut photo upscaled, with sensor-like noise, as JPEG bytes."""
    from skimage import data

    base = Image.fromarray(data.astronaut()).resize((width, height), Image.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    pixels = np.clip(np.asarray(base, np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def median_ms(action) -> float:
    """Median wall time of ``action()`` in milliseconds."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    print(f"{'size':>11} {'MP':>5} {'file':>8} {'decode':>9} {'decode+resize':>14}")
    rows = []
    for width, height in SIZES:
        jpeg = photo_like(width, height)
        decode = median_ms(lambda j=jpeg: load_image(j, "photo.jpg"))
        resized = median_ms(lambda j=jpeg: load_image(j, "photo.jpg").resize((SIDE, SIDE)))
        rows.append((width * height, resized))
        print(f"{width:>5}x{height:<5} {width * height / 1e6:>5.1f} {len(jpeg) / 1e6:>6.2f}MB "
              f"{decode:>7.1f}ms {resized:>12.1f}ms")
    largest, smallest = rows[0][1], rows[-1][1]
    print(f"decode+resize: {SIZES[0][0]}x{SIZES[0][1]} costs {largest / smallest:.0f}x "
          f"{SIZES[-1][0]}x{SIZES[-1][1]}")


if __name__ == "__main__":
    main()
