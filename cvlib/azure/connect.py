"""Which workspace, with which credential: the one way the studio reaches Azure ML.

A workspace is named by three non-secret values (subscription, resource group, workspace
name), typed in or read from the ``config.json`` the Azure portal offers for download.
Authentication goes through ``azure-identity``: ``DefaultAzureCredential`` tries an
``az login`` session, a service principal in environment variables and a managed identity;
an interactive browser login comes last.  Tokens stay in memory: nothing secret is written to
disk, to logs, or to the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvlib.errors import StudioError

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential

ARM_SCOPE = "https://management.azure.com/.default"
_CONFIG_KEYS = {"subscription_id": ("subscription_id", "subscriptionId"),
                "resource_group": ("resource_group", "resourceGroup"),
                "workspace_name": ("workspace_name", "workspaceName")}


class AzureError(StudioError):
    """Azure refused or could not do something; the message says what to check."""


@dataclass(frozen=True)
class WorkspaceRef:
    """The three names that locate a workspace (none of them is a secret)."""

    subscription_id: str
    resource_group: str
    workspace_name: str

    def __post_init__(self) -> None:
        missing = [k for k, v in vars(self).items() if not str(v).strip()]
        if missing:
            raise StudioError(f"workspace details missing: {', '.join(missing)}")

    @classmethod
    def from_config(cls, source: str | Path | bytes) -> WorkspaceRef:
        """Read the portal's ``config.json`` (a path or its uploaded bytes)."""
        raw = Path(source).read_bytes() if isinstance(source, str | Path) else source
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StudioError(f"config.json is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise StudioError("config.json should be a JSON object")
        return cls(**{field: next((str(data[k]) for k in keys if k in data), "")
                      for field, keys in _CONFIG_KEYS.items()})

    def to_config(self) -> dict[str, str]:
        """The same ``config.json`` content, to save beside a project (no secrets in it)."""
        return {"subscription_id": self.subscription_id,
                "resource_group": self.resource_group,
                "workspace_name": self.workspace_name}


def make_credential(interactive: bool = True) -> TokenCredential:
    """``DefaultAzureCredential``, with a browser login as the last resort when allowed.

    The browser fallback suits a laptop; on a server without one, pass ``interactive=False``
    and sign in with ``az login`` or a service principal's environment variables.
    """
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=not interactive)


def ml_client(ref: WorkspaceRef, credential: TokenCredential) -> MLClient:
    """An ``MLClient`` bound to the workspace (creating it contacts nothing yet)."""
    from azure.ai.ml import MLClient

    return MLClient(credential, ref.subscription_id, ref.resource_group, ref.workspace_name)


def check_access(client: MLClient) -> dict[str, Any]:
    """Fetch the workspace, proving the credential works; returns what the page shows."""
    try:
        workspace = client.workspaces.get(client.workspace_name)
    except Exception as error:  # azure raises many types; all mean "cannot reach"
        raise AzureError(explain(error)) from error
    return {"name": workspace.name, "location": workspace.location,
            "resource_group": workspace.resource_group,
            "mlflow_tracking_uri": workspace.mlflow_tracking_uri}


def explain(error: BaseException) -> str:
    """A one-line reason for an Azure failure, without tokens or request headers."""
    name = type(error).__name__
    if name == "ClientAuthenticationError" or "CredentialUnavailable" in name:
        return ("could not sign in to Azure: run `az login`, set a service principal's "
                "AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET, or allow the browser "
                f"login ({name})")
    if name == "ResourceNotFoundError":
        return f"not found in Azure: check the names (or create it first) ({name})"
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{name}: {message}"[:300]


def create_resource_group(credential: TokenCredential, subscription_id: str, name: str,
                          location: str) -> None:
    """Create (or keep) a resource group through Azure Resource Manager's REST API.

    ``azure-ai-ml`` creates workspaces but not resource groups; one authenticated PUT does,
    without adding another SDK to the studio.
    """
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.core.rest import HttpRequest
    from azure.mgmt.core import ARMPipelineClient

    client = ARMPipelineClient(base_url="https://management.azure.com",
                               policies=[BearerTokenCredentialPolicy(credential, ARM_SCOPE)])
    request = HttpRequest("PUT", f"/subscriptions/{subscription_id}/resourcegroups/{name}",
                          params={"api-version": "2021-04-01"}, json={"location": location})
    response = client.send_request(request)
    if response.status_code not in (200, 201):
        raise AzureError(f"could not create resource group {name!r}: HTTP "
                         f"{response.status_code} {response.text()[:200]}")


def create_workspace(credential: TokenCredential, ref: WorkspaceRef, location: str,
                     log=print) -> MLClient:
    """Create the resource group and the workspace (a few minutes), return a client for it."""
    from cvlib.azure.specs import workspace_spec

    log(f"Creating resource group {ref.resource_group} in {location}")
    create_resource_group(credential, ref.subscription_id, ref.resource_group, location)
    client = ml_client(ref, credential)
    log(f"Creating workspace {ref.workspace_name} (storage, key vault and registry too)")
    try:
        client.workspaces.begin_create(
            workspace_spec(ref.workspace_name, ref.resource_group, location)).result()
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error
    log("Workspace ready")
    return client
