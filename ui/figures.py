"""Figure builders: data in, `go.Figure` out. No science is computed here, only drawn.

Heatmaps that a person can click carry an invisible scatter overlay (one marker per cell), because
Streamlit returns no points for clicks on a heatmap trace itself (see DESIGN.md, known traps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DIVERGING = "RdBu_r"  # signed values: blue negative, white zero, red positive
GRAY = "gray"
PICK_CURVE = 1  # index of the invisible overlay trace in a pickable heatmap
MAX_PICK_CELLS = 80_000  # above this, the overlay gets too heavy for the browser


def _square_axes(fig: go.Figure, row: int | None = None, col: int | None = None) -> None:
    kw = {} if row is None else {"row": row, "col": col}
    fig.update_yaxes(autorange="reversed", scaleanchor="x" if row is None else None, **kw)
    fig.update_xaxes(constrain="domain", **kw)


def _layout(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title, x=0, font=dict(size=14)) if title else None,
        plot_bgcolor="white",
    )
    return fig


def rgb_image(rgb: np.ndarray, title: str | None = None, height: int = 320) -> go.Figure:
    """Return an RGB (H, W, 3) uint8 array as a figure with pixel coordinates on the axes."""
    fig = go.Figure(go.Image(z=rgb, hovertemplate="row %{y}, col %{x}<br>RGB %{z}<extra></extra>"))
    _square_axes(fig)
    return _layout(fig, height, title)


def heatmap(
    z: np.ndarray,
    title: str | None = None,
    *,
    signed: bool = False,
    pickable: bool = False,
    selected: tuple[int, int] | None = None,
    height: int = 360,
    colorbar: bool = True,
    zmin: float | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """Return a (H, W) map as a heatmap; pickable adds the click overlay, selected draws a box."""
    z = np.asarray(z, dtype=np.float32)
    if signed and zmin is None and zmax is None:
        bound = float(np.abs(z).max()) or 1.0
        zmin, zmax = -bound, bound
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=DIVERGING if signed else GRAY,
            zmin=zmin,
            zmax=zmax,
            showscale=colorbar,
            colorbar=dict(thickness=12),
            hovertemplate="row %{y}, col %{x}<br>value %{z:.4f}<extra></extra>",
        )
    )
    h, w = z.shape
    if pickable and h * w <= MAX_PICK_CELLS:
        rows, cols = np.mgrid[0:h, 0:w]
        fig.add_trace(
            go.Scatter(
                x=cols.ravel(),
                y=rows.ravel(),
                mode="markers",
                marker=dict(size=max(2, int(600 / max(h, w))), opacity=0, color="black"),
                customdata=z.ravel(),
                hovertemplate="row %{y}, col %{x}<br>value %{customdata:.4f}<extra>click</extra>",
                showlegend=False,
            )
        )
    if selected is not None:
        r, c = selected
        fig.add_shape(
            type="rect",
            x0=c - 0.5,
            x1=c + 0.5,
            y0=r - 0.5,
            y1=r + 0.5,
            line=dict(color="#f59e0b", width=3),
        )
    _square_axes(fig)
    fig.update_layout(clickmode="event+select", dragmode=False)
    return _layout(fig, height, title)


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
                text=None if big else [[format(v, fmt) for v in row] for row in g],
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
    """Return several (H, W) maps as a grid of small heatmaps, one colour scale each or shared."""
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
    shared = max(float(np.abs(m).max()) for m in maps) or 1.0
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    for i in range(n):
        r, c = divmod(i, cols)
        m = maps[i]
        if signed:
            bound = shared if shared_scale else (float(np.abs(m).max()) or 1.0)
            zmin, zmax = -bound, bound
        else:
            zmin = low if shared_scale else float(m.min())
            zmax = high if shared_scale else float(m.max())
        fig.add_trace(
            go.Heatmap(
                z=m,
                colorscale=DIVERGING if signed else GRAY,
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


def lines(
    x: np.ndarray,
    series: dict[str, np.ndarray],
    *,
    title: str | None = None,
    x_title: str = "",
    y_title: str = "",
    height: int = 320,
    modes: dict[str, str] | None = None,
    log_y: bool = False,
    log_x: bool = False,
) -> go.Figure:
    """Return named series over a shared x axis as lines (or markers, per `modes`)."""
    fig = go.Figure()
    for name, y in series.items():
        mode = (modes or {}).get(name, "lines")
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode=mode, marker=dict(size=4)))
    fig.update_layout(
        xaxis_title=x_title,
        yaxis_title=y_title,
        legend=dict(orientation="h", y=1.12),
        yaxis_type="log" if log_y else None,
        xaxis_type="log" if log_x else None,
    )
    return _layout(fig, height, title)


def stem(values: np.ndarray, *, title: str | None = None, x_title: str = "", height: int = 240):
    """Return a 1D array as a stem plot (bars), for kernels over an index."""
    fig = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color="#2563eb"))
    fig.update_layout(xaxis_title=x_title, bargap=0.3)
    return _layout(fig, height, title)


def matrix_pattern(
    m: np.ndarray, title: str | None = None, *, height: int = 360, signed: bool = True
) -> go.Figure:
    """Return a weight matrix with zeros left blank, so its sparsity and repeated values show."""
    m = np.asarray(m, dtype=np.float64)
    shown = np.where(m == 0, np.nan, m)
    bound = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            colorscale=DIVERGING if signed else "Blues",
            zmin=-bound if signed else 0,
            zmax=bound,
            xgap=1,
            ygap=1,
            showscale=False,
            hovertemplate="output %{y}, input %{x}<br>weight %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title="output unit")
    fig.update_xaxes(title="input unit")
    return _layout(fig, height, title)


def connection_graph(
    weights: np.ndarray, title: str | None = None, *, height: int = 260, signed: bool = True
) -> go.Figure:
    """Return a two-row graph: inputs at the bottom, outputs on top, one line per nonzero weight."""
    w = np.asarray(weights, dtype=np.float64)
    n_out, n_in = w.shape
    bound = float(np.abs(w).max()) or 1.0
    fig = go.Figure()
    xs_in = np.linspace(0, 1, n_in)
    xs_out = np.linspace(0, 1, n_out) if n_out > 1 else np.array([0.5])
    # Group edges by value so shared weights get one colour and one legend-free trace each.
    values = np.unique(np.round(w[w != 0], 6))
    palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04"]
    for idx, v in enumerate(values):
        ex, ey = [], []
        for o, i in zip(*np.nonzero(np.isclose(w, v, atol=1e-6)), strict=True):
            ex += [xs_in[i], xs_out[o], None]
            ey += [0, 1, None]
        color = (
            palette[idx % len(palette)]
            if len(values) <= len(palette)
            else ("#dc2626" if v > 0 else "#2563eb")
        )
        fig.add_trace(
            go.Scatter(
                x=ex,
                y=ey,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line=dict(color=color, width=1 + 2.5 * abs(v) / bound),
                opacity=0.75,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs_in,
            y=np.zeros(n_in),
            mode="markers",
            name="inputs",
            marker=dict(size=9, color="#334155"),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs_out,
            y=np.ones(n_out),
            mode="markers",
            name="outputs",
            marker=dict(size=9, color="#f59e0b"),
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[-0.2, 1.2])
    fig.update_layout(showlegend=False)
    return _layout(fig, height, title)


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str | None = None,
    log_y: bool = False,
    height: int = 300,
    y_title: str = "",
    text: Sequence[str] | None = None,
) -> go.Figure:
    """Return a labelled bar chart (log scale optional) for comparing counts."""
    fig = go.Figure(
        go.Bar(
            x=list(labels),
            y=list(values),
            text=text,
            textposition="outside",
            marker_color="#2563eb",
        )
    )
    fig.update_layout(yaxis_type="log" if log_y else None, yaxis_title=y_title)
    return _layout(fig, height, title)


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


def unrolled_rnn(steps: int, title: str | None = None, *, height: int = 260) -> go.Figure:
    """Return the unrolled recurrence x_t → h_t ← h_(t−1): one U edge and one W edge per step."""
    fig = go.Figure()
    xs = np.arange(steps)
    for name, color, pairs in (
        ("U (input → state)", "#16a34a", [((t, 0.0), (t, 1.0)) for t in xs]),
        ("W (state → next state)", "#9333ea", [((t - 1, 1.0), (t, 1.0)) for t in xs[1:]]),
    ):
        ex, ey = [], []
        for (x0, y0), (x1, y1) in pairs:
            ex += [x0, x1, None]
            ey += [y0, y1, None]
        fig.add_trace(
            go.Scatter(
                x=ex,
                y=ey,
                mode="lines",
                name=name,
                line=dict(color=color, width=3),
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.zeros(steps),
            mode="markers+text",
            name="inputs",
            text=[f"x{t + 1}" for t in xs],
            textposition="bottom center",
            marker=dict(size=12, color="#334155"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.ones(steps),
            mode="markers+text",
            name="states",
            text=[f"h{t + 1}" for t in xs],
            textposition="top center",
            marker=dict(size=12, color="#f59e0b"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_xaxes(visible=False, range=[-0.5, steps - 0.5])
    fig.update_yaxes(visible=False, range=[-0.5, 1.5])
    fig.update_layout(legend=dict(orientation="h", y=-0.05))
    return _layout(fig, height, title)


def histograms(
    series: dict[str, np.ndarray],
    *,
    title: str | None = None,
    x_title: str = "",
    height: int = 300,
    bins: int = 60,
    log_y: bool = False,
) -> go.Figure:
    """Return overlaid histograms of named value sets (a sample of at most 20,000 values each)."""
    fig = go.Figure()
    for name, values in series.items():
        v = np.asarray(values, dtype=np.float32).ravel()
        if v.size > 20_000:  # a fixed stride keeps the shape and keeps the JSON small
            v = v[:: v.size // 20_000 + 1]
        fig.add_trace(go.Histogram(x=v, name=name, nbinsx=bins, opacity=0.6))
    fig.update_layout(
        yaxis_type="log" if log_y else None,
        barmode="overlay",
        xaxis_title=x_title,
        yaxis_title="count",
        legend=dict(orientation="h", y=1.15),
    )
    return _layout(fig, height, title)


def unit_layers(
    mask: np.ndarray,
    *,
    dense: bool,
    window: tuple[int, int] = (1, 1),
    title: str | None = None,
    height: int = 300,
    color: str = "#dc2626",
) -> go.Figure:
    """Return stacked layers of units (row 0 at the bottom), highlighted where mask is True.

    Lines join highlighted units in adjacent layers that are connected: every pair when dense,
    else units at most window = (left, right) apart, as in a convolution.
    """
    mask = np.asarray(mask, dtype=bool)
    levels, n = mask.shape
    fig = go.Figure()
    ex, ey = [], []
    left, right = window
    for level in range(levels - 1):
        below, above = np.nonzero(mask[level])[0], np.nonzero(mask[level + 1])[0]
        for a in above:
            for b in below:
                if dense or -left <= b - a <= right:
                    ex += [b, a, None]
                    ey += [level, level + 1, None]
    fig.add_trace(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            line=dict(color=color, width=1.2),
            opacity=0.5,
            hoverinfo="skip",
            showlegend=False,
        )
    )
    rows, cols = np.mgrid[0:levels, 0:n]
    on = mask.ravel()
    fig.add_trace(
        go.Scatter(
            x=cols.ravel(),
            y=rows.ravel(),
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                size=11, color=np.where(on, color, "#e2e8f0"), line=dict(color="#334155", width=1)
            ),
        )
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(
        tickvals=list(range(levels)),
        ticktext=["input"] + [f"layer {i}" for i in range(1, levels)],
        range=[-0.5, levels - 0.5],
        showgrid=False,
        zeroline=False,
    )
    return _layout(fig, height, title)
