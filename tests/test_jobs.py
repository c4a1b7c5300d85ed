"""Background jobs: progress, stop, queueing, errors, the shared slot and the page panel.

Every wait here is on an event a job sets (or on join) with a generous timeout; nothing sleeps to
give a thread time, and nothing asserts how long anything took.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import os
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.jobs as jobs
from engine.core import ExplorerError
from ui.jobs import Job, JobSlot, running_jobs, shared_slot, start_job

WAIT = 30.0  # seconds; only ever reached when something is broken
ROOT = Path(__file__).resolve().parent.parent


def _counting(n: int, gate: threading.Event | None = None):
    """Return work that reports n steps, each after gate (if any) is open."""

    def work(report, should_stop):
        done = 0
        for i in range(n):
            if gate is not None:
                gate.wait(WAIT)
            if should_stop():
                break
            done = i + 1
            report(done / n, f"step {done}", {"done": done})
        return done

    return work


def _steps_until_stopped(first_step: threading.Event):
    """Return work that counts steps until told to stop, setting first_step after the first."""
    pause = threading.Event()  # never set: wait(0.001) stands in for a millisecond of real work

    def work(report, should_stop):
        done = 0
        while not should_stop():
            done += 1
            report(0.5, f"step {done}", {"done": done})
            first_step.set()
            pause.wait(0.001)
        return done

    return work


class Checks:
    """An owner_alive callback that answers `alive` and sets an event at its n-th call."""

    def __init__(self, alive: bool, n: int):
        self.alive, self.n, self.calls = alive, n, 0
        self.reached = threading.Event()

    def __call__(self) -> bool:
        self.calls += 1
        if self.calls >= self.n:
            self.reached.set()
        return self.alive


def test_job_runs_to_completion_with_progress():
    job = Job("count", _counting(20)).start()
    assert job.join(WAIT)
    s = job.state()
    assert (s.status, s.result, s.fraction, s.payload) == ("done", 20, 1.0, {"done": 20})


def test_stop_ends_the_work_early_and_keeps_its_result():
    gate = threading.Event()
    job = Job("count", _counting(10, gate)).start()
    job.stop()  # the work is held at its first step, so it cannot have finished
    gate.set()
    assert job.join(WAIT)
    s = job.state()
    assert (s.status, s.result) == ("stopped", 0)


def test_stop_during_the_work_keeps_the_steps_done_so_far():
    first_step = threading.Event()
    job = Job("count", _steps_until_stopped(first_step)).start()
    assert first_step.wait(WAIT)
    assert job.state().status == "running"
    job.stop()
    assert job.join(WAIT)
    s = job.state()
    assert s.status == "stopped" and s.text == "Stopped."
    assert s.result >= 1 and s.payload["done"] == s.result


def test_one_job_at_a_time_and_a_queued_job_can_be_cancelled():
    gate = threading.Event()
    entered = threading.Event()

    def holds_the_slot(report, should_stop):
        entered.set()
        return _counting(3, gate)(report, should_stop)

    second_started = threading.Event()

    def never_runs(report, should_stop):
        second_started.set()
        return "ran"

    slot = JobSlot(1)
    first = Job("first", holds_the_slot, slot=slot).start()
    assert entered.wait(WAIT)
    queue_check = Checks(alive=True, n=1)  # called from the queue loop once the slot was busy
    second = Job("second", never_runs, owner_alive=queue_check, slot=slot).start()
    assert slot.count() == 2
    assert queue_check.reached.wait(WAIT)
    assert first.state().status == "running" and first.state().place == 0
    assert second.state().status == "queued" and not second_started.is_set()
    assert second.state().place == 1 and second.state().text == jobs.WAITING
    second.stop()
    assert second.join(WAIT)
    assert second.state().status == "stopped" and second.state().result is None
    assert second.state().text == "Cancelled before it started."
    assert not second_started.is_set()
    gate.set()
    assert first.join(WAIT) and first.state().result == 3


def test_the_registry_counts_queued_and_running_jobs():
    gate = threading.Event()
    before = running_jobs()
    job = Job("counted", _counting(1, gate)).start()
    assert running_jobs() == before + 1
    gate.set()
    assert job.join(WAIT)  # joins the thread, which leaves the registry as its last act
    assert running_jobs() == before


def test_errors_become_messages_not_dead_threads():
    def person_error(report, should_stop):
        raise ExplorerError("Choose at least one class.")

    def bug(report, should_stop):
        raise RuntimeError("internal detail")

    a, b = Job("a", person_error).start(), Job("b", bug).start()
    assert a.join(WAIT) and b.join(WAIT)
    assert a.state().error == "Choose at least one class."
    assert b.state().status == "failed" and "internal detail" not in b.state().error


def test_start_job_replaces_and_stops_the_previous_one():
    state: dict = {}
    gate = threading.Event()
    old = start_job(state, "k", "old", _counting(10_000, gate))
    new = start_job(state, "k", "new", _counting(2))
    gate.set()
    assert old.join(WAIT) and new.join(WAIT)
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
    job.join(30)
    s = show_progress(job, lambda s: st.write(f"payload {s.payload}"), key="demo")
    if s.status == "done":
        st.success(f"result {s.result}")
"""


def test_panel_shows_the_result_without_exceptions():
    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    at.button[0].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["result 42"]
    assert any("payload [1, 2]" in m.value for m in at.markdown)


def test_a_job_whose_session_is_gone_stops_itself(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDON_AFTER", 0.3)
    first_step = threading.Event()
    owner = Checks(alive=True, n=3)  # checks are ≥ 1 s apart, longer than ABANDON_AFTER
    job = Job("orphan", _steps_until_stopped(first_step), owner_alive=owner).start()
    assert owner.reached.wait(WAIT), "the job stopped while its session was connected"
    assert job.state().status == "running"
    owner.alive = False
    assert job.join(WAIT)
    assert job.state().status == "stopped"
    assert job.state().result >= 1


def test_a_blip_shorter_than_the_grace_period_does_not_stop_a_job(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDON_AFTER", 60.0)
    owner = Checks(alive=False, n=2)  # gone at two checks, ≥ 1 s apart, both within the grace

    def until_second_check(report, should_stop):
        while not owner.reached.is_set():
            if should_stop():
                return "stopped early"
            owner.reached.wait(0.01)
        return "finished"

    job = Job("blip", until_second_check, owner_alive=owner).start()
    assert job.join(WAIT)
    assert (job.state().status, job.state().result) == ("done", "finished")


def test_an_owner_check_that_raises_counts_as_gone(monkeypatch):
    monkeypatch.setattr(jobs, "ABANDON_AFTER", 0.0)

    def runtime_shutting_down():
        raise RuntimeError("no runtime")

    job = Job("x", _steps_until_stopped(threading.Event()), owner_alive=runtime_shutting_down)
    assert job.start().join(WAIT)
    assert job.state().status == "stopped"


def test_the_slot_is_one_cached_resource():
    assert shared_slot() is shared_slot()
    job = Job("slot", _counting(1)).start()
    assert job.join(WAIT)
    assert job._slot is shared_slot()


def _reimported_jobs_module():
    """Return a fresh copy of ui/jobs.py under its own name, as the dev server makes one.

    After a source change the dev server drops the module and imports it again; sys.modules
    holds the copy only while it is built, so every other test keeps using ui.jobs itself.
    """
    spec = importlib.util.spec_from_file_location("ui.jobs", jobs.__file__)
    fresh = importlib.util.module_from_spec(spec)
    sys.modules["ui.jobs"] = fresh  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(fresh)
    finally:
        sys.modules["ui.jobs"] = jobs
    return fresh


def test_a_reimported_module_keeps_one_slot_and_finds_old_jobs():
    fresh = _reimported_jobs_module()
    assert fresh.Job is not jobs.Job and fresh.shared_slot is not jobs.shared_slot
    assert fresh.shared_slot() is jobs.shared_slot()
    state: dict = {}
    gate = threading.Event()
    entered = threading.Event()

    def before_reload(report, should_stop):
        entered.set()
        return _counting(2, gate)(report, should_stop)

    old = start_job(state, "k", "before reload", before_reload)
    holders = [  # fill the shared slot's other places, so the next job has to queue
        Job(f"holder {i}", _counting(1, gate)).start() for i in range(shared_slot().slots - 1)
    ]
    try:
        assert entered.wait(WAIT)
        assert fresh.get_job(state, "k") is old
        queue_check = Checks(alive=True, n=1)
        queued = fresh.Job("after reload", _counting(1), owner_alive=queue_check).start()
        assert queue_check.reached.wait(WAIT)
        assert queued.state().status == "queued"  # the old job still holds its slot
        assert fresh.running_jobs() == jobs.running_jobs() >= 2
        gate.set()
        assert old.join(WAIT) and queued.join(WAIT)
        assert queued.state().status == "done"
        assert all(h.join(WAIT) for h in holders)
    finally:
        gate.set()


# --- Streamlit's private runtime API: used in one function, checked here by name -------------

PRIVATE_API = [  # (module, attribute path) as ui.jobs.runtime_view uses them
    ("streamlit.runtime", "exists"),
    ("streamlit.runtime", "Runtime.instance"),
    ("streamlit.runtime", "Runtime.is_active_session"),
    ("streamlit.runtime.scriptrunner", "get_script_run_ctx"),
]


def _resolve(module: str, path: str):
    """Return module.path, failing with a message that names what a Streamlit upgrade removed."""
    try:
        obj = importlib.import_module(module)
    except ImportError as err:
        pytest.fail(f"Streamlit no longer has module {module} (ui.jobs.runtime_view): {err}")
    for part in path.split("."):
        assert hasattr(obj, part), (
            f"Streamlit no longer provides {module}.{path} ({part!r} is missing); "
            "ui.jobs.runtime_view needs it to stop jobs whose browser tab has closed"
        )
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("module", "path"), PRIVATE_API)
def test_the_private_runtime_api_still_exists(module, path):
    assert callable(_resolve(module, path)), f"{module}.{path} is no longer callable"


def test_the_private_runtime_api_keeps_its_signatures():
    get_ctx = _resolve("streamlit.runtime.scriptrunner", "get_script_run_ctx")
    assert "suppress_warning" in inspect.signature(get_ctx).parameters, (
        "get_script_run_ctx lost its suppress_warning parameter (ui.jobs.runtime_view)"
    )
    is_active = _resolve("streamlit.runtime", "Runtime.is_active_session")
    assert list(inspect.signature(is_active).parameters) == ["self", "session_id"], (
        "Runtime.is_active_session(session_id) changed its parameters (ui.jobs.runtime_view)"
    )
    ctx_type = _resolve("streamlit.runtime.scriptrunner", "ScriptRunContext")
    fields = {f.name for f in dataclasses.fields(ctx_type)}
    assert "session_id" in fields, "ScriptRunContext lost session_id (ui.jobs.runtime_view)"


def test_session_watch_asks_the_runtime_about_this_session(monkeypatch):
    import streamlit.runtime as runtime_module

    asked: list[str] = []

    class FakeRuntime:
        def is_active_session(self, session_id):
            asked.append(session_id)
            return session_id == "abc"

    class FakeCtx:
        session_id = "abc"

    monkeypatch.setattr(runtime_module, "exists", lambda: True)
    monkeypatch.setattr(runtime_module.Runtime, "instance", classmethod(lambda cls: FakeRuntime()))
    monkeypatch.setattr(
        "streamlit.runtime.scriptrunner.get_script_run_ctx",
        lambda suppress_warning=False: FakeCtx(),
    )
    watch = jobs._session_watch()
    assert watch is not None, "ui.jobs._session_watch gave up on a (fake) running server"
    assert watch() is True and asked == ["abc"]


def test_session_watch_is_none_outside_a_server():
    assert jobs._session_watch() is None  # plain pytest: no runtime, no session


def _uses_private_runtime(tree: ast.AST) -> list[ast.AST]:
    """Return the nodes of tree that import from, or name, streamlit.runtime."""
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamlit.runtime"):
            hits.append(node)
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("streamlit.runtime") for a in node.names
        ):
            hits.append(node)
        elif isinstance(node, ast.Attribute) and node.attr in ("runtime", "scriptrunner"):
            hits.append(node)
    return hits


def test_the_private_runtime_api_is_used_in_one_function_only():
    app_files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    app_files += sorted((ROOT / "ui").rglob("*.py")) + sorted((ROOT / "engine").rglob("*.py"))
    for path in app_files:
        tree = ast.parse(path.read_text())
        hits = _uses_private_runtime(tree)
        if path.name == "jobs.py" and path.parent.name == "ui":
            watch = next(f for f in ast.walk(tree) if getattr(f, "name", "") == "runtime_view")
            inside = {id(n) for n in ast.walk(watch)}
            hits = [n for n in hits if id(n) not in inside]
        where = [f"{path.relative_to(ROOT)}:{n.lineno}" for n in hits]
        assert not where, f"Streamlit's private runtime API outside ui.jobs.runtime_view: {where}"


@pytest.mark.parametrize(
    ("fraction", "seconds", "left"),
    [
        (0.5, 10.0, 10.0),  # half done in 10 s: 10 s more at that pace
        (0.25, 30.0, 90.0),
        (1.0, 12.0, 0.0),
        (0.019, 50.0, None),  # under 2 % done: no pace to go on yet
        (0.02, 50.0, 2450.0),  # at 2 %: estimated
        (0.5, 0.9, None),  # under a second run
        (0.5, 1.0, 1.0),
        (0.0, 0.0, None),
    ],
)
def test_seconds_left_extrapolates_the_pace_so_far(fraction, seconds, left):
    got = jobs.seconds_left(fraction, seconds)
    assert got == (None if left is None else pytest.approx(left))


def test_the_clock_line_says_time_so_far_and_left_only_once_it_can():
    assert jobs.clock_line(0.01, 3.0) == "3 s so far"
    assert jobs.clock_line(0.5, 20.0) == "20 s so far, about 20 s left"
    assert jobs.clock_line(0.1, 14.0) == "14 s so far, about 2 min 06 s left"


def test_a_job_runs_at_a_lower_cpu_priority_than_the_page():
    if not hasattr(os, "getpriority"):
        return
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = Job(
        "nice",
        lambda report, stop: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
    ).start()
    assert job.join(WAIT)
    assert job.state().result == max(own, jobs.JOB_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


FAILING = """
import streamlit as st
from engine.core import check_int
from ui.jobs import get_job, show_progress, start_job

def work(report, should_stop):
    check_int("steps", 0, 1)  # the engine's own error, with parameters

if st.button("go"):
    start_job(st.session_state, "job", "demo", work)
job = get_job(st.session_state, "job")
if job is not None:
    job.join(30)
    show_progress(job, lambda s: None, key="demo")
"""


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "steps must be at least 1, got 0."), ("zh", "至少")],
)
def test_a_failed_job_shows_the_engine_error_in_the_readers_language(lang, expected):
    at = AppTest.from_string(FAILING, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.button[0].click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert expected in shown, shown
