"""Training in the cloud and sweeps: what a real workspace would reject or lose, caught here.

Issue 14 items 2, 3, 5, 6 and 7, and the job-side "Also" items: search spaces the sampling
accepts, a model copied *into* the output mount, a GPU job that stops at once without CUDA,
the best model landing in the studio's model list, trials with their settings and the saved
model's metric, the job's code without the repository, and MLflow flushed before the CLI's
``os._exit``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from azure.ai.ml import load_job

from cvlib.azure import jobs, specs, sweep, trial
from cvlib.errors import StudioError
from cvlib.storage.home import studio_home
from cvlib.storage.persist import list_model_folders
from tests.azure_helpers import FakeWorkspace, tiny_dataset, tiny_model

REPO = Path(__file__).resolve().parent.parent
SAMPLINGS = ("grid", "random", "bayesian")


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return tiny_model(studio_home() / "models")


def run_module(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m ...`` from the repository, as a job's command runs it."""
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("rates", [(1e-3,), (1e-4, 1e-3, 1e-2)])
def test_every_search_space_uses_only_what_its_sampling_accepts(sampling, rates):
    plan = sweep.SweepPlan(("efficientnet_lite0", "efficientnet_lite1"), rates,
                           sampling=sampling)
    allowed = sweep.ALLOWED_DISTRIBUTIONS[sampling]
    space = sweep.search_space(plan)
    assert {name: d.type for name, d in space.items() if d.type not in allowed} == {}
    job = load_job(source=__import__("io").StringIO(specs.to_yaml(sweep.sweep_job(
        plan, "azureml:d:1", "azureml:env:1", REPO))))
    assert {d.type for d in job.search_space.values()} <= allowed


def test_bayesian_sampling_accepts_only_choice_uniform_and_quniform():
    assert sweep.ALLOWED_DISTRIBUTIONS["bayesian"] == {"choice", "uniform", "quniform"}
    assert sweep.ALLOWED_DISTRIBUTIONS["grid"] == {"choice"}


def test_a_log_uniform_range_is_described_in_plain_numbers():
    (_, line) = sweep.describe_space(sweep.SweepPlan(learning_rates=(1e-4, 1e-2)))
    assert "between 0.0001 and 0.01" in line and "natural logs" in line
    (_, listed) = sweep.describe_space(sweep.SweepPlan(learning_rates=(1e-4, 1e-2),
                                                       sampling="bayesian"))
    assert listed == "learning rate: one of 0.0001, 0.01"


def test_the_job_trains_locally_then_copies_into_the_output_never_onto_it():
    command = jobs.TRAIN_COMMAND
    train_step = next(step for step in command.split("&&") if "cvlib train" in step)
    assert "${{outputs.model}}" not in train_step
    assert "cvlib.azure.trial finish --model trained-model --out ${{outputs.model}}" in command


def test_finish_copies_the_model_into_an_existing_mount_point(model_dir, tmp_path):
    mount = tmp_path / "mount"
    mount.mkdir()
    inode = mount.stat().st_ino
    done = run_module(["cvlib.azure.trial", "finish", "--model", str(model_dir), "--out",
                       str(mount)])
    assert done.returncode == 0, done.stderr
    assert mount.stat().st_ino == inode, "the mount point itself was replaced"
    assert {p.name for p in mount.iterdir()} == {p.name for p in model_dir.iterdir()}
    assert f"{trial.saved_accuracy(model_dir):.4f}" in done.stdout


def test_a_gpu_job_without_cuda_stops_at_once_with_the_reason():
    failed = run_module(["cvlib.azure.trial", "preflight"], {trial.REQUIRE_CUDA: "1"})
    if failed.returncode == 0 and "compute capability" in failed.stdout:
        pytest.skip(f"this machine has a usable GPU: {failed.stdout.strip()}")
    assert failed.returncode == trial.NO_CUDA_EXIT
    assert "compute capability 7.5" in failed.stderr and "driver >= 580" in failed.stderr
    assert run_module(["cvlib.azure.trial", "preflight"], {trial.REQUIRE_CUDA: ""}
                      ).returncode == 0


def test_gpu_jobs_require_cuda_and_cpu_jobs_do_not():
    gpu = jobs.command_job(jobs.TrainPlan(), "azureml:d:1", "azureml:e:1", REPO)
    cpu = jobs.command_job(jobs.TrainPlan(compute_size="Standard_DS3_v2"), "azureml:d:1",
                           "azureml:e:1", REPO)
    assert gpu.environment_variables == {trial.REQUIRE_CUDA: "1"}
    assert cpu.environment_variables == {}


@pytest.mark.parametrize("size", ["Standard_NC6s_v3", "Standard_ND40rs_v2", "Standard_NC6"])
def test_gpus_older_than_the_wheels_cuda_are_refused_before_paying(size):
    with pytest.raises(StudioError, match="compute capability"):
        specs.gpu_cluster(size=size)


def test_the_training_image_is_not_the_retired_cuda_11_image(repo_root):
    env = specs.training_environment(repo_root / "requirements.txt")
    assert "cuda11" not in env.image and env.image == specs.BASE_IMAGE
    assert specs.gpu_of("Standard_NC4as_T4_v3") == ("NVIDIA T4", 7.5)


def test_the_jobs_code_is_the_cvlib_package_alone(tmp_path):
    code = specs.training_code_folder(tmp_path / "code")
    assert {p.name for p in code.iterdir()} == {"cvlib"}
    assert (code / "cvlib" / "cli.py").is_file() and (code / "cvlib/azure/trial.py").is_file()
    assert not list(code.rglob("__pycache__"))
    size = sum(p.stat().st_size for p in code.rglob("*") if p.is_file())
    assert size < 2_000_000


def laid_out_as_the_sdk_does(ws: FakeWorkspace, job: str, model_dir: Path | None) -> None:
    ws.job_table[job] = SimpleNamespace(status="Completed", properties={})
    if model_dir is not None:
        ws.outputs[(job, "model")] = model_dir


def test_a_finished_jobs_model_lands_in_the_studios_model_list(model_dir, tmp_path):
    ws = FakeWorkspace()
    laid_out_as_the_sdk_does(ws, "job-1", model_dir)
    models = tmp_path / "models"
    folder = jobs.download_model(ws, "job-1", models, "cloud-fridge")
    assert list_model_folders(models) == [folder]
    assert folder.name == "cloud-fridge"


def test_a_job_that_saved_nothing_is_an_error_not_an_empty_model(tmp_path):
    ws = FakeWorkspace()
    laid_out_as_the_sdk_does(ws, "job-2", None)
    with pytest.raises(StudioError, match="saved no model"):
        jobs.download_model(ws, "job-2", tmp_path / "models", "nothing")
    assert list_model_folders(tmp_path / "models") == []


def test_the_best_trials_model_comes_home(model_dir, tmp_path):
    ws = FakeWorkspace()
    ws.job_table["sweep-1"] = SimpleNamespace(status="Completed",
                                              properties={"best_child_run_id": "trial-3"})
    laid_out_as_the_sdk_does(ws, "trial-3", model_dir)
    folder = sweep.download_best(ws, "sweep-1", tmp_path / "models")
    assert list_model_folders(tmp_path / "models") == [folder]


def test_trials_show_their_settings_and_the_last_reported_metric():
    ws = FakeWorkspace()
    ws.children["sweep-1"] = [
        SimpleNamespace(name="t1", status="Completed", properties={}, command="",
                        tags={"hyperparameters": json.dumps({"arch": "efficientnet_lite0",
                                                             "lr": 0.003})}),
        SimpleNamespace(name="t2", status="Running", tags={}, properties={},
                        command="python -m cvlib train --arch efficientnet_lite1 --lr 0.01"),
    ]
    history = {"t1": [0.6, 0.9, 0.85, 0.9], "t2": [0.5]}
    rows = sweep.trials(ws, "sweep-1", history.get)
    assert [(r.settings, r.metric) for r in rows] == [
        ({"arch": "efficientnet_lite0", "lr": 0.003}, 0.9),
        ({"arch": "efficientnet_lite1", "lr": "0.01"}, 0.5)]


STAND_IN_MLFLOW = '''
"""A stand-in for mlflow (not installed here) that, like the real one, buffers metrics
(asynchronous logging) and writes them only on flush or end_run."""
import json, os
_buffer, _run = [], {"active": False}
def log_metric(key, value, step=None):
    _run["active"] = True
    _buffer.append([key, value, step])
def flush_async_logging():
    _write("flush")
def active_run():
    return object() if _run["active"] else None
def end_run():
    _run["active"] = False
    _write("end_run")
def _write(event):
    with open(os.environ["STAND_IN_LOG"], "a") as out:
        out.write(json.dumps({"event": event, "metrics": list(_buffer)}) + "\\n")
    _buffer.clear()
'''


def test_the_cli_ends_the_mlflow_run_before_os_exit(tmp_path):
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "mlflow" / "__init__.py").write_text(STAND_IN_MLFLOW)
    log = tmp_path / "mlflow.jsonl"
    data = tiny_dataset(tmp_path / "data")
    done = run_module(["cvlib", "train", "--data", str(data), "--mode", "quick",
                       "--image-size", "128", "--out", str(tmp_path / "model")],
                      {"PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "STAND_IN_LOG": str(log),
                       "MLFLOW_TRACKING_URI": "azureml://test"})
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[-1]["event"] == "end_run"
    logged = [m for e in events for m in e["metrics"]]
    assert logged and all(name == "valid_accuracy" for name, _, _ in logged)


def test_finish_reports_the_saved_models_accuracy_last(model_dir, tmp_path):
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "mlflow" / "__init__.py").write_text(STAND_IN_MLFLOW)
    log = tmp_path / "mlflow.jsonl"
    done = run_module(["cvlib.azure.trial", "finish", "--model", str(model_dir), "--out",
                       str(tmp_path / "out")],
                      {"PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "STAND_IN_LOG": str(log),
                       "MLFLOW_TRACKING_URI": "azureml://test"})
    assert done.returncode == 0, done.stderr
    logged = [m for line in log.read_text().splitlines() for m in json.loads(line)["metrics"]]
    primary = [value for name, value, _ in logged if name == trial.PRIMARY_METRIC]
    assert primary[-1] == pytest.approx(trial.saved_accuracy(model_dir))
