"""Figures of recurrent dynamics: the unrolled graph with its numbers, both directions of a
bidirectional RNN, gradient norms through time and memory-task accuracy. Data in, figures out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures import DIVERGING, finish_layout
from ui.i18n import t

FORWARD, BACKWARD, INPUT = "#2563eb", "#dc2626", "#334155"
U_COLOR, W_COLOR = "#16a34a", "#9333ea"
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#f59e0b", "#64748b", "#0891b2")


LEGEND_ROW = 20  # px per extra legend row: a legend that wraps must not run into the title


def _legend_on_top(
    fig: go.Figure, title: str | None, height: int, legend_rows: int = 1
) -> go.Figure:
    """Return fig finished with its legend (legend_rows rows) between the title and the plot."""
    finish_layout(fig, height, title)
    fig.update_layout(
        margin=dict(t=(95 if title else 50) + LEGEND_ROW * (legend_rows - 1)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, xanchor="left"),
    )
    if title:
        fig.update_layout(title=dict(y=0.98, yanchor="top", yref="container"))
    return fig


def latex_matrix(m: np.ndarray, fmt: str = ".2f") -> str:
    """Return a (R, C) or (R,) array as a LaTeX bmatrix (a vector is drawn as a column)."""
    m = np.asarray(m, dtype=np.float64)
    rows = m.reshape(-1, 1) if m.ndim == 1 else m
    body = r" \\ ".join(" & ".join(_fmt(v, fmt) for v in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def _fmt(v: float, fmt: str = ".2f") -> str:
    text = format(float(v), fmt)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


GAP = 0.42  # vertical distance between the cells of one state in the unrolled graph
BASE = 1.6  # y of the lowest cell of a state column (inputs sit at y = 0)


def unrolled_values(
    labels: Sequence[str],
    hidden: np.ndarray,
    *,
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Return the unrolled graph: input x_t under each step, h_t as a column of numbered cells,
    one U arrow from x_t to h_t and one W arrow from h_(t−1) to h_t (the same W, U each step)."""
    steps, units = hidden.shape
    top = BASE + GAP * (units - 1)
    fig = go.Figure([_state_cells(hidden, top), _input_cells(labels)])
    for step in range(steps):
        _add_step_annotations(fig, step, top)
        if step > 0:
            _add_w_arrow(fig, step, (BASE + top) / 2)
    fig.update_xaxes(visible=False, range=[-0.6, steps - 0.4])
    fig.update_yaxes(visible=False, range=[-0.9, top + GAP * 1.4])
    return finish_layout(fig, height, title or t("One layer, unrolled over your sequence"))


def _state_cells(hidden: np.ndarray, top: float) -> go.Scatter:
    """Return every h_t as a column of square cells with its value written in, coloured by sign."""
    steps, units = hidden.shape
    bound = float(np.nanmax(np.abs(hidden))) if hidden.size else 1.0
    cells = [(t, k) for t in range(steps) for k in range(units)]
    return go.Scatter(
        x=[t for t, _ in cells],
        y=[top - GAP * k for _, k in cells],  # unit 1 on top, as the column vectors are written
        mode="markers+text",
        text=[_fmt(hidden[t, k]) for t, k in cells],
        textfont=dict(size=11, color="black"),
        marker=dict(
            symbol="square",
            size=40,
            color=[float(hidden[t, k]) for t, k in cells],
            colorscale=DIVERGING,
            cmin=-(bound or 1.0),
            cmax=bound or 1.0,
            line=dict(color="#94a3b8", width=1),
        ),
        customdata=[[t + 1, k + 1] for t, k in cells],
        hovertemplate=t("h%{customdata[0]} unit %{customdata[1]}: %{text}<extra></extra>"),
        showlegend=False,
    )


def _input_cells(labels: Sequence[str]) -> go.Scatter:
    """Return the inputs x_t as a row of dark cells along y = 0."""
    return go.Scatter(
        x=list(range(len(labels))),
        y=[0.0] * len(labels),
        mode="markers+text",
        text=[str(s) for s in labels],
        textfont=dict(size=13, color="white"),
        marker=dict(symbol="square", size=40, color=INPUT),
        hovertemplate="x%{x}: %{text}<extra></extra>",
        showlegend=False,
    )


def _arrow(
    fig: go.Figure, tail: tuple[float, float], head: tuple[float, float], color: str
) -> None:
    """Add an arrow in data coordinates from tail to head."""
    fig.add_annotation(
        x=head[0],
        y=head[1],
        ax=tail[0],
        ay=tail[1],
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=2,
        arrowwidth=2,
        arrowcolor=color,
    )


def _add_step_annotations(fig: go.Figure, t: int, top: float) -> None:
    """Add step t's U arrow (x_t → h_t) and its labels h_t, x_t."""
    _arrow(fig, (t, 0.45), (t, BASE - GAP * 0.7), U_COLOR)
    fig.add_annotation(
        x=t + 0.12, y=0.8, text="<b>U</b>", showarrow=False, font=dict(color=U_COLOR)
    )
    fig.add_annotation(
        x=t, y=top + GAP * 0.9, text=f"h<sub>{t + 1}</sub>", showarrow=False, font=dict(size=13)
    )
    fig.add_annotation(
        x=t, y=-0.6, text=f"x<sub>{t + 1}</sub>", showarrow=False, font=dict(size=13)
    )


def _add_w_arrow(fig: go.Figure, t: int, mid: float) -> None:
    """Add the W arrow from h_(t−1) to h_t, at height mid."""
    _arrow(fig, (t - 0.7, mid), (t - 0.3, mid), W_COLOR)
    fig.add_annotation(
        x=t - 0.5, y=mid + 0.22, text="<b>W</b>", showarrow=False, font=dict(color=W_COLOR)
    )


def bidirectional_states(
    labels: Sequence[str],
    forward: np.ndarray,
    backward: np.ndarray,
    *,
    changed: np.ndarray | None = None,
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Return the concatenated states [h→_t ; h←_t] as a (2H, T) grid with numbers written in;
    `changed` (2H, T) bool outlines the cells that moved after a perturbation."""
    units = forward.shape[1]
    grid = np.concatenate([forward.T, backward.T])  # (2H, T)
    bound = float(np.nanmax(np.abs(grid))) or 1.0
    rows = [t("→ unit {k}", k=k + 1) for k in range(units)]
    rows += [t("← unit {k}", k=k + 1) for k in range(units)]
    cols = [f"{t + 1}: {s}" for t, s in enumerate(labels)]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=cols,
            y=rows,
            text=[[_fmt(v) for v in row] for row in grid],
            texttemplate="%{text}",
            textfont=dict(size=11),
            colorscale=DIVERGING,
            zmin=-bound,
            zmax=bound,
            xgap=1,
            ygap=1,
            showscale=False,
            hovertemplate=t("%{y}, step %{x}: %{text}<extra></extra>"),
        )
    )
    fig.add_hline(y=units - 0.5, line=dict(color="black", width=3))
    if changed is not None:
        for r, c in zip(*np.nonzero(changed), strict=True):
            fig.add_shape(
                type="rect",
                x0=c - 0.5,
                x1=c + 0.5,
                y0=r - 0.5,
                y1=r + 0.5,
                line=dict(color="#f59e0b", width=3),
            )
    fig.update_yaxes(autorange="reversed", tickfont=dict(color="#334155"))
    fig.update_xaxes(type="category")
    return finish_layout(fig, height, title)


def change_bars(
    labels: Sequence[str],
    forward: np.ndarray,
    backward: np.ndarray,
    position: int,
    *,
    title: str | None = None,
    height: int = 300,
) -> go.Figure:
    """Return ||Δh_t|| per step for both directions as grouped bars, the perturbed step marked."""
    cols = [f"{t + 1}: {s}" for t, s in enumerate(labels)]
    fig = go.Figure()
    for name, values, color in (
        (t("forward →"), forward, FORWARD),
        (t("backward ←"), backward, BACKWARD),
    ):
        fig.add_trace(
            go.Bar(
                x=cols,
                y=values,
                name=name,
                marker_color=color,
                hovertemplate=t("{name} step %{{x}}: %{{y:.3g}}<extra></extra>", name=name),
            )
        )
    fig.add_vrect(
        x0=position - 0.5, x1=position + 0.5, fillcolor="#f59e0b", opacity=0.2, line_width=0
    )
    fig.update_xaxes(type="category")
    fig.update_layout(barmode="group", yaxis_title="‖Δh_t‖")
    return _legend_on_top(fig, title, height)


def gradient_curves(
    series: dict[str, np.ndarray],
    *,
    dashed: Sequence[str] = (),
    title: str | None = None,
    y_title: str = "‖∂L/∂h_t‖",
    height: int = 360,
    legend_rows: int = 1,
) -> go.Figure:
    """Return gradient norms against step t (log y); inf/nan and non-positive values are gaps.

    legend_rows: how many rows the legend wraps into where the figure is narrow (a half column).
    """
    fig = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        v = np.asarray(values, dtype=np.float64)
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        fig.add_trace(
            go.Scatter(
                x=np.arange(v.size),
                y=v,
                name=name,
                mode="lines",
                line=dict(
                    dash="dash" if name in dashed else "solid",
                    width=2.5,
                    color=PALETTE[i % len(PALETTE)],
                ),
                hovertemplate=name + "<br>t = %{x}: %{y:.3g}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis_title=t("step t (the loss reads the last step)"),
        yaxis_title=y_title,
        yaxis_type="log",
        yaxis_exponentformat="power",
    )
    return _legend_on_top(fig, title, height, legend_rows)


def memory_accuracy(
    delays: Sequence[int],
    curves: dict[str, np.ndarray],
    chance: float,
    *,
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Return test accuracy against the delay D per network, with the chance level dotted."""
    fig = go.Figure()
    for i, (name, acc) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=list(delays),
                line=dict(color=PALETTE[i % len(PALETTE)], width=2.5),
                y=np.asarray(acc) * 100,
                name=name,
                mode="lines+markers",
                hovertemplate=name + " D = %{x}: %{y:.0f}%<extra></extra>",
            )
        )
    fig.add_hline(
        y=chance * 100,
        line=dict(dash="dot", color="gray"),
        annotation_text=t("chance {share}", share=f"{chance:.0%}"),
        annotation_position="bottom right",
    )
    fig.update_layout(
        xaxis_title=t("delay D (distractor steps between the symbol and the question)"),
        yaxis_title=t("test accuracy (%)"),
        yaxis_range=[0, 105],
    )
    return _legend_on_top(fig, title, height)
