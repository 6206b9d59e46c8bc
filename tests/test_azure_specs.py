"""What the studio would create in Azure ML, checked offline with the SDK's own loaders.

Every spec is built from ``azure.ai.ml`` entities, turned into YAML, and loaded back with
``load_*`` as ``az ml ... --file`` would.  A credential whose ``get_token`` raises proves no
test reaches Azure; where a test needs Azure's answers, only the ``MLClient`` operations
(Azure's network) are replaced.
"""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

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

from cvlib.azure import specs
from cvlib.azure.connect import (
    KUBERNETES_PROVIDERS,
    REQUIRED_PROVIDERS,
    AzureError,
    WorkspaceRef,
    check_access,
    load_saved_config,
    make_credential,
    ml_client,
    register_commands,
    save_config,
)
from cvlib.azure.sweep import SweepPlan, sweep_job
from cvlib.errors import StudioError
from cvlib.serving.server import SERVING_REQUIREMENTS, build_code_folder
from cvlib.storage.home import studio_home
from tests.azure_helpers import OfflineCredential, tiny_model


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
    assert "scipy==1.17.1" in pip
    assert all("==" in p for p in pip)
    assert not any(p.startswith(("streamlit", "azure-ai-ml", "azureml-core")) for p in pip)


def test_mlflow_skinny_is_pinned_where_azureml_mlflow_allows_it():
    pins = dict(p.split("==") for p in specs.METRICS_PACKAGES)
    # azureml-mlflow 1.62.0.post6 declares mlflow-skinny<=3.15.0
    assert pins["azureml-mlflow"] == "1.62.0.post6"
    assert tuple(map(int, pins["mlflow-skinny"].split("."))) <= (3, 15, 0)


@pytest.mark.parametrize(("mode", "kind"), [("default", "DefaultAzureCredential"),
                                            ("device-code", "DeviceCodeCredential"),
                                            ("browser", "InteractiveBrowserCredential")])
def test_each_sign_in_mode_builds_its_credential_in_the_tenant_without_contacting_azure(
        mode, kind):
    credential = make_credential(mode, tenant_id="contoso.onmicrosoft.com")
    assert type(credential).__name__ == kind


def test_the_default_sign_in_never_opens_a_browser():
    credential = make_credential("default")
    names = [type(c).__name__ for c in credential.credentials]
    assert "InteractiveBrowserCredential" not in names


def test_config_json_is_saved_after_connect_and_read_back(tmp_path):
    ref = WorkspaceRef("sub", "rg", "ws")
    path = save_config(ref, tmp_path / "azure" / "config.json")
    assert load_saved_config(path) == ref
    assert json.loads(path.read_text()) == ref.to_config()


def test_provider_registration_commands_cover_the_workspace_and_kubernetes():
    text = register_commands(REQUIRED_PROVIDERS + KUBERNETES_PROVIDERS)
    assert "az provider register --namespace Microsoft.MachineLearningServices" in text
    assert "Microsoft.KubernetesConfiguration" in text


def test_the_aks_commands_install_the_extension_then_attach():
    text = specs.aks_commands("aks1", "rg", "ws", "k8s")
    assert text.index("k8s-extension create") < text.index("az ml compute attach")
    assert "Microsoft.AzureML.Kubernetes" in text and "--name k8s" in text
    attached = load_compute(source=yaml_stream(specs.attached_kubernetes(
        "k8s", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/"
        "managedClusters/aks1")))
    assert attached.type == "kubernetes" and attached.namespace == "azureml"


def test_the_app_listens_on_loopback_unless_told_otherwise(repo_root):
    config = tomllib.loads((repo_root / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    script = (repo_root / "scripts" / "studio.sh").read_text()
    assert script.count("0.0.0.0") == 1 and '"--network"' in script


def test_every_default_size_has_a_price_with_its_source():
    for size in ("Standard_DS3_v2", "Standard_NC4as_T4_v3"):
        note = specs.price_note(size)
        assert "per hour" in note and "varies by region" in note


def test_a_saved_model_registers_as_a_custom_model():
    folder = tiny_model(studio_home() / "models")
    model = load_model(source=yaml_stream(specs.model_asset(folder, "fridge")))
    assert (model.name, model.type) == ("fridge", "custom_model")
    assert model.tags["classes"] == "can carton milk_bottle water_bottle"  # fridge4's classes


@pytest.mark.parametrize(("kind", "compute"), [("managed", ""), ("kubernetes", "aks-cpu")])
def test_endpoint_and_deployment_load_back(kind, compute, code_dir):
    instance_type = "defaultinstancetype" if kind == "kubernetes" else "Standard_DS3_v2"
    plan = specs.DeploymentPlan("cvlib-groceries", kind=kind, compute=compute,
                                instance_type=instance_type, instance_count=2,
                                limits={"CVLIB_MAX_IMAGES": "16"})
    endpoint = load_online_endpoint(source=yaml_stream(specs.endpoint_for(plan)))
    assert (endpoint.name, endpoint.auth_mode) == ("cvlib-groceries", "key")
    deployment = load_online_deployment(source=yaml_stream(specs.deployment_for(
        plan, "azureml:groceries:1", specs.serving_environment(), code_dir)))
    assert deployment.type.lower() == kind and deployment.instance_count == 2
    assert deployment.code_configuration.scoring_script == "score.py"
    assert deployment.environment_variables == {"WORKER_COUNT": "2", "CVLIB_MAX_IMAGES": "16"}
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


def test_cluster_data_and_workspace_load_back(repo_root):
    cluster = load_compute(source=yaml_stream(specs.gpu_cluster(max_instances=3)))
    assert (cluster.min_instances, cluster.max_instances) == (0, 3)
    data = load_data(source=yaml_stream(specs.dataset_asset(repo_root / "sample_data" / "fridge4",
                                                            "fridge4")))
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
