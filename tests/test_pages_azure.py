"""Pages 20, 21, 23 and 24: without a subscription up to the first call, and connected.

Each page explains its concepts, shows as YAML what it would create, and, where Azure is
needed, points to page 20 instead of failing.  Connected cases use the in-memory workspace
of ``tests/azure_helpers.py`` (Azure's network is the only stand-in); no credential is ever
asked for a token.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import streamlit.config
from streamlit.testing.v1 import AppTest

from cvlib.serving.server import LocalEndpoint
from cvlib.storage.home import studio_home
from tests.apptest_helpers import run_until
from tests.azure_helpers import FakeWorkspace, OfflineCredential, tiny_model

REPO = Path(__file__).resolve().parent.parent
AZURE_PAGES = ["20_Azure_workspace.py", "21_Deploy.py", "23_Test_a_service.py",
               "24_Cloud_sweep.py"]


@pytest.fixture(autouse=True, scope="module")
def own_studio_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """These pages list the studio's models: only this module's, whatever ran before it."""
    with mock.patch.dict(os.environ, {"CVLIB_HOME": str(tmp_path_factory.mktemp("azure-home"))}):
        yield studio_home()


@pytest.fixture(scope="module")
def model_dir(own_studio_home: Path) -> Path:
    return tiny_model(own_studio_home / "models")


@pytest.fixture(scope="module")
def other_model(model_dir: Path) -> Path:
    """The same weights declared with other classes: a model of another dataset."""
    folder = model_dir.with_name("other-classes")
    if not folder.exists():
        shutil.copytree(model_dir, folder)
        meta = json.loads((folder / "model.json").read_text())
        meta["classes"] = ["apple", "pear", "plum", "fig"]
        (folder / "model.json").write_text(json.dumps(meta))
    return folder


def run_page(name: str, client=None, details=None) -> AppTest:
    """Open a page from the home page, as a visitor would (page links resolve from there)."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    if client is not None:
        app.session_state["azure:client"] = client
        app.session_state["azure:workspace"] = details or {"name": "ws",
                                                           "location": "westeurope"}
    app.switch_page(f"pages/{name}")
    return app.run()


def yaml_blocks(app: AppTest) -> list[str]:
    """The YAML shown on the page."""
    return [code.value for code in app.code if code.language == "yaml"]


def assert_no_error(app: AppTest) -> None:
    """The page ran to the end without an exception or an error box."""
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]


def button_keys(app: AppTest) -> set[str]:
    """Keys of the buttons drawn on the page."""
    return {b.key for b in app.button}


def markdown_text(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


@pytest.mark.parametrize("page", AZURE_PAGES)
def test_each_azure_page_sets_its_tab_title_and_keeps_the_session_id(page):
    from ui.common import available_pages

    titles = {Path(file).name: title for file, title, _ in available_pages()}
    assert titles[page].startswith(f"{page[:2]} ")  # the frame's st.Page title: the tab's
    app = run_page(page)
    assert_no_error(app)
    assert app.query_params.get("sid")


def test_workspace_page_explains_and_shows_the_workspace_yaml():
    app = run_page("20_Azure_workspace.py")
    assert_no_error(app)
    assert "DefaultAzureCredential" in markdown_text(app)
    assert "Open the YAML above" not in markdown_text(app)
    app.text_input(key="20:sub").input("00000000-0000-0000-0000-000000000000")
    app.text_input(key="20:rg").input("rg-studio")
    app.text_input(key="20:ws").input("ws-studio").run()
    assert_no_error(app)
    (yaml,) = yaml_blocks(app)
    assert "name: ws-studio" in yaml and "location: westeurope" in yaml
    assert "Open the YAML above" in markdown_text(app)


def test_a_failed_connect_says_why_in_plain_sight():
    app = run_page("20_Azure_workspace.py")
    app.text_input(key="20:sub").input("00000000-0000-0000-0000-000000000000")
    app.text_input(key="20:rg").input("rg")
    app.text_input(key="20:ws").input("ws").run()
    with mock.patch("cvlib.azure.connect.make_credential", return_value=OfflineCredential()):
        app.button(key="20:connect").click().run()
    assert not app.exception
    (error,) = [e.value for e in app.error]
    assert "could not sign in" in error and "az login" in error
    inside = [e.value for box in app.expander for e in box.get("error")]
    assert error not in inside
    assert "azure:client" not in app.session_state


def test_the_page_warns_who_can_act_as_you_when_the_app_listens_on_a_network():
    assert "only you can act" in "\n".join(c.value for c in run_page(
        "20_Azure_workspace.py").caption)
    previous = streamlit.config.get_option("server.address")
    streamlit.config.set_option("server.address", "0.0.0.0")
    try:
        app = run_page("20_Azure_workspace.py")
    finally:
        streamlit.config.set_option("server.address", previous)
    assert any("anyone who can reach its port" in w.value for w in app.warning)


def test_deploy_page_picks_the_model_from_a_list_and_shows_all_specs(model_dir):
    app = run_page("21_Deploy.py")
    picker = app.selectbox(key="21:model")
    assert picker.value == str(model_dir)
    (shown,) = picker.options  # the studio's one model list: name, classes, when saved
    assert shown.startswith("fridge4-tiny · 4 classes (can, carton, milk_bottle, water_bottle)")
    app.radio(key="21:target").set_value("Managed online endpoint").run()
    assert_no_error(app)
    blocks = yaml_blocks(app)
    assert len(blocks) == 4
    assert any("type: custom_model" in b for b in blocks)
    assert any("app_insights_enabled: true" in b for b in blocks)
    name = app.text_input(key="21:ep").value
    assert name != "cvlib-classifier" and len(name) <= 32
    assert any("connect to a workspace on page 20" in i.value for i in app.info)
    assert "21:deploy" not in button_keys(app)


def test_switching_to_kubernetes_never_carries_the_managed_vm_size(model_dir):
    app = run_page("21_Deploy.py")
    app.radio(key="21:target").set_value("Managed online endpoint").run()
    app.text_input(key="21:managed:it").input("Standard_F4s_v2").run()
    app.radio(key="21:target").set_value("Kubernetes online endpoint").run()
    assert_no_error(app)
    (deployment,) = [b for b in yaml_blocks(app) if "type: kubernetes" in b
                     and "instance_type" in b]
    assert "instance_type: defaultinstancetype" in deployment
    assert "Standard_" not in deployment
    assert any("compute: azureml:aks-cluster" in b or "compute: aks-cluster" in b
               for b in yaml_blocks(app))


def test_deploy_page_offers_the_local_endpoint_without_azure(model_dir):
    app = run_page("21_Deploy.py")
    assert_no_error(app)
    assert "21:start" in button_keys(app)


def connected_blue_green(model_dir: Path) -> tuple[FakeWorkspace, str]:
    """A workspace whose endpoint serves blue at 100% with green beside it at 0%."""
    from cvlib.azure import deploy, specs

    ws = FakeWorkspace()
    endpoint = "cvlib-fridge-abc123"
    (model_dir / "model.onnx").write_bytes(b"uploaded, never run here")
    for name in ("blue", "green"):
        deploy.deploy(ws, specs.DeploymentPlan(endpoint, deployment=name), model_dir,
                      "fridge", log=lambda _: None)
    (model_dir / "model.onnx").unlink()
    return ws, endpoint


@pytest.fixture
def onnx_placeholder(model_dir: Path) -> Iterator[None]:
    """A model.onnx for the deployment to upload (the fake workspace never runs it)."""
    (model_dir / "model.onnx").write_bytes(b"uploaded, never run here")
    yield
    (model_dir / "model.onnx").unlink()


def managed_endpoint_page(ws: FakeWorkspace, endpoint: str) -> AppTest:
    """Page 21 connected, on a managed endpoint of that name."""
    app = run_page("21_Deploy.py", ws)
    app.radio(key="21:target").set_value("Managed online endpoint").run()
    return app.text_input(key="21:ep").input(endpoint).run()


def test_connected_deploy_page_shifts_traffic_in_steps_and_rolls_back(model_dir):
    ws, endpoint = connected_blue_green(model_dir)
    app = managed_endpoint_page(ws, endpoint)
    assert_no_error(app)
    assert app.text_input(key="21:managed:dep").value == "green"
    assert app.button(key="21:deploy").label == "Deploy as green"
    labels = {b.key: b.label for b in app.button}
    assert labels["21:shift:green:10"] == "10% to green"
    app.button(key="21:shift:green:10").click().run()
    run_until(app, lambda a: any("Traffic now: green 10%, blue 90%" in s.value
                                 for s in a.success), timeout=60)
    assert ws.endpoints[endpoint].traffic == {"green": 10, "blue": 90}
    assert {b.key: b.label for b in app.button}["21:shift:blue:100"] == "All traffic to blue"
    app.button(key="21:shift:blue:100").click().run()
    run_until(app, lambda a: ws.endpoints[endpoint].traffic == {"blue": 100, "green": 0},
              timeout=60)


def stop_button(app: AppTest):
    """The Stop of the job running on the page, if one runs."""
    return next((b for b in app.button if b.label == "⏹ Stop"), None)


def test_a_deployment_runs_in_the_background_and_says_where_it_is(model_dir,
                                                                   onnx_placeholder):
    ws, endpoint = connected_blue_green(model_dir)
    app = managed_endpoint_page(ws, endpoint)
    app.button(key="21:deploy").click().run()
    run_until(app, lambda a: any("Scoring URI: https://" in s.value for s in a.success),
              timeout=60)
    assert_no_error(app)
    captions = " ".join(c.value for c in app.caption)
    assert "green is live at 0% of traffic" in captions
    assert ws.endpoints[endpoint].traffic == {"blue": 100}
    app.text_input(key="21:ep").input("cvlib-another-endpoint").run()
    assert not any("Scoring URI" in s.value for s in app.success)  # it was another endpoint's


def test_stop_leaves_a_long_deployment_to_azure_and_says_so(model_dir, onnx_placeholder):
    ws, endpoint = connected_blue_green(model_dir)
    ws.deployment_seconds = 120
    with mock.patch("cvlib.azure.operations.REPORT_EVERY", 0.2):
        app = managed_endpoint_page(ws, endpoint)
        app.button(key="21:deploy").click().run()
        run_until(app, lambda a: any("still running" in c.value for c in a.caption),
                  timeout=60)
        assert app.button(key="21:deploy").disabled
        assert app.button(key="21:shift:green:10").disabled
        stop_button(app).click().run()
        run_until(app, lambda a: any("Stopped waiting" in w.value for w in a.warning),
                  timeout=10)
    assert stop_button(app) is None
    assert not app.button(key="21:deploy").disabled
    assert ws.endpoints[endpoint].traffic == {"blue": 100}


def test_deleting_an_endpoint_needs_a_confirmation(model_dir):
    ws, endpoint = connected_blue_green(model_dir)
    app = managed_endpoint_page(ws, endpoint)
    delete = app.button(key=f"21:del:endpoint:{endpoint}")
    assert delete.disabled
    app.checkbox(key=f"21:sure:endpoint:{endpoint}").check().run()
    app.button(key=f"21:del:endpoint:{endpoint}").click().run()
    assert endpoint not in ws.endpoints


@pytest.fixture
def local_endpoint(model_dir: Path, tmp_path: Path):
    """A running process registered as page 21 registers a local endpoint it started."""
    from ui.azure import local_endpoints

    process = subprocess.Popen(["sleep", "120"], start_new_session=True)
    endpoint = LocalEndpoint(process, "127.0.0.1", 5999, tmp_path / "log", tmp_path, model_dir)
    local_endpoints()[5999] = endpoint
    yield endpoint
    endpoint.stop()
    local_endpoints().pop(5999, None)


def test_service_test_defaults_to_the_served_model_and_warns_when_classes_differ(
        local_endpoint, other_model, model_dir):
    app = run_page("23_Test_a_service.py")
    assert_no_error(app)
    assert app.selectbox(key="23:target").value == "Local endpoint :5999"
    assert app.selectbox(key="23:model").value == str(model_dir)
    app.selectbox(key="23:model").set_value(str(other_model)).run()
    assert any("agreement will be meaningless" in w.value for w in app.warning)


def test_service_test_page_needs_no_azure_for_a_uri(model_dir):
    app = run_page("23_Test_a_service.py")
    app.selectbox(key="23:target").set_value("Any URI").run()
    assert_no_error(app)
    assert "23:run" in button_keys(app)
    assert app.radio(key="tutorial:single-source").value == "Sample data"
    assert app.selectbox(key="tutorial:single-sample").value.startswith("Fridge objects")
    app.selectbox(key="23:target").set_value("Azure endpoint").run()
    assert_no_error(app)
    assert any("page 20" in i.value for i in app.info)


def test_connected_service_test_can_target_one_deployment(model_dir):
    ws, endpoint = connected_blue_green(model_dir)
    app = run_page("23_Test_a_service.py", ws)
    app.selectbox(key="23:target").set_value("Azure endpoint").run()
    assert_no_error(app)
    assert app.selectbox(key="23:ep").value == endpoint
    assert app.selectbox(key="23:dep").options[1:] == ["blue", "green"]


def test_sweep_page_shows_cluster_data_job_and_sweep_yaml():
    app = run_page("24_Cloud_sweep.py")
    assert_no_error(app)
    assert app.radio(key="tutorial:single-source").value == "Sample data"
    assert any("fridge4" in b for b in yaml_blocks(app))
    blocks = yaml_blocks(app)
    assert len(blocks) == 4
    assert any("type: sweep" in b and "type: bandit" in b for b in blocks)
    assert any("type: command" in b and "cvlib train" in b for b in blocks)
    assert any("min_instances: 0" in b for b in blocks)
    assert all("azure-code/training" in b for b in blocks if "type: command" in b)
    assert "between 0.001 and 0.01" in markdown_text(app)
    assert "24:submit" not in button_keys(app)
    app.selectbox(key="24:samp").set_value("bayesian").run()
    assert_no_error(app)
    assert not any("type: bandit" in b for b in yaml_blocks(app))
    assert not any("loguniform" in b for b in yaml_blocks(app))


@pytest.mark.parametrize("page", AZURE_PAGES)
def test_pages_start_without_torch_or_the_azure_sdk(page):
    code = (REPO / "pages" / page).read_text()
    top = code.split("\ndef ", 1)[0]
    assert "import torch" not in code and "azure.ai.ml" not in top
    assert "shared" not in code


class FixedAnswers(http.server.BaseHTTPRequestHandler):
    """A scoring service on loopback that answers every photo "milk_bottle", ``delay`` late."""

    delay = 0.0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.delay)
        answer = json.dumps({"predictions": [{"label": "milk_bottle", "probability": 0.9}
                                             for _ in body["data"]]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fixed_service() -> Iterator[tuple[str, type[FixedAnswers]]]:
    """The service's scoring URI and handler (whose ``delay`` a test may set)."""
    handler = type("Handler", (FixedAnswers,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/score", handler
    server.shutdown()
    server.server_close()


def service_page(uri: str, requests: int) -> AppTest:
    app = run_page("23_Test_a_service.py")
    app.selectbox(key="23:target").set_value("Any URI").run()
    app.text_input(key="23:uri").input(uri).run()
    app.number_input(key="23:n").set_value(requests).run()
    return app


def test_a_service_test_runs_in_the_background_and_reports_agreement_and_latency(
        model_dir, fixed_service):
    uri, _ = fixed_service
    app = service_page(uri, 20)
    app.button(key="23:run").click().run()
    run_until(app, lambda a: any(m.label == "Agreement with the app" for m in a.metric),
              timeout=120)
    assert_no_error(app)
    metrics = {m.label: m.value for m in app.metric}
    assert {"Latency p50", "Latency p95", "Latency p99"} <= set(metrics)
    assert metrics["Agreement with the app"].endswith("%")
    assert metrics["Agreement with the app"] != "100%"  # the service answers one class only


def test_stop_ends_a_service_test_between_requests(model_dir, fixed_service):
    uri, handler = fixed_service
    handler.delay = 0.2
    app = service_page(uri, 2000)
    app.button(key="23:run").click().run()
    run_until(app, lambda a: stop_button(a) is not None, timeout=60)
    assert app.button(key="23:run").disabled
    stop_button(app).click().run()
    run_until(app, lambda a: any("no report" in w.value for w in a.warning), timeout=30)
    assert not any(m.label == "Agreement with the app" for m in app.metric)


def test_a_cloud_job_is_started_in_the_background_and_then_followed():
    ws = FakeWorkspace()
    app = run_page("24_Cloud_sweep.py", ws)
    app.button(key="24:t:submit").click().run()
    run_until(app, lambda a: a.text_input(key="24:t:follow").value == "job-1", timeout=60)
    assert_no_error(app)
    assert "gpu-cluster" in ws.computes
    assert ws.data.versions == {"fridge4": 1}
    assert [job.type for job in ws.submitted] == ["command"]
    assert any("Submitted job-1" in c.value for c in app.caption)


def test_workspace_page_deletes_a_cluster_in_the_background_after_a_confirmation():
    from azure.ai.ml.entities import AmlCompute

    ws = FakeWorkspace()
    ws.computes["gpu-cluster"] = AmlCompute(name="gpu-cluster", size="Standard_NC4as_T4_v3")
    app = run_page("20_Azure_workspace.py", ws)
    assert app.button(key="20:del:compute:gpu-cluster").disabled
    app.checkbox(key="20:sure:compute:gpu-cluster").check().run()
    app.button(key="20:del:compute:gpu-cluster").click().run()
    run_until(app, lambda a: any(s.value == "gpu-cluster deleted" for s in a.success),
              timeout=60)
    assert_no_error(app)
    assert ws.compute_actions == [("gpu-cluster", "Delete")]
