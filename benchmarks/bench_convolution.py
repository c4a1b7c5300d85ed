"""feature_maps against one raw F.conv2d call on the same tensors: the cost of checks and glue."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Row, interleaved
from engine.conv import KERNEL_NAMES, feature_maps, make_kernel

SIDE = 512
N_KERNELS = 16


def _bank(size: int) -> torch.Tensor:
    """Return (16, size, size): the nine named kernels plus gabors at seven more angles."""
    kernels = [make_kernel(name, size) for name in KERNEL_NAMES]
    kernels += [
        make_kernel("gabor", size, angle) for angle in (22.5, 45, 67.5, 90, 112.5, 135, 157.5)
    ]
    return torch.stack(kernels[:N_KERNELS])


def _row(size: int, channels: int, repeat: int) -> Row:
    generator = torch.Generator().manual_seed(0)
    shape = (SIDE, SIDE) if channels == 1 else (channels, SIDE, SIDE)
    image = torch.rand(shape, generator=generator)  # (H, W) or (C, H, W), float32 in [0, 1]
    kernels = _bank(size)  # (K, k, k)
    # the baseline gets its tensors ready-made: (1, C, H, W) input, (K, C, k, k) weight
    batch = image.reshape(1, channels, SIDE, SIDE)
    weight = kernels[:, None].expand(-1, channels, -1, -1) / channels
    pad = size // 2
    ours, raw = interleaved(
        lambda: feature_maps(image, kernels, padding="same"),
        lambda: F.conv2d(batch, weight, padding=pad),
        repeat,
    )
    label = "gray" if channels == 1 else "RGB"
    return Row(
        name=f"feature_maps {N_KERNELS}×{size}×{size} on {label} {SIDE}×{SIDE}",
        ours_s=ours,
        baseline_name="raw F.conv2d, same tensors",
        baseline_s=raw,
        target="ratio <= 1.5",
    )


def run(repeat: int = 7) -> list[Row]:
    """Return rows: 7×7 on gray (the target), 5×5 on gray, 7×7 on RGB; default torch threads."""
    return [_row(7, 1, repeat), _row(5, 1, repeat), _row(7, 3, repeat)]


if __name__ == "__main__":
    for row in run():
        print(row.line())
