"""The live scorer keeps up with a camera by scoring only the newest frame, never a queue.

Frames are sample photos on a 640x480 canvas, scored by a real quick-trained model on ONNX
Runtime, exactly as the WebRTC callback of page 00 feeds them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvlib.errors import StudioError
from cvlib.serving.stream import (
    LatestFrameScorer,
    ice_servers_from_env,
    is_secure_context,
)
from tests.samples import photos


@pytest.fixture(scope="module")
def predictor(sample_model_dir: Path):
    from cvlib.models.inference import Predictor

    return Predictor.load(sample_model_dir, "onnx")


@pytest.fixture()
def make_scorer(predictor) -> Iterator:
    """Builds scorers for one test and stops their threads afterwards, pass or fail."""
    made = []

    def make(**options) -> LatestFrameScorer:
        made.append(LatestFrameScorer(predictor, **options))
        return made[-1]

    yield make
    for scorer in made:
        scorer.close()


def frame_of(photo: Path) -> np.ndarray:
    """A webcam-sized frame showing one product photo in the middle."""
    canvas = Image.new("RGB", (640, 480), (120, 120, 120))
    canvas.paste(Image.open(photo).convert("RGB").resize((400, 400)), (120, 40))
    return np.asarray(canvas)


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """A frame of a can and one of a carton, from photos the model classifies correctly
    even framed (it was fitted on them)."""
    return {cls: frame_of(photos(cls)[1]) for cls in ("can", "carton")}


def wait_until(condition, timeout: float = 60) -> None:
    """Poll ``condition`` until it holds (the scorer works on its own thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.02)


def wait_until_idle(scorer: LatestFrameScorer) -> None:
    """Until the worker has scored the last frame offered."""
    wait_until(lambda: (s := scorer.stats()).processed + s.dropped == s.received)


def test_a_burst_of_frames_is_skipped_not_queued_and_the_newest_is_scored(make_scorer, frames):
    scorer = make_scorer()
    for _ in range(40):
        scorer.submit(frames["carton"])
    scorer.submit(frames["can"])
    wait_until_idle(scorer)
    stats = scorer.stats()
    assert stats.received == 41
    assert stats.processed < 10, "frames that arrived while busy were skipped"
    assert stats.processed + stats.dropped == 41
    assert scorer.latest().label == "can", "the last frame offered is the one scored last"


def test_a_paced_stream_reports_frame_rate_latency_and_delay(make_scorer, frames):
    scorer = make_scorer()
    start = time.monotonic()
    for i in range(45):
        time.sleep(max(0.0, start + i / 15 - time.monotonic()))
        out = scorer.annotate(frames["carton"])
        assert out.shape == frames["carton"].shape and out.dtype == np.uint8
    wait_until_idle(scorer)
    stats = scorer.stats()
    assert stats.processed >= 3
    result = scorer.latest()
    assert stats.processed_fps > 0 and stats.latency_ms > 0
    assert stats.delay_ms >= 1000 * (result.finished - result.received), "the label lags"
    assert result.label == "carton" and 0.5 < result.probability <= 1
    assert [c for c, _ in result.top][:1] == ["carton"] and len(result.top) == 4


def test_the_label_is_drawn_on_a_copy_of_the_frame(make_scorer, frames):
    scorer = make_scorer()
    frame = frames["carton"].copy()
    original = frame.copy()
    waiting = scorer.annotate(frame)
    wait_until_idle(scorer)
    labelled = scorer.annotate(frame)
    banner = (slice(0, 40), slice(0, 200))
    assert (labelled[banner] != frame[banner]).any()
    assert (labelled[banner] != waiting[banner]).any(), "the text changed with the result"
    assert (labelled[300:] == frame[300:]).all(), "the rest of the picture is intact"
    assert (frame == original).all(), "the frame being scored is never drawn on"


def test_grad_cam_on_the_stream_is_refreshed_at_most_as_often_as_asked(
        make_scorer, frames, predictor, sample_model_dir):
    from cvlib.models.explain import GradCam

    cam = GradCam.load(sample_model_dir)
    calls = []

    def explain(image, class_index):
        calls.append(time.monotonic())
        return cam.heatmap(image, class_index)

    scorer = make_scorer(explain=explain, explain_every_s=60)
    for _ in range(3):
        scorer.submit(frames["can"])
        wait_until_idle(scorer)
    assert len(calls) == 1, "one explanation per minute at most"
    heatmap = scorer.latest().heatmap
    side = predictor.preprocessing.image_size
    assert heatmap is not None and heatmap.shape == (side, side), "at the model's input size"
    shown = scorer.annotate(frames["can"])
    assert (shown[300:] != frames["can"][300:]).any(), "the heatmap is blended in"


def test_switching_model_clears_old_results(make_scorer, predictor, frames,
                                            sample_model_dir):
    from cvlib.models.inference import Predictor

    scorer = make_scorer()
    scorer.submit(frames["carton"])
    wait_until_idle(scorer)
    scorer.use(predictor)
    assert scorer.latest() is not None, "the same model again changes nothing"
    scorer.use(Predictor.load(sample_model_dir, "torch"))
    assert scorer.latest() is None
    scorer.submit(frames["carton"])
    wait_until_idle(scorer)
    assert scorer.latest().label == "carton"


def test_the_worker_thread_ends_when_frames_stop_and_restarts_with_them(make_scorer, frames):
    scorer = make_scorer(idle_exit_s=0.2)
    scorer.submit(frames["carton"])
    wait_until_idle(scorer)
    wait_until(lambda: not scorer.running, timeout=5)
    scorer.submit(frames["can"])
    wait_until_idle(scorer)
    assert scorer.latest().label == "can"


def test_a_frame_that_cannot_be_scored_is_reported_and_the_stream_goes_on(make_scorer, frames):
    scorer = make_scorer()
    scorer.submit(np.zeros((480, 640, 3), dtype=np.float64))
    wait_until(lambda: scorer.error is not None)
    assert isinstance(scorer.error, TypeError)
    shown = scorer.annotate(frames["can"])
    assert shown.shape == frames["can"].shape
    wait_until(lambda: scorer.latest() is not None)
    assert scorer.error is None and scorer.latest().label == "can"


def test_no_ice_servers_unless_configured():
    assert ice_servers_from_env({}) == []
    assert ice_servers_from_env({"CVLIB_STUN_URL": "stun:stun.example.org:3478"}) == [
        {"urls": ["stun:stun.example.org:3478"]}]
    turn = {"CVLIB_TURN_URL": "turn:turn.example.org:3478", "CVLIB_TURN_USERNAME": "u",
            "CVLIB_TURN_CREDENTIAL": "s"}
    assert ice_servers_from_env(turn) == [
        {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "s"}]
    assert ice_servers_from_env({"CVLIB_ICE_SERVERS": "[]", **turn}) == []
    custom = '[{"urls": ["stun:a:1", "stun:b:2"]}]'
    assert ice_servers_from_env({"CVLIB_ICE_SERVERS": custom}) == [
        {"urls": ["stun:a:1", "stun:b:2"]}]


@pytest.mark.parametrize("env", [
    {"CVLIB_ICE_SERVERS": "not json"},
    {"CVLIB_ICE_SERVERS": '{"urls": "stun:a"}'},
    {"CVLIB_TURN_URL": "turn:t:3478"},
])
def test_a_wrong_ice_setting_is_a_clear_error(env):
    with pytest.raises(StudioError, match="CVLIB_"):
        ice_servers_from_env(env)


@pytest.mark.parametrize(("url", "secure"), [
    ("https://studio.example.org/Live_scoring", True),
    ("http://localhost:8501/Live_scoring", True),
    ("http://127.0.0.2:8501/", True),
    ("http://[::1]:8501/", True),
    ("http://192.168.1.20:8501/Live_scoring", False),
    (None, None),
])
def test_camera_needs_a_secure_context(url, secure):
    assert is_secure_context(url) is secure


def test_the_frame_on_screen_can_be_kept_as_a_capture(tmp_path: Path):
    """Page 00's "Keep this frame" saves the newest frame the camera sent, unchanged."""
    from cvlib.data.captures import list_captures, save_capture
    from cvlib.models.inference import Predictor

    scorer = LatestFrameScorer(Predictor.pretrained("efficientnet_lite0", "onnx"))
    try:
        assert scorer.newest_frame() is None
        first = np.zeros((48, 64, 3), np.uint8)
        second = np.full((48, 64, 3), 180, np.uint8)
        scorer.annotate(first)
        scorer.annotate(second)
        assert scorer.newest_frame() is second
        kept = save_capture(scorer.newest_frame(), tmp_path)
        assert list_captures(tmp_path) == [kept]
        assert np.asarray(Image.open(kept)).mean() == pytest.approx(180, abs=2)
    finally:
        scorer.close()
