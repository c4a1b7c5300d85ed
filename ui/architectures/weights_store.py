"""Trained weights from the operator's folder, loaded once per server and shared by sessions."""

from __future__ import annotations

import streamlit as st

from engine.architectures import LoadedWeights, load_weights

__all__ = ["folder_weights"]


@st.cache_resource(max_entries=2, show_spinner=False)
def folder_weights(name: str, path: str, mtime: float) -> LoadedWeights:
    """Return the operator's file loaded once per server, path and modification time.

    The engine never writes to a model, so sessions may share it. The warm-up leaves it alone:
    the file, its size and whether one exists are the operator's.
    """
    return load_weights(name, path)
