"""Warm rerun time of every page in AppTest: the time a person waits after moving a widget."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from benchmarks.common import Row
from tests.pages_list import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run(reruns: int = 9) -> list[Row]:
    """Return one row per page: median warm rerun against the bare app shell's rerun."""
    # AppTest runs scripts without a browser session; Streamlit warns about that on every run.
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    shell = AppTest.from_string("import streamlit as st\nst.title('shell')", default_timeout=60)
    shell.run()
    shell_times = []
    for _ in range(reruns):
        t0 = time.perf_counter()
        shell.run()
        shell_times.append(time.perf_counter() - t0)
    baseline = statistics.median(shell_times)
    rows = []
    for path, _ in PAGES:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if path != "app_pages/home.py":
            at.switch_page(path).run()
        at.run()  # warm: caches filled, modules imported
        times = []
        for _ in range(reruns):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        rows.append(
            Row(
                f"warm rerun {path}",
                statistics.median(times),
                "trivial one-line page",
                baseline,
                "median <= 100 ms (issue 13)",
            )
        )
    return rows
