"""The home page says where to start and maps the tutorial: stages, each page once, in order."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.common import available_pages

REPO = Path(__file__).resolve().parent.parent


def url_path(file: str) -> str:
    """A page link names its page by URL path: the file name without "NN_" and ".py"."""
    return Path(file).stem.split("_", 1)[1]


def test_the_home_page_says_where_to_start_then_maps_every_page_under_its_stage():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert any("Start here" in m.value for m in app.markdown)
    headings = [m.value for m in app.markdown if m.value.startswith("#### ")]
    stages = [h.split("\n")[0] for h in headings]
    assert stages[:3] == ["#### 👀 See", "#### 🎓 Train", "#### 🛠️ Improve"][:len(stages[:3])]
    assert any("Deploy" in s for s in stages) and any("Help" in s for s in stages)
    links = [el.proto.page for el in app.get("page_link")]
    expected = [url_path(file) for file, _, _ in available_pages()]
    assert links[0] == expected[0]  # "Start: 00 Live scoring"
    assert links[1:] == expected


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


def test_every_page_an_faq_answer_names_is_a_link_to_that_page():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    app.switch_page("pages/90_FAQ.py")
    app.run()
    app.text_input(key="p90:search").input("detection").run()
    links = {el.proto.page for el in app.get("page_link")}
    mentioned = " ".join(m.value for m in app.markdown)
    assert "page 02" in mentioned and "Multi_label" in links


# The app as one frame: one dataset choice for the whole tutorial, kept across pages.

def copy_of_sample_data(folder: Path, classes: int = 3) -> Path:
    """A folder dataset of a few sample classes (a different dataset from the sample's)."""
    import shutil

    source = REPO / "sample_data" / "fridge4"
    for cls in sorted(p.name for p in source.iterdir() if p.is_dir())[:classes]:
        shutil.copytree(source / cls, folder / cls)
    return folder


def test_the_dataset_chosen_on_one_page_is_the_dataset_of_every_page(tmp_path):
    folder = copy_of_sample_data(tmp_path / "mine")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    app.switch_page("pages/01_Training_introduction.py")
    app.run()
    app.radio(key="tutorial:single-source").set_value("A folder on this machine").run()
    app.text_input(key="tutorial:single-folder").set_value(str(folder)).run()
    app.toggle(key="p01:workshop").set_value(True).run()
    assert {m.label: m.value for m in app.metric}["Classes"] == "3"

    for other in ("pages/03_Accuracy_vs_speed.py", "pages/13_Errors_and_history.py",
                  "pages/01_Training_introduction.py"):
        app.switch_page(other)
        app.run()
        assert not app.exception, other
        if other != "pages/13_Errors_and_history.py":  # page 13 works on recorded runs
            assert app.text_input(key="tutorial:single-folder").value == str(folder), other
            assert {m.label: m.value for m in app.metric}["Classes"] == "3", other
    assert app.toggle(key="p01:workshop").value is True  # back on 01: the preset is still on
    assert app.query_params["data"] == [str(folder)] or app.query_params["data"] == str(folder)


def test_a_reload_finds_the_dataset_again_from_the_url(tmp_path):
    folder = copy_of_sample_data(tmp_path / "mine", classes=2)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.query_params["data"] = str(folder)  # a reload: a new session with the same URL
    app.run()
    app.switch_page("pages/11_Hyperparameters.py")
    app.run()
    assert not app.exception
    assert app.radio(key="tutorial:single-source").value == "A folder on this machine"
    assert app.text_input(key="tutorial:single-folder").value == str(folder)


def test_the_sample_data_choice_is_written_to_the_url_by_its_name():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    app.switch_page("pages/01_Training_introduction.py")
    app.run()
    assert app.query_params["data"] in ("sample:fridge4", ["sample:fridge4"])
