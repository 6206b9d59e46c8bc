"""Training: both modes, one API, honest validation, reproducible runs.

The behaviour is tested on the repository's ``sample_data/fridge4`` (Lite0 at 128 px, seconds);
what quick mode scores on real photos is read from the session's groceries4 model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cvlib.data.dataset import load_dataset
from cvlib.data.images import load_image
from cvlib.data.splits import split
from cvlib.errors import DatasetError
from cvlib.models.checkpoint import load_network
from cvlib.models.inference import Predictor
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.train import train
from tests.samples import CLASSES, FRIDGE4, QUICK

LITE0 = {"architecture": QUICK.architecture, "image_size": QUICK.image_size}


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(FRIDGE4)


@pytest.fixture(scope="module")
def quick_result(dataset):
    """Quick training whose saved head is the validated one (no final fit on all photos)."""
    return train(dataset, TrainConfig(mode="quick", fit_on_all=False, **LITE0))


def test_quick_mode_learns_from_its_training_photos_and_validates_on_the_others(
        quick_result, dataset):
    """Measured: 22 of the 24 validation photos (0.92); guessing would get a quarter."""
    assert quick_result.metrics["accuracy"] >= 0.75
    assert quick_result.metrics["n"] == 24
    assert quick_result.meta["classes"] == CLASSES
    assert len(quick_result.valid_paths) + len(quick_result.train_paths) == len(dataset)
    assert not set(quick_result.valid_paths) & set(quick_result.train_paths)


def test_quick_mode_learns_the_real_photos(trained_model_dir):
    """The session's quick Lite0 (224 px) on groceries4: its validation accuracy."""
    meta = json.loads((trained_model_dir / "model.json").read_text())
    assert meta["metrics"]["accuracy"] >= 0.8
    assert meta["metrics"]["n"] == 32
    assert meta["classes"] == ["juice", "milk", "soda", "water"]


def test_validation_uses_the_seeded_stratified_split(quick_result, dataset):
    _, valid_idx = split(dataset, valid_pct=0.2, seed=42)
    assert quick_result.valid_paths == [dataset.items[i].path for i in valid_idx]
    assert quick_result.meta["split"]["seed"] == 42


def test_saved_model_predicts_exactly_what_was_validated(quick_result, tmp_path):
    folder = quick_result.save(tmp_path / "model")
    predictor = Predictor.load(folder)
    probs = predictor.predict_proba([load_image(p) for p in quick_result.valid_paths])
    np.testing.assert_allclose(probs, quick_result.valid_probs, atol=2e-3)


def test_the_final_head_learns_every_photo_once_validation_has_been_measured(
        quick_result, dataset, tmp_path):
    """Validation evidence comes from a head that never saw the validation photos; the
    model saved is then fitted on all of them (with 30 photos a class every photo counts)."""
    split_only = quick_result
    result = train(dataset, TrainConfig(mode="quick", fit_on_all=True, **LITE0))
    np.testing.assert_allclose(result.valid_probs, split_only.valid_probs, atol=1e-5)
    assert result.meta["split"]["final_fit"] == "all photos"
    assert split_only.meta["split"]["final_fit"] == "training photos"
    assert not torch.allclose(result.head.weight, split_only.head.weight)
    # saved model = the final head: it now knows its validation photos too
    probs = Predictor.load(result.save(tmp_path / "m")).predict_proba(
        [load_image(p) for p in result.valid_paths])
    assert (probs.argmax(1) == result.valid_targets).mean() >= result.metrics["accuracy"]


def test_a_quick_model_is_saved_without_building_its_network(quick_result, tmp_path):
    """Quick models are the ImageNet weights plus the head: written without timm."""
    from dataclasses import replace

    from safetensors.torch import load_file

    from cvlib.models.checkpoint import save_model

    fresh = replace(quick_result)
    fast = fresh.save(tmp_path / "fast")
    assert "network" not in fresh.__dict__, "the network was not built to save"
    built = save_model(tmp_path / "built", quick_result.network, quick_result.meta)
    fast_state = load_file(str(fast / "model.safetensors"))
    built_state = load_file(str(built / "model.safetensors"))
    assert fast_state.keys() == built_state.keys()
    for name, tensor in built_state.items():
        assert torch.equal(fast_state[name], tensor), name


def test_a_damaged_weights_cache_means_building_the_network_once(quick_result, tmp_path,
                                                                  monkeypatch):
    from dataclasses import replace

    from safetensors.torch import load_file

    from cvlib.models.pretrained_cache import pretrained_state_path

    monkeypatch.setenv("CVLIB_HOME", str(tmp_path / "home"))
    cached = pretrained_state_path(quick_result.meta["architecture"])
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not safetensors")
    fresh = replace(quick_result)
    folder = fresh.save(tmp_path / "model")
    assert "network" in fresh.__dict__, "it fell back to building the network"
    assert load_file(str(cached)), "which wrote the cache again"
    probs = Predictor.load(folder).predict_proba([load_image(p) for p in fresh.valid_paths])
    np.testing.assert_allclose(probs, quick_result.valid_probs, atol=2e-3)


def test_model_folder_is_safetensors_plus_json(quick_result, tmp_path):
    folder = quick_result.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors"]
    network, meta = load_network(folder)
    assert network.get_classifier().out_features == 4
    assert meta["architecture"] == "efficientnet_lite0"
    assert meta["preprocessing"]["image_size"] == 128
    assert meta["data_fingerprint"] and meta["versions"]["torch"]
    assert meta["metrics"]["accuracy"] == quick_result.metrics["accuracy"]


def test_a_second_run_reuses_the_feature_cache_and_repeats_the_numbers(quick_result, dataset):
    again = train(dataset, TrainConfig(mode="quick", **LITE0))
    assert again.timings["cache_hits"] == len(dataset)
    assert again.timings["cache_misses"] == 0
    np.testing.assert_allclose(again.valid_probs, quick_result.valid_probs, atol=1e-5)


@pytest.fixture(scope="module")
def half(dataset):
    """Every other photo (15 a class): fine-tuning stays cheap, the quick head still learns."""
    return dataset.subset(range(0, len(dataset), 2))


def test_full_mode_starts_from_the_quick_head_and_never_ends_below_it(half):
    config = TrainConfig(mode="full", epochs=1, batch_size=16, **LITE0)
    quick = train(half, TrainConfig(mode="quick", **LITE0))
    progress = Progress()
    full = train(half, config, progress=progress)
    assert full.metrics["loss"] <= quick.metrics["loss"] + 1e-6
    stages = [r["stage"] for r in progress.snapshot()["history"]]
    assert stages == ["linear probe", "fine-tune"]
    assert full.meta["training"]["mode"] == "full"


def test_stop_keeps_the_best_weights_so_far(half, quick_result):
    """``quick_result`` has cached the features, so the quick head is fitted without a
    batch to stop at; Stop then lands before the first fine-tuning batch."""
    progress = Progress()
    progress.cancel()  # stop before the first fine-tuning batch
    result = train(half, TrainConfig(mode="full", epochs=3, **LITE0), progress=progress)
    assert result.stopped_early
    assert result.metrics["accuracy"] > 0.5  # the quick head, kept (measured: 9 of 12)


def test_a_single_class_is_explained_not_crashed_on(dataset):
    can_only = dataset.subset([i for i, item in enumerate(dataset.items)
                               if item.labels == ("can",)])
    can_only.classes = ["can"]
    with pytest.raises(DatasetError, match="at least two classes"):
        train(can_only, TrainConfig(mode="quick", **LITE0))
