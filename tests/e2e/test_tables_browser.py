"""ui/tables.py in real Chromium: every cell shows exactly the text it was given (Markdown and
LaTeX characters included), a long table scrolls inside its box, and a wide one scrolls sideways
without widening the page."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.e2e.apps.tables_app import TYPED, WIDE
from tests.e2e.conftest import serve_app, wait_idle

pytestmark = pytest.mark.e2e

SCRIPT = "tests/e2e/apps/tables_app.py"


@pytest.fixture(scope="module")
def tables_url():
    log = Path(tempfile.mkstemp(prefix="tables-app-", suffix=".log")[1])
    with serve_app(log, script=SCRIPT) as url:
        yield url


def test_cells_show_the_typed_text_and_long_tables_scroll(page, tables_url):
    page.goto(tables_url)
    wait_idle(page)
    shown = page.locator('[data-testid="stMarkdownContainer"] table')
    assert shown.count() == 3
    cells = shown.first.locator("tbody tr td:first-child").all_inner_texts()
    assert cells == TYPED
    formatted = "a, b, em, strong, code, del, .katex, span[class], [data-testid='stIconMaterial']"
    assert shown.first.locator(formatted).count() == 0
    long = shown.nth(1)
    box = long.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    assert long.bounding_box()["height"] > 40 * 30  # all 40 rows are there
    assert box.bounding_box()["height"] < 400  # in a box of about six rows, which scrolls
    wide = shown.nth(2)
    assert wide.locator("th").count() == WIDE
    holder = wide.locator("xpath=..")
    assert holder.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than its column ...
    assert holder.evaluate("e => getComputedStyle(e).overflowX") == "auto"  # so it scrolls ...
    main = page.locator('[data-testid="stMain"]')
    assert main.evaluate("e => e.scrollWidth <= e.clientWidth")  # and the page does not
