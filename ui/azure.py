"""Streamlit pieces shared by the Azure pages (20, 21, 23, 24): connection, YAML, servers.

The connection (credential and ``MLClient``) lives in this browser session's state only:
it is never written to disk, and no token or key is ever drawn on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from cvlib.azure.connect import AzureError, WorkspaceRef, explain, load_saved_config
from cvlib.errors import StudioError
from cvlib.runtime.progress import Log, Progress
from cvlib.serving.server import LocalEndpoint
from ui.common import current_job, job_monitor, start_job
from ui.models import model_picker

CLIENT_KEY = "azure:client"
WORKSPACE_KEY = "azure:workspace"
#: The photos page 21 sends to a deployment it tests: the repository's own sample data,
#: which every clone has (pages 23 and 24 take the tutorial's dataset choice).
SAMPLE_PHOTOS = Path(__file__).resolve().parent.parent / "sample_data" / "fridge4"


def workspace_form(page: str) -> WorkspaceRef | None:
    """The workspace's three names, from the portal's ``config.json`` or typed in."""
    upload = st.file_uploader("config.json from the Azure portal (optional)", type=["json"],
                              key=f"{page}:config")
    if upload is not None:
        ref = WorkspaceRef.from_config(upload.getvalue())
        st.success(f"Read workspace {ref.workspace_name} from config.json")
        return ref
    saved = load_saved_config()
    if saved is not None:
        for name, value in zip(("sub", "rg", "ws"), (saved.subscription_id,
                               saved.resource_group, saved.workspace_name), strict=True):
            st.session_state.setdefault(f"{page}:{name}", value)
        st.caption("Filled in from the config.json saved at your last connect.")
    cols = st.columns(3)
    values = [cols[0].text_input("Subscription ID", key=f"{page}:sub"),
              cols[1].text_input("Resource group", key=f"{page}:rg"),
              cols[2].text_input("Workspace name", key=f"{page}:ws")]
    return WorkspaceRef(*values) if all(v.strip() for v in values) else None


def remember_client(client: Any, details: dict[str, Any]) -> None:
    """Keep the connected client for the other Azure pages of this session."""
    st.session_state[CLIENT_KEY] = client
    st.session_state[WORKSPACE_KEY] = details


def client() -> Any | None:
    """The ``MLClient`` connected on page 20 in this session, if any."""
    return st.session_state.get(CLIENT_KEY)


def require_client() -> Any | None:
    """The connected client, or None with a message pointing to page 20.

    Callers return early on None; the rest of the page (what to try next) still renders.
    """
    current = client()
    if current is None:
        st.info("Everything above works without Azure. To create it, connect to a workspace "
                "on page 20 first.")
        st.page_link("pages/20_Azure_workspace.py", label="Go to 20 Azure workspace")
    return current


def connection_badge() -> None:
    """One line saying which workspace this session is connected to."""
    details = st.session_state.get(WORKSPACE_KEY)
    if details:
        st.caption(f"Connected to workspace **{details['name']}** ({details['location']})")
    else:
        st.caption("Not connected to Azure: specs are shown, nothing is created.")


def show_yaml(title: str, entity: Any) -> None:
    """The SDK object as the YAML Azure ML will receive, before it is created."""
    from cvlib.azure.specs import to_yaml

    with st.expander(f"{title} (YAML)", expanded=False):
        st.code(to_yaml(entity), language="yaml")


def model_folder(page: str, prefer: Path | None = None) -> Path | None:
    """A saved model picked from the studio's one list (``ui.models``), ``prefer`` first."""
    return model_picker(page, "Saved model", prefer=prefer)


def confirm_delete(page: str, what: str, name: str, busy: bool = False) -> bool:
    """A delete button that works only after ticking a box naming what goes (no undo).

    ``busy``: another action is running, so the button waits for it.
    """
    sure = st.checkbox(f"Yes, delete {what} {name}: this cannot be undone",
                       key=f"{page}:sure:{what}:{name}")
    return st.button(f"Delete {what} {name}", key=f"{page}:del:{what}:{name}",
                     disabled=busy or not sure)


@st.cache_resource
def local_endpoints() -> dict[int, LocalEndpoint]:
    """Running local servers by port, shared across reruns and pages of this app process."""
    return {}


def running_local_endpoints() -> dict[int, LocalEndpoint]:
    """Local servers still alive (a crashed one is forgotten)."""
    servers = local_endpoints()
    for port in [p for p, s in servers.items() if not s.running()]:
        servers.pop(port)
    return servers


STOP_HELP = ("Stops waiting at the next step. An operation Azure has already started "
             "carries on there and ends on its own; this page reads its state again.")
STOPPED = ("Stopped waiting. Anything Azure had already started carries on there and ends on "
           "its own: the state shown on this page is read from Azure again.")


def start_action(name: str, label: str, work: Callable[[Log], Any], *,
                 context: Any = None) -> None:
    """Start ``work(log)`` as this session's background job ``name``; the page reruns.

    Azure actions take from seconds to many minutes (a first deployment builds its image),
    so they run outside the page script like training does: the page never freezes, can be
    left and come back to, and shows the same progress and Stop.  Each line ``work`` logs
    is shown and is where Stop takes effect; any exception becomes Azure's reason in plain
    words (its SDK raises many types).  ``context`` is what it acts on (an endpoint, a
    cluster): :func:`action_result` shows its outcome only while the page is on the same.
    """
    def run(progress: Progress) -> Any:
        progress.update(stage=label)

        def log(message: str) -> None:
            progress.check()
            progress.log(message)

        try:
            return work(log)
        except StudioError:
            raise
        except Exception as error:  # Azure's reason, in plain words
            raise AzureError(explain(error)) from error

    start_job(name, run, what=label, context=context)


def action_running(name: str) -> bool:
    """Whether this session's action ``name`` still runs (its buttons wait meanwhile)."""
    job = current_job(name)
    return job is not None and job.active


def action_result(name: str, *, context: Any = None,
                  once: Callable[[Any], None] | None = None) -> Any:
    """Progress and Stop of action ``name`` while it runs; its result once it is done.

    ``once(result)`` runs a single time per finished job, for what must happen once in the
    page's own session (keeping a new workspace's client, following a submitted job).
    """
    result = job_monitor(name, stop_help=STOP_HELP, stopped=STOPPED, context=context)
    job = current_job(name)
    handled = f"{name}:handled"
    if result is not None and once is not None and st.session_state.get(handled) != job.id:
        st.session_state[handled] = job.id
        once(result)
    return result


def run_with_log(label: str, work) -> Any:
    """Run ``work(log)`` now, in a status box that shows each progress line as it comes.

    For the one short step whose result belongs to this browser session and cannot be
    made in a background job: connecting (the client lives in the session's state).

    A failure's reason is shown below the box, in plain sight (never only inside it), and
    any exception becomes that message: Azure's SDK raises many types.
    """
    error_message = None
    with st.status(label, expanded=True) as box:
        try:
            result = work(st.write)
        except StudioError as error:
            error_message = str(error)
        except Exception as error:  # noqa: BLE001 - the page shows why, never a traceback
            error_message = explain(error)
        if error_message is None:
            box.update(label=f"{label}: done", state="complete")
            return result
        box.update(label=f"{label}: failed", state="error")
    st.error(f"{label} failed: {error_message}")
    return None
