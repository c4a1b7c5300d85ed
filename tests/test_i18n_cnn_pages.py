"""The kernel, pooling and receptive-field pages in Chinese (issue 14): each renders without an
exception under its Chinese title, its computed sentences, lazy sections, figures and engine
errors read in Chinese, and English stays as it was."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from engine.core import ExplorerError
from engine.pooling import pool2d
from engine.receptive_field import erf_extent_words, stack_rf
from tests.charts import charts
from tests.tables import tables
from tests.test_pages import assert_clean, open_page
from tests.test_pages import page_text as _text
from ui import i18n
from ui.i18n import error_text

PAGES = {
    "app_pages/conv_2d.py": ("Kernels on your image", "你的图像上的卷积核"),
    "app_pages/pooling.py": ("Pooling and invariance", "池化与不变性"),
    "app_pages/receptive_fields.py": ("Receptive fields", "感受野"),
}


@pytest.fixture
def zh(monkeypatch):
    """Read every string in Chinese, in the script and in AppTest's own re-formatting of options
    (it calls the widgets' format_func outside any session, where the language would be English)."""
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


def _open(path: str, lang: str) -> AppTest:
    at = open_page(path, lang)
    assert_clean(at)
    return at


def _open_section(at: AppTest, key: str) -> AppTest:
    at.session_state[key] = True  # what a click on the lazy section's expander stores
    at.run()
    assert_clean(at)
    return at


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_chinese_with_its_chinese_title(path):
    at = _open(path, "zh")
    assert at.title[0].value == PAGES[path][1]
    assert "值得注意" in _text(at) or "池化" in _text(at)


@pytest.mark.parametrize("path", PAGES)
def test_page_still_reads_in_english(path):
    at = _open(path, "en")
    assert at.title[0].value == PAGES[path][0]
    assert "值" not in _text(at)


def test_conv_2d_pixel_and_flip_in_chinese(zh):
    at = _open("app_pages/conv_2d.py", "zh")
    assert "值得注意：两个数一致" in _text(at)
    assert at.session_state["k2d_name"] == "sobel x"  # the value stays; the label changes
    assert "Sobel x" in at.selectbox(key="k2d_name").options
    spec = charts(at)[1].spec
    assert "特征图：Sobel x 3×3 — 点选一个像素" in spec
    _open_section(at, "open_k2d_flip")
    assert "中间的数在舍入范围内为零" in _text(at)  # the flip identity holds to rounding


def test_pooling_sections_in_chinese(zh):
    at = _open("app_pages/pooling.py", "zh")
    assert "特征图只在 5×5 卷积核完全落在图像内的位置计算" in _text(at)
    _open_section(at, "open_pool_stability")
    text = _text(at)
    assert "曲线表明：" in text and "最大池化在 2° 时保持了" in text
    shift = charts(at)[-3].spec
    assert "平移稳定性" in shift and "抗混叠最大池化" in shift
    _open_section(at, "open_pool_layers")
    assert "步后的滑动均值 / 方差" in " ".join(m.label for m in at.metric)


def test_pooling_error_in_chinese(zh):
    at = _open("app_pages/pooling.py", "zh")
    at.number_input(key="pool_size").set_value(1).run()
    at.number_input(key="pool_k").set_value(2).run()
    assert_clean(at)
    assert at.error[0].value.startswith("k（k-max 从每个含 1 个值的窗口中保留的个数）最多为 1，")
    assert at.error[0].value.endswith("请减小窗口或 k，或增大处理尺寸。")


def test_receptive_field_notes_in_chinese(zh):
    at = _open("app_pages/receptive_fields.py", "zh")
    text = _text(at)
    assert "有效感受野覆盖了理论方块的" in text
    assert tables(at)[-1].columns.tolist() == ["层", "输出", "r", "跳步", "起点"]
    _open_section(at, "open_rf_dilated")
    assert "膨胀逐层加倍时每层的感受野：" in _text(at)


def test_engine_errors_keep_english_and_read_in_chinese(monkeypatch):
    import torch

    with pytest.raises(ExplorerError) as window:
        pool2d(torch.zeros(4, 4), "max", 6)
    assert str(window.value) == (
        "The pooling window (6×6) is larger than the 4×4 map; use a window of at most 4."
    )
    with pytest.raises(ExplorerError) as nested:
        stack_rf([dict(kind="conv", k=9, s=1, p=0, d=1)], 4)
    english = str(nested.value)
    assert english.startswith("Layer 1 (conv 9×9) has nothing left to slide over: The kernel")
    assert error_text(nested.value) == english
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")
    assert error_text(window.value) == ("池化窗口（6×6）大于 4×4 的特征图；请使用不超过 4 的窗口。")
    nested_zh = error_text(nested.value)
    assert nested_zh.startswith("第 1 层（conv 9×9）已没有可滑过的输入：卷积核覆盖 9 个单元格")
    assert i18n.t(erf_extent_words(0.9)) == "大部分"
