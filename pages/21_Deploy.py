"""Page 21: serve a saved model locally, on a managed online endpoint, or on Kubernetes."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    connection_badge,
    model_folder,
    require_client,
    run_with_log,
    running_local_endpoints,
    show_yaml,
)
from ui.common import guarded, next_step, page_header

PAGE = "21"

page_header("21 Deploy", "Serving the model: locally, on a managed or a Kubernetes endpoint", "🚀")
connection_badge()

st.markdown("""
A **scoring script** (`score.py`) loads the model once (`init`) and answers each request
(`run`): the request carries base64 images, the answer gives each image's label and
probability. Azure ML runs it inside its **inference server**; so does the *local* endpoint
below, on this machine, which is how you test a deployment before paying for one.

- **Endpoint**: a stable HTTPS address with **keys** (sent as `Authorization: Bearer <key>`).
- **Deployment**: what answers behind it: model + code + environment + machines. An endpoint
  can hold several (blue/green) and split traffic between them.
- **Managed online endpoint**: Azure runs and patches the machines; it replaces the old
  ACI web services.
- **Kubernetes online endpoint**: runs on your own AKS cluster attached to the workspace; it
  replaces the old AKS web services.
- **Environment**: the software inside: the inference server, ONNX Runtime, Pillow and numpy,
  pinned, with no torch (the model is served as its ONNX export).
""")

folder = guarded(model_folder)(PAGE)
target = st.radio("Where to serve", ["Local (this machine)", "Managed online endpoint",
                                     "Kubernetes online endpoint"], key=f"{PAGE}:target",
                  horizontal=True)


def local_section(folder) -> None:
    """Start, watch and stop the local inference server."""
    from cvlib.serving import serving_env_ready, start_local_endpoint

    servers = running_local_endpoints()
    port = int(st.number_input("Port", 1024, 65535, 5001, key=f"{PAGE}:port"))
    if not serving_env_ready():
        st.caption("First start creates the serving environment (about 260 MB, half a minute).")
    if port in servers:
        server = servers[port]
        st.success(f"Serving {server.model_dir.name} at {server.scoring_uri}")
        if st.button("Stop", key=f"{PAGE}:stop"):
            server.stop()
            servers.pop(port)
            st.rerun()
        with st.expander("Server log"):
            st.code(server.logs())
    elif folder is not None and st.button("Start local endpoint", key=f"{PAGE}:start",
                                          type="primary"):
        server = run_with_log("Starting the local endpoint",
                              lambda log: start_local_endpoint(folder, port=port, log=log))
        if server is not None:
            servers[port] = server
            st.rerun()


def azure_section(folder, kind: str) -> None:
    """Show the endpoint and deployment specs, then create, scale or delete them."""
    from cvlib.azure import specs
    from cvlib.azure.deploy import COST_NOTE

    cols = st.columns(3)
    endpoint = cols[0].text_input("Endpoint name", "cvlib-classifier", key=f"{PAGE}:ep")
    default_type = "Standard_DS3_v2" if kind == "managed" else "defaultinstancetype"
    instance_type = cols[1].text_input("Instance type", default_type, key=f"{PAGE}:it")
    count = int(cols[2].number_input("Instances", 1, 20, 1, key=f"{PAGE}:n"))
    compute = (st.text_input("Attached AKS compute name", "aks-cluster", key=f"{PAGE}:aks")
               if kind == "kubernetes" else "")
    model_name = st.text_input("Registered model name", "cvlib-classifier", key=f"{PAGE}:mn")
    plan = specs.DeploymentPlan(endpoint, kind, instance_type=instance_type,
                                instance_count=count, compute=compute)
    st.info(COST_NOTE)
    show_yaml("Endpoint", specs.endpoint_for(plan))
    show_yaml("Model", specs.model_asset(folder, model_name))
    show_yaml("Environment", specs.serving_environment())
    show_yaml("Deployment", specs.deployment_for(plan, f"azureml:{model_name}:<version>",
                                                 "azureml:cvlib-serving:<version>",
                                                 Path("<code folder>")))
    client = require_client()
    if client is None:
        return
    from cvlib.azure import deploy

    if st.button("Deploy", key=f"{PAGE}:deploy", type="primary"):
        info = run_with_log("Deploying (often 10 minutes or more)",
                            lambda log: deploy.deploy(client, plan, folder, model_name, log))
        if info:
            st.success(f"Scoring URI: {info.scoring_uri} (traffic {info.traffic})")
    cols = st.columns(3)
    if cols[0].button("Show deployment logs", key=f"{PAGE}:logs"):
        st.code(deploy.deployment_logs(client, endpoint, plan.deployment))
    if cols[1].button(f"Scale to {count} instance(s)", key=f"{PAGE}:scale"):
        run_with_log("Scaling", lambda log: deploy.scale(client, endpoint, plan.deployment,
                                                         count))
    if cols[2].button("Delete endpoint", key=f"{PAGE}:delete"):
        run_with_log("Deleting", lambda log: deploy.delete_endpoint(client, endpoint))


if target.startswith("Local"):
    guarded(local_section)(folder)
elif folder is not None:
    guarded(azure_section)(folder, "managed" if target.startswith("Managed") else "kubernetes")

next_step("pages/21_Deploy.py", [
    "Start the local endpoint, then test it on page 23 exactly as you would test Azure.",
    "Compare the managed and Kubernetes YAML: only the endpoint type and compute differ.",
])
