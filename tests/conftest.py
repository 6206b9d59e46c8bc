"""Shared fixtures: a model trained on the sample data, where the real photos are, and a scratch
studio home per test session.

Every test of behaviour runs on the repository's own ``sample_data/`` (see ``tests/samples.py``),
so a fresh clone runs it; only tests of accuracy on real photos use ``../shared/data``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
#: Fixtures that read ``../shared/data``; a test using any of them is marked ``real_photos``.
REAL_PHOTO_FIXTURES = frozenset({"shared_data", "groceries4", "trained_model_dir"})


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout the tests run from."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real photos (Freiburg Groceries), read-only, never copied."""
    if not (SHARED_DATA / "groceries4").is_dir():
        pytest.skip(f"needs the real photos of ../shared/data (not found at {SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture(scope="session")
def groceries4(shared_data: Path) -> Path:
    """4-class single-label real photos, one folder per class."""
    return shared_data / "groceries4"


@pytest.fixture(autouse=True, scope="session")
def studio_home_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test session writes models, runs and caches under a fresh temporary home.

    The feature cache is shared inside the session (that is its point), but nothing is
    written to the user's own ``~/.cvlib-studio``.
    """
    import os

    home = tmp_path_factory.mktemp("studio-home")
    previous = os.environ.get("CVLIB_HOME")
    os.environ["CVLIB_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("CVLIB_HOME", None)
    else:
        os.environ["CVLIB_HOME"] = previous


@pytest.fixture(scope="session")
def sample_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real quick-trained EfficientNet-Lite0 (128 px) on ``sample_data/fridge4``, saved and
    exported to ONNX: for every test that needs *a* trained model.

    Session-scoped: training (seconds, features cached) and export happen once, every test
    reads the folder. Fitted on all 120 photos, it names every one of them right.
    """
    from cvlib.data.dataset import load_dataset
    from cvlib.models.inference import export_onnx
    from cvlib.training.train import train
    from tests.samples import FRIDGE4, QUICK

    folder = tmp_path_factory.mktemp("models") / "fridge4-lite0"
    train(load_dataset(FRIDGE4), QUICK).save(folder)
    export_onnx(folder)
    return folder


@pytest.fixture(scope="session")
def trained_model_dir(groceries4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real quick-trained EfficientNet-Lite0 (224 px) on groceries4, saved and exported:
    only for tests of what such a model scores on real photos.

    Session-scoped: training and ONNX export happen once, every test reads the folder.
    """
    from cvlib.data.dataset import load_dataset
    from cvlib.models.inference import export_onnx
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    folder = tmp_path_factory.mktemp("models") / "groceries4-lite0"
    config = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=224)
    train(load_dataset(groceries4), config).save(folder)
    export_onnx(folder)
    return folder


TINY_LR_GRID = {"grid": {"lr": [1e-5, 1e-1]},
                "fixed": {"mode": "full", "architecture": "efficientnet_lite0",
                          "image_size": 96, "epochs": 1}}
"""A learning-rate grid of full training small enough for a test: 2 cells of one epoch at
96 px on the sample data.  Page 11's editor can choose the same grid (full mode, image
size 96, epochs 1, learning rates 1e-5 and 1e-1), so its runs are found stored."""


@pytest.fixture(scope="session")
def lr_sweep(repo_root: Path):
    """The tiny learning-rate grid, really trained once per session on ``sample_data/fridge4``
    and stored in the session's studio home (where page 11 looks for finished runs)."""
    from cvlib.training.sweep import Grid, run_sweep

    grid = Grid.from_dict(TINY_LR_GRID, [repo_root / "sample_data" / "fridge4"])
    return run_sweep(grid)


def pytest_configure(config: pytest.Config) -> None:
    """Reuse one serving environment (Azure ML's inference server) across test sessions.

    Creating it costs about 35 s of pip; it lives in the checkout's ignored ``.serving-env``.
    """
    import os

    os.environ.setdefault("CVLIB_SERVING_ENV", str(REPO / ".serving-env"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the real photos, so ``-m "not real_photos"`` leaves them out.

    ``fixturenames`` holds the fixtures a test uses directly and through other fixtures.
    """
    for item in items:
        if REAL_PHOTO_FIXTURES & set(item.fixturenames):
            item.add_marker("real_photos")


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a test was skipped, as ``pytest.skip`` or a ``skipif`` mark gave it.

    A skip's ``longrepr`` is ``(path, line, reason)``; ``pytest.skip`` prefixes ``Skipped: ``.
    """
    return report.longrepr[2].removeprefix("Skipped: ")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """Say what this run did not test: skipped tests counted by reason, and deselected ones.

    A fresh clone without ``../shared`` or Chromium passes while skipping much; this block,
    printed last (after the ``-ra`` list, just above the final counts), makes that visible.
    """
    yield
    skipped = Counter(skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    deselected = len(terminalreporter.stats.get("deselected", []))
    if not skipped and not deselected:
        return
    terminalreporter.write_sep("=", "not tested in this run")
    if skipped:
        terminalreporter.write_line(f"{sum(skipped.values())} skipped, by reason:")
        for reason, count in sorted(skipped.items(), key=lambda pair: (-pair[1], pair[0])):
            terminalreporter.write_line(f"  {count:4d}  {reason}")
    if deselected:
        terminalreporter.write_line(f"{deselected} deselected (-m / -k / --deselect)")
