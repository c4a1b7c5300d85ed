"""Long training runs in the background, so a page stays responsive while a network learns.

A page starts a `Job` (a thread running one function), keeps it in its session state, and redraws
its progress in a fragment that reruns every second. The person can keep moving widgets, press
Stop at any time (the work function polls `should_stop`), or leave the page and come back.

One job runs at a time on the whole server (the machine has two cores shared by everyone); later
jobs wait in a queue and say so. A job never touches Streamlit: it reports plain values through
`report(fraction, text, payload)`, and the page reads them. A job whose browser session has gone
(tab closed) for ABANDON_AFTER seconds is stopped, so an abandoned run cannot hold the server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from engine.core import N_, ExplorerError
from runtime_tuning import lower_thread_priority

__all__ = [
    "Job",
    "JobSlot",
    "JobState",
    "RuntimeView",
    "get_job",
    "clock_line",
    "running_jobs",
    "runtime_view",
    "seconds_left",
    "shared_slot",
    "show_progress",
    "start_job",
]

log = logging.getLogger(__name__)

ABANDON_AFTER = 30.0  # seconds without a connected session before a job stops itself
JOB_NICE = 10  # a job's CPU priority: a page's script (0) runs first, the warm-up (19) last

Report = Callable[[float, str, Any], None]
ShouldStop = Callable[[], bool]
Work = Callable[[Report, ShouldStop], Any]


@dataclass(eq=False)
class JobSlot:
    """The server's one run slot (a lock) and the jobs queued or running for it."""

    run: threading.Lock = field(default_factory=threading.Lock)
    guard: threading.Lock = field(default_factory=threading.Lock)  # protects `jobs`
    jobs: set = field(default_factory=set)

    def enter(self, job: object) -> None:
        """Count job as queued or running."""
        with self.guard:
            self.jobs.add(job)

    def leave(self, job: object) -> None:
        """Stop counting job."""
        with self.guard:
            self.jobs.discard(job)

    def count(self) -> int:
        """Return how many jobs are queued or running."""
        with self.guard:
            return len(self.jobs)


# One run at a time per server: a second run would halve the speed of both and of every page.
# st.cache_resource keeps one JobSlot per server process, also when the dev server re-imports
# this module after a source change (the cache key is this function's module, name and source).
# Clearing every cache (st.cache_resource.clear(), which the app never does) makes a new slot; jobs
# already queued keep the one they started with.
@st.cache_resource(show_spinner=False)
def shared_slot() -> JobSlot:
    """Return the server's one JobSlot, made on first use."""
    return JobSlot()


@dataclass
class JobState:
    """What a page may read about a job at any moment (a consistent copy)."""

    status: str  # "queued", "running", "done", "stopped" or "failed"
    fraction: float  # 0..1 of the work done
    text: str  # one line on what is happening
    payload: Any  # the last value the work reported (curves so far, a snapshot...)
    result: Any  # what the work returned (None until done or stopped)
    error: str  # a message a person can act on, if status is "failed" (English)
    seconds: float  # time since the job left the queue (0 while queued)

    @property
    def finished(self) -> bool:
        """True once the job will change no more."""
        return self.status in ("done", "stopped", "failed")


@dataclass(eq=False)
class Job:
    """A function running on its own thread, with progress, a stop flag and a result."""

    name: str
    work: Work
    owner_alive: Callable[[], bool] | None = None  # is the session that started it connected?
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _status: str = "queued"
    _fraction: float = 0.0
    _text: str = N_("Waiting for another run on this server to finish…")
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

    def start(self) -> Job:
        """Start the thread (once) and return self."""
        if self._thread is None:
            self._slot = shared_slot()
            self._thread = threading.Thread(target=self._run, name=f"job-{self.name}", daemon=True)
            self._slot.enter(self)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop at its next check (a queued job is cancelled)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to finish; return True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state().finished

    def state(self) -> JobState:
        """Return a consistent copy of the job's progress."""
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
            self._text = str(text)
            if payload is not None:
                self._payload = payload

    def _run(self) -> None:
        slot = self._slot
        lower_thread_priority(JOB_NICE)  # before torch starts any worker from this thread
        try:
            while not slot.run.acquire(timeout=0.2):  # queued: can be cancelled while waiting
                if self._should_stop():
                    self._finish("stopped", N_("Cancelled before it started."), None)
                    return
            try:
                with self._lock:
                    self._status, self._started = "running", time.perf_counter()
                    self._text = N_("Starting…")
                result = self.work(self._report, self._should_stop)
                stopped = self._stop.is_set()
                self._finish(
                    "stopped" if stopped else "done",
                    N_("Stopped.") if stopped else N_("Done."),
                    result,
                )
            finally:
                slot.run.release()
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


def start_job(state: MutableMapping, key: str, name: str, work: Work) -> Job:
    """Start work as a job stored under state[key] (stopping any job already stored there)."""
    old = state.get(key)
    if _is_job(old):
        old.stop()
    job = Job(name, work, owner_alive=_session_watch()).start()
    state[key] = job
    return job


def _is_job(obj: object) -> bool:
    """True for a Job, also one made before Streamlit re-imported this module (dev server)."""
    return isinstance(obj, Job) or type(obj).__name__ == "Job" and hasattr(obj, "state")


def get_job(state: MutableMapping, key: str) -> Job | None:
    """Return the job stored under state[key], if any."""
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


def failure_text(job: Job, s: JobState) -> str:
    """Return why the job failed in the reader's language: the engine's own error, translated
    with its parameters, or the job's message."""
    from ui.i18n import error_text

    failure = getattr(job, "_failure", None)
    return error_text(failure) if failure is not None else _t(s.error)


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
        if s.status == "queued":
            st.info(_t(s.text))
        elif not s.finished:
            st.progress(s.fraction, f"{_t(s.text)}  ({clock_line(s.fraction, s.seconds)})")
        if not s.finished:
            st.button(_t(N_("Stop")), key=f"{key}__stop", on_click=job.stop, icon=":material/stop:")
        elif s.status == "failed":
            st.error(failure_text(job, s))
        elif s.status == "stopped" and s.result is None:
            st.warning(_t(s.text))
        render(s)
        if s.finished and st.session_state.get(done_key) is not job:
            st.session_state[done_key] = job
            st.rerun(scope="app")

    _panel()
    return job.state()
