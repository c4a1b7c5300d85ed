"""The margins a figure's labels need, worked out before plotly.js draws it (issue 13).

Every axis of the app's template has automargin: plotly.js draws the figure, measures its tick
labels, titles, colour bars and legend, grows the margins to hold them and draws the whole figure
again. That second draw is half of all the drawing a page does. So each figure travels with its
"pushers", the same list plotly.js builds: for a side of the plot (l, r, t, b), where along the
plot it sits (val: 0 is the plot's left or bottom edge, 1 its right or top edge) and how many
pixels it needs beyond that point. A pusher's size is px plus k times the widest of its texts;
ui/chart.js measures the texts in the page's own font and solves the margins as plotly.js does,
so plotly.js finds them big enough and draws once. automargin stays on: where an estimate falls
short, plotly.js grows the margin as before (tests/e2e/test_margins.py counts that on every page).

The label texts are the ones plotly.js would write: categories, tickvals' texts, or the numbers
its automatic ticks give over the axis range (every tick spacing it could pick, so the widest
label is never missed). The pixel constants were measured from plotly.js 4.1.1 (static/) with the
app's template.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ui import plotly_theme as theme
from ui.plotly_ticks import (
    SPACINGS,
    Axis,
    Props,
    axis_names,
    axis_props,
    data_range,
    end_texts,
    layout_name,
    linear_texts,
    read_axis,
    tick_step,
    tick_texts,
    view,
)

LABEL_GAP = -1  # between the margin's pad and a tick label
LINE = 4 / 3  # a line of text is this many times its font size tall
TITLE_DEPTH = 0.7  # an axis title adds its standoff and this times its font size
TICK_GAP = 2.4  # beyond the tick marks, when ticks are drawn outside
COLORBAR_GAP = 9.5  # beyond a colour bar's labels
COLORBAR_TITLE = 20  # a colour bar title on its right side
OVERFLOW = 0.5  # a y axis's end labels reach this far past the plot's top and bottom
OVERFLOW_X = -2.4  # an x axis's end labels reach this plus half their width past its ends
SLIDER = 92  # an animation slider with its step labels and current value
BUTTONS = 31  # a row of play and pause buttons
COLORBAR_THICKNESS = 30  # plotly.js's defaults for a trace's own colour bar
COLORBAR_XPAD = 10
LEGEND_SYMBOL = 48  # a vertical legend's symbol and padding beside the widest name
LEGEND_TYPES = ("scatter", "bar", "histogram")  # the traces listed in a legend by default
LEGEND_ROW = 27  # a one-row horizontal legend's height
LEGEND_ENTRY = 46  # a horizontal legend entry's symbol and gap beside its name
LEGEND_LINE = 19  # each further row of a horizontal legend
LEGEND_EDGE_ROW = 29.5  # the same legend at the figure's edge, beyond the axis labels
NARROW = 0.3  # how far plotly.js may widen a square plot's y range, each side, in a narrow chart
Pusher = dict  # side, val, px, and optionally texts, font, k


def pushers(figure: go.Figure | dict) -> list[Pusher]:
    """Return what the figure's axes, colour bars and legend need of each margin."""
    fig = view(figure)
    axes = {name: read_axis(fig, name) for name in axis_names(fig)}
    found = []
    for read in axes.values():
        found += _axis_pushers(fig, read, axes)
    found += _colorbar_pushers(fig) + _control_pushers(fig)
    return found + _legend_pushers(fig, found)


# Axes


def _axis_pushers(fig: Props, read: Axis, axes: dict[str, Axis]) -> list[Pusher]:
    """Return the pushers of one axis: its labels and title outward, its end labels sideways
    (axes: every axis of the figure by layout name, for a square plot's other axis)."""
    axis = read.props
    if axis.visible is False or axis.automargin is False:
        return []
    texts = tick_texts(fig, read) if axis.showticklabels is not False else []
    letter = read.name[0]
    side = _side(letter, axis.side)
    val = _anchor_edge(fig, axis, side)
    outward = _outward(axis, (side, val), texts, read.cells, _pad(fig))
    found = [outward | _square(read, axes)]
    if texts:
        edge = read.cells or _edge_ticks(read)
        inset = _cell_inset(read) if read.cells and axis.tickvals is None else (0, 0)
        found += _ends(axis, letter, end_texts(read, texts), edge, inset)
    return found


def _square(read: Axis, axes: dict[str, Axis]) -> dict:
    """Return, for a y axis whose x axis keeps its scale and gives up width (scaleanchor with
    constrain="domain"), the plot's data aspect: ui/chart.js then knows the plot leaves room
    beside it where the labels fit, as plotly.js finds after its first draw."""
    axis = read.props
    anchor = axis.anchor or "x"
    if read.name[0] != "y" or axis.scaleanchor != anchor:
        return {}
    x_read = axes.get(layout_name(anchor))
    if x_read is None or x_read.props.constrain != "domain":
        return {}
    if any(isinstance(v, str) for v in x_read.values + read.values):
        return {}  # (categories: no aspect in data units)
    x_low, x_high = x_read.data_range(pad=False)
    y_low, y_high = read.data_range(pad=False)
    if x_low is None or y_low is None or y_high == y_low:
        return {}
    aspect = (x_high - x_low) / (y_high - y_low) / (axis.scaleratio or 1)
    x_domain = list(x_read.props.domain) if x_read.props.domain else [0.0, 1.0]
    y_domain = list(axis.domain) if axis.domain else [0.0, 1.0]
    square = {
        "aspect": abs(aspect),
        "across": x_domain[1] - x_domain[0],
        "along": y_domain[1] - y_domain[0],
    }
    return square | _narrow(axis, y_low, y_high)


def _narrow(axis: Props, low: float, high: float) -> dict:
    """Return the labels of a square plot's y axis when the plot is too narrow for its data:
    plotly.js then widens the y range instead, by up to NARROW of it on each side."""
    shown = axis.showticklabels is not False
    if not shown or axis.tickvals is not None or axis.type in ("category", "log"):
        return {}
    spare = NARROW * (high - low)
    return {"narrow": _longest(linear_texts(low - spare, high + spare, axis, SPACINGS))}


def _longest(texts: list[str]) -> list[str]:
    """Return the texts that may be the widest: those within two characters of the longest
    (the browser measures them in its font)."""
    longest = max((len(t) for t in texts), default=0)
    return [t for t in texts if len(t) >= longest - 2]


def _side(letter: str, side: str | None) -> str:
    """Return the margin an axis's labels push: l, r, t or b."""
    default = "b" if letter == "x" else "l"
    return {"bottom": "b", "top": "t", "left": "l", "right": "r"}.get(side or "", default)


def _anchor_edge(fig: Props, axis, side: str) -> float:
    """Return where the axis line sits across the plot: the near edge of its anchor's domain."""
    if axis.anchor == "free":
        return axis.position or 0.0
    anchor = axis_props(fig, layout_name(axis.anchor)) if axis.anchor else None
    domain = list(anchor.domain) if anchor is not None and anchor.domain else [0.0, 1.0]
    return domain[0] if side in "lb" else domain[1]


def _outward(axis, where: tuple[str, float], texts: list[str], cells: bool, pad: float) -> Pusher:
    """Return the pusher of an axis's tick labels and title, away from the plot."""
    font = _tick_size(axis)
    side, val = where
    letter = "y" if side in "lr" else "x"
    title = _title_depth(axis, letter)
    if not texts:  # only the tick marks, if any
        return {"side": side, "val": val, "px": _tick_length(axis, cells) + title}
    px = pad + LABEL_GAP + _ticks_depth(axis, cells) + title
    if letter == "y":
        return {"side": side, "val": val, "px": px, "texts": _longest(texts), "font": font, "k": 1}
    angle = math.radians(axis.tickangle) if isinstance(axis.tickangle, int | float) else 0.0
    px += LINE * font * abs(math.cos(angle))
    k = abs(math.sin(angle))
    if not k:  # level labels: only their height counts
        return {"side": side, "val": val, "px": px, "k": 0}
    return {"side": side, "val": val, "px": px, "texts": _longest(texts), "font": font, "k": k}


def _tick_size(axis) -> float:
    return (axis.tickfont.size if axis.tickfont else None) or theme.TICK_SIZE


def _pad(fig: Props) -> float:
    """Return the margin's pad, between the plot and its axes' labels."""
    margin = fig.layout.margin
    return margin.pad if margin and margin.pad is not None else theme.PAD


def _tick_length(axis, cells: bool) -> float:
    """Return how far outside tick marks reach from the axis line, alone."""
    depth = _ticks_depth(axis, cells)
    return depth - TICK_GAP if depth else 0.0


def _ticks_depth(axis, cells: bool) -> float:
    """Return how far outside tick marks reach: none in the template, but plotly.js draws them
    on an axis of heatmap or image cells."""
    if (axis.ticks if axis.ticks is not None else ("outside" if cells else "")) != "outside":
        return 0.0
    return (axis.ticklen if axis.ticklen is not None else 5) + TICK_GAP


def _title_depth(axis, letter: str) -> float:
    """Return the room an axis title takes: its standoff and its lines. plotly.js keeps it
    for a title set to an empty text too."""
    title = axis.title
    if isinstance(title, str):  # a figure's dict may name the title alone
        title = Props({"text": title})
    text = title.text if title else None
    if text is None:
        return 0.0
    size = (title.font.size if title.font else None) or theme.TITLE_SIZE
    standoff = title.standoff if title.standoff is not None else theme.STANDOFF[letter]
    lines = text.count("<br>") + 1
    return standoff + TITLE_DEPTH * size + (lines - 1) * LINE * size


def _edge_ticks(read: Axis) -> bool:
    """Return whether ticks can sit at the very ends of an axis, where their labels stick out:
    plotly.js pads a range for markers, and a bar's only by half a bar; given tick values may
    fall on the data's ends."""
    letter = read.name[0]
    if not read.traces:
        return False
    unpadded = all(_unpadded_along(t, letter) for t in read.traces)
    if read.props.tickvals is not None:
        return unpadded and _ticks_on_data_ends(read.props, read.data_range(pad=False))
    return unpadded


def _unpadded_along(trace: Props, letter: str) -> bool:
    """Return whether a trace leaves no padding along x or y: lines, or bars across their
    categories."""
    if trace.type == "bar":
        return letter == ("y" if trace.orientation == "h" else "x")
    return trace.type == "scatter" and _lines_only(trace)


def _ticks_on_data_ends(axis, bounds: tuple) -> bool:
    """Return whether an axis's first or last given tick value is where its data ends."""
    low, high = bounds
    values = [v for v in axis.tickvals if not isinstance(v, str)]
    if low is None or not values:
        return False
    near = 1e-6 * max(abs(low), abs(high), 1e-12)
    return abs(min(values) - low) <= near or abs(max(values) - high) <= near


def _lines_only(trace: Props) -> bool:
    """Return whether a scatter trace draws no markers (plotly.js adds them to short lines)."""
    if trace.mode is not None:
        return "markers" not in trace.mode
    points = trace.x if trace.x is not None else trace.y
    return points is not None and len(points) >= 20


def _ends(
    axis, letter: str, texts: tuple[list, list], edge_ticks: bool, inset: tuple = (0.0, 0.0)
) -> list[Pusher]:
    """Return the pushers of an axis's end labels, which stick out past its ends (an x axis's
    only when ticks can sit at its very ends: a fixed range, cells, or lines that plotly.js
    does not pad; otherwise its range leaves room beyond them)."""
    domain = list(axis.domain) if axis.domain else [0.0, 1.0]
    if letter == "y":
        return [
            {"side": "b", "val": domain[0], "px": OVERFLOW},
            {"side": "t", "val": domain[1], "px": OVERFLOW},
        ]
    if (axis.range is None and not edge_ticks) or axis.tickangle not in (None, 0, "auto"):
        return []  # (turned labels hang to one side of their tick)
    font, span = _tick_size(axis), domain[1] - domain[0]
    return [
        {"side": side, "val": val, "px": OVERFLOW_X, "texts": end, "font": font, "k": 0.5}
        | ({"inset": gap, "span": span} if gap else {})
        for side, val, end, gap in zip("lr", domain, texts, inset, strict=True)
    ]


def _cell_inset(read: Axis) -> tuple[float, float]:
    """Return how far in from each end of a cell axis its end ticks sit, as shares of the axis:
    at the right end, the least that any spacing plotly.js may pick leaves after its last tick
    (the first tick, half a cell in, is taken to be at the left end)."""
    values = read.values
    if any(isinstance(v, str) for v in values):  # one tick per category
        return (0.0, 0.5 / max(len(set(values)), 1))
    low, high = data_range(Props({}), values, pad=False)
    if low is None or high - low < 1:
        return (0.0, 0.0)
    cells = high - low
    last = min(
        high - math.floor((high - 0.5) / tick_step(cells / count)) * tick_step(cells / count)
        for count in SPACINGS
    )
    return (0.0, last / cells)


# Tick labels


# Colour bars, animation controls and legends


def _colorbar_pushers(fig: Props) -> list[Pusher]:
    """Return the pushers of the colour bars heatmaps draw beside the plot."""
    found = []
    for trace in fig.data:
        if trace.type != "heatmap" or trace.showscale is False or trace.coloraxis:
            continue
        found.append(_colorbar(trace))
    return found


def _colorbar(trace) -> Pusher:
    """Return one colour bar's pusher: its bar, its labels, and a title on its right."""
    bar = trace.colorbar or Props({})
    thickness = bar.thickness if bar.thickness is not None else COLORBAR_THICKNESS
    xpad = bar.xpad if bar.xpad is not None else COLORBAR_XPAD
    px = thickness + xpad + COLORBAR_GAP
    if bar.title and bar.title.text and bar.title.side == "right":
        px += COLORBAR_TITLE
    texts = _colorbar_texts(trace)
    if bar.title and bar.title.text and bar.title.side in (None, "top"):
        texts.append(bar.title.text)
    val = bar.x if bar.x is not None else 1.02
    return {"side": "r", "val": val, "px": px, "texts": texts, "font": theme.TICK_SIZE, "k": 1}


def _colorbar_texts(trace) -> list[str]:
    """Return a colour bar's labels over the colour range."""
    z = np.asarray(trace.z, dtype=float)
    finite = z[np.isfinite(z)]
    low = trace.zmin if trace.zmin is not None else (finite.min() if finite.size else 0.0)
    high = trace.zmax if trace.zmax is not None else (finite.max() if finite.size else 1.0)
    if trace.zmid is not None and trace.zmin is None:
        reach = max(abs(high - trace.zmid), abs(trace.zmid - low))
        low, high = trace.zmid - reach, trace.zmid + reach
    return linear_texts(float(low), float(high), Props({}))


def _control_pushers(fig: Props) -> list[Pusher]:
    """Return the pushers of an animation's slider and play buttons, hung below their y."""
    sliders = [{"side": "b", "val": _y(s, 0.0), "px": SLIDER} for s in fig.layout.sliders or []]
    menus = [{"side": "b", "val": _y(m, 1.0), "px": BUTTONS} for m in fig.layout.updatemenus or []]
    return sliders + menus


def _y(control: dict, default: float) -> float:
    """Return where a slider or a row of buttons hangs from (plotly.js's own default else)."""
    return control["y"] if control.get("y") is not None else default


def _legend_pushers(fig: Props, axes: list[Pusher]) -> list[Pusher]:
    """Return the legend's pusher, when plotly.js shows one (axes: the axes' pushers, which a
    legend at the figure's edge sits beyond)."""
    names = [t.name for t in fig.data if t.name and _in_legend(t)]
    shown = fig.layout.showlegend
    if not names or shown is False or (shown is None and len(fig.data) < 2):
        return []
    legend = fig.layout.legend or Props({})
    if legend.orientation == "h":
        return _row_legend(legend, names, axes)
    val = legend.x if legend.x is not None else 1.02
    font = theme.TICK_SIZE
    return [{"side": "r", "val": val, "px": LEGEND_SYMBOL, "texts": names, "font": font, "k": 1}]


def _in_legend(trace: Props) -> bool:
    """Return whether a trace has a legend entry (heatmaps and images have none unless asked)."""
    if trace.showlegend is not None:
        return trace.showlegend
    return trace.type in LEGEND_TYPES


def _row_legend(legend, names: list[str], axes: list[Pusher]) -> list[Pusher]:
    """Return a horizontal legend's pushers: where it is anchored (plotly.js hangs it from
    its y unless told otherwise) decides how much of its height lies above and below y. One on
    the figure's own edge (yref container) needs room beyond the axis labels on that side."""
    y = legend.y if legend.y is not None else -0.1
    rows = {"entries": names, "font": theme.TICK_SIZE, "entry": LEGEND_ENTRY, "line": LEGEND_LINE}
    if legend.yref != "container":
        below = {"top": 1.0, "middle": 0.5, "bottom": 0.0}[legend.yanchor or "top"]
        share = {"px": LEGEND_ROW}
        return [
            {"side": "b", "val": y, "share": below} | share | rows,
            {"side": "t", "val": y, "share": 1 - below} | share | rows,
        ]
    side = "b" if y < 0.5 else "t"
    edge = 0.0 if side == "b" else 1.0
    beside = [p["px"] for p in axes if p["side"] == side and _at(p, edge) and not p.get("k")]
    pusher = {"side": side, "val": edge, "px": max(beside, default=0.0), "then": LEGEND_EDGE_ROW}
    return [pusher | rows]


def _at(pusher: Pusher, edge: float) -> bool:
    """Return whether a pusher sits at the plot's edge (0 or 1, up to rounding)."""
    return abs(pusher["val"] - edge) < 1e-6
