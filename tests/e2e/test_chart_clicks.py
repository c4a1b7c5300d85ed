"""Clicks on charts reach the page (ui/chart.py): a heatmap cell, with no overlay, and a bar."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

# The screen position of data point (x, y) on the first trace of `kind` in a chart.
POINT_AT = """([selector, kind, x, y]) => {
  const gd = document.querySelector(selector);
  const trace = gd._fullData.find((d) => d.type === kind);
  const xa = gd._fullLayout[trace.xaxis.replace('x', 'xaxis')];
  const ya = gd._fullLayout[trace.yaxis.replace('y', 'yaxis')];
  const box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.c2p(x), box.top + ya._offset + ya.c2p(y)];
}"""


def _click_point(page, selector: str, kind: str, x: float, y: float) -> None:
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    px, py = page.evaluate(POINT_AT, [selector, kind, x, y])
    page.mouse.click(px, py)
    wait_idle(page)


def _slider_value(page, key: str) -> int:
    thumb = page.locator(f'.st-key-{key} [data-testid="stSliderThumbValue"]')
    return int(thumb.inner_text().strip())


def test_a_click_on_the_rnn_state_map_chooses_that_time_step(page, app_url):
    page.goto(f"{app_url}/sequence-both")
    wait_idle(page)
    before = _slider_value(page, "seqb_t")
    step = 3 if before != 3 else 5
    _click_point(page, ".st-key-seqb_rnn .js-plotly-plot", "heatmap", step, 0)
    assert _slider_value(page, "seqb_t") == step
    shot(page, "click-rnn-state-step")


def test_a_click_on_a_receptive_field_map_chooses_that_unit(page, app_url):
    page.goto(f"{app_url}/receptive-fields")
    wait_idle(page)
    _click_point(page, ".st-key-rf_map .js-plotly-plot", "heatmap", 3, 2)  # column 3, row 2
    row = page.locator(".st-key-rf_row input").input_value()
    col = page.locator(".st-key-rf_col input").input_value()
    assert (row, col) == ("2", "3")


def test_a_click_on_a_forget_gate_bar_adds_that_unit_to_the_traces(page, app_url):
    page.goto(f"{app_url}/lstm-gates")
    wait_idle(page)
    selector = ".st-key-lstm_forget_means .js-plotly-plot"
    unit = page.evaluate(
        "(s) => { const d = document.querySelector(s)._fullData[0]; return d.customdata[0]; }",
        selector,
    )
    before = page.locator(".st-key-lstm_units").inner_text().split("\n")[1:]  # the label first
    assert str(unit) not in before
    bar = page.locator(f"{selector} .bars .point").first
    bar.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = bar.bounding_box()  # Plotly's drag layer lies over the bars: click the spot
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)
    wait_idle(page)
    chosen = page.locator(".st-key-lstm_units").inner_text().split("\n")[1:]
    assert str(unit) in chosen, (unit, chosen)
