"""App first paint and page-switch times in headless Chromium (Debian's), on loopback.

First paint: from navigation to the home page's title being visible, in a fresh browser
context, after the server answers its health check.  Page switch: from a click in the
sidebar to the next page's title.  Medians over several tries; the first-ever load (which
also warms Streamlit's own caches) is reported separately.

Usage: .venv/bin/python bench/app_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def browser_harness() -> ModuleType:
    """``tests/browser.py``, loaded from its file.

    The bench starts the app and Chromium exactly as the browser tests do; ``tests`` is not
    part of the installed package, so it is loaded by path rather than imported.
    """
    spec = importlib.util.spec_from_file_location("browser", REPO / "tests" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = browser_harness()

SWITCHES = [("Training introduction", "01 · Training introduction"),
            ("Multi label", "02"), ("Accuracy vs speed", "03"), ("Live scoring", "00")]


def first_paint(browser, url: str) -> float:
    """Seconds from navigation to the home title in a new context (no browser cache)."""
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Image classification studio").wait_for(timeout=60_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def page_switches(browser, url: str) -> list[float]:
    """Seconds per sidebar click until the target page's title shows."""
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("heading", name="Image classification studio").wait_for(timeout=60_000)
    times = []
    for link, heading in SWITCHES:
        nav = page.locator("[data-testid='stSidebarNav'] a", has_text=link)
        if nav.count() == 0:
            continue
        start = time.perf_counter()
        nav.first.click()
        page.locator("h1", has_text=heading).first.wait_for(timeout=60_000)
        times.append(time.perf_counter() - start)
        print(f"  switch to {link}: {times[-1]:.2f} s")
    page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    exe = harness.chromium_path()
    if exe is None:
        raise SystemExit("Chromium not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home, harness.streamlit_server(Path(home)) as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=harness.CHROMIUM_ARGS)
        cold = first_paint(browser, url)
        warm = [first_paint(browser, url) for _ in range(args.repeats)]
        switches = [t for _ in range(max(1, args.repeats // 2))
                    for t in page_switches(browser, url)]
        browser.close()
    print(f"first paint, first load after server start: {cold:.2f} s")
    print(f"first paint, new browser context (median of {len(warm)}): "
          f"{statistics.median(warm):.2f} s (max {max(warm):.2f})")
    print(f"page switch (median of {len(switches)}): {statistics.median(switches):.2f} s "
          f"(max {max(switches):.2f})")
    print("targets: first paint <= 3 s, page switch <= 1 s")


if __name__ == "__main__":
    main()
