"""The browser benchmark's clock: a visit counts as settled only once its chart is drawn, and a
change is timed from the learner's press, not from when the driver was asked to press.

Both kinds of chart: the app's own (ui/chart.py) and Streamlit's st.plotly_chart (the floor's
baseline page)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from benchmarks.bench_browser import (
    CHARTS,
    RECORDER,
    _commit_action,
    _input_time,
    _settle_ms,
    change,
    visit,
)
from tests.e2e.conftest import serve_app

pytestmark = pytest.mark.e2e

DRAWN_AT = """(charts) => {
  const plot = document.querySelector(charts.split(', ').map((c) => c + ' .main-svg').join(', '));
  return plot ? window.__drawnAt : null;
}"""
MARK_DRAWN = """
window.__drawnAt = null;
new MutationObserver(() => {
  if (window.__drawnAt === null && document.querySelector('.main-svg')) {
    window.__drawnAt = performance.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


@pytest.fixture(scope="module")
def floor_url():
    log = Path(tempfile.mkstemp(prefix="bench-floor-test-", suffix=".log")[1])
    with serve_app(log, script="benchmarks/floor_app.py") as base:
        yield base


@pytest.mark.parametrize("name", ["chart", "stchart"])
def test_a_visit_settles_after_its_chart_is_drawn(browser, floor_url, name):
    context = browser.new_context()
    context.add_init_script(RECORDER)
    context.add_init_script(MARK_DRAWN)
    seconds, page = visit(browser, f"{floor_url}/{name}", keep=True, context=context)
    drawn_ms = page.evaluate(DRAWN_AT, CHARTS)
    assert drawn_ms is not None, "settled before the chart existed"
    assert seconds * 1e3 >= drawn_ms
    bare_seconds, _ = visit(browser, f"{floor_url}/bare")
    assert 0 < bare_seconds < seconds  # the chart page pays for plotly.js
    moved = [change(page, "floor_value", "slider")[0] for _ in range(3)]
    assert all(m is not None and m > 0 for m in moved), moved  # each keypress's rerun is seen
    context.close()


def test_a_change_is_timed_from_the_press(browser, floor_url):
    context = browser.new_context()
    context.add_init_script(RECORDER)
    _, page = visit(browser, f"{floor_url}/chart", keep=True, context=context)
    press = _commit_action(page, "floor_value", "slider")  # focuses the slider
    since = page.evaluate("performance.now()")
    press()
    start = _input_time(page, since)
    assert start > since  # the press itself, after the driver was asked
    assert start == page.evaluate("window.__bench.inputs.at(-1)")
    _settle_ms(page, start, timeout=20_000)
    rerun = page.evaluate("(s) => window.__bench.changes.find((t) => t >= s)", start)
    assert rerun is not None and rerun > start  # what the press caused comes after it
    assert _input_time(page, page.evaluate("performance.now()")) > 0  # no press: the ask time
    context.close()
