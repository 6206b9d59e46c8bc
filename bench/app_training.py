"""Every workshop preset's wall time in the app, and how it compares with plain Python.

Clicks each page's workshop action in headless Chromium (Debian's) on the sample data, on
one fresh server and studio home (cold caches, in the tutorial's order): page 01's preset
(full training, 3 epochs), page 02's (quick multi-label), page 03's comparison (tiny and
fast), page 11's grid (three learning rates) and page 12's rounds 0 and 1.  Page 01's and
page 11's work is then timed in this process with ``cvlib`` alone, and the ratio app /
plain Python is printed.

With ``--streamlit-default`` the app also runs once with Streamlit's own
``runner.postScriptGC = true``: a full garbage collection after every script run.  The
progress panels rerun once a second, and with PyTorch loaded each collection holds the GIL
long enough to starve the training thread; ``.streamlit/config.toml`` turns it off.

Usage: .venv/bin/python bench/app_training.py [--streamlit-default] [--only 01,11]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "fridge4"


def browser_harness() -> ModuleType:
    """``tests/browser.py``, loaded from its file (``tests`` is not an installed package)."""
    spec = importlib.util.spec_from_file_location("browser", REPO / "tests" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = browser_harness()


def open_page(browser, url: str, title: str):
    """A new browser session on ``title``, reached from the sidebar as a learner does."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.get_by_text("Start here").first.wait_for(timeout=120_000)
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    page.get_by_text("What to try next").first.wait_for(timeout=180_000)  # imports loaded
    return page


def clicked(page, toggle: str, button: str, done: str) -> float:
    """Seconds from a click on ``button`` (workshop toggle on) until ``done`` shows."""
    page.locator("[data-testid='stCheckbox']").filter(has_text=toggle).first.click()
    page.get_by_role("button", name=button).first.wait_for(timeout=60_000)
    time.sleep(2)  # let the toggle's rerun end
    start = time.perf_counter()
    page.get_by_role("button", name=button).first.click()
    page.get_by_text(done).first.wait_for(timeout=900_000)
    return time.perf_counter() - start


WORKSHOP_ACTIONS = [
    # (what, page title, workshop toggle, button, what shows when it is done)
    ("page 01", "01 Training introduction", "Workshop preset", "▶ Train",
     "Validation accuracy"),
    ("page 02", "02 Multi-label", "Workshop preset", "▶ Train", "Decision threshold"),
    ("page 03", "03 Accuracy vs speed", "Workshop presets", "▶ Compare", "Recommendation:"),
    ("page 11", "11 Hyperparameters", "Workshop preset (3 learning rates", "▶ Run the grid",
     "Best setting"),
    ("page 12", "12 Hard negatives", "Workshop preset", "▶ Round 0", "Review: the"),
]
"""The workshop presets, page by page; ``--only`` keeps those named."""


def next_round(page) -> float:
    """Page 12's second click: seconds from "Add negatives and retrain" to round 1."""
    start = time.perf_counter()
    page.get_by_role("button", name="➕ Add").first.click()
    page.get_by_text("Round 1: the model names a class").first.wait_for(timeout=900_000)
    return time.perf_counter() - start


def in_the_app(options: tuple[str, ...], only: set[str]) -> dict[str, float]:
    """The workshop actions, clicked in the browser on one fresh server."""
    from playwright.sync_api import sync_playwright

    timings = {}
    with tempfile.TemporaryDirectory() as home, \
            harness.streamlit_server(Path(home), options=options) as url, \
            sync_playwright() as pw:
        browser = harness.launch_chromium(pw)
        for what, title, toggle, button, done in WORKSHOP_ACTIONS:
            if what in only:
                page = open_page(browser, url, title)
                timings[what] = clicked(page, toggle, button, done)
                if what == "page 12":
                    timings[what] += next_round(page)
        browser.close()
    return timings


def timed_in_fresh_home(work: Callable[[], object]) -> float:
    """Seconds ``work`` takes with a fresh studio home (cold caches, as the app had)."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["CVLIB_HOME"] = home
        start = time.perf_counter()
        work()
        return time.perf_counter() - start


def in_plain_python() -> dict[str, float]:
    """The same two actions through ``cvlib`` in this process."""
    from cvlib.data.dataset import load_dataset
    from cvlib.training.config import TrainConfig
    from cvlib.training.presets import WORKSHOP_GRID, WORKSHOP_GRID_FIXED, WORKSHOP_TRAINING
    from cvlib.training.sweep import Grid, run_sweep
    from cvlib.training.train import train

    grid = Grid.from_dict({"grid": WORKSHOP_GRID, "fixed": WORKSHOP_GRID_FIXED}, [SAMPLE])
    return {"page 01": timed_in_fresh_home(
                lambda: train(load_dataset(SAMPLE), TrainConfig(**WORKSHOP_TRAINING))),
            "page 11": timed_in_fresh_home(lambda: run_sweep(grid))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streamlit-default", action="store_true",
                        help="also time the app with Streamlit's postScriptGC = true")
    parser.add_argument("--only", default=",".join(a[0].split()[1] for a in WORKSHOP_ACTIONS),
                        help="pages to time, e.g. 01,11 (default: every workshop preset)")
    args = parser.parse_args()
    if harness.chromium_path() is None:
        raise SystemExit("Chromium not found: apt-get install -y chromium")
    only = {f"page {n}" for n in args.only.split(",")}
    runs = {"app": in_the_app((), only)}
    if args.streamlit_default:
        runs["app, Streamlit's GC"] = in_the_app(("--runner.postScriptGC", "true"), only)
    plain = in_plain_python() if {"page 01", "page 11"} & only else {}
    print("seconds from the click to the result (sample data, cold caches):")
    for action in runs["app"]:
        line = f"  {action}:"
        if action in plain:
            line += f" plain Python {plain[action]:5.1f} |"
        for name, timings in runs.items():
            ratio = f" ({timings[action] / plain[action]:.2f}x)" if action in plain else ""
            line += f" {name} {timings[action]:5.1f}{ratio} |"
        print(line.rstrip(" |"))


if __name__ == "__main__":
    main()
