"""Page 23: test a scoring service (local or Azure) against the app's own predictions."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    action_running,
    client,
    connection_badge,
    model_folder,
    running_local_endpoints,
)
from ui.common import guarded, job_monitor, next_step, page_header, start_job
from ui.datasets import dataset_picker
from ui.models import model_classes

PAGE = "23"
TEST_JOB = f"{PAGE}:test"


page_header("23 Test a service", "Checking a deployed model against the app, with latency "
            "percentiles", "🧪")
connection_badge()

st.markdown("""
A deployed model should answer **exactly** what the app answers for the same photo: the same
ONNX export, the same preprocessing. This page sends real photos to a service, compares each
label with the app's, then times many one-image requests. **p50** is the typical wait;
**p95** is the wait that one request in twenty exceeds, which is what users remember. The
local endpoint and an Azure endpoint are tested the same way; Azure also needs the endpoint's
**key**, fetched from the workspace and sent in the request header, never shown. To test a new
deployment before it takes traffic, pick it: every request then carries the
`azureml-model-deployment` header, which reaches that deployment whatever the split says.
""")

servers = running_local_endpoints()
choices = [f"Local endpoint :{port}" for port in servers] + ["Azure endpoint", "Any URI"]
target = st.selectbox("Service", choices, key=f"{PAGE}:target")


def service_address(target: str) -> tuple[str, str | None, str | None] | None:
    """The scoring URI, key (None locally) and deployment (None: the traffic split)."""
    if target.startswith("Local"):
        return servers[int(target.rsplit(":", 1)[1])].scoring_uri, None, None
    if target == "Any URI":
        uri = st.text_input("Scoring URI", "http://127.0.0.1:5001/score", key=f"{PAGE}:uri")
        key = st.text_input("Key (if any)", type="password", key=f"{PAGE}:key")
        return uri, key or None, None
    ml = client()
    if ml is None:
        st.info("Connect to a workspace on page 20 to test an Azure endpoint by name, or "
                "choose 'Any URI' and paste its URI and key.")
        return None
    from cvlib.azure.deploy import deployment_names, endpoint_info, endpoint_key

    names = [e.name for e in ml.online_endpoints.list()]
    if not names:
        st.info("This workspace has no endpoint yet: deploy one on page 21.")
        return None
    name = st.selectbox("Endpoint", names, key=f"{PAGE}:ep")
    info = endpoint_info(ml, name)
    split = "as the traffic split sends it " + ", ".join(
        f"{d} {t}%" for d, t in info.traffic.items())
    options = ["", *deployment_names(ml, name)]
    deployment = st.selectbox("Deployment", options, key=f"{PAGE}:dep",
                              format_func=lambda d: d or split)
    return info.scoring_uri, endpoint_key(ml, name), deployment or None


def served_model(target: str) -> Path | None:
    """The model folder a local endpoint serves (Azure's is not on this machine)."""
    if target.startswith("Local"):
        return servers[int(target.rsplit(":", 1)[1])].model_dir
    return None


def class_warnings(folder: Path, served: Path | None, photos) -> None:
    """Warn when the compared model or the photos do not have the service's classes."""
    classes = model_classes(folder)
    if served is not None and model_classes(served) != classes:
        st.warning(f"The service serves {served.name} ({', '.join(model_classes(served))}) "
                   f"but the app's answers come from {folder.name} ({', '.join(classes)}): "
                   "agreement will be meaningless. Pick the served model above.")
    if photos is not None and not set(photos.classes) <= set(classes):
        st.warning(f"The photos' classes ({', '.join(photos.classes)}) are not all classes "
                   f"of {folder.name} ({', '.join(classes)}).")


if not servers:
    st.caption("No local endpoint is running: start one on page 21.")
address = guarded(service_address)(target)
served = served_model(target)
folder = guarded(model_folder)(PAGE, served)
photos = dataset_picker("single", "Photos to send")
if folder is not None:
    class_warnings(folder, served, photos)
n_requests = int(st.number_input("Latency requests", 10, 2000, 200, step=10,
                                 key=f"{PAGE}:n"))


def start_test(uri: str, key: str | None, deployment: str | None, folder: Path) -> None:
    """Compare and time in a background job: hundreds of requests take a while."""
    from cvlib.azure.service_test import check_against_app

    paths = [path for path, _ in photos.items]
    start_job(TEST_JOB, lambda progress: check_against_app(
        uri, paths, folder, key, n_requests, deployment, progress),
        what=f"testing {uri} with {len(paths)} photos", context=test_context(*address))


def test_context(uri: str, key: str | None, deployment: str | None) -> tuple:
    """What a report is about: the service, the model compared and the photos."""
    return (uri, deployment, str(folder), str(photos.root), len(photos.items), n_requests)


def show_report(report) -> None:
    """Agreement, latency percentiles, and every disagreement or error."""
    cols = st.columns(4)
    cols[0].metric("Agreement with the app", f"{report.agreement:.0%}",
                   help=f"{report.compared} photos")
    for col, name in zip(cols[1:], ("p50", "p95", "p99"), strict=True):
        col.metric(f"Latency {name}", f"{report.latency_ms.get(name, float('nan')):.0f} ms")
    if report.disagreements:
        st.dataframe(report.disagreements)
    if report.errors:
        st.error(f"{len(report.errors)} error(s)")
        st.code("\n".join(report.errors[:50]))


ready = bool(address and folder and photos is not None and photos.items)
if ready and st.button("Test the service", key=f"{PAGE}:run", type="primary",
                       disabled=action_running(TEST_JOB)):
    guarded(start_test)(*address, folder)
report = job_monitor(TEST_JOB, context=test_context(*address) if ready else None,
                     stop_help="Stops after the current request.",
                     stopped="Stopped on request: no report. Test again to get one.")
if report is not None:
    show_report(report)

next_step("pages/23_Test_a_service.py", [
    "Start two workers on the local endpoint (python -m cvlib serve --workers 2) and compare p95.",
    "Send a photo that is not a grocery item: the service still answers, with low probability.",
])
