"""Helpers for page tests with Streamlit's AppTest: open a page, wait for background jobs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


def open_page(page_file: str, timeout: float = 120) -> AppTest:
    """AppTest of the whole app switched to one page (so page links resolve)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page_file)
    at.run()
    return at


def run_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 600,
              every: float = 1.0) -> AppTest:
    """Rerun the page until ``done(at)`` holds (background jobs finish between reruns)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if done(at) or at.exception:
            return at
        time.sleep(every)
    raise TimeoutError("the page did not reach the expected state in time")


def metric_values(at: AppTest) -> dict[str, str]:
    """Metric cards by label."""
    return {m.label: m.value for m in at.metric}
