"""Words the shared modules and engines show on several pages, in Chinese (issue 14): the
why-convolution note on a layer too big to build, with its number, English kept as it was."""

from __future__ import annotations

import pytest

from engine.conv import NOT_BUILT_NOTE
from ui import i18n
from ui.i18n import t


@pytest.fixture
def zh(monkeypatch):
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


def test_not_built_note_keeps_english_and_reads_in_chinese(zh):
    assert NOT_BUILT_NOTE.format(gb=1.6106) == "would need 1.6 GB of weights"
    assert t(NOT_BUILT_NOTE, gb=1.6106) == "需要 1.6 GB 的权重"
