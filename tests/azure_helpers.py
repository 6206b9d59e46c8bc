"""What the Azure tests share: a credential that refuses, an in-memory workspace, a tiny model.

Azure's network is the one thing these tests cannot reach, so :class:`FakeWorkspace` stands in
for the ``MLClient`` operations the studio calls, keeping Azure's documented behaviour where it
matters: an endpoint sent again *replaces* its traffic with the object's, a new deployment on
an existing endpoint starts at 0%, ``get`` returns a fresh copy, a job's named output is
downloaded under ``named-outputs/<output>/``.  Everything else (specs, SDK entities, our code,
the file system, torch) is real.
"""

from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

REPO = Path(__file__).resolve().parent.parent
TINY_PER_CLASS = 8


class OfflineCredential:
    """A credential that refuses to hand out tokens: any call to Azure fails at once."""

    def get_token(self, *scopes, **kwargs):
        raise ClientAuthenticationError("tests never reach Azure")

    def get_token_info(self, *scopes, **kwargs):
        raise ClientAuthenticationError("tests never reach Azure")


class Poller:
    """What ``begin_*`` returns: the operation ends ``seconds`` after it began (at once by
    default), with azure-core's ``done``, ``wait(timeout)`` and ``result``."""

    def __init__(self, value: Any = None, seconds: float = 0.0) -> None:
        self.value = value
        self.ends = time.monotonic() + seconds

    def done(self) -> bool:
        return time.monotonic() >= self.ends

    def wait(self, timeout: float | None = None) -> None:
        left = max(0.0, self.ends - time.monotonic())
        time.sleep(left if timeout is None else min(left, timeout))

    def result(self) -> Any:
        self.wait()
        return self.value


class Endpoints:
    """``client.online_endpoints``: traffic is whatever the last object sent said."""

    def __init__(self, workspace: FakeWorkspace) -> None:
        self.ws = workspace

    def get(self, name: str) -> Any:
        if name not in self.ws.endpoints:
            raise ResourceNotFoundError(f"endpoint {name} not found")
        return copy.deepcopy(self.ws.endpoints[name])

    def begin_create_or_update(self, endpoint: Any) -> Poller:
        stored = copy.deepcopy(endpoint)
        stored.traffic = dict(endpoint.traffic or {})
        stored._scoring_uri = f"https://{endpoint.name}.region.inference.ml.azure.com/score"
        stored._provisioning_state = "Succeeded"
        self.ws.endpoints[endpoint.name] = stored
        self.ws.traffic_history.append((endpoint.name, dict(stored.traffic)))
        return Poller(stored)

    def list(self) -> list[Any]:
        return [copy.deepcopy(e) for e in self.ws.endpoints.values()]

    def get_keys(self, name: str) -> Any:
        return SimpleNamespace(primary_key="test-key")

    def begin_delete(self, name: str) -> Poller:
        self.ws.endpoints.pop(name)
        self.ws.deployments = {k: v for k, v in self.ws.deployments.items() if k[0] != name}
        return Poller()


class Deployments:
    """``client.online_deployments``: creating one never touches the endpoint's traffic."""

    def __init__(self, workspace: FakeWorkspace) -> None:
        self.ws = workspace

    def begin_create_or_update(self, deployment: Any) -> Poller:
        if deployment.endpoint_name not in self.ws.endpoints:
            raise ResourceNotFoundError("endpoint not found")
        self.ws.deployments[(deployment.endpoint_name, deployment.name)] = deployment
        return Poller(deployment, self.ws.deployment_seconds)

    def list(self, endpoint_name: str) -> list[Any]:
        return [d for (e, _), d in self.ws.deployments.items() if e == endpoint_name]

    def get(self, name: str, endpoint_name: str) -> Any:
        return self.ws.deployments[(endpoint_name, name)]

    def begin_delete(self, name: str, endpoint_name: str) -> Poller:
        if self.ws.endpoints[endpoint_name].traffic.get(name):
            raise RuntimeError("Azure refuses to delete a deployment that takes traffic")
        self.ws.deployments.pop((endpoint_name, name))
        return Poller()

    def get_logs(self, name: str, endpoint_name: str, lines: int) -> str:
        return "init() done"


class Registry:
    """``client.models`` / ``client.environments`` / ``client.data``: versions count up."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}

    def create_or_update(self, asset: Any) -> Any:
        self.versions[asset.name] = self.versions.get(asset.name, 0) + 1
        return SimpleNamespace(name=asset.name, version=str(self.versions[asset.name]))


class Compute:
    """``client.compute``: clusters, sizes and the subscription's quota per VM family."""

    def __init__(self, workspace: FakeWorkspace) -> None:
        self.ws = workspace

    def get(self, name: str) -> Any:
        if name not in self.ws.computes:
            raise ResourceNotFoundError(f"compute {name} not found")
        return self.ws.computes[name]

    def begin_create_or_update(self, compute: Any) -> Poller:
        self.ws.computes[compute.name] = compute
        return Poller(compute)

    def begin_attach(self, compute: Any) -> Poller:
        return self.begin_create_or_update(compute)

    def list(self) -> list[Any]:
        return list(self.ws.computes.values())

    def begin_delete(self, name: str, action: str = "Delete") -> Poller:
        self.ws.compute_actions.append((name, action))
        self.ws.computes.pop(name)
        return Poller()

    def list_sizes(self, location: str) -> list[Any]:
        return [SimpleNamespace(name="Standard_NC4as_T4_v3", family="standardNCASv3_T4Family",
                                v_cp_us=4),
                SimpleNamespace(name="Standard_DS3_v2", family="standardDSv2Family",
                                v_cp_us=4)]

    def list_usage(self, location: str) -> list[Any]:
        return [SimpleNamespace(name=SimpleNamespace(value=family), limit=limit,
                                current_value=0)
                for family, limit in self.ws.quota.items()]


class Jobs:
    """``client.jobs``: submitted jobs, sweep children, and downloads laid out as the SDK does."""

    def __init__(self, workspace: FakeWorkspace) -> None:
        self.ws = workspace
        self._runs_operations = SimpleNamespace(
            get_run_details=lambda name: SimpleNamespace(log_files={}))

    def create_or_update(self, job: Any) -> Any:
        self.ws.submitted.append(job)
        name = f"job-{len(self.ws.submitted)}"
        self.ws.job_table.setdefault(name, SimpleNamespace(name=name, status="Queued"))
        return SimpleNamespace(name=name)

    def get(self, name: str) -> Any:
        return self.ws.job_table[name]

    def list(self, parent_job_name: str) -> list[Any]:
        return self.ws.children.get(parent_job_name, [])

    def download(self, name: str, output_name: str, download_path: str) -> None:
        source = self.ws.outputs.get((name, output_name))
        target = Path(download_path) / "named-outputs" / output_name
        target.mkdir(parents=True, exist_ok=True)
        if source is not None:
            shutil.copytree(source, target, dirs_exist_ok=True)


class FakeWorkspace:
    """An in-memory stand-in for ``MLClient`` (Azure's network), shaped like the SDK's."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Any] = {}
        self.deployments: dict[tuple[str, str], Any] = {}
        self.traffic_history: list[tuple[str, dict[str, int]]] = []
        self.computes: dict[str, Any] = {}
        self.compute_actions: list[tuple[str, str]] = []
        self.quota = {"standardNCASv3_T4Family": 8, "standardDSv2Family": 20}
        self.submitted: list[Any] = []
        self.job_table: dict[str, Any] = {}
        self.children: dict[str, list[Any]] = {}
        self.outputs: dict[tuple[str, str], Path] = {}
        self.online_endpoints = Endpoints(self)
        self.online_deployments = Deployments(self)
        self.models = Registry()
        self.environments = Registry()
        self.data = Registry()
        self.compute = Compute(self)
        self.jobs = Jobs(self)
        self.workspace_name = "ws"
        #: How long creating a deployment takes (Azure: often 10 minutes or more).
        self.deployment_seconds = 0.0


def tiny_dataset(dest: Path) -> Path:
    """A few of the repository's own sample photos per class, copied into ``dest``."""
    source = REPO / "sample_data" / "fridge4"
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        (dest / folder.name).mkdir(parents=True, exist_ok=True)
        for photo in sorted(folder.iterdir())[:TINY_PER_CLASS]:
            shutil.copy2(photo, dest / folder.name / photo.name)
    return dest


def tiny_model(models_dir: Path, name: str = "fridge4-tiny") -> Path:
    """A real quick-trained Lite0 at 128 px on the tiny data, made once per studio home."""
    folder = models_dir / name
    if (folder / "model.json").is_file():
        return folder
    from cvlib.data.dataset import load_dataset
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    data = tiny_dataset(models_dir.parent / "tiny-data")
    config = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=128)
    train(load_dataset(data), config).save(folder)
    return folder
