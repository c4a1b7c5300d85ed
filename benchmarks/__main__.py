"""`python -m benchmarks`: measured ratios against the obvious baselines, all in one run."""

from __future__ import annotations

import argparse
import os
import platform

import torch

from benchmarks import (
    bench_architectures,
    bench_browser,
    bench_classroom,
    bench_convolution,
    bench_images,
    bench_mnist1d,
    bench_pages,
    bench_pooling,
    bench_receptive_field,
    bench_recurrent,
    bench_sessions,
    bench_small_cnn,
    bench_symmetry,
    bench_training,
)
from runtime_tuning import tune_allocator

SUITES = {
    "convolution": bench_convolution,
    "images": bench_images,
    "symmetry": bench_symmetry,
    "pooling": bench_pooling,
    "receptive_field": bench_receptive_field,
    "architectures": bench_architectures,
    "small_cnn": bench_small_cnn,
    "recurrent": bench_recurrent,
    "mnist1d": bench_mnist1d,
    "training": bench_training,
    "pages": bench_pages,
    "browser": bench_browser,
    "sessions": bench_sessions,
    "classroom": bench_classroom,
}
# They start servers and Chromium for minutes: only when named
OPT_IN = {"browser", "sessions", "classroom"}


def main() -> None:
    tuned = tune_allocator()  # as app.py does, so the figures are the server's
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "suites",
        nargs="*",
        help=f"any of {', '.join(SUITES)} (default: all but {', '.join(sorted(OPT_IN))}); "
        "a number after a suite is its count: `sessions 12`",
    )
    args = parser.parse_args()
    try:
        names, counts = bench_sessions.split_suites(args.suites)
    except ValueError as err:
        parser.error(str(err))
    unknown = set(names) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"malloc thresholds {'fixed as in app.py' if tuned else 'left to glibc'}"
    )
    for name in names or [s for s in SUITES if s not in OPT_IN]:
        print(f"\n## {name}")
        for row in SUITES[name].run(*[counts[name]] if name in counts else []):
            print(row.line())


if __name__ == "__main__":
    main()
