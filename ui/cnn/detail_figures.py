"""Figures of the trained-CNN page's details: one unit's arithmetic, patches and filters as
pictures, and the learned-vs-hand-made filter comparison.

Data in, `go.Figure` (or uint8 pictures) out; layouts as plain dicts (ui/cnn/overview_figures.py
says why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from engine.core import N_
from ui.cnn.overview_figures import CHART_WIDTH, axis_names, grid_layout, make_figure, shrink
from ui.figures import DIVERGING, finish_layout, name_figure
from ui.grids import value_scale
from ui.i18n import t

GRID_NAMES = {"patch": N_("patch"), "kernel": N_("kernel"), "product": N_("product")}

PAD_GREY = "#d1d5db"
LABEL_CELLS = 2.2  # room left of the grids for the row labels (annotations outside the axis
# range are not drawn)


def conv_unit_figure(
    patches: np.ndarray,
    kernels: np.ndarray,
    products: np.ndarray,
    inside: np.ndarray,
    channel_names: Sequence[str],
    *,
    numbers: bool = True,
) -> go.Figure:
    """Return, per input channel, its patch, its kernel and their product stacked in a block.

    patches, kernels, products: (C_in, k, k); inside: (k, k) False where the patch lies in the
    zero padding (drawn grey). numbers writes each value in its cell (for small cases).
    """
    c_in, k, _ = patches.shape
    per_row = min({1: 16, 3: 8, 5: 5, 7: 4}.get(k, 4), c_in)
    block_rows = math.ceil(c_in / per_row)
    bh = 3 * k + 3  # three grids, each with a label gap above
    layers, pad, notes = _unit_blocks(patches, kernels, products, inside, channel_names, per_row)
    notes += _row_labels(block_rows, bh, k)
    data = [_grid_trace(name, z, numbers) for name, z in layers.items()]
    if np.isfinite(pad).any():
        data.append(_pad_trace(pad, numbers))
    shape = pad.shape
    cell = min(38.0, CHART_WIDTH / (shape[1] + LABEL_CELLS))
    layout = dict(
        xaxis=dict(visible=False, range=[-LABEL_CELLS - 0.5, shape[1] - 0.5], constrain="domain"),
        yaxis=dict(visible=False, range=[shape[0] - 0.5, -1.5], scaleanchor="x"),
        annotations=[{"showarrow": False, "font": dict(size=11), **n} for n in notes],
        margin=dict(l=10, r=10, t=10, b=10),
    )
    layout.update(height=int(cell * (shape[0] + 1)) + 20, plot_bgcolor="white")
    fig = go.Figure(data=data, layout=layout)
    return name_figure(fig, t("One unit's arithmetic: patches, kernels and their products"))


def _unit_blocks(patches, kernels, products, inside, channel_names, per_row: int):
    """Return ({patch, kernel, product: mosaic}, padding mosaic, channel titles) of the blocks.

    Each channel's block stacks its patch, kernel and product (k × k each, a label row above
    each); blocks sit per_row to a row with a gap column; NaN is drawn as nothing.
    """
    c_in, k, _ = patches.shape
    bh, bw = 3 * k + 3, k + 1
    shape = (math.ceil(c_in / per_row) * bh, per_row * bw - 1)
    layers = {name: np.full(shape, np.nan, np.float32) for name in ("patch", "kernel", "product")}
    pad = np.full(shape, np.nan, np.float32)
    notes = []
    for ch in range(c_in):
        r, q = divmod(ch, per_row)
        y, x = r * bh + 1, q * bw
        for j, (name, grid) in enumerate(
            (("patch", patches), ("kernel", kernels), ("product", products))
        ):
            layers[name][y + j * (k + 1) : y + j * (k + 1) + k, x : x + k] = grid[ch]
        pad[y : y + k, x : x + k] = np.where(inside, np.nan, 1.0)
        notes.append(dict(x=x + (k - 1) / 2, y=y - 1, text=f"<b>{channel_names[ch]}</b>"))
    return layers, pad, notes


def _row_labels(block_rows: int, bh: int, k: int) -> list[dict]:
    """Return the "patch / × kernel / = product" labels left of every row of blocks."""
    return [
        dict(
            x=-0.7,
            y=r * bh + 1 + j * (k + 1) + (k - 1) / 2,
            text=text,
            xanchor="right",
            font=dict(size=11, color="#475569"),
        )
        for r in range(block_rows)
        for j, text in enumerate((t("patch"), t("× kernel"), t("= product")))
    ]


def _grid_trace(name: str, z: np.ndarray, numbers: bool) -> go.Heatmap:
    """Return one mosaic (patches, kernels or products) as a heatmap, values written if numbers."""
    scale, zmin, zmax = value_scale(z)
    if name != "patch":  # weights and products are signed in general
        scale, zmin = DIVERGING, -zmax
    text = np.where(np.isnan(z), "", np.char.mod("%.2f", np.nan_to_num(z)))
    return go.Heatmap(
        z=z,
        colorscale=scale,
        zmin=zmin,
        zmax=zmax,
        showscale=False,
        text=text if numbers else None,
        texttemplate="%{text}" if numbers else None,
        textfont=dict(size=10),
        xgap=1,
        ygap=1,
        hovertemplate=f"{t(GRID_NAMES[name])}<br>%{{z:.4f}}<extra></extra>",
    )


def _pad_trace(pad: np.ndarray, numbers: bool) -> go.Heatmap:
    """Return the cells that lie in the zero padding, in grey."""
    return go.Heatmap(
        z=pad,
        colorscale=[[0, PAD_GREY], [1, PAD_GREY]],
        showscale=False,
        text=np.where(np.isnan(pad), "", t("pad")),
        texttemplate="%{text}" if numbers else None,
        textfont=dict(size=9, color="#6b7280"),
        xgap=1,
        ygap=1,
        hovertemplate=t("zero padding<extra></extra>"),
    )


def contribution_figure(products: np.ndarray, titles: Sequence[str], *, cols: int) -> go.Figure:
    """Return w ⊙ x laid out as the last feature maps (C, h, w): where a class's evidence lies."""
    maps, _ = shrink(np.asarray(products, dtype=np.float32))
    bound = float(np.abs(maps).max()) or 1.0
    rows = math.ceil(len(maps) / cols)
    layout = grid_layout(rows, cols, titles=titles, hspace=0.02, vspace=0.1 / rows)
    data = []
    for i, m in enumerate(maps):
        xa, ya = axis_names(i)
        data.append(
            go.Heatmap(
                z=m,
                colorscale=DIVERGING,
                zmin=-bound,
                zmax=bound,
                showscale=i == 0,
                colorbar=dict(thickness=10),
                xaxis=xa,
                yaxis=ya,
                hovertemplate=t("row %{y}, col %{x}<br>w·x %{z:.4f}<extra></extra>"),
            )
        )
    fig = make_figure(data, layout, 150 * rows + 40)
    return name_figure(fig, t("Each input channel's contribution w·x"))


def similarity_figure(
    similarity: np.ndarray, filters: Sequence[str], kernels: Sequence[str]
) -> go.Figure:
    """Return the |cos| table (F, B) as a 0..1 heatmap with numbers, each row's best outlined."""
    sim = np.asarray(similarity, dtype=np.float64)
    fig = go.Figure(
        go.Heatmap(
            z=sim,
            x=list(kernels),
            y=list(filters),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=np.char.mod("%.2f", sim),
            texttemplate="%{text}",
            textfont=dict(size=11),
            xgap=1,
            ygap=1,
            colorbar=dict(thickness=10, title="|cos|"),
            hovertemplate=t("%{y} vs %{x}<br>|cos| = %{z:.3f}<extra></extra>"),
        ),
        layout=dict(
            shapes=[
                dict(
                    type="rect",
                    x0=c - 0.5,
                    x1=c + 0.5,
                    y0=r - 0.5,
                    y1=r + 0.5,
                    line=dict(color="#f59e0b", width=2.5),
                )
                for r, c in enumerate(sim.argmax(1))
            ],
            yaxis=dict(autorange="reversed"),
            xaxis=dict(side="top"),
        ),
    )
    finish_layout(fig, 70 + 24 * len(filters))
    fig.update_layout(margin_t=34)  # the kernel names along the top, under the title's band
    title = t("How alike each learned filter and each hand-made kernel are (|cos|)")
    return name_figure(fig, title)


def as_uint8(pictures: np.ndarray) -> np.ndarray:
    """Return float pictures in [0, 1] as uint8 (rounded)."""
    return (np.clip(np.asarray(pictures, dtype=np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)


def outlined_sources(
    images: np.ndarray, positions: np.ndarray, field: int, jump: int, start: float
) -> np.ndarray:
    """Return (k, S, S, 3) uint8: each source picture with its unit's receptive field outlined.

    images: the scanned set (N, 3, S, S) uint8; positions: (k, 3) (image, row, col) of each unit;
    the field is field × field pixels around start + jump·(row, col) (clipped to the picture).
    """
    out = []
    for index, row, col in np.asarray(positions).tolist():
        pic = np.asarray(images[index]).transpose(1, 2, 0).copy()  # (S, S, 3)
        side = pic.shape[0]
        y0 = round(start + jump * row - (field - 1) / 2)
        x0 = round(start + jump * col - (field - 1) / 2)
        y1, x1 = min(side - 1, y0 + field - 1), min(side - 1, x0 + field - 1)
        y0, x0 = max(0, y0), max(0, x0)
        for y, x in (
            (slice(y0, y1 + 1), x0),
            (slice(y0, y1 + 1), x1),
            (y0, slice(x0, x1 + 1)),
            (y1, slice(x0, x1 + 1)),
        ):
            pic[y, x] = (250, 204, 21)
        out.append(pic)
    return np.stack(out)


def _sheet(n: int, cols: int, h: int, w: int, width_px: float) -> tuple[list, tuple, float]:
    """Return ([(top, left)] of n tiles, (H, W) of the sheet, px per unit) with title room."""
    cols = max(1, min(cols, n))
    gap_x = max(1, round(w / 6))
    px = width_px / (cols * (w + gap_x))  # px per unit (pixel or kernel cell)
    gap_y = max(1, math.ceil(18 / px))  # a line of title above each tile
    places = [
        (r * (h + gap_y) + gap_y, q * (w + gap_x)) for r, q in (divmod(i, cols) for i in range(n))
    ]
    rows = math.ceil(n / cols)
    return places, (rows * (h + gap_y), cols * (w + gap_x) - gap_x), px


def _sheet_figure(trace, places, shape, px, titles, h: int, w: int, width_px: float) -> go.Figure:
    """Return one trace holding every tile, with each tile's title written above it."""
    notes = [
        dict(
            x=left + (w - 1) / 2,
            y=top - 0.6,
            text=title,
            showarrow=False,
            yanchor="bottom",
            font=dict(size=11),
        )
        for (top, left), title in zip(places, titles, strict=False)
    ]
    layout = dict(
        xaxis=dict(visible=False, range=[-0.5, shape[1] - 0.5], constrain="domain"),
        yaxis=dict(visible=False, range=[shape[0] - 0.5, -0.5], scaleanchor="x"),
        annotations=notes,
        plot_bgcolor="white",
        margin=dict(l=5, r=5, t=5, b=5),
        height=round(shape[0] * px) + 10,
    )
    return go.Figure(data=[trace], layout=layout)


def picture_tiles(
    images: np.ndarray,
    titles: Sequence[str],
    *,
    cols: int,
    title: str,
    width: float = CHART_WIDTH,
) -> go.Figure:
    """Return small RGB pictures (N, h, w, 3) uint8 on one white sheet, each titled, under
    title (what the pictures are; the PNG's name).

    width: the px the sheet should take (less than the chart for a few small pictures).
    """
    n, h, w = images.shape[:3]
    places, shape, px = _sheet(n, cols, h, w, width)
    sheet = np.full((*shape, 3), 255, np.uint8)
    for (top, left), pic in zip(places, images, strict=True):
        sheet[top : top + h, left : left + w] = pic
    trace = go.Image(z=sheet, hoverinfo="skip")
    return name_figure(_sheet_figure(trace, places, shape, px, titles, h, w, width), title)


def kernel_tiles(kernels: np.ndarray, titles: Sequence[str], *, cols: int, title: str) -> go.Figure:
    """Return kernels (B, k, k) as signed heatmaps on one sheet, each on its own ±max scale,
    under title (what the kernels are; the PNG's name)."""
    n, h, w = kernels.shape
    places, shape, px = _sheet(n, cols, h, w, CHART_WIDTH)
    scaled = np.full(shape, np.nan, np.float32)  # each kernel / its largest |weight|
    values = np.full(shape, np.nan, np.float32)  # the weights themselves, for the hover
    for (top, left), kern in zip(places, kernels, strict=True):
        values[top : top + h, left : left + w] = kern
        scaled[top : top + h, left : left + w] = kern / (float(np.abs(kern).max()) or 1.0)
    trace = go.Heatmap(
        z=scaled,
        customdata=values,
        colorscale=DIVERGING,
        zmin=-1,
        zmax=1,
        showscale=False,
        hovertemplate="%{customdata:.3f}<extra></extra>",
    )
    sheet = _sheet_figure(trace, places, shape, px, titles, h, w, CHART_WIDTH)
    return name_figure(sheet, title)
