"""Shared inputs and a brute-force reference for the convolution tests."""

import numpy as np
import torch


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    """Return uniform [0, 1) values from a seeded generator."""
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    """Return standard normal values from a seeded generator."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def brute_force(image: np.ndarray, weight: np.ndarray, pad: int, stride: int, dil: int):
    """Slide each (C, kh, kw) weight over the zero-padded (C, H, W) image wherever it fits."""
    channels, height, width = image.shape
    n_kernels, _, kh, kw = weight.shape
    padded = np.zeros((channels, height + 2 * pad, width + 2 * pad))
    padded[:, pad : pad + height, pad : pad + width] = image
    rows = [r for r in range(0, padded.shape[1], stride) if r + dil * (kh - 1) < padded.shape[1]]
    cols = [c for c in range(0, padded.shape[2], stride) if c + dil * (kw - 1) < padded.shape[2]]
    out = np.zeros((n_kernels, len(rows), len(cols)))
    for k in range(n_kernels):
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                total = 0.0
                for ch in range(channels):
                    for u in range(kh):
                        for v in range(kw):
                            total += padded[ch, r + u * dil, c + v * dil] * weight[k, ch, u, v]
                out[k, i, j] = total
    return out


CASES = [  # padding, stride, dilation
    ("same", 1, 1),
    ("valid", 1, 1),
    (1, 2, 1),
    (2, 1, 2),
    ("same", 2, 1),
    ("same", 1, 2),
    (0, 3, 2),
]
