"""Camera captures: snapshots and stream frames kept for later, under the studio home.

Page 00 scores what the camera sees; some of those pictures are worth keeping: an empty
desk, a hand, a mug, things that are *none* of the classes a model was trained on.  They
are exactly the negatives hard-negative mining needs (page 12, :mod:`cvlib.training.hardneg`), so
page 00 saves them in one folder, ``<studio home>/captures``, and page 12 offers that
folder as its pool.

Each capture is encoded once as a JPEG and named after the hash of those bytes
(:func:`cvlib.storage.persist.save_by_content`), written atomically: the same snapshot sent twice
(a rerun of the page) is stored once, a kill mid-write leaves no half file, and no name a
browser sent ever becomes a path.

Examples
--------
>>> path = save_capture(Image.open("desk.jpg"))      # <home>/captures/3f9a....jpg
>>> list_captures() == [path]
True
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from cvlib.data.images import is_image_name
from cvlib.storage.home import studio_home
from cvlib.storage.persist import save_by_content

JPEG_QUALITY = 92
"""High enough that a capture trains as well as the frame it came from."""


def captures_dir() -> Path:
    """Where page 00 saves captures and page 12 mines them: ``<studio home>/captures``."""
    return studio_home() / "captures"


def save_capture(image: Image.Image | np.ndarray, folder: str | Path | None = None) -> Path:
    """Keep one picture (a PIL image or an RGB array) as a JPEG named by its content.

    Returns the file's path; saving the same picture again returns the same path.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image[..., :3], dtype=np.uint8))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return save_by_content(buffer.getvalue(), folder or captures_dir(), ".jpg")


def list_captures(folder: str | Path | None = None) -> list[Path]:
    """The saved captures, newest first (an empty list when there are none yet).

    Hidden files (a write in progress) are left out.
    """
    root = Path(folder) if folder is not None else captures_dir()
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir()
             if p.is_file() and is_image_name(p.name) and not p.name.startswith(".")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
