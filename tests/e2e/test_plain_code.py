"""The LSTM page's context box (ui/plain_code.py) shows typed text exactly, in a monospace box."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e

# Markup, Markdown, math, an emoji short code and an entity: each must show as typed.
TYPED = "<b>b</b> $x$ **y** :+1: &amp; </pre>\n  z"


def test_the_context_box_shows_typed_text_as_typed(page, app_url):
    page.goto(f"{app_url}/lstm-gates?lstm_text={quote(TYPED)}")
    wait_idle(page)
    box = page.locator('[data-testid="stHtml"] pre').first
    box.wait_for(timeout=60_000)
    assert box.text_content() == TYPED + "▌"
    assert box.locator("b").count() == 0  # the tag stayed text
    font = box.evaluate("(el) => getComputedStyle(el).fontFamily")
    assert "monospace" in font
    assert page.locator('[data-testid="stCode"]').count() == 0  # no highlighter chunk asked for
