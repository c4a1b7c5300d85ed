"""Links that reopen a view: settings kept in the URL, a notice for the ones that do not fit, and
the "copy link" box.

Widgets bind themselves (`bind="query-params"`, the URL parameter is the widget key) through
`linked`; what a widget cannot bind (a gallery button, a data editor's cells, a long text box) is
written with `keep_param` and read back once per session with `first_param`. Streamlit drops a
bound value it cannot use without a word, so `linked` compares the URL before and after drawing
and says which parameter was ignored or adjusted.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st

from ui.i18n import current_lang, t

TEXT_IN_LINK = 500  # characters of typed text a link carries: longer URLs break in chat and mail
SHOWN_VALUE = 40  # characters of an ignored value quoted in the notice
_NOTICED = "links_noticed"  # parameters already noticed in this session (one toast each)
_READ = "links_read"  # manual parameters already read from the URL in this session
_LABELS_IN = "links_labels_in"  # {key: language a translated choice was last drawn in}
_STARTS = "links_starts"  # {param: (owner, value)}: an editor's start taken from the link
BOX_HEIGHT = 86  # px: the copy button above the one-line address

T = TypeVar("T")


def _shown(values: Sequence[str]) -> str:
    """Return a URL value as the notice quotes it: joined, and cut to SHOWN_VALUE characters."""
    text = ",".join(values)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def notice(param: str, asked: Sequence[str], used: Sequence[str] | None = None) -> None:
    """Say once per session that the link's value of param was ignored (or changed to used)."""
    noticed = st.session_state.setdefault(_NOTICED, set())
    if param in noticed:
        return
    noticed.add(param)
    if used:
        text = t(
            "This link's {param}={value} does not fit this page; {shown} is used instead.",
            param=param,
            value=_shown(asked),
            shown=_shown(used),
        )
    else:
        text = t(
            "This link's {param}={value} does not fit this page, so it was ignored and the "
            "default is shown.",
            param=param,
            value=_shown(asked),
        )
    st.toast(text, icon=":material/link_off:")


RANGED = ("slider", "number_input")  # widgets whose second and third arguments are min and max
CHOICES = ("selectbox", "radio", "select_slider", "segmented_control", "pills", "multiselect")


def _fits(kind: str, value: Any, args: tuple, kwargs: dict) -> bool:
    """Return whether a remembered value still fits the widget about to be drawn."""
    if kind in RANGED:
        low = kwargs.get("min_value", args[1] if len(args) > 1 else None)
        high = kwargs.get("max_value", args[2] if len(args) > 2 else None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (low is None or value >= low) and (high is None or value <= high)
    if kind in CHOICES:
        options = list(kwargs.get("options", args[1] if len(args) > 1 else []))
        chosen = value if isinstance(value, list | tuple) else [value]
        return all(v in options for v in chosen if v is not None)
    return True


def _forget_unfit(kind: str, key: str, args: tuple, kwargs: dict) -> bool:
    """Forget a value kept from an earlier draw that the widget's new range or options exclude;
    return whether one was forgotten.

    A bound widget keeps its value when its range changes (say, a shorter text shrinks a
    position slider); drawn with a value beyond its new range, Streamlit would raise."""
    if key in st.session_state and not _fits(kind, st.session_state[key], args, kwargs):
        del st.session_state[key]
        return True
    return False


def _relabel_after_switch(kind: str, key: str, kwargs: dict) -> None:
    """Write a translated choice's value back into state after a language switch, so that
    Streamlit puts its label in the new language into the URL (a link opens in its ?lang=)."""
    if kind not in CHOICES or "format_func" not in kwargs:
        return
    lang = current_lang()
    drawn_in = st.session_state.setdefault(_LABELS_IN, {})
    if drawn_in.get(key, lang) != lang and key in st.session_state:
        st.session_state[key] = st.session_state[key]
    drawn_in[key] = lang


def linked(widget: Callable[..., T]) -> Callable[..., T]:
    """Return widget drawn with its value bound to the URL (?key=…), noticing a value it refused."""
    kind = getattr(widget, "__name__", "")

    def draw(*args: Any, key: str, **kwargs: Any) -> T:
        forgot = _forget_unfit(kind, key, args, kwargs)
        _relabel_after_switch(kind, key, kwargs)
        # Only the first draw reads the link (a forgotten value's stale URL copy is no link's)
        first = key not in st.session_state and not forgot
        asked = st.query_params.get_all(key) if first else []
        value = widget(*args, key=key, bind="query-params", **kwargs)
        used = st.query_params.get_all(key)
        if asked and used != asked:
            notice(key, asked, used)
        return value

    return draw


def first_param(param: str, parse: Callable[[str], T | None]) -> T | None:
    """Return the link's value of param parsed, the first time a session asks; None otherwise.

    parse returns None for a value it cannot use; that value is noticed and dropped from the URL."""
    read = st.session_state.setdefault(_READ, set())
    if param in read:
        return None
    read.add(param)
    raw = st.query_params.get(param)
    if raw is None:
        return None
    value = parse(raw)
    if value is None:
        notice(param, [raw])
        del st.query_params[param]
    return value


def linked_start(param: str, owner: str, parse: Callable[[str], T | None], default: T) -> T:
    """Return where an editor starts: the link's value, if the link was read for this editor
    (owner: its key; a new owner such as another kernel starts from default), else default."""
    starts = st.session_state.setdefault(_STARTS, {})
    value = first_param(param, parse)
    if value is not None:
        starts[param] = (owner, value)
    return kept_start(st.session_state, param, owner, default)


def kept_start(state: Mapping, param: str, owner: str, default: T) -> T:
    """Return where an editor started in this session (see linked_start), without reading the
    URL: what another part of the page needs to replay the editor's edits."""
    kept = state.get(_STARTS, {}).get(param)
    return kept[1] if kept is not None and kept[0] == owner else default


def edited_rows(rows: list[dict], edits: dict) -> list[dict]:
    """Return a data editor's rows after its edits (edited, then deleted, then added rows)."""
    rows = [dict(row) for row in rows]
    for index, changes in (edits.get("edited_rows") or {}).items():
        rows[int(index)].update(changes)
    deleted = {int(i) for i in edits.get("deleted_rows") or []}
    rows = [row for i, row in enumerate(rows) if i not in deleted]
    return rows + [dict(row) for row in edits.get("added_rows") or []]


def keep_param(param: str, value: str | None) -> None:
    """Write value into the URL as ?param=value, or remove param when value is None (a default)."""
    if value is None:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


def linked_text(key: str, default: str) -> None:
    """Start a text box's state from the link (its first TEXT_IN_LINK characters) or default.

    Call before drawing the box (with key, without a value); call `keep_text` after it."""
    if key in st.session_state:
        return
    text = first_param(key, lambda raw: raw)
    if text is not None and len(text) > TEXT_IN_LINK:
        notice(key, [text], [text[:TEXT_IN_LINK]])
    st.session_state[key] = default if text is None else text[:TEXT_IN_LINK]


def keep_text(key: str, text: str, default: str) -> None:
    """Write a text box's first TEXT_IN_LINK characters into the URL, unless it shows default."""
    keep_param(key, None if text == default else text[:TEXT_IN_LINK])


def text_note() -> str:
    """Return the sentence that says how much typed text a link to this view carries."""
    return t("A link to this view carries the first {n} characters.", n=f"{TEXT_IN_LINK:,}")


def _number(value: float) -> str:
    """Return value written short for a URL: 1 not 1.0, at most 4 decimals."""
    return f"{round(float(value), 4):g}"


def encode_grid(rows: Sequence[Sequence[float]]) -> str:
    """Return a grid of numbers as text for a URL: values by commas, rows by semicolons."""
    return ";".join(",".join(_number(v) for v in row) for row in rows)


def decode_grid(text: str, shape: tuple[int, int]) -> list[list[float]] | None:
    """Return the grid encode_grid wrote, or None when it is malformed or not of shape."""
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
    except ValueError:
        return None
    if len(rows) != shape[0] or any(len(row) != shape[1] for row in rows):
        return None
    if not all(math.isfinite(v) for row in rows for v in row):
        return None
    return rows


STACK_FIELDS = ("k", "s", "p", "d")  # the numbers of one layer, after its kind


def encode_stack(layers: Sequence[dict]) -> str:
    """Return a layer stack as text for a URL: kind-k-s-p-d per layer, layers by underscores."""
    return "_".join(
        "-".join([layer["kind"], *(str(layer[f]) for f in STACK_FIELDS)]) for layer in layers
    )


def decode_stack(
    text: str, kinds: Sequence[str], limits: dict[str, tuple[int, int]]
) -> list[dict] | None:
    """Return the layers encode_stack wrote, or None when one is malformed or out of limits."""
    layers = []
    for part in text.split("_"):
        kind, *numbers = part.split("-")
        if kind not in kinds or len(numbers) != len(STACK_FIELDS):
            return None
        if not all(n.isdigit() for n in numbers):
            return None
        layer = dict(zip(STACK_FIELDS, map(int, numbers), strict=True))
        if not all(limits[f][0] <= layer[f] <= limits[f][1] for f in STACK_FIELDS):
            return None
        layers.append({"kind": kind, **layer})
    return layers or None


def _box_html(button: str, copied: str, selected: str, address: str) -> str:
    """Return the copy box: a button and the live address of the page it sits in."""
    words = json.dumps({"copied": copied, "selected": selected})
    return f"""
<div style="font-family: sans-serif; font-size: 14px;">
  <button id="copy" type="button" style="padding: 4px 10px; cursor: pointer;">
    {html.escape(button)}</button>
  <span id="done" role="status" style="margin-left: 6px; color: #2e7d32;"></span>
  <input id="url" readonly aria-label="{html.escape(address)}"
    style="box-sizing: border-box; width: 100%; margin-top: 6px; font-size: 12px;">
</div>
<script>
const words = {words};
const box = document.getElementById("url");
const done = document.getElementById("done");
// The address is read from the page itself: the server only learns a changed URL later.
const here = () => window.parent.location.href;
const show = () => {{ if (document.activeElement !== box) box.value = here(); }};
show();
setInterval(show, 300);
document.getElementById("copy").addEventListener("click", async () => {{
  box.value = here();
  try {{
    await navigator.clipboard.writeText(box.value);
    done.textContent = words.copied;
  }} catch (err) {{  // a browser that refuses the clipboard: select it for Ctrl+C
    box.focus();
    box.select();
    done.textContent = words.selected;
  }}
}});
</script>
"""


def copy_link_box() -> None:
    """Draw the "Copy link to this view" button with the page's current address below it."""
    st.iframe(
        _box_html(
            t("Copy link to this view"),
            t("Copied"),
            t("Selected: press Ctrl+C"),
            t("Link to this view"),
        ),
        height=BOX_HEIGHT,
    )
    st.caption(
        t("The link keeps this page's settings and language; an uploaded picture stays here.")
    )
