"""Page 10 in a real browser: every button of the annotator shows its whole label.

Driven in Debian's Chromium through Playwright (skips without it), on a Streamlit server
with a fresh studio home, on the practice copy of the repository's sample images, at a
common laptop width.  A screenshot of the annotator is kept beside the test's temporary
files for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import launch_chromium, page_exceptions, streamlit_server, wait_for_app

pytestmark = [pytest.mark.browser]
TIMEOUT_MS = 90_000
TRUNCATED = """() => [...document.querySelectorAll("[data-testid^='stBaseButton']")]
    .filter(b => b.offsetParent !== null)
    .flatMap(b => [...b.querySelectorAll('p, div, span')]
        .filter(el => el.scrollWidth > el.clientWidth + 1)
        .map(() => b.innerText.trim()))"""
"""Texts of visible buttons in which some text is cut (an ellipsis, or clipped)."""


@pytest.mark.parametrize("width", [1280, 1024])
def test_annotator_buttons_show_their_whole_labels(tmp_path: Path, width: int):
    from playwright.sync_api import sync_playwright

    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        page.goto(f"{url}/Annotation", timeout=TIMEOUT_MS)
        wait_for_app(page, TIMEOUT_MS)
        classes = page.get_by_label("Add classes (comma-separated)")
        classes.fill("bottle, can, carton, jar")
        classes.press("Enter")
        wait_for_app(page, TIMEOUT_MS)
        page.get_by_role("button", name="1 · bottle").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Next to do").first.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"page10-{width}.png"), full_page=True)
        cut = page.evaluate(TRUNCATED)
        assert not page_exceptions(page)
    assert not cut, f"buttons with cut labels at {width} px: {sorted(set(cut))}"
