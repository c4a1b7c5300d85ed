"""Sections computed only when a learner opens them: what is not on screen costs nothing.

A lazy section is an expander that reruns the page when it is opened or closed; its content is
drawn (and its numbers computed) only while it is open, so a first visit neither computes nor
sends what sits folded below the main lesson. Keys start with OPEN_PREFIX, so tests can find and
open every lazy section of a page (tests/test_widget_ends.py does, to reach the widgets inside).
Whether a section is open is kept in the URL (?open_…=true), so a shared link reopens it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.links import linked

__all__ = ["OPEN_PREFIX", "lazy_section"]

OPEN_PREFIX = "open_"


def lazy_section(
    label: str, key: str, draw: Callable[[], None], *, icon: str | None = None
) -> bool:
    """Draw an expander titled label whose content, draw(), runs only while it is open; return
    whether it is open. key must start with OPEN_PREFIX ("open_pool_channels")."""
    if not key.startswith(OPEN_PREFIX):
        raise ValueError(f"A lazy section's key must start with {OPEN_PREFIX!r}, got {key!r}.")
    box = linked(st.expander)(label, key=key, icon=icon, on_change="rerun")  # ?open_…=true
    opened = bool(box.open)
    if opened:
        with box:
            draw()
    return opened
