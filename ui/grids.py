"""Figures of small grids and grids of maps: numbers written in cells, mosaics, step animations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import DIVERGING, GRAY

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
    """Return a small matrix drawn cell by cell with its numbers written in."""
    fig = annotated_grids(
        [values],
        [title or ""],
        signed=signed,
        fmt=fmt,
        height=height,
        highlights=[highlight],
        highlight_color=highlight_color,
    )
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
) -> go.Figure:
    """Return small matrices side by side, numbers written in, optional outlined cells per grid."""
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
                hovertemplate="row %{y}, col %{x}<br>%{z:" + fmt + "}<extra></extra>",
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
    return fig


def map_mosaic(
    maps: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    cols: int = 4,
    signed: bool = True,
    height_per_row: int = 220,
    shared_scale: bool = False,
) -> go.Figure:
    """Return several (H, W) maps as a grid of small heatmaps, one colour scale each or shared.

    signed: colour by value_scale (diverging around 0, or sequential from 0 when no map has a
    negative value); False: grey from each map's minimum to its maximum (pictures).
    """
    maps = [np.asarray(m, dtype=np.float32) for m in maps]  # sizes may differ
    n = len(maps)
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        horizontal_spacing=0.02,
        vertical_spacing=0.08 if rows > 1 else 0.0,
    )
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    # Signed data on a diverging scale centred at 0; a mosaic of maps that are all >= 0 (after a
    # ReLU or a max pool of one) on a sequential scale from 0, so it uses the whole colour range.
    scale = value_scale(maps)[0] if signed else GRAY
    for i in range(n):
        r, c = divmod(i, cols)
        m = maps[i]
        if signed:
            _, zmin, zmax = value_scale(maps if shared_scale else [m])
            if scale == DIVERGING:  # centred at 0 even for a map of the mosaic that is >= 0
                zmin = -zmax
        else:
            zmin = low if shared_scale else float(m.min())
            zmax = high if shared_scale else float(m.max())
        fig.add_trace(
            go.Heatmap(
                z=m,
                colorscale=scale,
                zmin=zmin,
                zmax=zmax,
                showscale=False,
                hovertemplate=f"{titles[i]}<br>row %{{y}}, col %{{x}}<br>%{{z:.3f}}<extra></extra>",
            ),
            row=r + 1,
            col=c + 1,
        )
        fig.update_yaxes(
            autorange="reversed",
            showticklabels=False,
            scaleanchor=f"x{i + 1 if i else ''}",
            row=r + 1,
            col=c + 1,
        )
        fig.update_xaxes(showticklabels=False, constrain="domain", row=r + 1, col=c + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=rows * height_per_row + 30, margin=dict(l=5, r=5, t=30, b=5))
    return fig


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
) -> go.Figure:
    """Return a two-panel animation: per frame, outlined input cells and the output as it stands.

    The browser plays it (Plotly frames), so playing costs the server nothing.
    """
    inp = np.asarray(input_grid, dtype=np.float64)
    first = np.asarray(output_frames[0], dtype=np.float64)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=list(titles),
        horizontal_spacing=0.08,
        column_widths=[inp.shape[1], max(first.shape[1], 1)],
    )
    shade = np.where(padding_mask, 0.5, 0.0) if padding_mask is not None else np.zeros_like(inp)
    text_in = [[f"{v:g}" for v in row] for row in inp]
    fig.add_trace(
        go.Heatmap(
            z=shade,
            text=text_in,
            texttemplate="%{text}",
            colorscale="Greys",
            zmin=0,
            zmax=1.5,
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    finite = np.concatenate([np.asarray(f, dtype=np.float64).ravel() for f in output_frames])
    finite = finite[np.isfinite(finite)]
    top = float(np.abs(finite).max()) if finite.size else 1.0

    def out_trace(frame: np.ndarray) -> go.Heatmap:
        frame = np.asarray(frame, dtype=np.float64)
        text = [["" if not np.isfinite(v) else f"{v:g}" for v in row] for row in frame]
        return go.Heatmap(
            z=frame,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=-0.3 * top,
            zmax=top * 1.3 or 1,
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        )

    # Pale empty cells behind the output, so the grid's final size is visible from step one.
    fig.add_trace(
        go.Heatmap(
            z=np.zeros(first.shape),
            colorscale=[[0, "#f1f5f9"], [1, "#f1f5f9"]],
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(out_trace(first), row=1, col=2)

    def shapes(i: int) -> list[dict]:
        out = []
        for r, c in input_cells[i]:
            out.append(
                dict(
                    type="rect",
                    xref="x",
                    yref="y",
                    x0=c - 0.5,
                    x1=c + 0.5,
                    y0=r - 0.5,
                    y1=r + 0.5,
                    line=dict(color="#f59e0b", width=3),
                )
            )
        for r, c in output_cells[i]:
            out.append(
                dict(
                    type="rect",
                    xref="x2",
                    yref="y2",
                    x0=c - 0.5,
                    x1=c + 0.5,
                    y0=r - 0.5,
                    y1=r + 0.5,
                    line=dict(color="#dc2626", width=3),
                )
            )
        return out

    n = len(output_frames)
    fig.frames = [
        go.Frame(
            data=[out_trace(output_frames[i])],
            traces=[1],
            layout=dict(shapes=shapes(i)),
            name=str(i),
        )
        for i in range(n)
    ]
    fig.update_layout(shapes=shapes(0))
    play = dict(
        frame=dict(duration=frame_ms, redraw=True), fromcurrent=True, transition=dict(duration=0)
    )
    fig.update_layout(
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                x=0,
                y=-0.06,
                xanchor="left",
                yanchor="top",
                buttons=[
                    dict(label="▶ play", method="animate", args=[None, play]),
                    dict(
                        label="❚❚ pause",
                        method="animate",
                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))],
                    ),
                ],
            )
        ],
        sliders=[
            dict(
                active=0,
                x=0.22,
                len=0.78,
                y=-0.04,
                currentvalue=dict(prefix="step "),
                steps=[
                    dict(
                        label=str(i + 1),
                        method="animate",
                        args=[
                            [str(i)],
                            dict(mode="immediate", frame=dict(duration=0, redraw=True)),
                        ],
                    )
                    for i in range(n)
                ],
            )
        ],
    )
    for col, (h, w) in ((1, inp.shape), (2, first.shape)):
        fig.update_yaxes(
            range=[h - 0.5, -0.5],
            showticklabels=False,
            showgrid=False,
            zeroline=False,
            row=1,
            col=col,
        )
        fig.update_xaxes(
            range=[-0.5, w - 0.5],
            showticklabels=False,
            showgrid=False,
            zeroline=False,
            constrain="domain",
            row=1,
            col=col,
        )
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_layout(plot_bgcolor="white")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=90))
    return fig
