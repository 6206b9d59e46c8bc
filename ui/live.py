"""Live-scoring widgets: model choice, the WebRTC stream, scored photos, the camera doctor.

The scoring itself is :mod:`cvlib.serving.stream` and :mod:`cvlib.models.explain`; this module
only wires them to Streamlit and ``streamlit-webrtc``.  Models are loaded once per server
process with ``st.cache_resource``; torch and the WebRTC stack are imported only when first needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from PIL import Image

from cvlib.data.captures import list_captures, save_capture
from cvlib.errors import StudioError
from cvlib.models.explain import overlay_heatmap
from cvlib.models.registry import get_spec, list_models
from cvlib.serving.stream import (
    ICE_ENV_JSON,
    STUN_ENV,
    TURN_ENV,
    LatestFrameScorer,
    ice_servers_from_env,
    is_secure_context,
)
from ui import plots
from ui.common import heavy_import_notice, key
from ui.models import saved_models

IMAGENET_PREFIX = "imagenet:"
ENGINE_LABELS = {"onnx": "ONNX Runtime (faster on a CPU)", "torch": "PyTorch"}
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif"]
# The model sees 224-300 px: 640x480 is plenty, and every extra pixel costs the server
# time to decode, draw on and re-encode each frame.
CAMERA_CONSTRAINTS = {"width": {"ideal": 640}, "height": {"ideal": 480},
                      "frameRate": {"ideal": 30}}
EXAMPLES = {
    "Chelsea the cat": "chelsea",
    "A cup of espresso": "coffee",
    "A rocket on its launch pad": "rocket",
    "An astronaut (is that an ImageNet class?)": "astronaut",
}
"""Example photos for a learner without a camera: ``skimage.data`` functions, by label."""


@dataclass(frozen=True)
class ModelChoice:
    """The model the page scores with: an ImageNet backbone or a saved model folder."""

    source: str
    engine: str

    @property
    def is_imagenet(self) -> bool:
        """True for a registry backbone with its 1000 ImageNet classes."""
        return self.source.startswith(IMAGENET_PREFIX)


def model_sources() -> dict[str, str]:
    """Choices for the picker, label -> source: ImageNet Lite models, then saved models."""
    sources = {f"ImageNet · {get_spec(name).name} ({get_spec(name).input_size} px)":
               f"{IMAGENET_PREFIX}{name}"
               for name in list_models() if get_spec(name).family == "efficientnet_lite"}
    for folder in saved_models():
        sources[f"Saved · {folder.name}"] = str(folder)
    return sources


def model_picker(page: str) -> ModelChoice:
    """Pick the model and the engine (a workshop preset resets both to the fast default)."""
    sources = model_sources()
    labels = list(sources)
    if st.button("Workshop preset", key=key(page, "preset"),
                 help="ImageNet EfficientNet-Lite0 on ONNX Runtime: the fastest on a laptop"):
        st.session_state[key(page, "model")] = labels[0]
        st.session_state[key(page, "engine")] = "onnx"
    left, right = st.columns([3, 2])
    label = left.selectbox("Model", labels, key=key(page, "model"),
                           help="Models you save on the training pages appear here too.")
    engine = right.radio("Engine", list(ENGINE_LABELS), format_func=ENGINE_LABELS.get,
                         key=key(page, "engine"), horizontal=True)
    return ModelChoice(sources[label], engine)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_predictor(source: str, engine: str) -> Any:
    """The model behind a picker choice, once per server process and engine."""
    from cvlib.models.inference import Predictor

    with heavy_import_notice():
        if source.startswith(IMAGENET_PREFIX):
            return Predictor.pretrained(source.removeprefix(IMAGENET_PREFIX), engine)
        return Predictor.load(source, engine)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_explainer(source: str) -> Any:
    """Grad-CAM needs the PyTorch network, whatever engine scores."""
    from cvlib.models.explain import GradCam

    with heavy_import_notice():
        if source.startswith(IMAGENET_PREFIX):
            return GradCam.pretrained(source.removeprefix(IMAGENET_PREFIX))
        return GradCam.load(source)


def example_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled photos (installed with the studio: works offline)."""
    from skimage import data

    return Image.fromarray(getattr(data, EXAMPLES[name])())


def scored_image(page: str, name: str, image: Image.Image, predictor, explainer) -> None:
    """A photo with its Grad-CAM overlay beside the top-5 bars, and what each step cost."""
    from cvlib.models.preprocess import top_k

    started = time.perf_counter()
    probs = predictor.predict_proba([image])[0]
    score_ms = 1000 * (time.perf_counter() - started)
    pairs = top_k(probs, predictor.classes, min(5, len(predictor.classes)))
    left, right = st.columns([1, 1])
    timing = f"Scored in {score_ms:.0f} ms ({ENGINE_LABELS[predictor.engine].split(' (')[0]})"
    if explainer is not None:
        started = time.perf_counter()
        heatmap = explainer.heatmap(image, int(probs.argmax()))
        timing += f" · Grad-CAM {1000 * (time.perf_counter() - started):.0f} ms"
        left.image(overlay_heatmap(image, heatmap, explainer.preprocessing),
                   caption=f"Grad-CAM for “{pairs[0][0]}”: red = strongest evidence",
                   width="stretch")
    else:
        left.image(image, width="stretch")
    right.markdown(f"**{pairs[0][0]}** · {pairs[0][1]:.1%}")
    right.plotly_chart(plots.top_k_bars(pairs), key=key(page, f"{name}-bars"))
    right.caption(timing + ". The first image after a model is loaded is slower (warm-up); "
                  "the live stream's figures are the steady pace.")


def kept_note(path: Path) -> None:
    """Where a capture went, and what it is for."""
    st.caption(f"Kept as `{path.name}` in `{path.parent}` ({len(list_captures())} "
               "captures): page 12 can mine them as images that are none of your classes.")


def keep_capture(image: Image.Image) -> None:
    """Save a snapshot to the captures folder and say so."""
    kept_note(save_capture(image))


def keep_newest_frame(page: str, scorer: LatestFrameScorer) -> None:
    """Button callback: save the frame on screen (remembered, as the fragment refreshes)."""
    frame = scorer.newest_frame()
    if frame is not None:
        st.session_state[key(page, "kept-frame")] = save_capture(frame)


def session_scorer(page: str, predictor, explain) -> LatestFrameScorer:
    """This browser session's stream scorer, switched to the current model."""
    name = key(page, "scorer")
    if name not in st.session_state:
        st.session_state[name] = LatestFrameScorer(predictor, explain=explain)
    scorer: LatestFrameScorer = st.session_state[name]
    scorer.use(predictor, explain)
    return scorer


def frame_callback(scorer: LatestFrameScorer):
    """The WebRTC video callback: hand the frame to the scorer, return it annotated.

    It runs on the stream's thread for every camera frame and must return at once; the
    scoring happens on the scorer's own thread.
    """
    import av

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        rgb = scorer.annotate(frame.to_ndarray(format="rgb24"))
        return av.VideoFrame.from_ndarray(rgb, format="rgb24")

    return callback


def ice_servers() -> list[dict[str, Any]]:
    """ICE servers from the environment; a bad setting is shown and none are used."""
    try:
        return ice_servers_from_env()
    except StudioError as exc:
        st.error(f"{exc}. Streaming without STUN/TURN servers.")
        return []


def served_to_a_browser() -> bool:
    """Whether a real Streamlit server runs this script (not AppTest's simulated runtime).

    WebRTC needs the server's event loop and session manager; without them the stream is
    replaced by a note and the snapshot and upload tabs still work.
    """
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


def live_stream(page: str, scorer: LatestFrameScorer) -> None:
    """The camera stream with labels drawn on it, and a status line while it plays."""
    if not served_to_a_browser():
        st.info("The live stream needs the app served to a browser (`streamlit run app.py`).")
        return
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    context = webrtc_streamer(
        key=key(page, "webrtc"), mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": ice_servers()},
        media_stream_constraints={"video": CAMERA_CONSTRAINTS, "audio": False},
        video_frame_callback=frame_callback(scorer), async_processing=True)
    if context.state.playing:
        stream_status(page, scorer)


@st.fragment(run_every=1.0)
def stream_status(page: str, scorer: LatestFrameScorer) -> None:
    """Refreshes every second while the stream plays: label, frame rate, delay, counts."""
    result, stats = scorer.latest(), scorer.stats()
    if scorer.error is not None:
        st.error(f"The newest frame could not be scored: {scorer.error}")
        return
    if result is None:
        st.caption("Live prediction: waiting for the first frame…")
        return
    st.markdown(
        f"Live prediction: **{result.label}** ({result.probability:.0%}) · "
        f"{stats.processed_fps:.1f} frames/s scored · {stats.delay_ms:.0f} ms delay · "
        f"{stats.processed} frames scored, {stats.dropped} skipped while busy")
    st.button("💾 Keep this frame", key=key(page, "keep-frame"),
              on_click=keep_newest_frame, args=(page, scorer),
              help="Saves the picture on screen to the captures folder (page 12 mines it).")
    if key(page, "kept-frame") in st.session_state:
        kept_note(st.session_state[key(page, "kept-frame")])


def camera_doctor() -> None:
    """Why a stream may not start, and what to change: secure context, STUN/TURN, fallback."""
    secure = is_secure_context(st.context.url)
    if secure is None:
        st.info("Open the page in a browser to check whether the camera may be used here.")
    elif secure:
        st.success(f"Secure context ({st.context.url}): the browser may offer the camera.")
    else:
        st.warning(
            f"{st.context.url} is not a secure context: browsers only offer the camera on "
            "`https://` pages or on `http://localhost`. Open the app on this machine as "
            "`http://localhost:8501`, put it behind HTTPS, or use the snapshot and upload "
            "tabs (they work everywhere).")
    servers = ice_servers()
    shown = [{k: ("***" if k == "credential" else v) for k, v in s.items()} for s in servers]
    st.markdown(
        "**Connecting from another machine.** The video travels browser ⇄ app over WebRTC. "
        "On the same machine or the same network they find each other directly. Across "
        "routers (NAT) they need a **STUN** server (to learn their public address) and, "
        "behind strict firewalls, a **TURN** server (to relay the video). Set before "
        f"starting the app: `{STUN_ENV}=stun:host:3478`, or `{TURN_ENV[0]}=turn:host:3478` "
        f"with `{TURN_ENV[1]}` and `{TURN_ENV[2]}`, or a whole JSON list in "
        f"`{ICE_ENV_JSON}`.")
    st.caption(f"ICE servers in use: `{shown}`" if servers else
               "ICE servers in use: none (direct connections only; nothing leaves the network).")
    st.markdown(
        "**If START keeps spinning** or the video stays black: allow the camera in the "
        "browser's address bar, close other apps using it, and check the two points above. "
        "The **Snapshot** and **Upload** tabs need no stream: they send one picture over the "
        "page's normal connection and show the same scores and explanation.")
