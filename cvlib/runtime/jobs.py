"""Background jobs: long work runs in a thread, outside any page script.

A Streamlit rerun (a click, a reload, switching pages) re-executes the page from the top.
Work started inside the script would be restarted or frozen by that; work started here goes
on, and the page only polls :meth:`Job.snapshot`.  One :class:`JobManager` lives per server
process (the UI keeps it in ``st.cache_resource``); each job belongs to the session that
started it, so two browser sessions never see or stop each other's work.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cvlib.errors import Cancelled, StudioError
from cvlib.runtime.progress import Progress

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass
class Job:
    """One piece of long work: its progress, and its result or error once finished."""

    id: str
    name: str
    owner: str
    progress: Progress = field(default_factory=Progress)
    status: str = RUNNING
    result: Any = None
    error: str | None = None
    detail: str | None = None
    finished: float | None = None
    context: Any = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        """True while the worker thread is still going."""
        return self.status == RUNNING

    def cancel(self) -> None:
        """Ask the work to stop between batches; it keeps what it has (best weights)."""
        self.progress.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished (for the CLI and tests); True if it finished in time."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.active

    def snapshot(self) -> dict[str, Any]:
        """Status plus progress, safe to read from the UI thread."""
        return {"id": self.id, "name": self.name, "status": self.status, "error": self.error,
                **self.progress.snapshot()}


class JobManager:
    """Starts jobs in daemon threads and finds them again by id or owner."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, name: str, work: Callable[[Progress], Any], *, owner: str = "",
               stage: str = "starting", context: Any = None) -> Job:
        """Run ``work(progress)`` in the background and return its :class:`Job` at once.

        ``stage`` is what the job says it is doing until the work reports its own stage
        (never an unexplained "waiting"); ``context`` records what the job was started on
        (the data, the settings), so a page can tell whether its result still applies.
        """
        job = Job(id=uuid.uuid4().hex[:12], name=name, owner=owner,
                  progress=Progress(stage=stage), context=context)
        job.thread = threading.Thread(target=self._run, args=(job, work), daemon=True,
                                      name=f"job-{name}-{job.id}")
        with self._lock:
            self._jobs[job.id] = job
        job.thread.start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Progress], Any]) -> None:
        """Worker body: turn the outcome into a status the UI can show."""
        try:
            job.result = work(job.progress)
            job.status = CANCELLED if job.progress.cancelled else DONE
        except Cancelled:
            job.status = CANCELLED
        except StudioError as exc:
            job.status, job.error = FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug: keep the app alive, show it
            job.status, job.error = FAILED, f"{type(exc).__name__}: {exc}"
            job.detail = traceback.format_exc()
        finally:
            job.finished = time.time()
            job.progress.update(stage=job.status)
            # The app turns off Streamlit's full collection after every script run (it held
            # the GIL while training ran: .streamlit/config.toml), so the large garbage a job
            # leaves in reference cycles (a fastai Learner, its callbacks, their tensors) is
            # collected here, once per job.
            gc.collect()

    def get(self, job_id: str | None, owner: str | None = None) -> Job | None:
        """The job with this id, if it exists (and belongs to ``owner`` when given)."""
        with self._lock:
            job = self._jobs.get(job_id or "")
        if job is None or (owner is not None and job.owner != owner):
            return None
        return job

    def for_owner(self, owner: str) -> list[Job]:
        """All jobs of one session, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.owner == owner]
        return sorted(jobs, key=lambda j: j.progress.started, reverse=True)
