"""Figures of the "Teach it your classes" page: example mosaics, fit curves, confusion, votes.

Data in, a picture or a `go.Figure` out; every number drawn comes from engine.cnn.custom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import finish_layout, name_figure
from ui.i18n import t

MOSAIC_COLUMNS = 10  # thumbnails per row of a class's mosaic
GAP = 2  # white pixels between thumbnails
RUN_COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#111827"]


def mosaic(images: Sequence[np.ndarray], columns: int = MOSAIC_COLUMNS) -> np.ndarray:
    """Return the (S, S, 3) uint8 images tiled in reading order on white, GAP px apart."""
    side = images[0].shape[0]
    cols = min(columns, len(images))
    rows = -(-len(images) // cols)
    step = side + GAP
    out = np.full((rows * step - GAP, cols * step - GAP, 3), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        out[r * step : r * step + side, c * step : c * step + side] = image
    return out


def fit_curves(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    *,
    chance: float,
    total_steps: int,
    height: int = 340,
) -> go.Figure:
    """Return each run's loss (left) and accuracy on its held-out examples (right) by step.

    runs: (name, steps, loss, held-out accuracy) per training run, in the order they ran.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(t("Cross-entropy loss (training batches)"), t("Held-out accuracy")),
        horizontal_spacing=0.1,
    )
    for i, (name, steps, loss, acc) in enumerate(runs):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        line = dict(color=colour)
        fig.add_trace(_curve(steps, loss, name, line, legend=True), row=1, col=1)
        if np.isfinite(acc).any():  # the final model has no held-out examples
            fig.add_trace(_curve(steps, acc, name, line, legend=False), row=1, col=2)
    fig.add_trace(_chance(chance, total_steps), row=1, col=2)
    fig.update_xaxes(title_text=t("training step"), range=[0, total_steps * 1.02])
    fig.update_yaxes(title_text=t("loss"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(
        title_text=t("fraction right"), range=[0, 1.02], tickformat=".0%", row=1, col=2
    )
    fig.update_annotations(font_size=13)
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=40))
    return name_figure(fig, t("Loss and held-out accuracy while training"))


def _curve(x, y, name: str, line: dict, *, legend: bool) -> go.Scatter:
    """Return one run's curve, lines with small markers."""
    return go.Scatter(
        x=x,
        y=y,
        name=name,
        legendgroup=name,
        showlegend=legend,
        mode="lines+markers",
        marker=dict(size=5),
        line=line,
    )


def _chance(chance: float, total_steps: int) -> go.Scatter:
    """Return the dotted line at a uniform guesser's accuracy 1/K."""
    return go.Scatter(
        x=[0, total_steps],
        y=[chance, chance],
        name=t("chance (1/{k})", k=round(1 / chance)),
        mode="lines",
        line=dict(color="gray", dash="dot"),
    )


def confusion(counts: np.ndarray, names: Sequence[str], height: int = 360) -> go.Figure:
    """Return the (K, K) confusion counts as a heatmap: rows true class, columns predicted."""
    labels = list(names)
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=labels,
            y=labels,
            text=counts,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate=t("true %{y}, predicted %{x}: %{z}") + "<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=t("predicted class"), type="category", side="top")
    fig.update_yaxes(title_text=t("true class"), type="category", autorange="reversed")
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=60))
    return name_figure(fig, t("Confusion matrix"))


def probabilities(probs: np.ndarray, names: Sequence[str], height: int = 300) -> go.Figure:
    """Return the class probabilities as bars labelled with their percentages."""
    fig = go.Figure(
        go.Bar(
            x=list(names),
            y=list(probs),
            text=[f"{p:.1%}" for p in probs],
            textposition="outside",
            marker_color="#2563eb",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=t("class probability"), range=[0, 1.15], tickformat=".0%")
    return finish_layout(fig, height, t("Class probabilities"))
