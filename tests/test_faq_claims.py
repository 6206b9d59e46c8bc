"""FAQ.md says what the code does: claims about defaults are checked against cvlib."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw

from cvlib.data.dataset import load_dataset
from cvlib.data.health import check_health
from cvlib.training.config import TrainConfig
from tests.samples import class_folders

FAQ = Path(__file__).resolve().parent.parent / "FAQ.md"


def sentences_about(words: tuple[str, ...]) -> list[str]:
    """The FAQ's sentences that hold every one of ``words`` (case-insensitive)."""
    text = " ".join(FAQ.read_text(encoding="utf-8").split())
    return [s for s in re.split(r"(?<=[.!?])\s+", text)
            if all(w in s.lower() for w in words)]


def test_mirror_averaging_is_described_as_a_setting_while_the_default_is_one_view():
    assert TrainConfig().views == ("identity",), "the default changed: update the FAQ"
    claims = sentences_about(("mirror", "averag"))
    assert claims, "the FAQ explains mirror averaging somewhere"
    assert all("setting" in s for s in claims), claims


def test_the_speed_advice_names_the_benchmark_that_measured_it():
    advice = sentences_about(("4000×3000",))
    assert advice and (Path(__file__).resolve().parent.parent / "bench" /
                       "image_decode.py").is_file()
    assert sentences_about(("bench/image_decode.py",))


def test_web_copies_resized_recompressed_and_watermarked_are_found_as_the_faq_says(tmp_path):
    assert sentences_about(("resized, re-compressed and watermarked copies",))
    photos = class_folders(tmp_path / "data", {"can": 8, "carton": 8})
    originals = sorted((photos / "can").glob("*.jpg"))[:4]
    for n, photo in enumerate(originals):  # what the same shot looks like on another site
        copy = Image.open(photo).convert("RGB").resize((300, 300))
        ImageDraw.Draw(copy).text((10, 280), "stock-photos.example", fill=(255, 255, 255))
        copy.save(photos / "can" / f"web{n}.jpg", quality=70)
    report = check_health(load_dataset(photos))
    found = [set(f.items) for f in report.of("duplicate") + report.of("leakage")]
    for n, photo in enumerate(originals):
        assert {f"can/{photo.name}", f"can/web{n}.jpg"} in found, photo.name
