"""Warm every page's shared work in the background once a server has started (issue 13).

A page's first visit pays for imports and for the models and tables that every session shares
(st.cache_resource). One daemon thread per server process pays for them before a learner asks: it
imports what every page imports, then calls the pages' own cached loaders with the inputs the pages
use, so the caches hold exactly the values the pages would compute themselves (caching changes no
value). Served by `streamlit run launch.py`, the server imports every page's modules before it
answers anyone and starts the thread then (`before_serving`); served as `streamlit run app.py`,
app.py starts it on the first visit.

Shared loaders live in ui/ modules, never inside a page script: the page and the warm-up then call
the same cached function, so the warm-up fills the very entry the page reads.

The thread must not slow the first learner: it runs at the lowest CPU priority (on Linux a thread
has its own nice value), inherits the one torch thread app.py sets, waits before each item until no
script run is in progress (app.py counts them with `request()`), and logs, never raises, a failure.
The pages' imports are exclusive: a script run that starts meanwhile waits for the one page's
imports in progress (a fraction of a second once torch is loaded), because threads importing the
same modules at once can be handed a half-initialised module.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from streamlit.logger import get_logger

from engine.architectures import ARCHITECTURES
from engine.recurrent import CHAR_MODELS
from runtime_tuning import lower_thread_priority
from ui.navigation import all_topics

__all__ = [
    "ITEMS",
    "NOT_WARMED",
    "Item",
    "WarmUp",
    "before_serving",
    "freeze_heap",
    "maybe_start",
    "page_imports",
    "request",
    "server_warmup",
]

ROOT = Path(__file__).resolve().parents[1]
LOG = get_logger(__name__)
PATIENCE_S = 5.0  # the longest an item waits for a quiet moment before it runs anyway
_runs = 0  # script runs in progress in this process
_exclusive = False  # an exclusive warm-up item is running: script runs wait to start
_quiet = threading.Condition()


@dataclass(frozen=True)
class Item:
    """One piece of shared work: the page it serves, a name for the log, the call, and the name of
    the cached loader it fills ("" for imports)."""

    page: str
    what: str
    call: Callable[[], object]
    loader: str = ""
    exclusive: bool = False  # never at the same time as a script run (imports: see _exclusive)


@contextlib.contextmanager
def request() -> Iterator[None]:
    """Count a script run as in progress while the block runs (the warm-up waits for none)."""
    global _runs
    with _quiet:
        _quiet.wait_for(lambda: not _exclusive)
        _runs += 1
    try:
        yield
    finally:
        with _quiet:
            _runs -= 1
            _quiet.notify_all()


def _wait_quiet(patience: float) -> None:
    """Return once no script run is in progress, or after `patience` seconds."""
    with _quiet:
        _quiet.wait_for(lambda: _runs == 0, timeout=patience)


@contextlib.contextmanager
def _alone() -> Iterator[None]:
    """Run the block while no script run is in progress, and hold new ones until it ends.

    A page's imports in the warm-up must never overlap a script importing the same modules:
    Python breaks a cross-thread import deadlock by handing one thread the partially initialised
    module (seen here: "partially initialized module 'pandas' has no attribute 'Series'", a
    learner's traceback on the weights page while the warm-up imported pages)."""
    global _exclusive
    with _quiet:
        _quiet.wait_for(lambda: _runs == 0)
        _exclusive = True
    try:
        yield
    finally:
        with _quiet:
            _exclusive = False
            _quiet.notify_all()


def _top_level(page: str) -> tuple[Path, list[ast.stmt]]:
    """Return the page's path and its top-level statements."""
    path = ROOT / page
    return path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body


def _run_statements(path: Path, body: list[ast.stmt]) -> dict:
    """Return the namespace after running the statements as the page would (module __main__)."""
    namespace = {"__name__": "__main__", "__file__": str(path)}
    code = compile(ast.Module(body=body, type_ignores=[]), str(path), "exec")
    exec(code, namespace)  # the page's own lines, compiled at their own line numbers
    return namespace


_imported_pages: set[str] = set()  # pages whose imports have run in this process


def page_imports(page: str) -> None:
    """Import every module the page imports, once per process: served by launch.py, the pages'
    imports run before serving, and the warm-up's import items then find them done."""
    if page in _imported_pages:
        return
    path, body = _top_level(page)
    _run_statements(path, [n for n in body if isinstance(n, ast.Import | ast.ImportFrom)])
    _imported_pages.add(page)


def _ui_item(page: str, module: str, name: str, *args: object) -> Item:
    """Return an item calling the shared loader `name` of a ui module with the page's arguments."""
    shown = ", ".join(map(repr, args))

    def call() -> object:
        return getattr(import_module(module), name)(*args)

    return Item(page, f"{module}.{name}({shown})", call, name)


def _shipped_drawings() -> object:
    # The trained-CNN page scores a picture against drawings of the shipped model's classes.
    from ui.cnn.models import shipped_model
    from ui.cnn.overview_inputs import drawings_of

    model, _ = shipped_model()
    return drawings_of(tuple(model.config.classes), model.config.input_size)


def _architecture_tables() -> object:
    # The page wraps these engine functions inline; the key is the wrapped function's, so the
    # same wrapping here fills the page's entries.
    import streamlit as st

    from engine import architectures as arch

    st.cache_resource(show_spinner="Measuring the nine nets (once per server)…")(arch.arch_table)()
    return st.cache_resource(show_spinner=False)(arch.design_constants)()


ARCH = "app_pages/architectures.py"
LSTM = "app_pages/lstm_gates.py"
MNIST1D = "app_pages/mnist1d_cnn_rnn.py"
# Shared loaders the warm-up leaves alone, and why: each returns an empty store or a lock (nothing
# to compute), or depends on what a learner chooses.
NOT_WARMED = {
    "_data_store": "an empty store",
    "_timing_lock": "a lock",
    "_memory_results": "an empty store",
    "finished_runs": "an empty store",
    "run_store": "an empty store",
    "timing_store": "an empty store",
    "shared_slot": "an empty job slot",
    "shared_runs": "an empty store",
    "_results": "an empty store",
    "held_out_images": "its classes and size are the learner's choice of model",
    "finished_sets": "an empty store",
    "folder_weights": "the operator's weights file: whether there is one, and its size, are theirs",
}


def _items() -> list[Item]:
    """Return the warm-up's work: every page's imports, then the shared loaders, costly first."""
    imports = [
        Item(t.path, "imports", lambda p=t.path: page_imports(p), exclusive=True)
        for t in all_topics()
    ]
    loaders = [
        Item(
            "app_pages/architectures.py", "architecture tables", _architecture_tables, "arch_table"
        ),
        _ui_item(ARCH, "ui.architectures.tables", "layer_table", "vgg16", None),  # the story's
        *(  # the drill-down's default side for every net: any first pick is a cache hit
            _ui_item(ARCH, "ui.architectures.tables", "layer_table", name, spec.input_size)
            for name, spec in ARCHITECTURES.items()
        ),
        _ui_item(MNIST1D, "ui.sequence.mnist1d_runs", "mnist1d_data"),
        _ui_item(MNIST1D, "ui.sequence.mnist1d_runs", "parameter_counts"),
        _ui_item("app_pages/cnn_overview.py", "ui.cnn.models", "shipped_model"),
        Item(
            "app_pages/cnn_overview.py", "drawings of its classes", _shipped_drawings, "drawings_of"
        ),
        *(_ui_item(LSTM, "ui.recurrent.models", "char_model", name) for name in CHAR_MODELS),
        _ui_item("app_pages/conv_2d.py", "ui.inputs", "samples"),
        _ui_item("app_pages/conv_2d.py", "ui.inputs", "sample_thumbnails"),
    ]
    return imports + loaders


ITEMS = _items()


class WarmUp:
    """A warm-up that runs its items on one low-priority daemon thread, started at most once."""

    def __init__(self, items: Sequence[Item], patience: float = PATIENCE_S) -> None:
        self.items = list(items)
        self.patience = patience
        self.done: list[str] = []  # "page: what" of every item that finished
        self.failed: list[str] = []
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> threading.Thread | None:
        """Start the thread; return it, or None if this warm-up was started before."""
        with self._lock:
            if self.thread is not None:
                return None
            self.thread = threading.Thread(target=self._run, name="explorer-warmup", daemon=True)
            self.thread.start()
            return self.thread

    def _run(self) -> None:
        lower_thread_priority(19)
        t0 = time.perf_counter()
        for item in self.items:
            if item.exclusive:
                with _alone():
                    self._one(item)
            else:
                _wait_quiet(self.patience)
                self._one(item)
        frozen = freeze_heap()
        LOG.info(
            "warm-up done in %.1f s: %d items, %d failed; %d objects frozen",
            time.perf_counter() - t0,
            len(self.done),
            len(self.failed),
            frozen,
        )

    def _one(self, item: Item) -> None:
        label = f"{item.page}: {item.what}"
        try:
            item.call()
        except Exception:  # a warm-up failure must never reach a learner; the page will retry
            LOG.exception("warm-up item failed: %s", label)
            self.failed.append(label)
        else:
            self.done.append(label)


def freeze_heap() -> int:
    """Move every object alive now (modules, models, shared tables) out of the garbage collector's
    sight; return how many the collector no longer examines.

    Streamlit collects every generation after each script run (runner.postScriptGC) to keep memory
    low. With torch, plotly and pandas loaded that traversed ~250,000 objects, 100–275 ms per run
    holding the GIL, so every learner's messages waited. What lives at the end of the warm-up lives
    as long as the server, so freezing it changes nothing the collector could free, and a run's
    collection then examines only what was made since.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


_SERVER: WarmUp | None = None
_SERVER_LOCK = threading.Lock()


def server_warmup() -> WarmUp:
    """Return this process's one WarmUp over ITEMS."""
    global _SERVER
    with _SERVER_LOCK:
        if _SERVER is None:
            _SERVER = WarmUp(ITEMS)
        return _SERVER


def _real_server() -> bool:
    """Return True inside a real Streamlit server (not AppTest, whose runtime is a stand-in)."""
    from ui.jobs import runtime_view

    return runtime_view().real_server


def before_serving(started: float) -> float:
    """Import every page's modules (app.py's too), then start the warm-up; return the seconds
    since `started` (a perf_counter time: when the caller began importing this module).

    launch.py calls it as the server starts, before it answers anyone: no script run can overlap
    these imports, and the first learner's page finds them done. A page whose imports fail is
    logged and left to fail on its own visit; the server still starts."""
    for page in ["app.py", *(topic.path for topic in all_topics())]:
        try:
            page_imports(page)
        except Exception:  # noqa: BLE001  (a broken page must not keep the others from serving)
            LOG.exception("imports failed before serving: %s", page)
    seconds = time.perf_counter() - started
    LOG.info("every page's modules imported in %.1f s, before serving", seconds)
    maybe_start()
    return seconds


def maybe_start() -> threading.Thread | None:
    """Start the server's warm-up unless EXPLORER_WARMUP=0 or outside a real server; return it
    when this call started it."""
    if os.environ.get("EXPLORER_WARMUP", "1") == "0" or not _real_server():
        return None
    return server_warmup().start()
