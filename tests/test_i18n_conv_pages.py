"""The convolution pages in Chinese (issue 14): padding/stride/dilation, the conv layer, why
convolution and equivariance render without an exception, show their Chinese titles, and their
computed sentences, engine errors, figures, image picker and job lines read in Chinese."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from engine.conv import conv_output_size
from engine.core import ExplorerError
from tests.charts import charts
from tests.test_pages import assert_clean, open_page
from tests.test_pages import page_text as _text
from ui import i18n, jobs
from ui.i18n import error_text

PAGES = {
    "app_pages/conv_arithmetic.py": ("Padding, stride and dilation", "填充、步幅与膨胀"),
    "app_pages/conv_layer.py": ("A convolutional layer, stage by stage", "卷积层，一级一级来看"),
    "app_pages/why_convolution.py": (
        "Why convolution: sparse interactions and shared weights",
        "为什么用卷积：稀疏交互与权重共享",
    ),
    "app_pages/equivariance.py": (
        "Equivariance: shift the image, shift the features",
        "等变：平移图像，特征随之平移",
    ),
}


def _open(path: str, lang: str) -> AppTest:
    at = open_page(path, lang)
    assert_clean(at)
    return at


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_chinese_with_its_chinese_title(path):
    at = _open(path, "zh")
    assert at.title[0].value == PAGES[path][1]
    assert "值得注意" in _text(at) or path == "app_pages/why_convolution.py"


@pytest.mark.parametrize("path", ["app_pages/conv_arithmetic.py", "app_pages/equivariance.py"])
def test_page_still_reads_in_english(path):
    assert _open(path, "en").title[0].value == PAGES[path][0]


def test_arithmetic_notes_and_figures_in_chinese():
    at = _open("app_pages/conv_arithmetic.py", "zh")
    text = _text(at)
    assert "这里 5×5 的输入得到 5×5 的输出，与输入尺寸相同。" in text
    assert "去掉 1 的填充，输出将是 3×3。" in text
    assert "稀疏交互" in text and "参数共享" in text
    spec = charts(at)[0].spec
    assert "输入 5×5，填充 1（灰色）" in spec and "▶ 播放" in spec


def test_transposed_view_in_chinese_both_sides_of_the_overlap():
    at = _open("app_pages/conv_arithmetic.py", "zh")
    at.radio(key="arith_mode").set_value("transposed").run()
    assert_clean(at)
    assert "印记相互重叠" in _text(at)  # stride 1 < kernel 3
    at.number_input(key="arith_s").set_value(3).run()
    assert "任意两个印记都不重叠" in _text(at)  # stride 3, kernel 3


def test_an_engine_error_on_the_page_reads_in_chinese():
    at = _open("app_pages/conv_arithmetic.py", "zh")
    at.number_input(key="arith_n").set_value(2).run()
    at.number_input(key="arith_p").set_value(0).run()
    at.number_input(key="arith_k").set_value(5).run()
    assert_clean(at)
    assert at.error[0].value.startswith(
        "卷积核覆盖 5 个单元格（尺寸 5，膨胀 1），但填充后的输入只有 2 个"
    )
    assert at.error[0].value.endswith("请增加填充、减小卷积核或减小膨胀。")


def test_engine_error_template_keeps_the_english_text(monkeypatch):
    with pytest.raises(ExplorerError) as info:
        conv_output_size(2, 5)
    err = info.value
    assert str(err) == (
        "The kernel covers 5 cells (size 5, dilation 1) but the padded input has only 2 "
        "(size 2 + 2×padding 0); use a smaller kernel or dilation, or more padding."
    )
    assert error_text(err) == str(err)
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")
    assert error_text(err).startswith("卷积核覆盖 5 个单元格")
    with pytest.raises(ExplorerError) as named:
        conv_output_size(2, 3, padding=-1)
    assert error_text(named.value) == "填充至少为 0，收到的是 -1。"


def test_conv_layer_options_and_picker_in_chinese():
    at = _open("app_pages/conv_layer.py", "zh")
    assert at.selectbox(key="layer_pool").options == ["最大池化", "平均池化"]
    assert at.session_state["layer_pool"] == "max"  # the value stays; only the label changes
    text = _text(at)
    assert "正在使用 **示例：形状**" in text
    assert "**2 · 探测级**：对每个值施加 ReLU。" in text


def test_equivariance_verdicts_in_chinese():
    at = _open("app_pages/equivariance.py", "zh")
    text = _text(at)
    assert "**旋转**，最大相对误差：" in text
    figure = charts(at)[3].spec
    assert "旋转角度（度）" in figure and "高斯" in figure


def test_job_lines_in_chinese(monkeypatch):
    assert jobs.clock_line(0.5, 20.0) == "20 s so far, about 20 s left"
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")
    assert jobs.clock_line(0.5, 20.0) == "已用 20 s，大约还需 20 s"
    assert jobs.clock_line(0.01, 3.0) == "已用 3 s"
