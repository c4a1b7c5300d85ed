"""The shift-consistency sweep and k-max pooling against the raw torch calls they build on."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Row, interleaved
from engine.pooling import STABILITY_METHODS, pool2d, shift_stability, stability_kernels

SIDE = 512
MAX_SHIFT = 8


def _sweep_row(repeat: int) -> Row:
    image = torch.rand(SIDE, SIDE, generator=torch.Generator().manual_seed(0))  # (H, W)
    batch, weight = image[None, None], stability_kernels()  # (1, 1, H, W), (K, 1, 5, 5)
    ours, raw = interleaved(
        lambda: shift_stability(image, MAX_SHIFT), lambda: F.conv2d(batch, weight), repeat
    )
    return Row(
        name=f"shift sweep 0..{MAX_SHIFT}, {len(STABILITY_METHODS)} methods, {SIDE}² "
        f"({ours:.2f} s)",
        ours_s=ours,
        baseline_name=f"one F.conv2d of the bank ({weight.shape[0]} kernels)",
        baseline_s=raw,
        target="ours < 1 s",
    )


def _kmax_row(repeat: int) -> Row:
    fmap = torch.rand(16, 256, 256, generator=torch.Generator().manual_seed(1))  # (C, H, W)
    ours, raw = interleaved(
        lambda: pool2d(fmap, "k-max", 2, k=2), lambda: F.max_pool2d(fmap, 2), repeat
    )
    return Row(
        name="pool2d k-max (k=2, 2×2) on 16×256×256",
        ours_s=ours,
        baseline_name="F.max_pool2d, same map",
        baseline_s=raw,
        target="report only",
    )


def run(repeat: int = 5) -> list[Row]:
    """Return rows: the 512×512 shift-consistency sweep, and k-max against max pooling."""
    return [_sweep_row(repeat), _kmax_row(repeat)]


if __name__ == "__main__":
    for row in run():
        print(row.line())
