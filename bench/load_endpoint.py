"""Load test of the local scoring endpoint: many concurrent clients on loopback.

Starts Azure ML's inference server with our ``score.py`` (exactly as ``python -m cvlib serve``
and page 21 do), sends real photos in the seed's request format from several client threads
at once, and prints latency percentiles (p50 is the typical wait, p95 the wait one request in
twenty exceeds, p99 one in a hundred), throughput, and every error seen.  With several client
counts it also prints how throughput scales against one client.

    .venv/bin/python bench/load_endpoint.py                      # trains a quick model first
    .venv/bin/python bench/load_endpoint.py --model ~/.cvlib-studio/models/fridge \
        --requests 2000 --clients 1,8

The test suite runs the same load (tests/test_load_endpoint.py) and fails on any error.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO.parent / "shared" / "data" / "groceries4"


@dataclass
class LoadReport:
    """What a load run measured: latencies of the answered requests, and every failure.

    ``unsent`` counts the requests still waiting when the deadline passed: a slow machine,
    not a failure of the server.
    """

    clients: int
    requests: int
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    unsent: int = 0

    @property
    def percentiles_ms(self) -> dict[str, float]:
        """p50, p95 and p99 of the answered requests, in milliseconds."""
        if not self.latencies_s:
            return {}
        values = np.percentile(np.array(self.latencies_s) * 1000, [50, 95, 99])
        return {name: round(float(v), 1) for name, v in zip(("p50", "p95", "p99"), values,
                                                            strict=True)}

    @property
    def throughput(self) -> float:
        """Answered requests per second over the whole run."""
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0

    def summary(self) -> str:
        """One line for people."""
        p = self.percentiles_ms
        answered = len(self.latencies_s)
        done = (f"{self.requests} requests" if not self.unsent else
                f"{answered} of {self.requests} requests answered before the deadline")
        return (f"{done}, {self.clients} clients: "
                f"p50 {p.get('p50', 0):.1f} ms, p95 {p.get('p95', 0):.1f} ms, "
                f"p99 {p.get('p99', 0):.1f} ms, {self.throughput:.1f} req/s, "
                f"{len(self.errors)} errors, {self.wall_s:.1f} s")


def request_bodies(photos: Sequence[Path]) -> list[bytes]:
    """One request per photo, in the seed's format (one base64 image, top 3)."""
    return [json.dumps({"data": [base64.b64encode(p.read_bytes()).decode()], "top_k": 3})
            .encode() for p in photos]


def run_load(scoring_uri: str, bodies: Sequence[bytes], n_requests: int = 2000,
             clients: int = 8, timeout_s: float = 30.0, deadline_s: float = 600.0,
             ) -> LoadReport:
    """Send ``n_requests`` from ``clients`` threads, each with its own HTTP connection.

    Requests are handed out from a shared counter, so fast clients take more; none is sent
    after ``deadline_s``, which bounds the run on a slow machine (the rest are counted as
    ``unsent``).  A request counts as answered only with status 200 and one prediction.
    """
    report = LoadReport(clients, n_requests)
    counter = iter(range(n_requests))
    lock = threading.Lock()
    start = time.perf_counter()

    def client() -> None:
        url = urlsplit(scoring_uri)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout_s)
        try:
            while time.perf_counter() - start < deadline_s:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                latency, error = _one_request(connection, url.path, bodies[index % len(bodies)])
                with lock:
                    if error:
                        report.errors.append(f"request {index}: {error}")
                    else:
                        report.latencies_s.append(latency)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, name=f"load-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.wall_s = time.perf_counter() - start
    report.unsent = n_requests - len(report.latencies_s) - len(report.errors)
    return report


def _one_request(connection: http.client.HTTPConnection, path: str,
                 body: bytes) -> tuple[float, str | None]:
    """POST one body; ``(seconds, None)`` on a good answer, ``(seconds, reason)`` otherwise."""
    began = time.perf_counter()
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # reconnect on the next request
        return time.perf_counter() - began, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - began
    if response.status != 200:
        return seconds, f"HTTP {response.status}: {raw[:200]!r}"
    predictions = json.loads(raw).get("predictions", [])
    if len(predictions) != 1 or "label" not in predictions[0]:
        return seconds, f"unexpected answer {raw[:200]!r}"
    return seconds, None


def free_port() -> int:
    """A loopback port nothing listens on, chosen by the OS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quick_model(folder: Path) -> Path:
    """Train (quick mode, EfficientNet-Lite0 at 224 px) on the real photos and save."""
    from cvlib.data.dataset import load_dataset
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    config = TrainConfig(mode="quick", architecture="efficientnet_lite0", image_size=224)
    return train(load_dataset(PHOTOS), config).save(folder)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, serve the model, run the load once per client count, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="saved model folder (default: train one)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args(argv)

    from cvlib.serving.server import start_local_endpoint

    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or quick_model(Path(scratch) / "model")
        endpoint = start_local_endpoint(model, port=free_port(), workers=args.workers,
                                        log=lambda line: print(line, file=sys.stderr))
        try:
            bodies = request_bodies(sorted(PHOTOS.glob("*/*.jpg"))[::20])
            reports = [run_load(endpoint.scoring_uri, bodies, args.requests, int(n))
                       for n in args.clients.split(",")]
        finally:
            endpoint.stop()
    for report in reports:
        print(report.summary())
        for error in report.errors[:5]:
            print(f"  {error}")
    if len(reports) > 1:
        base = reports[0]
        for report in reports[1:]:
            print(f"throughput {report.clients} vs {base.clients} clients: "
                  f"{report.throughput / base.throughput:.2f}x; p95 "
                  f"{report.percentiles_ms['p95'] / base.percentiles_ms['p95']:.2f}x")


if __name__ == "__main__":
    main()
