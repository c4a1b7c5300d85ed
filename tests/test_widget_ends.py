"""Every widget of every page at both ends of its range, one at a time from the defaults.

Each page opens with its defaults; then every widget in turn goes to one end (min and max, first
and last option, on and off, none and all, empty and long text), the page reruns, and no
exception may appear. Lazy sections (ui.sections) are opened first, so their widgets are moved too.
Buttons are never clicked (they start training or measuring runs), nor are
the toggles listed in HEAVY, nor widgets disabled in the default render (a person cannot move
them there either). The two ends that raised when this test was written (the equivariance page's
smallest working size, the largest dilation on the padding/stride/dilation page) now show a
message instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamlit import config as st_config
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.pages_list import PAGES
from tests.test_pages import open_page
from ui.sections import OPEN_PREFIX

LONG_TEXT = 2000  # characters in the "long" end of a text box without max_chars

# (page stem, widget key): why it is not moved. Only widgets that start heavy work.
HEAVY = {
    ("architectures", "deg_train"): "trains four networks",
}

# Widget kinds moved here; buttons and uploads have no ends.
KINDS = [
    "slider",
    "number_input",
    "select_slider",
    "selectbox",
    "radio",
    "checkbox",
    "toggle",
    "text_input",
    "text_area",
    "multiselect",
    "button_group",
    "color_picker",
]
NOT_MOVED = {"button", "download_button", "form_submit_button", "file_uploader", "camera_input"}


@dataclass(frozen=True)
class End:
    """One end of one widget: how to reach it and how to go back to the default."""

    kind: str
    key: str
    name: str  # "min", "max", "first", "last", "off", "on", "none", "all", "empty", "long"
    value: Any  # what the person picks (option labels for option widgets)
    default: Any  # the widget's value in the default render (raw, as set_value takes it)

    def __str__(self) -> str:
        return f"{self.key}={self.name} ({self.value!r})"


@pytest.fixture(autouse=True)
def full_error_details():
    """Show exception messages in full (the app's config redacts them for visitors)."""
    before = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", "full")
    yield
    st_config.set_option("client.showErrorDetails", before)


def _stem(path: str) -> str:
    """Return the page's file stem (app_pages/x.py -> x)."""
    return Path(path).stem


def _widget(at: AppTest, kind: str, key: str):
    """Return the widget of this kind and key on the page, or None if it is not shown."""
    try:
        return getattr(at, kind)(key=key)
    except KeyError:
        return None


def _send_labels(widget, labels: list[str]) -> None:
    """Make the widget send these option labels on the next run, as the browser does.

    AppTest's set_value takes raw option values and formats them; the pages' options are often
    keys or numbers behind a format_func, so the ends are chosen by label instead.
    """
    state = WidgetState(id=widget.id)
    if widget.type in ("radio", "selectbox"):
        state.string_value = labels[0]
    else:
        state.string_array_value.data[:] = labels
    base = type(widget)
    widget.__class__ = type(f"Labelled{base.__name__}", (base,), {"_widget_state": state})


def _numeric_ends(w) -> Iterator[tuple[str, Any]]:
    """Yield (end, value) for a slider or number input."""
    if isinstance(w.value, (tuple, list)):  # a range slider: both thumbs at each end
        yield "min", (w.min, w.min)
        yield "max", (w.max, w.max)
        return
    integer = isinstance(w.value, int)
    for name, bound in (("min", w.min), ("max", w.max)):
        if bound is not None:
            yield name, int(bound) if integer else bound


def _option_ends(w) -> Iterator[tuple[str, Any]]:
    """Yield (end, labels) for a widget with options."""
    many = w.type == "multiselect" or (
        w.type == "button_group" and not getattr(w, "_is_single_select", True)
    )
    if many:
        cap = getattr(w, "max_selections", 0) or len(w.options)
        yield "none", []
        yield "all", list(w.options[:cap])
    else:
        yield "first", [w.options[0]]
        yield "last", [w.options[-1]]


def _text_ends(w) -> Iterator[tuple[str, Any]]:
    """Yield (end, text): empty, and as long as allowed (or LONG_TEXT characters)."""
    size = w.max_chars or LONG_TEXT
    seed = (w.value or "x") + " "
    yield "empty", ""
    yield "long", (seed * (size // len(seed) + 1))[:size]


def _ends_of(kind: str, w) -> Iterator[tuple[str, Any]]:
    """Yield (end, value) for one widget."""
    if kind in ("slider", "number_input"):
        yield from _numeric_ends(w)
    elif kind in ("select_slider", "selectbox", "radio", "multiselect", "button_group"):
        yield from _option_ends(w)
    elif kind in ("checkbox", "toggle"):
        yield "off", False
        yield "on", True
    elif kind in ("text_input", "text_area"):
        yield from _text_ends(w)
    elif kind == "color_picker":
        yield "black", "#000000"
        yield "white", "#FFFFFF"


def page_ends(at: AppTest, page: str) -> list[End]:
    """Return every end of every keyed, enabled widget on the page as it opened (not HEAVY)."""
    ends = []
    for kind in KINDS:
        for w in getattr(at, kind):
            if w.key is None or getattr(w, "disabled", False) or (page, w.key) in HEAVY:
                continue
            ends += [End(kind, w.key, n, v, w.value) for n, v in _ends_of(kind, w)]
    return ends


def set_end(at: AppTest, end: End) -> None:
    """Move the widget to the end (for the next run)."""
    w = _widget(at, end.kind, end.key)
    assert w is not None, f"{end.key} is not on the page"
    if isinstance(end.value, list) and end.kind != "slider":
        _send_labels(w, end.value)
    else:
        w.set_value(end.value)


def restore(at: AppTest, end: End) -> bool:
    """Put the widget back to its default (for the next run); False if it is not shown."""
    w = _widget(at, end.kind, end.key)
    if w is not None:
        w.set_value(end.default)
    return w is not None


def run_clean(at: AppTest) -> str:
    """Rerun the page; return the exception messages it showed ('' if none)."""
    try:
        at.run()
    except RuntimeError as err:  # AppTest's timeout
        return f"{type(err).__name__}: {err}"
    return " | ".join(e.message for e in at.exception)


def try_ends(at: AppTest, ends: list[End]) -> list[str]:
    """Move each widget to each end in turn, from the defaults; return the failures."""
    failures, previous = [], None
    for end in ends:
        if previous is not None and not restore(at, previous):
            failures.append(f"{previous}: could not go back to the default")
        if _widget(at, end.kind, end.key) is None:  # hidden by the last end: rerun at defaults
            run_clean(at)
        set_end(at, end)
        message = run_clean(at)
        if message:
            failures.append(f"{end}: {message}")
        previous = end
    return failures


def _unhandled_widgets(at: AppTest) -> list[str]:
    """Return the widget kinds on the page that this test neither moves nor knowingly skips."""
    from streamlit.testing.v1.element_tree import Widget

    def walk(node) -> Iterator[Any]:
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    seen = {n.type for n in walk(at._tree) if isinstance(n, Widget)}
    return sorted(seen - set(KINDS) - NOT_MOVED)


def open_lazy_sections(at: AppTest) -> AppTest:
    """Open every lazy section of the page (ui.sections), so the widgets inside are moved too."""
    keys = [k for k in at.session_state.keys() if str(k).startswith(OPEN_PREFIX)]
    for key in keys:
        at.session_state[key] = True
    return at.run() if keys else at


@pytest.mark.parametrize("path", [p for p, _ in PAGES], ids=[_stem(p) for p, _ in PAGES])
def test_every_widget_end_reruns_cleanly(path):
    page = _stem(path)
    at = open_lazy_sections(open_page(path))
    assert not at.exception, [e.message for e in at.exception]
    assert not _unhandled_widgets(at), f"widget kinds without ends: {_unhandled_widgets(at)}"
    keyless = [w.label for kind in KINDS for w in getattr(at, kind) if w.key is None]
    assert not keyless, f"{page}: widgets without a key cannot be moved here: {keyless}"
    failures = try_ends(at, list(page_ends(at, page)))
    assert not failures, f"{page}: " + "\n".join(failures)


def test_ends_cover_every_kind_of_end():
    """The end table itself: each kind yields its two ends (a stand-in widget, no page)."""

    @dataclass
    class Stub:
        type: str
        value: Any = 5
        min: Any = 1
        max: Any = 9
        options: tuple = ("a", "b", "c")
        max_chars: int = 0
        max_selections: int = 0

    def got(kind: str, w: Stub) -> list:
        return list(_ends_of(kind, w))

    assert got("slider", Stub("slider")) == [("min", 1), ("max", 9)]
    assert got("slider", Stub("slider", value=(2, 3))) == [("min", (1, 1)), ("max", (9, 9))]
    assert got("number_input", Stub("number_input", value=0.5, min=None)) == [("max", 9)]
    assert got("radio", Stub("radio")) == [("first", ["a"]), ("last", ["c"])]
    assert got("multiselect", Stub("multiselect", max_selections=2)) == [
        ("none", []),
        ("all", ["a", "b"]),
    ]
    assert got("toggle", Stub("toggle")) == [("off", False), ("on", True)]
    empty, long = got("text_input", Stub("text_input", value="ab", max_chars=7))
    assert empty == ("empty", "") and long == ("long", "ab ab a")
