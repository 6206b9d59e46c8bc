"""FAQ.md says what the code does: claims about defaults are checked against cvlib."""

from __future__ import annotations

import re
from pathlib import Path

from cvlib.training.config import TrainConfig

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
