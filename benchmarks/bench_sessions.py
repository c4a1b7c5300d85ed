"""`python -m benchmarks sessions N`: N learners at once on one server (default N = 3).

One fresh server (`streamlit run launch.py`, started as the browser suite starts it). Once its
warm-up is done, N Chromium instances (one per learner, each on its own thread) start together at a
barrier. Each opens the first page of WALK, then moves through the rest by the sidebar menu (one
Streamlit session per learner, as in class) and changes one widget per page (the browser suite's
WIDGETS). Settle times are taken exactly as the browser suite takes them (its recorder, its settled
test); a page's time runs from the click on its menu link (or from navigation start for the first
page) to settled.

WALK is a representative subset, not every page: the heavy ones (the classic architectures, the
trained CNN, the LSTM on typed text, the receptive fields, MNIST-1D) beside light ones. Set
BENCH_SESSIONS_PAGES=kernels,pooling (URL paths) to walk others.

Isolation: at the end of its walk each learner types its own text into the LSTM page (MARK_KEY): a
marker found nowhere else, at a length no other learner's text has. Once every learner has (a
barrier), each checks that its page (text, inputs, figure data) shows its own marker and the
server's count of its own characters, and no other learner's marker.

Memory: the server's resident set (VmRSS from /proc; psutil is not a dependency) before the
learners arrive (warm-up done), its peak while they work (sampled every SAMPLE_S, and the kernel's
own high-water mark VmHWM), with every learner still open (and per learner), right after every
browser has closed, and after the server may drop the closed sessions: it keeps them for
server.disconnectedSessionTTL (in a store of at most 128 that expires entries only when a session
is added), so the suite waits that long plus TTL_MARGIN_S (BENCH_SESSIONS_WAIT=s overrides), then
opens and closes one more session before it reads. The server's own metrics (/_stcore/metrics,
byte sizes switched on for this server) say how much is session state with all open and which
caches hold the most after. BENCH_SESSIONS_ROUNDS (default ROUNDS) rounds of the same walk run on
the same server: when memory is bounded, a later round's "after" stays near an earlier one's.

On this machine the browsers and the server share the same cores: the settle times include the
learners' own rendering, which in a classroom runs on their own machines.
"""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_browser import (
    CHANGE_TIMEOUT_MS,
    TIMEOUT_MS,
    WIDGETS,
    Line,
    _log,
    _new_page,
    _settle_ms,
    _wait_warmup_done,
    change,
    load_averages,
    server,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

DEFAULT_SESSIONS = 3
WALK = (
    "kernels",
    "receptive-fields",
    "architectures",
    "trained-cnn",
    "lstm-gates",
    "mnist-1d",
)
MARK_PAGE = "lstm-gates"
MARK_KEY = "lstm_text"
TARGET_P95_S = 8.0  # issue 16: every page still settles, p95 ≤ 8 s, with 12 learners
SAMPLE_S = 0.2
ROUNDS = 2
TTL_MARGIN_S = 15  # the server checks for expired sessions on its own clock: give it time

# Everything a learner could read on the page: text, input values and the figures' data.
PAGE_TEXT = """
() => [document.body.innerText,
       ...[...document.querySelectorAll('input, textarea')].map((e) => e.value),
       ...[...document.querySelectorAll('.js-plotly-plot')].map(
           (gd) => JSON.stringify({data: gd.data, layout: gd.layout}))].join('\\n')
"""


# ---- pure parts (tested in tests/test_deploy.py)


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0..100) of values, linear between ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def status_kib(status: str, field_name: str) -> int:
    """Return a `kB` field (VmRSS, VmHWM, …) of a /proc/<pid>/status text, in KiB."""
    found = re.search(rf"^{field_name}:\s+(\d+)\s+kB$", status, re.MULTILINE)
    if not found:
        raise ValueError(f"{field_name} not in status")
    return int(found.group(1))


def stat_cpu_seconds(stat: str) -> float:
    """Return user + system CPU seconds from a /proc/<pid>/stat line (fields 14 and 15)."""
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serves_port(cmdline: bytes, port: int) -> bool:
    """Return whether a /proc/<pid>/cmdline (NUL-separated) is `streamlit run` on this port."""
    args = cmdline.decode(errors="replace").split("\0")
    if "streamlit" not in args or "run" not in args:
        return False
    return any(
        a == "--server.port" and b == str(port) for a, b in zip(args, args[1:], strict=False)
    )


def split_suites(tokens: list[str]) -> tuple[list[str], dict[str, int]]:
    """Return (suite names, {suite: count}) from `python -m benchmarks` arguments: a number
    after a suite's name is that suite's count (`sessions 12`)."""
    names: list[str] = []
    counts: dict[str, int] = {}
    for token in tokens:
        if not token.isdigit():
            names.append(token)
        elif names and names[-1] not in counts and int(token) > 0:
            counts[names[-1]] = int(token)
        else:
            raise ValueError(f"{token!r} must follow a suite's name and be at least 1")
    return names, counts


def cache_sizes(metrics: str) -> dict[str, int]:
    """Return {cache: size} from the server's /_stcore/metrics text (OpenMetrics).

    Sizes are bytes, except session state and cache_resource, which the server counts in entries
    unless `global.enableExpensiveMemoryStats` is on."""
    sizes = {}
    pattern = r'^cache_memory_bytes\{cache_type="([^"]+)",cache="([^"]*)"\} (\d+)$'
    for kind, name, value in re.findall(pattern, metrics, re.MULTILINE):
        sizes[name or kind] = int(value)
    return sizes


def summary(name: str, seconds: list[float]) -> str:
    """Return a 'p50, p95, max (count)' line of settle times with the issue's target."""
    if not seconds:
        return f"{name:<22} —"
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    verdict = "holds" if p95 <= TARGET_P95_S else "MISSED"
    return (
        f"{name:<22} p50 {p50:6.2f} s  p95 {p95:6.2f} s  max {max(seconds):6.2f} s  "
        f"({len(seconds)})  [p95 ≤ {TARGET_P95_S:g} s: {verdict}]"
    )


# ---- the server's memory


def server_pid(url: str) -> int:
    """Return the pid of the `streamlit run` serving url (found by its --server.port)."""
    port = int(url.rsplit(":", 1)[1])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if serves_port((entry / "cmdline").read_bytes(), port):
                    return int(entry.name)
            except OSError:  # the process ended while we looked
                continue
    raise RuntimeError(f"no streamlit process on port {port}")


def memory_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Return a memory field of pid in MB (10^6 bytes)."""
    return status_kib(Path(f"/proc/{pid}/status").read_text(), field_name) * 1024 / 1e6


def cpu_seconds(pid: int) -> float:
    """Return the CPU seconds pid has used so far (all its threads)."""
    return stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())


class PeakSampler:
    """Samples a process's resident set on a thread until stopped; keeps the maximum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = memory_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.peak = max(self.peak, memory_mb(self.pid))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


# ---- one learner


@dataclass
class Learner:
    """What one learner measured: seconds to settle per page and per change, problems seen."""

    index: int
    pages: list[float] = field(default_factory=list)
    changes: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolated: bool | None = None  # None: the check did not run

    @property
    def marker(self) -> str:
        """Return this learner's marker: found nowhere else on any page."""
        return f"learner{self.index}qz{os.getpid()}"

    @property
    def text(self) -> str:
        """Return the text this learner types: its marker, and a length no other learner's has
        (the server counts the characters it traced, so a mix-up of sessions shows)."""
        return f"print('{self.marker}')" + "#" * (self.index + 1)


@dataclass
class Meeting:
    """What the learners of one round share: the start line, the marker line, and the moment
    every learner has finished its walk and may close its browser."""

    start: threading.Barrier
    marked: threading.Barrier
    walked: threading.Barrier
    markers: list[str]

    def abort(self) -> None:
        """Break every barrier, so that no learner waits for one that has failed."""
        for barrier in (self.start, self.marked, self.walked):
            barrier.abort()


def _open_page(page, base: str, url: str, first: bool) -> float:
    """Return seconds to settled: the first page by its URL, the others by the sidebar menu."""
    if first:
        page.goto(f"{base}/{url}", wait_until="commit")
        return _settle_ms(page, 0.0) / 1e3
    link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url}"]').first
    since = page.evaluate("performance.now()")
    link.click()
    return _settle_ms(page, since, TIMEOUT_MS) / 1e3


def _walk(page, base: str, learner: Learner, walk: list[str]) -> None:
    """Visit every page of walk and change its widget, recording times and notes."""
    for i, url in enumerate(walk):
        try:
            learner.pages.append(_open_page(page, base, url, first=i == 0))
        except Exception as err:  # Playwright's TimeoutError: the page never settled
            learner.notes.append(f"{url}: did not settle ({type(err).__name__})")
            continue
        if url in WIDGETS:
            seconds, note = change(page, *WIDGETS[url])
            if seconds is None:
                learner.notes.append(f"{url}: {note}")
            else:
                learner.changes.append(seconds)


def type_marker(page, base: str, learner: Learner) -> None:
    """Open the marker page (by the menu, if elsewhere) and commit this learner's text."""
    if MARK_PAGE not in page.url:
        _open_page(page, base, MARK_PAGE, first=False)
    box = page.locator(f".st-key-{MARK_KEY} textarea").first
    box.fill(learner.text)
    since = page.evaluate("performance.now()")
    box.press("Control+Enter")
    _settle_ms(page, since, CHANGE_TIMEOUT_MS)


def traced_count(page) -> str:
    """Return the marker page's first metric as shown (the characters the server traced)."""
    return page.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def check_isolation(page, learner: Learner, markers: list[str]) -> bool:
    """Return (and record) whether the page shows this learner's marker, the server's count of
    this learner's characters, and no other learner's marker."""
    text = page.evaluate(PAGE_TEXT)
    others = [m for m in markers if m != learner.marker and m in text]
    counted = traced_count(page) == f"{len(learner.text):,}"
    if learner.marker not in text:
        learner.notes.append("own marker missing after the rerun")
    if not counted:
        learner.notes.append(f"the server traced {traced_count(page)} characters, not ours")
    if others:
        learner.notes.append(f"sees other learners' markers: {', '.join(others)}")
    learner.isolated = learner.marker in text and counted and not others
    return learner.isolated


def learn(base: str, learner: Learner, walk: list[str], meeting: Meeting) -> None:
    """One learner's whole visit; if it breaks, the round's barriers break with it (no hang)."""
    try:
        _learn(base, learner, walk, meeting)
    except Exception as err:  # Playwright's errors, or a barrier another learner broke
        learner.notes.append(f"visit broken off ({type(err).__name__}: {err})")
        meeting.abort()


def _learn(base: str, learner: Learner, walk: list[str], meeting: Meeting) -> None:
    """One learner's whole visit, in its own Chromium on this thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _, page = _new_page(browser)
        meeting.start.wait()
        try:
            _walk(page, base, learner, walk)
            type_marker(page, base, learner)
        except Exception as err:  # keep the meeting going: the others wait at the barriers
            learner.notes.append(f"marker not typed ({type(err).__name__})")
        meeting.marked.wait()
        check_isolation(page, learner, meeting.markers)
        meeting.walked.wait()  # every browser stays open until all are measured
        browser.close()


# ---- a round and the whole run


@dataclass
class Round:
    """One round of N learners: their results, the server's memory (MB) and cache sizes."""

    learners: list[Learner]
    before: float
    open_all: float = 0.0
    peak: float = 0.0
    closed: float = 0.0
    after: float = 0.0
    seconds: float = 0.0
    cpu_s: float = 0.0  # the server's CPU seconds over the round
    open_sizes: dict[str, int] = field(default_factory=dict)  # with every learner still there
    after_sizes: dict[str, int] = field(default_factory=dict)  # once the server dropped them


def meeting_for(base: str, pid: int, learners: list[Learner], record: Round) -> Meeting:
    """Return the barriers of these learners; the last one also measures the server with all
    open, into record.open_all and record.open_sizes."""

    def all_open() -> None:
        record.open_all, record.open_sizes = memory_mb(pid), _metrics(base)

    n = len(learners)
    markers = [lr.marker for lr in learners]
    barriers = threading.Barrier(n), threading.Barrier(n), threading.Barrier(n, all_open)
    return Meeting(*barriers, markers)


def run_together(pid: int, threads: list[threading.Thread], record: Round) -> None:
    """Start the threads, wait for all, and record the wall time, the server's CPU seconds,
    its peak RSS and its RSS right after (the learners' browsers closed)."""
    start, cpu = time.perf_counter(), cpu_seconds(pid)
    with PeakSampler(pid) as sampler:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    record.seconds, record.cpu_s = time.perf_counter() - start, cpu_seconds(pid) - cpu
    record.peak, record.closed = sampler.peak, memory_mb(pid)


def one_round(base: str, pid: int, n: int, walk: list[str]) -> Round:
    """Return a round of n learners walking at once on the server at base."""
    rnd = Round([Learner(i) for i in range(n)], before=memory_mb(pid))
    meeting = meeting_for(base, pid, rnd.learners, rnd)
    threads = [
        threading.Thread(target=learn, args=(base, lr, walk, meeting), daemon=True)
        for lr in rnd.learners
    ]
    run_together(pid, threads, rnd)
    return rnd


def _walk_pages() -> list[str]:
    """Return the URL paths each learner walks (BENCH_SESSIONS_PAGES, else WALK)."""
    chosen = os.environ.get("BENCH_SESSIONS_PAGES")
    pages = chosen.split(",") if chosen else list(WALK)
    return pages if MARK_PAGE in pages else [*pages, MARK_PAGE]


def _session_ttl() -> float:
    """Return how long the server keeps a closed session (s), as its config says."""
    from streamlit import config

    return float(config.get_option("server.disconnectedSessionTTL"))


def _wait_s() -> float:
    """Return how long to wait after a round for the server to drop its closed sessions."""
    chosen = os.environ.get("BENCH_SESSIONS_WAIT")
    return float(chosen) if chosen else _session_ttl() + TTL_MARGIN_S


def _metrics(base: str) -> dict[str, int]:
    """Return the server's cache sizes now (its /_stcore/metrics endpoint)."""
    with urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=60) as reply:
        return cache_sizes(reply.read().decode())


def _holders(sizes: dict[str, int], top: int = 5) -> str:
    """Return the largest st.cache_data holders, as one line."""
    kept = sorted(((v, k) for k, v in sizes.items() if "." in k), reverse=True)[:top]
    return "; ".join(f"{k} {v / 1e6:.1f} MB" for v, k in kept) or "none"


def memory_lines(rnd: Round, wait: float, n: int, indent: str = "  ") -> list[Line]:
    """Return a round's server lines for its n learners: the resident set around it, its CPU,
    session state and the largest caches after."""
    state = rnd.open_sizes.get("st_session_state", 0)
    lines = [
        f"server RSS MB: before {rnd.before:.0f}, all open {rnd.open_all:.0f} "
        f"({(rnd.open_all - rnd.before) / n:.1f} per learner), peak {rnd.peak:.0f}, "
        f"closed {rnd.closed:.0f}, {wait:.0f} s after closing {rnd.after:.0f}",
        f"server CPU: {rnd.cpu_s:.0f} s in {rnd.seconds:.0f} s "
        f"({rnd.cpu_s / rnd.seconds:.2f} cores on average, {rnd.cpu_s / n:.0f} s per learner)",
        f"session state with all open: {state / 1e6:.2f} MB ({state / n / 1e3:.0f} kB each)",
        f"largest caches after: {_holders(rnd.after_sizes)}",
    ]
    return [Line(indent + line) for line in lines]


def _round_lines(k: int, rnd: Round, wait: float) -> list[Line]:
    """Return a round's settle times, isolation and memory lines."""
    n = len(rnd.learners)
    pages = [s for lr in rnd.learners for s in lr.pages]
    changes = [s for lr in rnd.learners for s in lr.changes]
    isolated = sum(lr.isolated is True for lr in rnd.learners)
    lines = [
        Line(f"round {k}: {n} learners at once, {rnd.seconds:.0f} s"),
        Line(summary("  page (menu click)", pages)),
        Line(summary("  widget change", changes)),
        Line(summary("  every settle", pages + changes)),
        Line(f"  isolation: {isolated} of {n} learners see their own marker and no other's"),
        *memory_lines(rnd, wait, len(rnd.learners)),
    ]
    notes = [f"  learner {lr.index}: {note}" for lr in rnd.learners for note in lr.notes]
    return lines + [Line(text) for text in notes]


def _rounds() -> int:
    """Return how many rounds to run (BENCH_SESSIONS_ROUNDS, else ROUNDS)."""
    return max(1, int(os.environ.get("BENCH_SESSIONS_ROUNDS", ROUNDS)))


def opening_line(walk: list[str]) -> Line:
    """Return the first line of a learners' run: the walk, the cores, the load before, and the
    server's malloc arenas."""
    arenas = os.environ.get("MALLOC_ARENA_MAX", "glibc's default")  # scripts/serve.sh sets 2
    return Line(
        f"walk: {', '.join(walk)}; {os.cpu_count()} cores; load before {load_averages()}; "
        f"server's MALLOC_ARENA_MAX {arenas}"
    )


def run(n: int = DEFAULT_SESSIONS) -> list[Line]:
    """Return each round's settle percentiles, isolation and memory, and the server's peak."""
    walk, wait = _walk_pages(), _wait_s()
    lines = [opening_line(walk)]
    # byte sizes of session state and cache_resource (else the server counts entries)
    os.environ.setdefault("STREAMLIT_SERVER_ENABLE_EXPENSIVE_MEMORY_STATS", "true")
    with server(warmup=True) as (base, log):
        pid = server_pid(base)
        _visit_home(base)  # the first session starts the warm-up
        _wait_warmup_done(log)
        started = memory_mb(pid)
        for k in range(1, _rounds() + 1):
            rnd = one_round(base, pid, n, walk)
            _log(f"round {k} done in {rnd.seconds:.0f} s; waiting {wait:.0f} s")
            time.sleep(wait)  # the server drops closed sessions on its own clock, after its TTL
            _visit_home(base)  # its store of closed sessions expires entries when one is added
            rnd.after, rnd.after_sizes = memory_mb(pid), _metrics(base)
            lines += _round_lines(k, rnd, wait)
        high = memory_mb(pid, "VmHWM")
    lines.append(Line(f"server RSS MB: warmed {started:.0f}; high-water mark (VmHWM) {high:.0f}"))
    return lines


def _visit_home(base: str) -> None:
    """Open the home page in a new browser until it settles, then close the browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _, page = _new_page(browser)
        page.goto(base, wait_until="commit")
        _settle_ms(page, 0.0)
        browser.close()
