"""Every figure on screen: a Plotly figure drawn by our own component with a smaller plotly.js.

Why not st.plotly_chart (issue 13). Its element loads Streamlit's plotly.js chunk, 4.7 MB with
every trace type Plotly has (maps, 3-D, WebGL), and a new tab spends ~0.7 s of main-thread work
evaluating it before the first chart can be drawn. Our figures need only cartesian traces
(scatter, bar, heatmap, image, histogram), which plotly.js offers as its "cartesian" build:
1.5 MB, served by the app itself from static/ (Streamlit's static file serving). We bundle it
ourselves from plotly.js's sources (scripts/plotly/build.sh): npm's ready-made file took ~0.15 s
longer to load in Chromium. This component (Streamlit's components v2: no iframe, the script runs
in the page) loads that build once per tab and draws each figure with Plotly.react, so a rerun
updates a chart in place.

Clicks: plotly.js reports a click on a heatmap cell (st.plotly_chart's point selection does not),
so a clickable figure needs no invisible overlay. on_click gets the clicked point as a dict:
curve_number, point_index, x, y, and z and customdata when the trace has them.

Figures keep the look of Streamlit's element through ui/plotly_theme.py's template.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.errors import StreamlitDuplicateElementKey

import ui.plotly_theme  # noqa: F401  (the app's template is the default before any figure)
from ui.i18n import t
from ui.margins import pushers

SCRIPT = (Path(__file__).with_name("chart.js")).read_text(encoding="utf-8")
NAME = "explorer_chart"
_draw = st.components.v2.component(NAME, js=SCRIPT, isolate_styles=False)
# The same script under its own name: sent no figure, it only loads plotly.js (when idle). Its
# own name keeps it out of whatever counts charts (tests/charts.py, the browser benchmark).
_preload = st.components.v2.component("explorer_plotly_preload", js=SCRIPT, isolate_styles=False)

LOG = logging.getLogger(__name__)
Point = dict  # curve_number, point_index, x, y (and z, customdata when the trace has them)


def payload(fig: go.Figure, clicks: bool = False) -> bytes:
    """Return what the browser receives: the figure's JSON and how to draw it (with the
    margins its labels need, ui/margins.py), as UTF-8 bytes.

    Written by hand around pio.to_json's text so the figure is encoded once (a dict would be
    encoded again, escaping every quote of a large heatmap)."""
    figure = pio.to_json(fig, validate=False)
    failed = t("This figure could not be drawn: the browser did not load plotly.js.")
    flags = f'"clicks": {str(clicks).lower()}, "failed": ' + json.dumps(failed)
    flags += ', "margins": ' + json.dumps(_pushers(fig), ensure_ascii=False)
    return ("{" + flags + ', "figure": ' + figure + "}").encode()


def _pushers(fig: go.Figure | dict) -> list:
    """Return the margins fig's labels need (ui/margins.py). They only spare plotly.js a second
    draw, so a figure they cannot be worked out for is drawn without them, never not at all."""
    try:
        return pushers(fig)
    except Exception:  # noqa: BLE001  (logged; plotly.js's own automargin then does the work)
        LOG.warning("margins not estimated for a figure", exc_info=True)
        return []


def _on_click(key: str, callback: Callable[[Point], None]) -> Callable[[], None]:
    """Return the component's callback: hand the clicked point to callback."""

    def _run() -> None:
        event = st.session_state.get(key) or {}
        point = event.get("click") if hasattr(event, "get") else None
        if isinstance(point, dict):
            callback(point)

    return _run


def chart(
    fig: go.Figure,
    *,
    key: str | None = None,
    on_click: Callable[[Point], None] | None = None,
    where=None,
) -> None:
    """Draw fig across its container (in `where`, a column or container, when given).

    on_click needs a key: it is called with the clicked point before the rerun. Every chart has
    Plotly's mode bar on hover, whose camera button downloads it as a PNG named after its title."""
    if on_click is not None and key is None:
        raise ValueError("a clickable chart needs a key")
    callbacks = {"on_click_change": _on_click(key, on_click)} if on_click else {}
    data = payload(fig, clicks=on_click is not None)
    with where if where is not None else nullcontext():
        if key is not None:
            _draw(key=key, data=data, **callbacks)
        else:
            _draw_unkeyed(data)


def preload() -> None:
    """Load plotly.js in the background once the browser is idle, for the pages a learner opens
    next from this one (a page without charts, such as the home page)."""
    _preload(key="plotly_preload", data=b'{"figure": null}')


def _draw_unkeyed(data: bytes) -> None:
    """Draw a chart given no key under a key made from its content.

    A component is a widget: two with the same data and no key would be one element twice, which
    Streamlit refuses. A repeat of the same figure gets the next free suffix instead."""
    base = "chart-" + hashlib.blake2b(data, digest_size=8).hexdigest()
    for n in itertools.count():
        try:
            _draw(key=base if n == 0 else f"{base}-{n}", data=data)
            return
        except StreamlitDuplicateElementKey:
            continue
