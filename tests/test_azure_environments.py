"""The training and serving environments resolve with pip, from a clean virtual environment.

Issue 14 item 1: ``mlflow-skinny==3.17.2`` beside ``azureml-mlflow==1.62.0.post6`` (which
requires ``mlflow-skinny<=3.15.0``) was ResolutionImpossible, so every trial failed while its
image was built.  These tests ask pip to resolve each environment's pins exactly as Azure ML's
image build does (``pip install`` of the conda file's list), with ``--dry-run``: they need the
package registry, download only metadata, and install nothing.

The metrics pins (where the conflict was) and the serving environment resolve in about a
minute and always run.  The whole training environment (167 packages, torch's CUDA wheels
among them) takes about 7 minutes here, too long for every run of the suite: set
``CVLIB_FULL_RESOLUTION=1`` to include it (it passed when this file was written).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from cvlib.azure import specs
from cvlib.serving.server import SERVING_REQUIREMENTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only pip in it (nothing of the studio's)."""
    folder = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    return folder / "bin" / "python"


def resolve(python: Path, pins: list[str], report: Path) -> dict[str, str]:
    """``pip install --dry-run --report``: what pip would install, by name and version."""
    done = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--quiet",
                           "--disable-pip-version-check", "--report", str(report), *pins],
                          capture_output=True, text=True, timeout=900)
    errors = [line for line in done.stderr.splitlines() if "WARNING: Location" not in line]
    assert done.returncode == 0, "\n".join(errors[-30:])
    installed = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in installed}


def pin_versions(pins: list[str]) -> dict[str, str]:
    """``name==version`` lines as a mapping."""
    return {re.split(r"==", p)[0].lower(): p.split("==")[1] for p in pins}


def test_the_metrics_pins_resolve_together(clean_python, tmp_path):
    pins = list(specs.METRICS_PACKAGES)
    resolved = resolve(clean_python, pins, tmp_path / "metrics.json")
    assert {name: resolved.get(name) for name in pin_versions(pins)} == pin_versions(pins)


@pytest.mark.skipif(os.environ.get("CVLIB_FULL_RESOLUTION") != "1",
                    reason="about 7 minutes of pip: set CVLIB_FULL_RESOLUTION=1")
def test_the_training_environment_resolves_with_every_pin_kept(clean_python, tmp_path,
                                                                repo_root):
    env = specs.training_environment(repo_root / "requirements.txt")
    pins = env.conda_file["dependencies"][-1]["pip"]
    resolved = resolve(clean_python, pins, tmp_path / "training.json")
    assert {name: resolved.get(name) for name in pin_versions(pins)} == pin_versions(pins)
    assert resolved["scipy"] == pin_versions(pins)["scipy"]


def test_the_serving_environment_resolves_with_every_pin_kept(clean_python, tmp_path):
    pins = list(SERVING_REQUIREMENTS)
    resolved = resolve(clean_python, pins, tmp_path / "serving.json")
    assert {name: resolved.get(name) for name in pin_versions(pins)} == pin_versions(pins)
    assert "torch" not in resolved


def test_the_clean_environment_really_is_clean(clean_python):
    listed = subprocess.run([str(clean_python), "-m", "pip", "list", "--format=json"],
                            capture_output=True, text=True, check=True).stdout
    assert {p["name"].lower() for p in json.loads(listed)} <= {"pip", "setuptools"}
    assert str(clean_python) != sys.executable
