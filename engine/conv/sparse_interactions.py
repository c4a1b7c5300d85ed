"""What do sparse interactions and parameter sharing buy?

Goodfellow et al. §9.2: in a convolutional layer each output reads only k neighbouring inputs
(sparse interactions), and every position uses the same k weights (parameter sharing). Here: which
units influence one output through a stack of layers, and which outputs one input reaches (figures
9.2–9.4); a locally connected layer, sparse but unshared (§9.5); and the three kinds of layer timed
on this machine on the same input, with their parameter counts.

1-D layers use 'same' padding and stride 1 as torch's padding="same" does: with an even kernel width
the extra tap goes to the right, so output i reads inputs i - (k-1)//2 … i + k//2.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from engine.conv.arithmetic import ConvConfigError
from engine.core import N_, check_int, seeded

NOT_BUILT_NOTE = N_("would need {gb:.1f} GB of weights")  # TimingRow.note, filled with note_gb
MAX_UNITS = 1024  # units per 1-D layer
MAX_DEPTH = 64  # stacked 1-D layers
MAX_WIDTH = 63  # 1-D kernel width
MAX_SIDE = 128  # largest square input side time_layers accepts
MAX_SIZES = 8
MAX_CHANNELS = 64
MAX_REPEAT = 50
WEIGHT_BUDGET = 200_000_000  # bytes of float32 weights a layer may allocate (200 MB)
KINDS = (
    N_("dense"),
    N_("locally connected"),
    N_("convolution"),
)  # as engine.conv.layer_costs names them


# --- which units interact, in 1-D


def _window(kernel_width: int) -> tuple[int, int]:
    """Return (left, right): output i reads inputs i - left … i + right ('same', like torch)."""
    left = (kernel_width - 1) // 2
    return left, kernel_width - 1 - left


def _check_1d(n_inputs: int, kernel_width: int) -> tuple[int, int]:
    n = check_int("number of units", n_inputs, 1, MAX_UNITS, error=ConvConfigError)
    k = check_int("kernel width", kernel_width, 1, MAX_WIDTH, error=ConvConfigError)
    return n, k


def influence_1d(
    n_inputs: int, kernel_width: int, depth: int, unit: int, dense: bool = False
) -> np.ndarray:
    """Return a (depth + 1, n) bool mask: True where a unit influences the chosen top unit.

    Row 0 is the input, row depth the top layer, where only `unit` itself is True. Each layer has n
    units; a sparse layer connects each output to the kernel_width inputs under its window, a dense
    one to all of them (so with dense=True every unit below the top is True). Stacking widens the
    receptive field by k - 1 per layer: 1 + depth·(k - 1) inputs, clipped at the borders.
    """
    n, k = _check_1d(n_inputs, kernel_width)
    depth = check_int("depth", depth, 0, MAX_DEPTH, error=ConvConfigError)
    unit = check_int("unit", unit, 0, n - 1, error=ConvConfigError)
    left, right = _window(k)
    mask = np.zeros((depth + 1, n), dtype=bool)
    mask[depth, unit] = True
    for level in range(depth - 1, -1, -1):  # walk down: a unit counts if a counted one reads it
        if dense:
            mask[level] = True
            continue
        # unit j is read by outputs j - right … j + left of the layer above
        padded = np.pad(mask[level + 1], (right, left))
        mask[level] = sliding_window_view(padded, k).any(axis=1)
    return mask


def affected_outputs_1d(
    n_inputs: int, kernel_width: int, input_index: int, dense: bool = False
) -> np.ndarray:
    """Return an (n,) bool mask of the outputs of one layer that input `input_index` reaches.

    The other direction of influence_1d: input j feeds outputs j - k//2 … j + (k-1)//2 (clipped),
    or every output of a dense layer.
    """
    n, k = _check_1d(n_inputs, kernel_width)
    index = check_int("input index", input_index, 0, n - 1, error=ConvConfigError)
    if dense:
        return np.ones(n, dtype=bool)
    left, right = _window(k)
    one_hot = np.zeros(n, dtype=bool)
    one_hot[index] = True
    padded = np.pad(one_hot, (left, right))  # output i reads padded[i : i + k]
    return sliding_window_view(padded, k).any(axis=1)


# --- a layer with sparse interactions but no sharing


def _uniform_(tensor: torch.Tensor, fan_in: int, generator: torch.Generator) -> None:
    """Fill tensor in place with U(-1/√fan_in, 1/√fan_in), torch's default layer scale."""
    if tensor.device.type != "meta":
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            tensor.uniform_(-bound, bound, generator=generator)


class LocallyConnected2d(nn.Module):
    """A k×k, stride-1, 'same' layer like nn.Conv2d but with its own kernel bank at each position.

    weight: (H·W, C_out, C_in·k·k), one bank per output position in row-major order; bias:
    (H·W, C_out). Implemented as F.unfold (every k×k patch as a column) and one einsum.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        height: int,
        width: int,
        bias: bool = True,
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(
            "input channels", in_channels, 1, MAX_CHANNELS, error=ConvConfigError
        )
        self.out_channels = check_int(
            "output channels", out_channels, 1, MAX_CHANNELS, error=ConvConfigError
        )
        self.kernel_size = check_int("kernel size", kernel_size, 1, 31, error=ConvConfigError)
        if self.kernel_size % 2 == 0:
            raise ConvConfigError(
                f"'same' padding needs an odd kernel size, got {kernel_size}; use 1, 3, 5, …"
            )
        self.height = check_int("height", height, 1, MAX_SIDE, error=ConvConfigError)
        self.width = check_int("width", width, 1, MAX_SIDE, error=ConvConfigError)
        positions = self.height * self.width
        fan_in = self.in_channels * self.kernel_size**2
        n_weights = positions * self.out_channels * (fan_in + int(bias))
        if 4 * n_weights > WEIGHT_BUDGET and torch.device(device or "cpu").type != "meta":
            raise ConvConfigError(
                f"This layer would need {4 * n_weights / 1e9:.1f} GB of weights (limit "
                f"{WEIGHT_BUDGET / 1e9:.1f} GB); use a smaller input or fewer channels."
            )
        generator = seeded(check_int("seed", seed, 0, error=ConvConfigError))
        weight = torch.empty(positions, self.out_channels, fan_in, device=device)
        _uniform_(weight, fan_in, generator)
        self.weight = nn.Parameter(weight)  # (H·W, C_out, C_in·k·k)
        self.bias: nn.Parameter | None = None
        if bias:
            bias_values = torch.empty(positions, self.out_channels, device=device)
            _uniform_(bias_values, fan_in, generator)
            self.bias = nn.Parameter(bias_values)  # (H·W, C_out)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, height: int, width: int) -> LocallyConnected2d:
        """Return a locally connected layer holding conv's kernels (and bias) at every position."""
        if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
            raise ConvConfigError("from_conv needs a plain stride-1, undilated, ungrouped conv.")
        if conv.kernel_size[0] != conv.kernel_size[1]:
            raise ConvConfigError(f"from_conv needs a square kernel, got {conv.kernel_size}.")
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size[0],
            height,
            width,
            bias=conv.bias is not None,
        )
        with torch.no_grad():
            layer.weight.copy_(conv.weight.reshape(conv.out_channels, -1).expand_as(layer.weight))
            if layer.bias is not None:
                layer.bias.copy_(conv.bias.expand_as(layer.bias))
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return (B, C_out, H, W) for x (B, C_in, H, W): each position through its own bank."""
        expected = (self.in_channels, self.height, self.width)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ConvConfigError(
                f"This layer was built for inputs (B, {', '.join(map(str, expected))}), got "
                f"shape {tuple(x.shape)}."
            )
        k = self.kernel_size
        cols = F.unfold(x, k, padding=k // 2)  # (B, C_in·k·k, H·W)
        out = torch.einsum("pof,bfp->bop", self.weight, cols)  # (B, C_out, H·W)
        if self.bias is not None:
            out = out + self.bias.T  # (C_out, H·W) broadcast over the batch
        return out.reshape(x.shape[0], self.out_channels, self.height, self.width)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"positions={self.height}×{self.width}, bias={self.bias is not None}"
        )


# --- the three layers, timed


@dataclass
class TimingRow:
    """One layer on one input size: median forward time (None if not built) and parameters."""

    size: int  # side of the square input
    kind: str  # "dense", "locally connected" or "convolution"
    seconds: float | None  # median of the timed forward passes; None when over the budget
    parameters: int  # weights + biases, counted from the module
    note: str  # why seconds is None, else "": NOT_BUILT_NOTE filled with note_gb
    note_gb: float | None = None  # the weights' size in GB when not built (the note's number)


def _build(kind: str, size: int, c_in: int, c_out: int, k: int, device: str) -> nn.Module:
    """Return the layer of this kind for a (1, c_in, size, size) input, seeded, on device."""
    generator = seeded(0)
    if kind == "locally connected":
        return LocallyConnected2d(c_in, c_out, k, size, size, device=device)
    if kind == "dense":  # every output pixel and channel reads every input pixel and channel
        layer = nn.utils.skip_init(
            nn.Linear, size * size * c_in, size * size * c_out, device=device
        )
        fan_in = size * size * c_in
    else:
        layer = nn.utils.skip_init(nn.Conv2d, c_in, c_out, k, padding=k // 2, device=device)
        fan_in = c_in * k * k
    for parameter in layer.parameters():  # skip_init left them unset; no global RNG involved
        _uniform_(parameter, fan_in, generator)
    return layer


def _median_forward(layer: nn.Module, x: torch.Tensor, repeat: int) -> float:
    """Return the median seconds of `repeat` forward passes after one warm-up pass."""
    times = []
    with torch.inference_mode():
        for i in range(repeat + 1):
            start = time.perf_counter()
            layer(x)
            if i:  # the first pass warms caches and allocators
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_layers(
    sizes: Sequence[int], c_in: int = 3, c_out: int = 8, k: int = 3, repeat: int = 5
) -> list[TimingRow]:
    """Return a TimingRow per size and kind: dense, locally connected, convolution, same input.

    For each square side s the input is one (1, c_in, s, s) image; the dense layer maps its
    s·s·c_in values to s·s·c_out. A layer whose weights exceed 200 MB is not built: its row has
    seconds=None and a note saying how much it would need. Times are medians of `repeat` passes.
    """
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):
        raise ConvConfigError(f"sizes must be a list of whole numbers, got {sizes!r}.")
    if not 1 <= len(sizes) <= MAX_SIZES:
        raise ConvConfigError(f"Give between 1 and {MAX_SIZES} sizes, got {len(sizes)}.")
    sizes = [check_int("input side", s, 1, MAX_SIDE, error=ConvConfigError) for s in sizes]
    c_in = check_int("input channels", c_in, 1, MAX_CHANNELS, error=ConvConfigError)
    c_out = check_int("output channels", c_out, 1, MAX_CHANNELS, error=ConvConfigError)
    k = check_int("kernel size", k, 1, 7, error=ConvConfigError)
    if k % 2 == 0:
        raise ConvConfigError(f"'same' padding needs an odd kernel size, got {k}; use 1, 3, 5, 7.")
    repeat = check_int("repeat", repeat, 1, MAX_REPEAT, error=ConvConfigError)
    generator = seeded(0)
    rows = []
    for size in sizes:
        x = torch.rand(1, c_in, size, size, generator=generator)  # (1, C_in, s, s)
        for kind in KINDS:
            shape_only = _build(kind, size, c_in, c_out, k, device="meta")  # counts, no memory
            parameters = sum(p.numel() for p in shape_only.parameters())
            if 4 * parameters > WEIGHT_BUDGET:
                gb = 4 * parameters / 1e9
                note = NOT_BUILT_NOTE.format(gb=gb)
                rows.append(TimingRow(size, kind, None, parameters, note, gb))
                continue
            layer = _build(kind, size, c_in, c_out, k, device="cpu")
            inputs = x.reshape(1, -1) if kind == "dense" else x  # (1, s·s·C_in) for dense
            seconds = _median_forward(layer, inputs, repeat)
            rows.append(TimingRow(size, kind, seconds, parameters, ""))
            del layer  # the dense layer can hold 100+ MB: free it before the next
    return rows


def growth_exponent(rows: Sequence[TimingRow], kind: str, field: str = "seconds") -> float | None:
    """Return a in value ∝ pixels^a, fitted on log-log over this kind's measured rows, or None.

    field is "seconds" or "parameters"; pixels = size². Rows without a value (not built) are left
    out; fewer than two sizes, or a value ≤ 0, give None: nothing to fit.
    """
    if field not in ("seconds", "parameters"):
        raise ConvConfigError(f"field must be 'seconds' or 'parameters', got {field!r}.")
    points = [(r.size, getattr(r, field)) for r in rows if r.kind == kind]
    points = [(s, v) for s, v in points if v is not None]
    if len({s for s, _ in points}) < 2 or any(v <= 0 for _, v in points):
        return None
    pixels = np.log([float(s) ** 2 for s, _ in points])
    values = np.log([float(v) for _, v in points])
    return float(np.polyfit(pixels, values, 1)[0])
