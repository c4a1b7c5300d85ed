"""Timing helpers shared by the benchmarks: medians of repeated runs, ratios to a baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Return the median wall-clock seconds of `repeat` calls of fn after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(
    ours: Callable[[], object], raw: Callable[[], object], repeat: int, inner: int = 3
) -> tuple[float, float]:
    """Return (ours_s, raw_s): medians over blocks timed alternately, so load hits both alike."""
    ours_blocks, raw_blocks = [], []
    for _ in range(repeat):
        raw_blocks.append(median_seconds(raw, repeat=inner, warmup=1))
        ours_blocks.append(median_seconds(ours, repeat=inner, warmup=1))
    return statistics.median(ours_blocks), statistics.median(raw_blocks)


@dataclass
class Row:
    """One measured comparison: our code against the obvious baseline, timed in the same run."""

    name: str
    ours_s: float
    baseline_name: str
    baseline_s: float
    target: str  # human-readable target, e.g. "ratio <= 1.5"

    @property
    def ratio(self) -> float:
        return self.ours_s / self.baseline_s if self.baseline_s > 0 else float("inf")

    def line(self) -> str:
        return (
            f"{self.name:<48} ours {self.ours_s * 1e3:9.2f} ms | {self.baseline_name:<28} "
            f"{self.baseline_s * 1e3:9.2f} ms | ratio {self.ratio:6.2f}x | target {self.target}"
        )
