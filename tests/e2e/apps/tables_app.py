"""A page for tests/e2e/test_tables_browser.py: ui/tables.py's table with text a learner could
type (Markdown's and LaTeX's special characters), and a long table that scrolls."""

import sys
from pathlib import Path

WIDE = 24  # columns: wider than any screen
TYPED = [
    "a|b",
    "$x$ and $y$",
    "*not bold* _nor this_",
    "<b>tag</b>",
    "[link](http://x)",
    "`c`",
    ":red[not red]",
]

if __name__ == "__main__":  # as Streamlit runs it; the test only imports TYPED
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
    import streamlit as st

    from ui.tables import style, table

    st.title("Tables")
    style()
    table({"typed": TYPED, "n": list(range(len(TYPED)))}, csv_name="typed")
    table({"i": list(range(40))}, csv_name="long", scroll_after=5)
    table({f"unit {i}": [i / 7] for i in range(WIDE)}, csv_name="wide", formats={})
