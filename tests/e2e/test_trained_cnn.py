"""The trained-CNN page in headless Chromium: clicks on the overview and on a map pick a unit."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

UNIT = re.compile(r"^(conv|relu|pool)\d+(_\d)?, channel \d+, unit \(\d+, \d+\)$")


def _unit_heading(page) -> str:
    return page.locator("h3").filter(has_text=UNIT).first.inner_text()


def _click(page, locator, fx: float, fy: float) -> None:
    """Click at a fraction of the element's box, scrolled into view first."""
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    wait_idle(page)


def test_click_a_map_of_the_overview_then_a_unit(page, app_url):
    page.goto(f"{app_url}/trained-cnn")
    wait_idle(page)
    assert _unit_heading(page).startswith("conv1_1, ")
    cells = page.locator(".st-key-tc_overview_0 .js-plotly-plot .nsewdrag")
    # Cell 6 is pool1 (input, conv1_1, relu1_1, conv1_2, relu1_2, pool1); its third map from top.
    pool = cells.nth(5)
    pool.scroll_into_view_if_needed()
    box = pool.bounding_box()
    tile = box["width"]  # the maps are square and stacked, with small gaps
    page.mouse.click(box["x"] + tile / 2, box["y"] + 2.75 * tile)
    wait_idle(page)
    heading = _unit_heading(page)
    assert heading.startswith("pool1, channel 2, "), heading
    _click(page, page.locator(".st-key-tc_map .js-plotly-plot .nsewdrag").first, 0.3, 0.7)
    after = _unit_heading(page)
    assert after.startswith("pool1, channel 2, ") and after != heading

    def metric(label: str) -> float:
        box = page.locator('[data-testid="stMetric"]', has_text=label).first
        return float(box.locator('[data-testid="stMetricValue"]').inner_text())

    assert abs(metric("(recomputed here)") - metric("The network's value")) < 1e-5
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "trained-cnn-clicked")


def test_the_evidence_button_of_the_attribution_section_opens_section_2(page, app_url):
    """The button sits in the attribution fragment; section 2 lies outside it, so the click
    must rerun the whole page (AppTest always reruns everything and cannot see this)."""
    page.goto(f"{app_url}/trained-cnn")
    wait_idle(page)
    button = page.locator(".st-key-tc_cam_follow button")
    label = button.inner_text()  # "… the evidence maps of “<class>” in section 2"
    cls = re.search(r"“(.+)”", label).group(1)
    button.scroll_into_view_if_needed()
    button.click()
    wait_idle(page)
    heading = page.locator("h3").filter(has_text=f"logits of “{cls}”")
    assert heading.count() == 1, label
    assert page.locator('[data-testid="stException"]').count() == 0
