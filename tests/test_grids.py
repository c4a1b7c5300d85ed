"""ui/grids colour scales (never-negative maps get a sequential scale from zero); click overlays."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ui.figures import DIVERGING, heatmap, lines, log_tick_values
from ui.grids import SEQUENTIAL, map_mosaic, value_scale


def _scales(fig) -> list[tuple]:
    return [(t.colorscale, t.zmin, t.zmax) for t in fig.data]


def test_value_scale_picks_by_sign():
    relu = np.array([[0.0, 2.0], [0.5, 0.0]])
    assert value_scale(relu) == (SEQUENTIAL, 0.0, 2.0)
    assert value_scale(relu - 1) == (DIVERGING, -1.0, 1.0)
    assert value_scale(np.zeros((2, 2))) == (SEQUENTIAL, 0.0, 1.0)  # no division by zero later
    assert value_scale([relu, np.array([[np.nan, -3.0]])]) == (DIVERGING, -3.0, 3.0)


def test_mosaic_of_non_negative_maps_is_sequential_from_zero():
    maps = np.stack([np.full((3, 3), 1.0), np.arange(9.0).reshape(3, 3)])
    fig = map_mosaic(maps, ["a", "b"])
    sequential = tuple(tuple(stop) for stop in SEQUENTIAL)
    assert _scales(fig) == [(sequential, 0.0, 1.0), (sequential, 0.0, 8.0)]
    assert [z[1:] for z in _scales(map_mosaic(maps, ["a", "b"], shared_scale=True))] == [
        (0.0, 8.0),
        (0.0, 8.0),
    ]
    # No placeholder colours that Streamlit's theme would swap for its palette (#000001..#000010)
    assert not any(c.startswith("#0000") and c != "#000000" for _, c in SEQUENTIAL)


def test_signed_mosaic_stays_diverging_and_centred_even_for_its_non_negative_maps():
    maps = [np.array([[-2.0, 1.0]]), np.array([[0.0, 4.0]])]
    scales = _scales(map_mosaic(maps, ["conv", "relu"]))
    assert [s[1:] for s in scales] == [(-2.0, 2.0), (-4.0, 4.0)]
    shared = _scales(map_mosaic(maps, ["conv", "relu"], shared_scale=True))
    assert [s[1:] for s in shared] == [(-4.0, 4.0), (-4.0, 4.0)]
    grey = _scales(map_mosaic(maps, ["conv", "relu"], signed=False))
    assert [s[1:] for s in grey] == [(-2.0, 1.0), (0.0, 4.0)]
    gray = map_mosaic(maps, ["a", "b"], signed=False).data[0].colorscale
    assert gray == map_mosaic(maps, ["a", "b"], signed=False).data[1].colorscale
    assert gray[0][1] == "rgb(0, 0, 0)" and gray[-1][1].startswith("rgb(25")  # black to white


# --- a pickable heatmap (ui/figures.heatmap): the heatmap trace itself takes the click


@pytest.mark.parametrize("side", [7, 32, 160])
def test_a_pickable_heatmap_is_one_trace_whose_cells_sit_on_their_indices(side):
    z = np.arange(side * (side + 3), dtype=np.float32).reshape(side, side + 3)
    fig = heatmap(z, "map", pickable=True)
    assert [t.type for t in fig.data] == ["heatmap"]  # no overlay: plotly.js reports the cell
    # cells centred on 0..n-1, so a click's x and y are the clicked column and row
    assert fig.data[0].x is None and fig.data[0].y is None
    assert fig.data[0].hovertemplate.endswith("<extra>click</extra>")
    plain = heatmap(z, "map")
    assert plain.data[0].hovertemplate.endswith("<extra></extra>")


def test_selection_box_outlines_the_cell_and_a_ring_visible_on_small_cells():
    fig = heatmap(np.zeros((160, 120)), selected=(5, 7))
    boxes = {(s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes}
    assert (6.5, 7.5, 4.5, 5.5) in boxes  # exactly the cell
    rings = [b for b in boxes if b[1] - b[0] > 1]
    assert rings and all(b[1] - b[0] >= 5 for b in rings)  # a ring several cells wide
    assert all((b[0] + b[1]) / 2 == 7 and (b[2] + b[3]) / 2 == 5 for b in boxes)  # centred


# --- log axes label clean major ticks only (ui/figures.lines)


def test_log_tick_values_are_1_2_5_steps_or_powers_of_ten():
    assert log_tick_values(0.013, 0.9) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    assert log_tick_values(0.5, 2.0) == [0.5, 1.0, 2.0]
    assert log_tick_values(0.02, 3000) == [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]


def test_log_axes_of_a_line_chart_carry_explicit_major_ticks():
    sizes = np.array([8, 16, 32, 64, 128])
    times = {"dense": np.array([0.02, 0.1, np.nan, 30.0, 400.0]), "conv": sizes * 0.01}
    fig = lines(sizes, times, log_x=True, log_y=True)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert list(fig.layout.xaxis.tickvals) == [8, 16, 32, 64, 128]  # the sample points
    assert list(fig.layout.xaxis.ticktext) == ["8", "16", "32", "64", "128"]
    # 0.02 ms .. 400 ms: more than a dozen 1-2-5 steps, so powers of ten only
    assert list(fig.layout.yaxis.tickvals) == [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    plain = lines(sizes, times)
    assert plain.layout.xaxis.type is None and plain.layout.yaxis.tickvals is None


def _mosaic_by_make_subplots(maps, titles, *, cols=4, signed=True, shared_scale=False):
    """The mosaic as plotly's make_subplots builds it, one update per panel: the reference."""
    from plotly.subplots import make_subplots

    from ui.grids import GRAY

    maps = [np.asarray(m, dtype=np.float32) for m in maps]
    cols = max(1, min(cols, len(maps)))
    rows = (len(maps) + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        horizontal_spacing=0.02,
        vertical_spacing=0.08 if rows > 1 else 0.0,
    )
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    scale = value_scale(maps)[0] if signed else GRAY
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        if signed:
            _, zmin, zmax = value_scale(maps if shared_scale else [m])
            zmin = -zmax if scale == DIVERGING else zmin
        else:
            zmin, zmax = (low, high) if shared_scale else (float(m.min()), float(m.max()))
        hover = f"{titles[i]}<br>row %{{y}}, col %{{x}}<br>%{{z:.3f}}<extra></extra>"
        fig.add_trace(
            go.Heatmap(
                z=m, colorscale=scale, zmin=zmin, zmax=zmax, showscale=False, hovertemplate=hover
            ),
            row=r + 1,
            col=c + 1,
        )
        fig.update_yaxes(
            autorange="reversed",
            showticklabels=False,
            scaleanchor=f"x{i + 1 if i else ''}",
            row=r + 1,
            col=c + 1,
        )
        fig.update_xaxes(showticklabels=False, constrain="domain", row=r + 1, col=c + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=rows * 220 + 30, margin=dict(l=5, r=5, t=30, b=5))
    return fig


@pytest.mark.parametrize(
    ("n", "cols", "signed", "shared", "blank"),
    [
        (8, 4, True, False, None),
        (5, 4, True, True, 2),
        (9, 8, False, False, 0),
        (1, 4, True, False, None),
        (3, 3, False, True, None),
        (6, 2, True, False, 5),
    ],
)
def test_mosaic_is_the_figure_make_subplots_builds(n, cols, signed, shared, blank):
    rng = np.random.default_rng(n)
    maps = [rng.standard_normal((6 + i, 9)) + (0 if signed else 3) for i in range(n)]
    titles = [f"map {i}" for i in range(n)]
    if blank is not None:
        titles[blank] = ""  # make_subplots writes no annotation for an empty title
    ours = map_mosaic(maps, titles, cols=cols, signed=signed, shared_scale=shared)
    reference = _mosaic_by_make_subplots(
        maps, titles, cols=cols, signed=signed, shared_scale=shared
    )
    assert json.loads(ours.to_json()) == json.loads(reference.to_json())
