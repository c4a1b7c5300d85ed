"""Figures for one sequence through a small 1D CNN and a small RNN: data in, `go.Figure` out.

Time runs left to right in every figure. The CNN figures mark what a chosen time step t sees (the
input window of each layer's unit at t) and what k-max pooling keeps; the RNN figure shows the
hidden state at every step. A click on a cell of their heatmaps reaches the page through
ui/chart.py: the clicked cell's x is the time step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.sequence import TAPS
from ui.figures import finish_layout, name_figure
from ui.i18n import t
from ui.recurrent.figures import UNIT_COLOURS, char_label

CHANNEL_COLOURS = ("#16a34a", "#2563eb", "#9333ea", "#0891b2", "#ea580c", "#ca8a04")
WINDOW = "#f59e0b"  # the chosen step's windows
KEPT = "#dc2626"  # positions kept by k-max pooling
MAP_SCALE = "Blues"  # ReLU outputs: white = silent, dark = firing
MAX_TICKS = 60


def _finish(fig: go.Figure, height: int, title: str) -> go.Figure:
    """Return fig with the shared layout, room above for subplot titles and title above them."""
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=44))
    return name_figure(fig, title)


def time_ticks(labels: Sequence[str] | None, lo: int, hi: int) -> dict:
    """Return x-axis settings labelling steps lo … hi − 1 with their characters (every few)."""
    if labels is None:
        return dict(title_text=t("time step t"))
    every = max(1, -(-(hi - lo) // MAX_TICKS))
    ticks = list(range(lo, hi, every))
    return dict(
        tickvals=ticks,
        ticktext=[char_label(labels[i]) for i in ticks],
        tickangle=0,
        tickfont=dict(size=10),
        title_text=t("time step t (the character read there)"),
    )


def _click_hover(row_names: Sequence[str], length: int) -> dict:
    """Return a heatmap's hover for (rows, time) cells: row name, t and value, and "click"."""
    names = np.repeat(np.asarray(list(row_names), dtype=object)[:, None], length, axis=1)
    return dict(
        text=names,
        hovertemplate="%{text}, t %{x}: %{z:.3f}" + t("<extra>click: choose t</extra>"),
    )


def _column_box(fig: go.Figure, a: int, b: int, rows: int, row: int) -> None:
    fig.add_shape(
        type="rect",
        x0=a - 0.5,
        x1=b + 0.5,
        y0=-0.5,
        y1=rows - 0.5,
        line=dict(color=WINDOW, width=3),
        row=row,
        col=1,
    )


def cnn_tower(
    x: np.ndarray,
    maps: Sequence[np.ndarray],
    layer_names: Sequence[Sequence[str]],
    windows: Sequence[np.ndarray],
    step: int,
    kept: np.ndarray,
    labels: Sequence[str] | None = None,
    height: int = 560,
    view: tuple[int, int] | None = None,
) -> go.Figure:
    """Return the input and each conv layer's (C, T) maps stacked over time, windows of t marked.

    Input row: light band = what layer 2's unit at t sees, dark band = what layer 1's unit at t
    sees. Layer 1 row: the box holds the layer-1 units feeding layer 2's unit at t. Last row: the
    box is the unit at t; red rings are the positions kept by k-max pooling (kept: (C, k)).
    view = (lo, hi) draws only steps lo … hi − 1 (positions stay absolute).
    """
    lo, hi = view or (0, len(x))
    steps = np.arange(lo, hi)
    x, maps = x[lo:hi], [m[:, lo:hi] for m in maps]
    labels = None if labels is None else list(labels)
    fig = _tower_grid(len(maps))
    _input_row(fig, steps, x, labels, windows, step)
    for i, (m, names) in enumerate(zip(maps, layer_names, strict=True)):
        row = i + 2
        _map_row(fig, steps, m, names, row)
        if i == len(maps) - 1:
            _column_box(fig, step, step, m.shape[0], row)
            fig.add_trace(_kept_rings(kept, m.shape[0], lo, hi), row=row, col=1)
        else:
            a, b = windows[0][step]  # layer-1 units feeding the next layer's unit at step
            _column_box(fig, a, b, m.shape[0], row)
    fig.update_xaxes(range=[lo - 0.5, hi - 0.5])
    fig.update_xaxes(**time_ticks(labels, lo, hi), row=1 + len(maps), col=1)
    fig.update_yaxes(title_text="x", row=1, col=1)
    fig.update_layout(
        legend=dict(orientation="h", y=-0.12, x=1, xanchor="right"),
        clickmode="event",
        dragmode=False,
    )
    return _finish(fig, height, t("CNN: feature maps over time"))


def _tower_grid(layers: int) -> go.Figure:
    """Return the empty stack: one input row above one row per conv layer, time shared."""
    titles = [t("input x_t (standardised)")] + [
        t("layer {i}: designed {taps}-tap filters, after ReLU", i=i + 1, taps=TAPS)
        if i == 0
        else t("layer {i}: random {taps}-tap filters, after ReLU", i=i + 1, taps=TAPS)
        for i in range(layers)
    ]
    return make_subplots(
        rows=1 + layers,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=titles,
        row_heights=[1.2] + [1.0] * layers,
    )


def _input_row(fig, steps, x, labels, windows, step: int) -> None:
    """Draw the input line in row 1 with the windows of t's units shaded, widest palest."""
    hover_t = [f"t {i}" if labels is None else f"t {i} '{char_label(labels[i])}'" for i in steps]
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=x,
            mode="lines+markers",
            line=dict(color="#334155", width=1.5),
            marker=dict(size=5),
            customdata=hover_t,
            showlegend=False,
            hovertemplate="%{customdata}: x = %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for layer, opacity in ((len(windows) - 1, 0.18), (0, 0.38)):
        a, b = windows[layer][step]
        fig.add_vrect(
            x0=a - 0.5, x1=b + 0.5, fillcolor=WINDOW, opacity=opacity, line_width=0, row=1, col=1
        )


def _map_row(fig, steps, m: np.ndarray, names: Sequence[str], row: int) -> None:
    """Draw one layer's (C, T) map as a clickable heatmap in row, channels named on the y axis."""
    channels = m.shape[0]
    low, high = fig.get_subplot(row, 1).yaxis.domain
    fig.add_trace(
        go.Heatmap(
            z=m,
            x=steps,
            y=np.arange(channels),
            colorscale=MAP_SCALE,
            zmin=0,
            zmax=max(float(np.max(m)), 1e-9),  # each layer its own scale: layers differ a lot
            colorbar=dict(thickness=10, len=high - low, y=(low + high) / 2, yanchor="middle"),
            **_click_hover(names, len(steps)),
        ),
        row=row,
        col=1,
    )
    fig.update_yaxes(
        tickvals=list(range(channels)), ticktext=list(names), autorange="reversed", row=row, col=1
    )


def _kept_rings(kept: np.ndarray, channels: int, lo: int, hi: int) -> go.Scatter:
    """Return red rings on the (channel, position) cells k-max pooling keeps, inside lo … hi − 1."""
    cols = np.asarray(kept)
    rows = np.repeat(np.arange(channels), cols.shape[1])
    shown = (cols.ravel() >= lo) & (cols.ravel() < hi)
    return go.Scatter(
        x=cols.ravel()[shown],
        y=rows[shown],
        mode="markers",
        name=t("kept by k-max pooling"),
        marker=dict(symbol="circle-open", size=13, color=KEPT, line=dict(width=2.5)),
        hovertemplate=t("kept: t %{x}<extra></extra>"),
    )


def rnn_states(
    hidden: np.ndarray,
    step: int,
    labels: Sequence[str] | None = None,
    height: int = 560,
    view: tuple[int, int] | None = None,
) -> go.Figure:
    """Return the RNN's (T, H) hidden states as a unit × time heatmap and as lines, t marked.

    view = (lo, hi) draws only steps lo … hi − 1 (positions stay absolute).
    """
    lo, hi = view or (0, hidden.shape[0])
    hidden = hidden[lo:hi]
    steps = np.arange(lo, hi)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[
            t("hidden state h_t, unit × time (tanh: −1 … 1)"),
            t("the same units as lines"),
        ],
    )
    _state_heatmap(fig, hidden, steps, step)
    _state_lines(fig, hidden, steps)
    fig.add_vline(x=step, line=dict(color=WINDOW, width=2), row=2, col=1)
    fig.update_yaxes(title_text=t("unit"), autorange="reversed", dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="h", range=[-1.05, 1.05], row=2, col=1)
    fig.update_xaxes(range=[lo - 0.5, hi - 0.5])
    fig.update_xaxes(**time_ticks(labels, lo, hi), row=2, col=1)
    fig.update_layout(
        legend=dict(orientation="h", y=-0.12, x=1, xanchor="right"),
        clickmode="event",
        dragmode=False,
    )
    return _finish(fig, height, t("RNN: hidden state per step"))


def _state_heatmap(fig: go.Figure, hidden: np.ndarray, steps: np.ndarray, step: int) -> None:
    """Add the (T, H) states as a unit × time heatmap in row 1, clickable, step t boxed."""
    units = hidden.shape[1]
    fig.add_trace(
        go.Heatmap(
            z=hidden.T,
            x=steps,
            y=np.arange(units),
            colorscale="RdBu_r",
            zmin=-1,
            zmax=1,
            colorbar=dict(thickness=10, len=0.45, y=0.78, title="h"),
            **_click_hover([t("unit {u}", u=u) for u in range(units)], len(steps)),
        ),
        row=1,
        col=1,
    )
    _column_box(fig, step, step, units, 1)


def _state_lines(fig: go.Figure, hidden: np.ndarray, steps: np.ndarray) -> None:
    """Add one line per hidden unit over time in row 2."""
    for u in range(hidden.shape[1]):
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=hidden[:, u],
                mode="lines",
                name=t("unit {u}", u=u),
                line=dict(color=UNIT_COLOURS[u % len(UNIT_COLOURS)], width=1.6),
                hovertemplate=t("unit {u}", u=u) + ", t %{x}: %{y:.3f}<extra></extra>",
            ),
            row=2,
            col=1,
        )


def kmax_figure(
    x: np.ndarray,
    last_maps: np.ndarray,
    names: Sequence[str],
    kept: np.ndarray,
    windows: np.ndarray,
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Return the input with the windows of the kept units shaded, then each channel's map.

    last_maps: (C, T) the last layer; kept: (C, k) kept positions; windows: (T, 2) input window
    of a last-layer unit. Channel colours match between the shading and the map rows.
    """
    channels, length = last_maps.shape
    steps = np.arange(length)
    fig = make_subplots(
        rows=1 + channels,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[1.6] + [1.0] * channels,
        subplot_titles=[t("input: the windows that survive k-max pooling")]
        + [t("{name}: where it fires, what is kept", name=n) for n in names],
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=x,
            mode="lines+markers",
            line=dict(color="#334155", width=1.5),
            marker=dict(size=4),
            showlegend=False,
            hovertemplate="t %{x}: %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    low, high = (float(np.min(x)), float(np.max(x))) if length else (0.0, 1.0)
    span = (high - low) or 1.0
    for c in range(channels):
        colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
        level = high + span * (0.12 + 0.1 * c)  # each channel's band at its own height above x
        _kept_band(fig, kept[c], windows, level, span, colour, names[c])
        _channel_row(fig, steps, last_maps[c], kept[c], colour, names[c], c + 2)
    fig.update_yaxes(range=[low - span * 0.1, high + span * (0.2 + 0.1 * channels)], row=1, col=1)
    fig.update_yaxes(title_text="x", row=1, col=1)
    fig.update_xaxes(range=[-0.5, length - 0.5])
    fig.update_xaxes(**time_ticks(labels, 0, length), row=1 + channels, col=1)
    fig.update_layout(legend=dict(orientation="h", y=1.08, x=1, xanchor="right"))
    return _finish(fig, 240 + 130 * channels, t("k-max pooling over time"))


def _kept_band(fig, kept_c, windows, level: float, span: float, colour: str, name: str) -> None:
    """Draw one channel's kept windows as a thin band at level above the input, in row 1."""
    for p in kept_c:
        a, b = windows[p]
        fig.add_shape(
            type="rect",
            x0=a - 0.5,
            x1=b + 0.5,
            y0=level - span * 0.04,
            y1=level + span * 0.04,
            fillcolor=colour,
            opacity=0.55,
            line_width=0,
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=kept_c,
            y=[level] * len(kept_c),
            mode="markers",
            name=name,
            marker=dict(color=colour, size=7, symbol="diamond"),
            hovertemplate=t("{name} kept t {x}", name=name, x="%{x}") + "<extra></extra>",
        ),
        row=1,
        col=1,
    )


def _channel_row(fig, steps, values, kept_c, colour: str, name: str, row: int) -> None:
    """Draw one channel's map over time in row, its kept values ringed and labelled."""
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=values,
            mode="lines",
            fill="tozeroy",
            showlegend=False,
            line=dict(color=colour, width=1.4),
            hovertemplate=f"{name}, t %{{x}}: %{{y:.3f}}<extra></extra>",
        ),
        row=row,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=kept_c,
            y=values[kept_c],
            mode="markers+text",
            showlegend=False,
            text=[f"{v:.2f}" for v in values[kept_c]],
            textposition="top center",
            textfont=dict(size=10),
            cliponaxis=False,
            marker=dict(symbol="circle-open", size=11, color=KEPT, line=dict(width=2.5)),
            hovertemplate=t("kept: t %{x}, value %{y:.3f}<extra></extra>"),
        ),
        row=row,
        col=1,
    )
    top = float(np.max(values)) or 1.0
    fig.update_yaxes(range=[0, top * 1.35], nticks=3, row=row, col=1)


def final_vectors(
    cnn_final: np.ndarray,
    cnn_labels: Sequence[str],
    cnn_channel: Sequence[int],
    rnn_final: np.ndarray,
) -> go.Figure:
    """Return the CNN's and the RNN's final vectors as bars side by side."""
    n_cnn, n_rnn = len(cnn_final), len(rnn_final)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[max(n_cnn, 3), max(n_rnn, 3)],
        horizontal_spacing=0.08,
        subplot_titles=[
            t("CNN: the k-max values ({n} numbers)", n=n_cnn),
            t("RNN: the last state h_T ({n})", n=n_rnn),
        ],
    )
    fig.add_trace(
        go.Bar(
            x=list(cnn_labels),
            y=cnn_final,
            showlegend=False,
            marker_color=[CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)] for c in cnn_channel],
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=[t("unit {u}", u=u) for u in range(n_rnn)],
            y=rnn_final,
            showlegend=False,
            marker_color=[UNIT_COLOURS[u % len(UNIT_COLOURS)] for u in range(n_rnn)],
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(type="category", tickangle=-45, tickfont=dict(size=10))
    fig.update_yaxes(title_text=t("value"), row=1, col=1)
    fig.update_yaxes(range=[-1.05, 1.05], row=1, col=2)
    return _finish(fig, 340, t("The final representations, side by side"))


def order_sensitivity(
    positions: np.ndarray,
    cnn_change: np.ndarray,
    rnn_change: np.ndarray,
    length: int,
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Return how far each final vector moves per swapped pair, CNN above, RNN below."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            t("CNN: ‖change of the k-max vector‖"),
            t("RNN: ‖change of the last state h_T‖"),
        ],
    )
    for row, change, colour in ((1, cnn_change, CHANNEL_COLOURS[0]), (2, rnn_change, "#2563eb")):
        fig.add_trace(
            go.Scatter(
                x=positions,
                y=change,
                mode="markers+lines",
                showlegend=False,
                line=dict(color=colour, width=1),
                marker=dict(size=6, color=colour),
                hovertemplate=t("swap t %{x} ↔ t %{x}+1: ‖Δ‖ = %{y:.4f}<extra></extra>"),
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="‖Δ‖", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(range=[-0.5, length - 0.5])
    ticks = time_ticks(labels, 0, length)
    ticks["title_text"] = (
        t("swapped pair: positions s and s + 1")
        if labels is None
        else t("swapped pair: positions s and s + 1 (character at s)")
    )
    fig.update_xaxes(**ticks, row=2, col=1)
    return _finish(fig, 420, t("What swapping two neighbours changes"))
