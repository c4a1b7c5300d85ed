"""Background jobs: progress, stop, queueing, errors, and the page panel in AppTest."""

from __future__ import annotations

import sys
import threading
import time

from streamlit.testing.v1 import AppTest

import ui.jobs as jobs
from engine.core import ExplorerError
from ui.jobs import Job, start_job


def _counting(n: int, gate: threading.Event | None = None):
    def work(report, should_stop):
        done = 0
        for i in range(n):
            if gate is not None:
                gate.wait(5)
            if should_stop():
                break
            done = i + 1
            report(done / n, f"step {done}", {"done": done})
            time.sleep(0.001)
        return done

    return work


def test_job_runs_to_completion_with_progress():
    job = Job("count", _counting(20)).start()
    assert job.join(10)
    s = job.state()
    assert (s.status, s.result, s.fraction, s.payload) == ("done", 20, 1.0, {"done": 20})


def test_stop_ends_the_work_early_and_keeps_its_result():
    gate = threading.Event()
    job = Job("count", _counting(10_000, gate)).start()
    gate.set()
    time.sleep(0.05)
    job.stop()
    assert job.join(10)
    s = job.state()
    assert s.status == "stopped"
    assert 0 < s.result < 10_000


def test_one_job_at_a_time_and_a_queued_job_can_be_cancelled():
    gate = threading.Event()
    first = Job("first", _counting(3, gate)).start()
    time.sleep(0.1)
    second = Job("second", _counting(3)).start()
    time.sleep(0.3)
    assert first.state().status == "running"
    assert second.state().status == "queued"
    second.stop()
    assert second.join(5)
    assert second.state().status == "stopped" and second.state().result is None
    gate.set()
    assert first.join(5) and first.state().result == 3


def test_errors_become_messages_not_dead_threads():
    def person_error(report, should_stop):
        raise ExplorerError("Choose at least one class.")

    def bug(report, should_stop):
        raise RuntimeError("internal detail")

    a, b = Job("a", person_error).start(), Job("b", bug).start()
    assert a.join(5) and b.join(5)
    assert a.state().error == "Choose at least one class."
    assert b.state().status == "failed" and "internal detail" not in b.state().error


def test_start_job_replaces_and_stops_the_previous_one():
    state: dict = {}
    gate = threading.Event()
    old = start_job(state, "k", "old", _counting(10_000, gate))
    new = start_job(state, "k", "new", _counting(2))
    gate.set()
    assert old.join(10) and new.join(10)
    assert state["k"] is new
    assert old.state().status == "stopped"
    assert new.state().result == 2


SCRIPT = """
import streamlit as st
from ui.jobs import get_job, show_progress, start_job

def work(report, should_stop):
    report(0.5, "half", [1, 2])
    return 42

if st.button("go"):
    start_job(st.session_state, "job", "demo", work)
job = get_job(st.session_state, "job")
if job is not None:
    job.join(10)
    s = show_progress(job, lambda s: st.write(f"payload {s.payload}"), key="demo")
    if s.status == "done":
        st.success(f"result {s.result}")
"""


def test_panel_shows_the_result_without_exceptions():
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    at.button[0].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["result 42"]
    assert any("payload [1, 2]" in m.value for m in at.markdown)


def test_a_job_whose_session_is_gone_stops_itself(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDON_AFTER", 0.3)
    connected = {"now": True}
    job = Job("orphan", _counting(1_000_000), owner_alive=lambda: connected["now"]).start()
    time.sleep(1.2)
    assert job.state().status == "running"  # connected: keeps going
    connected["now"] = False
    assert job.join(10)
    assert job.state().status == "stopped"
    assert 0 < job.state().result < 1_000_000


def test_a_blip_shorter_than_the_grace_period_does_not_stop_a_job(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDON_AFTER", 5.0)
    gate = threading.Event()
    job = Job("blip", _counting(3, gate), owner_alive=lambda: False).start()
    time.sleep(1.5)
    gate.set()
    assert job.join(10)
    assert job.state().status == "done"


def test_a_reimported_module_keeps_one_slot_and_finds_old_jobs():
    import importlib.util

    # A second copy of ui/jobs.py, as Streamlit's dev server makes after a source change (loaded
    # under another name, so ui.jobs itself, which other tests use, stays as it is).
    spec = importlib.util.spec_from_file_location("ui_jobs_copy", jobs.__file__)
    fresh = importlib.util.module_from_spec(spec)
    sys.modules["ui_jobs_copy"] = fresh  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(fresh)
    finally:
        del sys.modules["ui_jobs_copy"]
    state: dict = {}
    gate = threading.Event()
    old = start_job(state, "k", "before reload", _counting(2, gate))
    try:
        assert fresh._SLOT is jobs._SLOT and fresh.Job is not jobs.Job
        assert fresh.get_job(state, "k") is old
        queued = fresh.Job("after reload", _counting(1)).start()
        time.sleep(0.3)
        assert queued.state().status == "queued"  # the old job still holds the one slot
        gate.set()
        assert old.join(10) and queued.join(10)
    finally:
        gate.set()
