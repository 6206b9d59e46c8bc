"""Camera captures: page 00 keeps pictures where page 12 mines them, stored by content."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from cvlib.data.captures import captures_dir, list_captures, save_capture
from cvlib.training.hardneg import negative_images


def test_captures_live_under_the_studio_home(studio_home_for_tests: Path):
    assert captures_dir() == studio_home_for_tests / "captures"


def test_the_same_picture_saved_twice_is_stored_once_under_its_hash(tmp_path: Path):
    frame = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    first = save_capture(frame, tmp_path)
    again = save_capture(Image.fromarray(frame), tmp_path)
    assert first == again and first.suffix == ".jpg" and len(first.stem) == 16
    assert [p.name for p in tmp_path.iterdir()] == [first.name], "no temporary file left"
    assert Image.open(first).size == (64, 48)


def test_listing_is_newest_first_and_page_12_can_mine_it(tmp_path: Path):
    assert list_captures(tmp_path / "none yet") == []
    older = save_capture(np.zeros((8, 8, 3), np.uint8), tmp_path)
    newer = save_capture(np.full((8, 8, 3), 200, np.uint8), tmp_path)
    stamp = older.stat().st_mtime
    os.utime(newer, (stamp + 5, stamp + 5))
    (tmp_path / ".half-written.jpg.tmp").write_bytes(b"")
    assert list_captures(tmp_path) == [newer, older]
    assert sorted(negative_images(tmp_path)) == sorted([older, newer])
