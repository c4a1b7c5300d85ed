"""Figures of the trained-CNN page: the whole network at a glance, and the attribution maps.

Data in, `go.Figure` out; nothing here computes the science. A layer's maps are drawn as a mosaic:
every channel tiled into one heatmap trace with NaN gaps, so 64 maps cost one trace, not 64
subplots. Layouts are written as plain dicts (plotly's make_subplots and per-axis updates cost
tens of milliseconds per subplot, too slow for a page that reruns on every click). Clickable
figures carry invisible markers whose customdata says what a click picks, because Streamlit
returns no points for clicks on a heatmap itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ui.figures import DIVERGING, name_figure
from ui.grids import SEQUENTIAL, value_scale
from ui.i18n import t

CHART_WIDTH = 940  # px of the main column at a 1400-px window with the sidebar open
MAX_COLUMN_VALUES = 48_000  # numbers sent per overview column; beyond, maps are block-averaged
MAX_FLAT_SHOWN = 4096  # entries of the flattened vector drawn (evenly spaced beyond)
PER_LINE = 16  # overview columns per figure before wrapping to the next line
HIGHLIGHT = "#dc2626"


@dataclass(frozen=True)
class Column:
    """One column of the overview: the input picture, a layer's maps, the vector or the classes."""

    name: str
    kind: str  # "input", "conv", "relu", "pool", "flatten" or "softmax"
    data: np.ndarray  # (S, S, 3) uint8 | (C, H, W) | (F,) | (K,)
    labels: tuple[str, ...] = ()  # class names for "softmax"


# --- layout helpers


def axis_names(i: int) -> tuple[str, str]:
    """Return the (x, y) trace references of cell i (0-based): ("x", "y"), ("x2", "y2"), ..."""
    return ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")


def grid_layout(
    rows: int,
    cols: int,
    *,
    widths: Sequence[float] | None = None,
    titles: Sequence[str] = (),
    hspace: float = 0.015,
    vspace: float = 0.08,
    pictures: bool = True,
) -> dict:
    """Return a layout dict with one axis pair per cell (row-major) and titles above the cells.

    pictures: square pixels, row 0 on top, each picture pinned to the top of its cell.
    """
    widths = list(widths or [1.0] * cols)
    free = 1 - hspace * (cols - 1)
    height = (1 - vspace * (rows - 1)) / rows
    layout: dict = {"annotations": []}
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        x0 = sum(widths[:c]) / sum(widths) * free + c * hspace
        x1 = x0 + widths[c] / sum(widths) * free
        y1 = 1 - r * (height + vspace)
        xa, ya = axis_names(i)
        xkey, ykey = "xaxis" + xa[1:], "yaxis" + ya[1:]
        clip = lambda v: min(1.0, max(0.0, round(v, 9)))  # noqa: E731 - float drift
        layout[xkey] = dict(domain=[clip(x0), clip(x1)], visible=False, anchor=ya)
        layout[ykey] = dict(domain=[clip(y1 - height), clip(y1)], visible=False, anchor=xa)
        if pictures:
            layout[xkey].update(constrain="domain")
            layout[ykey].update(
                autorange="reversed", scaleanchor=xa, constrain="domain", constraintoward="top"
            )
        if i < len(titles) and titles[i]:
            layout["annotations"].append(
                dict(
                    text=titles[i],
                    x=(x0 + x1) / 2,
                    y=y1,
                    xref="paper",
                    yref="paper",
                    xanchor="center",
                    yanchor="bottom",
                    showarrow=False,
                    font=dict(size=11),
                )
            )
    return layout


def make_figure(data: list, layout: dict, height: int, top: int = 30) -> go.Figure:
    """Return a white, legend-free figure of data on layout, height px tall with top px margin."""
    layout.update(
        height=height, margin=dict(l=5, r=5, t=top, b=5), plot_bgcolor="white", showlegend=False
    )
    return go.Figure(data=data, layout=layout)


# --- the overview


def tile_grid(channels: int) -> tuple[int, int]:
    """Return (rows, cols) of the tiling of a layer's channels: one column up to 16 maps."""
    cols = max(1, math.ceil(channels / 16))
    return math.ceil(channels / cols), cols


def shrink_factor(shape: Sequence[int], limit: int = MAX_COLUMN_VALUES) -> int:
    """Return the power of 2 by which maps of shape (C, H, W) are block-averaged to fit limit."""
    c, h, w = shape
    f = 1
    while c * (h // f) * (w // f) > limit and min(h, w) // (2 * f) >= 1:
        f *= 2
    return f


def shrink(maps: np.ndarray, limit: int = MAX_COLUMN_VALUES) -> tuple[np.ndarray, int]:
    """Return (maps block-averaged by f in both directions, f) so that at most ~limit remain."""
    c, h, w = maps.shape
    f = shrink_factor(maps.shape, limit)
    if f == 1:
        return maps, 1
    h2, w2 = h // f, w // f
    return maps[:, : h2 * f, : w2 * f].reshape(c, h2, f, w2, f).mean((2, 4)), f


def tile(maps: np.ndarray, cols: int) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """Return (one 2D array of every map with NaN gaps, [(centre row, centre col, channel)])."""
    c, h, w = maps.shape
    rows = math.ceil(c / cols)
    gap = max(1, round(h / 8))
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap), np.nan, np.float32)
    centres = []
    for i in range(c):
        r, q = divmod(i, cols)
        y, x = r * (h + gap), q * (w + gap)
        out[y : y + h, x : x + w] = maps[i]
        centres.append((y + (h - 1) / 2, x + (w - 1) / 2, i))
    return out, centres


def _tile_markers(centres, index: int, name: str, h: int, w: int, axes: tuple[str, str]) -> dict:
    """Return invisible markers covering each tile (4 × 4 each); customdata (index, channel).

    index is the column's position in the overview, so a click names the map it fell on.
    """
    c = np.asarray(centres, dtype=np.float64)  # (C, 3): centre row, centre col, channel
    offsets = (np.arange(4) + 0.5) / 4 - 0.5
    dy, dx = (g.ravel() for g in np.meshgrid(offsets * h, offsets * w, indexing="ij"))  # (16,)
    ys = (c[:, :1] + dy).ravel()
    xs = (c[:, 1:2] + dx).ravel()
    data = np.repeat(np.stack([np.full(len(c), index), c[:, 2]], 1).astype(np.int32), 16, 0)
    return dict(
        type="scatter",
        x=xs,
        y=ys,
        xaxis=axes[0],
        yaxis=axes[1],
        mode="markers",
        marker=dict(size=14, opacity=0, color="black", symbol="square"),
        customdata=data,
        selected=dict(marker=dict(opacity=0)),
        unselected=dict(marker=dict(opacity=0)),
        hovertemplate=t("{name} · channel {channel}", name=name, channel="%{customdata[1]}")
        + t("<extra>click: explain</extra>"),
    )


def overview_figures(
    columns: Sequence[Column], *, shared: bool, per_line: int = PER_LINE
) -> list[go.Figure]:
    """Return the network left to right, as one figure per line of at most per_line columns.

    shared: one magnitude for every feature-map column (signed maps on ±M, maps ≥ 0 on 0..M);
    otherwise each layer is scaled to its own largest value.
    """
    spatial = [c for c in columns if c.kind in ("conv", "relu", "pool")]
    top = max((float(np.nanmax(np.abs(c.data))) for c in spatial), default=0.0) or 1.0
    numbered = list(enumerate(columns))
    lines = [numbered[i : i + per_line] for i in range(0, len(numbered), per_line)]
    if len(lines) > 1 and len(lines[-1]) < 3:  # never leave the classes alone on a line
        lines[-2], lines[-1] = lines[-2][:-2], lines[-2][-2:] + lines[-1]
    figures = [_overview_line(line, top if shared else None) for line in lines]
    return [name_figure(f, _overview_title(i, len(figures))) for i, f in enumerate(figures)]


def _overview_title(i: int, n: int) -> str:
    """Return the title of line i of n of the overview (its PNG's name too)."""
    if n == 1:
        return t("The whole network on this picture")
    return t("The whole network on this picture, part {part} of {parts}", part=i + 1, parts=n)


def _column_title(c: Column) -> str:
    """Return a column's title: its name, and its shape (and 1:f when drawn block-averaged)."""
    if c.kind == "softmax":
        return f"{c.name}<br><sup>" + t("probabilities") + "</sup>"
    shape = c.data.shape[:2] if c.kind == "input" else c.data.shape
    f = shrink_factor(c.data.shape) if c.kind in ("conv", "relu", "pool") else 1
    return f"{c.name}<br><sup>{'×'.join(map(str, shape))}{f' (1:{f})' if f > 1 else ''}</sup>"


def _overview_line(numbered: list[tuple[int, Column]], shared_top: float | None) -> go.Figure:
    """Return one line of the overview: a cell per column, spatial columns as tiled mosaics."""
    columns = [c for _, c in numbered]
    widths = [{"flatten": 0.4, "softmax": 2.4}.get(c.kind, 1.0) for c in columns]
    hspace = min(0.012, 0.6 / len(columns))
    layout = grid_layout(
        1, len(columns), widths=widths, titles=[_column_title(c) for c in columns], hspace=hspace
    )
    unit = CHART_WIDTH * (1 - hspace * (len(columns) - 1)) / sum(widths)  # px per unit of width
    height, data = 260, []
    for i, (index, col) in enumerate(numbered):
        axes = axis_names(i)
        xaxis, yaxis = layout["xaxis" + axes[0][1:]], layout["yaxis" + axes[1][1:]]
        if col.kind == "input":
            data.append(_input_trace(col, axes))
            h, w = col.data.shape[:2]
        elif col.kind in ("conv", "relu", "pool"):
            traces, (h, w) = _map_traces(col, index, axes, shared_top)
            data += traces
            height = max(height, round(unit * h / w))
        else:
            data.append(_vector_trace(col, index, axes))
            _free_axes(col.kind, xaxis, yaxis)
            continue
        # Fixed ranges: the click markers must not pad the axes (autorange would).
        xaxis.update(range=[-0.5, w - 0.5])
        yaxis.update(range=[h - 0.5, -0.5], autorange=None)
    _pin_classes_to_top(layout, columns, height)
    layout.update(clickmode="event", dragmode=False, hoverdistance=12)
    return make_figure(data, layout, height + 60, top=55)


def _input_trace(col: Column, axes: tuple[str, str]) -> go.Image:
    """Return the input picture as an image trace."""
    return go.Image(
        z=col.data,
        xaxis=axes[0],
        yaxis=axes[1],
        hovertemplate=t("row %{y}, col %{x}<br>RGB %{z}<extra></extra>"),
    )


def _map_traces(
    col: Column, index: int, axes: tuple[str, str], shared_top: float | None
) -> tuple[list, tuple[int, int]]:
    """Return ([mosaic heatmap, click markers], mosaic (h, w)) of a layer's feature maps."""
    maps, _ = shrink(np.asarray(col.data, dtype=np.float32))
    z, centres = tile(maps, tile_grid(len(maps))[1])
    scale, zmin, zmax = value_scale(col.data)
    if shared_top is not None:
        zmin, zmax = (0.0 if scale == SEQUENTIAL else -shared_top), shared_top
    heatmap = go.Heatmap(
        z=z,
        colorscale=scale,
        zmin=zmin,
        zmax=zmax,
        showscale=False,
        hovertemplate=f"{col.name}<br>" + t("value %{z:.3f}<extra></extra>"),
        xaxis=axes[0],
        yaxis=axes[1],
    )
    markers = _tile_markers(centres, index, col.name, *maps.shape[1:], axes)
    return [heatmap, markers], z.shape


def _vector_trace(col: Column, index: int, axes: tuple[str, str]):
    """Return the flattened vector as a one-column heatmap, or the classes as bars."""
    if col.kind != "flatten":
        return _probability_bars(col, index, *axes)
    flat = col.data
    step = max(1, math.ceil(len(flat) / MAX_FLAT_SHOWN))
    scale, zmin, zmax = value_scale(flat)
    return go.Heatmap(
        z=flat[::step, None],
        y=np.arange(0, len(flat), step),
        colorscale=scale,
        zmin=zmin,
        zmax=zmax,
        showscale=False,
        hovertemplate=t("entry %{y}<br>value %{z:.3f}<extra></extra>"),
        xaxis=axes[0],
        yaxis=axes[1],
    )


def _free_axes(kind: str, xaxis: dict, yaxis: dict) -> None:
    """Let a vector's cell stretch (no square pixels); bars get room for their labels."""
    if kind == "softmax":
        xaxis.update(range=[0, 1.9], constrain=None)
    yaxis.update(scaleanchor=None)


def _pin_classes_to_top(layout: dict, columns: list[Column], height: int) -> None:
    """Give the class bars about 24 px per class at the top of their cell."""
    for i, c in enumerate(columns):
        if c.kind == "softmax":
            share = min(1.0, (24 * len(c.data) + 10) / height)
            layout["yaxis" + axis_names(i)[1][1:]].update(domain=[1 - share, 1])


def _probability_bars(col: Column, index: int, xa: str, ya: str) -> go.Bar:
    """Return the class probabilities as clickable horizontal bars, in logit order."""
    probs = np.asarray(col.data, dtype=np.float64)
    best = int(probs.argmax())
    return go.Bar(
        x=probs,
        y=list(col.labels),
        orientation="h",
        textposition="outside",
        cliponaxis=False,
        text=[f"{name}  {p:.1%}" for name, p in zip(col.labels, probs, strict=True)],
        textfont=dict(size=11, color="#334155"),
        marker_color=[HIGHLIGHT if k == best else "#94a3b8" for k in range(len(probs))],
        customdata=[[index, k] for k in range(len(probs))],
        selected=dict(marker=dict(opacity=1)),
        unselected=dict(marker=dict(opacity=1), textfont=dict(color="#334155")),
        hovertemplate="%{y}: %{x:.4f}" + t("<extra>click: explain</extra>"),
        xaxis=xa,
        yaxis=ya,
    )


# --- attributions


def attribution_figure(
    image: np.ndarray,
    saliency: np.ndarray,
    cam: np.ndarray,
    hires: np.ndarray,
    class_name: str,
    *,
    lit: bool = False,
) -> go.Figure:
    """Return input, saliency (or the image lit by it), HiResCAM and Grad-CAM, side by side.

    image: (S, S, 3) uint8; saliency: (S, S) ≥ 0; cam: (S, S) in [0, 1]; hires: (h, w) signed,
    in logit units, drawn over the pixel block each unit is centred on, on a scale symmetric
    about 0 (red for the class, blue against it) with a colour bar.
    """
    titles = [
        t("what the network sees"),
        t("saliency lighting the image") if lit else t("saliency for “{name}”", name=class_name),
        t("HiResCAM for “{name}”", name=class_name),
        t("Grad-CAM for “{name}”", name=class_name),
    ]
    layout = grid_layout(1, 4, titles=titles, hspace=0.06)  # room for HiResCAM's colour bar
    a = [dict(zip(("xaxis", "yaxis"), axis_names(i), strict=True)) for i in range(4)]
    bar_x = layout["xaxis3"]["domain"][1] + 0.004
    data = [
        go.Image(z=image, hoverinfo="skip", **a[0]),
        _saliency_trace(image, saliency, lit, a[1]),
        *_hires_traces(image, hires, a[2], bar_x),
        *_cam_traces(image, cam, a[3]),
    ]
    fig = make_figure(data, layout, 280, top=35)
    return name_figure(fig, t("What made the decision for “{name}”", name=class_name))


def _saliency_trace(image: np.ndarray, saliency: np.ndarray, lit: bool, axes: dict):
    """Return the saliency map as a heatmap, or the image dimmed where saliency is low."""
    peak = float(saliency.max())
    if lit:
        weight = saliency / peak if peak > 0 else np.zeros_like(saliency)
        lit_image = (image * (0.15 + 0.85 * weight[..., None])).astype(np.uint8)
        return go.Image(z=lit_image, hoverinfo="skip", **axes)
    return go.Heatmap(
        z=saliency,
        colorscale=SEQUENTIAL,
        zmin=0,
        zmax=peak or 1.0,
        showscale=False,
        hovertemplate=t("row %{y}, col %{x}<br>|∂z/∂x| %{z:.4f}<extra></extra>"),
        **axes,
    )


def _cam_traces(image: np.ndarray, cam: np.ndarray, axes: dict) -> list:
    """Return the picture with Grad-CAM (in [0, 1]) over it, half transparent."""
    return [
        go.Image(z=image, hoverinfo="skip", **axes),
        go.Heatmap(
            z=cam,
            colorscale="Turbo",
            zmin=0,
            zmax=1,
            opacity=0.5,
            showscale=False,
            hovertemplate=t("row %{y}, col %{x}<br>Grad-CAM %{z:.3f}<extra></extra>"),
            **axes,
        ),
    ]


def _hires_traces(image: np.ndarray, hires: np.ndarray, axes: dict, bar_x: float) -> list:
    """Return the grey picture with HiResCAM (h, w) over it, each unit over its pixel block.

    bar_x: where the colour bar starts, in paper coordinates (just right of the panel).
    """
    grey = np.repeat(image.mean(-1, keepdims=True), 3, -1).astype(np.uint8)  # colour-free base
    side, (h, w) = image.shape[0], hires.shape
    step = side / h  # input pixels per unit of the CAM layer
    bound = float(np.abs(hires).max()) or 1.0
    return [
        go.Image(z=grey, hoverinfo="skip", **axes),
        go.Heatmap(
            z=hires,
            x0=(step - 1) / 2,
            dx=step,
            y0=(step - 1) / 2,
            dy=step,
            name="HiResCAM",
            colorscale=DIVERGING,
            zmin=-bound,
            zmax=bound,
            opacity=0.75,
            colorbar=dict(
                thickness=10,
                len=0.9,
                x=bar_x,
                xanchor="left",
                xpad=2,
                title=dict(text="logit", side="right"),
            ),
            customdata=np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), -1),
            hovertemplate=t(
                "unit (%{customdata[0]}, %{customdata[1]})<br>evidence %{z:+.4f}<extra></extra>"
            ),
            **axes,
        ),
    ]
