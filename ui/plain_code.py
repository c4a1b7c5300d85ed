"""Monospace text in a code-like box, without st.code's syntax highlighter (issue 13).

st.code makes the browser fetch and run Streamlit's highlighter chunk (1.56 MB) the first time a
page shows one, even with language=None: on the LSTM page that was ~0.25 s of main-thread work
for a block that needs no colours. This box is a <pre> in st.html (a 2 kB chunk); the text is
HTML-escaped, so any input shows as typed. (Markdown's own <pre> would not do: Streamlit's Markdown
renderer replaces it with its own block, in the body font, and folds the line breaks.)
"""

from __future__ import annotations

import html

import streamlit as st

STYLE = (
    "margin:0 0 1rem 0;padding:0.75rem 1rem;border-radius:0.5rem;"
    "background:rgba(151,166,195,0.15);font-family:'Source Code Pro',monospace;"
    "font-size:0.875rem;line-height:1.5;white-space:pre-wrap;overflow-wrap:anywhere"
)


def plain_code_html(text: str) -> str:
    """Return the HTML of the box: a <pre> holding text, escaped."""
    return f'<pre style="{STYLE}">{html.escape(text)}</pre>'


def plain_code(text: str) -> None:
    """Show text in a monospace box, as typed."""
    st.html(plain_code_html(text))
