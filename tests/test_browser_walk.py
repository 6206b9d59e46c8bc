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
