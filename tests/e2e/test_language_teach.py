"""The teach-your-classes page in Chinese, in real Chromium: its Chinese title and no English
sentence (the scan of tests/e2e/test_language.py), before and after a short training run."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_language import VISIBLE_TEXT, _english_sentences, _open, _title

pytestmark = pytest.mark.e2e

URL_PATH, TITLE = "teach-classes", "教它认识你的类别"


def _scan(page, name: str) -> list[str]:
    shot(page, name)
    return _english_sentences(page.evaluate(VISIBLE_TEXT))


def test_teach_page_in_chinese_shows_no_english_sentence(page, app_url):
    _open(page, f"{app_url}/{URL_PATH}?lang=zh")
    assert _title(page) == TITLE
    found = _scan(page, "lang-zh-teach-before")
    assert not found, found[:10]
    for key in ("tc_steps", "tc_blocks", "tc_filters"):
        slider = page.locator(f".st-key-{key}").get_by_role("slider")
        slider.focus()
        slider.press("Home")
        wait_idle(page)
    page.locator(".st-key-tc_train button").click()
    page.wait_for_selector("text=混淆矩阵", timeout=300_000)
    wait_idle(page)
    page.wait_for_selector(".st-key-tc_confusion .js-plotly-plot", timeout=60_000)
    found = _scan(page, "lang-zh-teach-after")
    assert not found, found[:10]
