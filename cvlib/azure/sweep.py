"""A hyperparameter sweep on an Azure ML GPU cluster, with SDK v2 ``command`` + ``sweep``.

Each *trial* runs our own training command (``python -m cvlib train``) on one cluster node with
one combination of settings.  The *sampling* decides which combinations: ``grid`` tries all of
them, ``random`` draws some, ``bayesian`` picks the next ones from the results so far.
*Early termination* (bandit policy) stops a trial whose per-epoch metric falls too far behind
the best one, so the cluster's time goes to promising settings.  Bayesian sampling learns from
finished trials only, so Azure ML does not allow early termination with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cvlib.azure.connect import AzureError, explain
from cvlib.errors import StudioError

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Environment

Sampling = Literal["grid", "random", "bayesian"]
PRIMARY_METRIC = "valid_accuracy"
TRAIN_COMMAND = ("python -m cvlib train --data ${{inputs.data}} --mode full "
                 "--arch ${{inputs.arch}} --lr ${{inputs.lr}} --epochs ${{inputs.epochs}} "
                 "--batch-size ${{inputs.batch_size}} --out ${{outputs.model}}")
TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
Log = Callable[[str], None]


@dataclass(frozen=True)
class SweepPlan:
    """What to search, how, and how much cluster time to spend on it."""

    architectures: tuple[str, ...] = ("efficientnet_lite0",)
    learning_rates: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    epochs: int = 8
    batch_size: int = 32
    sampling: Sampling = "random"
    max_trials: int = 8
    max_concurrent: int = 2
    timeout_minutes: int = 120
    slack_factor: float = 0.1
    evaluation_interval: int = 1
    delay_evaluation: int = 2
    compute: str = "gpu-cluster"
    experiment: str = "cvlib-sweep"

    def __post_init__(self) -> None:
        if not self.architectures or not self.learning_rates:
            raise StudioError("a sweep needs at least one architecture and one learning rate")
        if self.max_concurrent > self.max_trials:
            raise StudioError("concurrent trials cannot exceed the total number of trials")

    @property
    def early_termination(self) -> bool:
        """Bandit early termination applies to grid and random sampling only."""
        return self.sampling != "bayesian"


def _learning_rate_space(plan: SweepPlan) -> Any:
    """Grid needs a list; random and Bayesian search the range continuously (log scale)."""
    from azure.ai.ml.sweep import Choice, LogUniform

    if plan.sampling == "grid" or len(plan.learning_rates) == 1:
        return Choice(list(plan.learning_rates))
    import math

    return LogUniform(min_value=math.log(min(plan.learning_rates)),
                      max_value=math.log(max(plan.learning_rates)))


def sweep_job(plan: SweepPlan, data: str, environment: Environment | str, code_dir: Path) -> Any:
    """The sweep as an SDK v2 object (a ``command`` with a search space), not yet submitted.

    ``data`` is a data asset reference (``azureml:groceries4:1``) or a local folder, which
    the SDK uploads on submission.
    """
    from azure.ai.ml import Input, Output, command
    from azure.ai.ml.sweep import BanditPolicy, Choice

    trial = command(
        code=str(code_dir), command=TRAIN_COMMAND, environment=environment,
        compute=plan.compute, experiment_name=plan.experiment,
        display_name=f"{plan.experiment}-{plan.sampling}",
        inputs={"data": Input(type="uri_folder", path=data), "arch": plan.architectures[0],
                "lr": plan.learning_rates[0], "epochs": plan.epochs,
                "batch_size": plan.batch_size},
        outputs={"model": Output(type="uri_folder")},
    )
    swept = trial(data=Input(type="uri_folder", path=data),
                  arch=Choice(list(plan.architectures)), lr=_learning_rate_space(plan),
                  epochs=plan.epochs, batch_size=plan.batch_size)
    job = swept.sweep(sampling_algorithm=plan.sampling, primary_metric=PRIMARY_METRIC,
                      goal="Maximize", compute=plan.compute)
    job.set_limits(max_total_trials=plan.max_trials, max_concurrent_trials=plan.max_concurrent,
                   timeout=plan.timeout_minutes * 60)
    if plan.early_termination:
        job.early_termination = BanditPolicy(slack_factor=plan.slack_factor,
                                             evaluation_interval=plan.evaluation_interval,
                                             delay_evaluation=plan.delay_evaluation)
    job.experiment_name = plan.experiment
    return job


def upload_dataset(client: MLClient, folder: Path, name: str) -> str:
    """Register the folder as a data asset (uploaded once) and return its reference."""
    from cvlib.azure.specs import dataset_asset

    data = client.data.create_or_update(dataset_asset(folder, name))
    return f"azureml:{data.name}:{data.version}"


def ensure_cluster(client: MLClient, cluster: Any, log: Log = print) -> None:
    """Create the cluster if it is missing (it scales to zero when idle)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        client.compute.get(cluster.name)
        log(f"Using cluster {cluster.name}")
    except ResourceNotFoundError:
        log(f"Creating cluster {cluster.name} ({cluster.size}, 0-{cluster.max_instances} nodes)")
        client.compute.begin_create_or_update(cluster).result()


def submit(client: MLClient, job: Any) -> str:
    """Submit the sweep; returns its name, which identifies it from then on."""
    try:
        return client.jobs.create_or_update(job).name
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error


@dataclass(frozen=True)
class TrialRow:
    """One trial as the page lists it."""

    name: str
    status: str
    settings: dict[str, Any]
    metric: float | None


def trials(client: MLClient, sweep_name: str,
           metric_reader: Callable[[str], float | None] | None = None) -> list[TrialRow]:
    """The sweep's child runs so far, with their settings and latest metric if readable."""
    rows = []
    for child in client.jobs.list(parent_job_name=sweep_name):
        settings = {k: v for k, v in (child.properties or {}).items()
                    if k.startswith("hyperparameters") or k in ("arch", "lr")}
        metric = metric_reader(child.name) if metric_reader else None
        rows.append(TrialRow(child.name, child.status, settings, metric))
    return rows


def mlflow_metric_reader(tracking_uri: str) -> Callable[[str], float | None]:
    """Read each trial's latest ``valid_accuracy`` through MLflow (needs ``azureml-mlflow``).

    Azure ML stores job metrics in its MLflow tracking server; the studio's environment does
    not ship MLflow, so install ``azureml-mlflow`` to see metrics live on page 24.
    """
    try:
        import mlflow
    except ImportError as error:
        raise StudioError("install azureml-mlflow to read live trial metrics") from error
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()

    def read(run_id: str) -> float | None:
        history = client.get_metric_history(run_id, PRIMARY_METRIC)
        return history[-1].value if history else None

    return read


def status(client: MLClient, sweep_name: str) -> tuple[str, str | None]:
    """The sweep's state and its best trial so far (Azure ML names it in the properties)."""
    job = client.jobs.get(sweep_name)
    return job.status, (job.properties or {}).get("best_child_run_id")


def download_best(client: MLClient, sweep_name: str, dest: Path) -> Path:
    """Download the best trial's saved model folder into ``dest``."""
    state, best = status(client, sweep_name)
    if not best:
        raise StudioError(f"the sweep has no best trial yet (state: {state})")
    client.jobs.download(name=best, output_name="model", download_path=str(dest))
    return dest


def wait(client: MLClient, sweep_name: str, poll_seconds: float = 30.0, log: Log = print,
         stop: Callable[[], bool] = lambda: False) -> str:
    """Poll until the sweep ends (or ``stop()`` says to), logging trial counts as they change."""
    import time

    last = ""
    while True:
        state, best = status(client, sweep_name)
        rows = trials(client, sweep_name)
        line = f"{state}: {len(rows)} trials, " + ", ".join(
            f"{n} {s.lower()}" for s, n in _count(r.status for r in rows).items())
        if line != last:
            log(line + (f"; best so far {best}" if best else ""))
            last = line
        if state in TERMINAL or stop():
            return state
        time.sleep(poll_seconds)


def _count(values: Sequence[str] | Any) -> dict[str, int]:
    """How many of each value, in first-seen order."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
