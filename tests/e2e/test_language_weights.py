"""The your-weights page in Chinese, in real Chromium: its Chinese title and no English sentence
(the scan of tests/e2e/test_language.py), with a random ResNet-18 from the operator's folder
(which the page opens on), every lazy section open. The no-weights view is not scanned: its file
uploader's own chrome ("Limit 16 MB per file", "Upload") is Streamlit's, in English."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_language import VISIBLE_TEXT, _english_sentences, _open, _open_sections, _title
from tests.e2e.test_your_weights import weights_url  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

URL_PATH, TITLE = "your-weights", "你训练好的权重"


def _scan(page, name: str) -> list[str]:
    shot(page, name)
    return _english_sentences(page.evaluate(VISIBLE_TEXT))


def test_weights_page_in_chinese_shows_no_english_sentence(page, weights_url):  # noqa: F811
    url, _ = weights_url
    _open(page, f"{url}/{URL_PATH}?lang=zh")
    assert _title(page) == TITLE
    page.wait_for_selector(".st-key-yw_cams .js-plotly-plot", timeout=120_000)
    _open_sections(page)
    found = _scan(page, "lang-zh-weights")
    assert not found, found[:10]
