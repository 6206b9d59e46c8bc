"""Put a saved model behind an Azure ML online endpoint, change it, take it down.

An *endpoint* is a stable HTTPS address with keys; a *deployment* is the model, code,
environment and machines behind it.  Several deployments can share one endpoint (blue/green),
which is how a model is updated without changing the address callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cvlib.azure.connect import AzureError, explain
from cvlib.azure.specs import (
    DeploymentPlan,
    deployment_for,
    endpoint_for,
    model_asset,
    serving_environment,
)
from cvlib.data import studio_home
from cvlib.serving import build_code_folder, ensure_onnx

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

Log = Callable[[str], None]

COST_NOTE = (
    "A managed online endpoint bills every instance for every hour it exists, whether or not "
    "it receives requests (a small CPU VM such as Standard_DS3_v2 costs on the order of a few "
    "tenths of a dollar per hour); delete the endpoint when you are done. A Kubernetes endpoint "
    "runs on your AKS cluster, which you pay for whether or not it serves anything. Models, "
    "environments and images in the workspace cost a little storage."
)


@dataclass(frozen=True)
class EndpointInfo:
    """What callers need: the address and how to authenticate (the key is fetched on demand)."""

    name: str
    scoring_uri: str
    provisioning_state: str
    traffic: dict[str, int]


def code_folder_for(plan: DeploymentPlan) -> Path:
    """The code folder uploaded with a deployment: the same one the local endpoint serves."""
    return build_code_folder(studio_home() / "azure-code" / plan.endpoint)


def deploy(client: MLClient, plan: DeploymentPlan, model_dir: Path, model_name: str,
           log: Log = print) -> EndpointInfo:
    """Register the model, create the endpoint and deployment, send all traffic to it.

    Takes several minutes (Azure builds the environment image the first time); ``log``
    receives each stage.
    """
    ensure_onnx(model_dir, log)
    try:
        log(f"Registering model {model_name}")
        model = client.models.create_or_update(model_asset(model_dir, model_name))
        log(f"Registering environment (model {model.name}:{model.version})")
        environment = client.environments.create_or_update(serving_environment())
        log(f"Creating endpoint {plan.endpoint}")
        client.online_endpoints.begin_create_or_update(endpoint_for(plan)).result()
        log(f"Creating deployment {plan.deployment} on {plan.instance_count} x "
            f"{plan.instance_type} (building the image can take 10 minutes)")
        spec = deployment_for(plan, f"azureml:{model.name}:{model.version}",
                              f"azureml:{environment.name}:{environment.version}",
                              code_folder_for(plan))
        client.online_deployments.begin_create_or_update(spec).result()
        log(f"Sending 100% of traffic to {plan.deployment}")
        endpoint = client.online_endpoints.get(plan.endpoint)
        endpoint.traffic = {plan.deployment: 100}
        client.online_endpoints.begin_create_or_update(endpoint).result()
    except AzureError:
        raise
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error
    return endpoint_info(client, plan.endpoint)


def endpoint_info(client: MLClient, name: str) -> EndpointInfo:
    """The endpoint's address, state and traffic split."""
    endpoint = client.online_endpoints.get(name)
    return EndpointInfo(endpoint.name, endpoint.scoring_uri, endpoint.provisioning_state,
                        dict(endpoint.traffic or {}))


def endpoint_key(client: MLClient, name: str) -> str:
    """The endpoint's primary key, for the request header only (never stored or shown)."""
    return client.online_endpoints.get_keys(name).primary_key


def deployment_logs(client: MLClient, endpoint: str, deployment: str, lines: int = 100) -> str:
    """The container's recent output: ``init()`` errors and request logs show up here."""
    return client.online_deployments.get_logs(name=deployment, endpoint_name=endpoint,
                                              lines=lines)


def scale(client: MLClient, endpoint: str, deployment: str, instance_count: int) -> None:
    """Change the number of instances behind a deployment (cost follows the count)."""
    current = client.online_deployments.get(name=deployment, endpoint_name=endpoint)
    current.instance_count = instance_count
    client.online_deployments.begin_create_or_update(current).result()


def delete_endpoint(client: MLClient, name: str) -> None:
    """Delete the endpoint and all its deployments: billing for their instances stops."""
    client.online_endpoints.begin_delete(name=name).result()
