"""The architectures page's layer tables, cached for every session (and filled by the warm-up)."""

from __future__ import annotations

import streamlit as st

from engine import architectures as arch

__all__ = ["layer_table"]


@st.cache_data(max_entries=32, show_spinner=False)
def layer_table(name: str, input_size: int | None) -> list:
    """Return every layer of the named net at input_size (None: its own), as arch.layer_rows."""
    return arch.layer_rows(name, input_size)
