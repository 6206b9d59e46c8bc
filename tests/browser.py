"""Helpers for the real-browser tests: a Streamlit server and Debian's Chromium.

Chromium comes from Debian's ``chromium`` package (found with ``which chromium``) and is
driven by Playwright through ``executable_path``; ``playwright install`` is never used.
Without Chromium the browser tests skip, saying how to enable them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
SKIP_MESSAGE = ("Chromium not found: install Debian's package to run the browser tests "
                "(apt-get install -y chromium); Playwright drives it via executable_path")


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium")


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, timeout: float = 90.0) -> None:
    """Block until Streamlit answers its health check."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"Streamlit did not start at {url} within {timeout:.0f} s")


@contextmanager
def streamlit_server(home: Path, port: int | None = None, host: str = "127.0.0.1",
                     options: tuple[str, ...] = ()) -> Iterator[str]:
    """Run ``streamlit run app.py`` on loopback with its own studio home; yield its URL.

    ``options`` are more ``--section.option value`` pairs for Streamlit (benchmarks use
    them to compare a setting of ``.streamlit/config.toml`` with Streamlit's default).
    """
    port = port or free_port()
    env = {**os.environ, "CVLIB_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    log = open(home / f"streamlit-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", host, "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    try:
        wait_for_health(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


CACHES = ("features", "backbones")
"""The studio home's caches: content-addressed and written atomically, so safe to share."""


def share_caches(home: Path, source: Path) -> Path:
    """Give ``home`` the feature and backbone caches of ``source`` (the test session's home).

    A browser test's server keeps its own models, runs and settings, but need not export
    the ImageNet backbones and compute the sample photos' features again when an earlier
    test has.
    """
    for name in CACHES:
        (source / name).mkdir(parents=True, exist_ok=True)
        (home / name).symlink_to(source / name, target_is_directory=True)
    return home


def launch_chromium(playwright, extra_args: list[str] | None = None):
    """Launch Debian's Chromium through Playwright (skips the test when absent)."""
    exe = chromium_path()
    if exe is None:
        pytest.skip(SKIP_MESSAGE)
    return playwright.chromium.launch(executable_path=exe,
                                      args=CHROMIUM_ARGS + (extra_args or []))


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the page script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
        timeout=timeout_ms)


def page_exceptions(page) -> list[str]:
    """Texts of Streamlit exception boxes shown on the page."""
    return [el.inner_text() for el in page.query_selector_all("[data-testid='stException']")]
