"""ui/margins.py and ui/plotly_ticks.py: what each figure's labels need of its margins, so
plotly.js draws it once.

The reference for the whole is plotly.js itself, in tests/e2e/test_margins.py: every chart on
every page is drawn with the margins worked out here, and plotly.js finds nothing to grow. Here:
the pieces, each against its own reference (plotly.js's rules, its labels as it writes them,
a brute-force search), and every figure of every page gets its pushers without an error."""

from __future__ import annotations

import logging
import math

import numpy as np
import plotly.graph_objects as go
import pytest

import ui.plotly_theme as theme
from tests.charts import charts
from tests.pages_list import PAGES
from tests.test_pages import open_page
from tests.test_widget_ends import open_lazy_sections
from ui import margins
from ui import plotly_ticks as ticks
from ui.margins import pushers
from ui.plotly_ticks import tick_texts

PLAIN = ticks.Props({})


def _on(found: list[dict], side: str) -> list[dict]:
    return [p for p in found if p["side"] == side]


def _labels(fig: go.Figure, name: str) -> list[str]:
    """Return the tick labels ui/plotly_ticks.py expects on the axis named name."""
    read = ticks.view(fig)
    return tick_texts(read, ticks.read_axis(read, name))


# Tick spacing and labels


@pytest.mark.parametrize("rough", [0.013, 0.2, 0.21, 0.7, 1.0, 3.3, 47.0, 5001.0])
def test_a_tick_step_is_2_5_or_10_times_the_power_of_ten_below_the_rough_one(rough):
    # plotly.js rounds up from the greatest power of ten at or below the rough step
    power = max(k for k in range(-6, 7) if 10.0**k <= rough)
    expected = min(m * 10.0**power for m in (2, 5, 10) if m * 10.0**power >= rough)
    assert math.isclose(ticks.tick_step(rough), expected)


# As plotly.js writes them (its labels read off drawn charts in Chromium)
@pytest.mark.parametrize(
    ("value", "step", "written"),
    [
        (-0.5, 0.5, "−0.5"),
        (1.0, 0.5, "1"),
        (1.5, 0.5, "1.5"),
        (0.0, 0.5, "0"),
        (-1e-17, 0.2, "0"),
        (150, 50, "150"),
        (1e4, 1e4, "10k"),
        (2.5e5, 5e4, "250k"),
        (1e6, 1e6, "1M"),
        (1e8, 1e8, "100M"),
        (1e9, 1e9, "1B"),
    ],
)
def test_a_tick_value_is_written_as_plotly_writes_it(value, step, written):
    assert ticks.tick_number(value, step, PLAIN) == written


def test_a_tick_format_is_applied():
    assert ticks.tick_number(4000, 1, ticks.Props({"tickformat": ","})) == "4,000"
    assert ticks.tick_number(0.25, 0.05, ticks.Props({"tickformat": ".0%"})) == "25%"


def test_linear_labels_cover_the_spacings_plotly_picks_for_the_axis_length():
    # A y axis ~360 px long gets one tick per 40 px at most: plotly.js steps 0-10 by 2; a short
    # one (a 200 px figure) by 5.
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 10], mode="markers"))
    assert {"0", "2", "4", "6", "8", "10"} <= set(_labels(fig, "yaxis"))
    fig.update_layout(height=200)
    assert {"0", "5", "10"} <= set(_labels(fig, "yaxis"))


def test_categories_are_their_own_labels():
    fig = go.Figure(go.Bar(x=["cat", "dog", "a longer name"], y=[1, 2, 3]))
    assert _labels(fig, "xaxis") == ["cat", "dog", "a longer name"]


def test_given_ticks_outside_the_range_are_not_labels():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1, 50], mode="lines"))
    fig.update_yaxes(type="log", tickvals=[1, 10, 100, 1000], range=[0, 2])
    assert _labels(fig, "yaxis") == ["1", "10", "100"]


def test_a_log_axis_over_many_decades_labels_its_powers_of_ten():
    # plotly.js's labels on a histogram's counts from 1 to 15,000
    assert ticks.log_texts(1, 15_000) == ["1", "10", "100", "1000", "10k"]
    assert ticks.log_texts(0.2, 9) == ["0.2", "0.5", "1", "2", "5"]
    assert ticks.log_texts(1e-30, 1)[0] == "10<sup>−30</sup>"


# Pushers


def test_a_y_axis_pushes_left_by_its_labels_and_title():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    plain = _on(pushers(fig), "l")
    fig.update_yaxes(title_text="loss")
    titled = _on(pushers(fig), "l")
    assert plain[0]["k"] == 1 and plain[0]["texts"]
    extra = titled[0]["px"] - plain[0]["px"]
    assert math.isclose(extra, theme.STANDOFF["y"] + margins.TITLE_DEPTH * theme.TITLE_SIZE)


def test_an_empty_title_keeps_its_room_as_plotly_keeps_it():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    fig.update_yaxes(title_text="")
    titled = _on(pushers(fig), "l")[0]["px"]
    fig.update_yaxes(title_text=None)
    assert titled > _on(pushers(fig), "l")[0]["px"]


def test_a_hidden_axis_pushes_nothing_and_unlabelled_cells_push_their_ticks():
    fig = go.Figure(go.Heatmap(z=np.ones((3, 4)), showscale=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(showticklabels=False)
    found = pushers(fig)
    assert not _on(found, "b")
    assert _on(found, "l") == [{"side": "l", "val": 0.0, "px": 5}]  # plotly.js's tick length


def test_a_heatmap_brings_a_colour_bar_on_the_right_unless_hidden():
    fig = go.Figure(go.Heatmap(z=[[0.0, 1.5], [2.0, 0.5]]))
    bar = [p for p in _on(pushers(fig), "r") if p["val"] > 1]
    assert len(bar) == 1 and bar[0]["val"] == 1.02 and "1.5" in bar[0]["texts"]
    assert bar[0]["px"] == margins.COLORBAR_THICKNESS + margins.COLORBAR_XPAD + margins.COLORBAR_GAP
    fig.update_traces(showscale=False)
    assert not [p for p in _on(pushers(fig), "r") if p["val"] > 1]


def test_a_legend_is_pushed_only_where_plotly_shows_one():
    one = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a"))
    assert not [p for p in pushers(one) if p.get("entries") or p["val"] == 1.02]
    two = go.Figure([go.Scatter(y=[0, 1], name="train"), go.Scatter(y=[1, 0], name="test")])
    right = [p for p in pushers(two) if p["val"] == 1.02]
    assert right and right[0]["texts"] == ["train", "test"]
    maps = go.Figure([go.Heatmap(z=[[1]], name="a"), go.Heatmap(z=[[2]], name="b")])
    assert not [p for p in pushers(maps) if p.get("entries") or p.get("texts") == ["a", "b"]]


def test_a_legend_row_below_the_plot_pushes_the_bottom():
    fig = go.Figure([go.Scatter(y=[0, 1], name="train"), go.Scatter(y=[1, 0], name="test")])
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    legend = [p for p in pushers(fig) if p.get("entries")]
    shares = {p["side"]: p["share"] for p in legend}
    assert shares == {"b": 1.0, "t": 0.0} and legend[0]["entries"] == ["train", "test"]


def test_a_legend_on_the_figures_edge_sits_beyond_the_axis_labels():
    fig = go.Figure([go.Scatter(y=[0, 1], name="train"), go.Scatter(y=[1, 0], name="test")])
    fig.update_layout(legend=dict(orientation="h", yref="container", y=0))
    found = pushers(fig)
    axis = max(p["px"] for p in _on(found, "b") if not p.get("entries") and p["val"] == 0)
    edge = [p for p in found if p.get("entries")][0]
    assert edge["px"] == axis and edge["then"] == margins.LEGEND_EDGE_ROW


def test_a_square_heatmap_tells_its_aspect():
    fig = go.Figure(go.Heatmap(z=np.zeros((10, 20)), showscale=False))
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(scaleanchor="x")
    left = [p for p in _on(pushers(fig), "l") if "aspect" in p][0]
    assert math.isclose(left["aspect"], 2.0) and left["across"] == left["along"] == 1.0


def test_a_square_heatmap_of_categories_gets_its_pushers_without_an_aspect():
    fig = go.Figure(go.Heatmap(z=np.zeros((2, 3)), x=["a", "b", "c"], y=["p", "q"]))
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(scaleanchor="x")
    left = _on(pushers(fig), "l")
    assert left and not [p for p in left if "aspect" in p]


def test_a_figures_dict_gets_the_same_pushers_as_the_figure():
    fig = go.Figure(go.Heatmap(z=np.arange(12.0).reshape(3, 4), x=[10, 20, 30, 40]))
    fig.add_trace(go.Scatter(x=np.linspace(0, 50, 30), y=np.linspace(-1, 3, 30)))
    fig.update_yaxes(title_text="y")
    assert pushers(fig.to_dict()) == pushers(fig)


# Every page


@pytest.mark.parametrize(
    "path", [p for p, _ in PAGES], ids=[p.rsplit("/", 1)[-1] for p, _ in PAGES]
)
def test_every_figure_on_every_page_gets_its_margins(path, caplog):
    """ui/chart.py draws a figure whose margins raise without them (and logs it): none may."""
    with caplog.at_level(logging.WARNING, logger="ui.chart"):
        at = open_lazy_sections(open_page(path))
    assert not at.exception
    assert not [r.getMessage() for r in caplog.records if r.name == "ui.chart"]
    for chart in charts(at):  # the figure as the browser gets it, a dict
        assert all(p["side"] in "lrtb" for p in pushers(chart.figure)), chart.key
