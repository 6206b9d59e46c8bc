"""Blue/green on an online endpoint, for real: no outage, a new model tested before it serves.

Issue 14 item 4: every redeploy used to send a fresh endpoint object (empty traffic), which
dropped every deployment to 0% for the whole redeploy, and always named the deployment
``blue``.  These tests run the studio's deploy code against an in-memory workspace that keeps
Azure's rule (an endpoint sent again replaces its traffic).
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from azure.ai.ml import load_online_deployment
from azure.ai.ml.entities import AmlCompute, KubernetesCompute

from cvlib.azure import deploy, specs
from cvlib.azure.connect import AzureError
from cvlib.azure.jobs import check_quota, ensure_cluster
from cvlib.azure.service_test import DEPLOYMENT_HEADER, check_service
from cvlib.errors import StudioError
from cvlib.storage.home import studio_home
from tests.azure_helpers import FakeWorkspace, tiny_model

ENDPOINT = "cvlib-fridge-1a2b3c"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    folder = tiny_model(studio_home() / "models")
    (folder / "model.onnx").write_bytes(b"uploaded, never run here")
    return folder


def quiet(_: str) -> None:
    """A log that prints nothing."""


def deployed(ws: FakeWorkspace, model_dir: Path, name: str) -> deploy.EndpointInfo:
    return deploy.deploy(ws, specs.DeploymentPlan(ENDPOINT, deployment=name), model_dir,
                         "fridge", log=quiet)


def test_the_first_deployment_creates_the_endpoint_and_takes_all_traffic(model_dir):
    ws = FakeWorkspace()
    info = deployed(ws, model_dir, "blue")
    assert info.traffic == {"blue": 100}
    assert [name for name, _ in ws.traffic_history] == [ENDPOINT, ENDPOINT]


def test_a_redeploy_never_drops_the_live_deployment_and_starts_the_new_one_at_zero(model_dir):
    ws = FakeWorkspace()
    deployed(ws, model_dir, "blue")
    before = len(ws.traffic_history)
    info = deployed(ws, model_dir, "green")
    assert info.traffic == {"blue": 100}
    assert ws.traffic_history[before:] == [], "the endpoint was sent again"
    assert ("cvlib-fridge-1a2b3c", "green") in ws.deployments


def test_replacing_the_deployment_that_serves_is_refused_with_the_next_name(model_dir):
    ws = FakeWorkspace()
    deployed(ws, model_dir, "blue")
    with pytest.raises(StudioError, match="as green instead"):
        deployed(ws, model_dir, "blue")


def test_traffic_moves_in_steps_and_rolls_back_in_one_call(model_dir):
    ws = FakeWorkspace()
    deployed(ws, model_dir, "blue")
    deployed(ws, model_dir, "green")
    steps = [deploy.shift_traffic(ws, ENDPOINT, "green", p) for p in deploy.TRAFFIC_STEPS]
    assert steps == [{"green": 10, "blue": 90}, {"green": 50, "blue": 50},
                     {"green": 100, "blue": 0}]
    assert deploy.rollback(ws, ENDPOINT, "blue") == {"blue": 100, "green": 0}
    assert all(sum(t.values()) == 100 for _, t in ws.traffic_history[1:])


def test_the_next_name_is_the_colour_without_traffic():
    assert deploy.next_deployment_name({}, []) == "blue"
    assert deploy.next_deployment_name({"blue": 100}, ["blue"]) == "green"
    assert deploy.next_deployment_name({"blue": 0, "green": 100}, ["blue", "green"]) == "blue"
    with pytest.raises(StudioError, match="send 100% to one"):
        deploy.next_deployment_name({"blue": 50, "green": 50}, ["blue", "green"])


def test_a_deployment_that_serves_cannot_be_deleted_one_at_zero_can(model_dir):
    ws = FakeWorkspace()
    deployed(ws, model_dir, "blue")
    deployed(ws, model_dir, "green")
    with pytest.raises(StudioError, match="still serves 100%"):
        deploy.delete_deployment(ws, ENDPOINT, "blue")
    deploy.delete_deployment(ws, ENDPOINT, "green")
    assert deploy.deployment_names(ws, ENDPOINT) == ["blue"]
    deploy.delete_endpoint(ws, ENDPOINT)
    assert ws.endpoints == {}


def test_an_attached_kubernetes_cluster_is_detached_a_cluster_deleted():
    ws = FakeWorkspace()
    ws.computes["gpu-cluster"] = AmlCompute(name="gpu-cluster", size="Standard_NC4as_T4_v3")
    ws.computes["aks"] = KubernetesCompute(name="aks", resource_id="/subscriptions/s/x")
    deploy.delete_compute(ws, "gpu-cluster")
    deploy.delete_compute(ws, "aks")
    assert ws.compute_actions == [("gpu-cluster", "Delete"), ("aks", "Detach")]


def test_a_size_without_quota_is_refused_before_anything_is_created():
    ws = FakeWorkspace()
    ws.quota["standardNCASv3_T4Family"] = 0
    with pytest.raises(AzureError, match="Quotas > Machine learning") as error:
        ensure_cluster(ws, specs.gpu_cluster(), "westeurope", log=quiet)
    assert "needs 4 vCPUs" in str(error.value) and "0 free" in str(error.value)
    assert ws.computes == {}
    ws.quota["standardNCASv3_T4Family"] = 8
    assert "4 vCPUs needed, 8 of 8 free" in check_quota(ws, "Standard_NC4as_T4_v3", 1,
                                                         "westeurope")


def test_each_deployment_runs_one_worker_per_concurrent_request_and_logs_to_insights(tmp_path):
    plan = specs.DeploymentPlan(ENDPOINT, deployment="green")
    loaded = load_online_deployment(source=__import__("io").StringIO(specs.to_yaml(
        specs.deployment_for(plan, "azureml:m:1", "azureml:e:1", tmp_path))))
    workers = int(loaded.environment_variables["WORKER_COUNT"])
    assert workers == loaded.request_settings.max_concurrent_requests_per_instance == 2
    assert loaded.app_insights_enabled is True and loaded.name == "green"


def test_a_kubernetes_deployment_refuses_a_vm_size():
    with pytest.raises(StudioError, match="instance type defined on the cluster"):
        specs.DeploymentPlan(ENDPOINT, "kubernetes", instance_type="Standard_DS3_v2",
                             compute="aks")


def test_suggested_endpoint_names_are_valid_and_do_not_collide():
    names = {specs.suggest_endpoint_name("cvlib-fridge4-efficientnet_lite0-quick-20261202")
             for _ in range(20)}
    assert len(names) == 20
    assert all(len(n) <= 32 and specs.check_endpoint_name(n) for n in names)
    assert "cvlib-classifier" not in names


class Recorder(http.server.BaseHTTPRequestHandler):
    """A scoring service on loopback that answers every image and remembers the headers."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        answer = json.dumps({"predictions": [{"label": "can"} for _ in body["data"]]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args) -> None:
        """Quiet."""


def test_a_new_deployment_is_tested_through_the_header_on_every_request(repo_root):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    photos = sorted((repo_root / "sample_data" / "fridge4" / "can").iterdir())[:3]
    try:
        report = check_service(f"http://127.0.0.1:{server.server_port}/score", photos,
                               ["can"] * 3, key="k", n_requests=5, deployment="green")
    finally:
        server.shutdown()
    assert report.agreement == 1.0 and not report.errors
    assert len(Recorder.seen) == 6
    assert {h[DEPLOYMENT_HEADER] for h in Recorder.seen} == {"green"}
    assert {h["authorization"] for h in Recorder.seen} == {"Bearer k"}
