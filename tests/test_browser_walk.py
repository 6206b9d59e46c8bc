"""A learner's walk through the whole tutorial in a real browser, on the sample data.

Every page of the tutorial, in order (``ui.common.available_pages()``), opens without an
exception and (but the last) links on to the next one.  With ``CVLIB_SCREENSHOTS=1`` a PNG
of each page is saved under ``docs/screenshots/`` for the README.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import launch_chromium, page_exceptions, streamlit_server, wait_for_app
from ui.common import available_pages

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def url_path(file: str) -> str:
    """Streamlit's URL for a page file: the name without ``NN_`` and ``.py``."""
    return Path(file).stem.split("_", 1)[1]


def screenshot(page, name: str) -> None:
    """Save a full-page PNG when screenshots are asked for."""
    if os.environ.get("CVLIB_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def shows(page, text: str, timeout_ms: int = 120_000) -> bool:
    """Wait until ``text`` is on the page; False when it never comes.

    Streamlit's running indicator is not a reliable signal in a headless browser, so the
    page's own last elements ("What to try next" and the link onwards) tell that the
    script reached its end.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def test_every_page_of_the_tutorial_opens_without_error(tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    pages = available_pages()
    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text("The tutorial map").wait_for(timeout=120_000)
        wait_for_app(page, timeout_ms=120_000)
        assert page_exceptions(page) == [], "home page"
        screenshot(page, "00_home")
        errors, no_link_onwards = {}, []
        for n, (file, title, _) in enumerate(pages):
            page.goto(f"{url}/{url_path(file)}")
            page.locator("h1").first.wait_for(timeout=180_000)  # every page opens with a title
            onwards = f"Next: {pages[n + 1][1]}" if n + 1 < len(pages) else "What to try next"
            if not shows(page, onwards):
                no_link_onwards.append(title)
            if page_exceptions(page):
                errors[title] = page_exceptions(page)
            screenshot(page, Path(file).stem)
        browser.close()
    assert errors == {}
    assert no_link_onwards == [], f"these pages do not end with a link onwards: {no_link_onwards}"


PLOTS = "() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p.data || [])"
"""Every Plotly chart's traces, as the browser holds them."""


def workshop_run(page, url: str, path: str, toggle: str, button: str, done: str) -> float:
    """Open a page, switch its workshop preset on, press its button; seconds until ``done``."""
    import time

    page.goto(f"{url}/{path}")
    page.get_by_text(toggle).first.click(timeout=180_000)
    page.get_by_role("button", name=button).first.click(timeout=60_000)
    start = time.perf_counter()
    assert shows(page, done, timeout_ms=1_800_000), f"{path}: '{done}' never came"
    seconds = time.perf_counter() - start
    print(f"{path} workshop preset: {seconds:.0f} s from the click to '{done}'")
    return seconds


@pytest.mark.slow
def test_page_01s_workshop_run_draws_training_and_validation_curves_epoch_by_epoch(tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        workshop_run(page, url, "Training_introduction",
                     "Workshop preset (under 2 minutes on a laptop CPU)", "▶ Train",
                     "Validation accuracy")
        curves = [trace for plot in page.evaluate(PLOTS) for trace in plot
                  if trace.get("name") in ("training", "validation")
                  and trace.get("type") == "scatter"]
        assert page_exceptions(page) == []
        browser.close()
    assert {t["name"] for t in curves} == {"training", "validation"}
    assert all(len(t["x"]) > 1 for t in curves), [(t["name"], t["x"]) for t in curves]


@pytest.mark.slow
def test_page_11s_workshop_heatmap_varies_along_the_learning_rate_axis(tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        workshop_run(page, url, "Hyperparameters", "Workshop preset (3 learning rates",
                     "▶ Run the grid", "Best setting")
        page.get_by_text("Which settings matter?").wait_for(timeout=60_000)
        (heatmap,) = [trace for plot in page.evaluate(PLOTS) for trace in plot
                      if trace.get("type") == "heatmap"]
        assert page_exceptions(page) == []
        browser.close()
    assert heatmap["x"] == ["1e-05", "1e-03", "0.01"] and heatmap["y"] == ["all runs"]
    (row,) = heatmap["z"]
    assert len(set(row)) > 1, f"accuracy is the same at every learning rate: {row}"
