"""Training in the cloud: one command job, the same ``python -m cvlib train`` as at home.

The dataset is uploaded once as a versioned *data asset* and mounted into the job; the job's
code is the ``cvlib`` package alone; the job runs on an AmlCompute cluster that scales from
zero.  Its logs and per-epoch metrics are read while it runs, and the model it saves comes
back into the studio's model list.  A sweep (:mod:`cvlib.azure.sweep`) runs the same command
once per trial.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvlib.azure.connect import AzureError, explain
from cvlib.azure.operations import wait_for
from cvlib.azure.specs import is_gpu_size
from cvlib.azure.trial import PRIMARY_METRIC, REQUIRE_CUDA
from cvlib.errors import StudioError
from cvlib.runtime.progress import Log

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Environment

TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
#: The job's command: a CUDA check, the studio's own training command, then the saved model
#: copied into the output mount (see :mod:`cvlib.azure.trial`).  ``&&`` stops at the first
#: failure, so a job without CUDA on a GPU size fails in seconds with the reason.
TRAIN_COMMAND = (
    "python -m cvlib.azure.trial preflight && "
    "python -m cvlib train --data ${{inputs.data}} --mode full --arch ${{inputs.arch}} "
    "--lr ${{inputs.lr}} --epochs ${{inputs.epochs}} --batch-size ${{inputs.batch_size}} "
    "--out trained-model && "
    "python -m cvlib.azure.trial finish --model trained-model --out ${{outputs.model}}"
)
#: Where a job's main output log lives among its log files.
USER_LOG = "user_logs/std_log.txt"


@dataclass(frozen=True)
class TrainPlan:
    """One training run on a cluster: the settings page 01 would use, on a cloud GPU."""

    architecture: str = "efficientnet_lite0"
    lr: float = 3e-3
    epochs: int = 8
    batch_size: int = 32
    compute: str = "gpu-cluster"
    compute_size: str = "Standard_NC4as_T4_v3"
    experiment: str = "cvlib-train"


def command_job(plan: TrainPlan, data: str, environment: Environment | str,
                code_dir: Path) -> Any:
    """The training job as an SDK v2 ``command``, not yet submitted.

    On a GPU size the job sets ``CVLIB_REQUIRE_CUDA=1``, so its first step fails at once
    when torch sees no GPU instead of training on the CPU.
    """
    from azure.ai.ml import Input, Output, command

    variables = {REQUIRE_CUDA: "1"} if is_gpu_size(plan.compute_size) else {}
    return command(
        code=str(code_dir), command=TRAIN_COMMAND, environment=environment,
        compute=plan.compute, experiment_name=plan.experiment,
        display_name=f"{plan.experiment}-{plan.architecture}",
        inputs={"data": Input(type="uri_folder", path=data), "arch": plan.architecture,
                "lr": plan.lr, "epochs": plan.epochs, "batch_size": plan.batch_size},
        outputs={"model": Output(type="uri_folder")},
        environment_variables=variables,
    )


def upload_dataset(client: MLClient, folder: Path, name: str) -> str:
    """Register the folder as a data asset (uploaded once) and return its reference."""
    from cvlib.azure.specs import dataset_asset

    data = client.data.create_or_update(dataset_asset(folder, name))
    return f"azureml:{data.name}:{data.version}"


def check_quota(client: MLClient, size: str, machines: int, location: str) -> str:
    """Refuse, before anything is created, a size the subscription has no cores left for.

    Azure counts quota in vCPUs per VM family and region; GPU families are often at 0 on a
    new subscription, and the request for more goes through the portal.  Returns a line
    saying what is free.
    """
    sizes = {s.name.lower(): s for s in client.compute.list_sizes(location=location)}
    vm = sizes.get(size.lower())
    if vm is None:
        raise AzureError(f"{size} is not offered to Azure ML in {location}: pick another size "
                         "or region")
    needed = (vm.v_cp_us or 0) * machines
    usage = next((u for u in client.compute.list_usage(location=location)
                  if (u.name.value or "").lower() == (vm.family or "").lower()), None)
    if usage is None:
        return f"{size}: no quota figure for family {vm.family} in {location}"
    free = (usage.limit or 0) - (usage.current_value or 0)
    if free < needed:
        raise AzureError(
            f"{machines} x {size} needs {needed} vCPUs of the {vm.family} family in "
            f"{location}; this subscription has {free} free (limit {usage.limit}). Request "
            "more in the Azure portal: Quotas > Machine learning > your region > this "
            "family (GPU families start at 0 on many new subscriptions; approval can take "
            "a day).")
    return f"{size}: {needed} vCPUs needed, {free} of {usage.limit} free in {vm.family}"


def ensure_cluster(client: MLClient, cluster: Any, location: str, log: Log = print) -> None:
    """Create the cluster if it is missing (it scales to zero when idle), quota permitting."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        client.compute.get(cluster.name)
        log(f"Using cluster {cluster.name}")
        return
    except ResourceNotFoundError:
        pass
    log(check_quota(client, cluster.size, 1, location))
    wait_for(client.compute.begin_create_or_update(cluster),
             f"Creating cluster {cluster.name} ({cluster.size}, 0-{cluster.max_instances} "
             "nodes)", log)


def submit(client: MLClient, job: Any) -> str:
    """Submit a job or sweep; returns its name, which identifies it from then on."""
    try:
        return client.jobs.create_or_update(job).name
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error


def log_tail(client: MLClient, job_name: str, lines: int = 40) -> str:
    """The last lines of a running or finished job's output log ('' before it starts).

    Read from the log files the run history lists, as ``az ml job stream`` does, so the page
    can show them while the job runs without blocking.
    """
    details = client.jobs._runs_operations.get_run_details(job_name)
    files = getattr(details, "log_files", None) or {}
    url = files.get(USER_LOG) or next((u for n, u in sorted(files.items())
                                       if n.endswith("std_log.txt")), None)
    if not url:
        return ""
    with urllib.request.urlopen(url, timeout=30) as response:  # a read-only SAS link
        text = response.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def metric_reader(tracking_uri: str) -> Callable[[str], list[float]]:
    """Each job's ``valid_accuracy`` values so far, through MLflow (needs ``azureml-mlflow``).

    Azure ML keeps job metrics in its MLflow tracking server.  The studio does not ship
    MLflow (its pins clash with the SDK's); without it the page says how to get metrics.
    """
    try:
        import mlflow
    except ImportError as error:
        raise StudioError("live metrics need azureml-mlflow: pip install "
                          "azureml-mlflow==1.62.0.post6 mlflow-skinny==3.15.0 (logs still "
                          "show each epoch)") from error
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()

    def read(run_id: str) -> list[float]:
        return [m.value for m in client.get_metric_history(run_id, PRIMARY_METRIC)]

    return read


def job_status(client: MLClient, job_name: str) -> str:
    """The job's state (Queued, Preparing, Running, Completed, Failed, ...)."""
    return client.jobs.get(job_name).status


def download_model(client: MLClient, job_name: str, models_dir: Path, name: str) -> Path:
    """Bring a finished job's saved model into the studio's model list, under ``name``.

    The SDK writes an output under ``<path>/named-outputs/<output>/``; the model folder is
    found there (never assumed), checked, and moved next to the studio's other models.  A job
    that saved nothing is an error, not an empty model.
    """
    from cvlib.storage.persist import list_model_folders, read_model_meta, safe_name

    staging = models_dir.parent / "downloads" / safe_name(job_name)
    shutil.rmtree(staging, ignore_errors=True)
    client.jobs.download(name=job_name, output_name="model", download_path=str(staging))
    found = sorted(staging.rglob("model.json"), key=lambda p: len(p.parts))
    if not found:
        shutil.rmtree(staging, ignore_errors=True)
        raise StudioError(f"job {job_name} saved no model (its 'model' output is empty): "
                          "read its log for the reason")
    source = found[0].parent
    read_model_meta(source)
    dest = models_dir / safe_name(name)
    if dest.exists():
        raise StudioError(f"a model named {dest.name} already exists: choose another name")
    models_dir.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(dest))
    shutil.rmtree(staging, ignore_errors=True)
    if dest not in list_model_folders(models_dir):
        raise StudioError(f"{dest} is not a complete model folder")
    return dest
