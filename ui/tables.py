"""Every table on screen: a static table of computed values, and its numbers as a CSV file.

Why not st.dataframe (issue 13). Its interactive grid ships ~1.3 MB of code (the grid and Arrow's
formatting) that a new tab loads and compiles before the page settles: ~0.25 s on this 2-core
machine on every page with a table in view. Our tables are small (at most a few dozen rows) and
are read, not explored, so a Markdown table shows them at no such cost. st.table would still load
Arrow's formatting code (0.74 MB), half of that cost.

What the grid gave, kept: the numbers behind each table download as CSV (issue 16), from a small
button under it that runs no script when clicked; the CSV holds the values as computed, the table
shows them as formatted for reading. A long table can scroll inside a box, and a wide one scrolls
sideways instead of widening the page (style(), which app.py applies on every page).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext

import numpy as np
import pandas as pd
import streamlit as st

from ui.i18n import t

# A column's format: "%.3f"-style, "localized" (thousands separators), "percent", or a function.
Format = str | Callable[[object], str]
Columns = Mapping[str, Sequence] | pd.DataFrame
WIDE_TABLES_SCROLL = "[data-testid='stMarkdownContainer']:has(> table) { overflow-x: auto; }"
ROW_PX = 39  # a row of a Markdown table in the app's theme, read from a screenshot

# What Markdown, Streamlit's $…$ (LaTeX) and :color[…] directives, or a bare http:// link would
# read. (A bare www.… or mail address, or :material/…: still become a link or an icon of the same
# text, as in any st.markdown: harmless, and no escape stops them.)
_MARKDOWN = re.compile(r"[\\`*_{}\[\]<>|$~#:]")
_NUMBER = re.compile(r"[−+-]?[\d,]*\.?\d+(e[+-]?\d+)?%?")  # a number already written as text


def table(
    data: Columns,
    *,
    csv_name: str,
    formats: Mapping[str, Format] | None = None,
    scroll_after: int | None = None,
    where=None,
) -> None:
    """Show data (column name → values, or a DataFrame whose index is not shown) as a table, with
    a button that downloads its values as `csv_name`.csv (in `where`, a column or container, when
    given). A table of more than `scroll_after` rows scrolls in a box that holds that many."""
    frame = as_frame(data)
    tall = scroll_after is not None and len(frame) > scroll_after
    with where if where is not None else nullcontext():
        with st.container(height=ROW_PX * (scroll_after + 1) + 34) if tall else nullcontext():
            st.markdown(markdown(frame, formats or {}))
        st.download_button(
            t("Numbers as CSV"),
            data=lambda: ("\ufeff" + csv_text(frame)).encode("utf-8"),  # BOM: Excel reads UTF-8
            file_name=f"{csv_name}.csv",
            mime="text/csv",
            key=f"csv_{csv_name}",
            on_click="ignore",
            type="tertiary",
            icon=":material/download:",
        )


def style() -> None:
    """Let a table wider than its column scroll sideways (Markdown itself cannot say so)."""
    st.html(f"<style>{WIDE_TABLES_SCROLL}</style>")


def as_frame(data: Columns) -> pd.DataFrame:
    """Return data as a DataFrame (its own index dropped: only columns are shown)."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    return pd.DataFrame({name: list(values) for name, values in data.items()})


def csv_text(frame: pd.DataFrame) -> str:
    """Return the CSV of frame's values as computed (not as formatted on screen)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(name) for name in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow(["" if _missing(value) else _plain(value) for value in row])
    return out.getvalue()


def markdown(frame: pd.DataFrame, formats: Mapping[str, Format]) -> str:
    """Return frame as a Markdown table: cells formatted, numeric columns aligned right."""
    names = [str(name) for name in frame.columns]
    cells = [
        [cell_text(value, formats.get(name)) for value in frame[name]] for name in frame.columns
    ]
    rule = ["---:" if _is_numeric(frame[name]) else "---" for name in frame.columns]
    lines = [_row([escape(name) for name in names]), _row(rule)]
    lines += [_row([escape(column[i]) for column in cells]) for i in range(len(frame))]
    return "\n".join(lines)


def cell_text(value: object, fmt: Format | None = None) -> str:
    """Return one cell as shown: empty for a missing value, else formatted by fmt or by type."""
    if _missing(value):
        return ""
    value = _plain(value)
    if callable(fmt):
        return fmt(value)
    if fmt is not None and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _formatted(value, fmt)
    return _default_text(value)


def escape(text: str) -> str:
    """Return text that Markdown shows as it is, on one line."""
    return _MARKDOWN.sub(lambda found: "\\" + found.group(), " ".join(str(text).split()))


def _formatted(value: numbers.Real, fmt: str) -> str:
    if fmt == "localized":
        return f"{value:,}" if float(value).is_integer() else f"{value:,.2f}"
    if fmt == "percent":
        return f"{value:.1%}"
    return fmt % value


def _default_text(value: object) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


def _missing(value: object) -> bool:
    value = _plain(value)
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: object) -> object:
    """Return a NumPy scalar as the Python number it holds."""
    return value.item() if isinstance(value, np.generic) else value


def _is_numeric(column: pd.Series) -> bool:
    values = [_plain(v) for v in column]
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        return bool(_NUMBER.fullmatch(value.strip()))
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
