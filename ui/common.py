"""Page scaffolding shared by every page: header, next step, session identity, jobs, errors."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from cvlib.errors import StudioError
from cvlib.jobs import JobManager

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


def page_header(title: str, teaches: str, icon: str = "") -> None:
    """Title and the one sentence saying what the page teaches."""
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


def key(page: str, name: str) -> str:
    """A session-state key namespaced by page, so pages never clash."""
    return f"{page}:{name}"


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


def job_monitor(name: str, *, live: Callable[[dict[str, Any]], None] | None = None,
                stop_help: str = "Stops after the current step; finished steps are kept.",
                stopped: str = "Stopped on request: what finished is kept.",
                result_when_stopped: bool = False) -> Any:
    """Progress, Stop and a live view of this session's job ``name``; its result when done.

    A fragment polls the job once a second while it runs, so the rest of the page is not
    rerun; when the job ends, one full rerun shows what comes after it.  ``live(snapshot)``
    draws what has arrived so far (curves, a table).  ``result_when_stopped`` returns the
    result of a stopped job too (training keeps its best weights).
    """
    job = current_job(name)
    if job is None:
        return None
    interval = 1.0 if job.active else None

    @st.fragment(run_every=interval)
    def panel() -> None:
        snap = job.snapshot()
        if job.active:
            label = snap["stage"]
            if snap["total_epochs"]:
                label += f" · epoch {snap['epoch']}/{snap['total_epochs']}"
            st.progress(snap["fraction"], text=f"{label} · {snap['elapsed']:.0f} s")
            if st.button("⏹ Stop", key=f"stop-{job.id}", help=stop_help):
                job.cancel()
        for message in snap["messages"][-3:]:
            st.caption(message)
        if live is not None and snap["history"]:
            live(snap)
        if not job.active and interval is not None:
            st.rerun()

    panel()
    if job.status == "failed":
        st.error(f"Failed: {job.error}")
    elif job.status == "cancelled":
        st.warning(stopped)
    finished = job.status == "done" or (result_when_stopped and job.status == "cancelled")
    return job.result if finished else None


def show_error(exc: BaseException) -> None:
    """A readable message for expected problems; a short report (not a crash) for bugs."""
    if isinstance(exc, StudioError):
        st.error(str(exc))
    else:
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}")
        with st.expander("Details for a bug report"):
            st.code("".join(traceback.format_exception(exc)))


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
