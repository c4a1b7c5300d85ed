"""Figure builders for the recurrent pages: data in, `go.Figure` out, nothing computed but layout.

Characters a person typed are drawn as Plotly text, one character per cell or tick, after
`char_label` has escaped them (a single character cannot form a tag, and "<", ">", "&" are
escaped anyway), so no typed text ever reaches the page as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from engine.core import N_
from ui.figures import DIVERGING, LEGEND_BELOW, finish_layout
from ui.i18n import t

GATE_NAMES = {  # a gate's key in the engine's statistics → its name in a legend (a message id)
    "input": N_("input gate"),
    "forget": N_("forget gate"),
    "output": N_("output gate"),
    "reset": N_("reset gate"),
    "update": N_("update gate"),
}

GATE_SCALE = "Viridis"  # values in (0, 1): dark = closed, yellow = open
SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥"}  # visible stand-ins for blank characters
# Plotly measures every tick label's box to hide any that overflow the figure; inside a long
# Streamlit page each measurement forces a page layout, and with a label per character this took
# seconds per redraw (profiled in Chromium, issue 13). Labels here never overflow: skip the check.
NO_OVERFLOW_CHECK = {"ticklabeloverflow": "allow"}
UNIT_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def char_label(ch: str) -> str:
    """Return one character as a safe, visible label (blanks shown as ␣ ↵ ⇥, HTML escaped).

    Quotes stay as typed: Plotly decodes &amp; &lt; &gt; in text but would print &quot; literally.
    """
    return html.escape(SHOWN.get(ch, ch), quote=False)


def char_code(ch: str) -> str:
    """Return one character as markdown inline code (blanks made visible), safe in st.markdown."""
    label = SHOWN.get(ch, ch)
    return "`` ` ``" if label == "`" else f"`{label}`"


def clicked_index(point: object, limit: int) -> int | None:
    """Return the integer customdata (0 <= value < limit) of a clicked point, or None."""
    data = point.get("customdata") if isinstance(point, dict) else None
    data = data[0] if isinstance(data, list | tuple) and data else data
    if isinstance(data, int | float) and not isinstance(data, bool) and 0 <= data < limit:
        return int(data)
    return None


def _tick_text(chars: Sequence[str], start: int, every: int) -> tuple[list[int], list[str]]:
    positions = list(range(start, start + len(chars), every))
    return positions, [char_label(chars[p - start]) for p in positions]


def _stacked(
    titles: Sequence[str], spacing: float, ticks: tuple[list[int], list[str]], x_title: str | None
) -> dict:
    """Return a layout dict: one row per title sharing the x axis, labels on the bottom row only.

    Written out by hand: plotly's make_subplots costs ~50 ms a call, a third of a page rerun.
    """
    rows = len(titles)
    height = (1 - spacing * (rows - 1)) / rows
    layout: dict = {"annotations": []}
    for r, title in enumerate(titles):
        top = 1 - r * (height + spacing)
        sfx = "" if r == 0 else str(r + 1)
        last = r == rows - 1
        layout[f"yaxis{sfx}"] = dict(
            domain=[max(0.0, top - height), min(1.0, top)], anchor=f"x{sfx}", **NO_OVERFLOW_CHECK
        )
        layout[f"xaxis{sfx}"] = dict(
            anchor=f"y{sfx}",
            matches=None if r == 0 else "x",
            tickvals=ticks[0],
            ticktext=ticks[1],
            tickangle=0,
            tickfont=dict(size=9),
            showticklabels=last,
            title=dict(text=x_title) if last and x_title else None,
            **NO_OVERFLOW_CHECK,
        )
        layout["annotations"].append(
            dict(
                text=title,
                x=0.5,
                y=min(1.0, top),
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=14),
            )
        )
    return layout


def _axes(r: int) -> dict[str, str]:
    sfx = "" if r == 0 else str(r + 1)
    return {"xaxis": f"x{sfx}", "yaxis": f"y{sfx}"}


def state_heatmaps(
    panels: dict[str, np.ndarray],
    chars: Sequence[str],
    start: int,
    *,
    bounded: dict[str, tuple[float, float] | None],
    row_height: int = 170,
) -> go.Figure:
    """Return (W, H) activations per panel as stacked time × unit heatmaps sharing the time axis.

    bounded[name]: (zmin, zmax) for gates and tanh outputs, None for a symmetric scale (cell).
    The bottom axis labels time steps with the character read there (every few when wide).
    """
    names = list(panels)
    width, rows, spacing = len(chars), len(panels), 0.045
    traces = []
    for r, name in enumerate(names):
        z = np.asarray(panels[name], dtype=np.float32).T  # (H, W): units down, time across
        lim = bounded.get(name)
        if lim is None:  # unbounded (the cell): the 98th percentile, so a few outliers stay vivid
            bound = float(np.percentile(np.abs(z), 98)) or 1.0
            lim = (-bound, bound)
        centre = 1 - r * ((1 - spacing * (rows - 1)) / rows + spacing) - 0.5 / rows
        traces.append(
            go.Heatmap(
                z=z,
                x=np.arange(start, start + width),
                zmin=lim[0],
                zmax=lim[1],
                colorscale=GATE_SCALE if lim[0] >= 0 else DIVERGING,
                colorbar=dict(thickness=10, len=0.9 / rows, y=centre, yanchor="middle"),
                hovertemplate=t(
                    "{name}<br>t %{{x}}, unit %{{y}}<br>%{{z:.3f}}<extra></extra>", name=name
                ),
                **_axes(r),
            )
        )
    layout = _stacked(
        names,
        spacing,
        _tick_text(chars, start, max(1, -(-width // 150))),
        t("character read at time t"),
    )
    for r in range(rows):
        sfx = "" if r == 0 else str(r + 1)
        layout[f"yaxis{sfx}"].update(title=t("unit"), autorange="reversed", showgrid=False)
        layout[f"xaxis{sfx}"]["showgrid"] = False  # the cells hide grid lines: only DOM weight
        if r < rows - 1:  # unlabelled rows need no per-character ticks (they share x's range)
            layout[f"xaxis{sfx}"].update(tickvals=None, ticktext=None)
    title = t("Each unit over the text, one row per unit")
    return finish_layout(go.Figure(data=traces, layout=layout), row_height * rows + 60, title)


def unit_traces(
    panels: dict[str, np.ndarray],
    units: Sequence[int],
    chars: Sequence[str],
    start: int,
    *,
    row_height: int = 150,
) -> go.Figure:
    """Return one row per quantity (each (W, H)) with a line for every chosen unit over time."""
    names = list(panels)
    x = np.arange(start, start + len(chars))
    hover = [char_label(c) for c in chars]
    traces = [
        go.Scatter(
            x=x,
            y=np.asarray(panels[name])[:, unit],
            customdata=hover,
            mode="lines",
            line=dict(color=UNIT_COLOURS[k % len(UNIT_COLOURS)], width=1.6),
            name=t("unit {unit}", unit=unit),
            legendgroup=str(unit),
            showlegend=r == 0,
            hovertemplate=t(
                "unit {unit}, t %{{x}} '%{{customdata}}': %{{y:.3f}}<extra></extra>", unit=unit
            ),
            **_axes(r),
        )
        for r, name in enumerate(names)
        for k, unit in enumerate(units)
    ]
    layout = _stacked(names, 0.03, _tick_text(chars, start, max(1, -(-len(chars) // 150))), None)
    layout["legend"] = LEGEND_BELOW
    height = row_height * len(names) + 70
    return finish_layout(go.Figure(data=traces, layout=layout), height, t("Chosen units over time"))


def topk_bars(pairs: Sequence[tuple[str, float]], actual: str | None = None) -> go.Figure:
    """Return the top-k (character, probability) pairs as bars; the actual next char in red."""
    labels = [f"'{char_label(c)}'" for c, _ in pairs]
    colours = ["#dc2626" if c == actual else "#2563eb" for c, _ in pairs]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[p for _, p in pairs],
            marker_color=colours,
            text=[f"{p:.1%}" for _, p in pairs],
            textposition="outside",
        )
    )
    fig.update_layout(
        yaxis=dict(range=[0, 1.1], title=t("P(next character)")), xaxis_type="category"
    )
    return finish_layout(fig, 280, t("Top-5 next characters (red: the one that actually follows)"))


def text_colored(
    text: str, values: np.ndarray, *, title: str | None = None, columns: int = 100
) -> go.Figure:
    """Return text drawn as a grid of characters, each cell coloured by its value (blue − / red +).

    Lines are kept; lines longer than `columns` wrap. Hovering a cell shows its value.
    """
    rows, cols, labels = [], [], []
    row = col = 0
    for ch in text:
        if col >= columns:
            row, col = row + 1, 0
        rows.append(row)
        cols.append(col)
        labels.append("" if ch == " " else char_label(ch))
        if ch == "\n":
            row, col = row + 1, 0
        else:
            col += 1
    n_rows, n_cols = row + 1, max(cols, default=0) + 1
    z = np.full((n_rows, n_cols), np.nan, dtype=np.float32)
    grid = np.full((n_rows, n_cols), "", dtype=object)
    z[rows, cols] = values
    grid[rows, cols] = labels
    bound = float(np.nanmax(np.abs(values))) if len(values) else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            text=grid,
            texttemplate="%{text}",
            textfont=dict(family="monospace", size=11),
            colorscale=DIVERGING,
            zmin=-(bound or 1.0),
            zmax=bound or 1.0,
            xgap=1,
            ygap=1,
            colorbar=dict(thickness=10),
            hovertemplate="'%{text}': %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", visible=False)
    fig.update_xaxes(visible=False)
    return finish_layout(fig, min(1400, max(140, 40 + 17 * n_rows)), title)


def saturation_scatter(
    saturation: dict[str, dict[str, np.ndarray]], *, title: str | None = None, height: int = 400
) -> go.Figure:
    """Return one marker per unit and gate: fraction left-saturated (x) vs right-saturated (y)."""
    fig = go.Figure()
    for k, (gate, frac) in enumerate(saturation.items()):
        fig.add_trace(
            go.Scatter(
                x=frac["left"],
                y=frac["right"],
                mode="markers",
                name=t(GATE_NAMES.get(gate, gate)),
                marker=dict(size=7, opacity=0.7, color=UNIT_COLOURS[k % len(UNIT_COLOURS)]),
                customdata=np.arange(len(frac["left"])),
                hovertemplate=t(
                    "{gate}, unit %{{customdata}}<br>< 0.1: %{{x:.0%}} of steps<br>> 0.9: "
                    "%{{y:.0%}}<extra></extra>",
                    gate=t(GATE_NAMES.get(gate, gate)),
                ),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[1, 0],
            mode="lines",
            line=dict(color="#999", dash="dot", width=1),
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis=dict(title=t("fraction of steps left-saturated (< 0.1)"), range=[-0.03, 1.03]),
        yaxis=dict(title=t("fraction right-saturated (> 0.9)"), range=[-0.03, 1.03]),
        legend=dict(orientation="h", y=1.1),
    )
    return finish_layout(fig, height, title)


def sorted_means(
    means: np.ndarray, threshold: float, *, title: str | None = None, y_title: str = ""
) -> go.Figure:
    """Return per-unit means as bars sorted from largest, with a dashed line at threshold."""
    order = np.argsort(-np.asarray(means), kind="stable")
    fig = go.Figure(
        go.Bar(
            x=np.arange(len(order)),
            y=np.asarray(means)[order],
            customdata=order,
            marker_color=np.where(np.asarray(means)[order] >= threshold, "#dc2626", "#2563eb"),
            hovertemplate=t("unit %{customdata}: %{y:.3f}<extra></extra>"),
        )
    )
    fig.add_hline(y=threshold, line=dict(dash="dash", color="#444", width=1))
    fig.update_layout(
        xaxis_title=t("units, sorted by mean"), yaxis=dict(title=y_title, range=[0, 1]), bargap=0.1
    )
    return finish_layout(fig, 280, title)
