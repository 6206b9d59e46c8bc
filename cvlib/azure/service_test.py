"""Test a scoring service the same way whether it runs on this machine or in Azure.

Sends real images in the seed's request format, checks each answer against the studio's own
prediction, and times many requests to report latency percentiles (p50 is the typical wait,
p95 the wait one request in twenty exceeds).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvlib.runtime.progress import Progress


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange: status, parsed JSON (or the raw text) and the time it took."""

    status: int
    body: Any
    seconds: float


@dataclass
class ServiceReport:
    """What the page shows: agreement with the app, latency, and every error seen."""

    agreement: float
    compared: int
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    errors: list[str] = field(default_factory=list)


def encode_image(path: Path) -> str:
    """A file's bytes as base64 text, as the request format wants them."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


#: The header that sends a request to one deployment, whatever the traffic split says: how a
#: new (0% traffic) deployment is tested before any caller reaches it.
DEPLOYMENT_HEADER = "azureml-model-deployment"


def request_headers(key: str | None = None, deployment: str | None = None) -> dict[str, str]:
    """JSON content type, the endpoint key as a bearer token, and the deployment to reach."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if deployment:
        headers[DEPLOYMENT_HEADER] = deployment
    return headers


def post_json(uri: str, payload: Any, key: str | None = None, timeout: float = 60.0,
              deployment: str | None = None) -> Reply:
    """POST JSON, with ``Authorization: Bearer <key>`` for Azure endpoints.

    Never raises for an HTTP error status: tests want to see 4xx answers, not exceptions.
    """
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    headers = request_headers(key, deployment)
    request = urllib.request.Request(uri, data=data, headers=headers, method="POST")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    seconds = time.perf_counter() - start
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = raw.decode("utf-8", "replace")
    return Reply(status, body, seconds)


def score_images(uri: str, paths: Sequence[Path], key: str | None = None,
                 batch_size: int = 8, deployment: str | None = None
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Predictions for each path (in order) from the service, and any errors it returned."""
    answers: list[dict[str, Any]] = []
    errors: list[str] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        reply = post_json(uri, {"data": [encode_image(p) for p in chunk]}, key,
                          deployment=deployment)
        if reply.status != 200:
            errors.append(f"HTTP {reply.status} for {chunk[0].name}…: {_message(reply.body)}")
            answers.extend({"error": f"HTTP {reply.status}"} for _ in chunk)
            continue
        for path, answer in zip(chunk, reply.body["predictions"], strict=True):
            answers.append(answer)
            if "error" in answer:
                errors.append(f"{path.name}: {answer['error']}")
    return answers, errors


def _message(body: Any) -> str:
    """The server's message, from a JSON error body or plain text."""
    return body.get("message", str(body)) if isinstance(body, dict) else str(body)[:200]


def compare(paths: Sequence[Path], answers: Sequence[dict[str, Any]],
            expected: Sequence[str]) -> tuple[float, list[dict[str, Any]]]:
    """Share of images where the service's label equals the app's, and the ones that differ."""
    differ = [{"image": p.name, "service": a.get("label", a.get("error")), "app": e}
              for p, a, e in zip(paths, answers, expected, strict=True) if a.get("label") != e]
    agreement = 1.0 - len(differ) / len(paths) if paths else 0.0
    return agreement, differ


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """Latency summary in milliseconds: p50, p90, p95, p99, mean and max."""
    ms = np.asarray(seconds, dtype=float) * 1000.0
    if ms.size == 0:
        return {}
    result = {f"p{q}": float(np.percentile(ms, q)) for q in (50, 90, 95, 99)}
    result.update(mean=float(ms.mean()), max=float(ms.max()))
    return result


def measure_latency(uri: str, paths: Sequence[Path], n_requests: int = 200,
                    key: str | None = None,
                    on_progress: Callable[[int, int], None] | None = None,
                    deployment: str | None = None) -> tuple[dict[str, float], list[str]]:
    """Send ``n_requests`` one-image requests (cycling through ``paths``), one at a time.

    One image per request measures what a single caller waits; errors are listed, and only
    successful requests count toward the percentiles.
    """
    bodies = [{"data": [encode_image(p)]} for p in paths]
    times: list[float] = []
    errors: list[str] = []
    for i in range(n_requests):
        reply = post_json(uri, bodies[i % len(bodies)], key, deployment=deployment)
        if reply.status == 200:
            times.append(reply.seconds)
        else:
            errors.append(f"request {i + 1}: HTTP {reply.status} {_message(reply.body)}")
        if on_progress:
            on_progress(i + 1, n_requests)
    return percentiles(times), errors


def check_service(uri: str, paths: Sequence[Path], expected: Sequence[str],
                 key: str | None = None, n_requests: int = 200,
                 on_progress: Callable[[int, int], None] | None = None,
                 deployment: str | None = None) -> ServiceReport:
    """Agreement with the app on every image, then latency over ``n_requests`` requests.

    ``deployment`` sends every request to that deployment of an Azure endpoint (the
    ``azureml-model-deployment`` header), so a new one is tested at 0% traffic.
    """
    answers, errors = score_images(uri, paths, key, deployment=deployment)
    agreement, differ = compare(paths, answers, expected)
    latency, latency_errors = measure_latency(uri, paths, n_requests, key, on_progress,
                                              deployment)
    return ServiceReport(agreement, len(paths), differ, latency, n_requests,
                         errors + latency_errors)


def check_against_app(uri: str, paths: Sequence[Path], model_dir: Path, key: str | None = None,
                      n_requests: int = 200, deployment: str | None = None,
                      progress: Progress | None = None) -> ServiceReport:
    """:func:`check_service` against the app's own answers from the saved model ``model_dir``.

    The app's answers come from the model's PyTorch weights in this process, so a service
    that answers differently (another model, other preprocessing) shows up as disagreement.
    ``progress`` receives each request and stops the test between requests when asked.
    """
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor

    progress = progress or Progress()

    def report(done: int, total: int) -> None:
        progress.check()
        progress.update(step=done, total=total)

    progress.update(stage="The app's own answers")
    predictor = Predictor.load(model_dir, engine="torch")
    probs = predictor.predict_proba([load_image(p) for p in paths])
    expected = [predictor.classes[i] for i in probs.argmax(axis=1)]
    progress.update(stage="Comparing, then timing requests")
    return check_service(uri, paths, expected, key, n_requests, report, deployment)
