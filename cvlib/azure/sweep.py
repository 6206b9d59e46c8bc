"""A hyperparameter sweep on an Azure ML GPU cluster, with SDK v2 ``command`` + ``sweep``.

Each *trial* runs our own training command (``python -m cvlib train``) on one cluster node with
one combination of settings.  The *sampling* decides which combinations: ``grid`` tries all of
them, ``random`` draws some, ``bayesian`` picks the next ones from the results so far.
*Early termination* (bandit policy) stops a trial whose per-epoch metric falls too far behind
the best one, so the cluster's time goes to promising settings.  Bayesian sampling learns from
finished trials only, so Azure ML does not allow early termination with it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cvlib.azure.jobs import TERMINAL, TrainPlan, command_job, download_model
from cvlib.azure.trial import PRIMARY_METRIC
from cvlib.errors import StudioError
from cvlib.runtime.progress import Log

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Environment

Sampling = Literal["grid", "random", "bayesian"]
#: Which distributions each sampling algorithm accepts (Azure ML's documented rules; the
#: service rejects a sweep that breaks them).  Bayesian sampling fits a model over the
#: space and takes only choice, uniform and quniform.
ALLOWED_DISTRIBUTIONS: dict[str, frozenset[str]] = {
    "grid": frozenset({"choice"}),
    "random": frozenset({"choice", "randint", "uniform", "quniform", "loguniform",
                         "qloguniform", "normal", "qnormal", "lognormal", "qlognormal"}),
    "bayesian": frozenset({"choice", "uniform", "quniform"}),
}


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
    compute_size: str = "Standard_NC4as_T4_v3"
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


def search_space(plan: SweepPlan) -> dict[str, Any]:
    """The swept inputs as SDK distributions, each one the sampling algorithm accepts.

    Grid and Bayesian sampling try the listed learning rates (Bayesian sampling cannot take
    a log-uniform range); random sampling draws between the smallest and the largest on a
    log scale, so 1e-4…1e-2 is sampled as evenly below 1e-3 as above it.
    """
    from azure.ai.ml.sweep import Choice, LogUniform

    if plan.sampling == "random" and len(set(plan.learning_rates)) > 1:
        lr: Any = LogUniform(min_value=math.log(min(plan.learning_rates)),
                             max_value=math.log(max(plan.learning_rates)))
    else:
        lr = Choice(sorted(set(plan.learning_rates)))
    return {"arch": Choice(list(plan.architectures)), "lr": lr}


def describe_space(plan: SweepPlan) -> list[str]:
    """The search space in plain numbers, one line per swept setting, for the page."""
    lines = [f"architecture: one of {', '.join(plan.architectures)}"]
    space = search_space(plan)["lr"]
    if space.type == "loguniform":
        low, high = min(plan.learning_rates), max(plan.learning_rates)
        lines.append(f"learning rate: drawn log-uniformly between {low:g} and {high:g} "
                     f"(the YAML stores their natural logs, {space.min_value:.2f} and "
                     f"{space.max_value:.2f}, as Azure ML expects)")
    else:
        lines.append("learning rate: one of " + ", ".join(f"{v:g}" for v in space.values))
    return lines


def sweep_job(plan: SweepPlan, data: str, environment: Environment | str, code_dir: Path) -> Any:
    """The sweep as an SDK v2 object (a ``command`` with a search space), not yet submitted.

    Each trial runs the cloud training job's command (:data:`cvlib.azure.jobs.TRAIN_COMMAND`).
    ``data`` is a data asset reference (``azureml:groceries4:1``) or a local folder, which
    the SDK uploads on submission.
    """
    from azure.ai.ml import Input
    from azure.ai.ml.sweep import BanditPolicy

    trial = command_job(TrainPlan(plan.architectures[0], plan.learning_rates[0], plan.epochs,
                                  plan.batch_size, plan.compute, plan.compute_size,
                                  plan.experiment), data, environment, code_dir)
    swept = trial(data=Input(type="uri_folder", path=data), epochs=plan.epochs,
                  batch_size=plan.batch_size, **search_space(plan))
    job = swept.sweep(sampling_algorithm=plan.sampling, primary_metric=PRIMARY_METRIC,
                      goal="Maximize", compute=plan.compute)
    job.set_limits(max_total_trials=plan.max_trials, max_concurrent_trials=plan.max_concurrent,
                   timeout=plan.timeout_minutes * 60)
    if plan.early_termination:
        job.early_termination = BanditPolicy(slack_factor=plan.slack_factor,
                                             evaluation_interval=plan.evaluation_interval,
                                             delay_evaluation=plan.delay_evaluation)
    job.display_name = f"{plan.experiment}-{plan.sampling}"
    job.experiment_name = plan.experiment
    return job


@dataclass(frozen=True)
class TrialRow:
    """One trial as the page lists it: its settings and the saved model's accuracy."""

    name: str
    status: str
    settings: dict[str, Any]
    metric: float | None


_FLAG = re.compile(r"--(arch|lr)\s+(\S+)")


def trial_settings(child: Any) -> dict[str, Any]:
    """The values a trial ran with.

    Azure ML records them as a JSON ``hyperparameters`` entry on the child run (a tag or a
    property, depending on the service version); the trial's resolved command line holds
    them too, which is the fallback.
    """
    for bag in (getattr(child, "tags", None) or {}, getattr(child, "properties", None) or {}):
        for key, value in bag.items():
            if key.lower().lstrip("_").endswith("hyperparameters"):
                try:
                    parsed = json.loads(value) if isinstance(value, str) else dict(value)
                except (json.JSONDecodeError, TypeError, ValueError):
                    continue
                return {k.lstrip("-").removeprefix("search_space."): v
                        for k, v in parsed.items()}
    return {name: value for name, value in _FLAG.findall(getattr(child, "command", "") or "")
            if "${{" not in value}


def trials(client: MLClient, sweep_name: str,
           metric_reader: Callable[[str], list[float]] | None = None) -> list[TrialRow]:
    """The sweep's child runs so far, with their settings and their last reported metric.

    The last ``valid_accuracy`` a finished trial reports is its saved model's (see
    :mod:`cvlib.azure.trial`); while it runs, it is the latest epoch's.
    """
    rows = []
    for child in client.jobs.list(parent_job_name=sweep_name):
        values = metric_reader(child.name) if metric_reader else []
        rows.append(TrialRow(child.name, child.status, trial_settings(child),
                             values[-1] if values else None))
    return rows


def status(client: MLClient, sweep_name: str) -> tuple[str, str | None]:
    """The sweep's state and its best trial so far (Azure ML names it in the properties)."""
    job = client.jobs.get(sweep_name)
    return job.status, (job.properties or {}).get("best_child_run_id")


def download_best(client: MLClient, sweep_name: str, models_dir: Path,
                  name: str | None = None) -> Path:
    """Bring the best trial's model into the studio's model list (``models_dir``)."""
    state, best = status(client, sweep_name)
    if not best:
        raise StudioError(f"the sweep has no best trial yet (state: {state})")
    return download_model(client, best, models_dir, name or f"sweep-{sweep_name}")


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
