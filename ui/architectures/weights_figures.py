"""Figures of the your-weights page: top classes, stage maps as channel sheets, and the two CAMs.

Each stage's maps are drawn as one heatmap (channels tiled side by side, NaN gaps between them)
rather than one subplot per channel, so even a 512-channel sheet is a single light trace.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from ui.figures import DIVERGING, bars, finish_layout, name_figure
from ui.grids import value_scale
from ui.i18n import t

MAX_TILE = 56  # a channel is shown at most this many cells a side (every k-th cell beyond)
GAP = 1  # NaN cells between two tiles
SHEET_WIDTH = 900  # about the width of the page's main column, in pixels


def top_classes(labels: list[str], probabilities: list[float]) -> go.Figure:
    """Return the top classes' probabilities as bars, most probable first, in percent."""
    text = [f"{p:.2%}" for p in probabilities]
    title = t("The most probable classes")
    fig = bars(labels, [100 * p for p in probabilities], height=300, text=text, title=title)
    fig.update_layout(yaxis_title=t("probability (%)"))
    return fig


def _stride(side: int) -> int:
    """Return the step that shows a side of `side` cells in at most MAX_TILE cells."""
    return max(1, -(-side // MAX_TILE))


def channel_sheet(maps: np.ndarray, cols: int) -> np.ndarray:
    """Return (C, h, w) maps tiled cols to a row, separated by NaN, each shrunk to ≤ MAX_TILE."""
    maps = np.asarray(maps, dtype=np.float32)
    step = _stride(max(maps.shape[1:]))
    maps = maps[:, ::step, ::step]
    count, h, w = maps.shape
    cols = max(1, min(cols, count))
    rows = -(-count // cols)
    sheet = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP), np.nan, dtype=np.float32)
    for i, tile in enumerate(maps):
        r, c = divmod(i, cols)
        sheet[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = tile
    return sheet


def _sheet_height(sheet: np.ndarray) -> int:
    """Return a figure height in pixels that keeps the sheet's cells square on a ~900 px page."""
    return int(np.clip(SHEET_WIDTH * sheet.shape[0] / sheet.shape[1], 120, 1600))


def stage_sheet(maps: np.ndarray, cols: int) -> go.Figure:
    """Return a stage's (C, h, w) maps as one heatmap of tiles on the stage's colour scale."""
    sheet = channel_sheet(maps, cols)
    height = _sheet_height(sheet) + 20
    scale, zmin, zmax = value_scale(sheet)
    fig = go.Figure(
        go.Heatmap(
            z=sheet,
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            showscale=True,
            colorbar=dict(thickness=10),
            hovertemplate="%{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(constrain="domain", visible=False)
    return finish_layout(fig, height)


def _png_uri(rgb: np.ndarray) -> str:
    """Return an (H, W, 3) uint8 picture as a PNG data URI (lighter than a pixel array)."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _blocks(cam: np.ndarray, side: int) -> dict:
    """Return Heatmap placement that spreads an (h, w) map over a side × side crop."""
    h, w = cam.shape
    return dict(x0=(side / w - 1) / 2, dx=side / w, y0=(side / h - 1) / 2, dy=side / h)


def cam_figure(
    crop: np.ndarray, grad_cam: np.ndarray, hires: np.ndarray, class_name: str
) -> go.Figure:
    """Return the crop, Grad-CAM over it, and HiResCAM over it, side by side.

    crop: (S, S, 3) uint8; grad_cam: (h, w) in [0, 1] at the stage's resolution, drawn bilinearly
    smoothed; hires: (h, w) signed, each unit over its own block, symmetric about 0 (red for the
    class, blue against it) with a colour bar.
    """
    side = crop.shape[0]
    titles = [
        t("what the network reads"),
        t("Grad-CAM for “{name}”", name=class_name),
        t("HiResCAM for “{name}”", name=class_name),
    ]
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.03)
    uri = _png_uri(crop)
    for col in (1, 2, 3):
        fig.add_trace(go.Image(source=uri, hoverinfo="skip"), row=1, col=col)
    fig.add_trace(_grad_cam_trace(grad_cam, side), row=1, col=2)
    fig.add_trace(_hires_trace(hires, side), row=1, col=3)
    for col in (1, 2, 3):
        fig.update_yaxes(visible=False, autorange="reversed", row=1, col=col)
        fig.update_xaxes(visible=False, scaleanchor=f"y{col if col > 1 else ''}", row=1, col=col)
    fig.update_annotations(font_size=12)
    finish_layout(fig, 300)
    fig.update_layout(margin_t=30)  # room for the subplot titles
    return name_figure(fig, t("Where the network looks for “{name}”", name=class_name))


def _grad_cam_trace(cam: np.ndarray, side: int) -> go.Heatmap:
    return go.Heatmap(
        z=cam,
        colorscale="Turbo",
        zmin=0,
        zmax=1,
        opacity=0.5,
        zsmooth="best",
        showscale=False,
        hovertemplate="Grad-CAM %{z:.3f}<extra></extra>",
        **_blocks(cam, side),
    )


def _hires_trace(cam: np.ndarray, side: int) -> go.Heatmap:
    top = float(np.abs(cam).max()) or 1.0
    return go.Heatmap(
        z=cam,
        colorscale=DIVERGING,
        zmin=-top,
        zmax=top,
        opacity=0.6,
        colorbar=dict(thickness=10, x=1.0),
        hovertemplate="HiResCAM %{z:+.4f}<extra></extra>",
        **_blocks(cam, side),
    )
