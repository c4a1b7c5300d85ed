"""The RNN pages in Chinese, in real Chromium: each shows its Chinese title and no English sentence
(the scan of tests/e2e/test_language.py: formulas, code, numbers and a few names allowed), with
Chinese typed into the LSTM page's English-trained character model."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_language import VISIBLE_TEXT, _english_sentences, _open, _title

pytestmark = pytest.mark.e2e

RNN_PAGES = [  # (url path, Chinese title)
    ("rnn-unrolled", "按时间展开的循环，以及双向 RNN"),
    ("lstm-gates", "LSTM 门处理你的文本"),
    ("rnn-gradients", "随时间传播的梯度"),
    ("dense-conv-recurrent", "全连接、卷积与循环"),
    ("autodiff", "可微分编程"),
]
CHINESE_TEXT = "def 问候(名字):\n    return f'你好，{名字}'  # 打个招呼\n"


def _scan(page, url_path: str) -> list[str]:
    """Return the English sentences visible on the page, after its figures have drawn."""
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    shot(page, f"lang-zh-{url_path}")
    return _english_sentences(page.evaluate(VISIBLE_TEXT))


@pytest.mark.parametrize("url_path,title", RNN_PAGES)
def test_rnn_pages_in_chinese_show_no_english_sentence(page, app_url, url_path, title):
    _open(page, f"{app_url}/{url_path}?lang=zh")
    assert _title(page) == title
    found = _scan(page, url_path)
    assert not found, found[:10]


def test_chinese_typed_into_the_character_model_is_explained_in_chinese(page, app_url):
    _open(page, f"{app_url}/lstm-gates?lang=zh")
    box = page.locator('[data-testid="stTextArea"] textarea').first
    box.fill(CHINESE_TEXT)
    box.press("Control+Enter")
    page.wait_for_selector("text=个字符不在模型的词表中", timeout=60_000)
    wait_idle(page)
    found = _scan(page, "lstm-gates-chinese-text")
    assert not found, found[:10]
