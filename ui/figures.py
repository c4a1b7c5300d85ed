"""Figure builders: data in, `go.Figure` out. No science is computed here, only drawn.

A heatmap a person can click ("pickable") says so in its hover label; the click itself is read by
ui/chart.py, whose plotly.js reports the clicked cell of a heatmap trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.i18n import t

DIVERGING = "RdBu_r"  # signed values: blue negative, white zero, red positive
GRAY = "gray"
# A legend under the plot, at the figure's foot: on a narrow chart its rows grow downwards and
# push the bottom margin, so they never reach the title (whose length varies by language).
LEGEND_BELOW = dict(orientation="h", x=0, xanchor="left", yref="container", y=0, yanchor="bottom")


def square_axes(fig: go.Figure, row: int | None = None, col: int | None = None) -> None:
    """Make pixels square with row 0 at the top, as images are read."""
    kw = {} if row is None else {"row": row, "col": col}
    fig.update_yaxes(autorange="reversed", scaleanchor="x" if row is None else None, **kw)
    fig.update_xaxes(constrain="domain", **kw)


def finish_layout(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    """Return fig with the shared height, margins, title style and white plot background."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=_margins(title)[0], b=_margins(title)[1]),
        title=dict(text=title, x=0, font=dict(size=14)) if title else None,
        plot_bgcolor="white",
    )
    return fig


TITLE_BAND = 26  # px above a figure's own top margin (its panel titles) for its title


def name_figure(fig: go.Figure, title: str) -> go.Figure:
    """Return fig with its title in a band above everything it already shows (panel titles too).

    The title is what a reader sees above the figure and the name Plotly gives its PNG download
    ("Download plot as a PNG" names the file after it); the band keeps the panels' own space.
    """
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", y=1, yref="container", yanchor="top", pad_t=8),
        title_font_size=14,
        margin_t=(fig.layout.margin.t or 0) + TITLE_BAND,
    )
    if fig.layout.height:
        fig.update_layout(height=fig.layout.height + TITLE_BAND)
    return fig


def rgb_image(rgb: np.ndarray, title: str | None = None, height: int = 320) -> go.Figure:
    """Return an RGB (H, W, 3) uint8 array as a figure with pixel coordinates on the axes."""
    hover = t("row %{y}, col %{x}<br>RGB %{z}") + "<extra></extra>"
    fig = go.Figure(go.Image(z=rgb, hovertemplate=hover))
    square_axes(fig)
    return finish_layout(fig, height, title)


def _margins(title: str | None) -> tuple[int, int]:
    """Return the (top, bottom) margins in pixels that finish_layout gives a figure."""
    return (40 if title else 10), 10


def selection_marks(row: int, col: int, h: int, w: int) -> list[dict]:
    """Return the shapes marking a selected cell: its outline and a ring around it.

    The ring (a square about 1/16 of the map's side, at least 2 cells out) keeps the choice
    visible when a cell is only a pixel or two wide; dark under light outlines show on any colour.
    """
    reach = max(2, max(h, w) // 32)
    return [
        _square(row, col, 0.5, "#111827", 5),
        _square(row, col, 0.5, "#f59e0b", 2.5),
        _square(row, col, reach + 0.5, "#111827", 4),
        _square(row, col, reach + 0.5, "#f59e0b", 2),
    ]


def _square(row: int, col: int, half: float, color: str, width: float) -> dict:
    """Return a square outline centred on cell (row, col), reaching `half` cells each way."""
    return dict(
        type="rect",
        x0=col - half,
        x1=col + half,
        y0=row - half,
        y1=row + half,
        line=dict(color=color, width=width),
    )


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
    boxes: Sequence[tuple[float, float, float, float, str]] = (),
    colorscale: str | list | None = None,
) -> go.Figure:
    """Return a (H, W) map as a heatmap; pickable says "click" on hover, selected draws a box.

    boxes: (top, left, bottom, right, colour) rectangles in pixel coordinates, edges included.
    """
    z = np.asarray(z, dtype=np.float32)
    if signed and zmin is None and zmax is None:
        bound = float(np.abs(z).max()) or 1.0
        zmin, zmax = -bound, bound
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=colorscale or (DIVERGING if signed else GRAY),
            zmin=zmin,
            zmax=zmax,
            showscale=colorbar,
            colorbar=dict(thickness=12),
            hovertemplate=t("row %{y}, col %{x}<br>value %{z:.4f}")
            + (t("<extra>click</extra>") if pickable else "<extra></extra>"),
        )
    )
    h, w = z.shape
    if selected is not None:
        for shape in selection_marks(*selected, h, w):
            fig.add_shape(shape)
    for top, left, bottom, right, color in boxes:
        fig.add_shape(
            type="rect",
            x0=left - 0.5,
            x1=right + 0.5,
            y0=top - 0.5,
            y1=bottom + 0.5,
            line=dict(color=color, width=2.5),
        )
    square_axes(fig)
    fig.update_layout(dragmode=False)
    return finish_layout(fig, height, title)


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
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, legend=LEGEND_BELOW)
    if log_y:
        fig.update_yaxes(**_log_ticks(np.concatenate([np.ravel(y) for y in series.values()])))
    if log_x:
        fig.update_xaxes(**_log_ticks(np.asarray(x, dtype=np.float64), at_points=True))
    return finish_layout(fig, height, title)


MAX_LOG_TICKS = 12  # more labels than this on a log axis crowd it: keep powers of 10 only


def _log_ticks(values: np.ndarray, at_points: bool = False) -> dict:
    """Return the settings of a log axis that labels clean major ticks only.

    Plotly's default also labels minor ticks on a short log range ("2, 10, 5, 2, 1"), which reads
    as a broken axis. at_points: label the sample points themselves (few x values); otherwise
    1-2-5 steps across the data's range, or powers of 10 when those would be too many.
    """
    values = np.asarray(values, dtype=np.float64)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return dict(type="log")
    if at_points and positive.size <= MAX_LOG_TICKS:
        points = np.unique(positive)
        return dict(type="log", tickvals=points.tolist(), ticktext=[f"{v:g}" for v in points])
    return dict(type="log", tickvals=log_tick_values(positive.min(), positive.max()))


def log_tick_values(low: float, high: float) -> list[float]:
    """Return 1-2-5 tick values covering [low, high] (one step beyond), or powers of 10 only."""
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    steps = [m * 10.0**e for e in range(first, last + 1) for m in (1, 2, 5)]
    inside = [v for v in steps if low / 5 < v < high * 5]
    lo = max([v for v in inside if v <= low], default=inside[0])
    hi = min([v for v in inside if v >= high], default=inside[-1])
    ticks = [v for v in inside if lo <= v <= hi]
    if len(ticks) > MAX_LOG_TICKS:
        ticks = [10.0**e for e in range(first, last + 1)]
    return [float(f"{v:.12g}") for v in ticks]


def stem(values: np.ndarray, *, title: str | None = None, x_title: str = "", height: int = 240):
    """Return a 1D array as a stem plot (bars), for kernels over an index."""
    fig = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color="#2563eb"))
    fig.update_layout(xaxis_title=x_title, bargap=0.3)
    return finish_layout(fig, height, title)


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
    return finish_layout(fig, height, title)


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
        yaxis_title=t("count"),
        legend=LEGEND_BELOW,
    )
    return finish_layout(fig, height, title)
