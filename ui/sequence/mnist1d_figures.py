"""Figures of the MNIST-1D page: digit templates and samples, learning curves, the shuffled-time
ablation, sequential depth and time per batch. Data in, figures out; nothing is computed here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import finish_layout
from ui.i18n import t

ARCH_COLORS = {
    "linear": "#64748b",
    "mlp": "#f59e0b",
    "cnn": "#2563eb",
    "gru": "#dc2626",
    "lstm": "#9333ea",
    "rnn": "#16a34a",
    "tcn": "#0891b2",
    "cnn_plain": "#93c5fd",
}
SAMPLE_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#f59e0b")


def _log_ticks(low: float, high: float) -> list[float]:
    """Return 1-2-5 tick values covering [low, high] for a readable log axis."""
    ticks, decade = [], 10.0 ** np.floor(np.log10(low))
    while decade <= high * 10:
        ticks += [m * decade for m in (1, 2, 5) if low / 1.5 <= m * decade <= high * 1.5]
        decade *= 10
    return ticks


def _legend_on_top(fig: go.Figure, height: int, title: str | None) -> go.Figure:
    finish_layout(fig, height, title)
    fig.update_layout(
        margin=dict(t=90 if title else 50),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0, xanchor="left"),
    )
    if title:
        fig.update_layout(title=dict(y=0.98, yanchor="top", yref="container"))
    return fig


def digit_grid(
    times: np.ndarray,
    series: np.ndarray,
    *,
    x_title: str,
    title: str | None = None,
    height: int = 360,
    names: Sequence[str] | None = None,
) -> go.Figure:
    """Return ten small line plots, one per digit: series is (10, T) or (10, k, T) over t (T,)."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim == 2:
        series = series[:, None, :]
    fig = make_subplots(
        rows=2,
        cols=5,
        subplot_titles=[t("digit {d}", d=d) for d in range(10)],
        shared_yaxes=True,
        shared_xaxes=True,
        horizontal_spacing=0.02,
        vertical_spacing=0.12,
    )
    bound = float(np.abs(series).max()) * 1.05 or 1.0
    for d in range(10):
        row, col = d // 5 + 1, d % 5 + 1
        for j, y in enumerate(series[d]):
            name = names[d * series.shape[1] + j] if names else t("digit {d}", d=d)
            fig.add_trace(
                go.Scatter(
                    x=times,
                    y=y,
                    mode="lines",
                    line=dict(color=SAMPLE_COLORS[j % len(SAMPLE_COLORS)], width=1.6),
                    name=name,
                    hovertemplate=f"{name}<br>t %{{x:.2f}}: %{{y:.2f}}<extra></extra>",
                    showlegend=False,
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(range=[-bound, bound], showticklabels=col == 1, row=row, col=col)
        fig.update_xaxes(showticklabels=row == 2, row=row, col=col)
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(gridcolor="#e5e7eb", zeroline=True, zerolinecolor="#cbd5e1")
    for col in range(1, 6):
        fig.update_xaxes(title_text=x_title, row=2, col=col, title_font=dict(size=11))
    fig.update_annotations(font=dict(size=12))
    return finish_layout(fig, height, title)


def learning_curves(
    curves: dict[str, tuple[Sequence[int], Sequence[float], Sequence[float]]],
    colors: dict[str, str],
    *,
    dashed: Sequence[str] = (),
    by_time: bool = True,
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Return test accuracy vs step (left) and, if by_time, vs wall-clock seconds (right).

    curves: {name: (steps, seconds, test accuracy as a fraction)}, one line per run.
    """
    panels = [
        (
            t("minibatches of 100 seen"),
            t("step %{x:,}"),
            t("test accuracy vs training step"),
        )
    ]
    if by_time:
        panels.append((t("seconds since training began"), "%{x:.1f} s", t("test accuracy vs time")))
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=[p[2] for p in panels] if by_time else None,
    )
    for name, (steps, seconds, acc) in curves.items():
        style = dict(color=colors.get(name, "#334155"), width=2)
        if name in dashed:
            style["dash"] = "dash"
        acc_pct = 100 * np.asarray(acc, dtype=np.float64)
        for col, (x, (_, unit, _)) in enumerate(
            zip((steps, seconds)[: len(panels)], panels, strict=True), start=1
        ):
            fig.add_trace(
                go.Scatter(
                    x=list(x),
                    y=acc_pct,
                    mode="lines+markers",
                    marker=dict(size=4),
                    line=style,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    hovertemplate=f"{name}<br>{unit}: %{{y:.1f}}%<extra></extra>",
                ),
                row=1,
                col=col,
            )
    for col, (axis_title, _, _) in enumerate(panels, start=1):
        fig.update_xaxes(title_text=axis_title, row=1, col=col)
    fig.update_yaxes(title_text=t("test accuracy (%)"), range=[0, 100], row=1, col=1)
    fig.update_xaxes(gridcolor="#e5e7eb")
    fig.update_yaxes(gridcolor="#e5e7eb")
    fig.update_annotations(font=dict(size=12))
    return _legend_on_top(fig, height, title)


def before_after(
    times: np.ndarray, x: np.ndarray, x_shuffled: np.ndarray, *, title: str | None = None
) -> go.Figure:
    """Return one sequence (top) and the same 40 values in shuffled time order (bottom)."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            t("as generated"),
            t("time steps permuted (the same values, another order)"),
        ],
    )
    steps = np.arange(len(x))
    for row, y, color in ((1, x, "#2563eb"), (2, x_shuffled, "#dc2626")):
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=y,
                mode="lines+markers",
                marker=dict(size=5),
                line=dict(color=color, width=1.8),
                showlegend=False,
                hovertemplate=t("time step %{x}: %{y:.2f}<extra></extra>"),
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=t("value"), gridcolor="#e5e7eb", row=row, col=1)
    fig.update_xaxes(title_text=t("time step (position in the sequence)"), row=2, col=1)
    fig.update_annotations(font=dict(size=12))
    return finish_layout(fig, 380, title)


def ablation_bars(
    names: Sequence[str],
    values: dict[str, Sequence[float | None]],
    colors: dict[str, str],
    patterns: dict[str, str],
    *,
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """Return grouped bars: for each model, one bar per series (fractions, drawn in %)."""
    fig = go.Figure()
    for series, accs in values.items():
        y = [None if a is None else 100 * a for a in accs]
        fig.add_trace(
            go.Bar(
                x=list(names),
                y=y,
                name=series,
                marker=dict(color=colors[series], pattern=dict(shape=patterns.get(series, ""))),
                text=[None if v is None else f"{v:.0f}%" for v in y],
                textposition="outside",
                hovertemplate=f"%{{x}}, {series}: %{{y:.1f}}%<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        yaxis=dict(title=t("test accuracy (%)"), range=[0, 108], gridcolor="#e5e7eb"),
        bargap=0.25,
    )
    return _legend_on_top(fig, height, title)


def coverage(
    fields: dict[str, Sequence[int]],
    length: int,
    colors: dict[str, str],
    *,
    widths: dict[str, float] | None = None,
    title: str | None = None,
    height: int = 360,
    max_points: int = 2_000,
) -> go.Figure:
    """Return the share of the sequence one unit has seen after each sequential step (log x).

    fields: {name: samples seen after step 1, 2, …}; long curves are thinned to max_points.
    widths: line widths by name (a wide line stays visible under a thin one on the same path).
    """
    fig = go.Figure()
    longest = max((len(seen) for seen in fields.values()), default=1)
    for name, seen in fields.items():
        seen = np.asarray(seen, dtype=np.float64)
        steps = np.arange(1, len(seen) + 1)
        if len(seen) > max_points:  # a straight line in steps: thinning keeps it exact
            keep = np.unique(np.geomspace(1, len(seen), max_points).astype(int)) - 1
            steps, seen = steps[keep], seen[keep]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=100 * seen / length,
                mode="lines+markers" if len(steps) <= 60 else "lines",
                marker=dict(size=6),
                line=dict(
                    color=colors.get(name, "#334155"),
                    width=(widths or {}).get(name, 2.2),
                    shape="hv",
                ),
                name=name,
                customdata=seen,
                hovertemplate=f"{name}<br>"
                + t(
                    "after step {x}: {seen} of {length} samples",
                    x="%{x:,}",
                    seen="%{customdata:,.0f}",
                    length=f"{length:,}",
                )
                + "<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis=dict(
            type="log",
            title=t("sequential steps (log scale)"),
            gridcolor="#e5e7eb",
            tickvals=_log_ticks(1, longest),
        ),
        yaxis=dict(title=t("share of the sequence seen (%)"), range=[0, 105], gridcolor="#e5e7eb"),
    )
    return _legend_on_top(fig, height, title)


def time_per_batch(
    timings: dict[str, tuple[Sequence[int], Sequence[float]]],
    colors: dict[str, str],
    *,
    batch: int,
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """Return forward time per batch (ms, log) against sequence length (log), one line per model."""
    fig = go.Figure()
    all_ms = [1000 * s for _, seconds in timings.values() for s in seconds]
    all_t = [n for lengths, _ in timings.values() for n in lengths]
    for name, (lengths, seconds) in timings.items():
        fig.add_trace(
            go.Scatter(
                x=list(lengths),
                y=[1000 * s for s in seconds],
                mode="lines+markers",
                marker=dict(size=7),
                line=dict(color=colors.get(name, "#334155"), width=2),
                name=name,
                hovertemplate=f"{name}<br>"
                + t("T = {x}: {y} ms per batch of {batch}", x="%{x:,}", y="%{y:.2f}", batch=batch)
                + "<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis=dict(
            type="log",
            title=t("sequence length T (log scale)"),
            gridcolor="#e5e7eb",
            tickvals=sorted(set(all_t)),
            tickformat=",",
        ),
        yaxis=dict(
            type="log",
            title=t("ms per forward pass, batch {batch}", batch=batch),
            gridcolor="#e5e7eb",
            tickvals=_log_ticks(min(all_ms, default=1), max(all_ms, default=1)),
            tickformat="~g",
        ),
    )
    return _legend_on_top(fig, height, title)
