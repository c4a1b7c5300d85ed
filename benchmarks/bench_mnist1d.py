"""MNIST-1D at the defaults (CNN, GRU; baseline: the linear model's time), CNN vs GRU per batch."""

from __future__ import annotations

from benchmarks.common import Row
from engine.sequence import fit_mnist1d, time_per_batch

LENGTHS = (40, 100, 400, 1000, 4000)
TARGETS = {"cnn": (0.90, 20.0), "gru": (0.85, 90.0)}  # (test accuracy, seconds) from issue 7


def _fit_rows() -> list[Row]:
    linear = fit_mnist1d("linear")
    rows = []
    for arch, (accuracy, seconds) in TARGETS.items():
        result = fit_mnist1d(arch)
        ok = result.test_accuracy >= accuracy and result.seconds <= seconds
        rows.append(
            Row(
                name=f"fit {arch} {result.steps} steps: {result.test_accuracy:.1%} test"
                f" ({result.seconds:.1f} s{'' if ok else ', MISSED'})",
                ours_s=result.seconds,
                baseline_name=f"linear {linear.steps} steps: {linear.test_accuracy:.0%}",
                baseline_s=linear.seconds,
                target=f"≥ {accuracy:.0%} in ≤ {seconds:.0f} s",
            )
        )
    return rows


def _timing_rows(batch: int, repeat: int) -> list[Row]:
    cnn = time_per_batch("cnn", LENGTHS, batch=batch, repeat=repeat)
    gru = time_per_batch("gru", LENGTHS, batch=batch, repeat=repeat)
    return [
        Row(
            name=f"forward, batch {batch}, T = {length:,}: CNN",
            ours_s=c,
            baseline_name="GRU, same batch",
            baseline_s=g,
            target="CNN/GRU < 1 at every T",
        )
        for length, c, g in zip(LENGTHS, cnn["seconds"], gru["seconds"], strict=True)
    ]


def run(batch: int = 32, repeat: int = 5) -> list[Row]:
    """Return rows: CNN and GRU trained at the defaults, then CNN/GRU forward time per length."""
    return _fit_rows() + _timing_rows(batch, repeat)


if __name__ == "__main__":
    for row in run():
        print(row.line())
