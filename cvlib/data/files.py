"""Which files in a folder are a dataset's images, and the :class:`Item` each becomes.

Every reader of user folders (class folders, ``labels.csv``, the annotation tool, zips)
asks the same questions: is this file an image, is it litter (``._photo.jpg``,
``Thumbs.db``), where is the labels file.  They are answered once, here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from cvlib.data.images import is_image_name


class Item(NamedTuple):
    """One image and every label it carries (exactly one for single-label datasets)."""

    path: Path
    labels: tuple[str, ...]


def is_hidden(name: str) -> bool:
    """Dot-files and macOS/Windows litter, which are never data."""
    return name.startswith(".") or name in ("__MACOSX", "Thumbs.db", "desktop.ini")


def is_visible_image(name: str) -> bool:
    """An image file name that is not hidden (``._photo.jpg`` is macOS metadata)."""
    return is_image_name(name) and not is_hidden(name)


def subfolders(folder: Path) -> list[Path]:
    """Visible sub-folders, sorted."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not is_hidden(p.name))


def images_under(folder: Path) -> list[Path]:
    """Image files at any depth under ``folder``, skipping hidden files and folders."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not is_hidden(d)]
        found.extend(Path(current, name) for name in files if is_visible_image(name))
    return sorted(found)


def find_labels_csv(folder: Path) -> Path | None:
    """The folder's ``labels.csv``, whatever its capitalisation."""
    return next((p for p in sorted(folder.iterdir())
                 if p.name.lower() == CSV_NAME and p.is_file()), None)
CSV_NAME = "labels.csv"
