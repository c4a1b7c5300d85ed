"""Figures for the text CNN (n-gram filters over characters or words) and the synthetic tasks.

Typed text reaches the page only as Plotly text after `char_label` / `token_label` escaped it, so no
typed text is ever rendered as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures import finish_layout, name_figure
from ui.i18n import t
from ui.recurrent.figures import SHOWN, UNIT_COLOURS

FIRE_SCALE = [[0.0, "#fffaf5"], [1.0, "#f97316"]]  # ≥ 0: white = silent; light enough for text
ARCH_COLOURS = {"cnn": "#16a34a", "gru": "#2563eb", "lstm": "#9333ea", "rnn": "#dc2626"}
MAX_LABEL = 12  # characters of a word shown in a cell (the hover has the whole word)


def _finish(fig: go.Figure, height: int) -> go.Figure:
    """Return fig with the shared layout and room above for subplot titles."""
    finish_layout(fig, height)
    fig.update_layout(margin=dict(t=44))
    return fig


def token_label(token: str, limit: int = MAX_LABEL) -> str:
    """Return a token as a short, visible, HTML-escaped label (blanks shown as ␣ ↵ ⇥)."""
    shown = "".join(SHOWN.get(ch, ch) for ch in token)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return html.escape(shown, quote=False)


def ngram_heatmap(
    activations: np.ndarray, names: Sequence[str], windows: Sequence[str], *, height: int = 0
) -> go.Figure:
    """Return the (F, W) filter activations over window positions, windows named on the x axis."""
    n_filters, n_windows = activations.shape
    every = max(1, -(-n_windows // 60))
    ticks = list(range(0, n_windows, every))
    hover = np.array([[token_label(w, 40) for w in windows]] * n_filters, dtype=object)
    fig = go.Figure(
        go.Heatmap(
            z=activations,
            x=np.arange(n_windows),
            y=np.arange(n_filters),
            colorscale=FIRE_SCALE,
            zmin=0,
            zmax=max(float(activations.max()), 1e-9),
            customdata=hover,
            xgap=1 if n_windows <= 150 else 0,
            ygap=2,
            colorbar=dict(thickness=10, title="ReLU"),
            hovertemplate=t("window %{x} “%{customdata}”: %{z:.3f}<extra></extra>"),
        )
    )
    fig.update_yaxes(
        tickvals=list(range(n_filters)),
        ticktext=[f"“{token_label(n, 24)}”" for n in names],
        autorange="reversed",
        title_text=t("filter (the n-gram it detects)"),
    )
    fig.update_xaxes(
        tickvals=ticks,
        ticktext=[token_label(windows[i], 16) for i in ticks],
        tickangle=-60,
        tickfont=dict(family="monospace", size=10),
        title_text=t("window (where the filter sits)"),
    )
    title = t("Each n-gram filter's response along the text")
    return finish_layout(fig, height or 150 + 34 * n_filters, title)


def token_strip(
    tokens: Sequence[str], values: np.ndarray, *, columns: int, title: str | None = None
) -> go.Figure:
    """Return tokens laid out in rows of `columns` cells, each cell coloured by its value, under
    title (by default: how strongly the filter answers each token)."""
    title = title or t("How strongly the chosen filter answers each token")
    n = len(tokens)
    rows = max(1, -(-n // columns))
    z = np.full((rows, columns), np.nan)
    text = np.full((rows, columns), "", dtype=object)
    hover = np.full((rows, columns), "", dtype=object)
    idx = np.arange(n)
    z[idx // columns, idx % columns] = values
    text[idx // columns, idx % columns] = [token_label(tok) for tok in tokens]
    hover[idx // columns, idx % columns] = [
        f"{i}: “{token_label(tok, 40)}”" for i, tok in enumerate(tokens)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            textfont=dict(family="monospace", size=12),
            colorscale=FIRE_SCALE,
            zmin=0,
            zmax=max(float(np.max(values)) if n else 0.0, 1e-9),
            xgap=1,
            ygap=3,
            showscale=False,
            hovertemplate="%{customdata}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", visible=False)
    fig.update_xaxes(visible=False)
    return finish_layout(fig, min(900, 30 + 32 * rows) + (30 if title else 0), title)


def task_examples(
    xs: np.ndarray, titles: Sequence[str], *, bars: bool, title: str, height: int = 220
) -> go.Figure:
    """Return a few example input sequences (n, T) side by side, one titled panel each, under
    title (the task's; the PNG's name).

    A title "label 0: more downs" is written on two lines (label, then meaning): four panels in
    half the page leave about 100 px per title.
    """
    n, length = xs.shape
    wrapped = [title.replace(": ", "<br>", 1) for title in titles]
    fig = make_subplots(
        rows=1, cols=n, shared_yaxes=True, subplot_titles=wrapped, horizontal_spacing=0.04
    )
    for i in range(n):
        steps = np.arange(length)
        if bars:
            trace = go.Bar(x=steps, y=xs[i], marker_color=np.where(xs[i] > 0, "#16a34a", "#dc2626"))
        else:
            trace = go.Scatter(
                x=steps, y=xs[i], mode="lines", line=dict(color="#334155", width=1.3)
            )
        trace.update(showlegend=False, hovertemplate="t %{x}: %{y:.2f}<extra></extra>")
        fig.add_trace(trace, row=1, col=i + 1)
    fig.update_xaxes(title_text="t", nticks=4)
    fig.update_yaxes(title_text="x_t", row=1, col=1)
    fig.update_annotations(font=dict(size=12))
    return name_figure(_finish(fig, height), title)


def _step_hover(name: str) -> str:
    """Return the hover template of one model's accuracy curve."""
    return t("{name}, step {x}: {y}", name=name, x="%{x}", y="%{y:.1%}") + "<extra></extra>"


def task_curves(
    curves: Mapping[str, Mapping[str, tuple[Sequence[int], Sequence[float]]]],
    titles: Mapping[str, str],
    names: Mapping[str, str],
    *,
    chance: float = 0.5,
    height: int = 360,
) -> go.Figure:
    """Return test accuracy against training step, one panel per task, one line per model.

    curves[task][arch] = (steps, accuracies); a dotted line marks chance.
    """
    tasks = list(curves)
    fig = make_subplots(
        rows=1,
        cols=max(1, len(tasks)),
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=[titles[task] for task in tasks],
    )
    seen: set[str] = set()
    for col, task in enumerate(tasks, start=1):
        for k, (arch, (steps, acc)) in enumerate(curves[task].items()):
            colour = ARCH_COLOURS.get(arch, UNIT_COLOURS[k % len(UNIT_COLOURS)])
            fig.add_trace(
                go.Scatter(
                    x=list(steps),
                    y=list(acc),
                    mode="lines+markers",
                    name=names[arch],
                    legendgroup=arch,
                    showlegend=arch not in seen,
                    line=dict(color=colour, width=2),
                    marker=dict(size=4),
                    hovertemplate=_step_hover(names[arch]),
                ),
                row=1,
                col=col,
            )
            seen.add(arch)
        fig.add_hline(y=chance, line=dict(color="#64748b", dash="dot", width=1), row=1, col=col)
        fig.update_xaxes(title_text=t("training step"), row=1, col=col)
    fig.update_yaxes(range=[0.35, 1.03], tickformat=".0%")
    fig.update_yaxes(title_text=t("test accuracy (dotted: chance)"), row=1, col=1)
    fig.update_layout(legend=dict(orientation="h", y=1.2, x=0, xanchor="left"))
    _finish(fig, height)
    fig.update_layout(margin=dict(t=70))  # room for the legend above the panel titles
    return name_figure(fig, t("Test accuracy while training, task by task"))
