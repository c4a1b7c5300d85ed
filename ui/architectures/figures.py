"""Figures of the architectures page: field growth per layer, gradient profiles, loss curves, data.

Data in, `go.Figure` out; nothing here computes the science.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures import finish_layout
from ui.i18n import t

LEGEND = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0)  # under the title
CLASS_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2")


def rf_growth(
    names: Sequence[str],
    sizes: Sequence[float],
    jumps: Sequence[float],
    input_size: int,
    *,
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Return receptive field r and jump j per layer index (log y), the input side as a line."""
    x = np.arange(len(names))
    fig = go.Figure()
    lines = ((t("receptive field r"), sizes, "#2563eb"), (t("jump j"), jumps, "#f59e0b"))
    for label, y, colour in lines:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=list(y),
                name=label,
                mode="lines+markers",
                marker=dict(size=4, color=colour),
                line=dict(color=colour),
                customdata=list(names),
                hovertemplate="%{customdata}<br>" + label + " = %{y}<extra></extra>",
            )
        )
    fig.add_trace(  # a trace, not add_hline: shapes on a log axis take log10 coordinates
        go.Scatter(
            x=[x[0] if len(x) else 0, x[-1] if len(x) else 1],
            y=[input_size, input_size],
            name=t("input side ({size} px)", size=input_size),
            mode="lines",
            line=dict(color="#64748b", dash="dash"),
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis_title=t("spatial layer (conv or pool), in forward order"),
        yaxis_title=t("input pixels (log)"),
        yaxis=dict(type="log", dtick=1),  # one label per power of ten
        legend=LEGEND,
    )
    return _room_for_legend(finish_layout(fig, height, title))


def _room_for_legend(fig: go.Figure) -> go.Figure:
    """Return fig with its top margin grown so a one-row legend fits between title and plot."""
    fig.update_layout(margin=dict(t=72))
    return fig


def gradient_profile(
    series: dict[str, np.ndarray],
    *,
    title: str | None = None,
    height: int = 340,
    shown: Callable[[str], str] = str,
) -> go.Figure:
    """Return ‖∂loss/∂W‖ per weight layer (1 = first) for several stacks, log y.

    Stacks named "plain-…" are dotted; shown(name) is the name the legend and hover show.
    """
    fig = go.Figure()
    for i, (name, norms) in enumerate(series.items()):
        dashed = name.startswith("plain")
        hover = t("{name}, layer %{{x}}<br>‖grad‖ = %{{y:.3g}}", name=shown(name))
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(norms) + 1),
                y=np.asarray(norms),
                name=shown(name),
                mode="lines+markers",
                marker=dict(size=4),
                line=dict(dash="dot" if dashed else "solid", color=CLASS_COLOURS[i % 6]),
                hovertemplate=hover + "<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis_title=t("weight layer (1 = next to the input)"),
        yaxis_title=t("gradient norm (log)"),
        yaxis_type="log",
        legend=LEGEND,
    )
    return _room_for_legend(finish_layout(fig, height, title))


def loss_curves(
    series: dict[str, np.ndarray],
    chance: float,
    *,
    title: str | None = None,
    height: int = 360,
    shown: Callable[[str], str] = str,
) -> go.Figure:
    """Return loss per training step for several runs, with the chance level as a dashed line.

    Runs named "plain-…" are dotted; shown(name) is the name the legend and hover show.
    """
    fig = go.Figure()
    for i, (name, loss) in enumerate(series.items()):
        hover = t("{name}, step %{{x}}<br>loss %{{y:.3f}}", name=shown(name))
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(loss) + 1),
                y=np.asarray(loss),
                name=shown(name),
                mode="lines",
                line=dict(
                    dash="dot" if name.startswith("plain") else "solid", color=CLASS_COLOURS[i % 6]
                ),
                hovertemplate=hover + "<extra></extra>",
            )
        )
    fig.add_hline(
        y=chance,
        line=dict(color="#64748b", dash="dash"),
        annotation_text=t("chance (ln 4 = {chance:.2f})", chance=chance),
        annotation_position="top right",
    )
    fig.update_layout(
        xaxis_title=t("training step"),
        yaxis_title=t("training loss (cross-entropy)"),
        legend=LEGEND,
    )
    return _room_for_legend(finish_layout(fig, height, title))


def points_by_class(
    xy: np.ndarray, labels: np.ndarray, *, title: str | None = None, height: int = 360
) -> go.Figure:
    """Return 2-D points (N, 2) coloured by their integer class (N,), on square axes."""
    fig = go.Figure()
    for c in np.unique(labels):
        pts = xy[labels == c]
        fig.add_trace(
            go.Scatter(
                x=pts[:, 0],
                y=pts[:, 1],
                mode="markers",
                name=t("class {label}", label=int(c)),
                marker=dict(size=4, color=CLASS_COLOURS[int(c) % 6]),
                hoverinfo="skip",
            )
        )
    fig.update_yaxes(scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_layout(showlegend=False)
    return finish_layout(fig, height, title)
