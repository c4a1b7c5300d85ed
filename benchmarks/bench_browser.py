"""Every page in headless Chromium against a freshly started server: what a learner waits for.

Per page: the first visit (a new browser context, the page's first request on this server), a second
visit from another new context, one representative widget change, and the bytes of the Plotly
figures the server sent. Two passes, each on its own fresh server: "racing" visits every page right
after the server starts (the warm-up, if on, runs beside the visits); "warmed" first opens the home
page, waits until the server logs that its warm-up is done, then visits.

How the times are taken: an init script records, in the page's own clock (performance.now(), 0 at
navigation start), every change of Streamlit's script state (the `data-test-script-state` attribute
of stApp: running, notRunning, …), every websocket message from the server (a rerun quicker than a
frame may show no state change) and the end of every long task (Long Tasks API: > 50 ms of
main-thread work, such as Plotly drawing). A visit or change is settled once the script is not
running, a heading is on screen, no element is a loading skeleton (Streamlit shows one while an
element's code chunk loads), every Plotly chart on screen is drawn and nothing has changed for
QUIET_MS. Its time is the latest of the last state change or message, the last long task's end
and the first animation frame in which everything was drawn, minus the start (navigation start, or
the learner's input: the timestamp of the widget action's pointer or key press, or of the click on
a sidebar link; Playwright spends tens of milliseconds on each click before the press reaches the
page, which no learner waits for). The check runs once per animation frame, so it adds at
most a frame (~16 ms); it keeps a visit whose long tasks were reported late from settling before
its charts exist. The quiet window only detects the end; it is never part of the figure.

Figure bytes: the websocket frames the page receives are parsed as Streamlit ForwardMsgs, and the
JSON spec of every plotly_chart element is summed: exactly what the server sent for its figures
(the browser's own copies, gd.data, hold typed arrays that JSON.stringify inflates).

The second visit and the widget change are measured in the "warmed" pass, and so is a page switch:
one tab opens the home page and follows the sidebar's link to each page in turn, as a learner
clicking through the topics does (the same session; plotly.js is already in the tab). So is a
third visit: a new tab in the second visit's browser context, so a new Streamlit session whose
browser already holds Streamlit's files (the server marks them immutable for a year) and our
plotly.js (revalidated) in its HTTP cache, and may reuse their compiled code: what a learner waits
for on a later visit from the same browser, or a classmate on a machine that opened the app before.
Pages can be limited with BENCH_BROWSER_PAGES=kernels,pooling (URL paths; "home" for the home
page), passes with BENCH_BROWSER_PASSES=racing,warmed,off ("off": the racing pass with the warm-up
off).

The floor, measured in the same run: benchmarks/floor_app.py serves a bare page, a page with one
small Plotly chart drawn the app's way (ui/chart.py: plotly.js's 1.5 MB cartesian build) and the
same chart through st.plotly_chart (Streamlit's 4.7 MB plotly.js: the baseline), all under the
app's config. No page with a chart opens faster than the "chart" line; the floor lines say what
is reachable on the machine of the run.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app
from tests.pages_list import PAGES
from ui.chart import NAME as CHART

ROOT = Path(__file__).resolve().parents[1]
QUIET_MS = 1000
TIMEOUT_MS = 180_000
CHANGE_TIMEOUT_MS = 20_000  # a change that starts no rerun within this is reported as such
TARGETS = {
    "first": "first visit ≤ 2 s",
    "second": "second session ≤ 1 s",
    "switch": "no target: a learner clicking through the topics",
    "change": "widget change ≤ 150 ms median, none above 500 ms",
    "figures": "figure payload ≤ 3 MB per page",
}
# One representative widget per page (URL path → widget key, action), driven through the DOM.
WIDGETS: dict[str, tuple[str, str]] = {
    "conv-1d": ("c1d_noise", "slider"),
    "kernels": ("k2d_size", "radio"),
    "conv-arithmetic": ("arith_k", "step"),
    "conv-layer": ("layer_side", "slider"),
    "why-convolution": ("why_kw", "slider"),
    "equivariance": ("eq_side", "slider"),
    "pooling": ("pool_side", "slider"),
    "receptive-fields": ("rf_side", "slider"),
    "kernel-sizes": ("ks_c", "step"),  # ks_side now only feeds folded sections
    "architectures": ("arch_pick", "select"),  # arch_work only feeds folded sections
    "trained-cnn": ("tc_explain", "select"),
    "train-cnn": ("ct_filters", "slider"),
    "rnn-unrolled": ("unr_scale", "slider"),
    "lstm-gates": ("lstm_window", "slider"),
    "rnn-gradients": ("grad_T", "slider"),
    "dense-conv-recurrent": ("cmp_units", "step"),
    "mnist-1d": ("m1d_k", "slider"),
    "sequence-both": ("seqb_k", "slider"),
    "autodiff": ("ad_next", "click"),
}

RECORDER = """
window.__bench = {changes: [], busyUntil: 0, inputs: []};
// The learner's input: the timestamp (page clock) of every real pointer press or key press.
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, (e) => {
    if (e.isTrusted) window.__bench.inputs.push(e.timeStamp);
  }, true);
}
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.getAttribute('data-testid') === 'stApp') {
      window.__bench.changes.push(performance.now());
    }
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ['data-test-script-state']});
// A rerun quicker than a frame may show no state change at all: React renders "running" and
// "notRunning" in one commit. Every message from the server counts as a change too.
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => window.__bench.changes.push(performance.now()));
  }
};
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__bench.busyUntil = Math.max(window.__bench.busyUntil, e.startTime + e.duration);
    }
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
"""

# Our charts (ui/chart.py, a components-v2 element) and Streamlit's (the floor's reference page).
CHARTS = '[data-testid="stBidiComponentRegular"], [data-testid="stPlotlyChart"]'
SETTLED = """
({since, quiet}) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('h1')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;  // a chunk still loading
  const shown = [...document.querySelectorAll(CHARTS)].filter(
    // not inside a closed expander or tab; not ui/chart.py's preloader (it draws nothing)
    (chart) => chart.getClientRects().length && !chart.closest('.st-key-plotly_preload')
  );
  if (shown.some((chart) => !chart.querySelector('.main-svg'))) return false;  // not drawn
  const b = window.__bench;
  const changes = b.changes.filter((t) => t >= since);
  if (!changes.length) return false;
  b.drawn = b.drawn || {};
  b.drawn[since] = b.drawn[since] || performance.now();  // first frame with everything drawn
  const last = Math.max(changes[changes.length - 1], b.busyUntil, b.drawn[since]);
  return performance.now() - last >= quiet ? {ms: last - since} : false;
}
""".replace("CHARTS", repr(CHARTS))


@dataclass
class Line:
    """One printed line of the suite (the runner prints `line()` of each)."""

    text: str

    def line(self) -> str:
        return self.text


@dataclass
class PageResult:
    """What one page measured: seconds per visit or change (None: not measured), figure bytes."""

    url: str
    first: dict[str, float | None] = field(default_factory=dict)  # pass name → seconds
    second: float | None = None
    same_browser: float | None = None  # a new tab (new session) in the second visit's context
    switch: float | None = None  # reached from the previous page by its sidebar link, same tab
    change: float | None = None
    change_note: str = ""
    figure_bytes: int | None = None
    figures: int = 0


@dataclass
class FrameTally:
    """Figure specs seen in a page's websocket frames."""

    bytes: int = 0
    figures: int = 0
    refs: int = 0  # messages sent as a cache reference (their figures are not counted)

    def frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        msg = ForwardMsg.FromString(payload)
        if msg.WhichOneof("type") == "ref_hash":
            self.refs += 1
        elif msg.WhichOneof("type") == "delta":
            self._count(msg.delta.new_element)

    def _count(self, element) -> None:
        """Count a figure element: ours (ui/chart.py) or Streamlit's."""
        kind = element.WhichOneof("type")
        if kind == "bidi_component" and element.bidi_component.component_name == CHART:
            sent = element.bidi_component.bytes
        elif kind == "plotly_chart":
            sent = element.plotly_chart.spec.encode()
        else:
            return
        self.bytes += len(sent)
        self.figures += 1


@contextmanager
def server(warmup: bool):
    """Yield (url, log path) of a fresh `streamlit run launch.py` on a free port; stop it after."""
    log = Path(tempfile.mkstemp(prefix="bench-browser-", suffix=".log")[1])
    env = {**os.environ, "EXPLORER_WARMUP": "1" if warmup else "0"}
    with serve_app(log, env) as url:
        yield url, log


def _wait_warmup_done(log: Path, limit: float = 300) -> float | None:
    """Return the warm-up's own duration once the server logs it (None if it never does)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        found = re.search(r"warm-up done in ([\d.]+) s", log.read_text(errors="replace"))
        if found:
            return float(found.group(1))
        time.sleep(0.5)
    return None


def _settle_ms(page, since: float, timeout: float = TIMEOUT_MS) -> float:
    """Return milliseconds from `since` (page clock) to settled; raise on timeout."""
    handle = page.wait_for_function(
        SETTLED, arg={"since": since, "quiet": QUIET_MS}, polling="raf", timeout=timeout
    )
    return handle.json_value()["ms"]


def _new_page(browser, tally: FrameTally | None = None):
    """Return (context, page) with the recorder installed (and frames tallied, if asked)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RECORDER)
    page = context.new_page()
    if tally is not None:
        page.on("websocket", lambda ws: ws.on("framereceived", tally.frame))
    return context, page


def visit(browser, url: str, tally: FrameTally | None = None, keep: bool = False, context=None):
    """Return (seconds to settled, page or None): a new context's visit of url (or a new tab's in
    context, when given; then only the tab is closed after)."""
    own = context is None
    if own:
        context, page = _new_page(browser, tally)
    else:
        page = context.new_page()
    page.goto(url, wait_until="commit")
    seconds = _settle_ms(page, 0.0) / 1e3
    if keep:
        return seconds, page
    (context if own else page).close()
    return seconds, None


def _commit_action(page, key: str, action: str):
    """Prepare the widget and return the call that changes its value (None if it is not there)."""
    box = page.locator(f".st-key-{key}").first
    if page.locator(f".st-key-{key}").count() == 0:
        return None
    box.scroll_into_view_if_needed()
    if action == "slider":
        box.locator('input[type="range"], [role="slider"]').first.focus()
        return lambda: page.keyboard.press("ArrowRight")
    if action == "select":
        box.locator("input").first.click(timeout=5000)
        page.keyboard.press("ArrowDown")
        return lambda: page.keyboard.press("Enter")
    if action == "radio":
        return box.locator('[role="radiogroup"] label').nth(1).click  # the second option
    if action == "step":
        return box.locator('[data-testid="stNumberInputStepUp"]').first.click
    return box.locator("button").first.click


def change(page, key: str, action: str) -> tuple[float | None, str]:
    """Return (seconds from the widget action to settled, note) on an open, settled page."""
    try:
        commit = _commit_action(page, key, action)
    except Exception as err:  # Playwright's errors: the widget is there but not operable
        return None, f"{key}: could not operate ({type(err).__name__})"
    if commit is None:
        return None, f"{key}: not on the page"
    since = page.evaluate("performance.now()")
    commit()
    try:
        start = _input_time(page, since)
        return _settle_ms(page, start, CHANGE_TIMEOUT_MS) / 1e3, f"{key} ({action})"
    except Exception as err:  # Playwright's TimeoutError: the action started no rerun
        return None, f"{key}: no rerun ({type(err).__name__})"


def _input_time(page, since: float) -> float:
    """Return when the action's input reached the page (its first pointer or key press after
    `since`, page clock), else `since`. Playwright spends tens of milliseconds before a click
    lands (scrolling, waiting for the element to be stable); a learner's wait starts at the
    press."""
    return page.evaluate("(since) => window.__bench.inputs.find((t) => t >= since) ?? since", since)


def _pages() -> list[str]:
    """Return the URL paths to measure ("" is the home page)."""
    chosen = os.environ.get("BENCH_BROWSER_PAGES")
    urls = [url for _, url in PAGES]
    if not chosen:
        return urls
    wanted = {"" if u == "home" else u for u in chosen.split(",")}
    return [u for u in urls if u in wanted]


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def first_visits(browser, name: str, results: dict[str, PageResult], warmup: bool, wait: bool):
    """Fill results[url].first[name] (and figures): each page's first visit on a fresh server.

    Returns the warm-up's logged duration when the pass waited for it."""
    with server(warmup) as (base, log):
        warm_s = None
        if wait:
            visit(browser, base)  # the first session starts the warm-up
            warm_s = _wait_warmup_done(log)
        for url in results:
            tally = FrameTally()
            seconds, _ = visit(browser, f"{base}/{url}", tally)
            results[url].first[name] = seconds
            results[url].figure_bytes, results[url].figures = tally.bytes, tally.figures
            _log(
                f"{name:>7} first {url or 'home':<22} {seconds:6.2f} s {tally.bytes / 1e6:6.2f} MB"
            )
        if wait:
            _second_and_change(browser, base, results)
            switches(browser, base, results)
    return warm_s


def _second_and_change(browser, base: str, results: dict[str, PageResult]) -> None:
    """Fill each page's second-session visit and widget change on a server that served it once."""
    for url, res in results.items():
        res.second, page = visit(browser, f"{base}/{url}", keep=True)
        if url in WIDGETS:
            res.change, res.change_note = change(page, *WIDGETS[url])
        else:
            res.change_note = "no simple widget"
        context = page.context
        page.close()  # one tab at a time: a site's tabs may share one renderer's main thread
        res.same_browser, _ = visit(browser, f"{base}/{url}", context=context)
        context.close()
        _log(
            f" second {url or 'home':<22} {res.second:6.2f} s; same browser "
            f"{res.same_browser:6.2f} s; change {_fmt(res.change)} s " + res.change_note
        )


def switches(browser, base: str, results: dict[str, PageResult]) -> None:
    """Fill each page's switch: one tab opens the home page, then follows the sidebar's link to
    every page in turn, as a learner clicking through the topics (one session; plotly.js and
    Streamlit's chunks already loaded by the pages before)."""
    context, page = _new_page(browser)
    page.goto(base, wait_until="commit")
    _settle_ms(page, 0.0)
    for url, res in results.items():
        link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url}"]')
        if not url or link.count() == 0:
            continue
        since = page.evaluate("performance.now()")
        link.first.click()
        res.switch = _settle_ms(page, _input_time(page, since)) / 1e3
        _log(f" switch {url:<22} {res.switch:6.2f} s")
    context.close()


FLOOR_PAGES = ("bare", "chart", "stchart")  # benchmarks/floor_app.py


def floor_lines(browser) -> list[Line]:
    """Return the stack's floor measured in this run: the floor app's pages, each visited from
    three new contexts (median), then a widget change on the last visit."""
    log = Path(tempfile.mkstemp(prefix="bench-floor-", suffix=".log")[1])
    lines = []
    with serve_app(log, dict(os.environ), script="benchmarks/floor_app.py") as base:
        for name in FLOOR_PAGES:
            visits = [visit(browser, f"{base}/{name}")[0] for _ in range(2)]
            seconds, page = visit(browser, f"{base}/{name}", keep=True)
            changed, _ = change(page, "floor_value", "slider")
            page.context.close()
            visits.append(seconds)
            text = f"floor: {name:<5} page (floor_app.py)  visit {statistics.median(visits):5.2f} s"
            lines.append(Line(text + (f"  change {_fmt(changed)} s" if changed else "")))
    return lines


def _fmt(seconds: float | None) -> str:
    return "     —" if seconds is None else f"{seconds:6.2f}"


def _table(results: dict[str, PageResult], passes: list[str]) -> list[Line]:
    """Return the per-page table."""
    head = f"{'page':<22}" + "".join(f" first/{p:<7}" for p in passes)
    head += "  second s  tab s  switch s  change s  figures MB (n)  widget"
    rows = [Line(head)]
    for url, r in results.items():
        text = f"{url or 'home':<22}" + "".join(f"      {_fmt(r.first.get(p))}" for p in passes)
        mb = "—" if r.figure_bytes is None else f"{r.figure_bytes / 1e6:.2f} ({r.figures})"
        text += f"    {_fmt(r.second)} {_fmt(r.same_browser)}    {_fmt(r.switch)}"
        text += f"    {_fmt(r.change)}  {mb:>14}  "
        text += r.change_note
        rows.append(Line(text))
    return rows


def _summary(name: str, values: list[float | None], unit: tuple[float, str], target: str) -> Line:
    """Return a 'median, max (page count), target' line over the measured values."""
    got = [v * unit[0] for v in values if v is not None]
    if not got:
        return Line(f"{name:<24} —  [{target}]")
    text = f"{name:<24} median {statistics.median(got):8.2f} {unit[1]:<2}  max {max(got):8.2f} "
    return Line(text + f"{unit[1]:<2}  ({len(got)} pages)  [{target}]")


def _summaries(results: dict[str, PageResult], passes: list[str]) -> list[Line]:
    """Return the medians and maxima, each with its target."""
    rs = list(results.values())
    s, ms, mb = (1, "s"), (1e3, "ms"), (1e-6, "MB")
    lines = [
        _summary(f"first visit ({p})", [r.first.get(p) for r in rs], s, TARGETS["first"])
        for p in passes
    ]
    lines.append(_summary("second session", [r.second for r in rs], s, TARGETS["second"]))
    lines.append(
        _summary("  same browser, new tab", [r.same_browser for r in rs], s, TARGETS["second"])
    )
    lines.append(_summary("page switch, same tab", [r.switch for r in rs], s, TARGETS["switch"]))
    lines.append(_summary("widget change", [r.change for r in rs], ms, TARGETS["change"]))
    lines.append(_summary("figure payload", [r.figure_bytes for r in rs], mb, TARGETS["figures"]))
    return lines


def load_averages() -> str:
    """Return the 1, 5 and 15 minute load averages, as one line."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run() -> list[Line]:
    """Return the table, medians and maxima with their targets, and the load before and after."""
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop our servers on the way out
    passes = os.environ.get("BENCH_BROWSER_PASSES", "racing,warmed").split(",")
    results = {url: PageResult(url) for url in _pages()}
    start = f"load average at start (1, 5, 15 min): {load_averages()}; {os.cpu_count()} cores"
    lines = [Line(start)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name in passes:
            warm_s = first_visits(
                browser, name, results, warmup=name != "off", wait=name == "warmed"
            )
            if warm_s is not None or name == "warmed":
                lines.append(Line(f"warm-up finished in {warm_s} s (logged by the server)"))
        floor = floor_lines(browser)
        browser.close()
    lines += _table(results, passes) + _summaries(results, passes) + floor
    lines.append(Line(f"load average at end (1, 5, 15 min): {load_averages()}"))
    return lines
