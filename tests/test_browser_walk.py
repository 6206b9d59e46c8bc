"""A learner's walk through the whole tutorial in a real browser, on the sample data.

The walk goes page by page through the sidebar, as a learner does, in one browser
session, does each page's main action with the workshop presets and asserts what the
learner sees: one dataset choice that follows them, progress from the first second and a
page that updates by itself when a job ends, a clickable confusion matrix, models saved
by name without silent overwrites.  The time each step takes is printed at the end.
With ``CVLIB_SCREENSHOTS=1`` a PNG of each page is saved under ``docs/screenshots/``.

Structure, for whoever adds to it: the fixtures (``studio``: one server for the module;
``learner``: a fresh browser page), then the helpers (``visit``, ``shows``, ``timed``...),
then the walk, then the checks of single pages.  Add new test functions at the end.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cvlib.training.presets import WORKSHOP_GRID
from tests.browser import (
    launch_chromium,
    page_exceptions,
    share_caches,
    streamlit_server,
    wait_for_app,
)
from ui.common import available_pages

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "screenshots"
SAMPLE = REPO / "sample_data" / "fridge4"
LONG_MS = 480_000  # a training on a busy 2-core CPU shared by several test runs

pytestmark = pytest.mark.browser

TIMINGS: dict[str, float] = {}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory,
           studio_home_for_tests: Path) -> Iterator[tuple[str, Path]]:
    """One Streamlit server with its own studio home (the session's caches): ``(url, home)``."""
    pytest.importorskip("playwright")
    home = share_caches(tmp_path_factory.mktemp("walk-home"), studio_home_for_tests)
    with streamlit_server(home) as url:
        yield url, home


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """Debian's Chromium, once for the module."""
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def learner(chromium) -> Iterator:
    """A fresh browser context and page: a new learner."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module", autouse=True)
def print_timings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how long each step of the walk took, once the module is done."""
    yield
    if TIMINGS:
        plugins = request.config.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        write = reporter.write_line if reporter else print
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
            write("\nbrowser walk, seconds per step:")  # shown under -q, not captured
            for step, seconds in TIMINGS.items():
                write(f"  {seconds:6.1f}  {step}")
            write(f"  {sum(TIMINGS.values()):6.1f}  total")


# ---------------------------------------------------------------- helpers

@contextmanager
def timed(step: str) -> Iterator[None]:
    """Record how long ``step`` takes."""
    start = time.perf_counter()
    yield
    TIMINGS[step] = time.perf_counter() - start


def url_path(file: str) -> str:
    """Streamlit's URL for a page file: the name without ``NN_`` and ``.py``."""
    return Path(file).stem.split("_", 1)[1]


def screenshot(page, name: str) -> None:
    """Save a full-page PNG when screenshots are asked for."""
    if os.environ.get("CVLIB_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def shows(page, text: str, timeout_ms: int = 120_000) -> bool:
    """Wait until ``text`` is on the page; False when it never comes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def visit(page, title: str) -> None:
    """Open a page from the sidebar, as a learner does, and wait until it has drawn."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    heading = title.split()[0]  # "01", or "FAQ": the page's own title starts with it
    link = page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True)
    for _ in range(3):  # a click while the previous page is still loading can be dropped
        link.click()
        try:
            page.locator("h1").filter(has_text=heading).first.wait_for(timeout=40_000)
            break
        except PlaywrightTimeout:
            continue
    page.locator("h1").filter(has_text=heading).first.wait_for(timeout=120_000)
    assert shows(page, "What to try next"), f"{title} did not finish drawing"


def click(page, name: str) -> None:
    """Click the button whose label contains ``name``."""
    page.get_by_role("button", name=name).first.click()


def toggle(page, label: str) -> None:
    """Switch a toggle by clicking it (not a paragraph that happens to mention its label)."""
    page.locator("[data-testid='stCheckbox']").filter(has_text=label).first.click()


def progress_text(page, timeout_ms: int = 10_000) -> str:
    """The text of the first progress bar, once one shows."""
    bar = page.locator("[data-testid='stProgress']").first
    bar.wait_for(timeout=timeout_ms)
    return bar.inner_text()


def folder_choice(page, folder: Path) -> None:
    """Choose "A folder on this machine" and type ``folder``."""
    page.get_by_text("A folder on this machine").first.click()
    box = page.get_by_role("textbox", name="Folder path")
    box.wait_for(timeout=30_000)
    box.fill(str(folder))
    box.press("Enter")


def sample_choice(page) -> None:
    """Go back to the sample data."""
    page.get_by_text("Sample data", exact=True).first.click()


def three_sample_classes(folder: Path) -> Path:
    """Another dataset: three of the sample's four classes, in a folder of its own."""
    for cls in sorted(p.name for p in SAMPLE.iterdir() if p.is_dir())[:3]:
        shutil.copytree(SAMPLE / cls, folder / cls)
    return folder


def click_heatmap_cell(page, row: int, col: int) -> None:
    """Click the centre of cell (row, col) of the first Plotly chart on the page."""
    x, y = page.evaluate(
        """([row, col]) => {
            const gd = document.querySelector('.js-plotly-plot');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(col), box.top + ya._offset + ya.l2p(row)];
        }""", [row, col])
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def cell_tiles(page, cell: str, timeout_s: float = 90) -> list[str]:
    """Captions of page 13's image tiles, once every one of them belongs to ``cell``.

    The rerun a click starts keeps the previous cell's tiles on screen (faded) until
    it has drawn the new ones, so a single look can see either: wait for the new ones,
    and return what is shown at the end either way (the caller asserts on it).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        captions = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
        tiles = [c for c in captions if "· loss" in c]
        if (tiles and all(cell in t for t in tiles)) or time.monotonic() > deadline:
            return tiles
        page.wait_for_timeout(500)


# ---------------------------------------------------------------- the walk

def test_a_learner_walks_the_tutorial_and_sees_what_each_page_promises(
        studio, learner, tmp_path):
    from playwright.sync_api import expect

    url, _ = studio
    page = learner
    other_data = three_sample_classes(tmp_path / "three-classes")
    pages = {title: file for file, title, _ in available_pages()}

    with timed("home"):
        page.goto(url)
        assert shows(page, "Start here")
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.wait_for(timeout=60_000)
        sidebar = nav.inner_text()
        assert "01 Training introduction" in sidebar and "13 Errors and history" in sidebar
        assert "Train" in sidebar and "Improve" in sidebar  # grouped by stage
        assert "app" not in sidebar.split()
        screenshot(page, "00_home")

    with timed("00 Live scoring: open"):
        visit(page, "00 Live scoring")
        assert page.title() == "00 Live scoring"
        screenshot(page, Path(pages["00 Live scoring"]).stem)

    with timed("01 Training introduction: workshop preset (full training, 3 epochs)"):
        visit(page, "01 Training introduction")
        toggle(page, "Workshop preset")
        click(page, "▶ Train")
        started = progress_text(page)  # from the first second, and saying what it does
        assert "waiting" not in started and ("Starting" in started or "·" in started)
        assert page.get_by_role("button", name="⏹ Stop").count() == 1
        assert shows(page, "Validation accuracy", LONG_MS)  # appears by itself
        curves = [trace for plot in page.evaluate(PLOTS) for trace in plot
                  if trace.get("name") in ("training", "validation")
                  and trace.get("type") == "scatter"]
        assert {t["name"] for t in curves} == {"training", "validation"}
        assert all(len(t["x"]) > 1 for t in curves), [(t["name"], t["x"]) for t in curves]
        screenshot(page, Path(pages["01 Training introduction"]).stem)

    with timed("01: save the model by name, twice"):
        name_box = page.get_by_role("textbox", name="Model name")
        # The box is drawn before the browser has filled in its default name: wait for it.
        expect(name_box).to_have_value(re.compile(r"^fridge4-efficientnet_lite0-full-"),
                                       timeout=30_000)
        name = name_box.input_value()
        click(page, "💾 Save model")
        assert shows(page, f"Saved as {name}", 30_000)
        click(page, "💾 Save model")
        assert shows(page, "is already saved", 30_000)  # asks before overwriting
        click(page, f"Replace {name}")
        assert shows(page, f"Saved as {name}", 30_000)

    with timed("02 Multi-label: open, and back to 01: nothing was reset"):
        visit(page, "02 Multi-label")
        assert "data-multi=sample" in page.url  # its own (multi-label) sample choice
        visit(page, "01 Training introduction")
        assert shows(page, "Switch it off to choose", 30_000)  # the preset is still on
        assert shows(page, "Validation accuracy", 30_000)  # and its results still there

    with timed("01: another dataset hides the results; a reload keeps the choice"):
        folder_choice(page, other_data)
        assert shows(page, "other data or other settings", 30_000)
        # The old run's elements stay, faded, until the new script run ends: wait for it.
        expect(page.get_by_text("Validation accuracy")).to_have_count(0, timeout=30_000)
        page.reload()
        box = page.get_by_role("textbox", name="Folder path")
        box.wait_for(timeout=60_000)
        assert box.input_value() == str(other_data)
        sample_choice(page)
        toggle(page, "Workshop preset")
        assert shows(page, "Validation accuracy", 30_000)  # its own results come back

    with timed("03 Accuracy vs speed: the dataset followed"):
        visit(page, "03 Accuracy vs speed")
        metric = page.locator("[data-testid='stMetric']").filter(has_text="Images").first
        assert "120" in metric.inner_text()

    with timed("10 Annotation: open"):
        visit(page, "10 Annotation")
        screenshot(page, Path(pages["10 Annotation"]).stem)

    with timed("11 Hyperparameters: workshop grid (3 learning rates, full training)"):
        visit(page, "11 Hyperparameters")
        toggle(page, "Workshop preset (3 learning rates")
        click(page, "▶ Run the grid")
        assert shows(page, "Best setting", LONG_MS)
        page.get_by_text("Which settings matter?").wait_for(timeout=60_000)
        page.wait_for_function(  # Plotly draws after the text around it
            f"() => ({PLOTS})().flat().some(t => t.type === 'heatmap')", timeout=60_000)
        (heatmap,) = [trace for plot in page.evaluate(PLOTS) for trace in plot
                      if trace.get("type") == "heatmap"]
        lrs = WORKSHOP_GRID["lr"]  # on a log axis, one row: lr is not on both axes
        assert heatmap["x"] == pytest.approx([math.log10(lr) for lr in lrs])
        assert heatmap["y"] == ["all runs"]
        (row,) = heatmap["z"]  # the last epoch's validation accuracy, which it opens on
        assert all(0 <= value <= 1 for value in row), row  # every learning rate has its cell
        assert row[0] - row[-1] >= 0.25, row  # it varies along the LR axis: 1e-1 wrecks it
        assert shows(page, "What the training did", 30_000) and shows(page, "diverged")
        screenshot(page, Path(pages["11 Hyperparameters"]).stem)

    with timed("12 Hard negatives: round 0 and round 1, nothing frozen"):
        visit(page, "12 Hard negatives")
        toggle(page, "Workshop preset")
        click(page, "▶ Round 0")
        assert "waiting" not in progress_text(page)
        assert shows(page, "Review: the", LONG_MS)
        click(page, "➕ Add")
        assert "waiting" not in progress_text(page)  # progress at once, not a frozen page
        assert shows(page, "Round 1: the model names a class", LONG_MS)  # by itself
        screenshot(page, Path(pages["12 Hard negatives"]).stem)

    with timed("13 Errors and history: click a confusion-matrix cell"):
        visit(page, "13 Errors and history")
        click(page, "🔍 Look at this run's mistakes")
        assert shows(page, "Click a cell", LONG_MS)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        classes = sorted(p.name for p in SAMPLE.iterdir() if p.is_dir())
        chosen = page.get_by_role("combobox", name="Images to look at")
        wanted = re.compile(f"^actual {classes[1]} → predicted {classes[1]} ")
        for _ in range(3):  # a click that lands while the chart is still drawing is dropped
            click_heatmap_cell(page, 1, 1)
            try:
                expect(chosen).to_have_value(wanted, timeout=20_000)
                break
            except AssertionError:
                wait_for_app(page)
        expect(chosen).to_have_value(wanted, timeout=30_000)  # the click chose the cell...
        cell = f"· actual {classes[1]} · predicted {classes[1]} "
        tiles = cell_tiles(page, cell)
        assert tiles and [t for t in tiles if cell not in t] == [], tiles  # ...and its images
        screenshot(page, Path(pages["13 Errors and history"]).stem)

    for title in [t for t in pages if t[:2] in ("20", "21", "23", "24")] + ["FAQ"]:
        with timed(f"{title}: open"):
            visit(page, title)
            assert page_exceptions(page) == [], title
            screenshot(page, Path(pages[title]).stem)
    links = page.get_by_role("link", name="Open 01 Training introduction", include_hidden=True)
    assert links.count() >= 1  # under the answers (folded until opened)
    assert page_exceptions(page) == []


def test_every_page_of_the_tutorial_opens_by_its_url_and_links_onwards(studio, learner):
    url, _ = studio
    pages = available_pages()
    errors, no_link_onwards = {}, []
    for n, (file, title, _) in enumerate(pages):
        with timed(f"{title}: open by URL"):
            learner.goto(f"{url}/{url_path(file)}")
            learner.locator("h1").first.wait_for(timeout=180_000)
            onwards = f"Next: {pages[n + 1][1]}" if n + 1 < len(pages) else "What to try next"
            if not shows(learner, onwards):
                no_link_onwards.append(title)
            if page_exceptions(learner):
                errors[title] = page_exceptions(learner)
    assert errors == {}
    assert no_link_onwards == [], f"these pages do not end with a link onwards: {no_link_onwards}"


PLOTS = "() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p.data || [])"
"""Every Plotly chart's traces, as the browser holds them."""
