"""Figures and tables for the kernel-sizes page: data in, `go.Figure` or table columns out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.kernels import DesignCost, Phrase, Separability, WidthFit
from ui.figures import DIVERGING, GRAY, finish_layout, name_figure
from ui.i18n import phrase_text, t

COLORS = ("#dc2626", "#2563eb", "#16a34a", "#9333ea")


def tex_int(value: int) -> str:
    """Return an integer with thousands separators that st.latex keeps tight: 1{,}024."""
    return f"{value:,}".replace(",", "{,}")


def say(words: str) -> str:
    """Return engine words in the session's language: a Phrase from its id (its message-id
    parameters translated too), other text as it is."""
    return phrase_text(words) if isinstance(words, Phrase) else words


def cost_table(costs: Sequence[DesignCost]) -> dict:
    """Return ui.tables.table's data and formats comparing designs: field, weights, biases,
    work, ReLUs."""
    counts = (t("weights"), t("biases"), t("multiply-adds"))
    data = {
        t("design"): [say(c.name) for c in costs],
        t("receptive field"): [f"{c.receptive_field[0]}×{c.receptive_field[1]}" for c in costs],
        counts[0]: [c.weights for c in costs],
        counts[1]: [c.biases for c in costs],
        counts[2]: [c.macs for c in costs],
        t("ReLUs"): [c.nonlinearities for c in costs],
        t("output (C × H × W)"): [" × ".join(map(str, c.out_shape)) for c in costs],
    }
    return {"data": data, "formats": dict.fromkeys(counts, "localized")}


def _taps(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{round(v, 3) + 0.0:g}" for v in values) + "]"  # + 0.0: no "-0"


def width_fit_table(fits: Sequence[WidthFit]) -> dict:
    """Return ui.tables.table's data and formats of the centred-difference fits, one row per
    kernel width."""
    errors = (t("error (centred)"), t("error (any weights)"))
    data = {
        t("width"): [f.width for f in fits],
        t("input offsets read"): [str(list(f.offsets)) for f in fits],
        t("best centred kernel"): [_taps(f.antisymmetric_kernel) for f in fits],
        errors[0]: [f.antisymmetric_error for f in fits],
        t("best kernel, any weights"): [_taps(f.any_kernel) for f in fits],
        errors[1]: [f.any_error for f in fits],
    }
    return {"data": data, "formats": dict.fromkeys(errors, "percent")}


def separability_table(seps: dict[str, Separability]) -> dict:
    """Return ui.tables.table's data and formats: each kernel's rank, rank-1 error and measured
    difference."""
    error, difference = t("best rank-1 error (SVD)"), t("max |n×n − 1×n·n×1| on your image")
    data = {
        t("kernel"): [t(name) for name in seps],
        t("rank"): [s.rank for s in seps.values()],
        error: [s.rank1_error for s in seps.values()],
        difference: [s.max_abs_diff for s in seps.values()],
    }
    return {"data": data, "formats": {error: "percent", difference: "%.1e"}}


def compare_maps(
    first: np.ndarray,
    second: np.ndarray,
    difference: np.ndarray,
    titles: Sequence[str],
    *,
    title: str,
    height: int = 300,
) -> go.Figure:
    """Return two (H, W) maps on one gray scale and their difference (blue −, red +) beside,
    under title (what is compared; the PNG's name)."""
    maps = [np.asarray(m, dtype=np.float32) for m in (first, second, difference)]
    low = float(min(maps[0].min(), maps[1].min()))
    high = float(max(maps[0].max(), maps[1].max()))
    bound = float(np.abs(maps[2]).max()) or 1.0
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(titles), horizontal_spacing=0.03)
    for i, m in enumerate(maps):
        last = i == 2
        fig.add_trace(
            go.Heatmap(
                z=m,
                colorscale=DIVERGING if last else GRAY,
                zmin=-bound if last else low,
                zmax=bound if last else high,
                showscale=last,
                colorbar=dict(thickness=10, len=0.9),
                hovertemplate=t("row %{y}, col %{x}") + "<br>%{z:.4f}<extra></extra>",
            ),
            row=1,
            col=i + 1,
        )
        fig.update_yaxes(
            autorange="reversed",
            showticklabels=False,
            scaleanchor=f"x{i + 1 if i else ''}",
            row=1,
            col=i + 1,
        )
        fig.update_xaxes(showticklabels=False, constrain="domain", row=1, col=i + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5))
    return name_figure(fig, title)


def step_profile(
    signal: np.ndarray,
    responses: dict[str, np.ndarray],
    centres: dict[str, float],
    edge_at: float,
    *,
    height: int = 340,
) -> go.Figure:
    """Return a 1-D step and kernel responses over pixel index, each response's centre dashed."""
    x = np.arange(len(signal))
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=signal,
            name=t("step (input)"),
            mode="lines+markers",
            line=dict(color="#6b7280", shape="hvh"),
            marker=dict(size=6),
        )
    )
    sides = ("right", "left")  # two centres may sit half a pixel apart: label them outwards
    items = list(zip(COLORS, responses.items(), strict=False))
    for i, (color, (name, y)) in reversed(list(enumerate(items))):
        # overlaid on their own pixel, later responses wider and underneath, so all stay visible
        fig.add_trace(
            go.Bar(x=x, y=y, name=t(name), marker_color=color, opacity=0.8, width=0.3 + 0.25 * i)
        )
    for i, (color, (name, _)) in enumerate(items):
        fig.add_vline(
            x=centres[name],
            line=dict(color=color, dash="dash", width=2),
            annotation_text=t("centre {x:g}", x=centres[name]),
            annotation_font_color=color,
            annotation_position=f"top {sides[i % 2]}",
        )
    fig.add_vline(
        x=edge_at,
        line=dict(color="black", width=1),
        annotation_text=t("edge {x:g}", x=edge_at),
        annotation_position="bottom right",
    )
    fig.update_layout(
        barmode="overlay",
        legend_traceorder="reversed",
        xaxis=dict(title=t("pixel"), dtick=1),
        yaxis=dict(range=[-0.1, 1.25]),
        legend=dict(orientation="h", y=-0.25),
    )
    return name_figure(finish_layout(fig, height), t("A step edge and each kernel's response"))
