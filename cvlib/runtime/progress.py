"""Progress reporting and cancellation for long work, shared by every kind of job.

Training, sweeps, feature extraction, mining and deployment all report into a
:class:`Progress`, which the UI polls from another thread and the command line prints.
It is plain Python (no torch, no Streamlit), so any layer can hold one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cvlib.errors import Cancelled

Log = Callable[[str], None]
"""Where long work that reports in lines sends them: ``print`` on the command line, a
job's :meth:`Progress.log` in the app (which is also where its Stop takes effect)."""


@dataclass
class Progress:
    """Where a job stands: stage, step counts, metric history and a cancel flag.

    ``history`` holds one dict per finished epoch (or sweep cell), which is what the live
    plots draw.  Writers call :meth:`update`; readers take :meth:`snapshot`.
    """

    stage: str = "waiting"
    step: int = 0
    total: int = 0
    epoch: int = 0
    total_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    on_update: Callable[[Progress], None] | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **changes: Any) -> None:
        """Set some fields at once (thread-safe) and notify the listener."""
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, value)
        if self.on_update is not None:
            self.on_update(self)

    def log(self, message: str) -> None:
        """Add a human-readable line (the CLI prints them to stderr)."""
        with self._lock:
            self.messages.append(message)
        if self.on_update is not None:
            self.on_update(self)

    def add_record(self, record: dict[str, Any]) -> None:
        """Append one epoch's (or one cell's) metrics to the history."""
        with self._lock:
            self.history.append(dict(record))
        if self.on_update is not None:
            self.on_update(self)

    def cancel(self) -> None:
        """Ask the job to stop at its next safe point (between batches)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether a stop was requested."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if a stop was requested; call this between batches."""
        if self._cancel.is_set():
            raise Cancelled("stopped on request")

    @property
    def fraction(self) -> float:
        """Progress of the current stage in [0, 1], for a progress bar."""
        return min(1.0, self.step / self.total) if self.total else 0.0

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy for another thread to render."""
        with self._lock:
            return {
                "stage": self.stage, "step": self.step, "total": self.total,
                "epoch": self.epoch, "total_epochs": self.total_epochs,
                "history": [dict(r) for r in self.history], "messages": list(self.messages),
                "elapsed": time.time() - self.started, "fraction": self.fraction,
                "cancelled": self.cancelled,
            }


def child_progress(parent: Progress) -> Progress:
    """A Progress for one step of a larger job (a sweep run, a preset, a mining round).

    Its stages and history stay its own, so the parent's display is not overwritten, but a
    Stop on the parent reaches it at its next update, so long inner work stops promptly.
    """
    def follow(child: Progress) -> None:
        if parent.cancelled and not child.cancelled:
            child.cancel()

    return Progress(on_update=follow)
