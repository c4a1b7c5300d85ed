"""`python -m benchmarks classroom N`: a classroom of N learners on one server (default N = 12),
with the learners' rendering off this machine.

Why: `sessions N` runs N Chromium instances beside the server on the same cores, so its settle
times are mostly the browsers' own rendering (plotly.js alone is a ~0.7 s main-thread task per
tab), which in a classroom runs on each learner's own laptop; only the server is shared. This
suite is the nearest real measurement of that, kept beside the all-Chromium one.

What: one fresh server (started and warmed as the sessions suite does). N - 1 headless protocol
learners (benchmarks/protocol_learner.py: Streamlit's own browser protocol over the websocket,
images fetched from /media/ as a browser would, nothing drawn) and ONE real Chromium learner (the
sessions suite's walk, unchanged) start together at a barrier and walk the same pages (the
sessions suite's WALK, or BENCH_SESSIONS_PAGES), changing each page's widget of the browser suite
(WIDGETS; for a protocol learner the same widget, one step on, through its proto kind).

Reported:
- the protocol learners' server latency, for page opens and for widget changes: from sending the
  request to the run's final `script_finished` with every image fetched (no drawing: what the
  server and the network make a learner wait for);
- the Chromium learner's settle times under that load, taken exactly as the browser suite takes
  them: the number a learner sees (target p95 ≤ 8 s). They include its own rendering on the
  cores it shares with the server (and with this process's protocol learners), so they are an
  upper bound of what a learner with their own laptop sees;
- the server's CPU seconds over the walk, and the cores that makes on average;
- the server's memory as the sessions suite reports it: before, with every learner open (and per
  learner), the peak, right after all closed, and once the server may have dropped them;
- isolation: each protocol learner types its own marker text into the LSTM page; once all have
  (a barrier) it reruns that page and checks that the run's deltas hold its own marker and the
  server's count of its own characters, and that no delta it received in its whole visit holds
  another learner's marker. The Chromium learner checks its page as in the sessions suite.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field

from streamlit.proto.Delta_pb2 import Delta

from benchmarks.bench_browser import (
    WIDGETS,
    Line,
    _log,
    _wait_warmup_done,
    load_averages,
    server,
)
from benchmarks.bench_sessions import (
    MARK_KEY,
    MARK_PAGE,
    Learner,
    Meeting,
    Round,
    _metrics,
    _wait_s,
    _walk_pages,
    learn,
    meeting_for,
    memory_lines,
    memory_mb,
    opening_line,
    percentile,
    run_together,
    server_pid,
    summary,
)
from benchmarks.protocol_learner import ProtocolLearner

DEFAULT_LEARNERS = 12
STEP_TIMEOUT_S = 300  # a request with no final script_finished by then ends the learner's walk
# The browser suite's widget actions as the proto kinds they drive
PROTO_KINDS = {"slider": "slider", "radio": "radio", "select": "selectbox", "step": "number_input"}
Opens = dict[str, list[float]]  # URL path → seconds of each page open


# ---- pure parts (tested in tests/test_classroom_bench.py)


def first_metric(deltas: list[bytes]) -> str | None:
    """Return the value of the first st.metric among serialized deltas (None if there is none)."""
    for raw in deltas:
        delta = Delta.FromString(raw)
        if delta.WhichOneof("type") == "new_element":
            if delta.new_element.WhichOneof("type") == "metric":
                return delta.new_element.metric.body
    return None


def marker_notes(
    learner: Learner, run: list[bytes], received: list[bytes], markers: list[str]
) -> list[str]:
    """Return what is wrong with a learner's isolation (empty if nothing): run, the marker page's
    rerun after every learner typed; received, every delta of its visit."""
    notes = []
    if not any(learner.marker.encode() in delta for delta in run):
        notes.append("own marker missing after the rerun")
    counted = first_metric(run)
    if counted != f"{len(learner.text):,}":
        notes.append(f"the server traced {counted} characters, not ours")
    others = [m for m in markers if m != learner.marker and any(m.encode() in d for d in received)]
    if others:
        notes.append(f"received other learners' markers: {', '.join(others)}")
    return notes


def spread(name: str, seconds: list[float]) -> str:
    """Return a 'p50, p95, max (count)' line of seconds (no target: a part of the wait)."""
    if not seconds:
        return f"{name:<22} —"
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    top = max(seconds)
    return f"{name:<22} p50 {p50:6.2f} s  p95 {p95:6.2f} s  max {top:6.2f} s  ({len(seconds)})"


def by_page(opens: Opens) -> str:
    """Return each page's median open, slowest first, as one line."""
    medians = sorted(((percentile(s, 50), url) for url, s in opens.items() if s), reverse=True)
    return ", ".join(f"{url or 'home'} {p50:.2f} s" for p50, url in medians) or "—"


# ---- one protocol learner


async def _barrier(barrier: threading.Barrier) -> None:
    """Wait at a barrier without stopping this learner's event loop (its websocket keeps alive)."""
    await asyncio.to_thread(barrier.wait)


async def _change(tab: ProtocolLearner, url: str) -> float:
    """Return seconds for the page's widget change; raise KeyError (saying why) when the widget
    is not on the page or is not of the kind the browser suite's action drives."""
    key, action = WIDGETS[url]
    kind = tab.widget(key).kind  # KeyError: not on the page
    if PROTO_KINDS.get(action) != kind:
        raise KeyError(f"{key}: {action} is not a {kind}")
    return await asyncio.wait_for(tab.change(key), STEP_TIMEOUT_S)


async def _walk(tab: ProtocolLearner, learner: Learner, walk: list[str], opens: Opens) -> None:
    """Open every page of walk and change its widget, recording seconds (also by page in opens)
    and notes."""
    for url in walk:
        learner.pages.append(await asyncio.wait_for(tab.open(url), STEP_TIMEOUT_S))
        opens.setdefault(url, []).append(learner.pages[-1])
        if url not in WIDGETS:
            continue
        try:
            learner.changes.append(await _change(tab, url))
        except KeyError as err:
            learner.notes.append(f"{url}: {err}")


async def _type_marker(tab: ProtocolLearner, learner: Learner) -> None:
    """Open the marker page (if elsewhere) and commit this learner's text."""
    if tab.page != MARK_PAGE:
        await asyncio.wait_for(tab.open(MARK_PAGE), STEP_TIMEOUT_S)
    await asyncio.wait_for(tab.change(MARK_KEY, learner.text), STEP_TIMEOUT_S)


async def _check(tab: ProtocolLearner, learner: Learner, markers: list[str]) -> None:
    """Rerun the marker page and record whether this learner is isolated."""
    await asyncio.wait_for(tab.rerun(), STEP_TIMEOUT_S)
    notes = marker_notes(learner, tab.last.deltas, tab.received, markers)
    learner.notes += notes
    learner.isolated = not notes


async def _visit(
    base: str, learner: Learner, walk: list[str], meeting: Meeting, opens: Opens
) -> None:
    """One protocol learner's whole visit."""
    async with ProtocolLearner(base) as tab:
        await _barrier(meeting.start)
        marked = False
        try:
            await _walk(tab, learner, walk, opens)
            await _type_marker(tab, learner)
            marked = True
        except TimeoutError:  # the socket now holds a run we gave up on: stop, but keep meeting
            learner.notes.append(f"{tab.page}: no final script_finished in {STEP_TIMEOUT_S} s")
        await _barrier(meeting.marked)
        if marked:
            await _check(tab, learner, meeting.markers)
        await _barrier(meeting.walked)


def visit(base: str, learner: Learner, walk: list[str], meeting: Meeting, opens: Opens) -> None:
    """One protocol learner on this thread; if it breaks, the barriers break with it (no hang)."""
    try:
        asyncio.run(_visit(base, learner, walk, meeting, opens))
    except Exception as err:  # websocket errors, or a barrier another learner broke
        learner.notes.append(f"visit broken off ({type(err).__name__}: {err})")
        meeting.abort()


async def _open_home(base: str) -> None:
    """Open the home page in a new session and leave (starts the warm-up; adds a session)."""
    async with ProtocolLearner(base) as tab:
        await tab.open("")


# ---- the class


@dataclass
class Classroom(Round):
    """One class: a sessions round whose `learners` are the protocol learners, beside the
    Chromium learner (browser), with this process's CPU and the protocol learners' page opens."""

    browser: Learner | None = None
    own_cpu_s: float = 0.0  # this process's: the protocol learners and Playwright's Python side
    opens: Opens = field(default_factory=dict)  # the protocol learners' page opens, by page

    @property
    def everyone(self) -> list[Learner]:
        return [self.browser, *self.learners]


def one_class(base: str, pid: int, n: int, walk: list[str]) -> Classroom:
    """Return a class of n learners (one in Chromium) walking at once on the server at base."""
    room = Classroom([Learner(i) for i in range(1, n)], memory_mb(pid), browser=Learner(0))
    meeting = meeting_for(base, pid, room.everyone, room)
    threads = [threading.Thread(target=learn, args=(base, room.browser, walk, meeting))]
    threads += [
        threading.Thread(target=visit, args=(base, lr, walk, meeting, room.opens))
        for lr in room.learners
    ]
    own = time.process_time()
    run_together(pid, threads, room)
    room.own_cpu_s = time.process_time() - own
    return room


def _time_lines(room: Classroom) -> list[Line]:
    """Return the protocol learners' server latency and the Chromium learner's settle times."""
    pages = [s for lr in room.learners for s in lr.pages]
    changes = [s for lr in room.learners for s in lr.changes]
    seen = room.browser
    return [
        Line(
            f"{len(room.learners)} protocol learners: server latency (request → run done + images)"
        ),
        Line(spread("  page open", pages)),
        Line(f"  page open p50 by page: {by_page(room.opens)}"),
        Line(spread("  widget change", changes)),
        Line("1 Chromium learner: settle times (its own rendering included, on shared cores)"),
        Line(summary("  page (menu click)", seen.pages)),
        Line(summary("  widget change", seen.changes)),
        Line(summary("  every settle", seen.pages + seen.changes)),
    ]


def _memory_lines(room: Classroom, wait: float) -> list[Line]:
    """Return the server's memory and CPU lines as the sessions suite words them, then this
    process's own CPU."""
    lines = memory_lines(room, wait, len(room.everyone), indent="")
    own = Line(
        f"learners' side on the same cores: this process (protocol learners, Playwright's "
        f"Python side) {room.own_cpu_s:.0f} CPU s; the Chromium learner's own processes "
        "are not counted"
    )
    return [*lines[:2], own, *lines[2:]]


def _class_lines(room: Classroom, wait: float) -> list[Line]:
    """Return the times, isolation, memory and every learner's notes."""
    isolated = sum(lr.isolated is True for lr in room.learners)
    lines = _time_lines(room) + [
        Line(
            f"isolation: {isolated} of {len(room.learners)} protocol learners and "
            f"{'the' if room.browser.isolated else 'NOT the'} Chromium learner see their own "
            "marker and no other's"
        ),
        *_memory_lines(room, wait),
    ]
    notes = [f"  learner {lr.index}: {note}" for lr in room.everyone for note in lr.notes]
    return lines + [Line(text) for text in notes]


def run(n: int = DEFAULT_LEARNERS) -> list[Line]:
    """Return the class's latencies and settle times, isolation, the server's CPU and memory."""
    if n < 2:
        raise ValueError("a class needs at least 2 learners: one in Chromium, one by protocol")
    walk, wait = _walk_pages(), _wait_s()
    lines = [opening_line(walk)]
    os.environ.setdefault("STREAMLIT_SERVER_ENABLE_EXPENSIVE_MEMORY_STATS", "true")
    with server(warmup=True) as (base, log):
        pid = server_pid(base)
        asyncio.run(_open_home(base))  # the first session starts the warm-up
        _wait_warmup_done(log)
        room = one_class(base, pid, n, walk)
        _log(f"class done in {room.seconds:.0f} s; waiting {wait:.0f} s")
        time.sleep(wait)  # the server drops closed sessions on its own clock, after its TTL
        asyncio.run(_open_home(base))  # its store of closed sessions expires them when one comes
        room.after, room.after_sizes = memory_mb(pid), _metrics(base)
        lines += _class_lines(room, wait)
    lines.append(Line(f"load after {load_averages()}"))
    return lines
