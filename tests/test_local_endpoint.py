"""The local endpoint for real: Azure ML's inference server on loopback, hit over HTTP.

The server runs in the studio's own serving environment (created on first use, then
reused), exactly as ``python -m cvlib serve`` and page 21 start it.  No request may ever be
answered with a 500: bad input gets a 4xx status and a message.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from cvlib.azure.service_test import check_service, post_json
from cvlib.serving.server import LocalEndpoint, start_local_endpoint
from tests.samples import CLASSES
from tests.samples import photos as class_photos


def free_port() -> int:
    """A port nothing listens on, chosen by the OS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def b64(data: bytes) -> str:
    """Base64 text, as a client sends it."""
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def endpoint(sample_model_dir: Path) -> Iterator[LocalEndpoint]:
    """One server for the module, stopped afterwards."""
    server = start_local_endpoint(sample_model_dir, port=free_port(), log=lambda _: None)
    yield server
    server.stop()
    assert not server.running()


@pytest.fixture(scope="module")
def photos() -> list[tuple[Path, str]]:
    """Two sample photos per class with their true label (the model was fitted on them)."""
    return [(p, c) for c in CLASSES for p in class_photos(c, 2)]


def test_it_listens_on_loopback_only(endpoint):
    assert endpoint.scoring_uri.startswith("http://127.0.0.1:")
    assert endpoint.running()


def test_the_seed_request_format_predicts_the_photos_right(endpoint, photos):
    reply = post_json(endpoint.scoring_uri, {"data": [b64(p.read_bytes()) for p, _ in photos]})
    assert reply.status == 200
    assert [a["label"] for a in reply.body["predictions"]] == [c for _, c in photos]


def huge_png() -> bytes:
    """100 megapixels of one grey: small on the wire, a bomb once decoded."""
    out = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(("body", "status"), [
    (b"{malformed", 400),
    (json.dumps({"data": ["***not base64***"]}).encode(), 400),
    (json.dumps({"data": [b64(b"plain text, not an image")]}).encode(), 400),
    (json.dumps({"data": ["QUJD"] * 33}).encode(), 413),
    (json.dumps({"data": [b64(huge_png())]}).encode(), 400),
])
def test_bad_requests_get_a_4xx_with_a_message_never_a_500(endpoint, body, status):
    reply = post_json(endpoint.scoring_uri, body)
    assert reply.status == status
    assert isinstance(reply.body, dict) and reply.body["message"]


def test_an_oversized_request_is_refused_from_its_length_before_it_is_read(endpoint):
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=30)
    connection.putrequest("POST", "/score")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(500 * 1024 * 1024))
    connection.endheaders(b'{"data": ["')
    response = connection.getresponse()
    assert response.status == 413
    assert "limit" in json.loads(response.read())["message"]
    connection.close()


def test_the_service_agrees_with_the_app_and_reports_latency(endpoint, sample_model_dir,
                                                             photos):
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor

    predictor = Predictor.load(sample_model_dir, engine="torch")
    probs = predictor.predict_proba([load_image(p) for p, _ in photos])
    in_app = [predictor.classes[i] for i in probs.argmax(axis=1)]
    report = check_service(endpoint.scoring_uri, [p for p, _ in photos], in_app, n_requests=20)
    assert report.agreement == 1.0 and not report.errors
    assert 0 < report.latency_ms["p50"] <= report.latency_ms["p95"]
