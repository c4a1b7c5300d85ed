"""A headless learner that speaks Streamlit's browser protocol over the websocket.

It does what the frontend does for one tab, without drawing anything: it connects to
/_stcore/stream, asks for a page with a `rerun_script` BackMsg (a cold load names the page by its
URL path, `page_name`; a later page is opened by its `page_script_hash`, as the sidebar menu does,
with every widget's current value), keeps the widgets the deltas describe (id, kind, value,
fragment), changes one by sending all current values with the changed one, and fetches every image
the deltas reference from /media/ as a browser would. Its time for a request ("server latency")
runs from sending the BackMsg to the run's final `script_finished` with every image fetched.

Cached messages work as in the browser: messages the server marks cacheable are kept by hash, the
hashes go with every request, and a `ref_hash` reply is answered from the kept copy.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINAL = {  # a run that ends in any other way (early, for a rerun) is followed by another
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
CHOICES = ("radio", "selectbox")  # their state is the chosen option's label (string_value)
TEXTS = ("text_area", "text_input")
MEDIA_KINDS = ("imgs", "audio", "video")  # what a browser fetches as soon as it draws it


@dataclass
class Widget:
    """One widget as the deltas describe it, with the value this learner holds for it."""

    id: str
    kind: str  # the Element field: slider, number_input, radio, selectbox, text_area, text_input
    value: list[float] | float | str | None
    fragment_id: str = ""  # the fragment it was drawn in: a change reruns only that
    param: str = ""  # the URL parameter it is bound to (bind="query-params"), if any
    default: list[float] | float | str | None = None
    options: tuple[str, ...] = ()
    step: float = 1.0

    def key(self) -> str:
        """Return the widget's user key (Streamlit ids end in `-<key>`)."""
        return self.id.rsplit("-", 1)[-1]


# ---- pure parts (tested in tests/test_classroom_bench.py)


def widget_of(element, fragment_id: str = "") -> Widget | None:
    """Return the widget an Element describes (its shown value), or None if it is none we drive."""
    kind = element.WhichOneof("type")
    if kind not in READERS:
        return None
    proto = getattr(element, kind)
    widget = Widget(proto.id, kind, None, fragment_id, param=proto.query_param_key)
    READERS[kind](widget, proto)
    widget.value = _shown(widget, proto)
    return widget


def _read_number(widget: Widget, proto) -> None:
    """Take a slider's or number input's default and step (a slider's default is a list)."""
    widget.step = proto.step
    widget.default = list(proto.default) if widget.kind == "slider" else proto.default


def _read_choice(widget: Widget, proto) -> None:
    """Take a radio's or select box's options and its default option's label."""
    widget.options = tuple(proto.options)
    widget.default = proto.options[proto.default] if proto.options else ""


def _read_text(widget: Widget, proto) -> None:
    """Take a text box's default text."""
    widget.default = proto.default


READERS = {
    "slider": _read_number,
    "number_input": _read_number,
    "radio": _read_choice,
    "selectbox": _read_choice,
    "text_area": _read_text,
    "text_input": _read_text,
}


def _shown(widget: Widget, proto) -> list[float] | float | str:
    """Return the value the widget shows: the one the server set, else its default."""
    if not proto.set_value:
        return widget.default
    if widget.kind in CHOICES:
        return proto.raw_value
    return list(proto.value) if widget.kind == "slider" else proto.value


def stepped(widget: Widget) -> list[float] | float | str:
    """Return the value one step on, as the browser suite's action gives it: a slider's arrow key
    or a number's step-up (both the first thumb and the number by one step), the next option."""
    if widget.kind == "slider":
        return [widget.value[0] + widget.step, *widget.value[1:]]
    if widget.kind == "number_input":
        return widget.value + widget.step
    if widget.kind in CHOICES:
        at = widget.options.index(widget.value)
        return widget.options[(at + 1) % len(widget.options)]
    raise ValueError(f"{widget.kind} has no next value: give one")


def widget_state(widget: Widget) -> WidgetState:
    """Return the WidgetState the frontend sends for widget's value."""
    state = WidgetState(id=widget.id)
    if widget.kind == "slider":
        state.double_array_value.data.extend(widget.value)
    elif widget.kind == "number_input":
        state.double_value = widget.value
    else:  # choices and texts: the label or the text itself
        state.string_value = widget.value
    return state


def url_values(widget: Widget) -> list[str]:
    """Return the widget's value as its URL parameter's values (numbers as the server writes
    them: whole ones without a decimal point)."""
    values = widget.value if isinstance(widget.value, list) else [widget.value]
    return [_number(v) if isinstance(v, float) else str(v) for v in values]


def _number(value: float) -> str:
    """Return a number as a URL value: 130.0 as "130", 0.25 as "0.25"."""
    return str(int(value)) if value.is_integer() else repr(value)


def with_param(query_string: str, key: str, values: list[str] | None) -> str:
    """Return query_string with key's values replaced (or key removed, for None), as the
    frontend rewrites its URL when a bound widget changes."""
    kept = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != key]
    return urlencode(kept + [(key, v) for v in values or []])


def client_state(
    widgets: list[Widget], query_string: str = "", cached: list[str] | None = None, **where: str
) -> ClientState:
    """Return a ClientState holding every widget's value; where: page_name, page_script_hash or
    fragment_id, as the request needs."""
    state = ClientState(query_string=query_string, **where)
    state.widget_states.widgets.extend(widget_state(w) for w in widgets)
    state.cached_message_hashes.extend(cached or [])
    state.context_info.CopyFrom(ContextInfo(locale="en-US", timezone="UTC", timezone_offset=0))
    return state


def rerun_message(state: ClientState) -> bytes:
    """Return the serialized BackMsg that asks for a rerun with state."""
    msg = BackMsg()
    msg.rerun_script.CopyFrom(state)
    return msg.SerializeToString()


def media_urls(element) -> list[str]:
    """Return the /media/ URLs an Element references that a browser fetches on drawing it."""
    kind = element.WhichOneof("type")
    if kind == "imgs":
        urls = [img.url for img in element.imgs.imgs]
    elif kind in MEDIA_KINDS:
        urls = [getattr(element, kind).url]
    else:
        urls = []
    return [u for u in urls if u.startswith("/media/")]


def fetch(url: str) -> int:
    """Return the byte count of url's body (a browser's image fetch)."""
    with urllib.request.urlopen(url, timeout=120) as reply:
        return len(reply.read())


# ---- one learner


@dataclass
class Run:
    """What one request brought: its deltas (serialized, as received), widgets and media."""

    deltas: list[bytes] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    status: int | None = None


class ProtocolLearner:
    """One headless tab on the server at base (http://host:port): open pages, change widgets."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.widgets: dict[str, Widget] = {}
        self.pages: dict[str, str] = {}  # URL path → page script hash (from the navigation)
        self.page = ""  # the URL path shown
        self.page_hash = ""  # its script hash, as the server's new_session names it
        self.query_string = ""
        self.received: list[bytes] = []  # every delta of the visit, serialized
        self.last = Run()
        self._cache: dict[str, ForwardMsg] = {}
        self._socket = None

    async def __aenter__(self) -> ProtocolLearner:
        stream = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self._socket = await websockets.connect(stream, subprotocols=["streamlit"], max_size=None)
        return self

    async def __aexit__(self, *_) -> None:
        await self._socket.close()

    async def open(self, url_path: str) -> float:
        """Open a page (a cold load by URL path, later ones by the menu); return seconds."""
        if url_path in self.pages:
            where = {"page_script_hash": self.pages[url_path]}
            state = client_state(list(self.widgets.values()), cached=self._hashes(), **where)
        else:
            state = client_state([], cached=self._hashes(), page_name=url_path)
        self.page, self.widgets = url_path, {}
        return await self._request(state)

    async def change(self, key: str, value=None) -> float:
        """Change the widget with this user key (one step on, or to value); return seconds."""
        widget = self.widget(key)
        widget.value = stepped(widget) if value is None else value
        if widget.param:  # the frontend keeps a bound widget's value in the URL (not a default)
            values = None if widget.value == widget.default else url_values(widget)
            self.query_string = with_param(self.query_string, widget.param, values)
        where = {"fragment_id": widget.fragment_id} if widget.fragment_id else {}
        return await self.rerun(**where)

    async def rerun(self, **where: str) -> float:
        """Rerun the page with every widget's current value (the frontend's "Rerun")."""
        widgets = list(self.widgets.values())
        where = {"page_script_hash": self.page_hash, **where}
        state = client_state(widgets, self.query_string, self._hashes(), **where)
        return await self._request(state)

    def widget(self, key: str) -> Widget:
        """Return the shown widget with this user key; raise KeyError if none."""
        found = [w for w in self.widgets.values() if w.key() == key]
        if not found:
            raise KeyError(f"{key} not on {self.page or 'home'}")
        return found[0]

    async def _request(self, state: ClientState) -> float:
        """Send a rerun and return seconds until its final script_finished and its media."""
        start = time.perf_counter()
        self.last = Run()
        await self._socket.send(rerun_message(state))
        while self.last.status not in FINAL:
            self._take(ForwardMsg.FromString(await self._socket.recv()))
        await asyncio.gather(*(asyncio.to_thread(fetch, self.base + u) for u in self.last.media))
        return time.perf_counter() - start

    def _take(self, msg: ForwardMsg) -> None:
        """Fold one ForwardMsg into what this learner knows."""
        if msg.metadata.cacheable:
            self._cache[msg.hash] = msg
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            self._take_cached(msg)
        elif kind == "delta":
            self._take_delta(msg)
        elif kind == "script_finished":
            self.last.status = msg.script_finished
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            self._take_pages(msg.new_session.app_pages)
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash
            self._take_pages(msg.navigation.app_pages)

    def _take_cached(self, msg: ForwardMsg) -> None:
        """Handle a reference to a message sent before, at the place the reference gives."""
        kept = ForwardMsg()
        kept.CopyFrom(self._cache[msg.ref_hash])
        kept.metadata.CopyFrom(msg.metadata)
        self._take(kept)

    def _take_delta(self, msg: ForwardMsg) -> None:
        """Keep a delta's bytes, its widget (keeping this learner's value) and its media."""
        self.received.append(msg.delta.SerializeToString())
        self.last.deltas.append(self.received[-1])
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        self.last.media += media_urls(element)
        widget = widget_of(element, msg.delta.fragment_id)
        if widget is None:
            return
        held = self.widgets.get(widget.id)
        if held is not None and not getattr(element, widget.kind).set_value:
            widget.value = held.value  # the browser keeps what its learner set
        self.widgets[widget.id] = widget

    def _take_pages(self, app_pages) -> None:
        """Keep each page's script hash by URL path (the sidebar menu's links)."""
        for page in app_pages:
            self.pages[page.url_pathname] = page.page_script_hash

    def _hashes(self) -> list[str]:
        """Return the hashes of the messages this learner keeps (sent with every request)."""
        return list(self._cache)
