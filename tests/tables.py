"""The tables a page showed in AppTest (ui/tables.py's Markdown tables), read back as text."""

from __future__ import annotations

import re

import pandas as pd

_RULE = re.compile(r"\|( ---:? \|)+")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_ESCAPED = re.compile(r"\\(.)")


def tables(at) -> list[pd.DataFrame]:
    """Return every table of an AppTest run (or element tree) in page order, cells as shown."""
    return [parse(md.value) for md in at.markdown if is_table(md.value)]


def is_table(body: str) -> bool:
    lines = body.split("\n")
    return len(lines) >= 2 and lines[0].startswith("| ") and bool(_RULE.fullmatch(lines[1]))


def parse(body: str) -> pd.DataFrame:
    """Return a Markdown table as a DataFrame of the texts a reader sees."""
    head, _, *rows = body.split("\n")
    return pd.DataFrame([_cells(row) for row in rows], columns=_cells(head))


def number(text: str) -> float:
    """Return the number a cell shows ("1,234" → 1234.0, "12.5%" → 0.125)."""
    clean = text.replace(",", "").replace("−", "-")
    return float(clean[:-1]) / 100 if clean.endswith("%") else float(clean)


def numbers(column) -> list[float]:
    return [number(text) for text in column]


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1]
    return [_ESCAPED.sub(r"\1", cell.strip()) for cell in _CELL_SPLIT.split(inner)]
