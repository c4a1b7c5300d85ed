"""Long training runs in the background, so a page stays responsive while a network learns.

A page starts a `Job` (a thread running one function), keeps it in its session state, and redraws
its progress in a fragment that reruns every second. The person can keep moving widgets, press
Stop at any time (the work function polls `should_stop`), or leave the page and come back.

A few jobs run at once on the whole server (runtime_tuning.max_jobs(): one per two cores unless
EXPLORER_MAX_JOBS says otherwise); later jobs wait in a first-in, first-out queue and each says its
place. A job never touches Streamlit: it reports plain values through
`report(fraction, text, payload)`, and the page reads them. A job whose browser sessions have all
gone (tab closed) for ABANDON_AFTER seconds is stopped, so an abandoned run cannot hold a slot.

Runs that are the same for everyone (a training page's settings decide the result) are shared:
`start_shared_job` (or `start_job` with work marked by `shareable`) attaches a second session
asking for identical settings to the run already going, and hands a finished one over at once from
a small server-wide store (the MAX_SHARED_FINISHED newest). Each session holds its own `Watch` of
the run; Stop in one session only leaves the run while another session still follows it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from engine.core import N_, ExplorerError
from runtime_tuning import lower_thread_priority, max_jobs

__all__ = [
    "MAX_SHARED_FINISHED",
    "Job",
    "JobSlot",
    "JobState",
    "Line",
    "RuntimeView",
    "SharedRuns",
    "Watch",
    "clock_line",
    "get_job",
    "queue_line",
    "running_jobs",
    "runtime_view",
    "seconds_left",
    "shareable",
    "shared_runs",
    "shared_slot",
    "show_progress",
    "start_job",
    "start_shared_job",
]

log = logging.getLogger(__name__)

ABANDON_AFTER = 30.0  # seconds without a connected session before a job stops itself
JOB_NICE = 10  # a job's CPU priority: a page's script (0) runs first, the warm-up (19) last
QUEUE_POLL = 0.2  # seconds between a queued job's checks of its stop flag
MAX_SHARED_FINISHED = 16  # finished shared runs kept for everyone (each holds one run's result)
WAITING = N_("Waiting for a free run slot on this server…")

Report = Callable[[float, str, Any], None]
ShouldStop = Callable[[], bool]
Work = Callable[[Report, ShouldStop], Any]


@dataclass(eq=False)
class JobSlot:
    """The server's run slots: how many jobs may run at once, those running, and the queue."""

    slots: int = 1
    cond: threading.Condition = field(default_factory=threading.Condition)
    running: set = field(default_factory=set)
    waiting: list = field(default_factory=list)  # first in, first out

    def enter(self, job: object) -> None:
        """Put job at the end of the queue."""
        with self.cond:
            self.waiting.append(job)

    def acquire(self, job: object, timeout: float) -> bool:
        """Return True once job, first in the queue, took a free slot (False after timeout)."""
        with self.cond:
            if not self.cond.wait_for(lambda: self._may_run(job), timeout):
                return False
            self.waiting.remove(job)
            self.running.add(job)
            self.cond.notify_all()  # the next in the queue is now first
            return True

    def _may_run(self, job: object) -> bool:
        return len(self.running) < self.slots and bool(self.waiting) and self.waiting[0] is job

    def leave(self, job: object) -> None:
        """Stop counting job, running or queued, and let the next one move up."""
        with self.cond:
            self.running.discard(job)
            if job in self.waiting:
                self.waiting.remove(job)
            self.cond.notify_all()

    def count(self) -> int:
        """Return how many jobs are queued or running."""
        with self.cond:
            return len(self.running) + len(self.waiting)

    def place(self, job: object) -> int:
        """Return job's place in the queue (1 = next to run), or 0 when it is not queued."""
        with self.cond:
            return self.waiting.index(job) + 1 if job in self.waiting else 0


# st.cache_resource keeps one JobSlot per server process, also when the dev server re-imports
# this module after a source change (the cache key is this function's module, name and source).
# Clearing every cache (st.cache_resource.clear(), which the app never does) makes a new slot; jobs
# already queued keep the one they started with.
@st.cache_resource(show_spinner=False)
def shared_slot() -> JobSlot:
    """Return the server's JobSlot (runtime_tuning.max_jobs() slots), made on first use."""
    return JobSlot(max_jobs())


class Line(str):
    """A progress line in the language it was made in, able to say itself in another one (the
    people following a shared run may read different languages)."""

    msgid: str
    params: dict

    def __new__(cls, lang: str, msgid: str, **params: object) -> Line:
        line = super().__new__(cls, _render(lang, msgid, params))
        line.msgid, line.params = msgid, params
        return line

    def in_lang(self, lang: str) -> str:
        """Return this line in lang."""
        return _render(lang, self.msgid, self.params)


def _render(lang: str, msgid: str, params: dict) -> str:
    """Return msgid in lang, filled from params (Line params are put in lang too)."""
    from ui.i18n import translations

    text = translations(lang).gettext(msgid)
    if not params:
        return text
    return text.format(
        **{k: v.in_lang(lang) if isinstance(v, Line) else v for k, v in params.items()}
    )


@dataclass
class JobState:
    """What a page may read about a job at any moment (a consistent copy)."""

    status: str  # "queued", "running", "done", "stopped" or "failed"
    fraction: float  # 0..1 of the work done
    text: str  # one line on what is happening (a message id, or a Line)
    payload: Any  # the last value the work reported (curves so far, a snapshot...)
    result: Any  # what the work returned (None until done or stopped)
    error: str  # a message a person can act on, if status is "failed" (English)
    seconds: float  # time since the job left the queue (0 while queued)
    place: int = 0  # its place in the queue while queued (1 = next to run), else 0

    @property
    def finished(self) -> bool:
        """True once the job will change no more."""
        return self.status in ("done", "stopped", "failed")


@dataclass(eq=False)
class Job:
    """A function running on its own thread, with progress, a stop flag and a result."""

    name: str
    work: Work
    owner_alive: Callable[[], bool] | None = None  # is a session that follows it connected?
    slot: JobSlot | None = None  # the slots it queues for (None: the server's shared_slot())
    on_finish: Callable[[Job], None] | None = None  # called once, from its thread, at the end
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _status: str = "queued"
    _fraction: float = 0.0
    _text: str = WAITING
    _payload: Any = None
    _result: Any = None
    _error: str = ""
    _failure: ExplorerError | None = None  # the engine's error, to word in the reader's language
    _started: float = 0.0
    _ended: float = 0.0
    _thread: threading.Thread | None = None
    _slot: JobSlot | None = None  # the slot it was queued for (kept even if caches are cleared)
    _last_alive: float = field(default_factory=time.monotonic)
    _last_check: float = 0.0
    _watchers: set = field(default_factory=set)  # the sessions' Watches of a shared run

    def start(self) -> Job:
        """Queue the job and start its thread (once); return self."""
        if self._thread is None:
            self._slot = self.slot or shared_slot()
            self._thread = threading.Thread(target=self._run, name=f"job-{self.name}", daemon=True)
            self._slot.enter(self)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop at its next check (a queued job leaves the queue)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once Stop was asked for."""
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to finish; return True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state().finished

    def state(self) -> JobState:
        """Return a consistent copy of the job's progress."""
        place = self._slot.place(self) if self._slot is not None else 0
        with self._lock:
            now = self._ended or time.perf_counter()
            seconds = now - self._started if self._started else 0.0
            return JobState(
                self._status,
                self._fraction,
                self._text,
                self._payload,
                self._result,
                self._error,
                seconds,
                place if self._status == "queued" else 0,
            )

    def _should_stop(self) -> bool:
        """Return True once Stop was pressed or the owner's session has been gone too long."""
        if self._stop.is_set():
            return True
        now = time.monotonic()
        if self.owner_alive is not None and now - self._last_check >= 1.0:
            self._last_check = now
            try:
                alive = self.owner_alive()
            except Exception:  # a runtime shutting down: treat as gone
                alive = False
            if alive:
                self._last_alive = now
            elif now - self._last_alive > ABANDON_AFTER:
                log.info("Job %s stopped: its session is gone", self.name)
                self._stop.set()
        return self._stop.is_set()

    def _report(self, fraction: float, text: str, payload: Any = None) -> None:
        with self._lock:
            self._fraction = min(max(float(fraction), 0.0), 1.0)
            self._text = text if isinstance(text, Line) else str(text)
            if payload is not None:
                self._payload = payload

    def _run(self) -> None:
        slot = self._slot
        lower_thread_priority(JOB_NICE)  # before torch starts any worker from this thread
        try:
            if self._wait_for_a_slot(slot):
                self._work_in(slot)
        except ExplorerError as err:  # the engine's own, person-readable errors
            self._failure = err
            self._finish("failed", N_("Failed."), None, str(err))
        except Exception:  # never let a thread die silently; the page shows a plain message
            log.exception("Job %s failed", self.name)
            self._finish(
                "failed", N_("Failed."), None, N_("The run failed unexpectedly; try again.")
            )
        finally:
            slot.leave(self)
            if self.on_finish is not None:
                self.on_finish(self)

    def _wait_for_a_slot(self, slot: JobSlot) -> bool:
        """Return True once the job holds a slot; False (finished as cancelled) if stopped first."""
        while not slot.acquire(self, QUEUE_POLL):  # queued: can be cancelled while waiting
            if self._should_stop():
                self._finish("stopped", N_("Cancelled before it started."), None)
                return False
        return True

    def _work_in(self, slot: JobSlot) -> None:
        """Run the work in the slot it holds, and finish with its result."""
        with self._lock:
            self._status, self._started = "running", time.perf_counter()
            self._text = N_("Starting…")
        result = self.work(self._report, self._should_stop)
        stopped = self._stop.is_set()
        self._finish(
            "stopped" if stopped else "done", N_("Stopped.") if stopped else N_("Done."), result
        )

    def _finish(self, status: str, text: str, result: Any, error: str = "") -> None:
        with self._lock:
            self._status, self._text, self._result, self._error = status, text, result, error
            self._ended = time.perf_counter()
            if status == "done":
                self._fraction = 1.0


def running_jobs() -> int:
    """Return how many jobs are queued or running on this server."""
    return shared_slot().count()


@dataclass(frozen=True)
class RuntimeView:
    """What the app asks Streamlit's runtime: is this a real server, which session is running."""

    real_server: bool  # a `streamlit run` server (not AppTest's stand-in, not a bare script)
    session_id: str | None  # the browser session of the running script, if any
    is_active: Callable[[str], bool] | None  # is a session still connected?


NO_RUNTIME = RuntimeView(False, None, None)


def runtime_view() -> RuntimeView:
    """Return what Streamlit's runtime says about this process and the running session.

    The only use of Streamlit's private runtime API in the app (Streamlit has no public way to
    ask whether a session is still connected, or whether a real server runs). tests/test_jobs.py
    names each piece used here and fails loudly if an upgrade removes or renames one; the app
    itself then only loses the abandoned-job stop and the warm-up, with a warning in the log.
    """
    try:
        from streamlit.runtime import Runtime, exists
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if not exists():  # a bare script: no server, no sessions
            return NO_RUNTIME
        runtime = Runtime.instance()
        ctx = get_script_run_ctx(suppress_warning=True)
        session_id = ctx.session_id if ctx is not None else None
        return RuntimeView(type(runtime) is Runtime, session_id, runtime.is_active_session)
    except (ImportError, AttributeError, TypeError) as err:  # an API changed under us
        log.warning("Streamlit's runtime could not be asked: %s", err)
        return NO_RUNTIME


def _session_watch() -> Callable[[], bool] | None:
    """Return a check that this browser session is still connected (None outside a server)."""
    view = runtime_view()
    if view.session_id is None or view.is_active is None:
        return None
    is_active, session_id = view.is_active, view.session_id
    return lambda: is_active(session_id)


def start_job(state: MutableMapping, key: str, name: str, work: Work) -> Job | Watch:
    """Start work as a job stored under state[key] (leaving any job already stored there).

    Work marked by `shareable` is shared with every session asking for the same key
    (start_shared_job); any other work is this session's own.
    """
    share_key = getattr(work, "share_key", None)
    if share_key is not None:
        return start_shared_job(state, key, name, share_key, work, keep=work.keep_result)
    old = state.get(key)
    if _is_job(old):
        old.stop()
    job = Job(name, work, owner_alive=_session_watch()).start()
    state[key] = job
    return job


def shareable(share_key: Hashable, work: Work, *, keep: bool = True) -> Work:
    """Return work marked as the same for everyone asking for share_key (its settings, all of
    them), so start_job shares one run of it between sessions; keep=False when the work stores
    its finished results itself (then only a run going on is shared)."""
    work.share_key, work.keep_result = share_key, keep
    return work


@dataclass(eq=False)
class Watch:
    """One session's hold on a shared job: what it shows, and its Stop, which leaves the run to
    the other sessions following it and stops it only when no other follows it."""

    job: Job
    alive: Callable[[], bool] | None  # is this session connected? (None: no server to ask)
    how: str  # "started" it, "joined" a run going on, or got a "finished" one
    runs: SharedRuns
    left: bool = False  # pressed Stop while others followed the run

    @property
    def name(self) -> str:
        """The job's name."""
        return self.job.name

    @property
    def failure(self) -> ExplorerError | None:
        """The engine's error, if the run failed with one."""
        return self.job._failure

    def connected(self) -> bool:
        """True while this session is connected (or there is no server to ask)."""
        return self.alive is None or self.alive()

    def others(self) -> int:
        """Return how many other sessions follow the run now."""
        with self.runs.lock:
            return len(self.job._watchers - {self})

    def stop(self) -> None:
        """Leave the run; stop it if no other session follows it."""
        with self.runs.lock:
            self.job._watchers.discard(self)
            followed = any(w.connected() for w in self.job._watchers)
            self.left = followed and not self.job.state().finished
        if not followed:
            self.job.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to finish; return True if it has."""
        return self.job.join(timeout)

    def state(self) -> JobState:
        """Return the run's state, or a stopped one without result after this session left it."""
        s = self.job.state()
        if not self.left:
            return s
        return JobState("stopped", s.fraction, LEFT, s.payload, None, "", s.seconds)


LEFT = N_("You left this run; it goes on for the other sessions following it.")


@dataclass(eq=False)
class SharedRuns:
    """The server's shared runs: those going on and the newest finished ones, by share key."""

    cap: int = MAX_SHARED_FINISHED
    lock: threading.RLock = field(default_factory=threading.RLock)
    running: dict = field(default_factory=dict)
    finished: OrderedDict = field(default_factory=OrderedDict)  # oldest first

    def watch(
        self, share_key: Hashable, name: str, work: Work, alive, keep: bool = True
    ) -> tuple[Watch, bool]:
        """Return (a Watch of the run for share_key, whether its job still has to be started):
        a finished run, the run going on, or a new one (kept when it finishes if keep)."""
        with self.lock:
            done = self.finished.get(share_key)
            if done is not None:
                self.finished.move_to_end(share_key)
                return Watch(done, alive, "finished", self), False
            job = self.running.get(share_key)
            fresh = job is None or job.stopping  # never join a run that is being stopped
            if fresh:
                job = Job(name, work, on_finish=lambda j: self.settle(share_key, j, keep))
                job.owner_alive = lambda: any(w.connected() for w in tuple(job._watchers))
                self.running[share_key] = job
            watch = Watch(job, alive, "started" if fresh else "joined", self)
            job._watchers.add(watch)
            return watch, fresh

    def settle(self, share_key: Hashable, job: Job, keep: bool = True) -> None:
        """Move a finished job out of the running ones; keep it if asked and it ran to the end."""
        with self.lock:
            if self.running.get(share_key) is job:
                del self.running[share_key]
            if keep and job.state().status == "done":
                self.finished[share_key] = job
                self.finished.move_to_end(share_key)
                while len(self.finished) > self.cap:
                    self.finished.popitem(last=False)


@st.cache_resource(show_spinner=False)
def shared_runs() -> SharedRuns:
    """Return the server's SharedRuns, made on first use."""
    return SharedRuns()


def start_shared_job(
    state: MutableMapping,
    key: str,
    name: str,
    share_key: Hashable,
    work: Work,
    *,
    keep: bool = True,
) -> Watch:
    """Follow the one run of work for share_key under state[key]: join the run going on with the
    same key, take the finished one, or start it (leaving any other job stored there); a run
    that ends done is kept for later askers if keep."""
    old = state.get(key)
    if isinstance(old, Watch) and old.job is shared_runs().running.get(share_key):
        if not old.left and not old.job.stopping:
            return old  # this session already follows that very run
    if _is_job(old):
        old.stop()
    watch, fresh = shared_runs().watch(share_key, name, work, _session_watch(), keep)
    if fresh:
        watch.job.start()
    state[key] = watch
    return watch


def _is_job(obj: object) -> bool:
    """True for a Job or a Watch, also one made before Streamlit re-imported this module."""
    return type(obj).__name__ in ("Job", "Watch") and hasattr(obj, "state")


def get_job(state: MutableMapping, key: str) -> Job | Watch | None:
    """Return the job (or Watch of a shared one) stored under state[key], if any."""
    job = state.get(key)
    return job if _is_job(job) else None


MIN_FRACTION_TO_ESTIMATE = 0.02  # below this, a job has shown too little of its pace to extrapolate
MIN_SECONDS_TO_ESTIMATE = 1.0


def seconds_left(fraction: float, seconds: float) -> float | None:
    """Return the seconds a job still needs at its pace so far, or None before it can be told.

    A job `fraction` done after `seconds` needs seconds × (1 − fraction) / fraction more if it
    keeps its pace; with under 2 % done or under a second run there is no pace to go on.
    """
    if fraction < MIN_FRACTION_TO_ESTIMATE or seconds < MIN_SECONDS_TO_ESTIMATE:
        return None
    return seconds * (1.0 - min(fraction, 1.0)) / fraction


def _duration(seconds: float) -> str:
    """Return seconds as "42 s" or "3 min 05 s"."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def _t(msgid: str, **params: object) -> str:
    """Return ui.i18n.t(msgid, **params); imported here because ui.i18n imports this module."""
    from ui.i18n import t

    return t(msgid, **params)


def failure_text(job: Job | Watch, s: JobState) -> str:
    """Return why the job failed in the reader's language: the engine's own error, translated
    with its parameters, or the job's message."""
    from ui.i18n import error_text

    failure = job.failure if isinstance(job, Watch) else getattr(job, "_failure", None)
    return error_text(failure) if failure is not None else _t(s.error)


def _line(text: str) -> str:
    """Return a job's line in the reader's language (a Line says itself in any language)."""
    if isinstance(text, Line):
        from ui.i18n import current_lang

        return text.in_lang(current_lang())
    return _t(text)


def queue_line(place: int) -> str:
    """Return "2nd in the queue: 1 run ahead of yours" in the reader's language."""
    from ui.i18n import tn

    return tn(
        "{place} in the queue: {n} run ahead of yours",
        "{place} in the queue: {n} runs ahead of yours",
        place - 1,
        place=_ordinal(place),
    )


def _ordinal(n: int) -> str:
    """Return n as an ordinal in the reader's language ("1st", "2nd", "11th"; 第 2 位)."""
    if 10 <= n % 100 <= 20 or n % 10 not in (1, 2, 3):
        return _t(N_("{n}th"), n=n)
    return _t({1: N_("{n}st"), 2: N_("{n}nd"), 3: N_("{n}rd")}[n % 10], n=n)


def shared_note(job: Job | Watch) -> str | None:
    """Return who else follows this run ("shared with 1 other session"), or None when nobody."""
    if not isinstance(job, Watch):
        return None
    from ui.i18n import tn

    if job.how == "finished":
        return _t(
            N_("Trained earlier on this server with the same settings: the result is shared.")
        )
    others = job.others()
    if job.left or others == 0 and job.how == "started":
        return None
    return tn(
        "Shared run: {n} other session follows it, so it runs once for all.",
        "Shared run: {n} other sessions follow it, so it runs once for all.",
        others,
    )


def clock_line(fraction: float, seconds: float) -> str:
    """Return "12 s so far, about 30 s left" (or just the time so far when no estimate yet)."""
    left = seconds_left(fraction, seconds)
    if left is None:
        return _t(N_("{so_far} so far"), so_far=_duration(seconds))
    return _t(
        N_("{so_far} so far, about {left} left"), so_far=_duration(seconds), left=_duration(left)
    )


def show_progress(
    job: Job, render: Callable[[JobState], None], *, key: str, every: float = 1.0
) -> JobState:
    """Draw the job's progress bar, a Stop button and render(state), refreshed every `every` s.

    The refresh is a fragment: only this part of the page reruns while the job works. When the
    job finishes the whole page reruns once, so everything below can use the result.
    """
    done_key = f"{key}__seen_finished"

    @st.fragment(run_every=every if not job.state().finished else None)
    def _panel() -> None:
        s = job.state()
        _status_lines(job, s, key)
        render(s)
        if s.finished and st.session_state.get(done_key) is not job:
            st.session_state[done_key] = job
            st.rerun(scope="app")

    _panel()
    return job.state()


def _status_lines(job: Job | Watch, s: JobState, key: str) -> None:
    """Draw the queue place or the progress bar, who shares the run, and Stop or the outcome."""
    if s.status == "queued":
        st.info(queue_line(s.place) if s.place else _line(s.text))
    elif not s.finished:
        st.progress(s.fraction, f"{_line(s.text)}  ({clock_line(s.fraction, s.seconds)})")
    note = shared_note(job)
    if note:
        st.caption(note)
    if not s.finished:
        st.button(_t(N_("Stop")), key=f"{key}__stop", on_click=job.stop, icon=":material/stop:")
    elif s.status == "failed":
        st.error(failure_text(job, s))
    elif s.status == "stopped" and s.result is None:
        st.warning(_line(s.text))
