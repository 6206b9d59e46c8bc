"""Page 21: serve a saved model locally, on a managed online endpoint, or on Kubernetes."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    SAMPLE_PHOTOS,
    action_result,
    action_running,
    client,
    confirm_delete,
    connection_badge,
    model_folder,
    require_client,
    running_local_endpoints,
    show_yaml,
    start_action,
)
from ui.common import guarded, next_step, page_header

PAGE = "21"
#: The background jobs of this page: starting the local server, and the Azure actions (one
#: at a time: a deployment, a scale, a traffic shift or a delete; their buttons wait).
LOCAL_JOB, AZURE_JOB = f"{PAGE}:local", f"{PAGE}:azure"

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

**Blue/green, for real.** The first deployment of an endpoint (`blue`) takes all traffic. A new
model goes in *beside* it (`green`) at **0%** of the traffic; you test it through the
`azureml-model-deployment: green` request header, which reaches it whatever the split says;
then you move traffic in steps (10%, 50%, 100%) while watching it, and one click sends
everything back to `blue` if it misbehaves. Callers never see an outage or a new address.
""")

folder = guarded(model_folder)(PAGE)
target = st.radio("Where to serve", ["Local (this machine)", "Managed online endpoint",
                                     "Kubernetes online endpoint"], key=f"{PAGE}:target",
                  horizontal=True)


def local_section(folder) -> None:
    """Start, watch and stop the local inference server."""
    from cvlib.serving.server import serving_env_ready, start_local_endpoint

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
        return
    action_result(LOCAL_JOB, context=(str(folder), port))
    if folder is not None and st.button("Start local endpoint", key=f"{PAGE}:start",
                                        type="primary", disabled=action_running(LOCAL_JOB)):
        def start(log) -> str:
            servers[port] = start_local_endpoint(folder, port=port, log=log)
            return servers[port].scoring_uri

        start_action(LOCAL_JOB, "Starting the local endpoint", start, context=(str(folder), port))


def endpoint_name_default(folder: Path) -> str:
    """A unique endpoint name, suggested once per session (names are global per region)."""
    from cvlib.azure.specs import suggest_endpoint_name

    if f"{PAGE}:ep" not in st.session_state:
        st.session_state[f"{PAGE}:ep"] = suggest_endpoint_name(f"cvlib-{folder.name}")
    return st.session_state[f"{PAGE}:ep"]


def suggested_deployment(endpoint: str) -> str:
    """``blue`` for a new endpoint; on a live one, the colour that takes no traffic."""
    from azure.core.exceptions import ResourceNotFoundError

    from cvlib.azure.deploy import deployment_names, endpoint_info, next_deployment_name

    ml = client()
    if ml is None:
        return "blue"
    try:
        traffic = endpoint_info(ml, endpoint).traffic
    except ResourceNotFoundError:
        return "blue"
    return next_deployment_name(traffic, deployment_names(ml, endpoint))


def azure_section(folder: Path, kind: str) -> None:
    """Show the endpoint and deployment specs, then deploy blue/green, shift, clean up.

    Managed and Kubernetes settings keep separate widget keys: a VM size typed for a
    managed endpoint must never reach a Kubernetes deployment, which names a cluster
    instance type instead.
    """
    from cvlib.azure import specs
    from cvlib.azure.deploy import COST_NOTE

    endpoint_name_default(folder)
    cols = st.columns(4)
    endpoint = cols[0].text_input("Endpoint name", key=f"{PAGE}:ep",
                                  help="Part of a public URL, unique in the Azure region: "
                                       "the suggestion ends with a random suffix")
    if st.session_state.get(f"{PAGE}:{kind}:dep-for") != endpoint:
        st.session_state[f"{PAGE}:{kind}:dep"] = suggested_deployment(endpoint)
        st.session_state[f"{PAGE}:{kind}:dep-for"] = endpoint
    deployment = cols[1].text_input("Deployment name", key=f"{PAGE}:{kind}:dep",
                                    help="blue for the first one; the next model goes in "
                                         "as green beside it")
    default_type = "Standard_DS3_v2" if kind == "managed" else "defaultinstancetype"
    instance_type = cols[2].text_input("VM size" if kind == "managed" else "Instance type",
                                       default_type, key=f"{PAGE}:{kind}:it")
    count = int(cols[3].number_input("Instances", 1, 20, 1, key=f"{PAGE}:{kind}:n"))
    compute = (st.text_input("Attached AKS compute name", "aks-cluster", key=f"{PAGE}:aks")
               if kind == "kubernetes" else "")
    model_name = st.text_input("Registered model name", folder.name[:200] or "cvlib-model",
                               key=f"{PAGE}:mn")
    insights = st.checkbox("Send request logs to the workspace's Application Insights",
                           value=True, key=f"{PAGE}:{kind}:insights",
                           help="Latency, failures and each request's log in Azure Monitor")
    plan = specs.DeploymentPlan(endpoint, kind, deployment=deployment,
                                instance_type=instance_type, instance_count=count,
                                compute=compute, app_insights=insights)
    if kind == "managed":
        st.info(f"{specs.price_note(instance_type, count)} {COST_NOTE}")
    else:
        st.info(COST_NOTE)
    show_yaml("Endpoint", specs.endpoint_for(plan))
    show_yaml("Model", specs.model_asset(folder, model_name))
    show_yaml("Environment", specs.serving_environment())
    show_yaml("Deployment", specs.deployment_for(plan, f"azureml:{model_name}:<version>",
                                                 "azureml:cvlib-serving:<version>",
                                                 Path("<code folder>")))
    ml = require_client()
    if ml is None:
        return
    from cvlib.azure import deploy

    location = (st.session_state.get("azure:workspace") or {}).get("location", "")
    busy = action_running(AZURE_JOB)
    if st.button(f"Deploy as {deployment}", key=f"{PAGE}:deploy", type="primary",
                 disabled=busy):
        def run(log) -> str:
            info = deploy.deploy(ml, plan, folder, model_name, log, location)
            return f"Scoring URI: {info.scoring_uri} (traffic {info.traffic})"

        start_action(AZURE_JOB, f"Deploying {deployment} (often 10 minutes or more)", run,
                     context=endpoint)
    done = action_result(AZURE_JOB, context=endpoint)
    if done:
        st.success(done)
    guarded(traffic_section)(ml, endpoint, busy)
    cols = st.columns(2)
    if cols[0].button("Show deployment logs", key=f"{PAGE}:logs"):
        st.code(deploy.deployment_logs(ml, endpoint, plan.deployment))
    if cols[1].button(f"Scale {deployment} to {count} instance(s)", key=f"{PAGE}:scale",
                      disabled=busy):
        def rescale(log) -> str:
            deploy.scale(ml, endpoint, plan.deployment, count, log)
            return f"{deployment} runs on {count} instance(s)"

        start_action(AZURE_JOB, f"Scaling {deployment}", rescale, context=endpoint)


def traffic_section(ml, endpoint: str, busy: bool) -> None:
    """The endpoint's deployments: test one by header, shift traffic in steps, roll back.

    While another action on the endpoint runs (``busy``), its buttons wait: Azure refuses a
    second change to an endpoint that is still updating.
    """
    from azure.core.exceptions import ResourceNotFoundError

    from cvlib.azure import deploy

    try:
        info = deploy.endpoint_info(ml, endpoint)
    except ResourceNotFoundError:
        st.caption(f"Endpoint {endpoint} does not exist yet: Deploy creates it.")
        return
    names = deploy.deployment_names(ml, endpoint)
    traffic = {name: info.traffic.get(name, 0) for name in names}
    st.subheader(f"Traffic on {endpoint}")
    st.dataframe([{"deployment": n, "traffic %": t} for n, t in traffic.items()],
                 hide_index=True)
    for name in names:
        cols = st.columns(len(deploy.TRAFFIC_STEPS) + 2)
        cols[0].markdown(f"**{name}**")
        if cols[1].button(f"Test {name}", key=f"{PAGE}:test:{name}",
                          help="Sends sample photos with the azureml-model-deployment header"):
            test_deployment(ml, endpoint, info.scoring_uri, name)
        steps = deploy.TRAFFIC_STEPS if len(names) > 1 else ()
        for col, step in zip(cols[2:], steps, strict=False):
            if step == 100 and traffic[name] < 100 and any(traffic.values()):
                label = f"All traffic to {name}" if traffic[name] else f"Roll back to {name}"
            else:
                label = f"{step}% to {name}"
            if col.button(label, key=f"{PAGE}:shift:{name}:{step}",
                          disabled=busy or traffic[name] == step):
                def shift(log, to=name, percent=step) -> str:
                    split = deploy.shift_traffic(ml, endpoint, to, percent, log)
                    return "Traffic now: " + ", ".join(f"{d} {t}%" for d, t in split.items())

                start_action(AZURE_JOB, f"Shifting traffic: {step}% to {name}", shift,
                             context=endpoint)
        if traffic[name] == 0 and confirm_delete(PAGE, "deployment", name, busy):
            def remove(log, gone=name) -> str:
                deploy.delete_deployment(ml, endpoint, gone, log)
                return f"Deleted deployment {gone}"

            start_action(AZURE_JOB, f"Deleting {name}", remove, context=endpoint)
    st.caption("Clean up: deleting the endpoint deletes its deployments and stops their bill.")
    if confirm_delete(PAGE, "endpoint", endpoint, busy):
        def remove_endpoint(log) -> str:
            deploy.delete_endpoint(ml, endpoint, log)
            return f"Deleted endpoint {endpoint} and its deployments"

        start_action(AZURE_JOB, f"Deleting {endpoint}", remove_endpoint, context=endpoint)


def test_deployment(ml, endpoint: str, uri: str, name: str) -> None:
    """A few sample photos sent to one deployment through the header; the answers shown."""
    from cvlib.azure.deploy import endpoint_key
    from cvlib.azure.service_test import score_images
    from cvlib.data.images import is_image_name

    photos = sorted(p for p in SAMPLE_PHOTOS.rglob("*") if is_image_name(p))[:8]
    answers, errors = score_images(uri, photos, endpoint_key(ml, endpoint), deployment=name)
    st.dataframe([{"photo": p.name, "answer": a.get("label", a.get("error"))}
                  for p, a in zip(photos, answers, strict=True)], hide_index=True)
    if errors:
        st.error("\n".join(errors[:10]))
    else:
        st.success(f"{name} answered all {len(photos)} photos (header "
                   f"azureml-model-deployment: {name}); page 23 compares it with the app.")


if target.startswith("Local"):
    guarded(local_section)(folder)
elif folder is not None:
    guarded(azure_section)(folder, "managed" if target.startswith("Managed") else "kubernetes")

next_step("pages/21_Deploy.py", [
    "Start the local endpoint, then test it on page 23 exactly as you would test Azure.",
    "Compare the managed and Kubernetes YAML: only the endpoint type and compute differ.",
])
