"""Azure's long-running operations, waited for so that the wait is visible and can be left.

Creating a workspace, an endpoint or a deployment, scaling, shifting traffic and deleting
all return a *poller* that ends minutes later (a first deployment builds its image: ten
minutes or more).  ``poller.result()`` would block silently all that time; :func:`wait_for`
waits in slices instead and reports a line per slice, which is what the page's progress
shows and where the page's Stop takes effect (its ``log`` raises
:class:`~cvlib.errors.Cancelled` once Stop was pressed).

Stopping the wait does not stop Azure: the operation carries on there and ends on its own,
so the pages say so, and the endpoint's state is read again from Azure on the next visit.
"""

from __future__ import annotations

import time
from typing import Any

from cvlib.runtime.progress import Log

#: Seconds between two "still running" lines: often enough to show life, rarely enough to
#: keep a ten-minute deployment's log short.
REPORT_EVERY = 15.0


def wait_for(poller: Any, what: str, log: Log = print, every: float | None = None) -> Any:
    """The operation's result, with a line to ``log`` every ``every`` seconds until then
    (:data:`REPORT_EVERY` by default)."""
    every = REPORT_EVERY if every is None else every
    started = time.monotonic()
    log(what)
    while not poller.done():
        poller.wait(every)
        if not poller.done():
            log(f"{what}: still running after {time.monotonic() - started:.0f} s")
    return poller.result()
