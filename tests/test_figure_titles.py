"""Figures out (issue 16): every figure on every page downloads as a PNG whose file name says
what it shows. Plotly's modebar names the file after the figure's title (or the chart's
toImageButtonOptions.filename), so every chart must carry one: in the default view and with every
lazy section open. Tables: every one is an st.dataframe (or st.data_editor), whose toolbar
downloads its numbers as CSV; an st.table has no such button, so none is used.

English only: a Chinese title is the catalog's translation of the same id, which
tests/test_i18n.py checks is never empty."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.charts import charts
from tests.pages_list import PAGES
from tests.test_pages import open_page
from tests.test_widget_ends import open_lazy_sections


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".py")


def png_name(chart) -> str:
    """Return the name a chart's PNG download gets: its title (ui/chart.py sets no file name)."""
    title = json.loads(chart.spec).get("layout", {}).get("title") or {}
    return (title.get("text") if isinstance(title, dict) else title) or ""


def untitled(at: AppTest) -> list[str]:
    """Return a short description of each chart on the page that cannot download as a PNG, or
    would download nameless."""
    found = []
    for i, chart in enumerate(charts(at)):
        if chart.frozen:
            found.append(f"chart {i}: drawn frozen, without the modebar's PNG button")
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
    found = untitled(at)
    at = open_lazy_sections(at)
    assert not at.exception, [e.message for e in at.exception]
    found += [f"(sections open) {f}" for f in untitled(at)]
    assert not found, found
    assert not at.table, "show a table with st.dataframe: its toolbar downloads it as CSV"
