"""``kill -9`` in the middle of a save never costs the previous version.

A separate process saves model folders and run records over and over; the test kills it
with SIGKILL, either at a random moment or exactly at the most dangerous steps (the old
folder moved aside but the new one not yet in place; a record's temporary file written but
not yet renamed).  After each kill, recovery (which the app runs when it lists models and
runs) restores a complete version, the one saved last or the one before, and leaves no
stray files.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cvlib.storage import persist

REPO = Path(__file__).resolve().parent.parent
WEIGHT_BYTES = 8 * 1024**2
"""Large enough that writing and fsyncing the weights is most of each save."""

SAVER = r'''
"""Save version 1, 2, 3... of a model folder and a run record, printing each version done.

The optional fault names the call to die on: ("rename", 3) is the third os.rename.
"""
import itertools, os, signal, sys
from pathlib import Path

from cvlib.storage import persist

kind, folder, record, fault, nth, weight_bytes = sys.argv[1:7]
folder, record, nth, weight_bytes = Path(folder), Path(record), int(nth), int(weight_bytes)


def die_on_call(name, nth):
    real, calls = getattr(os, name), [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(os, name, wrapper)


def save_folder(version):
    meta = {"format": persist.MODEL_FORMAT, "architecture": "efficientnet_lite0",
            "classes": ["a", "b"], "preprocessing": {}, "version": version}
    with persist.staged_folder(folder) as staging:
        (staging / persist.WEIGHTS_FILE).write_bytes(bytes([version % 256]) * weight_bytes)
        persist.atomic_write_json(staging / persist.META_FILE, meta)


def model_saver():
    import torch

    from cvlib.models import backbones
    from cvlib.models.checkpoint import make_meta, save_model
    from cvlib.training.config import TrainConfig

    net = backbones.create("efficientnet_lite0", num_classes=2, pretrained=False)
    config = TrainConfig(architecture="efficientnet_lite0", image_size=224)

    def save(version):
        with torch.no_grad():
            net.get_classifier().bias.fill_(version)
        meta = make_meta(architecture="efficientnet_lite0", classes=["a", "b"],
                         multi_label=False, preprocessing=config.preprocessing(),
                         views=("identity",), version=version)
        save_model(folder, net, meta)

    return save


save = model_saver() if kind == "model" else save_folder
if fault != "none":
    die_on_call(fault, nth)
for version in itertools.count(1):
    save(version)
    persist.atomic_write_json(record, {"id": "run", "kind": "train",
                                       "created": "2026-12-02T10:00:00+00:00",
                                       "version": version, "padding": "x" * 100_000})
    print(version, flush=True)
'''


def start_saver(tmp_path: Path, kind: str, fault: str = "none", nth: int = 0,
                ) -> subprocess.Popen:
    """The saving process, writing ``tmp_path/models/m`` and ``tmp_path/runs/run.json``."""
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "runs").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, kind, str(tmp_path / "models" / "m"),
         str(tmp_path / "runs" / "run.json"), fault, str(nth), str(WEIGHT_BYTES)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)


def last_version_after_kill(saver: subprocess.Popen, delay: float) -> int:
    """Wait until a first version is saved, kill -9 the saver ``delay`` s later.

    Returns the last version it reported finished (the kill may land just after the
    next one finished but before it was reported).
    """
    first = saver.stdout.readline()
    assert first.strip() == "1", "the saver did not finish a first save"
    time.sleep(delay)
    saver.send_signal(signal.SIGKILL)
    rest = saver.communicate(timeout=30)[0].split()
    assert saver.returncode == -signal.SIGKILL
    return int(rest[-1]) if rest else 1


def died_on_its_own(saver: subprocess.Popen) -> int:
    """Wait for a saver with an injected fault to kill itself; its last reported version."""
    out = saver.communicate(timeout=120)[0].split()
    assert saver.returncode == -signal.SIGKILL
    return int(out[-1]) if out else 0


def leftovers(tmp_path: Path) -> list[str]:
    """Everything in the models and runs folders besides the model and the record."""
    found = [p.name for p in (tmp_path / "models").iterdir() if p.name != "m"]
    found += [p.name for p in (tmp_path / "runs").iterdir() if p.name != "run.json"]
    return sorted(found)


def recover(tmp_path: Path) -> list[Path]:
    """What the app does on its next start: list the models (recovering), clean the runs."""
    models = persist.list_model_folders(tmp_path / "models")
    persist.remove_orphan_temp_files(tmp_path / "runs")
    return models


def assert_intact_folder(folder: Path, versions: set[int]) -> None:
    """The folder is one complete version among ``versions``, weights matching its JSON."""
    meta = persist.read_model_meta(folder)
    assert meta["version"] in versions
    weights = (folder / persist.WEIGHTS_FILE).read_bytes()
    assert weights == bytes([meta["version"] % 256]) * WEIGHT_BYTES
    assert sorted(p.name for p in folder.iterdir()) == [persist.META_FILE,
                                                        persist.WEIGHTS_FILE]


def assert_intact_record(record: Path, versions: set[int]) -> None:
    """The run record parses and is one of ``versions``."""
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["version"] in versions and len(data["padding"]) == 100_000


@pytest.mark.parametrize("seed", range(6))
def test_a_kill_at_a_random_moment_leaves_the_last_or_the_previous_version(tmp_path, seed):
    saver = start_saver(tmp_path, "folder")
    done = last_version_after_kill(saver, random.Random(seed).uniform(0.0, 0.6))
    (model,) = recover(tmp_path)
    assert model == tmp_path / "models" / "m"
    assert_intact_folder(model, {done, done + 1})
    assert_intact_record(tmp_path / "runs" / "run.json", {done, done + 1})
    assert leftovers(tmp_path) == []


def test_a_kill_after_the_old_folder_moved_aside_restores_it(tmp_path):
    # os.rename calls: save 1 moves staging in (1); save 2 retires v1 (2), then moves v2 in (3)
    version = died_on_its_own(start_saver(tmp_path, "folder", "rename", 3))
    assert version == 1
    assert not (tmp_path / "models" / "m").exists()
    assert any(".old-" in name for name in leftovers(tmp_path))
    assert any(".saving-" in name for name in leftovers(tmp_path))
    (model,) = recover(tmp_path)
    assert_intact_folder(model, {1})
    assert leftovers(tmp_path) == []


def test_a_kill_before_the_swap_drops_the_unfinished_copy(tmp_path):
    version = died_on_its_own(start_saver(tmp_path, "folder", "rename", 2))
    assert version == 1
    assert any(".saving-" in name for name in leftovers(tmp_path))
    (model,) = recover(tmp_path)
    assert_intact_folder(model, {1})
    assert leftovers(tmp_path) == []


def test_a_kill_before_a_record_is_renamed_keeps_the_old_record(tmp_path):
    # os.replace calls: model.json (1), run.json (2) for version 1; then (3), (4) for 2
    version = died_on_its_own(start_saver(tmp_path, "folder", "replace", 4))
    assert version == 1
    assert [name for name in leftovers(tmp_path) if name.endswith(".tmp")]
    recover(tmp_path)
    assert_intact_folder(tmp_path / "models" / "m", {2})
    assert_intact_record(tmp_path / "runs" / "run.json", {1})
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_real_network_saved_by_save_model_is_restored_after_a_kill_mid_swap(tmp_path):
    from cvlib.models.checkpoint import load_network

    assert died_on_its_own(start_saver(tmp_path, "model", "rename", 3)) == 1
    (folder,) = recover(tmp_path)
    network, meta = load_network(folder)
    assert meta["version"] == 1
    bias = network.get_classifier().bias
    assert bias.tolist() == [float(meta["version"])] * 2
    assert leftovers(tmp_path) == []


def test_recovery_never_touches_a_save_still_in_progress(tmp_path):
    models = tmp_path / "models"
    with persist.staged_folder(models / "m") as staging:
        (staging / persist.WEIGHTS_FILE).write_bytes(b"weights")
        persist.atomic_write_json(staging / persist.META_FILE, {
            "format": persist.MODEL_FORMAT, "architecture": "x", "classes": ["a", "b"],
            "preprocessing": {}})
        assert persist.list_model_folders(models) == []  # another session lists models
        assert staging.is_dir()
    assert persist.list_model_folders(models) == [models / "m"]


def test_leftovers_of_a_live_process_are_kept_and_cleaned_once_it_has_died(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        staging = tmp_path / f"m.saving-{other.pid}-abc"
        temp = tmp_path / f".run.json.{other.pid}-xyz.tmp"
        staging.mkdir()
        temp.write_text("{")
        persist.recover_all(tmp_path)
        assert staging.is_dir() and temp.is_file()
    finally:
        other.kill()
        other.wait()
    persist.recover_all(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_app_starts_normally_with_leftovers_in_its_folders(tmp_path, monkeypatch):
    died_on_its_own(start_saver(tmp_path, "folder", "rename", 3))
    monkeypatch.setenv("CVLIB_HOME", str(tmp_path))
    (tmp_path / "runs" / f".x.json.{2**22 + 1}-abc.tmp").write_text("{")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not app.exception, app.exception
    assert not app.error
    (model,) = persist.list_model_folders(tmp_path / "models")
    assert_intact_folder(model, {1})
    from cvlib.training.runs import list_runs

    assert [r.details["version"] for r in list_runs()] == [1]
    assert leftovers(tmp_path) == []
