"""The shipped character models, loaded once per server and shared by every session."""

from __future__ import annotations

import streamlit as st

from engine.recurrent import load


@st.cache_resource(show_spinner="Loading the character models…")
def char_model(name: str):
    """Return the shipped (model, card) of kind name ("lstm", "gru" or "rnn")."""
    return load(name)
