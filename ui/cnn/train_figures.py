"""Figures of the training page: curves, first-layer filters, ablation bars and shift curves.

Data in, `go.Figure` out. Filters are tiled into one RGB picture per snapshot (each weight
enlarged to a block of pixels, nearest neighbour) so a browser draws one image, not 64 heatmaps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.core import N_
from ui.figures import finish_layout, name_figure
from ui.i18n import t

SHIFT_NAMES = {"circular": N_("circular shift"), "edge": N_("edge shift")}  # the shift modes

COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")
GAP = 255  # white between tiles


def tile_filters(images: np.ndarray, cols: int | None = None, px: int = 48) -> np.ndarray:
    """Return (H, W, 3) uint8: filters (F, k, k, 3) in [0, 1], each enlarged to ~px, in a grid."""
    images = np.asarray(images, dtype=np.float32)
    n, k = images.shape[0], images.shape[1]
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    scale = max(1, px // k)
    side, gap = k * scale, max(2, scale // 4)
    out = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap, 3), GAP, np.uint8)
    big = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)  # (F, side, side, 3)
    big = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[
            r * (side + gap) : r * (side + gap) + side, c * (side + gap) : c * (side + gap) + side
        ] = big[i]
    return out


def _image_trace(rgb: np.ndarray, name: str) -> go.Image:
    return go.Image(z=rgb, hoverinfo="skip", name=name)


def _bare_axes(fig: go.Figure) -> None:
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, scaleanchor=None)


def filter_grid(images: np.ndarray, title: str, height: int = 320) -> go.Figure:
    """Return the filters (F, k, k, 3) in [0, 1] as one tiled RGB picture."""
    fig = go.Figure(_image_trace(tile_filters(images, px=64), title))
    _bare_axes(fig)
    return finish_layout(fig, height, title)


def image_row(
    images: Sequence[np.ndarray], titles: Sequence[str], height: int = 190, title: str | None = None
) -> go.Figure:
    """Return RGB pictures (H, W, 3) uint8 side by side, each with its title."""
    fig = make_subplots(
        rows=1, cols=len(images), subplot_titles=list(titles), horizontal_spacing=0.015
    )
    for i, rgb in enumerate(images):
        fig.add_trace(_image_trace(rgb, titles[i]), row=1, col=i + 1)
    _bare_axes(fig)
    fig.update_annotations(font_size=11)
    title = title or t("One example of each class")
    finish_layout(fig, height, title)
    fig.update_layout(margin=dict(l=5, r=5, t=60, b=5))
    return fig


def filter_evolution(
    frames: Sequence[np.ndarray], steps: Sequence[int], max_filters: int = 16, px: int = 36
) -> go.Figure:
    """Return snapshots (F, k, k, 3) in [0, 1] as a grid: one row per step, one column per filter.

    Reading down a column follows one filter through training; only the first max_filters show.
    """
    n = min(max_filters, frames[0].shape[0])
    rows = [tile_filters(f[:n], cols=n, px=px) for f in frames]
    k = frames[0].shape[1]
    side, gap = k * max(1, px // k), max(2, max(1, px // k) // 4)
    picture = np.full((len(rows) * (side + gap) - gap, rows[0].shape[1], 3), GAP, np.uint8)
    for i, row in enumerate(rows):
        picture[i * (side + gap) : i * (side + gap) + side] = row
    fig = go.Figure(_image_trace(picture, t("filters")))
    fig.update_xaxes(
        tickvals=[j * (side + gap) + side / 2 for j in range(n)],
        ticktext=[str(j + 1) for j in range(n)],
        title_text=t("filter"),
        side="top",
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(
        tickvals=[i * (side + gap) + side / 2 for i in range(len(rows))],
        ticktext=[t("step {step}", step=f"{at:,}") for at in steps],
        showgrid=False,
        zeroline=False,
    )
    height = 70 + len(rows) * (side + gap) * 640 / max(640, picture.shape[1])
    finish_layout(fig, int(max(220, height)))
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10))
    return name_figure(fig, t("The filters as training goes on"))


def training_curves(
    steps: np.ndarray,
    loss: np.ndarray,
    train_acc: np.ndarray,
    val_acc: np.ndarray,
    *,
    chance: float,
    total_steps: int,
    height: int = 340,
) -> go.Figure:
    """Return loss (left) and training/validation accuracy (right) against the step."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(t("Cross-entropy loss (training batches)"), t("Accuracy")),
        horizontal_spacing=0.1,
    )
    fig.add_trace(_curve(steps, loss, t("training loss"), COLOURS[4]), row=1, col=1)
    fig.add_trace(_curve(steps, train_acc, t("training accuracy"), COLOURS[0]), row=1, col=2)
    fig.add_trace(_curve(steps, val_acc, t("validation accuracy"), COLOURS[2]), row=1, col=2)
    fig.add_trace(_chance_line(chance, total_steps), row=1, col=2)
    fig.update_xaxes(title_text=t("training step"), range=[0, total_steps * 1.02])
    fig.update_yaxes(title_text=t("loss"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(
        title_text=t("fraction right"), range=[0, 1.02], tickformat=".0%", row=1, col=2
    )
    _finish_pair(fig, height, legend_y=-0.25)
    return name_figure(fig, t("Loss and accuracy while training"))


def _curve(x: np.ndarray, y: np.ndarray, name: str, colour: str) -> go.Scatter:
    """Return one training curve, lines with small markers."""
    return go.Scatter(
        x=x, y=y, name=name, mode="lines+markers", marker=dict(size=5), line=dict(color=colour)
    )


def _chance_line(chance: float, total_steps: int) -> go.Scatter:
    """Return the dotted line at a uniform guesser's accuracy, over the whole run."""
    return go.Scatter(
        x=[0, total_steps],
        y=[chance, chance],
        name=t("chance (1/{k})", k=round(1 / chance)),
        mode="lines",
        line=dict(color="gray", dash="dot"),
    )


def _finish_pair(fig: go.Figure, height: int, legend_y: float) -> None:
    """Give a two-panel figure its legend below, title fonts, height and room for the titles."""
    fig.update_annotations(font_size=13)
    fig.update_layout(legend=dict(orientation="h", y=legend_y))
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=40))  # room for the subplot titles


def ablation_bars(
    names: Sequence[str],
    val_acc: Sequence[float],
    robust: Mapping[str, Sequence[float]],
    *,
    shift: int,
    chance: float,
    height: int = 340,
) -> go.Figure:
    """Return validation accuracy (left) and predictions kept at `shift` px per mode (right)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            t("Validation accuracy"),
            t("Predictions unchanged after a {shift}-px shift", shift=shift),
        ),
    )
    fig.add_trace(
        _bars(names, val_acc, t("validation"), COLOURS[0], ".1%", legend=False), row=1, col=1
    )
    fig.add_trace(
        go.Scatter(
            x=list(names),
            y=[chance] * len(names),
            mode="lines",
            name=t("chance"),
            line=dict(color="gray", dash="dot"),
        ),
        row=1,
        col=1,
    )
    for j, (mode, values) in enumerate(robust.items()):
        shown = t(SHIFT_NAMES[mode]) if mode in SHIFT_NAMES else f"{mode} shift"
        fig.add_trace(_bars(names, values, shown, COLOURS[j + 2], ".0%"), row=1, col=2)
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text=t("fraction"))
    fig.update_layout(barmode="group")
    _finish_pair(fig, height, legend_y=-0.2)
    return name_figure(fig, t("Accuracy and shift robustness, variant by variant"))


def _bars(
    names: Sequence[str],
    values: Sequence[float],
    name: str,
    colour: str,
    fmt: str,
    legend: bool | None = None,
) -> go.Bar:
    """Return one bar trace with each value written above its bar."""
    return go.Bar(
        x=list(names),
        y=list(values),
        name=name,
        showlegend=legend,
        marker_color=colour,
        text=[format(v, fmt) for v in values],
        textposition="outside",
    )


def robustness_curves(
    shifts: np.ndarray, curves: Mapping[str, Mapping[str, np.ndarray]], height: int = 340
) -> go.Figure:
    """Return, per shift mode, each variant's fraction of unchanged predictions against shift."""
    modes = list(next(iter(curves.values())))
    fig = make_subplots(
        rows=1,
        cols=len(modes),
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=[t(SHIFT_NAMES[m]) if m in SHIFT_NAMES else f"{m} shift" for m in modes],
    )
    for i, (name, by_mode) in enumerate(curves.items()):
        for j, mode in enumerate(modes):
            fig.add_trace(
                go.Scatter(
                    x=shifts,
                    y=by_mode[mode],
                    name=name,
                    legendgroup=name,
                    showlegend=j == 0,
                    mode="lines+markers",
                    marker=dict(size=5),
                    line=dict(color=COLOURS[i % len(COLOURS)]),
                ),
                row=1,
                col=j + 1,
            )
    fig.update_xaxes(title_text=t("shift (pixels, mean of right, left, down, up)"), dtick=1)
    fig.update_yaxes(title_text=t("predictions unchanged"), tickformat=".0%", row=1, col=1)
    fig.update_annotations(font_size=13)
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=40))  # room for the subplot titles
    return name_figure(fig, t("Predictions unchanged as the shift grows"))
