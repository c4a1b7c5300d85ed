"""Run slots, the queue and shared runs: how many jobs run at once, each queued job's place, and
one run for every session asking for identical settings.

Every wait is on an event a job sets (or on join) with a generous timeout; nothing sleeps to give
a thread time, and nothing asserts how long anything took.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading

import pytest
from streamlit.testing.v1 import AppTest

import runtime_tuning
import ui.jobs as jobs
from runtime_tuning import default_max_jobs, max_jobs, training_threads
from ui.jobs import (
    Job,
    JobSlot,
    Line,
    SharedRuns,
    Watch,
    queue_line,
    shareable,
    shared_runs,
    start_job,
    start_shared_job,
)

WAIT = 30.0  # seconds; only ever reached when something is broken
_keys = itertools.count()


def _fresh_key(name: str) -> tuple:
    """Return a share key no other test uses (shared_runs() lives as long as the process)."""
    return ("test", name, next(_keys))


class Gated:
    """Work that sets `entered` when it starts, then waits for `gate`; counts its calls."""

    def __init__(self, result: object = "done", order: list | None = None):
        self.entered, self.gate = threading.Event(), threading.Event()
        self.calls, self.result, self.order = 0, result, order

    def __call__(self, report, should_stop):
        self.calls += 1
        if self.order is not None:
            self.order.append(self)
        report(0.5, "working", {"half": True})
        self.entered.set()
        while not self.gate.wait(0.01):  # stands in for training steps that poll for Stop
            if should_stop():
                return "stopped early"
        return self.result


def _queued(job: Job, place: int) -> bool:
    """True when job is queued at place."""
    s = job.state()
    return s.status == "queued" and s.place == place


# --- how many at once, and the queue -------------------------------------------------------


def test_one_slot_runs_jobs_in_arrival_order_and_each_queued_job_knows_its_place():
    slot, order = JobSlot(1), []
    works = [Gated(i, order) for i in range(4)]
    first = Job("0", works[0], slot=slot).start()
    assert works[0].entered.wait(WAIT)
    queued = [Job(str(i), works[i], slot=slot).start() for i in (1, 2, 3)]
    assert [j.state().place for j in queued] == [1, 2, 3]
    assert first.state().place == 0 and slot.count() == 4
    works[0].gate.set()
    assert works[1].entered.wait(WAIT)  # the queue moved: the next one runs, the rest move up
    assert [j.state().place for j in queued] == [0, 1, 2]
    for w in works[1:]:
        w.gate.set()
    assert all(j.join(WAIT) for j in [first, *queued])
    assert order == works, "jobs ran out of arrival order"
    assert [j.state().result for j in [first, *queued]] == [0, 1, 2, 3]
    assert slot.count() == 0


def test_two_slots_run_two_jobs_and_queue_the_third():
    slot = JobSlot(2)
    a, b, c = Gated(), Gated(), Gated()
    ja, jb = Job("a", a, slot=slot).start(), Job("b", b, slot=slot).start()
    assert a.entered.wait(WAIT) and b.entered.wait(WAIT)  # both run at once
    jc = Job("c", c, slot=slot).start()
    assert _queued(jc, 1) and not c.entered.is_set()
    b.gate.set()
    assert c.entered.wait(WAIT)  # a slot came free: the queued job took it
    assert jc.state().place == 0 and ja.state().status == "running"
    a.gate.set(), c.gate.set()
    assert ja.join(WAIT) and jb.join(WAIT) and jc.join(WAIT)


def test_a_stopped_queued_job_leaves_the_queue_and_those_behind_move_up():
    slot = JobSlot(1)
    works = [Gated() for _ in range(3)]
    running = Job("run", works[0], slot=slot).start()
    assert works[0].entered.wait(WAIT)
    middle, last = Job("mid", works[1], slot=slot).start(), Job("last", works[2], slot=slot).start()
    assert _queued(middle, 1) and _queued(last, 2)
    middle.stop()
    assert middle.join(WAIT)
    assert (
        middle.state().status == "stopped" and middle.state().text == "Cancelled before it started."
    )
    assert _queued(last, 1) and slot.count() == 2 and works[1].calls == 0
    for w in works:
        w.gate.set()
    assert running.join(WAIT) and last.join(WAIT) and works[2].calls == 1


@pytest.mark.parametrize(
    ("place", "line"),
    [
        (1, "1st in the queue: 0 runs ahead of yours"),
        (2, "2nd in the queue: 1 run ahead of yours"),
        (3, "3rd in the queue: 2 runs ahead of yours"),
        (4, "4th in the queue: 3 runs ahead of yours"),
        (11, "11th in the queue: 10 runs ahead of yours"),
        (12, "12th in the queue: 11 runs ahead of yours"),
        (21, "21st in the queue: 20 runs ahead of yours"),
        (22, "22nd in the queue: 21 runs ahead of yours"),
        (113, "113th in the queue: 112 runs ahead of yours"),
    ],
)
def test_the_queue_line_says_the_place_and_the_runs_ahead(place, line):
    assert queue_line(place) == line


# --- slots and threads follow the machine ------------------------------------------------


@pytest.mark.parametrize(("cores", "slots"), [(1, 1), (2, 1), (3, 1), (4, 2), (16, 8)])
def test_one_job_per_two_cores_by_default(cores, slots):
    assert default_max_jobs(cores) == slots


def test_max_jobs_defaults_to_the_machine_and_honours_a_valid_setting(monkeypatch):
    monkeypatch.delenv("EXPLORER_MAX_JOBS", raising=False)
    assert max_jobs() == max(1, (os.cpu_count() or 1) // 2) == default_max_jobs()
    monkeypatch.setenv("EXPLORER_MAX_JOBS", "3")
    assert max_jobs() == 3
    monkeypatch.setenv("EXPLORER_MAX_JOBS", " 1 ")
    assert max_jobs() == 1


@pytest.mark.parametrize("bad", ["0", "-2", "many", "1.5"])
def test_an_invalid_max_jobs_falls_back_to_the_default_with_a_warning(monkeypatch, caplog, bad):
    monkeypatch.setenv("EXPLORER_MAX_JOBS", bad)
    with caplog.at_level(logging.WARNING, logger=runtime_tuning.__name__):
        assert max_jobs() == default_max_jobs()
    assert any("EXPLORER_MAX_JOBS" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("slots", [1, 2, 3, 64])
def test_each_job_gets_its_share_of_the_cores(monkeypatch, slots):
    cores = os.cpu_count() or 1
    monkeypatch.delenv("EXPLORER_TRAIN_THREADS", raising=False)
    monkeypatch.setenv("EXPLORER_MAX_JOBS", str(slots))
    assert training_threads() == max(1, cores // slots)
    assert slots * training_threads() <= max(cores, slots)  # together, no more than the cores
    monkeypatch.setenv("EXPLORER_TRAIN_THREADS", "1")
    assert training_threads() == 1  # an operator's own setting wins


def test_the_servers_slot_has_max_jobs_slots():
    assert jobs.shared_slot().slots == max_jobs()


# --- shared runs -----------------------------------------------------------------------------


def test_two_sessions_with_identical_settings_get_one_run():
    key, first_work, second_work = _fresh_key("one run"), Gated(42), Gated(42)
    a, b = {}, {}
    wa = start_job(a, "job", "train", shareable(key, first_work))
    assert first_work.entered.wait(WAIT)
    wb = start_job(b, "job", "train", shareable(key, second_work))
    assert isinstance(wa, Watch) and isinstance(wb, Watch)
    assert wb.job is wa.job and (wa.how, wb.how) == ("started", "joined")
    assert wb.state().payload == {"half": True}  # the second sees the run's progress
    assert wa.others() == 1 and wb.others() == 1
    first_work.gate.set()
    assert wa.join(WAIT) and wb.join(WAIT)
    assert wa.state().result == wb.state().result == 42
    assert (first_work.calls, second_work.calls) == (1, 0)


def test_a_session_asking_after_the_run_finished_gets_the_result_at_once():
    key, work, later = _fresh_key("finished"), Gated("weights"), Gated("again")
    work.gate.set()
    assert start_job({}, "job", "train", shareable(key, work)).join(WAIT)
    c: dict = {}
    watch = start_job(c, "job", "train", shareable(key, later))
    assert watch.how == "finished" and watch.state().status == "done"
    assert watch.state().result == "weights" and (work.calls, later.calls) == (1, 0)
    assert c["job"] is watch


def test_different_settings_are_different_runs():
    one, two = Gated(1), Gated(2)
    one.gate.set(), two.gate.set()
    w1 = start_job({}, "job", "train", shareable(_fresh_key("a"), one))
    w2 = start_job({}, "job", "train", shareable(_fresh_key("b"), two))
    assert w1.join(WAIT) and w2.join(WAIT)
    assert (w1.state().result, w2.state().result) == (1, 2) and w1.job is not w2.job


def test_work_that_keeps_its_own_results_shares_only_a_run_going_on():
    key, first, second = _fresh_key("not kept"), Gated(1), Gated(2)
    first.gate.set(), second.gate.set()
    assert start_job({}, "job", "plan", shareable(key, first, keep=False)).join(WAIT)
    again = start_job({}, "job", "plan", shareable(key, second, keep=False))
    assert again.how == "started" and again.join(WAIT) and again.state().result == 2


def test_a_stop_in_one_session_leaves_the_run_to_the_other():
    key, work = _fresh_key("two watchers"), Gated("finished")
    a, b = {}, {}
    wa = start_job(a, "job", "train", shareable(key, work))
    assert work.entered.wait(WAIT)
    wb = start_job(b, "job", "train", shareable(key, Gated()))
    wa.stop()
    assert not wa.job.stopping and wb.state().status == "running"
    left = wa.state()
    assert (left.status, left.result, left.text) == ("stopped", None, jobs.LEFT)
    assert wb.others() == 0
    work.gate.set()
    assert wb.join(WAIT)
    assert wb.state().status == "done" and wb.state().result == "finished"
    assert wa.state().status == "stopped"  # the session that left does not take the result


def test_the_last_session_to_stop_stops_the_run():
    key, work = _fresh_key("last watcher"), Gated()
    wa = start_job({}, "job", "train", shareable(key, work))
    assert work.entered.wait(WAIT)
    wb = start_job({}, "job", "train", shareable(key, Gated()))
    wa.stop(), wb.stop()
    assert wb.join(WAIT)
    assert wb.state().status == "stopped" and wb.state().result == "stopped early"
    again = start_job({}, "job", "train", shareable(key, Gated()))
    assert again.how == "started", "a stopped run is not handed to the next session"
    again.stop()
    assert again.join(WAIT)


def test_a_session_gone_does_not_hold_a_run_another_left():
    key, work = _fresh_key("gone"), Gated()
    wa = start_job({}, "job", "train", shareable(key, work))
    assert work.entered.wait(WAIT)
    wa.alive = lambda: False  # its tab closed
    wb = start_job({}, "job", "train", shareable(key, Gated()))
    wb.stop()  # nobody connected follows it any more: it stops
    assert wb.join(WAIT) and wb.state().status == "stopped"


def test_pressing_train_again_on_the_same_run_keeps_following_it():
    key, work = _fresh_key("again"), Gated()
    state: dict = {}
    first = start_job(state, "job", "train", shareable(key, work))
    assert work.entered.wait(WAIT)
    assert start_job(state, "job", "train", shareable(key, Gated())) is first
    assert not first.job.stopping
    work.gate.set()
    assert first.join(WAIT) and work.calls == 1


def test_a_new_run_replaces_the_sessions_older_one():
    old_work, new_work = Gated(), Gated("new")
    state: dict = {}
    old = start_job(state, "job", "train", shareable(_fresh_key("old"), old_work))
    assert old_work.entered.wait(WAIT)
    new_work.gate.set()
    new = start_shared_job(state, "job", "train", _fresh_key("new"), new_work)
    assert state["job"] is new and old.job.stopping
    assert old.join(WAIT) and new.join(WAIT) and new.state().result == "new"


def test_finished_runs_are_kept_up_to_the_cap_newest_first():
    runs = SharedRuns(cap=2)
    watches = []
    for key in "abc":
        work = Gated(key)
        work.gate.set()
        watch, fresh = runs.watch(key, key, work, None)
        assert fresh
        watch.job.slot = JobSlot(1)
        watches.append(watch.job.start())
    assert all(j.join(WAIT) for j in watches)
    assert list(runs.finished) == ["b", "c"] and not runs.running
    again, fresh = runs.watch("b", "b", Gated(), None)
    assert not fresh and again.state().result == "b"
    assert list(runs.finished) == ["c", "b"]  # used last, dropped last


def test_the_shared_runs_are_one_cached_resource():
    assert shared_runs() is shared_runs()
    assert jobs.MAX_SHARED_FINISHED == shared_runs().cap


# --- lines in each reader's language -------------------------------------------------------


def test_a_line_says_itself_in_another_language():
    line = Line("zh", "Stopped.")
    assert line == "已停止。" and line.in_lang("en") == "Stopped."
    nested = Line("en", "{model}, shuffled", model=Line("en", "Linear"))
    assert nested == "Linear, shuffled"
    assert nested.in_lang("zh") == Line("zh", "{model}, shuffled", model=Line("zh", "Linear"))
    assert nested.in_lang("zh") != nested


PANEL = """
import threading
import streamlit as st
from ui.jobs import Job, JobSlot, show_progress

if "jobs" not in st.session_state:
    slot, gate, entered = JobSlot(1), threading.Event(), threading.Event()

    def work(report, should_stop):
        entered.set()
        gate.wait(30)
        return 1

    first = Job("first", work, slot=slot).start()
    entered.wait(30)
    queued = [Job(name, work, slot=slot).start() for name in ("second", "third")]
    st.session_state.update(jobs=[first, *queued], gate=gate)
show_progress(st.session_state.jobs[-1], lambda s: None, key="third")
"""


@pytest.mark.parametrize(
    ("lang", "line"),
    [("en", "2nd in the queue: 1 run ahead of yours"), ("zh", "排队第 2 位：你前面还有 1 个运行")],
)
def test_the_panel_shows_a_queued_jobs_place_in_the_readers_language(lang, line):
    at = AppTest.from_string(PANEL, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    try:
        assert not at.exception, [e.message for e in at.exception]
        assert [i.value for i in at.info] == [line]
    finally:
        at.session_state["gate"].set()
        assert all(j.join(WAIT) for j in at.session_state["jobs"])


SHARED_PANEL = """
import streamlit as st
from ui.jobs import get_job, show_progress, shareable, start_job
from tests.test_jobs_sharing import PANEL_WORK

if st.button("go"):
    start_job(st.session_state, "job", "demo", shareable(PANEL_WORK.key, PANEL_WORK))
job = get_job(st.session_state, "job")
if job is not None:
    show_progress(job, lambda s: st.write(f"result {s.result}"), key="demo")
"""


class _PanelWork(Gated):
    key = _fresh_key("panel")


PANEL_WORK = _PanelWork("trained")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_panel_says_when_a_run_is_shared_and_when_it_came_finished(lang):
    sessions = []
    for _ in range(2):
        at = AppTest.from_string(SHARED_PANEL, default_timeout=60)
        at.query_params["lang"] = lang
        at.run()
        at.button[0].click().run()
        sessions.append(at)
    first, second = sessions
    captions = " ".join(c.value for c in second.caption)
    if PANEL_WORK.gate.is_set():  # the second language's sessions both came after the run
        assert ("the result is shared" if lang == "en" else "结果是共享的") in captions
    else:
        assert ("1 other session follows it" if lang == "en" else "另有 1 个会话") in captions
        PANEL_WORK.gate.set()
        assert get_watch(second).join(WAIT)
    assert PANEL_WORK.calls == 1
    second.run()
    assert not second.exception and any("result trained" in m.value for m in second.markdown)


def get_watch(at: AppTest) -> Watch:
    """Return the Watch the session holds."""
    watch = at.session_state["job"]
    assert isinstance(watch, Watch)
    return watch


# --- every training page's work is shared on all of its settings --------------------------


def test_the_training_pages_work_is_shared_on_every_setting():
    from engine.cnn import CNNConfig
    from ui.cnn.train_runs import (
        AblationSettings,
        DataStore,
        RunSettings,
        ablation_work,
        training_work,
    )
    from ui.sequence.mnist1d_runs import RunKey, RunStore, plan_work
    from ui.sequence.task_runs import make_work

    run = RunSettings(CNNConfig(("circle", "square")), 20, 0.01, 0, False)
    other = RunSettings(CNNConfig(("circle", "square")), 20, 0.01, 1, False)  # another seed
    cnn, cnn_other = training_work(run, DataStore()), training_work(other, DataStore(), "zh")
    assert cnn.share_key == ("cnn-train", run) and cnn.keep_result
    assert cnn_other.share_key != cnn.share_key
    assert training_work(run, DataStore(), "zh").share_key == cnn.share_key  # any language
    ablations = AblationSettings(("circle", "square"), 20, 0.01, 0, False)
    abl = ablation_work(ablations, DataStore(), {})
    assert abl.share_key == ("cnn-ablations", ablations) and not abl.keep_result
    plan = [RunKey("linear", 20, 0, False), RunKey("cnn", 20, 0, True)]
    m1d = plan_work(plan, RunStore())
    assert m1d.share_key == ("mnist1d", tuple(plan)) and not m1d.keep_result
    assert plan_work(plan[:1], RunStore()).share_key != m1d.share_key
    pairs = [("motif", "cnn"), ("majority", "gru")]
    tasks = make_work(pairs, 50, 3, {})
    assert tasks.share_key == ("sequence-tasks", tuple(pairs), 50, 3) and not tasks.keep_result
    assert make_work(pairs, 50, 4, {}).share_key != tasks.share_key
