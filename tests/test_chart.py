"""ui/chart.py: what the browser receives for a figure, clicks handed to pages, and the theme."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.charts import charts
from tests.test_pages import open_page
from ui.chart import chart, payload
from ui.inputs import pick_cell_on_click


def test_the_payload_carries_the_figure_exactly_as_plotly_writes_it():
    fig = go.Figure(go.Heatmap(z=np.arange(6, dtype=np.float32).reshape(2, 3)))
    fig.update_layout(title="卷积 <b>map</b>")
    sent = json.loads(payload(fig, clicks=True))
    assert sent["figure"] == json.loads(pio.to_json(fig, validate=False))
    assert sent["clicks"] is True and json.loads(payload(fig))["clicks"] is False
    assert sent["failed"]  # the message shown if plotly.js cannot load


def test_figures_use_the_explorer_template_with_real_colours():
    text = pio.to_json(go.Figure(go.Scatter(y=[1, 2])), validate=False)
    template = json.loads(text)["layout"]["template"]
    assert template["layout"]["colorway"][0] == "#0068c9"
    # Streamlit's own template holds placeholders its chart element swaps in the browser;
    # ours is drawn by plain plotly.js, so none may be left
    assert "#0000" not in text


APP = """
import streamlit as st
import plotly.graph_objects as go
from ui.chart import chart
from ui.inputs import pick_cell_on_click

fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))
chart(fig, key="clickable", on_click=pick_cell_on_click("row", "col"))
chart(fig, key="still")
col, _ = st.columns(2)
chart(fig, key="in_col", where=col)
"""


def test_charts_are_drawn_with_their_keys_clicks_and_containers():
    at = AppTest.from_string(APP).run()
    assert not at.exception
    drawn = {c.key: c for c in charts(at)}
    assert set(drawn) == {"clickable", "still", "in_col"}
    assert drawn["clickable"].clicks and not drawn["still"].clicks
    assert drawn["in_col"].figure["data"][0]["type"] == "heatmap"
    assert len(at.columns[0].get("bidi_component")) == 1  # drawn inside the column


def test_the_same_figure_twice_without_a_key_draws_twice():
    at = AppTest.from_string(
        "import plotly.graph_objects as go\nfrom ui.chart import chart\n"
        "for _ in range(3):\n    chart(go.Figure(go.Scatter(y=[1, 2])))\n"
        "chart(go.Figure(go.Scatter(y=[2, 1])))"
    ).run()
    assert not at.exception
    drawn = charts(at)
    assert len(drawn) == 4 and len({c.key for c in drawn}) == 4
    assert [c.figure["data"][0]["y"] for c in drawn] == [[1, 2]] * 3 + [[2, 1]]


def test_the_home_page_preloads_plotly_js_and_draws_no_chart():
    at = open_page("app_pages/home.py")
    assert not at.exception and not charts(at)
    (loader,) = at.sidebar.get("bidi_component")
    assert json.loads(loader.proto.bytes) == {"figure": None}
    # a page with charts loads plotly.js for them; it has no preloader
    assert len(open_page("app_pages/pooling.py").sidebar.get("bidi_component")) == 0


def test_a_clickable_chart_needs_a_key():
    with pytest.raises(ValueError, match="needs a key"):
        chart(go.Figure(), on_click=print)


@pytest.mark.parametrize(
    "point,expected",
    [
        ({"x": 3, "y": 5}, (5, 3)),
        ({"x": 2.6, "y": 0.4}, (0, 3)),  # rounded to the nearest cell
        ({"x": "a", "y": 1}, (None, None)),  # a category axis: not a cell
        ({}, (None, None)),
    ],
)
def test_a_clicked_heatmap_cell_becomes_the_chosen_row_and_column(point, expected):
    st.session_state.clear()
    pick_cell_on_click("r", "c")(point)
    state = (st.session_state.get("r"), st.session_state.get("c"))
    assert state == expected
