"""ui/tables.py: what a table shows (formats, alignment, escaping) and what its CSV holds."""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.apps.tables_app import TYPED
from tests.tables import is_table, number, parse, tables
from ui.tables import as_frame, cell_text, csv_text, escape, markdown


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (0.123456, "%.3f", "0.123"),
        (np.float32(0.5), "%.2f", "0.50"),
        (1234567, "localized", "1,234,567"),
        (np.int64(1234), "localized", "1,234"),
        (1234.5, "localized", "1,234.50"),
        (0.8534, "percent", "85.3%"),
        (7, lambda v: f"<{v}>", "<7>"),
        (2014, None, "2014"),  # a year: no thousands separator unless asked
        (0.000123456, None, "0.0001235"),
        (123456.7, None, "123,457"),
        (True, None, "✓"),
        (False, "%.1f", "✗"),  # a format is for numbers, not for yes/no
        ("text", "%.3f", "text"),
        (None, "%.3f", ""),
        (float("nan"), None, ""),
        (np.float64("nan"), "percent", ""),
    ],
)
def test_a_cell_is_shown_as_its_format_says(value, fmt, shown):
    assert cell_text(value, fmt) == shown


def test_numbers_align_right_and_words_left():
    frame = as_frame({"name": ["a", "b"], "count": [1, 20], "as text": ["1,234", "5.5%"]})
    rule = markdown(frame, {}).split("\n")[1]
    assert rule == "| --- | ---: | ---: |"
    mixed = as_frame({"mixed": [1, "x"]})
    assert markdown(mixed, {}).split("\n")[1] == "| --- |"


HOSTILE = TYPED  # what a learner could type: Markdown's and LaTeX's own characters


def test_markdown_characters_are_escaped_cell_by_cell():
    shown = markdown(as_frame({"typed": HOSTILE}), {})
    body = shown.split("\n")[2:]
    assert len(body) == len(HOSTILE)  # one line per row: no cell broke the table
    cells = [line.removeprefix("| ").removesuffix(" |") for line in body]
    assert not [c for c in cells if re.search(r"(?<!\\)[|$*_<>`\[\]:]", c)], cells
    assert escape("two\nlines\there") == "two lines here"


def test_the_test_reader_reads_back_what_was_written():
    frame = as_frame({"typed": HOSTILE, "value": [0.5] * len(HOSTILE)})
    text = markdown(frame, {"value": "%.2f"})
    assert is_table(text) and not is_table("| just a line |")
    back = parse(text)
    assert list(back.columns) == ["typed", "value"]
    assert list(back["typed"]) == HOSTILE and set(back["value"]) == {"0.50"}
    assert number("1,234") == 1234 and number("12.5%") == pytest.approx(0.125)
    assert number("−0.5") == -0.5


def test_the_csv_holds_the_values_as_computed_not_as_shown():
    frame = as_frame(
        {"layer": ["conv, 3×3", 'say "hi"'], "loss": [0.123456789, None], "n": [1234, 5]}
    )
    assert "0.123" in markdown(frame, {"loss": "%.3f"})
    rows = list(csv.reader(io.StringIO(csv_text(frame))))
    assert rows[0] == ["layer", "loss", "n"]
    assert rows[1] == ["conv, 3×3", "0.123456789", "1234"]
    assert rows[2] == ['say "hi"', "", "5"]  # missing stays empty, quotes survive
    assert float(rows[1][1]) == 0.123456789


def test_a_dataframe_shows_its_columns_not_its_index():
    frame = pd.DataFrame({"a": [1.5, 2.5]}, index=["x", "y"])
    assert list(as_frame(frame).index) == [0, 1]
    assert "x" not in markdown(as_frame(frame), {})
    assert not math.isnan(as_frame({"a": [1.0]})["a"][0])


def _page(rows: int, scroll_after: int | None) -> AppTest:
    def script(rows, scroll_after):
        from ui.tables import table

        table({"i": list(range(rows))}, csv_name="counts", scroll_after=scroll_after)

    at = AppTest.from_function(script, args=(rows, scroll_after), default_timeout=30)
    return at.run()


@pytest.mark.parametrize(
    ("rows", "scroll_after", "boxed"), [(3, 5, False), (6, 5, True), (9, None, False)]
)
def test_a_long_table_scrolls_in_a_box_and_has_its_csv_button(rows, scroll_after, boxed):
    at = _page(rows, scroll_after)
    assert not at.exception
    (shown,) = tables(at)
    assert list(shown["i"]) == [str(i) for i in range(rows)]
    heights = [
        block.proto.height_config.pixel_height
        for block in at.main.children.values()
        if block.type == "flex_container"
    ]
    assert any(h > 0 for h in heights) == boxed, heights
    (button,) = at.get("download_button")
    assert button.proto.id.endswith("-csv_counts")
    assert button.proto.label == "Numbers as CSV"
