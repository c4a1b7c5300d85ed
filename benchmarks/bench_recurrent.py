"""Gate traces against torch's fused layers at equal and default threads; the gates page's work."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from benchmarks.common import Row, interleaved, median_seconds
from engine.core import one_thread
from engine.recurrent import (
    bptt_problem,
    gate_saturation,
    gradient_flow,
    gru_trace,
    load,
    lstm_trace,
    memory_task,
    rank_units,
    rnn_trace,
    text_properties,
    trace_text,
    unroll,
)

STEPS, INPUT, HIDDEN = 1000, 64, 128
PAGE_CHARS = 2000
GATES_PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "lstm_gates.py")


def _trace_row(cls: type, tracer: Callable, repeat: int, raw_threads: str) -> Row:
    torch.manual_seed(0)
    module = cls(INPUT, HIDDEN).eval()
    x = torch.randn(STEPS, INPUT, generator=torch.Generator().manual_seed(1))  # (T, I)

    def raw() -> object:
        with torch.inference_mode():
            if raw_threads == "one":
                with one_thread():
                    return module(x)
            return module(x)

    ours, base = interleaved(lambda: tracer(module, x), raw, repeat)
    threads = "1 thread" if raw_threads == "one" else f"{torch.get_num_threads()} threads"
    return Row(
        name=f"{tracer.__name__} T={STEPS}, hidden {HIDDEN} (1 thread)",
        ours_s=ours,
        baseline_name=f"nn.{cls.__name__}, {threads}",
        baseline_s=base,
        target="ratio <= 2" if cls is nn.LSTM else "report",
    )


def _page_text() -> str:
    line = 'def greet(name):\n    # say hello\n    return f"Hello, {name}!"  # (x[1], y)\n'
    return (line * (PAGE_CHARS // len(line) + 1))[:PAGE_CHARS]


def _page_row(repeat: int) -> Row:
    text = _page_text()
    model, _ = load("lstm")

    def page() -> object:
        result = trace_text(model, text)
        props = text_properties(result.encoded.text)
        return rank_units(result.trace.cell, props), gate_saturation(result.trace)

    def raw() -> object:
        with torch.inference_mode():
            return model(torch.as_tensor(model.vocab.ids(text))[None])

    ours, base = interleaved(page, raw, repeat)
    return Row(
        name=f"gates page work, {PAGE_CHARS} chars (trace+rank+saturation)",
        ours_s=ours,
        baseline_name="the char LSTM's fused forward",
        baseline_s=base,
        target="ours < 0.5 s",
    )


def _page_rerun_row(repeat: int) -> Row:
    """The gates page in AppTest: a fresh 2,000-character text against rerunning the same one."""
    from streamlit.testing.v1 import AppTest  # only this row needs Streamlit

    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)  # "no browser session" on every run
    at = AppTest.from_file(GATES_PAGE, default_timeout=120)
    at.run()  # models loaded, modules imported
    text, fresh, same = _page_text(), [], []
    for k in range(repeat + 1):
        at.text_area(key="lstm_text").set_value(f"# {k:03d}\n" + text[6:])  # a cache miss
        t0 = time.perf_counter()
        at.run()
        fresh.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        at.run()
        same.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(at.exception[0].message)
    return Row(
        f"gates page rerun, new {PAGE_CHARS}-char text (AppTest)",
        statistics.median(fresh[1:]),
        "rerun, same text (cached)",
        statistics.median(same[1:]),
        "ours < 1.5 s",
    )


def _gradient_row(repeat: int) -> Row:
    params, xs, _ = bptt_problem("lstm", 200, 64, 1.0, forget_bias=2.0)
    zero = torch.zeros(64, dtype=torch.float64)

    def forward_only() -> object:
        with torch.no_grad():
            return unroll("lstm", params, xs, zero, zero)

    ours, base = interleaved(
        lambda: gradient_flow("lstm", 200, 64, 1.0, forget_bias=2.0), forward_only, repeat
    )
    return Row(
        "gradient_flow lstm T=200, hidden 64", ours, "its forward pass alone", base, "ours < 1 s"
    )


def _memory_row() -> Row:
    ours = median_seconds(lambda: memory_task("lstm", 30, steps=300), repeat=3, warmup=1)
    base = median_seconds(lambda: memory_task("lstm", 30, steps=30), repeat=3, warmup=1)
    return Row("memory_task lstm delay 30, 300 steps", ours, "same, 30 steps", base, "ours < 5 s")


def run(repeat: int = 5) -> list[Row]:
    """Return rows: the three traces vs torch's layers, the gates page's work, BPTT and memory."""
    return [
        _trace_row(nn.LSTM, lstm_trace, repeat, "default"),
        _trace_row(nn.LSTM, lstm_trace, repeat, "one"),
        _trace_row(nn.GRU, gru_trace, repeat, "default"),
        _trace_row(nn.GRU, gru_trace, repeat, "one"),
        _trace_row(nn.RNN, rnn_trace, repeat, "default"),
        _trace_row(nn.RNN, rnn_trace, repeat, "one"),
        _page_row(repeat),
        _page_rerun_row(repeat),
        _gradient_row(repeat),
        _memory_row(),
    ]
