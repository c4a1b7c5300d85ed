"""The background warm-up: it covers every page's shared loaders, fills the pages' own cache
entries, runs to the end without raising, and starts one thread per process however often asked."""

from __future__ import annotations

import ast
import gc
import logging
import os
import threading
import weakref
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages_list import PAGES
from ui import warmup

ROOT = Path(__file__).resolve().parents[1]


def _decorated_resource_loaders() -> set[str]:
    """Return the names of every function decorated with st.cache_resource in pages and ui/."""
    names = set()
    for path in [*ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                "cache_resource" in ast.unparse(d) for d in node.decorator_list
            ):
                names.add(node.name)
    return names


def test_every_page_is_imported_and_every_shared_loader_is_warmed_or_excused():
    imported = {item.page for item in warmup.ITEMS if item.what == "imports"}
    assert imported == {path for path, _ in PAGES}
    warmed = {item.loader for item in warmup.ITEMS if item.loader}
    assert warmed.isdisjoint(warmup.NOT_WARMED)
    assert _decorated_resource_loaders() - warmed - set(warmup.NOT_WARMED) == set()
    assert {"arch_table", "mnist1d_data", "shipped_model", "char_model"} <= warmed


def test_no_page_defines_a_shared_loader_of_its_own():
    # A loader inside a page script is keyed on the page ("__main__"): the warm-up could not fill
    # the entry the page reads. Shared loaders live in ui/ modules, called by both; a page keeps
    # only the empty stores and locks the warm-up has nothing to put in.
    in_pages = {
        f"{path.name}: {node.name}"
        for path in ROOT.glob("app_pages/*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        and any("cache_resource" in ast.unparse(d) for d in node.decorator_list)
        and node.name not in warmup.NOT_WARMED
    }
    assert in_pages == set()


def test_a_warmed_loader_is_the_entry_the_page_reads():
    item = next(i for i in warmup.ITEMS if i.loader == "shipped_model")
    warmed = item.call()
    at = AppTest.from_file(str(ROOT / "app_pages/receptive_fields.py"), default_timeout=120)
    at.run()
    assert not at.exception
    from ui.cnn.models import shipped_model

    assert shipped_model() is warmed  # one cached object, shared by warm-up and page


def test_the_warmed_layer_tables_are_the_entries_the_drill_down_reads(monkeypatch):
    for item in [i for i in warmup.ITEMS if i.loader == "layer_table"]:
        item.call()
    import engine.architectures.stats as stats

    at = AppTest.from_file(str(ROOT / "app_pages/architectures.py"), default_timeout=120)
    at.run()
    built = []
    monkeypatch.setattr(stats, "build", lambda *a, **k: built.append(a) or None)
    for name in at.selectbox(key="arch_pick").options[:3]:
        at.selectbox(key="arch_pick").set_value(name).run()
        assert not at.exception, [e.message for e in at.exception]
    assert built == []  # every pick read the warmed table; none built its net again


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(
            f"{record.getMessage()} {record.exc_info[1] if record.exc_info else ''}"
        )


def test_a_subset_runs_to_the_end_and_a_failure_is_logged_not_raised():
    def broken():
        raise RuntimeError("no such model")

    chosen = [i for i in warmup.ITEMS if i.loader in {"char_model", "shipped_model", "samples"}]
    chosen += [warmup.Item("app_pages/home.py", "broken", broken)]
    w = warmup.WarmUp(chosen, patience=0)
    records = _Records()
    warmup.LOG.addHandler(records)  # Streamlit's loggers do not propagate to pytest's
    try:
        w.start().join()
    finally:
        warmup.LOG.removeHandler(records)
    assert w.done == [f"{i.page}: {i.what}" for i in chosen[:-1]]
    assert w.failed == ["app_pages/home.py: broken"]
    assert records.messages == ["warm-up item failed: app_pages/home.py: broken no such model"]


def test_before_serving_imports_every_page_and_a_broken_one_does_not_stop_the_server(
    monkeypatch,
):
    # launch.py runs this before the server answers: an exception here would keep it from
    # starting at all, so a page whose imports fail is logged and the others still import.
    imported, started = [], []

    def page_imports(page: str) -> None:
        imported.append(page)
        if page == "app_pages/pooling.py":
            raise ImportError("cannot import name 'pool_everything'")

    monkeypatch.setattr(warmup, "page_imports", page_imports)
    monkeypatch.setattr(warmup, "maybe_start", lambda: started.append(True))
    records = _Records()
    warmup.LOG.addHandler(records)
    try:
        warmup.before_serving(0.0)
    finally:
        warmup.LOG.removeHandler(records)
    assert imported[0] == "app.py"
    assert set(imported[1:]) == {path for path, _ in PAGES}
    assert started == [True]  # the warm-up starts all the same
    assert records.messages == [
        "imports failed before serving: app_pages/pooling.py cannot import name 'pool_everything'"
    ]


@pytest.fixture(autouse=True)
def _thaw():
    """Give the test process's heap back to the collector after a warm-up froze it."""
    yield
    gc.unfreeze()


class _Node:
    """An object that can hold a reference cycle to itself."""


def test_the_warm_up_freezes_the_servers_heap_and_later_garbage_is_still_collected():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    w = warmup.WarmUp([warmup.Item("app_pages/home.py", "mark", lambda: None)], patience=0)
    w.start().join()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # this process's modules and everything else alive now
    later = _Node()
    later.me = later  # a cycle made after the freeze, then dropped: only the collector frees it
    ref = weakref.ref(later)
    del later
    gc.collect()  # what runner.postScriptGC does after each run
    assert ref() is None
    assert gc.get_freeze_count() == frozen  # the collection left the frozen heap alone


def test_starting_twice_starts_one_thread():
    started = threading.Event()
    w = warmup.WarmUp([warmup.Item("app_pages/home.py", "mark", started.set)], patience=0)
    first, second = w.start(), w.start()
    assert first is not None and second is None
    first.join()
    assert started.is_set() and w.done == ["app_pages/home.py: mark"]


def test_outside_a_real_server_nothing_starts(monkeypatch):
    monkeypatch.delenv("EXPLORER_WARMUP", raising=False)
    assert warmup.maybe_start() is None  # no runtime in a plain test process
    assert warmup.server_warmup().thread is None


@pytest.mark.parametrize(
    ("exclusive", "patience"),
    [(False, 60), (True, 0)],  # an exclusive item waits without patience (which is for the rest)
)
def test_the_warm_up_waits_for_a_running_request(exclusive, patience):
    ran = threading.Event()
    mark = warmup.Item("app_pages/home.py", "mark", ran.set, exclusive=exclusive)
    w = warmup.WarmUp([mark], patience=patience)
    with warmup.request():
        thread = w.start()
        assert not ran.wait(0.2)  # still inside the request: the item has not run
    thread.join()
    assert ran.is_set()


def test_an_exclusive_item_holds_a_new_request_until_it_ends():
    """Without the hold, the request enters at once and releases the item (order start, request,
    end); with it, the item times out waiting and ends before the request enters."""
    order, started, release = [], threading.Event(), threading.Event()

    def item() -> None:
        order.append("item start")
        started.set()
        release.wait(timeout=2)
        order.append("item end")

    w = warmup.WarmUp([warmup.Item("app_pages/home.py", "imports", item, exclusive=True)])
    thread = w.start()
    assert started.wait(30)

    def learner() -> None:
        with warmup.request():
            order.append("request")
            release.set()

    visitor = threading.Thread(target=learner)
    visitor.start()
    visitor.join()
    thread.join()
    assert order == ["item start", "item end", "request"]


def test_every_page_import_is_exclusive():
    imports = [item for item in warmup.ITEMS if item.what == "imports"]
    assert imports and all(item.exclusive for item in imports)


def test_only_the_warm_up_thread_runs_at_the_lowest_priority():
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = []
    mark = warmup.Item(
        "app_pages/home.py",
        "priority",
        lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())),
    )
    warmup.WarmUp([mark], patience=0).start().join()
    assert seen == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
