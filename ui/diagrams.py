"""Connectivity diagrams: weight matrices, connection graphs, unrolled recurrences, unit layers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures import DIVERGING, finish_layout
from ui.i18n import t


def matrix_pattern(
    m: np.ndarray, title: str | None = None, *, height: int = 360, signed: bool = True
) -> go.Figure:
    """Return a weight matrix with zeros left blank, so its sparsity and repeated values show."""
    m = np.asarray(m, dtype=np.float64)
    shown = np.where(m == 0, np.nan, m)
    bound = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            colorscale=DIVERGING if signed else "Blues",
            zmin=-bound if signed else 0,
            zmax=bound,
            xgap=1,
            ygap=1,
            showscale=False,
            hovertemplate=t("output %{y}, input %{x}<br>weight %{z:.3f}") + "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title=t("output unit"))
    fig.update_xaxes(title=t("input unit"))
    return finish_layout(fig, height, title)


def connection_graph(
    weights: np.ndarray, title: str | None = None, *, height: int = 260, signed: bool = True
) -> go.Figure:
    """Return a two-row graph: inputs at the bottom, outputs on top, one line per nonzero weight."""
    w = np.asarray(weights, dtype=np.float64)
    n_out, n_in = w.shape
    bound = float(np.abs(w).max()) or 1.0
    fig = go.Figure()
    xs_in = np.linspace(0, 1, n_in)
    xs_out = np.linspace(0, 1, n_out) if n_out > 1 else np.array([0.5])
    for value, color in edge_colours(w).items():
        ex, ey = [], []
        for o, i in zip(*np.nonzero(w == value), strict=True):
            ex += [xs_in[i], xs_out[o], None]
            ey += [0, 1, None]
        fig.add_trace(
            go.Scatter(
                x=ex,
                y=ey,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line=dict(color=color, width=1 + 2.5 * abs(value) / bound),
                opacity=0.75,
                meta=dict(weight=float(value)),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs_in,
            y=np.zeros(n_in),
            mode="markers",
            name="inputs",
            marker=dict(size=9, color="#334155"),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs_out,
            y=np.ones(n_out),
            mode="markers",
            name="outputs",
            marker=dict(size=9, color="#f59e0b"),
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[-0.2, 1.2])
    fig.update_layout(showlegend=False)
    return _fit_title(finish_layout(fig, height, title), title)


def _fit_title(fig: go.Figure, title: str | None) -> go.Figure:
    """Return fig with a top margin tall enough for every line of a title broken with <br>."""
    lines = (title or "").count("<br>") + 1
    if lines > 1:
        fig.update_layout(margin=dict(t=22 + 18 * lines))
    return fig


PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04")


def edge_colours(weights: np.ndarray) -> dict[float, str]:
    """Return one colour per distinct nonzero weight, every colour different from the others.

    A short list uses PALETTE; a longer one spreads hues evenly around the colour wheel, so lines
    of the same colour are always the same number and different numbers never share a colour.
    """
    values = np.unique(np.asarray(weights, dtype=np.float64))
    values = values[values != 0]
    if len(values) <= len(PALETTE):
        return {float(v): c for v, c in zip(values, PALETTE, strict=False)}
    return {float(v): f"hsl({360 * i / len(values):.2f}, 70%, 45%)" for i, v in enumerate(values)}


def unrolled_rnn(steps: int, title: str | None = None, *, height: int = 260) -> go.Figure:
    """Return the unrolled recurrence x_t → h_t ← h_(t−1): one U edge and one W edge per step."""
    fig = go.Figure()
    xs = np.arange(steps)
    for name, color, pairs in (
        (t("U (input → state)"), "#16a34a", [((step, 0.0), (step, 1.0)) for step in xs]),
        (
            t("W (state → next state)"),
            "#9333ea",
            [((step - 1, 1.0), (step, 1.0)) for step in xs[1:]],
        ),
    ):
        ex, ey = [], []
        for (x0, y0), (x1, y1) in pairs:
            ex += [x0, x1, None]
            ey += [y0, y1, None]
        fig.add_trace(
            go.Scatter(
                x=ex,
                y=ey,
                mode="lines",
                name=name,
                line=dict(color=color, width=3),
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.zeros(steps),
            mode="markers+text",
            name="inputs",
            text=[f"x{step + 1}" for step in xs],
            textposition="bottom center",
            marker=dict(size=12, color="#334155"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.ones(steps),
            mode="markers+text",
            name="states",
            text=[f"h{step + 1}" for step in xs],
            textposition="top center",
            marker=dict(size=12, color="#f59e0b"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_xaxes(visible=False, range=[-0.5, steps - 0.5])
    fig.update_yaxes(visible=False, range=[-0.5, 1.5])
    fig.update_layout(legend=dict(orientation="h", y=-0.05))
    return _fit_title(finish_layout(fig, height, title), title)


def unit_layers(
    mask: np.ndarray,
    *,
    dense: bool,
    window: tuple[int, int] = (1, 1),
    title: str | None = None,
    height: int = 300,
    color: str = "#dc2626",
) -> go.Figure:
    """Return stacked layers of units (row 0 at the bottom), highlighted where mask is True.

    Lines join highlighted units in adjacent layers that are connected: every pair when dense,
    else units at most window = (left, right) apart, as in a convolution.
    """
    mask = np.asarray(mask, dtype=bool)
    levels, n = mask.shape
    fig = go.Figure()
    ex, ey = [], []
    left, right = window
    for level in range(levels - 1):
        below, above = np.nonzero(mask[level])[0], np.nonzero(mask[level + 1])[0]
        for a in above:
            for b in below:
                if dense or -left <= b - a <= right:
                    ex += [b, a, None]
                    ey += [level, level + 1, None]
    fig.add_trace(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            line=dict(color=color, width=1.2),
            opacity=0.5,
            hoverinfo="skip",
            showlegend=False,
        )
    )
    rows, cols = np.mgrid[0:levels, 0:n]
    on = mask.ravel()
    fig.add_trace(
        go.Scatter(
            x=cols.ravel(),
            y=rows.ravel(),
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                size=11, color=np.where(on, color, "#e2e8f0"), line=dict(color="#334155", width=1)
            ),
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(
        tickvals=list(range(levels)),
        ticktext=[t("input")] + [t("layer {i}", i=i) for i in range(1, levels)],
        range=[-0.5, levels - 0.5],
        showgrid=False,
        zeroline=False,
    )
    return finish_layout(fig, height, title)


def field_growth(
    names: Sequence[str],
    lows: Sequence[float],
    highs: Sequence[float],
    input_size: int,
    *,
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """Return one horizontal bar per layer: the input interval its chosen unit sees."""
    fig = go.Figure()
    levels = list(range(len(names)))
    fig.add_shape(
        type="rect",
        x0=-0.5,
        x1=input_size - 0.5,
        y0=-0.6,
        y1=len(names) - 0.4,
        fillcolor="#f1f5f9",
        line=dict(width=0),
        layer="below",
    )
    fig.add_trace(
        go.Bar(
            y=levels,
            x=[h - lo + 1 for lo, h in zip(lows, highs, strict=True)],
            base=list(lows),
            orientation="h",
            marker_color="#f59e0b",
            opacity=0.85,
            text=[f"r = {h - lo + 1:g}" for lo, h in zip(lows, highs, strict=True)],
            textposition="auto",  # outside a bar too short to hold it at a readable size
            textfont=dict(size=13),
            cliponaxis=False,
            hovertemplate=t("input pixels %{base} … %{x}") + "<extra></extra>",
        )
    )
    fig.update_yaxes(tickvals=levels, ticktext=list(names), autorange="reversed")
    fig.update_xaxes(
        title=t("input pixel (grey band: the image)"),
        range=[min(-1, min(lows) - 2), max(input_size, max(highs) + 2)],
    )
    fig.update_layout(showlegend=False, bargap=0.35)
    return finish_layout(fig, height, title)


CROPPED_SHADE = "rgba(100, 116, 139, 0.55)"  # slate, see-through: the numbers stay readable


def mark_cropped(fig: go.Figure, mask: np.ndarray, *, axes: str = "2") -> go.Figure:
    """Return fig with the cells where mask is True shaded and the kept block outlined (dashed).

    Drawn as traces on the panel whose axes are x{axes}, y{axes}, so an animation's frames (which
    replace the layout's shapes) leave them in place.
    """
    mask = np.asarray(mask, dtype=bool)
    kept_rows, kept_cols = np.nonzero(~mask)
    top, bottom = kept_rows.min() - 0.5, kept_rows.max() + 0.5
    left, right = kept_cols.min() - 0.5, kept_cols.max() + 0.5
    fig.add_trace(
        go.Heatmap(
            z=np.where(mask, 1.0, np.nan),
            colorscale=[[0, CROPPED_SHADE], [1, CROPPED_SHADE]],
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
            name="cropped",
            xaxis=f"x{axes}",
            yaxis=f"y{axes}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[left, right, right, left, left],
            y=[top, top, bottom, bottom, top],
            mode="lines",
            line=dict(color="#0f172a", width=2, dash="dash"),
            hoverinfo="skip",
            showlegend=False,
            name="kept",
            xaxis=f"x{axes}",
            yaxis=f"y{axes}",
        )
    )
    return fig
