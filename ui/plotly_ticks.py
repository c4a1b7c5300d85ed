"""What plotly.js will write on a figure's axes, worked out from the figure alone: the figure read
as plain JSON (its traces' coordinates, its axes), each axis's data range, and the tick labels
plotly.js's automatic ticks give over it, written as plotly.js writes numbers. ui/margins.py
measures how much room those labels need.

Read, not drawn: plotly.js picks its ticks from the axis length in pixels, which only the
browser knows, so the labels here are those of every tick spacing it may pick (a superset).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

SPACINGS = range(5, 11)  # plotly.js puts 5-10 ticks on a linear axis
Y_TICK_PX = 40  # ... one per 40 px of a y axis
PADDING = 0.1  # plotly.js pads a range by its markers' size: up to this share of it each side
X_ROOM = 50  # what an x axis's labels and title take of a figure's height, roughly
MINUS = "\u2212"
SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))  # plotly.js's names for big ticks
# What is read of a trace: where it lies, its extent, its colour bar, its legend entry
TRACE_KEYS = ("type", "xaxis", "yaxis", "x", "y", "z", "orientation", "mode")
TRACE_KEYS += ("showscale", "coloraxis", "colorbar", "zmin", "zmax", "zmid", "name", "showlegend")


class Props:
    """Read-only attribute access to a figure's JSON: a missing property reads None, a nested
    one another Props (plotly.py's own objects validate on every read, 50x slower)."""

    def __init__(self, props: dict | None):
        self._props = props or {}

    def __getattr__(self, key: str):
        value = self._props.get(key)
        return Props(value) if isinstance(value, dict) else value

    __getitem__ = __getattr__

    def __bool__(self) -> bool:
        return bool(self._props)

    def __iter__(self):
        return iter(self._props)


def view(figure: go.Figure | dict) -> Props:
    """Return the figure (a plotly figure or its dict) as Props: its layout's JSON, and what
    decides its axes, colour bars and legend of its traces."""
    if isinstance(figure, dict):
        data = [Props(_decoded({"type": "scatter"} | trace)) for trace in figure.get("data", [])]
        return Props({"layout": figure.get("layout") or {}, "data": data})
    data = [_trace_view(trace) for trace in figure.data]
    return Props({"layout": figure.layout.to_plotly_json(), "data": data})


def _decoded(trace: dict) -> dict:
    """Return a trace's dict with its coordinate arrays as numpy arrays: plotly.py writes them
    as base64 bytes with a dtype and a shape ({"bdata": ...})."""
    arrays = {}
    for key in ("x", "y", "z"):
        value = trace.get(key)
        if isinstance(value, dict) and "bdata" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            arrays[key] = array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    return trace | arrays


def _trace_view(trace) -> Props:
    """Return the properties of a trace that decide its axes' ranges and its colour bar."""
    props = {}
    for key in TRACE_KEYS:
        value = getattr(trace, key, None)
        props[key] = value.to_plotly_json() if hasattr(value, "to_plotly_json") else value
    return Props(props)


def axis_props(fig: Props, name: str) -> Props:
    """Return an axis of the layout (an empty one where the layout sets nothing of it)."""
    return fig.layout[name] or Props({})


def axis_names(fig: Props) -> list[str]:
    """Return the layout names of every axis the figure uses (xaxis, yaxis2, ...)."""
    names = {k for k in fig.layout if re.fullmatch(r"[xy]axis\d*", k)}
    for trace in fig.data:
        if trace.type != "pie":
            names |= {layout_name(trace.xaxis or "x"), layout_name(trace.yaxis or "y")}
    return sorted(names)


def layout_name(axis_id: str) -> str:
    """Return the layout name of an axis id: x2 -> xaxis2."""
    return axis_id[0] + "axis" + axis_id[1:]


def id_of(name: str) -> str:
    """Return the id of a layout axis name: xaxis2 -> x2."""
    return name[0] + name[5:]


@dataclass(frozen=True)
class Axis:
    """One axis of a figure, read once: its layout name (xaxis2), its properties, the traces on
    it, the coordinates they place along it, and whether heatmap or image cells lie on it."""

    name: str
    props: Props
    traces: list
    values: list
    cells: bool

    @property
    def id(self) -> str:
        return id_of(self.name)

    def data_range(self, pad: bool | None = None) -> tuple[float | None, float | None]:
        """Return the axis's range (padded as plotly.js pads markers, never cells, unless told)."""
        return data_range(self.props, self.values, pad=not self.cells if pad is None else pad)


def read_axis(fig: Props, name: str) -> Axis:
    """Return the axis of the layout name (xaxis, yaxis2, ...) with its traces' coordinates."""
    letter, axis_id = name[0], id_of(name)
    traces = [t for t in fig.data if (t[f"{letter}axis"] or letter) == axis_id]
    values = [v for t in traces for v in _trace_values(t, letter)]
    cells = any(t.type in ("heatmap", "image") for t in traces)  # plotly.js then draws ticks
    return Axis(name, axis_props(fig, name), traces, values, cells)


def end_texts(read: Axis, texts: list[str]) -> tuple[list, list]:
    """Return the labels that may stand at an axis's left end and at its right end: on a linear
    axis of numbers, the first and last ticks of each spacing plotly.js may pick."""
    axis = read.props
    numeric = axis.tickvals is None and axis.type not in ("log", "category")
    if not numeric or any(isinstance(v, str) for v in read.values):
        return [texts[0]], [texts[-1]]
    low, high = read.data_range()
    if low is None or high <= low:
        return [texts[0]], [texts[-1]]
    steps = {tick_step((high - low) / count) for count in SPACINGS}
    firsts = [tick_number(math.ceil(low / step - 1e-9) * step, step, axis) for step in steps]
    lasts = [tick_number(math.floor(high / step + 1e-9) * step, step, axis) for step in steps]
    return firsts, lasts


def tick_texts(fig: Props, read: Axis) -> list[str]:
    """Return the tick labels plotly.js may write on an axis of fig, from its first to its last."""
    axis, values = read.props, read.values
    if axis.tickvals is not None:
        return _given_texts(axis, read.data_range())
    if axis.type == "category" or any(isinstance(v, str) for v in values):
        return list(dict.fromkeys(str(v) for v in values if v is not None))
    low, high = read.data_range()
    if low is None:
        return []
    if axis.type == "log":
        return log_texts(low, high)
    return linear_texts(low, high, axis, _counts(fig, axis, read.name[0]))


def _counts(fig: Props, axis, letter: str) -> Iterable[float]:
    """Return the tick counts plotly.js may choose for an axis: on a y axis, from its length
    (the figure's height is known, its width is not)."""
    if letter == "x":
        return SPACINGS
    margin = fig.layout.margin or Props({})
    height = (fig.layout.height or 450) - (margin.t or 0) - (margin.b or 0) - X_ROOM
    domain = list(axis.domain) if axis.domain else [0.0, 1.0]
    count = min(max(height * (domain[1] - domain[0]) / Y_TICK_PX, 4), 9) + 1
    return (0.8 * count, count, 1.2 * count)


def _given_texts(axis, bounds: tuple) -> list[str]:
    """Return the labels of an axis's own tick values (ticktext, or the values written as
    plotly.js writes them) that fall within its range."""
    texts = axis.ticktext if axis.ticktext is not None else axis.tickvals
    low, high = bounds
    shown = []
    for value, text in zip(axis.tickvals, texts, strict=False):
        inside = low is None or isinstance(value, str) or low <= value <= high
        if inside:
            shown.append(
                text if isinstance(text, str) else tick_number(text, _least_step(text), axis)
            )
    return shown


def _least_step(value: float) -> float:
    """Return the power of ten of a given tick value's last digit (0.25 -> 0.01)."""
    digits = f"{float(value):.6f}".rstrip("0").split(".")[1]
    return 10.0 ** -len(digits) if digits else 1.0


def data_range(axis, values: list, pad: bool = True) -> tuple[float | None, float | None]:
    """Return the axis range: its own, or the data's (with room for plotly.js's padding around
    markers, which it leaves off an axis of heatmap or image cells)."""
    if axis.range is not None and axis.autorange is not True and None not in axis.range:
        low, high = sorted(float(v) for v in axis.range)
        return (10**low, 10**high) if axis.type == "log" else (low, high)
    numbers = np.asarray([v for v in values if v is not None], dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    if axis.type == "log":
        numbers = numbers[numbers > 0]
    if not numbers.size:
        return None, None
    low, high = float(numbers.min()), float(numbers.max())
    if axis.type == "log":  # padded in powers of ten
        spare = PADDING * math.log10(high / low) if pad else 0.0
        return low / 10**spare, high * 10**spare
    spare = PADDING * (high - low) if pad else 0.0
    return low - spare, high + spare


def linear_texts(low: float, high: float, axis, counts: Iterable[float] = SPACINGS) -> list[str]:
    """Return the labels of every tick spacing plotly.js could choose over [low, high]."""
    if high <= low:
        return [tick_number(low, 1.0, axis)]
    texts: dict[str, None] = {}
    for count in counts:
        step = tick_step((high - low) / count)
        first = math.ceil(low / step - 1e-9)
        for i in range(first, math.floor(high / step + 1e-9) + 1):
            texts[tick_number(i * step, step, axis)] = None
    return list(texts)


def tick_step(rough: float) -> float:
    """Return plotly.js's tick spacing for a rough one: 2, 5 or 10 times a power of ten."""
    base = 10 ** math.floor(math.log10(rough))
    return base * next(m for m in (2, 5, 10) if m >= rough / base - 1e-9)


def tick_number(value: float, step: float, axis) -> str:
    """Return a tick value as plotly.js writes it: the step's decimals, a true minus sign, and
    10k, 2M, 1B for big ones (unless the axis asks for plain numbers)."""
    if axis.tickformat:
        return _formatted(value, axis.tickformat)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    suffix = ""
    if abs(value) >= 1e4 and axis.exponentformat in (None, "B", "SI"):
        size, suffix = next((s, x) for s, x in SUFFIXES if abs(value) >= s)
        if suffix == "B" and axis.exponentformat == "SI":
            suffix = "G"
        value, decimals = value / size, max(0, decimals - round(math.log10(size)))
    text = f"{value:.{decimals}f}"
    if "." in text:  # plotly.js drops trailing zeros: 0.5, 1, 1.5
        text = text.rstrip("0").rstrip(".")
    if text.strip("-0") == "":
        text = "0"
    return (axis.tickprefix or "") + text.replace("-", MINUS) + suffix + (axis.ticksuffix or "")


def _formatted(value: float, spec: str) -> str:
    """Return value in a d3 format spec (the ones Python's format reads the same way)."""
    try:
        return format(value, spec.replace("~", "")).replace("-", MINUS)
    except ValueError:
        return f"{value:.3g}"


def log_texts(low: float, high: float) -> list[str]:
    """Return a log axis's labels: its powers of ten, and 2 and 5 times them over a short range
    (plotly.js writes tiny and huge powers as 10 with a superscript exponent)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    factors = (1, 2, 5) if last - first <= 3 else (1,)
    texts = []
    for power in range(first, last + 1):
        for m in factors:
            if low <= m * 10.0**power <= high:
                texts.append(_power_text(m, power))
    return texts


def _power_text(m: int, power: int) -> str:
    """Return m times ten to the power as plotly.js labels it: 1, 20, 5000, 10k, 2M, 10^-5."""
    if power < -4 or power > 9:
        return f"10<sup>{str(power).replace('-', MINUS)}</sup>"
    value = m * 10.0**power
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= max(size, 1e4):
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _trace_values(trace, letter: str) -> Iterable:
    """Return a trace's coordinates along x or y (bars from zero; heatmap and image cells
    reach half a cell past their centres)."""
    kind = trace.type
    if kind in ("heatmap", "image"):
        return _cell_values(trace, letter)
    along = trace[letter]
    values = [] if along is None else _flat(along)
    if kind in ("bar", "histogram"):
        values = _bar_values(trace, letter, values)
    if along is None and kind == "scatter":
        other = trace["y" if letter == "x" else "x"]
        values = range(len(other)) if other is not None else []
    return values


def _bar_values(trace, letter: str, values: list) -> list:
    """Return a bar trace's coordinates: its value axis runs from zero (a histogram's counts
    are at most its sample count)."""
    value_axis = "x" if trace.orientation == "h" else "y"
    if trace.type == "histogram":
        if letter != value_axis:
            return values
        sample = trace.x if value_axis == "y" else trace.y
        return [0, 1, len(sample) if sample is not None else 0]
    return [*values, 0] if letter == value_axis else values


def _cell_values(trace, letter: str) -> list:
    """Return the extent of a heatmap's or an image's cells along x or y."""
    given = trace[letter]
    if given is not None and trace.type == "heatmap":
        values = _flat(given)
        if any(isinstance(v, str) for v in values):
            return values
        return [*values, min(values) - 0.5, max(values) + 0.5] if values else []
    z = np.asarray(trace.z)
    count = z.shape[1] if letter == "x" else z.shape[0]
    return [-0.5, count - 0.5]


def _flat(values) -> list:
    """Return what matters of a trace's coordinates: the least and greatest of numbers, each
    distinct value of anything else (category names)."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array.ravel()
        return [finite.min().item(), finite.max().item()] if finite.size else []
    return list(dict.fromkeys(array.ravel().tolist()))
