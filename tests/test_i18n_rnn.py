"""The RNN pages in Chinese (issue 14): each renders with its Chinese title, sentences and errors;
the engine's reasons and the out-of-vocabulary note read in Chinese, and in English exactly as the
engine writes them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.recurrent import (
    MOVED,
    NumberParseError,
    encode,
    load,
    make_rnn,
    read_sequence,
    unmoved_reason,
    unscorable_reason,
)
from tests.charts import charts
from tests.test_pages import open_script as _open
from ui import i18n
from ui.i18n import error_text
from ui.recurrent.reasons import input_note, unmoved_text, unscored_text

CODE = "def f(x):\n    return x + 1\n"
CHINESE_CODE = "def f(x):\n    return '你好'  # 中文注释\n"


def _text(at: AppTest) -> str:
    """Return the page's markdown, captions, warnings and infos as one string."""
    parts = [*at.markdown, *at.caption, *at.warning, *at.info]
    return " ".join(p.value for p in parts)


@pytest.mark.parametrize(
    "page,title,sentence",
    [
        ("rnn_unrolled.py", "按时间展开的循环，以及双向 RNN", "**值得注意：** 改变"),
        ("lstm_gates.py", "LSTM 门处理你的文本", "**值得注意：** 在你的整段文本上"),
        ("rnn_gradients.py", "随时间传播的梯度", "**值得注意：** 往回"),
        ("dense_conv_recurrent.py", "全连接、卷积与循环", "值得注意：长度加倍"),
        ("autodiff.py", "可微分编程", "**值得注意：** torch 记录了"),
    ],
)
def test_page_in_chinese_has_its_title_and_chosen_sentences(page, title, sentence):
    at = _open(page)
    assert at.title[0].value == title
    assert sentence in _text(at)
    assert "What to notice" not in _text(at)


def test_unrolled_page_shows_the_engines_error_in_chinese():
    at = _open("rnn_unrolled.py")
    at.text_input(key="unr_text_numbers").set_value("1, x").run()
    assert not at.exception
    assert "不是数字" in at.error[0].value


def test_a_figure_of_the_gradients_page_is_in_chinese():
    at = _open("rnn_gradients.py")
    spec = charts(at)[0].spec
    assert "普通 RNN" in spec and "时间步 t（损失只读取最后一步）" in spec


# --- characters the model never saw (the LSTM page) ---


def test_lstm_page_explains_unseen_chinese_characters_in_chinese():
    at = _open("lstm_gates.py", lstm_text=CHINESE_CODE)
    warning = " ".join(w.value for w in at.warning)
    assert "个字符不在模型的词表中" in warning and "'你'" in warning
    assert "没有字符被读作未知符号" not in _text(at)


def test_lstm_page_says_no_character_is_unseen_when_none_is():
    at = _open("lstm_gates.py", lstm_text=CODE)
    assert not at.warning
    assert "没有字符被读作未知符号" in _text(at)


def test_lstm_page_in_english_keeps_the_engines_note():
    at = _open("lstm_gates.py", lang="en", lstm_text=CHINESE_CODE)
    vocab = load("lstm")[0].vocab
    assert at.warning[0].value == encode(CHINESE_CODE, vocab).note


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


def _notes(max_chars: int = 4000) -> list:
    vocab = load("lstm")[0].vocab
    return [
        encode(CODE, vocab, max_chars),
        encode(CHINESE_CODE, vocab, max_chars),
        encode("你" + CODE, vocab, max_chars),  # one unknown: the singular form
        encode(CHINESE_CODE * 3, vocab, 20),  # cut, and unknown characters
    ]


def test_input_note_in_english_is_the_engines_note():
    for encoded in _notes():
        assert input_note(encoded) == encoded.note


def test_input_note_in_chinese(chinese):
    none, some, one, cut = _notes()
    assert input_note(none) is None
    assert "个字符不在模型的词表中" in input_note(some)
    assert input_note(one).startswith("有 1 个字符不在模型的词表中")
    assert input_note(cut).startswith(f"{len(CHINESE_CODE) * 3} 个字符中只使用前 20 个。")


# --- the engine's reasons ---


def _reasons() -> tuple[list[str], list[str]]:
    """Return every unmoved reason and unscorable reason the engine gives, from real inputs."""
    modules = []
    for act, zero in (("tanh", None), ("tanh", "weight_ih_l0"), ("tanh", "weight_hh_l0")):
        module = make_rnn(1, 3, act, bidirectional=True, seed=0)
        if zero:
            with torch.no_grad():
                for name, p in module.named_parameters():
                    if name.startswith(zero):
                        p.zero_()
        modules.append(module)
    modules.append(make_rnn(1, 3, "relu", bidirectional=True, seed=0))
    unmoved = [unmoved_reason(modules[0], 0.0)] + [unmoved_reason(m, 1.0) for m in modules]
    t = np.arange(50.0)
    unscored = [
        unscorable_reason(np.zeros(50)),
        unscorable_reason(np.r_[np.zeros(25), np.ones(25)]),
        unscorable_reason(t),
        unscorable_reason(-t),
    ]
    return unmoved, unscored


def test_reasons_in_english_are_the_engines_text():
    unmoved, unscored = _reasons()
    assert unmoved[-1].startswith("ReLU") and len(set(unmoved)) == 5
    assert f"below {MOVED:g}" in unmoved[1]
    assert [unmoved_text(r) for r in unmoved] == unmoved
    assert [unscored_text(r) for r in unscored] == unscored


def test_reasons_in_chinese(chinese):
    unmoved, unscored = _reasons()
    assert unmoved_text(unmoved[1]) == f"tanh 饱和的地方把变化压平到 {MOVED:g} 以下"
    assert all(not unmoved_text(r).isascii() for r in unmoved)
    said = [unscored_text(r) for r in unscored]
    assert said[0] == "在这段文本中从不变化"
    assert said[1] == "在这段文本中只变化 1 次"
    assert said[2].startswith("随时间上升（与文本中位置的 r = +1.00）")
    assert said[3].startswith("随时间下降（与文本中位置的 r = -1.00）")


def test_engine_input_error_in_chinese(chinese):
    with pytest.raises(NumberParseError) as caught:
        read_sequence("1, x", "numbers")
    assert str(caught.value).startswith("Entry 2 ('x') is not a number.")
    assert error_text(caught.value).startswith("第 2 项（'x'）不是数字。")
