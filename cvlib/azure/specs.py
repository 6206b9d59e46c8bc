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
from cvlib.serving.server import SERVING_REQUIREMENTS

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

#: Azure ML's curated Ubuntu base image, for serving and for training alike (Python comes from
#: the conda file).  It carries no CUDA: PyPI's Linux torch wheel brings its own CUDA runtime,
#: so a CUDA base image would only add an older, unpatched second copy.
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
PYTHON = "python=3.11"
#: Packages of requirements.txt a training job does not need: the UI and the Azure SDK stay
#: home.  Everything else is pinned as in the studio (scipy, scikit-image, ... included), so a
#: trial runs what the studio tested.
STUDIO_ONLY_PACKAGES = frozenset({
    "streamlit", "streamlit-webrtc", "aiortc", "plotly", "azure-ai-ml", "azure-identity",
})
#: How a trial reports metrics to Azure ML (which the bandit policy and the page read).
#: ``azureml-mlflow`` 1.62.0.post6 requires ``mlflow-skinny<=3.15.0``: the two move together.
METRICS_PACKAGES = ("azureml-mlflow==1.62.0.post6", "mlflow-skinny==3.15.0")
#: Requests one instance serves at once; the inference server gets as many workers
#: (``WORKER_COUNT``), or the second request would queue behind the first.
CONCURRENT_REQUESTS = 2
#: GPUs by VM-size pattern, with their CUDA compute capability.  PyPI's torch 2.14 wheels
#: carry CUDA 13, which needs compute capability 7.5 (Turing) or newer and a driver >= 580.
GPU_SIZES = (
    (re.compile(r"^Standard_NC\d+as_T4_v3$", re.I), "NVIDIA T4", 7.5),
    (re.compile(r"^Standard_NV\d+ads_A10_v5$", re.I), "NVIDIA A10", 8.6),
    (re.compile(r"^Standard_NC\d+ads_A100_v4$", re.I), "NVIDIA A100", 8.0),
    (re.compile(r"^Standard_ND\d+a(m)?sr_(v4|A100_v4)$", re.I), "NVIDIA A100", 8.0),
    (re.compile(r"^Standard_NC\d+ads_H100_v5$", re.I), "NVIDIA H100", 9.0),
    (re.compile(r"^Standard_ND\d+isr_H100_v5$", re.I), "NVIDIA H100", 9.0),
    (re.compile(r"^Standard_NC\d+s_v3$", re.I), "NVIDIA V100", 7.0),
    (re.compile(r"^Standard_ND\d+rs_v2$", re.I), "NVIDIA V100", 7.0),
    (re.compile(r"^Standard_NC\d+s_v2$", re.I), "NVIDIA P100", 6.0),
    (re.compile(r"^Standard_ND\d+s$", re.I), "NVIDIA P40", 6.1),
    (re.compile(r"^Standard_NC\d+r?$", re.I), "NVIDIA K80", 3.7),
    (re.compile(r"^Standard_NV\d+s?(_v3)?$", re.I), "NVIDIA M60", 5.2),
)
MIN_COMPUTE_CAPABILITY = 7.5
#: Pay-as-you-go list prices in US dollars per hour, Linux, East US, for the sizes the studio
#: uses by default (from Azure's public virtual-machine pricing page).  Prices vary by region
#: and change over time: the pricing calculator has your region's.  Azure ML adds no surcharge
#: on top of the VM price for clusters and managed online endpoints.
LIST_PRICE_USD_PER_HOUR = {
    "Standard_DS3_v2": 0.229,       # 4 vCPUs, 14 GB: the default managed endpoint instance
    "Standard_NC4as_T4_v3": 0.526,  # 4 vCPUs, 28 GB, one T4: the default GPU cluster node
}
PRICE_SOURCE = ("pay-as-you-go list price, Linux, East US, from Azure's virtual-machine "
                "pricing page; it varies by region and over time")
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

    The same pins as the local serving environment
    (:data:`cvlib.serving.server.SERVING_REQUIREMENTS`), so a deployment behaves as the local
    endpoint that page 23 tested.
    """
    from azure.ai.ml.entities import Environment

    return Environment(name=name, image=BASE_IMAGE,
                       conda_file=_conda(name, list(SERVING_REQUIREMENTS)),
                       description="cvlib scoring: azureml-inference-server-http + ONNX Runtime")


def training_requirements(requirements_txt: Path) -> list[str]:
    """The pinned lines of ``requirements.txt`` that a training trial needs."""
    pins = []
    for line in requirements_txt.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        package = re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0].lower()
        if line and package not in STUDIO_ONLY_PACKAGES:
            pins.append(line)
    return pins


def training_environment(requirements_txt: Path, name: str = "cvlib-training") -> Environment:
    """What a training job or sweep trial runs: the studio's pinned stack, plus MLflow.

    PyPI's Linux torch wheel carries its CUDA runtime, so the same pins use the cluster's GPU
    (see :func:`check_gpu_size` for which GPUs it supports).
    """
    from azure.ai.ml.entities import Environment

    pip = [*training_requirements(requirements_txt), *METRICS_PACKAGES]
    return Environment(name=name, image=BASE_IMAGE, conda_file=_conda(name, pip),
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
    ``deployment`` names the deployment; blue/green needs two names on one endpoint.
    """

    endpoint: str
    kind: EndpointKind = "managed"
    deployment: str = "blue"
    instance_type: str = "Standard_DS3_v2"
    instance_count: int = 1
    compute: str = ""
    limits: dict[str, str] = field(default_factory=dict)
    app_insights: bool = True

    def __post_init__(self) -> None:
        check_endpoint_name(self.endpoint)
        check_deployment_name(self.deployment)
        if self.kind == "kubernetes" and not self.compute:
            raise StudioError("a Kubernetes endpoint needs the name of an attached AKS compute")
        if self.instance_count < 1:
            raise StudioError("a deployment needs at least one instance")
        if self.kind == "kubernetes" and self.instance_type.startswith("Standard_"):
            raise StudioError(f"{self.instance_type} is a VM size: a Kubernetes deployment "
                              "names an instance type defined on the cluster (the Azure ML "
                              "extension creates defaultinstancetype)")


def check_deployment_name(name: str) -> str:
    """Deployment names: 3-32 lowercase letters, digits or hyphens, starting with a letter."""
    if not re.match(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$", name):
        raise StudioError(f"{name!r} is not a valid deployment name: use 3 to 32 lowercase "
                          "letters, digits and hyphens, starting with a letter")
    return name


def suggest_endpoint_name(base: str = "cvlib") -> str:
    """A name unlikely to be taken: endpoint names are unique in the whole Azure region.

    ``cvlib-classifier`` would collide with the first other user in the region; a short
    random suffix does not.
    """
    import secrets

    stem = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    stem = stem if stem[:1].isalpha() else f"cvlib-{stem}".strip("-")
    return check_endpoint_name(f"{stem[:25].rstrip('-')}-{secrets.token_hex(3)}")


def endpoint_for(plan: DeploymentPlan) -> ManagedOnlineEndpoint | KubernetesOnlineEndpoint:
    """The endpoint the plan deploys into."""
    if plan.kind == "kubernetes":
        return kubernetes_endpoint(plan.endpoint, plan.compute)
    return managed_endpoint(plan.endpoint)


def deployment_for(plan: DeploymentPlan, model: Model | str, environment: Environment | str,
                   code_dir: Path) -> ManagedOnlineDeployment | KubernetesOnlineDeployment:
    """The deployment: our ``score.py`` code folder + model + serving environment + machines.

    ``model`` and ``environment`` are entities (uploaded on creation) or registered
    references such as ``azureml:cvlib-model:3``.  The inference server runs as many workers
    as the deployment admits concurrent requests, and request logs go to the workspace's
    Application Insights unless the plan says otherwise.
    """
    from azure.ai.ml.entities import (
        CodeConfiguration,
        KubernetesOnlineDeployment,
        ManagedOnlineDeployment,
        OnlineRequestSettings,
    )

    cls = KubernetesOnlineDeployment if plan.kind == "kubernetes" else ManagedOnlineDeployment
    variables = {"WORKER_COUNT": str(CONCURRENT_REQUESTS), **plan.limits}
    return cls(name=plan.deployment, endpoint_name=plan.endpoint, model=model,
               environment=environment,
               code_configuration=CodeConfiguration(code=str(code_dir), scoring_script="score.py"),
               instance_type=plan.instance_type, instance_count=plan.instance_count,
               request_settings=OnlineRequestSettings(
                   request_timeout_ms=30000,
                   max_concurrent_requests_per_instance=CONCURRENT_REQUESTS),
               app_insights_enabled=plan.app_insights, environment_variables=variables)


def workspace_spec(name: str, resource_group: str, location: str) -> Workspace:
    """A new workspace (Azure creates its storage, key vault and registry alongside)."""
    from azure.ai.ml.entities import Workspace

    return Workspace(name=name, resource_group=resource_group, location=location,
                     description="cvlib image-classification studio")


def gpu_cluster(name: str = "gpu-cluster", size: str = "Standard_NC4as_T4_v3",
                max_instances: int = 2, idle_seconds: int = 600) -> AmlCompute:
    """A GPU cluster that scales to zero, so it costs nothing while no trial runs."""
    from azure.ai.ml.entities import AmlCompute

    check_gpu_size(size)
    return AmlCompute(name=name, size=size, min_instances=0, max_instances=max_instances,
                      idle_time_before_scale_down=idle_seconds, tier="dedicated")


def dataset_asset(folder: Path, name: str) -> Data:
    """A local image folder as a versioned data asset (uploaded once, mounted in trials)."""
    from azure.ai.ml.entities import Data

    return Data(name=name, path=str(folder), type="uri_folder",
                description="cvlib training images")


def gpu_of(size: str) -> tuple[str, float] | None:
    """The GPU model and CUDA compute capability of a VM size, if the studio knows it."""
    for pattern, gpu, capability in GPU_SIZES:
        if pattern.match(size):
            return gpu, capability
    return None


def is_gpu_size(size: str) -> bool:
    """Azure's GPU sizes are the N family (``Standard_NC…``, ``ND…``, ``NV…``)."""
    return size.lower().startswith("standard_n")


def check_gpu_size(size: str) -> str:
    """Refuse GPUs the training environment's CUDA 13 torch cannot use (before paying for them).

    A V100 (compute capability 7.0) or older would leave torch on the CPU, many times
    slower, while billing GPU prices.
    """
    known = gpu_of(size)
    if known and known[1] < MIN_COMPUTE_CAPABILITY:
        raise StudioError(
            f"{size} has an {known[0]} (compute capability {known[1]}); the training "
            f"environment's torch needs {MIN_COMPUTE_CAPABILITY} or newer: pick a T4 "
            "(Standard_NC4as_T4_v3), A10, A100 or H100 size")
    return size


def training_code_folder(dest: Path) -> Path:
    """The code a job uploads: the ``cvlib`` package alone (no ``.git``, docs, tests, data).

    Rebuilt from scratch each time, so a file deleted here is never uploaded from a
    previous copy.
    """
    import shutil

    source = Path(__file__).resolve().parent.parent
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest / "cvlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
    return dest


def attached_kubernetes(name: str, aks_resource_id: str, namespace: str = "azureml") -> Any:
    """An existing AKS cluster (with the Azure ML extension) attached as a Kubernetes compute."""
    from azure.ai.ml.entities import KubernetesCompute

    if not aks_resource_id.startswith("/subscriptions/"):
        raise StudioError("the AKS resource ID starts with /subscriptions/… (az aks show "
                          "--query id -o tsv prints it)")
    return KubernetesCompute(name=name, resource_id=aks_resource_id, namespace=namespace)


def aks_commands(cluster: str, resource_group: str, workspace: str, compute: str) -> str:
    """The ``az`` commands that prepare an AKS cluster and attach it, as the page shows them.

    The Azure ML extension is what lets a workspace deploy to the cluster; it creates the
    ``defaultinstancetype`` instance type that Kubernetes deployments name.
    """
    return f"""az extension add --name k8s-extension
az extension add --name ml
az provider register --namespace Microsoft.KubernetesConfiguration
az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes \\
  --cluster-type managedClusters --cluster-name {cluster} --resource-group {resource_group} \\
  --scope cluster --config enableInference=True inferenceRouterServiceType=LoadBalancer \\
  allowInsecureConnections=True
az ml compute attach --type Kubernetes --name {compute} --namespace azureml \\
  --resource-group {resource_group} --workspace-name {workspace} --identity-type SystemAssigned \\
  --resource-id $(az aks show --name {cluster} --resource-group {resource_group} --query id -o tsv)
"""


def price_note(size: str, count: int = 1) -> str:
    """What ``count`` machines of ``size`` cost per hour, with where the figure comes from."""
    price = LIST_PRICE_USD_PER_HOUR.get(size)
    if price is None:
        return f"{size}: see Azure's pricing calculator for your region's hourly price."
    return (f"{count} x {size}: about ${price * count:.2f} per hour ({PRICE_SOURCE}).")
