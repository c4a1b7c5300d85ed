"""A click on the centre of a feature-map pixel selects that pixel, not a neighbour."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

PLOT = ".st-key-k2d_output .js-plotly-plot"
CELL_CENTRE = """([selector, row, col]) => {
    const gd = document.querySelector(selector);
    const box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.c2p(col), box.top + ya._offset + ya.c2p(row)];
}"""


def _working_size_to_smallest(page) -> None:
    """Move the working-size slider to its minimum with the keyboard (Home)."""
    slider = page.locator(".st-key-k2d_side").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    wait_idle(page)


def test_clicking_a_cell_centre_selects_that_cell(page, app_url):
    page.goto(f"{app_url}/kernels")
    wait_idle(page)
    _working_size_to_smallest(page)
    for row, col in [(5, 5), (10, 20), (15, 3)]:
        x, y = page.evaluate(CELL_CENTRE, [PLOT, row, col])
        page.mouse.click(x, y)
        heading = page.get_by_text(re.compile(rf"Output pixel \({row}, {col}\)")).first
        heading.wait_for(timeout=30_000)
        wait_idle(page)
    shot(page, "click-exact-cell")
