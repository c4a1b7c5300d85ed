"""Equivariance error curves and circular padding against raw F.conv2d on the same tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Row, interleaved
from engine.conv import feature_maps, make_kernel, rotation_errors

CURVE_SIDE = 256  # the page works on a ≤ 256 px copy
ANGLES = [float(a) for a in range(0, 360, 30)]  # 12 angles
CIRCULAR_SIDE = 512
N_KERNELS = 16


def _curves(repeat: int) -> Row:
    image = torch.rand(CURVE_SIDE, CURVE_SIDE, generator=torch.Generator().manual_seed(0))
    kernels = {
        "gaussian": make_kernel("gaussian", 5),
        "sobel x": make_kernel("sobel x", 5),
        "gabor": make_kernel("gabor", 5, 30.0),
    }
    weight = torch.stack(list(kernels.values()))[:, None]  # (3, 1, 5, 5)
    batch = image[None, None]  # (1, 1, H, W)
    ours, raw = interleaved(
        lambda: rotation_errors(image, kernels, ANGLES),
        lambda: F.conv2d(batch, weight, padding=2),
        repeat,
    )
    return Row(
        name=f"rotation_errors 3 kernels × {len(ANGLES)} angles, {CURVE_SIDE}²",
        ours_s=ours,
        baseline_name="one F.conv2d of the 3 kernels",
        baseline_s=raw,
        target="report (≈ 2 convs × 12 angles + warps)",
    )


def _circular(repeat: int) -> list[Row]:
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(CIRCULAR_SIDE, CIRCULAR_SIDE, generator=generator)  # (H, W)
    angles = [22.5 * i for i in range(N_KERNELS)]
    kernels = torch.stack([make_kernel("gabor", 7, a) for a in angles])  # (16, 7, 7)
    batch, weight = image[None, None], kernels[:, None]  # (1, 1, H, W), (16, 1, 7, 7)
    layer = torch.nn.Conv2d(1, N_KERNELS, 7, padding=3, bias=False, padding_mode="circular")
    with torch.no_grad():
        layer.weight.copy_(weight)

    def torch_circular() -> torch.Tensor:
        with torch.inference_mode():
            return layer(batch)

    def ours() -> torch.Tensor:
        return feature_maps(image, kernels, padding_mode="circular")

    name = f"feature_maps circular {N_KERNELS}×7×7 on gray {CIRCULAR_SIDE}²"
    ours_s, raw_s = interleaved(ours, lambda: F.conv2d(batch, weight, padding=3), repeat)
    ours_t, torch_s = interleaved(ours, torch_circular, repeat)
    return [
        Row(name, ours_s, "raw F.conv2d (zero padding)", raw_s, "ratio <= 1.5"),
        Row(name, ours_t, "nn.Conv2d(padding_mode=circ)", torch_s, "ratio <= 1.5"),
    ]


def run(repeat: int = 7) -> list[Row]:
    """Return rows: the rotation error curves, then circular feature maps against two baselines."""
    return [_curves(repeat), *_circular(repeat)]


if __name__ == "__main__":
    for row in run():
        print(row.line())
