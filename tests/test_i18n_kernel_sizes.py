"""The kernel-sizes page in Chinese (issue 14): it renders under its Chinese title, its computed
sentences, engine phrases and figures read in Chinese, and English stays as it was."""

from __future__ import annotations

import pytest

from engine import kernels as kd
from engine.kernels import Phrase
from tests.test_i18n_cnn_pages import _open, _open_section, _text
from ui import i18n
from ui.kernels.figures import say

PATH = "app_pages/kernel_sizes.py"


@pytest.fixture
def zh(monkeypatch):
    """Read every string in Chinese, in the script and in AppTest's re-formatting of options."""
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


def test_kernel_sizes_renders_in_chinese_with_its_title_and_sentences(zh):
    at = _open(PATH, "zh")
    assert at.title[0].value == "卷积核尺寸：3×3、奇数、1×1 与 1×n"
    text = _text(at)
    assert "值得注意：感受野相同（5×5 和 7×7）" in text  # 2×3×3 against 5×5 and 3×3×3 against 7×7
    assert "计算量少" in text and "多一个 ReLU" in text
    assert "正好以边缘为中心" in text and "位于其左侧 0.5 px" in text  # odd centred, even off
    assert "What to notice" not in text


def test_kernel_sizes_sections_in_chinese(zh):
    at = _open(PATH, "zh")
    for key in ("open_ks_stack", "open_ks_widths", "open_ks_drift", "open_ks_nin", "open_ks_sep"):
        at = _open_section(at, key)
    text = _text(at)
    assert "值得注意：第一个数是舍入误差" in text
    assert "值得注意：经过 6 次偶数 2×2 平均后" in text
    assert "What to notice" not in text and "Along your image" not in text
    assert at.session_state["ks_sep_k"] == "gabor"  # the value stays; only the label changes


def test_kernel_sizes_still_reads_in_english():
    at = _open(PATH, "en")
    assert at.title[0].value == "Kernel sizes: 3×3, odd, 1×1 and 1×n"
    assert "值" not in _text(at)


@pytest.mark.parametrize(
    ("phrase", "english", "chinese"),
    [
        (kd.share_words(0.72, "work"), "28% less work", "计算量少 28%"),
        (kd.share_words(1.15, "work"), "15% more work", "计算量多 15%"),
        (kd.relu_words(1), "one more ReLU", "多一个 ReLU"),
        (kd.relu_words(-2), "2 fewer ReLUs", "少 2 个 ReLU"),
        (kd.shift_words(-0.5), "0.5 px to its left", "位于其左侧 0.5 px"),
        (kd.shift_words(0.0), "centred on the edge", "正好以边缘为中心"),
    ],
)
def test_engine_phrases_keep_english_and_translate(zh, phrase, english, chinese):
    assert isinstance(phrase, Phrase) and phrase == english
    assert say(phrase) == chinese


def test_kernel_sizes_formulas_read_in_chinese_with_their_numbers(zh):
    at = _open(PATH, "zh")
    formulas = [f.value for f in at.latex]
    assert not [f for f in formulas if "vs" in f or "weights" in f or "width" in f]
    filled = next(f for f in formulas if "64^2" in f)  # the default C = 64, counted
    assert r"\;\text{对比}\; 25\cdot 64^2" in filled and r"(72\%)" in filled and "{{" not in filled


def test_kernel_sizes_formulas_unchanged_in_english():
    at = _open(PATH, "en")
    filled = next(f.value for f in at.latex if "64^2" in f.value)
    assert (
        r"2\cdot 9\cdot 64^2 = 73{,}728 \;\text{vs}\; 25\cdot 64^2 = 102{,}400 \;(72\%)" in filled
    )
