"""Page 23: test a scoring service (local or Azure) against the app's own predictions."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    SAMPLE_PHOTOS,
    client,
    connection_badge,
    model_folder,
    running_local_endpoints,
)
from ui.common import guarded, heavy_import_notice, next_step, page_header
from ui.models import model_classes

PAGE = "23"


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


def class_warnings(folder: Path, served: Path | None, photos: Path) -> None:
    """Warn when the compared model or the photos do not have the service's classes."""
    classes = model_classes(folder)
    if served is not None and model_classes(served) != classes:
        st.warning(f"The service serves {served.name} ({', '.join(model_classes(served))}) "
                   f"but the app's answers come from {folder.name} ({', '.join(classes)}): "
                   "agreement will be meaningless. Pick the served model above.")
    folders = sorted(p.name for p in photos.iterdir() if p.is_dir()) if photos.is_dir() else []
    if folders and not set(folders) <= set(classes):
        st.warning(f"The photos' class folders ({', '.join(folders)}) are not all classes of "
                   f"{folder.name} ({', '.join(classes)}).")


if not servers:
    st.caption("No local endpoint is running: start one on page 21.")
address = guarded(service_address)(target)
served = served_model(target)
folder = guarded(model_folder)(PAGE, served)
images_dir = Path(st.text_input("Photos (class folders)", str(SAMPLE_PHOTOS),
                                key=f"{PAGE}:images"))
if folder is not None:
    class_warnings(folder, served, images_dir)
n_requests = int(st.number_input("Latency requests", 10, 2000, 200, step=10,
                                 key=f"{PAGE}:n"))


@st.cache_data(show_spinner=False)
def in_app_labels(model: str, paths: tuple[str, ...]) -> list[str]:
    """The app's own predictions for the photos (cached: the same photos are reused)."""
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor

    predictor = Predictor.load(model, engine="torch")
    probs = predictor.predict_proba([load_image(p) for p in paths])
    return [predictor.classes[i] for i in probs.argmax(axis=1)]


def run_test(uri: str, key: str | None, deployment: str | None, folder: Path) -> None:
    """Compare, time, and show the report."""
    from cvlib.azure.service_test import check_service
    from cvlib.data.images import is_image_name

    paths = sorted(p for p in images_dir.rglob("*") if is_image_name(p))
    if not paths:
        st.warning(f"No images under {images_dir}")
        return
    with heavy_import_notice():
        expected = in_app_labels(str(folder), tuple(map(str, paths)))
    bar = st.progress(0.0, "Timing requests")
    report = check_service(uri, paths, expected, key, n_requests,
                           on_progress=lambda i, n: bar.progress(i / n, f"Request {i}/{n}"),
                           deployment=deployment)
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


if address and folder and st.button("Test the service", key=f"{PAGE}:run", type="primary"):
    guarded(run_test)(*address, folder)

next_step("pages/23_Test_a_service.py", [
    "Start two workers on the local endpoint (python -m cvlib serve --workers 2) and compare p95.",
    "Send a photo that is not a grocery item: the service still answers, with low probability.",
])
