"""Two people on one studio server, in two real browser sessions, training at the same time.

Each session sees only its own progress and result; pressing Stop in one stops only that
one, and the other trains to the end.  The first training on a machine exports the backbone
to ONNX, and two sessions doing that at once must both succeed (checked in-process too).

The browser test drives Debian's Chromium through Playwright (it skips without it), on a
Streamlit server sharing the test session's studio home (its feature cache makes the run
short once another test has trained on the sample data).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import launch_chromium, page_exceptions, streamlit_server, wait_for_app

PAGE_PATH = "Training_introduction"
TIMEOUT_MS = 300_000
"""Generous: on an idle laptop the whole test takes about a minute, but loading PyTorch in
the server and computing the first features can take minutes on a crowded CI machine."""


def open_training_page(browser, url: str):
    """A new browser session (its own cookies and tab) on page 01."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/{PAGE_PATH}", timeout=TIMEOUT_MS)
    wait_for_app(page, TIMEOUT_MS)
    page.get_by_role("button", name="▶ Train").wait_for(timeout=TIMEOUT_MS)
    return page


def choose_lite0(page) -> None:
    """EfficientNet-Lite0 as the architecture (quick mode is the default)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option", name=re.compile(r"^efficientnet_lite0 "))
    for _ in range(5):  # a rerun that lands while the list is open closes it: open it again
        wait_for_app(page, TIMEOUT_MS)
        page.locator("[data-testid='stSelectbox']").filter(has_text="Architecture").click()
        try:
            option.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    wait_for_app(page, TIMEOUT_MS)


def choose_full_training(page, epochs: int) -> None:
    """Full mode (fine-tuning) of EfficientNet-Lite0 for ``epochs`` epochs."""
    radio = page.locator("[data-testid='stRadio']").filter(has_text="Training mode")
    radio.get_by_text("full", exact=True).click()
    wait_for_app(page, TIMEOUT_MS)
    choose_lite0(page)
    box = page.get_by_label("Epochs (full mode)")
    box.fill(str(epochs))
    box.press("Enter")
    wait_for_app(page, TIMEOUT_MS)


def press(page, name: str) -> None:
    """Click a button by its label."""
    page.get_by_role("button", name=name).click()


def shows(page, text: str) -> bool:
    """Whether ``text`` is visible anywhere on the page now."""
    return page.get_by_text(text).first.is_visible()


def running(page) -> bool:
    """Whether the page shows a training progress bar."""
    return page.locator("[data-testid='stProgress']").count() > 0


def session_id(page) -> str:
    """The session id the studio keeps in the URL (``?sid=``)."""
    return parse_qs(urlsplit(page.url).query)["sid"][0]


def metric(page, label: str) -> str | None:
    """The value of the metric card called ``label``, if the page shows one."""
    cards = page.locator("[data-testid='stMetric']").filter(has_text=label)
    if not cards.count():
        return None
    return cards.first.locator("[data-testid='stMetricValue']").inner_text()


@pytest.mark.browser
@pytest.mark.slow
def test_two_sessions_train_at_once_and_a_stop_in_one_leaves_the_other(studio_home_for_tests):
    from playwright.sync_api import sync_playwright

    with streamlit_server(studio_home_for_tests) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        stopper = open_training_page(browser, url)
        finisher = open_training_page(browser, url)
        assert session_id(stopper) != session_id(finisher)
        choose_full_training(stopper, epochs=30)
        choose_lite0(finisher)  # quick training (page 01's workshop preset is full now)

        press(stopper, "▶ Train")
        stopper.get_by_role("button", name="⏹ Stop").wait_for(timeout=TIMEOUT_MS)
        press(finisher, "▶ Train")
        finisher.locator("[data-testid='stProgress']").wait_for(timeout=TIMEOUT_MS)
        assert running(finisher) and running(stopper), "both sessions train at once"
        assert finisher.get_by_role("button", name="⏹ Stop").count() == 1, \
            "each session shows its own job only"
        press(stopper, "⏹ Stop")

        stopper.get_by_text("Stopped on request").wait_for(timeout=TIMEOUT_MS)
        finisher.get_by_text("Validation accuracy").wait_for(timeout=TIMEOUT_MS)
        assert not running(finisher)
        assert not shows(finisher, "Stopped on request"), "the stop reached the other session"
        assert metric(finisher, "Mode") == "quick"
        assert metric(stopper, "Mode") in (None, "full"), "a session shows another's result"
        assert not running(stopper)
        assert page_exceptions(stopper) == [] and page_exceptions(finisher) == []
        browser.close()


def test_two_first_trainings_at_once_share_one_backbone_export(tmp_path, monkeypatch):
    """The first training on a machine exports the backbone to ONNX; two sessions doing
    that at the same moment used to fail one of them (torch.onnx.export is not
    re-entrant)."""
    import threading

    import onnxruntime as ort

    from cvlib.training.features import backbone_onnx

    monkeypatch.setenv("CVLIB_HOME", str(tmp_path))
    outcomes: list[object] = []

    def first_training() -> None:
        try:
            outcomes.append(backbone_onnx("efficientnet_lite0", 224))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            outcomes.append(exc)

    sessions = [threading.Thread(target=first_training) for _ in range(2)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join()
    expected = tmp_path / "backbones" / "efficientnet_lite0-224.onnx"
    assert outcomes == [expected, expected]
    ort.InferenceSession(str(expected), providers=["CPUExecutionProvider"])
