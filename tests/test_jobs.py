"""Background jobs: they belong to their session, say what they do, and leave no garbage."""

from __future__ import annotations

import gc
import weakref

import pytest

from cvlib.errors import StudioError
from cvlib.runtime.jobs import JobManager


class _Node:
    """Something that can sit in a reference cycle and be watched through a weak reference."""

    partner: _Node | None = None


def test_a_job_says_what_it_does_from_the_start_and_belongs_to_its_session():
    manager = JobManager()
    job = manager.submit("train", lambda progress: 42, owner="alice", stage="Starting: x")
    assert job.snapshot()["stage"] in ("Starting: x", "done")
    assert job.wait(30) and job.status == "done" and job.result == 42
    assert manager.get(job.id, owner="bob") is None
    assert manager.get(job.id, owner="alice") is job


def test_a_failing_job_keeps_the_message_for_people():
    def work(progress):
        raise StudioError("no photos in this folder")

    job = JobManager().submit("train", work)
    assert job.wait(30) and job.status == "failed"
    assert job.error == "no photos in this folder"


@pytest.fixture
def collector_off():
    """Python's automatic collector off, so only an explicit ``gc.collect`` frees cycles."""
    gc.disable()
    yield
    gc.enable()


def test_a_finished_job_collects_the_reference_cycles_it_left(collector_off):
    """The app turns off Streamlit's collection after every script run, so the cycles a
    training leaves (a Learner and its callbacks hold each other, and the tensors) must be
    collected when the job ends, not whenever Python's collector next gets round to it."""
    left = []

    def work(progress):
        a, b = _Node(), _Node()
        a.partner, b.partner = b, a  # a cycle: reference counting alone never frees it
        left.append(weakref.ref(a))

    job = JobManager().submit("train", work)
    assert job.wait(30) and job.status == "done"
    assert left[0]() is None
