"""The trained-CNN, train-a-CNN, MNIST-1D and sequence-through-both pages in Chinese, in real
Chromium: each shows its Chinese title and, with every folded section opened, no English sentence
(the scan of tests/e2e/test_language.py, plus the names these pages cite); Chinese typed into the
sequence page is explained in Chinese."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_language import VISIBLE_TEXT, _english_sentences, _open, _title

pytestmark = pytest.mark.e2e

CNN_PAGES = [  # (url path, Chinese title)
    ("trained-cnn", "训练好的 CNN 看你的图像"),
    ("train-cnn", "亲手训练一个 CNN"),
    ("mnist-1d", "CNN 与 RNN 在 MNIST-1D 上的对比"),
    ("sequence-both", "你的序列分别经过两种网络"),
]
# What these pages cite by its own name (a paper's title is not a sentence to translate)
CITED = ["Scaling Down Deep Learning with MNIST-1D", "github.com/greydanus/mnist1d"]
CHINESE_TEXT = "神经网络读文本：the cat 你好"

CLOSED_SUMMARIES = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary')].length"""
OPEN_FIRST_CLOSED = """() => {
    const s = document.querySelector(
        '[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary');
    if (s) { s.click(); }
}"""


def _open_every_section(page) -> None:
    """Click each folded expander's summary in turn (each lazy one reruns the page)."""
    for _ in range(12):  # a page opens at most a few; new ones may appear inside opened ones
        if not page.evaluate(CLOSED_SUMMARIES):
            return
        page.evaluate(OPEN_FIRST_CLOSED)
        wait_idle(page)


def _scan(page, name: str) -> list[str]:
    """Return the English sentences visible on the page, after its figures have drawn."""
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    shot(page, name)
    text = page.evaluate(VISIBLE_TEXT)
    for cited in CITED:
        text = text.replace(cited, " ")
    return _english_sentences(text)


@pytest.mark.parametrize("url_path,title", CNN_PAGES)
def test_cnn_pages_in_chinese_show_no_english_sentence(page, app_url, url_path, title):
    _open(page, f"{app_url}/{url_path}?lang=zh")
    assert _title(page) == title
    _open_every_section(page)
    found = _scan(page, f"lang-zh-{url_path}")
    assert not found, found[:10]


def test_chinese_typed_into_the_sequence_page_is_explained_in_chinese(page, app_url):
    _open(page, f"{app_url}/sequence-both?lang=zh")
    page.locator(".st-key-seqb_mode").get_by_text("文本", exact=True).click()
    wait_idle(page)
    box = page.locator(".st-key-seqb_text textarea")
    box.fill(CHINESE_TEXT)
    box.press("Control+Enter")
    page.wait_for_selector("text=个汉字或其他文字的字符", timeout=60_000)
    wait_idle(page)
    found = _scan(page, "lang-zh-sequence-both-chinese-text")
    assert not found, found[:10]
