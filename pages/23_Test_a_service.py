"""Page 23: test a scoring service (local or Azure) against the app's own predictions."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    SHARED_SAMPLES,
    client,
    connection_badge,
    model_folder,
    running_local_endpoints,
)
from ui.common import guarded, heavy_import_notice, next_step, page_header

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
**key**, fetched from the workspace and sent in the request header, never shown.
""")

servers = running_local_endpoints()
choices = [f"Local endpoint :{port}" for port in servers] + ["Azure endpoint", "Any URI"]
target = st.selectbox("Service", choices, key=f"{PAGE}:target")


def service_address(target: str) -> tuple[str, str | None] | None:
    """The scoring URI and key (None for the local endpoint) of the chosen service."""
    if target.startswith("Local"):
        return servers[int(target.rsplit(":", 1)[1])].scoring_uri, None
    if target == "Any URI":
        uri = st.text_input("Scoring URI", "http://127.0.0.1:5001/score", key=f"{PAGE}:uri")
        key = st.text_input("Key (if any)", type="password", key=f"{PAGE}:key")
        return uri, key or None
    name = st.text_input("Endpoint name", "cvlib-classifier", key=f"{PAGE}:ep")
    ml = client()
    if ml is None:
        st.info("Connect to a workspace on page 20 to test an Azure endpoint by name, or "
                "choose 'Any URI' and paste its URI and key.")
        return None
    from cvlib.azure.deploy import endpoint_info, endpoint_key

    return endpoint_info(ml, name).scoring_uri, endpoint_key(ml, name)


if not servers:
    st.caption("No local endpoint is running: start one on page 21.")
address = guarded(service_address)(target)
folder = guarded(model_folder)(PAGE)
images_dir = Path(st.text_input("Photos (class folders)", str(SHARED_SAMPLES),
                                key=f"{PAGE}:images"))
n_requests = int(st.number_input("Latency requests", 10, 2000, 200, step=10,
                                 key=f"{PAGE}:n"))


@st.cache_data(show_spinner=False)
def in_app_labels(model: str, paths: tuple[str, ...]) -> list[str]:
    """The app's own predictions for the photos (cached: the same photos are reused)."""
    from cvlib.images import load_image
    from cvlib.inference import Predictor

    predictor = Predictor.load(model, engine="torch")
    probs = predictor.predict_proba([load_image(p) for p in paths])
    return [predictor.classes[i] for i in probs.argmax(axis=1)]


def run_test(uri: str, key: str | None, folder: Path) -> None:
    """Compare, time, and show the report."""
    from cvlib.azure.service_test import check_service
    from cvlib.images import is_image_name

    paths = sorted(p for p in images_dir.rglob("*") if is_image_name(p))
    if not paths:
        st.warning(f"No images under {images_dir}")
        return
    with heavy_import_notice():
        expected = in_app_labels(str(folder), tuple(map(str, paths)))
    bar = st.progress(0.0, "Timing requests")
    report = check_service(uri, paths, expected, key, n_requests,
                           on_progress=lambda i, n: bar.progress(i / n, f"Request {i}/{n}"))
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
