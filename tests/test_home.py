"""The home page is a map of the tutorial: stages, each page once, in order."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.common import available_pages

REPO = Path(__file__).resolve().parent.parent


def test_the_home_page_maps_every_page_under_its_stage():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not app.exception
    headings = [m.value for m in app.markdown if m.value.startswith("#### ")]
    stages = [h.split("\n")[0] for h in headings]
    assert stages[:3] == ["#### 👀 See", "#### 🎓 Train", "#### 🛠️ Improve"][:len(stages[:3])]
    assert any("Deploy" in s for s in stages) and any("Help" in s for s in stages)
    links = [el.proto.page for el in app.get("page_link")]
    expected = [file for file, _, _ in available_pages()]
    # a page link names its page by URL path: the file name without "NN_" and ".py"
    assert links == [Path(file).stem.split("_", 1)[1] for file in expected]


def test_the_faq_page_renders_the_faq_and_filters_it():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    app.switch_page("pages/90_FAQ.py")
    app.run()
    assert not app.exception
    questions = [e.label for e in app.expander]
    assert len(questions) >= 12 and "How many images do I need?" in questions
    app.text_input(key="p90:search").input("leakage").run()
    found = [e.label for e in app.expander]
    assert "How should I split train and test data, and what is leakage?" in found
    assert len(found) < len(questions)
