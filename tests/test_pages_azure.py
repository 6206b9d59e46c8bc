"""Pages 20, 21, 23 and 24 work without a subscription, up to the first call to Azure.

Each page explains its concepts, shows as YAML what it would create, and, where Azure is
needed, points to page 20 instead of failing.  No credential is ever created here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


def run_page(name: str) -> AppTest:
    """Open a page from the home page, as a visitor would (page links resolve from there)."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.switch_page(f"pages/{name}")
    return app.run()


def yaml_blocks(app: AppTest) -> list[str]:
    """The YAML shown on the page."""
    return [code.value for code in app.code if code.language == "yaml"]


def assert_no_error(app: AppTest) -> None:
    """The page ran to the end without an exception or an error box."""
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]


def test_workspace_page_explains_and_shows_the_workspace_yaml():
    app = run_page("20_Azure_workspace.py")
    assert_no_error(app)
    assert "DefaultAzureCredential" in app.markdown[0].value + app.markdown[1].value
    app.text_input(key="20:sub").input("00000000-0000-0000-0000-000000000000")
    app.text_input(key="20:rg").input("rg-studio")
    app.text_input(key="20:ws").input("ws-studio").run()
    assert_no_error(app)
    (yaml,) = yaml_blocks(app)
    assert "name: ws-studio" in yaml and "location: westeurope" in yaml


def test_deploy_page_shows_all_specs_then_asks_for_a_workspace(trained_model_dir):
    app = run_page("21_Deploy.py")
    app.text_input(key="21:model").input(str(trained_model_dir))
    app.radio(key="21:target").set_value("Managed online endpoint").run()
    assert_no_error(app)
    blocks = yaml_blocks(app)
    assert len(blocks) == 4
    assert any("type: custom_model" in b for b in blocks)
    assert any("scoring_script: score.py" in b for b in blocks)
    assert any("connect to a workspace on page 20" in i.value for i in app.info)
    assert "21:deploy" not in _button_keys(app)


def _button_keys(app: AppTest) -> set[str]:
    """Keys of the buttons drawn on the page."""
    return {b.key for b in app.button}


def test_kubernetes_deploy_names_the_attached_compute(trained_model_dir):
    app = run_page("21_Deploy.py")
    app.text_input(key="21:model").input(str(trained_model_dir))
    app.radio(key="21:target").set_value("Kubernetes online endpoint").run()
    assert_no_error(app)
    assert any("compute: azureml:aks-cluster" in b or "compute: aks-cluster" in b
               for b in yaml_blocks(app))
    assert "21:deploy" not in _button_keys(app)


def test_deploy_page_offers_the_local_endpoint_without_azure(trained_model_dir):
    app = run_page("21_Deploy.py")
    app.text_input(key="21:model").input(str(trained_model_dir)).run()
    assert_no_error(app)
    assert "21:start" in _button_keys(app)


def test_service_test_page_needs_no_azure_for_a_uri(trained_model_dir):
    app = run_page("23_Test_a_service.py")
    app.selectbox(key="23:target").set_value("Any URI")
    app.text_input(key="23:model").input(str(trained_model_dir)).run()
    assert_no_error(app)
    assert "23:run" in _button_keys(app)
    app.selectbox(key="23:target").set_value("Azure endpoint").run()
    assert_no_error(app)
    assert any("page 20" in i.value for i in app.info)


def test_sweep_page_shows_cluster_data_and_sweep_yaml():
    app = run_page("24_Cloud_sweep.py")
    assert_no_error(app)
    blocks = yaml_blocks(app)
    assert len(blocks) == 3
    assert any("type: sweep" in b and "type: bandit" in b for b in blocks)
    assert any("min_instances: 0" in b for b in blocks)
    assert "24:submit" not in _button_keys(app)
    app.selectbox(key="24:samp").set_value("bayesian").run()
    assert_no_error(app)
    assert not any("type: bandit" in b for b in yaml_blocks(app))


@pytest.mark.parametrize("page", ["20_Azure_workspace.py", "21_Deploy.py",
                                  "23_Test_a_service.py", "24_Cloud_sweep.py"])
def test_pages_start_without_torch_or_the_azure_sdk(page):
    code = (REPO / "pages" / page).read_text()
    top = code.split("\ndef ", 1)[0]
    assert "import torch" not in code and "azure.ai.ml" not in top
