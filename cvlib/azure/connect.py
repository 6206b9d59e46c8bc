"""Which workspace, with which credential: the one way the studio reaches Azure ML.

A workspace is named by three non-secret values (subscription, resource group, workspace
name), typed in or read from the ``config.json`` the Azure portal offers for download.
Authentication goes through ``azure-identity``: ``DefaultAzureCredential`` tries an
``az login`` session, a service principal in environment variables and a managed identity;
a device code (for a remote or headless server) or a browser window are explicit choices.
Tokens stay in memory: nothing secret is written to disk, to logs, or to the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvlib.azure.operations import wait_for
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


#: How to sign in.  ``default`` never opens a browser, so a headless server never opens one
#: on itself; ``device-code`` suits a remote server: the page shows a code to enter on any
#: device's browser; ``browser`` opens a window on the machine that runs the studio.
SIGN_IN_MODES = ("default", "device-code", "browser")
#: Resource providers the studio's resources need; a new subscription may lack some.
REQUIRED_PROVIDERS = ("Microsoft.MachineLearningServices", "Microsoft.Storage",
                      "Microsoft.KeyVault", "Microsoft.ContainerRegistry", "Microsoft.Insights",
                      "Microsoft.OperationalInsights")
KUBERNETES_PROVIDERS = ("Microsoft.ContainerService", "Microsoft.KubernetesConfiguration")


def make_credential(mode: str = "default", tenant_id: str = "",
                    prompt: Callable[[str], None] = print) -> TokenCredential:
    """A credential for the chosen sign-in mode, in the given tenant (Entra ID directory).

    ``default`` is ``DefaultAzureCredential`` (``az login``, a service principal's
    environment variables, a managed identity) without the browser step.  ``device-code``
    passes Azure's "go to this page and enter this code" line to ``prompt``.  Creating a
    credential contacts nothing; the first token request does.
    """
    from azure.identity import (
        DefaultAzureCredential,
        DeviceCodeCredential,
        InteractiveBrowserCredential,
    )

    tenant = tenant_id.strip() or None
    if mode == "default":
        options = {"interactive_browser_tenant_id": tenant,
                   "shared_cache_tenant_id": tenant} if tenant else {}
        return DefaultAzureCredential(exclude_interactive_browser_credential=True, **options)
    if mode == "device-code":
        return DeviceCodeCredential(
            tenant_id=tenant, prompt_callback=lambda uri, code, expires: prompt(
                f"To sign in, open {uri} on any device and enter the code {code}"))
    if mode == "browser":
        return InteractiveBrowserCredential(tenant_id=tenant)
    raise StudioError(f"unknown sign-in mode {mode!r}: use one of {', '.join(SIGN_IN_MODES)}")


def saved_config_path() -> Path:
    """Where the last connected workspace's ``config.json`` is kept (names only, no secret)."""
    from cvlib.storage.home import studio_home

    return studio_home() / "azure" / "config.json"


def save_config(ref: WorkspaceRef, path: Path | None = None) -> Path:
    """Write ``config.json`` after a successful connect, so the next visit starts filled in.

    The file is the portal's format, which ``MLClient.from_config`` and the CLI also read.
    """
    from cvlib.storage.persist import atomic_write_json

    path = path or saved_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(path, ref.to_config())


def load_saved_config(path: Path | None = None) -> WorkspaceRef | None:
    """The workspace saved by :func:`save_config`, if any (a broken file is ignored)."""
    path = path or saved_config_path()
    try:
        return WorkspaceRef.from_config(path)
    except (OSError, StudioError):
        return None


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
        return ("could not sign in to Azure: run `az login` (add --tenant for another "
                "directory), set a service principal's AZURE_CLIENT_ID / AZURE_TENANT_ID / "
                f"AZURE_CLIENT_SECRET, or choose the device-code sign-in ({name})")
    if name == "HttpResponseError" and "AuthorizationFailed" in str(error):
        return ("signed in, but this identity has no role on the workspace: ask for the "
                "AzureML Data Scientist (or Contributor) role on it (AuthorizationFailed)")
    if name == "ResourceNotFoundError":
        return f"not found in Azure: check the names (or create it first) ({name})"
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{name}: {message}"[:300]


def _arm(credential: TokenCredential) -> Any:
    """A pipeline to Azure Resource Manager's REST API with the credential's tokens."""
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.mgmt.core import ARMPipelineClient

    return ARMPipelineClient(base_url="https://management.azure.com",
                             policies=[BearerTokenCredentialPolicy(credential, ARM_SCOPE)])


def provider_states(credential: TokenCredential, subscription_id: str,
                    providers: tuple[str, ...] = REQUIRED_PROVIDERS) -> dict[str, str]:
    """Each resource provider's registration state (``Registered``, ``NotRegistered``...).

    A new subscription has not registered every provider; creating a workspace then fails
    with ``MissingSubscriptionRegistration``.
    """
    from azure.core.rest import HttpRequest

    client, states = _arm(credential), {}
    for namespace in providers:
        response = client.send_request(HttpRequest(
            "GET", f"/subscriptions/{subscription_id}/providers/{namespace}",
            params={"api-version": "2021-04-01"}))
        states[namespace] = (response.json().get("registrationState", "unknown")
                             if response.status_code == 200 else f"HTTP {response.status_code}")
    return states


def register_providers(credential: TokenCredential, subscription_id: str,
                       providers: tuple[str, ...]) -> None:
    """Ask Azure to register the providers (takes a minute or two; needs Contributor)."""
    from azure.core.rest import HttpRequest

    client = _arm(credential)
    for namespace in providers:
        response = client.send_request(HttpRequest(
            "POST", f"/subscriptions/{subscription_id}/providers/{namespace}/register",
            params={"api-version": "2021-04-01"}))
        if response.status_code not in (200, 202):
            raise AzureError(f"could not register {namespace}: HTTP {response.status_code} "
                             f"{response.text()[:200]}")


def register_commands(providers: tuple[str, ...]) -> str:
    """The same registration as ``az`` commands, for a user who prefers the terminal."""
    return "\n".join(f"az provider register --namespace {p}" for p in providers)


def create_resource_group(credential: TokenCredential, subscription_id: str, name: str,
                          location: str) -> None:
    """Create (or keep) a resource group through Azure Resource Manager's REST API.

    ``azure-ai-ml`` creates workspaces but not resource groups; one authenticated PUT does,
    without adding another SDK to the studio.
    """
    from azure.core.rest import HttpRequest

    client = _arm(credential)
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
    try:
        wait_for(client.workspaces.begin_create(
            workspace_spec(ref.workspace_name, ref.resource_group, location)),
            f"Creating workspace {ref.workspace_name} (storage, key vault and registry too)",
            log)
    except StudioError:
        raise
    except Exception as error:  # report Azure's reason in plain words
        raise AzureError(explain(error)) from error
    log("Workspace ready")
    return client
