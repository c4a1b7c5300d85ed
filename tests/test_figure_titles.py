"""Figures out (issue 16): every figure on every page downloads as a PNG whose file name says
what it shows. Plotly's modebar names the file after the figure's title (ui/chart.py sets no
other file name), so every chart must carry one: in the default view and with every
lazy section open. Tables: every one is ui/tables.py's, a Markdown table with a button under it
that downloads its numbers as CSV; no st.dataframe or st.table is left (st.data_editor, where a
learner edits values, has its own toolbar).

Every trace is of a type plotly.js's cartesian build draws (ui/chart.py loads only that build).

English only: a Chinese title is the catalog's translation of the same id, which
tests/test_i18n.py checks is never empty."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.charts import charts
from tests.pages_list import PAGES
from tests.tables import tables
from tests.test_pages import open_page
from tests.test_widget_ends import open_lazy_sections

# The trace modules of plotly.js's cartesian build (lib/index-cartesian.js), which
# scripts/plotly/build.sh bundles into static/
CARTESIAN = {
    "bar",
    "box",
    "contour",
    "heatmap",
    "histogram",
    "histogram2d",
    "histogram2dcontour",
    "image",
    "pie",
    "scatter",
    "scatterternary",
    "violin",
}


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".py")


def png_name(chart) -> str:
    """Return the name a chart's PNG download gets: its title (ui/chart.py sets no file name)."""
    title = json.loads(chart.spec).get("layout", {}).get("title") or {}
    return (title.get("text") if isinstance(title, dict) else title) or ""


def problems(at: AppTest) -> list[str]:
    """Return a short description of each chart on the page that the cartesian build cannot draw,
    or whose PNG download would be nameless."""
    found = []
    for i, chart in enumerate(charts(at)):
        figure = chart.figure
        traces = figure.get("data", []) + [
            trace for frame in figure.get("frames", []) for trace in frame.get("data", [])
        ]
        kinds = {trace.get("type", "scatter") for trace in traces}
        if kinds - CARTESIAN:
            found.append(f"chart {i}: {sorted(kinds - CARTESIAN)} not in the cartesian build")
        if not png_name(chart).strip():
            spec = json.loads(chart.spec)
            kinds = sorted({t.get("type", "scatter") for t in spec.get("data", [])})
            axis = (spec.get("layout", {}).get("xaxis", {}).get("title") or {}).get("text")
            found.append(f"chart {i}: {kinds}, x axis {axis!r}")
    return found


@pytest.mark.parametrize("path", [p for p, _ in PAGES], ids=[_stem(p) for p, _ in PAGES])
def test_every_figure_has_a_name_to_download_under(path):
    at = open_page(path)
    assert not at.exception, [e.message for e in at.exception]
    found = problems(at)
    at = open_lazy_sections(at)
    assert not at.exception, [e.message for e in at.exception]
    found += [f"(sections open) {f}" for f in problems(at)]
    assert not found, found
    grids = [d for d in at.dataframe if d.proto.editing_mode == d.proto.READ_ONLY]
    assert not at.table and not grids, "show tables with ui.tables.table (editors stay grids)"
    assert len(tables(at)) == len(csv_buttons(at)), "every table has its CSV button"


def csv_buttons(at: AppTest) -> list:
    """Return ui/tables.py's CSV download buttons on the page (their keys start with csv_)."""
    return [b for b in at.get("download_button") if "-csv_" in b.proto.id]
