"""Shared fixtures: where the real photos are, and a scratch studio home per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = next((folder for folder in (REPO.parent / "shared" / "data",
                                          REPO.parent.parent / "shared" / "data")
                    if folder.is_dir()), REPO.parent / "shared" / "data")
"""``../shared/data`` beside the checkout, or beside the folder of worktrees it is in."""


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout the tests run from."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real photos (Freiburg Groceries), read-only, never copied."""
    if not (SHARED_DATA / "groceries4").is_dir():
        pytest.skip(f"real photos not found at {SHARED_DATA} (see tests/README)")
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
def trained_model_dir(groceries4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real quick-trained EfficientNet-Lite0 (224 px) on groceries4, saved and exported.

    Session-scoped: training and ONNX export happen once, every test reads the folder.
    """
    from cvlib.data import load_dataset
    from cvlib.inference import export_onnx
    from cvlib.train import train
    from cvlib.train_config import TrainConfig

    folder = tmp_path_factory.mktemp("models") / "groceries4-lite0"
    config = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=224)
    train(load_dataset(groceries4), config).save(folder)
    export_onnx(folder)
    return folder


def pytest_configure(config: pytest.Config) -> None:
    """Reuse one serving environment (Azure ML's inference server) across test sessions.

    Creating it costs about 35 s of pip; it lives in the checkout's ignored ``.serving-env``.
    """
    import os

    os.environ.setdefault("CVLIB_SERVING_ENV", str(REPO / ".serving-env"))
