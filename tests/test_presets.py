"""Presets and the accuracy/speed comparison, measured on real photos on this machine."""

from __future__ import annotations

import pytest

from cvlib.data.dataset import load_dataset
from cvlib.errors import StudioError
from cvlib.models.registry import get_spec
from cvlib.storage.home import studio_home
from cvlib.training.compare import (
    PresetReport,
    compare_presets,
    pareto_front,
    recommend,
    save_pick,
)
from cvlib.training.presets import (
    PRESETS,
    WORKSHOP_GRID,
    WORKSHOP_GRID_FIXED,
    WORKSHOP_PRESETS,
    WORKSHOP_TRAINING,
    get_preset,
    list_presets,
)
from tests.samples import FRIDGE4


def report(name: str, accuracy: float, ms: float, n_valid: int = 32) -> PresetReport:
    """A measured row, as compare_presets returns it (only the compared fields matter)."""
    return PresetReport(preset=name, architecture="efficientnet_lite0", image_size=224,
                        accuracy=accuracy, n_valid=n_valid, estimated_accuracy=accuracy,
                        estimated_accuracy_low=accuracy, estimated_accuracy_high=accuracy,
                        ms_torch=ms, ms_onnx=None,
                        size_mb=13.7, onnx_mb=None, params=3_400_000, train_s=1.0,
                        model_dir="")


def test_presets_span_a_tiny_fast_input_to_the_most_accurate_full_fine_tune():
    assert list_presets() == ["tiny", "small", "fast", "balanced", "accurate", "accurate-full"]
    quick = [p for p in PRESETS.values() if p.mode == "quick"]
    pixels = [p.image_size ** 2 * get_spec(p.architecture).params for p in quick]
    assert pixels == sorted(pixels)
    assert PRESETS["tiny"].image_size == 128
    last = PRESETS["accurate-full"]
    assert (last.mode, last.architecture) == ("full", "efficientnet_lite2")
    assert last.config().mode == "full" and last.config("quick").mode == "quick"
    assert all(get_spec(p.architecture).lite_index is not None for p in PRESETS.values())
    assert set(WORKSHOP_PRESETS) <= {p.name for p in quick}
    config = get_preset("balanced").config("full", epochs=1)
    assert (config.architecture, config.image_size, config.mode, config.epochs) == (
        "efficientnet_lite1", 240, "full", 1)
    with pytest.raises(StudioError, match="Presets: tiny, small"):
        get_preset("huge")


def test_the_workshop_presets_of_pages_01_and_11_train_the_whole_network():
    assert WORKSHOP_TRAINING["mode"] == "full" and WORKSHOP_TRAINING["epochs"] >= 2
    assert WORKSHOP_GRID_FIXED["mode"] == "full"
    assert list(WORKSHOP_GRID) == ["lr"] and len(WORKSHOP_GRID["lr"]) >= 3


def test_the_pareto_front_keeps_only_models_nothing_beats_on_both_counts():
    rows = [report("small", 0.84, 10), report("fast", 0.88, 20),
            report("balanced", 0.86, 35), report("accurate", 0.94, 50)]
    assert [r.preset for r in pareto_front(rows)] == ["small", "fast", "accurate"]


def test_the_recommendation_is_the_fastest_within_one_validation_image_of_the_best():
    rows = [report("fast", 29 / 32, 20), report("accurate", 30 / 32, 50)]
    pick = recommend(rows)
    assert pick.preset == "fast"  # 1 photo in 32 is 3.1 points: the gap is one photo
    assert "2.5× faster" in pick.reason
    rows = [report("fast", 28 / 32, 20), report("accurate", 30 / 32, 50)]
    assert recommend(rows).preset == "accurate"


def test_comparing_a_preset_measures_it_here_and_keeps_the_pick(sample_model_dir, tmp_path):
    """``tiny`` is Lite0 at 128 px, as ``sample_model_dir``: its features are cached."""
    (tiny,) = compare_presets(load_dataset(FRIDGE4), ["tiny"], onnx=False, repeats=3,
                              out_root=tmp_path / "compare")
    assert tiny.accuracy >= 0.75 and tiny.n_valid == 24  # measured: 22 of 24
    assert tiny.ms_torch > 0 and tiny.ms_onnx is None
    assert 3_000_000 < tiny.params < 5_000_000
    assert 10 < tiny.size_mb < 20
    kept = save_pick(tiny, studio_home() / "models" / "fridge-tiny")
    assert kept == studio_home() / "models" / "fridge-tiny"  # with the ONNX file it was not
    assert sorted(p.name for p in kept.iterdir()) == [  # timed with: what a server runs
        "model.json", "model.onnx", "model.safetensors"]


def test_the_fast_preset_reaches_080_on_real_photos(groceries4, trained_model_dir, tmp_path):
    """``fast`` is Lite0 at 224 px, as ``trained_model_dir``: its features are cached."""
    (fast,) = compare_presets(load_dataset(groceries4), ["fast"], onnx=False, repeats=1,
                              out_root=tmp_path / "compare")
    assert fast.accuracy >= 0.8 and fast.n_valid == 32
