"""Figures for the differentiable-programming page: the recorded dataflow graph and the h sweep.

The graph is drawn as boxes (layout shapes in data coordinates, so arrows can end on their edges)
with the numbers written inside, arrows as annotations, and an invisible marker per box for hover.
Nothing is computed here but positions and formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from engine.autodiff import DataflowGraph
from engine.core import N_
from ui.figures import LEGEND_BELOW, finish_layout
from ui.i18n import t

FILL = {"parameter": "#dcfce7", "input": "#f1f5f9", "op": "#dbeafe"}
LINE = {"parameter": "#16a34a", "input": "#94a3b8", "op": "#2563eb"}
KIND_NAME = {
    "parameter": N_("parameter (leaf: AccumulateGrad)"),
    "input": N_("data (autograd does not record it)"),
    "op": N_("operation (its grad_fn)"),
}
CURRENT = "#f59e0b"  # the step being looked at
GRAD = "#dc2626"  # gradients, flowing backwards
EDGE, DATA_EDGE = "#64748b", "#cbd5e1"
HALF_W, HALF_H = 0.45, 0.4  # box half-sizes in data units (one column, one row apart)


@dataclass(frozen=True)
class GraphView:
    """What the drawing shows at one step: known values, known gradients, the current node."""

    values: frozenset[str]  # ids whose forward value has been computed
    grads: frozenset[str]  # ids whose gradient ∂L/∂· has been computed
    current: str | None = None
    backward: bool = False  # highlight the gradient edge into `current` instead of its inputs
    via: str | None = None  # backward: the op whose gradient flows into `current`


def number(v: float, digits: int = 3) -> str:
    """Return v with a few significant digits and a typographic minus."""
    return f"{v + 0.0:.{digits}g}".replace("-", "−")  # + 0.0: no −0


def power(v: float, digits: int = 0) -> str:
    """Return v in scientific notation as people write it: 3×10⁻⁶, 10⁻⁵, 5.3×10⁻¹³, 0."""
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    mantissa, exponent = f"{v:.{digits}e}".split("e")
    sup = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"10{sup}" if float(mantissa) == 1 else f"{mantissa}×10{sup}"


def _numbers(values: Sequence[float], per_line: int = 2) -> str:
    parts = [number(v) for v in values]
    lines = [", ".join(parts[i : i + per_line]) for i in range(0, len(parts), per_line)]
    return "<br>".join(lines)


def graph_positions(graph: DataflowGraph) -> dict[str, tuple[float, float]]:
    """Return (column, row) per node: ops left to right by depth, parameters above, data below."""
    inputs: dict[str, list[str]] = {}
    for edge in graph.edges:
        inputs.setdefault(edge.target, []).append(edge.source)
    kind = {n.id: n.kind for n in graph.nodes}
    column: dict[str, float] = {}
    for node in graph.nodes:  # ops come in forward order, after every source
        if node.kind == "op":
            column[node.id] = 1 + max(
                (column[i] for i in inputs[node.id] if kind[i] == "op"), default=0
            )
    pos = {k: (c, 0.0) for k, c in column.items()}
    for edge in graph.edges:
        if kind[edge.source] != "op":
            row = 1.0 if kind[edge.source] == "parameter" else -1.0
            pos[edge.source] = (column[edge.target] - 1, row)
    return pos


def _clip(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Return the point where the segment from box centre a towards b leaves box a."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    scale = min(HALF_W / abs(dx) if dx else np.inf, HALF_H / abs(dy) if dy else np.inf)
    return a[0] + dx * scale, a[1] + dy * scale


def _arrow(fig: go.Figure, start, end, colour: str, width: float) -> None:
    tail, head = _clip(start, end), _clip(end, start)
    fig.add_annotation(
        x=head[0],
        y=head[1],
        ax=tail[0],
        ay=tail[1],
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        text="",
        showarrow=True,
        arrowhead=2,
        arrowsize=1.1,
        arrowwidth=width,
        arrowcolor=colour,
    )


def dataflow_figure(
    graph: DataflowGraph, view: GraphView, *, title: str | None = None
) -> go.Figure:
    """Return the recorded graph as labelled boxes and arrows, numbers filled in up to `view`,
    under title (by default the section's: the graph PyTorch recorded)."""
    pos = graph_positions(graph)
    fig = go.Figure()
    _draw_edges(fig, graph, view, pos)
    hover = [_draw_node(fig, n, view, pos[n.id]) for n in graph.nodes]
    fig.add_trace(
        go.Scatter(
            x=[pos[n.id][0] for n in graph.nodes],
            y=[pos[n.id][1] for n in graph.nodes],
            mode="markers",
            marker=dict(size=70, symbol="square", opacity=0),
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    _add_legend(fig)
    columns = max(p[0] for p in pos.values())
    fig.update_xaxes(visible=False, range=[-0.5, columns + 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-1.5, 1.5], fixedrange=True)
    fig.update_layout(
        legend=LEGEND_BELOW,
        dragmode=False,
        hoverlabel=dict(align="left"),
    )
    title = title or t("The graph PyTorch recorded, step by step")
    return finish_layout(fig, _graph_height(graph), title)


def _graph_height(graph: DataflowGraph) -> int:
    """Return the figure height (px) that fits the tallest box's lines in three rows."""
    examples = max(len(n.value) for n in graph.nodes)
    lines = 3 + 2 * -(-examples // 2)  # label, grad_fn, "∂L/∂· =", values and gradients
    return int(3 * (15 * lines + 14) / (2 * HALF_H)) + 60  # three rows of boxes + legend


def _draw_edges(fig: go.Figure, graph: DataflowGraph, view: GraphView, pos) -> None:
    """Draw every edge, highlighting the one(s) the current step uses."""
    for edge in graph.edges:
        start, end = pos[edge.source], pos[edge.target]
        if view.backward and edge.source == view.current and edge.target == view.via:
            _arrow(fig, end, start, GRAD, 3.5)  # the gradient arrives from the consumer
        elif not view.backward and edge.target == view.current:
            _arrow(fig, start, end, CURRENT, 3.0)
        else:
            _arrow(fig, start, end, EDGE if edge.from_autograd else DATA_EDGE, 1.5)


def _draw_node(fig: go.Figure, n, view: GraphView, centre: tuple[float, float]) -> str:
    """Draw node n's box and its text; return its hover text."""
    cx, cy = centre
    current = n.id == view.current
    fig.add_shape(
        type="rect",
        x0=cx - HALF_W,
        x1=cx + HALF_W,
        y0=cy - HALF_H,
        y1=cy + HALF_H,
        fillcolor="#fef3c7" if current else FILL[n.kind],
        line=dict(color=CURRENT if current else LINE[n.kind], width=3.5 if current else 1.2),
        layer="below",
    )
    fig.add_annotation(
        x=cx,
        y=cy,
        text=_node_text(n, view),
        showarrow=False,
        align="center",
        font=dict(size=11, color="#0f172a"),
    )
    return _node_hover(n, view)


def _node_text(n, view: GraphView) -> str:
    """Return the box's label, grad_fn, value and (once known) gradient as HTML lines."""
    op = n.op if n.kind != "input" else t("data, no grad_fn")
    text = [f"<b>{n.label}</b>", f"<span style='font-size:10px;color:#475569'>{op}</span>"]
    text.append(_numbers(n.value) if n.id in view.values else "?")
    if n.grad is not None and n.id in view.grads:
        grad = _numbers(n.grad).replace("<br>", f"</span><br><span style='color:{GRAD}'>")
        text.append(f"<span style='color:{GRAD}'>∂L/∂{n.id} =</span>")
        text.append(f"<span style='color:{GRAD}'>{grad}</span>")
    return "<br>".join(text)


def _node_hover(n, view: GraphView) -> str:
    """Return the hover text: label, op, full-precision value and gradient."""
    full = ", ".join(f"{v:.10g}" for v in n.value) if n.id in view.values else t("not yet")
    grad = (
        t("needs none (data)")
        if n.grad is None
        else ", ".join(f"{v:.10g}" for v in n.grad)
        if n.id in view.grads
        else t("not yet")
    )
    return t(
        "<b>{label}</b> · {op}<br>value: {value}<br>∂L/∂{id}: {grad}",
        label=n.label,
        op=n.op,
        value=full,
        id=n.id,
        grad=grad,
    )


def _legend_entry(name: str, mode: str, **style) -> go.Scatter:
    """Return an empty trace that only shows up in the legend."""
    return go.Scatter(x=[None], y=[None], mode=mode, name=name, **style)


def _add_legend(fig: go.Figure) -> None:
    """Add legend entries for the node kinds, the current step and the gradient arrows."""
    for kind, name in KIND_NAME.items():
        line = dict(color=LINE[kind], width=1.5)
        marker = dict(symbol="square", size=13, color=FILL[kind], line=line)
        fig.add_trace(_legend_entry(t(name), "markers", marker=marker))
    line = dict(color=CURRENT, width=2.5)
    marker = dict(symbol="square", size=13, color="#fef3c7", line=line)
    fig.add_trace(_legend_entry(t("this step"), "markers", marker=marker))
    fig.add_trace(
        _legend_entry(t("gradient flowing back"), "lines", line=dict(color=GRAD, width=3))
    )


def error_vs_step(
    h: np.ndarray,
    error: np.ndarray,
    guides: dict[str, np.ndarray],
    best: tuple[float, float],
    *,
    height: int = 380,
    title: str | None = None,
) -> go.Figure:
    """Return |central difference − autodiff| over step size h on log-log axes, with guides."""
    fig = go.Figure(
        go.Scatter(
            x=h,
            y=error,
            mode="lines+markers",
            name=t("measured error"),
            line=dict(color="#2563eb"),
            hovertemplate=t("h = %{x:.1e}<br>error = %{y:.2e}<extra></extra>"),
        )
    )
    for (name, values), colour in zip(guides.items(), ("#16a34a", "#9333ea"), strict=False):
        fig.add_trace(
            go.Scatter(
                x=h,
                y=values,
                mode="lines",
                name=name,
                line=dict(color=colour, dash="dash"),
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[best[0]],
            y=[best[1]],
            mode="markers",
            name=t("smallest error (h = {h})", h=power(best[0])),
            marker=dict(symbol="star", size=15, color=CURRENT, line=dict(color="#92400e", width=1)),
            hovertemplate=t("h = %{x:.1e}<br>error = %{y:.2e}<extra></extra>"),
        )
    )
    low, high = float(np.min(error)), float(np.max(error))
    fig.update_xaxes(
        type="log",
        title=t("step size h (log scale, shrinking to the right)"),
        exponentformat="power",
        autorange="reversed",
    )
    fig.update_yaxes(
        type="log",
        title=t("|central difference − autodiff| (log)"),
        exponentformat="power",
        range=[np.log10(low) - 0.5, np.log10(high) + 0.5],
    )
    finish_layout(fig, height, title)
    fig.update_layout(legend=dict(orientation="h", y=-0.2, yanchor="top", x=0), margin=dict(b=60))
    return fig
