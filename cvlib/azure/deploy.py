"""Put a saved model behind an Azure ML online endpoint, change it, take it down.

An *endpoint* is a stable HTTPS address with keys; a *deployment* is the model, code,
environment and machines behind it.  Several deployments can share one endpoint (blue/green),
which is how a model is updated without changing the address callers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cvlib.azure.connect import AzureError, explain
from cvlib.azure.operations import wait_for
from cvlib.azure.specs import (
    DeploymentPlan,
    deployment_for,
    endpoint_for,
    model_asset,
    serving_environment,
)
from cvlib.errors import StudioError
from cvlib.runtime.progress import Log
from cvlib.serving.server import build_code_folder, ensure_onnx
from cvlib.storage.home import studio_home

if TYPE_CHECKING:
    from azure.ai.ml import MLClient


COST_NOTE = (
    "A managed online endpoint bills every instance for every hour it exists, whether or not "
    "it receives requests; during blue/green both deployments bill. Delete the endpoint when "
    "you are done (below). A Kubernetes endpoint runs on your AKS cluster, which you pay for "
    "whether or not it serves anything. Models, environments and images in the workspace "
    "cost a little storage."
)
#: The traffic steps the page offers when moving to a new deployment.
TRAFFIC_STEPS = (10, 50, 100)
#: The two names blue/green alternates between.
COLOURS = ("blue", "green")


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


def next_deployment_name(traffic: dict[str, int], existing: list[str]) -> str:
    """The name for the next deployment: the colour that takes no traffic now.

    A new endpoint starts with ``blue``; after that the new model goes beside the live one,
    so a deployment that serves traffic is never replaced in place.
    """
    idle = [c for c in COLOURS if traffic.get(c, 0) == 0]
    unused = [c for c in idle if c not in existing]
    if unused and len(existing) < len(COLOURS):
        return unused[0]
    if idle:
        return idle[0]
    raise StudioError("both blue and green take traffic: send 100% to one of them first")


def split_toward(traffic: dict[str, int], to: str, percent: int) -> dict[str, int]:
    """Give ``to`` ``percent`` of the traffic; the others share the rest as they did before.

    With two deployments that is simply ``{to: p, other: 100 - p}``.
    """
    if not 0 <= percent <= 100:
        raise StudioError("traffic is a percentage from 0 to 100")
    others = {name: share for name, share in traffic.items() if name != to}
    if not others and percent != 100:
        raise StudioError(f"{to} is the only deployment: it takes all the traffic")
    rest = 100 - percent
    total = sum(others.values())
    names = sorted(others)
    shares = ({n: rest * others[n] // total for n in names} if total
              else {n: rest // len(names) for n in names})
    if names:
        shares[names[0]] += rest - sum(shares.values())
    return {to: percent, **shares}


def ensure_endpoint(client: MLClient, plan: DeploymentPlan, log: Log = print) -> bool:
    """Create the endpoint only when it does not exist; returns whether it was created.

    Sending the endpoint object again would reset its traffic to what that object holds
    (nothing): every deployment would drop to 0% until the end of the redeploy.
    """
    from azure.core.exceptions import ResourceNotFoundError

    try:
        client.online_endpoints.get(plan.endpoint)
        log(f"Endpoint {plan.endpoint} exists: its traffic is left as it is")
        return False
    except ResourceNotFoundError:
        wait_for(client.online_endpoints.begin_create_or_update(endpoint_for(plan)),
                 f"Creating endpoint {plan.endpoint}", log)
        return True


def deploy(client: MLClient, plan: DeploymentPlan, model_dir: Path, model_name: str,
           log: Log = print, location: str = "") -> EndpointInfo:
    """Register the model and add it as deployment ``plan.deployment``, blue/green style.

    On a new endpoint the first deployment takes all traffic.  On an existing one the new
    deployment starts at 0%: test it through the ``azureml-model-deployment`` header, then
    :func:`shift_traffic` in steps, and :func:`rollback` if it misbehaves.  A deployment
    that takes traffic is never replaced in place.  Takes several minutes (Azure builds the
    environment image the first time); ``log`` receives each stage.
    """
    from cvlib.azure.jobs import check_quota

    ensure_onnx(model_dir, log)
    try:
        current = _current_traffic(client, plan.endpoint)
        if current.get(plan.deployment, 0) > 0:
            raise StudioError(f"{plan.deployment} serves {current[plan.deployment]}% of the "
                              f"traffic: deploy the new model as "
                              f"{next_deployment_name(current, list(current))} instead, test "
                              "it, then shift traffic")
        if plan.kind == "managed" and location:
            log(check_quota(client, plan.instance_type, plan.instance_count, location))
        log(f"Registering model {model_name}")
        model = client.models.create_or_update(model_asset(model_dir, model_name))
        log(f"Registering environment (model {model.name}:{model.version})")
        environment = client.environments.create_or_update(serving_environment())
        created = ensure_endpoint(client, plan, log)
        spec = deployment_for(plan, f"azureml:{model.name}:{model.version}",
                              f"azureml:{environment.name}:{environment.version}",
                              code_folder_for(plan))
        wait_for(client.online_deployments.begin_create_or_update(spec),
                 f"Creating deployment {plan.deployment} on {plan.instance_count} x "
                 f"{plan.instance_type} (building the image can take 10 minutes)", log)
        if created or not any(_current_traffic(client, plan.endpoint).values()):
            log(f"Sending 100% of traffic to {plan.deployment} (nothing else serves yet)")
            set_traffic(client, plan.endpoint, {plan.deployment: 100}, log)
        else:
            log(f"{plan.deployment} is live at 0% of traffic: test it, then shift traffic")
    except StudioError:
        raise
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error
    return endpoint_info(client, plan.endpoint)


def _current_traffic(client: MLClient, endpoint: str) -> dict[str, int]:
    """The endpoint's traffic split, empty when the endpoint does not exist yet."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return dict(client.online_endpoints.get(endpoint).traffic or {})
    except ResourceNotFoundError:
        return {}


def set_traffic(client: MLClient, endpoint: str, traffic: dict[str, int],
                log: Log = print) -> dict[str, int]:
    """Apply a traffic split (percentages adding up to 100) to the existing endpoint."""
    if sum(traffic.values()) != 100:
        raise StudioError(f"traffic must add up to 100%, not {sum(traffic.values())}%")
    known = set(deployment_names(client, endpoint))
    missing = set(traffic) - known
    if missing:
        raise StudioError(f"no deployment named {', '.join(sorted(missing))} on {endpoint}")
    current = client.online_endpoints.get(endpoint)
    current.traffic = {name: int(share) for name, share in traffic.items()}
    split = ", ".join(f"{name} {share}%" for name, share in current.traffic.items())
    wait_for(client.online_endpoints.begin_create_or_update(current),
             f"Setting the traffic of {endpoint} to {split}", log)
    return dict(current.traffic)


def shift_traffic(client: MLClient, endpoint: str, to: str, percent: int,
                  log: Log = print) -> dict[str, int]:
    """Move ``percent`` of the traffic to deployment ``to`` (one step of a blue/green switch)."""
    traffic = {name: 0 for name in deployment_names(client, endpoint)}
    traffic.update(_current_traffic(client, endpoint))
    return set_traffic(client, endpoint, split_toward(traffic, to, percent), log)


def rollback(client: MLClient, endpoint: str, to: str, log: Log = print) -> dict[str, int]:
    """One click back: all traffic to ``to`` (the deployment that served before)."""
    return shift_traffic(client, endpoint, to, 100, log)


def deployment_names(client: MLClient, endpoint: str) -> list[str]:
    """The deployments behind an endpoint, by name."""
    return sorted(d.name for d in client.online_deployments.list(endpoint_name=endpoint))


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


def scale(client: MLClient, endpoint: str, deployment: str, instance_count: int,
          log: Log = print) -> None:
    """Change the number of instances behind a deployment (cost follows the count)."""
    current = client.online_deployments.get(name=deployment, endpoint_name=endpoint)
    current.instance_count = instance_count
    wait_for(client.online_deployments.begin_create_or_update(current),
             f"Scaling {deployment} to {instance_count} instance(s)", log)


def delete_deployment(client: MLClient, endpoint: str, deployment: str,
                      log: Log = print) -> None:
    """Delete one deployment; one that still takes traffic is refused (callers would fail)."""
    share = _current_traffic(client, endpoint).get(deployment, 0)
    if share:
        raise StudioError(f"{deployment} still serves {share}% of the traffic: send it to "
                          "another deployment first")
    wait_for(client.online_deployments.begin_delete(name=deployment, endpoint_name=endpoint),
             f"Deleting deployment {deployment}", log)


def delete_endpoint(client: MLClient, name: str, log: Log = print) -> None:
    """Delete the endpoint and all its deployments: billing for their instances stops."""
    wait_for(client.online_endpoints.begin_delete(name=name), f"Deleting endpoint {name}", log)


def delete_compute(client: MLClient, name: str, log: Log = print) -> str:
    """Delete a cluster, or detach an attached Kubernetes cluster (AKS itself stays)."""
    detach = str(client.compute.get(name).type).lower() == "kubernetes"
    wait_for(client.compute.begin_delete(name, action="Detach" if detach else "Delete"),
             f"{'Detaching' if detach else 'Deleting'} {name}", log)
    return "detached" if detach else "deleted"
