"""Figures of small grids and grids of maps: numbers written in cells, mosaics, step animations."""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import DIVERGING, GRAY, name_figure
from ui.i18n import t

# Values >= 0 (ReLU, max pool): black at zero, brighter as the value grows. Plotly's "Magma" as an
# explicit list, except that its first stop "#000004" is written "#000000": Streamlit's chart theme
# replaces the colours #000001..#000010 in a figure's JSON with its own palette (placeholders), so
# "Magma" by name drew every zero in pink.
SEQUENTIAL = [
    [i / 9, c]
    for i, c in enumerate(
        [
            "#000000",
            "#180f3d",
            "#440f76",
            "#721f81",
            "#9e2f7f",
            "#cd4071",
            "#f1605d",
            "#fd9668",
            "#feca8d",
            "#fcfdbf",
        ]
    )
]


def value_scale(maps: np.ndarray | Sequence[np.ndarray]) -> tuple[str | list, float, float]:
    """Return (colorscale, zmin, zmax) for one array or a list of arrays (NaN ignored).

    Sequential from 0 to the largest value when nothing is negative (ReLU and max-pool outputs),
    else diverging and centred at 0, so a non-negative map never uses only half of a signed scale.
    """
    arrays = maps if isinstance(maps, list | tuple) else [maps]
    finite = [a[np.isfinite(a)] for a in (np.asarray(m, dtype=np.float64) for m in arrays)]
    low = min((float(a.min()) for a in finite if a.size), default=0.0)
    high = max((float(np.abs(a).max()) for a in finite if a.size), default=0.0) or 1.0
    if low >= 0:
        return SEQUENTIAL, 0.0, high
    return DIVERGING, -high, high


def _number(value: float, fmt: str) -> str:
    """Return value formatted, without the minus sign of a rounded negative zero ("-0.00")."""
    text = format(value, fmt)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def annotated_grid(
    values: np.ndarray,
    title: str | None = None,
    *,
    signed: bool = True,
    fmt: str = ".2f",
    highlight: Sequence[tuple[int, int]] = (),
    highlight_color: str = "#f59e0b",
    height: int = 260,
) -> go.Figure:
    """Return a small matrix drawn cell by cell with its numbers written in, titled above.

    The title is the figure's own (centred where a panel title would sit), so the PNG download
    is named after it.
    """
    fig = annotated_grids(
        [values],
        [""],
        signed=signed,
        fmt=fmt,
        height=height,
        highlights=[highlight],
        highlight_color=highlight_color,
    )
    if title:
        fig.update_layout(title=dict(text=title, x=0.5, xanchor="center", font_size=14))
    return fig


def annotated_grids(
    grids: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    signed: bool = True,
    fmt: str = ".2f",
    highlights: Sequence[Sequence[tuple[int, int]]] | None = None,
    highlight_color: str = "#f59e0b",
    height: int = 260,
    operators: Sequence[str] = (),
    title: str | None = None,
) -> go.Figure:
    """Return small matrices side by side, numbers written in, optional outlined cells per grid;
    title (what the row of grids shows) goes above them and names the PNG download."""
    n = len(grids)
    fig = make_subplots(rows=1, cols=n, subplot_titles=list(titles), horizontal_spacing=0.06)
    for i, grid in enumerate(grids, start=1):
        g = np.asarray(grid, dtype=np.float64)
        bound = float(np.nanmax(np.abs(g))) if g.size else 1.0
        bound = bound or 1.0
        big = g.shape[0] * g.shape[1] > 144
        fig.add_trace(
            go.Heatmap(
                z=g,
                text=None if big else [[_number(v, fmt) for v in row] for row in g],
                texttemplate=None if big else "%{text}",
                textfont=dict(size=11),
                colorscale=DIVERGING if signed else "Blues",
                zmin=-bound if signed else float(np.nanmin(g)) if g.size else 0.0,
                zmax=bound,
                showscale=False,
                xgap=1,
                ygap=1,
                hovertemplate=t("row %{y}, col %{x}") + "<br>%{z:" + fmt + "}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        for r, c in highlights[i - 1] if highlights else ():
            fig.add_shape(
                type="rect",
                x0=c - 0.5,
                x1=c + 0.5,
                y0=r - 0.5,
                y1=r + 0.5,
                line=dict(color=highlight_color, width=3),
                row=1,
                col=i,
            )
        fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=i)
        fig.update_xaxes(showticklabels=False, row=1, col=i)
    for i, op in enumerate(operators):
        fig.add_annotation(
            text=f"<b>{op}</b>",
            showarrow=False,
            font=dict(size=22),
            xref="paper",
            yref="paper",
            x=(i + 1) / n,
            y=0.5,
        )
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return name_figure(fig, title) if title else fig


def map_mosaic(
    maps: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    cols: int = 4,
    signed: bool = True,
    height_per_row: int = 220,
    shared_scale: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Return several (H, W) maps as a grid of small heatmaps, one colour scale each or shared;
    title (what the maps are) goes above them and names the PNG download.

    signed: colour by value_scale (diverging around 0, or sequential from 0 when no map has a
    negative value); False: grey from each map's minimum to its maximum (pictures).

    The figure is what make_subplots would build, one heatmap per cell (tests/test_grids.py
    builds it that way and compares), but assembled as one layout dict: plotly's per-panel
    update_xaxes(row=, col=) walks the whole grid each call, and cost ~40 ms for eight 64x64 panels
    on every rerun of the pages that show a mosaic; this takes ~19 ms.
    """
    maps = [np.asarray(m, dtype=np.float32) for m in maps]  # sizes may differ
    cols = max(1, min(cols, len(maps)))
    rows = (len(maps) + cols - 1) // cols
    layout = _mosaic_layout(rows, cols, list(titles))
    layout["height"] = rows * height_per_row + 30
    for i in range(len(maps)):
        _panel_axes(layout, i)
    ranges = _mosaic_ranges(maps, signed, shared_scale)
    traces = [_mosaic_trace(m, titles[i], i, ranges[i]) for i, m in enumerate(maps)]
    fig = go.Figure(data=traces, layout=layout)
    return name_figure(fig, title) if title else fig


@functools.lru_cache(maxsize=64)
def _grid(rows: int, cols: int, titled: tuple[bool, ...]) -> dict:
    """Return make_subplots' layout for a rows x cols grid; titled: which panels have a title
    (make_subplots writes an annotation for each of those, in order)."""
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[" " if has else "" for has in titled],
        horizontal_spacing=0.02,
        vertical_spacing=0.08 if rows > 1 else 0.0,
    )
    return fig.layout.to_plotly_json()


def _mosaic_layout(rows: int, cols: int, titles: list[str]) -> dict:
    """Return a fresh copy of the grid's layout with the panel titles written in."""
    layout = copy.deepcopy(_grid(rows, cols, tuple(bool(x) for x in titles)))
    for note, text in zip(layout.get("annotations", ()), [x for x in titles if x], strict=False):
        note["text"] = text
        note.setdefault("font", {})["size"] = 12
    layout["margin"] = dict(l=5, r=5, t=30, b=5)
    return layout


def _mosaic_ranges(
    maps: list[np.ndarray], signed: bool, shared: bool
) -> list[tuple[str | list, float, float]]:
    """Return (colour scale, zmin, zmax) of each map: one scale for the whole mosaic, the range
    each map's own or shared."""
    if not signed:
        if not shared:
            return [(GRAY, float(m.min()), float(m.max())) for m in maps]
        low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
        return [(GRAY, low, high)] * len(maps)
    # Signed data on a diverging scale centred at 0; a mosaic of maps that are all >= 0 (after a
    # ReLU or a max pool of one) on a sequential scale from 0, so it uses the whole colour range.
    scale, low, high = value_scale(maps)
    spans = [(low, high)] * len(maps) if shared else [value_scale([m])[1:] for m in maps]
    # A diverging mosaic is centred at 0 even for a map of it that is >= 0.
    return [(scale, -zmax if scale == DIVERGING else zmin, zmax) for zmin, zmax in spans]


def _panel_axes(layout: dict, i: int) -> None:
    """Set panel i's axes in layout: no ticks, square cells, rows downwards."""
    suffix = str(i + 1) if i else ""
    layout[f"xaxis{suffix}"].update(showticklabels=False, constrain="domain")
    layout[f"yaxis{suffix}"].update(
        autorange="reversed", showticklabels=False, scaleanchor=f"x{suffix}"
    )


def _mosaic_trace(m: np.ndarray, name: str, i: int, scale: tuple[str | list, float, float]) -> dict:
    """Return panel i's heatmap on that panel's axes."""
    suffix = str(i + 1) if i else ""
    colorscale, zmin, zmax = scale
    return dict(
        type="heatmap",
        z=m,
        colorscale=colorscale,
        zmin=zmin,
        zmax=zmax,
        showscale=False,
        hovertemplate=f"{name}<br>{t('row %{y}, col %{x}')}<br>%{{z:.3f}}<extra></extra>",
        xaxis=f"x{suffix}",
        yaxis=f"y{suffix}",
    )


INPUT_OUTLINE = "#f59e0b"  # the cells the kernel reads at this step
OUTPUT_OUTLINE = "#dc2626"  # the cell (or stamp) it writes
EMPTY_CELL = "#f1f5f9"


def sliding_animation(
    input_grid: np.ndarray,
    output_frames: Sequence[np.ndarray],
    input_cells: Sequence[Sequence[tuple[int, int]]],
    output_cells: Sequence[Sequence[tuple[int, int]]],
    *,
    titles: tuple[str, str] = ("input", "output"),
    padding_mask: np.ndarray | None = None,
    frame_ms: int = 700,
    height: int = 420,
    title: str | None = None,
) -> go.Figure:
    """Return a two-panel animation: per frame, outlined input cells and the output as it stands;
    title (what slides over what) goes above it and names the PNG download.

    The browser plays it (Plotly frames), so playing costs the server nothing.
    """
    inp = np.asarray(input_grid, dtype=np.float64)
    first = np.asarray(output_frames[0], dtype=np.float64)
    top = _largest_output(output_frames)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=list(titles),
        horizontal_spacing=0.08,
        column_widths=[inp.shape[1], max(first.shape[1], 1)],
    )
    fig.add_trace(_input_trace(inp, padding_mask), row=1, col=1)
    fig.add_trace(_empty_output_trace(first.shape), row=1, col=2)
    fig.add_trace(_output_trace(first, top), row=1, col=2)  # trace 2: the one each frame replaces
    fig.frames = [
        go.Frame(
            data=[_output_trace(frame, top)],
            traces=[2],  # the output trace; 0 is the input, 1 the empty cells under it
            layout=dict(shapes=_step_outlines(input_cells[i], output_cells[i])),
            name=str(i),
        )
        for i, frame in enumerate(output_frames)
    ]
    fig.update_layout(shapes=_step_outlines(input_cells[0], output_cells[0]))
    fig.update_layout(
        updatemenus=[_play_pause_buttons(frame_ms)], sliders=[_step_slider(len(output_frames))]
    )
    _fit_axes(fig, inp.shape, first.shape)
    fig.update_layout(plot_bgcolor="white")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=90))
    return name_figure(fig, title) if title else fig


def _largest_output(output_frames: Sequence[np.ndarray]) -> float:
    """Return the largest finite |value| over all frames (1.0 if none), to fix one colour range."""
    values = np.concatenate([np.asarray(f, dtype=np.float64).ravel() for f in output_frames])
    finite = values[np.isfinite(values)]
    return float(np.abs(finite).max()) if finite.size else 1.0


def _input_trace(inp: np.ndarray, padding_mask: np.ndarray | None) -> go.Heatmap:
    """Return the input grid, numbers written in, padding cells shaded grey."""
    shade = np.where(padding_mask, 0.5, 0.0) if padding_mask is not None else np.zeros_like(inp)
    return go.Heatmap(
        z=shade,
        text=[[f"{v:g}" for v in row] for row in inp],
        texttemplate="%{text}",
        colorscale="Greys",
        zmin=0,
        zmax=1.5,
        showscale=False,
        xgap=2,
        ygap=2,
        hoverinfo="skip",
    )


def _empty_output_trace(shape: tuple[int, ...]) -> go.Heatmap:
    """Return pale empty cells, so the output grid's final size is visible from step one."""
    return go.Heatmap(
        z=np.zeros(shape),
        colorscale=[[0, EMPTY_CELL], [1, EMPTY_CELL]],
        showscale=False,
        xgap=2,
        ygap=2,
        hoverinfo="skip",
    )


def _output_trace(frame: np.ndarray, top: float) -> go.Heatmap:
    """Return the output as it stands: cells not yet computed (NaN) stay blank."""
    frame = np.asarray(frame, dtype=np.float64)
    text = [["" if not np.isfinite(v) else f"{v:g}" for v in row] for row in frame]
    return go.Heatmap(
        z=frame,
        text=text,
        texttemplate="%{text}",
        colorscale=DIVERGING,  # centred at 0, so a negative value never looks smaller than 0
        zmin=-top,
        zmax=top,
        showscale=False,
        xgap=2,
        ygap=2,
        hoverinfo="skip",
    )


def _cell_outline(row: int, col: int, axes: str, color: str) -> dict:
    """Return a rectangle around one cell of the panel whose axes are x{axes}, y{axes}."""
    return dict(
        type="rect",
        xref=f"x{axes}",
        yref=f"y{axes}",
        x0=col - 0.5,
        x1=col + 0.5,
        y0=row - 0.5,
        y1=row + 0.5,
        line=dict(color=color, width=3),
    )


def _step_outlines(
    input_cells: Sequence[tuple[int, int]], output_cells: Sequence[tuple[int, int]]
) -> list[dict]:
    """Return the outlines of one step: the input cells read (left) and output cells written."""
    read = [_cell_outline(r, c, "", INPUT_OUTLINE) for r, c in input_cells]
    return read + [_cell_outline(r, c, "2", OUTPUT_OUTLINE) for r, c in output_cells]


def _play_pause_buttons(frame_ms: int) -> dict:
    """Return the play and pause buttons under the figure; play shows a frame every frame_ms."""
    play = dict(
        frame=dict(duration=frame_ms, redraw=True), fromcurrent=True, transition=dict(duration=0)
    )
    pause = dict(mode="immediate", frame=dict(duration=0, redraw=False))
    return dict(
        type="buttons",
        direction="left",
        x=0,
        y=-0.06,
        xanchor="left",
        yanchor="top",
        buttons=[
            dict(label=t("▶ play"), method="animate", args=[None, play]),
            dict(label=t("❚❚ pause"), method="animate", args=[[None], pause]),
        ],
    )


def _step_slider(n_steps: int) -> dict:
    """Return the slider that jumps to any of n_steps frames, labelled from 1."""
    jump = dict(mode="immediate", frame=dict(duration=0, redraw=True))
    return dict(
        active=0,
        x=0.22,
        len=0.78,
        y=-0.04,
        currentvalue=dict(prefix=t("step ")),
        steps=[
            dict(label=str(i + 1), method="animate", args=[[str(i)], jump]) for i in range(n_steps)
        ],
    )


def _fit_axes(fig: go.Figure, input_shape: tuple, output_shape: tuple) -> None:
    """Set both panels' axes to their grid, square cells, rows down, no ticks or grid lines."""
    for col, (h, w) in ((1, input_shape), (2, output_shape)):
        hidden = dict(showticklabels=False, showgrid=False, zeroline=False, row=1, col=col)
        fig.update_yaxes(range=[h - 0.5, -0.5], **hidden)
        fig.update_xaxes(range=[-0.5, w - 0.5], constrain="domain", **hidden)
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
