"""The browser benchmark's clock: a visit counts as settled only once its chart is drawn.

Both kinds of chart: the app's own (ui/chart.py) and Streamlit's st.plotly_chart (the floor's
baseline page)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from benchmarks.bench_browser import CHARTS, RECORDER, change, visit
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
