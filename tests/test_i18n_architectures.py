"""The classic-architectures page in Chinese (issue 14): it renders under its Chinese title, its
computed sentences, tables and engine errors read in Chinese, and English stays as it was."""

from __future__ import annotations

import pytest

from engine.architectures import ArchStatsError, gradient_trend, layer_rows
from tests.tables import tables
from tests.test_i18n_cnn_pages import _open, _open_section, _text
from ui import i18n
from ui.i18n import error_text

PATH = "app_pages/architectures.py"


@pytest.fixture
def zh(monkeypatch):
    """Read every string in Chinese, in the script and in AppTest's re-formatting of options."""
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


@pytest.fixture(scope="module")
def zh_page():
    """The page in Chinese with every lazy section open (module-wide: it is slow to build)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(i18n, "current_lang", lambda: "zh")
        at = _open(PATH, "zh")
        for key in ("open_arch_incep", "open_arch_dil", "open_arch_degradation"):
            at = _open_section(at, key)
    return at


def test_architectures_renders_in_chinese_with_its_title_and_sentences(zh_page):
    at = zh_page
    assert at.title[0].value == "经典网络结构：各自解决了什么"
    text = _text(at)
    assert "**问题。**" in text and "**为什么有效。**" in text  # the nine stories
    assert "值得注意：深度从" in text  # the table's caption, chosen by the counts
    assert "值得注意：朝输入方向，普通-56 的梯度" in text  # the gradient caption
    assert "What to notice" not in text and "Problem." not in text


def test_architectures_tables_and_figures_in_chinese(zh_page):
    at = zh_page
    columns = [c for df in tables(at) for c in df.columns]
    assert "深度" in columns and "感受野 r (px)" in columns and "分支" in columns
    assert "depth" not in columns and "branch" not in columns
    branches = next(df for df in tables(at) if "分支" in df.columns)["分支"]
    assert "3×3 最大池化 → 1×1" in list(branches)
    assert at.session_state["arch_dil_kernel"] == "laplacian"  # the value stays; label changes


def test_architectures_still_reads_in_english():
    at = _open(PATH, "en")
    assert at.title[0].value == "Classic architectures: what each one fixed"
    assert "值" not in _text(at)


def test_engine_errors_keep_english_and_read_in_chinese(zh):
    with pytest.raises(ArchStatsError) as small:
        layer_rows("resnet18", 8)
    assert str(small.value) == "Input side must be a whole number from 32 to 1024, got 8."
    assert error_text(small.value) == "输入边长必须是 32 到 1024 之间的整数，得到的是 8。"
    with pytest.raises(ArchStatsError) as flat:
        gradient_trend([1.0, 0.0])
    assert "梯度" not in str(flat.value)
