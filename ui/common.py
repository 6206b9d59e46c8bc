"""Page scaffolding shared by every page: header, next step, session identity, jobs, errors."""

from __future__ import annotations

import functools
import logging
import re
import sys
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from cvlib.errors import StudioError
from cvlib.runtime.jobs import JobManager

T = TypeVar("T")

# The tutorial, in order: (file, title, what it teaches).  The home page draws its map
# from this list and every page links to the next one with it.
TUTORIAL: list[tuple[str, str, str]] = [
    ("pages/00_Live_scoring.py", "00 Live scoring",
     "a pretrained ImageNet model scoring your camera, snapshots and uploads"),
    ("pages/01_Training_introduction.py", "01 Training introduction",
     "your first classifier: data, transfer learning, honest validation"),
    ("pages/02_Multi_label.py", "02 Multi-label",
     "several labels per image: sigmoid outputs and decision thresholds"),
    ("pages/03_Accuracy_vs_speed.py", "03 Accuracy vs speed",
     "choosing a model that fits your machine, measured on it"),
    ("pages/10_Annotation.py", "10 Annotation",
     "labelling your own images quickly, with a model's help"),
    ("pages/11_Hyperparameters.py", "11 Hyperparameters",
     "grids of settings, heatmaps, and what really matters"),
    ("pages/12_Hard_negatives.py", "12 Hard negatives",
     "teaching the model what is none of your classes"),
    ("pages/13_Errors_and_history.py", "13 Errors and history",
     "clicking into mistakes, fixing labels, comparing runs"),
    ("pages/20_Azure_workspace.py", "20 Azure workspace",
     "connecting to Azure Machine Learning (SDK v2)"),
    ("pages/21_Deploy.py", "21 Deploy",
     "serving the model: locally, on a managed or a Kubernetes endpoint"),
    ("pages/23_Test_a_service.py", "23 Test a service",
     "checking a deployed model against the app, with latency percentiles"),
    ("pages/24_Cloud_sweep.py", "24 Cloud sweep",
     "hyperparameter sweeps on an Azure GPU cluster"),
    ("pages/90_FAQ.py", "FAQ", "answers to the questions learners ask most"),
]

# The four stages of the tutorial (and help): the sidebar sections and the home page's map.
STAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("👀 See", "what a trained network already recognises, live", ("00",)),
    ("🎓 Train", "your own classes: single-label, multi-label, and the model that fits "
                "your machine", ("01", "02", "03")),
    ("🛠️ Improve", "the data and the settings: labelling, sweeps, negatives, and fixing the "
                   "mistakes", ("10", "11", "12", "13")),
    ("🚀 Deploy", "the model as a service, tested like one, trained in the cloud",
     ("20", "21", "22", "23", "24")),
    ("❓ Help", "answers to the questions learners ask most", ("90",)),
]
# The icon of each page (by its number), for the sidebar and the browser tab.
ICONS = {"00": "📷", "01": "🎓", "02": "🏷️", "03": "⚖️", "10": "✏️", "11": "🎛️", "12": "🚫",
         "13": "🔬", "20": "☁️", "21": "🚀", "22": "🧪", "23": "🧪", "24": "🧹", "90": "❓"}

REPO = Path(__file__).resolve().parent.parent


def log_to_server_console() -> None:
    """Send the library's log lines (camera workers, ...) to the server's stderr, once.

    ``cvlib`` only creates loggers; the app decides where they go, as libraries expect.
    """
    library = logging.getLogger("cvlib")
    if not library.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        library.addHandler(handler)
        library.setLevel(logging.INFO)


log_to_server_console()


def available_pages() -> list[tuple[str, str, str]]:
    """Tutorial entries whose page file exists in this checkout."""
    return [entry for entry in TUTORIAL if (REPO / entry[0]).is_file()]


def page_number(file: str) -> str:
    """The two-digit number of a tutorial page file (``pages/01_...py`` -> ``"01"``)."""
    return file.removeprefix("pages/")[:2]


def stage_pages(prefixes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The tutorial pages of one stage that exist in this checkout, in order."""
    return [entry for entry in available_pages() if page_number(entry[0]) in prefixes]


HOME_TITLE = "Home: start here"


def run_frame() -> None:
    """The studio's frame, run by ``app.py``: page config, session, kept choices, navigation."""
    st.set_page_config(layout="wide")  # title and icon: the current page's (see navigation)
    session_owner()
    keep_url_choices()
    keep_widget_values()
    navigation().run()


def ensure_frame() -> None:
    """Run this page inside ``app.py``'s frame, even when it is a server's first request.

    Streamlit still has its older way of making a multipage app, a ``pages/`` folder next to
    the entry file, and on a server's first run (and in every ``AppTest`` run) it takes
    that way: a page asked for by its URL runs alone, without ``app.py``, so without the
    session, the kept choices and the navigation.  A page that finds itself outside the
    frame runs the frame itself, within the same run (which runs this page again, inside),
    then stops.  A rerun would do the same but lose the click that started this run.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    if not any(page.get("page_name") == HOME_TITLE
               for page in ctx.pages_manager.get_pages().values()):
        run_frame()
        st.stop()


def navigation() -> Any:
    """The app's frame: the home page, then every tutorial page grouped by stage.

    Titles keep the page numbers ("01 Training introduction"), so the sidebar reads like
    the tutorial's table of contents; URLs stay the file names without their number.
    """
    home = st.Page(str(REPO / "home.py"), title=HOME_TITLE, icon="🖼️", default=True)
    sections: dict[str, list[Any]] = {"": [home]}
    for stage, _, prefixes in STAGES:
        pages = [st.Page(str(REPO / file), title=title, icon=ICONS.get(page_number(file)),
                         url_path=Path(file).stem.split("_", 1)[1])
                 for file, title, _ in stage_pages(prefixes)]
        if pages:
            sections[stage] = pages
    return st.navigation(sections)


def page_header(title: str, teaches: str, icon: str = "") -> None:
    """Title and the one sentence saying what the page teaches (inside the app's frame)."""
    ensure_frame()
    st.title(f"{icon} {title}".strip())
    st.caption(teaches)


def next_step(current_file: str, try_next: list[str]) -> None:
    """What to try next on this page, and a link to the next page of the tutorial."""
    st.divider()
    st.subheader("What to try next")
    for idea in try_next:
        st.markdown(f"- {idea}")
    pages = available_pages()
    files = [p[0] for p in pages]
    if current_file in files and files.index(current_file) + 1 < len(files):
        nxt = pages[files.index(current_file) + 1]
        st.page_link(nxt[0], label=f"Next: {nxt[1]} — {nxt[2]}", icon="➡️")


KEPT = "_kept_keys"


def key(page: str, name: str, *, keep: bool = False) -> str:
    """The one widget-key scheme: ``page:name``, namespaced by page so pages never clash.

    ``keep=True`` marks a value widget (a choice, a toggle, a setting: never a button or an
    uploader) whose value must survive leaving the page and coming back: Streamlit forgets
    the state of widgets that a run does not draw, and :func:`keep_widget_values` (called
    by ``app.py`` on every run) holds on to these.  Use ``page="tutorial"`` for a choice
    shared by every page.
    """
    name = f"{page}:{name}"
    if keep:
        st.session_state.setdefault(KEPT, set()).add(name)
    return name


def keep_widget_values() -> None:
    """Re-assign the kept widgets' values, so a page switch does not reset them.

    This is Streamlit's documented way to keep widget state across pages: a value set
    through ``st.session_state`` outlives the widget, while a widget's own state is dropped
    at the end of the first run that does not draw it.
    """
    for name in st.session_state.get(KEPT, set()):
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]


def session_owner() -> str:
    """An id for this browser session that survives a reload (kept in the URL).

    Jobs are tagged with it: a reloaded page finds its running training again, and two
    browser sessions never see each other's jobs.
    """
    if "owner" not in st.session_state:
        sid = st.query_params.get("sid") or uuid.uuid4().hex[:16]
        st.session_state["owner"] = sid
    st.query_params["sid"] = st.session_state["owner"]
    return st.session_state["owner"]


# Choices that follow the learner through a reload, kept in the URL next to the session id.
URL_KEPT = ("data", "data-multi")


def url_choice(name: str) -> str | None:
    """This session's value of the URL parameter ``name`` (on a reload, read from the URL)."""
    kept = st.session_state.setdefault("_url_kept", {})
    if name not in kept and st.query_params.get(name):
        kept[name] = st.query_params[name]
    return kept.get(name)


def set_url_choice(name: str, value: str | None) -> None:
    """Remember ``value`` for this session and in the URL, so a reload finds it again."""
    kept = st.session_state.setdefault("_url_kept", {})
    kept[name] = value
    if value is None:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = value


def keep_url_choices() -> None:
    """Put the session's URL-kept choices back into the URL after a page switch."""
    for name in URL_KEPT:
        value = url_choice(name)
        if value is not None:
            st.query_params[name] = value


@st.cache_resource
def job_manager() -> JobManager:
    """One job manager per server process: jobs outlive reruns, reloads and page switches."""
    return JobManager()


def current_job(name: str):
    """The newest job with this name started by this browser session, if any."""
    for job in job_manager().for_owner(session_owner()):
        if job.name == name:
            return job
    return None


def results_context(dataset: Any, settings: Any = None) -> tuple[str, int, str]:
    """What a result is computed on: the data (its folder and how many images) and the
    settings, compared by :func:`job_monitor` so another dataset's result never shows."""
    return str(dataset.root), len(dataset.items), repr(settings)


def start_job(name: str, work: Callable[[Any], Any], *, what: str,
              context: Any = None) -> None:
    """Start ``work(progress)`` as this session's job ``name``, and show its progress now.

    The page is rerun at once, so :func:`job_monitor` draws the new job's progress bar and
    Stop from the first second wherever the page calls it, above or below the button that
    started it (a job started after the monitor was drawn used to leave the page frozen on
    the previous result).  ``what`` says what the job is doing until it reports its own
    stages; ``context`` is what it was started on (see :func:`job_monitor`).
    """
    job_manager().submit(name, work, owner=session_owner(), stage=f"Starting: {what}",
                         context=context)
    st.rerun(scope="app")


def job_monitor(name: str, *, live: Callable[[dict[str, Any]], None] | None = None,
                stop_help: str = "Stops after the current step; finished steps are kept.",
                stopped: str = "Stopped on request: what finished is kept.",
                result_when_stopped: bool = False, context: Any = None) -> Any:
    """Progress, Stop and a live view of this session's job ``name``; its result when done.

    A fragment polls the job once a second while it runs, so the rest of the page is not
    rerun; when the job ends, the fragment reruns the whole page once, so what comes after
    the job appears by itself.  ``live(snapshot)`` draws what has arrived so far (curves, a
    table).  ``result_when_stopped`` returns the result of a stopped job too (training keeps
    its best weights).  With ``context`` (what the page would start a job on now: the data,
    the settings), the result of a job started on something else is not shown: it belongs
    to other data or other settings.
    """
    job = current_job(name)
    if job is None:
        return None
    if not job.active and context is not None and job.context not in (None, context):
        st.info("The last result here was for other data or other settings: it is not "
                "shown under these. Start again to see the result for the current choice.")
        return None

    polling = job.active

    @st.fragment(run_every=1.0 if polling else None)
    def panel() -> None:
        snap = job.snapshot()
        if job.active:
            job_progress(job, stop_help, snap)
        for message in snap["messages"][-3:]:
            st.caption(message)
        if live is not None and snap["history"]:
            live(snap)
        if polling and not job.active:
            st.rerun(scope="app")

    panel()
    if job.status == "failed":
        st.error(f"Failed: {job.error}")
    elif job.status == "cancelled":
        st.warning(stopped)
    finished = job.status == "done" or (result_when_stopped and job.status == "cancelled")
    return job.result if finished else None


def job_progress(job: Any, stop_help: str, snap: dict[str, Any] | None = None) -> None:
    """The one progress bar and Stop button every background job shows while it runs."""
    snap = snap or job.snapshot()
    label = snap["stage"]
    if snap["total_epochs"]:
        label += f" · epoch {snap['epoch']}/{snap['total_epochs']}"
    elif snap["total"]:
        label += f" · {snap['step']}/{snap['total']}"
    st.progress(snap["fraction"], text=f"{label} · {snap['elapsed']:.0f} s")
    if st.button("⏹ Stop", key=f"stop-{job.id}", help=stop_help):
        job.cancel()


def show_error(exc: BaseException, shown_as: str | None = None) -> None:
    """A readable message for expected problems; a short report (not a crash) for bugs.

    ``shown_as`` is the name the learner knows an uploaded file by: the studio stores an
    upload, and unpacks it, under a name made from its content hash, and such internal
    paths in the message are replaced by it.
    """
    if isinstance(exc, StudioError):
        st.error(_named(str(exc), shown_as))
    else:
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}")
        with st.expander("Details for a bug report"):
            st.code("".join(traceback.format_exception(exc)))


def _named(message: str, shown_as: str | None) -> str:
    """``message`` with the studio's content-hashed upload paths replaced by ``shown_as``."""
    if shown_as is None:
        return message
    from cvlib.storage.home import studio_home

    homes = {str(studio_home()), str(studio_home().resolve())}
    home = "(?:" + "|".join(re.escape(h) for h in homes) + ")"
    stored = rf"{home}/(?:uploads|datasets)/[0-9a-f]{{8,}}(?:\.zip)?(?:/[^\s:'\"]*)?"
    return re.sub(stored, shown_as, message)


def guarded(func: Callable[..., T]) -> Callable[..., T | None]:
    """Run a page section; an exception becomes a message and the rest of the page lives."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T | None:
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the page must survive any section
            show_error(exc)
            return None

    return wrapper


def heavy_import_notice() -> Any:
    """A spinner for the first import of torch/fastai in this server process."""
    return st.spinner("Loading models (first use in this server: about 10 s)…")
