"""Why is a convolution a sparse matrix multiplication, and what does that save over a dense layer?

A convolution is linear, so y = M @ x for some matrix M. Written out, M is mostly zeros (sparse
connectivity: each output sees only k inputs) and every row repeats the same k numbers shifted
along (parameter sharing); in 2-D it is doubly block-Toeplitz. Goodfellow et al. §9.2.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.conv.arithmetic import ConvConfigError, conv_output_size
from engine.core import check_int, check_tensor, seeded

MAX_MATRIX_INPUTS_1D = 4096
MAX_MATRIX_INPUTS_2D = 1024  # h*w: the matrix has (h_out*w_out) × (h*w) entries
MAX_DENSE_ENTRIES = 4_000_000


def conv_matrix_1d(
    n: int, kernel: torch.Tensor, padding: int = 0, stride: int = 1, dilation: int = 1
) -> torch.Tensor:
    """Return M (n_out, n) with y = M @ x equal to conv1d (cross-correlation) of x with kernel."""
    n = check_int("input length", n, 1, MAX_MATRIX_INPUTS_1D, error=ConvConfigError)
    kernel = check_tensor("kernel", kernel, (1,), error=ConvConfigError)
    k = kernel.shape[0]
    n_out = conv_output_size(n, k, padding, stride, dilation)
    _check_entries(n_out, n)
    weights = kernel.numpy(force=True)
    matrix = np.zeros((n_out, n), dtype=weights.dtype)  # (n_out, n)
    for i in range(n_out):
        for j in range(k):
            col = i * stride - padding + j * dilation  # taps on the zero padding have no column
            if 0 <= col < n:
                matrix[i, col] = weights[j]
    return torch.from_numpy(matrix)


def conv_matrix_2d(
    h: int, w: int, kernel: torch.Tensor, padding: int = 0, stride: int = 1, dilation: int = 1
) -> torch.Tensor:
    """Return M (h_out*w_out, h*w), doubly block-Toeplitz, with M @ image.flatten() = conv2d."""
    h = check_int("input height", h, 1, error=ConvConfigError)
    w = check_int("input width", w, 1, error=ConvConfigError)
    if h * w > MAX_MATRIX_INPUTS_2D:
        raise ConvConfigError(
            f"The matrix has a column per input pixel; {h}×{w} = {h * w} is over the cap of "
            f"{MAX_MATRIX_INPUTS_2D} (e.g. 32×32). Use a smaller input."
        )
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    kh, kw = kernel.shape
    h_out = conv_output_size(h, kh, padding, stride, dilation)
    w_out = conv_output_size(w, kw, padding, stride, dilation)
    _check_entries(h_out * w_out, h * w)
    weights = kernel.numpy(force=True)
    matrix = np.zeros((h_out * w_out, h * w), dtype=weights.dtype)  # (h_out*w_out, h*w)
    for r in range(h_out):
        for c in range(w_out):
            for i in range(kh):
                for j in range(kw):
                    row = r * stride - padding + i * dilation
                    col = c * stride - padding + j * dilation
                    if 0 <= row < h and 0 <= col < w:  # taps on the zero padding have no column
                        matrix[r * w_out + c, row * w + col] = weights[i, j]
    return torch.from_numpy(matrix)


def _check_entries(rows: int, cols: int) -> None:
    """Raise ConvConfigError if a rows×cols matrix would be too big to build and show."""
    if rows * cols > MAX_DENSE_ENTRIES:
        raise ConvConfigError(
            f"The matrix would be {rows}×{cols}, over the cap of {MAX_DENSE_ENTRIES} entries; "
            "use less padding or a smaller input."
        )


def dense_matrix(n_out: int, n_in: int, seed: int = 0) -> torch.Tensor:
    """Return a dense layer's (n_out, n_in) float32 weights, N(0, 1/n_in), for comparison."""
    n_out = check_int("number of outputs", n_out, 1, error=ConvConfigError)
    n_in = check_int("number of inputs", n_in, 1, error=ConvConfigError)
    _check_entries(n_out, n_in)
    generator = seeded(check_int("seed", seed, 0, 2**63 - 1, error=ConvConfigError))
    return torch.randn(n_out, n_in, generator=generator) / n_in**0.5


def matrix_stats(m: torch.Tensor) -> dict:
    """Return {"entries", "nonzero", "distinct_nonzero_values", "sparsity" (fraction of zeros)}."""
    if not isinstance(m, torch.Tensor) or m.dim() != 2:
        raise ConvConfigError("matrix_stats expects a 2-D tensor.")
    entries = m.numel()
    nonzero_values = m[m != 0]
    nonzero = nonzero_values.numel()
    return {
        "entries": entries,
        "nonzero": nonzero,
        "distinct_nonzero_values": int(torch.unique(nonzero_values).numel()),
        "sparsity": 1.0 - nonzero / entries if entries else 0.0,
    }


def matrix_claims(m: torch.Tensor) -> dict:
    """Return {"sparse", "shared", "most_uses"}: which claims about M's entries hold.

    sparse: some entry is zero (an output does not read every input); shared: fewer distinct
    nonzero values than nonzero entries (some weight is used twice); most_uses: how many entries
    the most repeated nonzero value fills (0 for an all-zero matrix).
    """
    stats = matrix_stats(m)
    _, counts = torch.unique(m[m != 0], return_counts=True)
    return {
        "sparse": stats["nonzero"] < stats["entries"],
        "shared": stats["distinct_nonzero_values"] < stats["nonzero"],
        "most_uses": int(counts.max()) if counts.numel() else 0,
    }
