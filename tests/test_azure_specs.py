"""What the studio would create in Azure ML, checked offline with the SDK's own loaders.

Every spec is built from ``azure.ai.ml`` entities, turned into YAML, and loaded back with
``load_*`` as ``az ml ... --file`` would.  A credential whose ``get_token`` raises proves no
test reaches Azure; where a test needs Azure's answers, only the ``MLClient`` operations
(Azure's network) are replaced.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from azure.ai.ml import (
    load_compute,
    load_data,
    load_environment,
    load_job,
    load_model,
    load_online_deployment,
    load_online_endpoint,
    load_workspace,
)
from azure.core.exceptions import ClientAuthenticationError

from cvlib.azure import specs
from cvlib.azure.connect import AzureError, WorkspaceRef, check_access, ml_client
from cvlib.azure.deploy import deploy
from cvlib.azure.sweep import SweepPlan, sweep_job
from cvlib.errors import StudioError
from cvlib.serving import SERVING_REQUIREMENTS, build_code_folder


class OfflineCredential:
    """A credential that refuses to hand out tokens: any call to Azure fails at once."""

    def get_token(self, *scopes, **kwargs):
        raise ClientAuthenticationError("tests never reach Azure")


def yaml_stream(entity) -> io.StringIO:
    """The entity's YAML as a stream for the SDK's loaders."""
    return io.StringIO(specs.to_yaml(entity))


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    return build_code_folder(tmp_path / "code")


def test_the_serving_environment_carries_the_local_pins_and_no_torch():
    env = load_environment(source=yaml_stream(specs.serving_environment()))
    pip = env.conda_file["dependencies"][-1]["pip"]
    assert pip == list(SERVING_REQUIREMENTS)
    assert not any(p.startswith("torch") for p in pip)


def test_the_training_environment_is_pinned_from_requirements(repo_root):
    env = load_environment(source=yaml_stream(specs.training_environment(
        repo_root / "requirements.txt")))
    pip = env.conda_file["dependencies"][-1]["pip"]
    assert any(p.startswith("torch==") for p in pip)
    assert all("==" in p for p in pip)
    assert not any(p.startswith(("streamlit", "azure-ai-ml", "azureml-core")) for p in pip)


def test_a_saved_model_registers_as_a_custom_model(trained_model_dir):
    model = load_model(source=yaml_stream(specs.model_asset(trained_model_dir, "groceries")))
    assert (model.name, model.type) == ("groceries", "custom_model")
    assert model.tags["classes"] == "juice milk soda water"


@pytest.mark.parametrize(("kind", "compute"), [("managed", ""), ("kubernetes", "aks-cpu")])
def test_endpoint_and_deployment_load_back(kind, compute, code_dir):
    plan = specs.DeploymentPlan("cvlib-groceries", kind=kind, compute=compute,
                                instance_count=2, limits={"CVLIB_MAX_IMAGES": "16"})
    endpoint = load_online_endpoint(source=yaml_stream(specs.endpoint_for(plan)))
    assert (endpoint.name, endpoint.auth_mode) == ("cvlib-groceries", "key")
    deployment = load_online_deployment(source=yaml_stream(specs.deployment_for(
        plan, "azureml:groceries:1", specs.serving_environment(), code_dir)))
    assert deployment.type.lower() == kind and deployment.instance_count == 2
    assert deployment.code_configuration.scoring_script == "score.py"
    assert deployment.environment_variables == {"CVLIB_MAX_IMAGES": "16"}
    if kind == "kubernetes":
        assert endpoint.compute == "aks-cpu"


def test_the_code_folder_holds_score_py_and_a_torch_free_cvlib(code_dir):
    assert (code_dir / "score.py").is_file()
    sources = "\n".join(p.read_text() for p in code_dir.rglob("*.py"))
    assert "import torch" not in sources and "azure.ai.ml" not in sources


@pytest.mark.parametrize("name", ["a", "1abc", "has_underscore", "x" * 33, "ends-"])
def test_invalid_endpoint_names_are_refused_with_the_rule(name):
    with pytest.raises(StudioError, match="3 to 32"):
        specs.DeploymentPlan(name)


@pytest.mark.parametrize("sampling", ["grid", "random", "bayesian"])
def test_the_sweep_loads_back_with_its_sampling_and_early_termination(sampling, repo_root):
    plan = SweepPlan(architectures=("efficientnet_lite0", "efficientnet_lite1"),
                     sampling=sampling, max_trials=6, max_concurrent=2)
    job = load_job(source=yaml_stream(sweep_job(
        plan, "azureml:groceries4:1", specs.training_environment(repo_root / "requirements.txt"),
        repo_root)))
    assert job.type == "sweep" and job.sampling_algorithm == sampling
    assert job.objective.primary_metric == "valid_accuracy"
    assert job.limits.max_total_trials == 6
    assert "--lr ${{search_space.lr}}" in job.trial.command
    assert (job.early_termination is None) == (sampling == "bayesian")


def test_cluster_data_and_workspace_load_back(groceries4):
    cluster = load_compute(source=yaml_stream(specs.gpu_cluster(max_instances=3)))
    assert (cluster.min_instances, cluster.max_instances) == (0, 3)
    data = load_data(source=yaml_stream(specs.dataset_asset(groceries4, "groceries4")))
    assert data.type == "uri_folder"
    workspace = load_workspace(source=yaml_stream(specs.workspace_spec("ws", "rg", "westeurope")))
    assert (workspace.name, workspace.location) == ("ws", "westeurope")


def test_config_json_from_the_portal_is_read_and_holds_no_secret(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"subscriptionId": "sub", "resourceGroup": "rg",
                                "workspaceName": "ws"}))
    ref = WorkspaceRef.from_config(path)
    assert ref == WorkspaceRef("sub", "rg", "ws")
    assert set(ref.to_config()) == {"subscription_id", "resource_group", "workspace_name"}
    with pytest.raises(StudioError, match="workspace_name"):
        WorkspaceRef.from_config(b'{"subscription_id": "s", "resource_group": "r"}')


def test_without_a_login_nothing_reaches_azure_and_the_message_says_how_to_sign_in():
    client = ml_client(WorkspaceRef("00000000-0000-0000-0000-000000000000", "rg", "ws"),
                       OfflineCredential())
    with pytest.raises(AzureError, match="az login"):
        check_access(client)


def test_deploy_registers_then_creates_endpoint_deployment_and_traffic(trained_model_dir):
    client = mock.MagicMock(name="MLClient")  # Azure's network only
    client.models.create_or_update.return_value = SimpleNamespace(name="groceries", version="3")
    client.environments.create_or_update.return_value = SimpleNamespace(name="cvlib-serving",
                                                                         version="1")
    client.online_endpoints.get.return_value = SimpleNamespace(
        name="cvlib-groceries", scoring_uri="https://x/score", provisioning_state="Succeeded",
        traffic={})
    info = deploy(client, specs.DeploymentPlan("cvlib-groceries"), trained_model_dir,
                  "groceries", log=lambda _: None)
    deployment = client.online_deployments.begin_create_or_update.call_args.args[0]
    assert deployment.model == "azureml:groceries:3"
    assert deployment.environment == "azureml:cvlib-serving:1"
    assert info.scoring_uri == "https://x/score" and info.traffic == {"blue": 100}
