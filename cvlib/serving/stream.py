"""Live scoring of a video stream: score only the newest frame, never a queue of old ones.

A camera delivers 30 frames a second; a CPU scores perhaps 20.  Queueing the surplus would
make the labels fall further and further behind the picture, so :class:`LatestFrameScorer`
keeps a single slot: each new frame replaces the one waiting, a worker thread scores
whatever is in the slot when it is free, and every outgoing frame is drawn with the most
recent result.  The video stays fluid at the camera's rate and the label lags by at most one
inference.  The statistics say how many frames per second were really scored and how old
the label on screen is.

Nothing here knows about Streamlit or WebRTC: the page's frame callback calls
:meth:`LatestFrameScorer.annotate` with an RGB array, and the benchmark does the same with
generated frames.  The ICE (STUN/TURN) settings for the browser connection are read from
the environment by :func:`ice_servers_from_env`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cvlib.errors import StudioError
from cvlib.models.explain import blend_layer, heatmap_layer
from cvlib.models.preprocess import Preprocessing, top_k

logger = logging.getLogger(__name__)


class ScoresImages(Protocol):
    """What the scorer needs from a model: a :class:`cvlib.models.inference.Predictor` fits."""

    classes: list[str]
    preprocessing: Preprocessing

    def predict_proba(self, images: list[Image.Image]) -> np.ndarray: ...


Explain = Callable[[Image.Image, int], np.ndarray]
"""``explain(image, class_index) -> heatmap`` in [0, 1] at the model's input size."""


@dataclass(frozen=True)
class FrameResult:
    """The scores of one frame, with the times that make its lag measurable."""

    top: list[tuple[str, float]]
    received: float
    finished: float
    heatmap: np.ndarray | None = None

    @property
    def label(self) -> str:
        """The most probable class."""
        return self.top[0][0]

    @property
    def probability(self) -> float:
        """Its probability."""
        return self.top[0][1]


@dataclass(frozen=True)
class StreamStats:
    """How the stream keeps up.

    Parameters
    ----------
    processed_fps : frames actually scored per second over the recent window (0 when
        nothing was scored for two seconds).
    latency_ms : mean time from a frame's arrival to its scores (waiting + inference).
    delay_ms : age of the newest result now, i.e. how far the label on screen lags behind
        the picture it is drawn on.
    received, processed, dropped : frame counts since the scorer started; a dropped frame
        was replaced by a newer one before the worker got to it.
    """

    processed_fps: float
    latency_ms: float
    delay_ms: float
    received: int
    processed: int
    dropped: int


class LatestFrameScorer:
    """Scores the newest frame in a worker thread and draws the latest result on every frame.

    Thread-safe: :meth:`submit`/:meth:`annotate` may be called from the video thread while
    the page reads :meth:`latest` and :meth:`stats` from another.  The worker thread starts
    on the first frame and ends after ``idle_exit_s`` without frames, so a browser tab that
    went away does not leave a thread behind.

    Parameters
    ----------
    predictor : the model (any engine); its recorded preprocessing is applied to frames.
    k : how many classes to keep per frame.
    explain : optional Grad-CAM function; it is run at most every ``explain_every_s``
        seconds, so explanations never cost more than a share of the frame rate.
    window : number of recent results the frame rate and latency are averaged over.
    """

    def __init__(self, predictor: ScoresImages, *, k: int = 5, explain: Explain | None = None,
                 explain_every_s: float = 0.5, window: int = 30,
                 idle_exit_s: float = 30.0) -> None:
        self._lock = threading.Condition()
        self._predictor = predictor
        self._explain = explain
        self._explain_every_s = explain_every_s
        self.k = k
        self._idle_exit_s = idle_exit_s
        self._pending: tuple[np.ndarray, float] | None = None
        self._newest: np.ndarray | None = None
        self._latest: FrameResult | None = None
        self._last_heatmap: tuple[np.ndarray, float] | None = None
        self._recent: deque[FrameResult] = deque(maxlen=window)
        self._received = self._processed = self._dropped = 0
        self._error: BaseException | None = None
        self._worker: threading.Thread | None = None
        self._closed = False
        self._drawings: dict[str, tuple[tuple, Any]] = {}

    def use(self, predictor: ScoresImages, explain: Explain | None = None) -> None:
        """Switch model (or explanation) without stopping the stream; old results are cleared.

        Calling it again with the same model and explanation changes nothing, so a page may
        call it on every rerun.
        """
        with self._lock:
            if predictor is self._predictor and explain == self._explain:
                return
            self._predictor, self._explain = predictor, explain
            self._latest, self._last_heatmap = None, None
            self._recent.clear()

    def submit(self, frame: np.ndarray) -> None:
        """Offer an RGB frame (H, W, 3 uint8); it replaces any frame still waiting."""
        with self._lock:
            if self._pending is not None:
                self._dropped += 1
            self._pending = (frame, time.monotonic())
            self._newest = frame
            self._received += 1
            self._ensure_worker()
            self._lock.notify()

    def annotate(self, frame: np.ndarray) -> np.ndarray:
        """Submit ``frame`` and return it drawn with the latest label, heatmap and stats."""
        self.submit(frame)
        with self._lock:
            result, error, cfg = self._latest, self._error, self._predictor.preprocessing
        pixels = frame.copy()
        size = (frame.shape[1], frame.shape[0])
        if result is not None and (heatmap := result.heatmap) is not None:
            layer = self._cached("heatmap", (id(heatmap), size),
                                 lambda: heatmap_layer(heatmap, cfg, size))
            pixels = blend_layer(pixels, layer)
        banner = self._cached("banner", (id(result), id(error), size[1]),
                              lambda: render_banner(result, self.stats(), error, size[1]))
        return paste_banner(pixels, banner)

    def _cached(self, name: str, key: tuple, make: Callable[[], Any]) -> Any:
        """Recompute a drawing only when what it shows changed (used by the video thread)."""
        cached = self._drawings.get(name)
        if cached is None or cached[0] != key:
            cached = (key, make())
            self._drawings[name] = cached
        return cached[1]

    @property
    def preprocessing(self) -> Preprocessing:
        """How the current model sees a frame (where a heatmap belongs on it)."""
        return self._predictor.preprocessing

    @property
    def error(self) -> BaseException | None:
        """Why the newest frame could not be scored; None again once a frame succeeds."""
        with self._lock:
            return self._error

    def newest_frame(self) -> np.ndarray | None:
        """The last frame the camera sent (what is on screen), to save it; None before any."""
        with self._lock:
            return self._newest

    def latest(self) -> FrameResult | None:
        """The newest result, or None before the first frame was scored."""
        with self._lock:
            return self._latest

    def stats(self) -> StreamStats:
        """Frame rate, latency and lag over the recent window."""
        with self._lock:
            recent = list(self._recent)
            counts = (self._received, self._processed, self._dropped)
        now = time.monotonic()
        fps = 0.0
        if len(recent) >= 2 and now - recent[-1].finished < 2.0:
            span = recent[-1].finished - recent[0].finished
            fps = (len(recent) - 1) / span if span > 0 else 0.0
        latency = (1000 * float(np.mean([r.finished - r.received for r in recent]))
                   if recent else 0.0)
        delay = 1000 * (now - recent[-1].received) if recent else 0.0
        return StreamStats(fps, latency, delay, *counts)

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive (it stops when frames stop coming)."""
        with self._lock:
            return self._worker is not None and self._worker.is_alive()

    def close(self) -> None:
        """Stop the worker thread (it also stops by itself when frames stop coming)."""
        with self._lock:
            self._closed = True
            self._lock.notify()
            worker = self._worker
        if worker is not None:
            worker.join(timeout=5)

    def _ensure_worker(self) -> None:
        """Start the worker if none is running (called with the lock held)."""
        if self._worker is None or not self._worker.is_alive():
            self._closed = False
            self._worker = threading.Thread(target=self._run, name="latest-frame-scorer",
                                            daemon=True)
            self._worker.start()

    def _take(self) -> tuple[np.ndarray, float, ScoresImages, Explain | None] | None:
        """Wait for a frame; None when idle too long or closed."""
        with self._lock:
            deadline = time.monotonic() + self._idle_exit_s
            while self._pending is None and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(timeout=left)
            if self._pending is None or self._closed:
                self._worker = None
                return None
            (frame, received), self._pending = self._pending, None
            return frame, received, self._predictor, self._explain

    def _run(self) -> None:
        """Worker loop: score the newest frame, publish, repeat; says in the log when it ends."""
        logger.info("camera worker started")
        while (job := self._take()) is not None:
            frame, received, predictor, explain = job
            try:
                result = self._score(frame, received, predictor, explain)
            except Exception as exc:  # noqa: BLE001 - shown on the video, the stream goes on
                with self._lock:
                    self._error = exc
                continue
            with self._lock:
                self._error = None
                if predictor is self._predictor:
                    self._latest = result
                    self._recent.append(result)
                    self._processed += 1
        with self._lock:
            closed = self._closed
        if closed:
            logger.info("camera worker stopped: the stream was closed")
        else:
            logger.info("camera worker stopped: no frame for %.0f s", self._idle_exit_s)

    def _score(self, frame: np.ndarray, received: float, predictor: ScoresImages,
               explain: Explain | None) -> FrameResult:
        """Scores of one frame, plus a fresh heatmap when one is due."""
        image = Image.fromarray(frame)
        probs = predictor.predict_proba([image])[0]
        pairs = top_k(probs, predictor.classes, self.k)
        heatmap = None
        if explain is not None:
            last = self._last_heatmap
            if last is None or time.monotonic() - last[1] >= self._explain_every_s:
                last = (explain(image, int(np.argmax(probs))), time.monotonic())
                self._last_heatmap = last
            heatmap = last[0]
        return FrameResult(pairs, received, time.monotonic(), heatmap)


@dataclass(frozen=True)
class _Fonts:
    """Fonts scaled to the frame, loaded once per size."""

    label: ImageFont.FreeTypeFont
    small: ImageFont.FreeTypeFont


_FONTS: dict[int, _Fonts] = {}


def _fonts(height: int) -> _Fonts:
    """Label text about 1/16 of the frame height, stats text smaller."""
    size = max(12, height // 16)
    if size not in _FONTS:
        # With a size, Pillow's default font is its FreeType one (its wheels have FreeType).
        _FONTS[size] = _Fonts(cast(ImageFont.FreeTypeFont, ImageFont.load_default(size=size)),
                              cast(ImageFont.FreeTypeFont,
                                   ImageFont.load_default(size=max(10, size * 2 // 3))))
    return _FONTS[size]


def render_banner(result: FrameResult | None, stats: StreamStats,
                  error: BaseException | None, frame_height: int) -> np.ndarray:
    """The black box with the label, its probability, frames/s and delay, as RGB pixels.

    Rendering text costs a few milliseconds, so the scorer renders it once per result and
    pastes the same pixels into every frame until the next result.
    """
    if error is not None:
        label = f"cannot score: {error}"[:60]
    elif result is None:
        label = "waiting for the first scores…"
    else:
        label = f"{result.label}  {result.probability:.0%}"
    info = f"{stats.processed_fps:.1f} frames/s scored · {stats.delay_ms:.0f} ms delay"
    fonts = _fonts(frame_height)
    pad = fonts.label.size // 3
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    box = measure.textbbox((pad, pad), label, font=fonts.label)
    info_box = measure.textbbox((pad, box[3] + pad), info, font=fonts.small)
    banner = Image.new("RGB", (int(max(box[2], info_box[2]) + pad), int(info_box[3] + pad)))
    draw = ImageDraw.Draw(banner)
    draw.text((pad, pad), label, font=fonts.label, fill=(255, 255, 255))
    draw.text((pad, box[3] + pad), info, font=fonts.small, fill=(180, 255, 180))
    return np.asarray(banner)


def paste_banner(pixels: np.ndarray, banner: np.ndarray) -> np.ndarray:
    """``pixels`` with the banner in the top-left corner (cut to fit small frames)."""
    out = pixels if pixels.flags.writeable else pixels.copy()
    height, width = min(banner.shape[0], out.shape[0]), min(banner.shape[1], out.shape[1])
    out[:height, :width] = banner[:height, :width]
    return out


ICE_ENV_JSON = "CVLIB_ICE_SERVERS"
STUN_ENV = "CVLIB_STUN_URL"
TURN_ENV = ("CVLIB_TURN_URL", "CVLIB_TURN_USERNAME", "CVLIB_TURN_CREDENTIAL")


def ice_servers_from_env(env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The WebRTC ICE servers (STUN/TURN) for the stream, from environment variables.

    ``CVLIB_ICE_SERVERS`` holds a JSON list in the browser's ``RTCIceServer`` form and wins
    when set.  Otherwise ``CVLIB_STUN_URL`` adds a STUN server (``stun:host:port``) and
    ``CVLIB_TURN_URL`` with ``CVLIB_TURN_USERNAME``/``CVLIB_TURN_CREDENTIAL`` a TURN relay.
    Nothing set means no server: browser and app then reach each other directly, which
    works on the same machine and on most home or office networks, and sends nothing to
    the internet.
    """
    env = os.environ if env is None else env
    if env.get(ICE_ENV_JSON):
        try:
            given = json.loads(env[ICE_ENV_JSON])
        except json.JSONDecodeError as exc:
            raise StudioError(f"{ICE_ENV_JSON} is not valid JSON: {exc}") from exc
        if not isinstance(given, list) or not all(
                isinstance(s, dict) and "urls" in s for s in given):
            raise StudioError(f"{ICE_ENV_JSON} must be a JSON list of objects with 'urls', "
                              'e.g. [{"urls": ["stun:stun.example.org:3478"]}]')
        return given
    servers: list[dict[str, Any]] = []
    if env.get(STUN_ENV):
        servers.append({"urls": [env[STUN_ENV]]})
    turn_url, turn_user, turn_secret = (env.get(name) for name in TURN_ENV)
    if turn_url:
        if not (turn_user and turn_secret):
            raise StudioError(f"{TURN_ENV[0]} needs {TURN_ENV[1]} and {TURN_ENV[2]} as well")
        servers.append({"urls": [turn_url], "username": turn_user, "credential": turn_secret})
    return servers


def is_secure_context(url: str | None) -> bool | None:
    """Whether a browser grants camera access at ``url``: HTTPS, or this very machine.

    Browsers only offer ``getUserMedia`` in a secure context: ``https://`` pages and
    ``http://localhost`` / ``127.x.x.x`` / ``[::1]``.  None when the URL is unknown.
    """
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https":
        return True
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") \
        or host == "::1"
