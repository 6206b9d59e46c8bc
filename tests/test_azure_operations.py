"""Waiting for Azure's long-running operations: visibly, and with a way out.

The poller here is azure-core's own ``LROPoller`` (the type every ``begin_*`` call returns);
only its polling method, which would ask Azure how far the operation is, is ours: it
"finishes" after a set time.
"""

from __future__ import annotations

import threading
import time

import pytest
from azure.core.polling import LROPoller, PollingMethod

from cvlib.azure.operations import wait_for
from cvlib.errors import Cancelled


class FinishesAfter(PollingMethod):
    """An operation that takes ``seconds`` and then returns ``value``."""

    def __init__(self, seconds: float, value: str = "created") -> None:
        self.seconds, self.value = seconds, value
        self.done = threading.Event()

    def initialize(self, client, initial_response, deserialization_callback) -> None:
        pass

    def run(self) -> None:
        time.sleep(self.seconds)
        self.done.set()

    def status(self) -> str:
        return "Succeeded" if self.done.is_set() else "InProgress"

    def finished(self) -> bool:
        return self.done.is_set()

    def resource(self) -> str:
        return self.value


def operation(seconds: float) -> LROPoller:
    return LROPoller(None, None, lambda response: response, FinishesAfter(seconds))


def test_a_long_operation_reports_that_it_is_still_running_until_it_ends():
    lines: list[str] = []
    assert wait_for(operation(0.35), "Creating deployment green", lines.append,
                    every=0.1) == "created"
    assert lines[0] == "Creating deployment green"
    assert len(lines) >= 3
    assert all(line.startswith("Creating deployment green: still running after ")
               for line in lines[1:])


def test_a_quick_operation_says_what_it_did_once():
    lines: list[str] = []
    wait_for(operation(0.0), "Deleting endpoint e", lines.append, every=0.5)
    assert lines == ["Deleting endpoint e"]


def test_stop_ends_the_wait_at_the_next_report_while_azure_carries_on():
    poller = operation(2.0)
    pressed = threading.Event()

    def log(line: str) -> None:  # what the page's job log does once Stop was pressed
        if pressed.is_set():
            raise Cancelled("stopped on request")
        pressed.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        wait_for(poller, "Creating endpoint e", log, every=0.1)
    assert time.monotonic() - started < 1.0
    assert not poller.done()  # the operation itself is not ours to stop
