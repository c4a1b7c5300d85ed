"""Lazy sections: their content is computed only while open, and their keys can be found."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

SCRIPT = """
import streamlit as st
from ui.sections import lazy_section

calls = st.session_state.setdefault("calls", [])

def draw():
    calls.append(1)
    st.slider("Inside", 0, 5, 1, key="inside")
    st.write("drawn")

opened = lazy_section("More", "open_more", draw)
st.write(f"open: {opened}")
"""


def test_a_lazy_section_computes_only_while_open():
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["open: False"]
    assert at.session_state["calls"] == [] and len(at.slider) == 0
    at.session_state["open_more"] = True
    at.run()
    assert "drawn" in [m.value for m in at.markdown] and "open: True" in [
        m.value for m in at.markdown
    ]
    at.slider(key="inside").set_value(5).run()
    assert at.slider(key="inside").value == 5 and len(at.session_state["calls"]) == 2
    at.session_state["open_more"] = False
    at.run()
    assert len(at.slider) == 0 and len(at.session_state["calls"]) == 2


def test_a_lazy_section_key_must_say_it_opens():
    from ui.sections import lazy_section

    with pytest.raises(ValueError, match="open_"):
        lazy_section("More", "more", lambda: None)
