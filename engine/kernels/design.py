"""Why 3×3 kernels, why 1×1, why 1×n then n×1? What each design costs, counted from torch modules.

A design is a stack of stride-1, 'same'-padded convolutions, each followed by a ReLU. Its weights
and biases are counted from real nn.Conv2d modules, its multiply-adds from torch's FlopCounterMode
on a shape-only (meta) input, and its receptive field by tracing the modules
(engine.receptive_field). The comparisons are the ones from VGG (Simonyan & Zisserman 2015:
two 3×3 see what one 5×5 sees), GoogLeNet (Szegedy et al. 2015: 1×1 bottlenecks before 5×5) and
Inception v3 (Szegedy et al. 2016: n×n factorised into 1×n then n×1).

What kernel shapes do to an image is in parity.py (odd versus even kernels) and factoring.py (a
stack as one kernel, 1×1 as a per-pixel linear layer, separable kernels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from engine.core import N_, Phrase, check_int
from engine.flops import flop_counter
from engine.kernels.checks import KernelDesignError
from engine.receptive_field import receptive_field

__all__ = [
    "MAX_CHANNELS",
    "MAX_KERNEL",
    "MAX_SIDE",
    "Conv",
    "DesignCost",
    "DesignVerdict",
    "bottleneck_branch",
    "design_cost",
    "design_verdict",
    "design_model",
    "factorised_pair",
    "relu_words",
    "share_words",
    "stacked_field",
    "stacked_vs_single",
]

MAX_CHANNELS = 8192  # more channels than any published layer; the count is shape-only anyway
MAX_SIDE = 8192  # feature-map side (the FLOP count runs on a meta tensor, nothing is allocated)
MAX_KERNEL = 31  # largest kernel side in a design
MAX_LAYERS = 16


@dataclass(frozen=True)
class Conv:
    """One convolution of a design: its output channels and (rows, cols) kernel, then a ReLU."""

    out_channels: int
    kernel: tuple[int, int]

    @property
    def label(self) -> str:
        """Return e.g. '3×3 → 64'."""
        return f"{self.kernel[0]}×{self.kernel[1]} → {self.out_channels}"

    @property
    def taps(self) -> int:
        """Return the kernel's entries per (input, output) channel pair: rows × cols."""
        return self.kernel[0] * self.kernel[1]


@dataclass(frozen=True)
class DesignCost:
    """What one design costs on a C×H×W input: its field, weights, biases, work and ReLUs."""

    name: str
    layers: tuple[Conv, ...]
    in_channels: int
    receptive_field: tuple[int, int]  # (rows, cols) in input pixels, traced from the modules
    weights: int  # kernel entries, summed over the nn.Conv2d modules
    biases: int
    macs: int  # multiply-adds for one image (FlopCounterMode's FLOPs / 2)
    nonlinearities: int  # ReLU modules in the design
    out_shape: tuple[int, int, int]  # (C, H, W) of the design's output

    @property
    def parameters(self) -> int:
        """Return weights plus biases."""
        return self.weights + self.biases

    def share_of(self, other: DesignCost) -> tuple[float, float]:
        """Return (weights, multiply-adds) of this design as fractions of other's."""
        return self.weights / other.weights, self.macs / other.macs


def _check_layers(in_channels: object, layers: object) -> tuple[int, tuple[Conv, ...]]:
    """Return (in_channels, layers) after checking every layer is one torch could build."""
    c_in = check_int(N_("input channels"), in_channels, 1, MAX_CHANNELS, error=KernelDesignError)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise KernelDesignError("A design needs a non-empty list of Conv layers.")
    if len(layers) > MAX_LAYERS:
        raise KernelDesignError(
            "A design has at most {most} layers, got {n}.", most=MAX_LAYERS, n=len(layers)
        )
    checked = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, Conv):
            raise KernelDesignError(
                "Layer {i} must be a Conv, got {kind}.", i=i + 1, kind=type(layer).__name__
            )
        c = check_int(
            f"layer {i + 1}'s output channels",
            layer.out_channels,
            1,
            MAX_CHANNELS,
            error=KernelDesignError,
        )
        if not isinstance(layer.kernel, tuple) or len(layer.kernel) != 2:
            raise KernelDesignError("Layer {i}'s kernel must be (rows, cols).", i=i + 1)
        kh, kw = (
            check_int(f"layer {i + 1}'s kernel side", k, 1, MAX_KERNEL, error=KernelDesignError)
            for k in layer.kernel
        )
        if kh % 2 == 0 or kw % 2 == 0:
            raise KernelDesignError(
                "Layer {i}'s kernel is {kh}×{kw}: 'same' padding needs odd sides (an even "
                "kernel has no centre pixel). Use 1, 3, 5, 7, …",
                i=i + 1,
                kh=kh,
                kw=kw,
            )
        checked.append(Conv(c, (kh, kw)))
    return c_in, tuple(checked)


def design_model(in_channels: int, layers: Sequence[Conv], device: str = "meta") -> nn.Sequential:
    """Return the design as nn.Sequential of Conv2d ('same' padding) and ReLU, built on `device`."""
    c, layers = _check_layers(in_channels, layers)
    modules: list[nn.Module] = []
    # meta by default: an 8192-channel 7×7 layer would otherwise allocate 13 GB of weights
    with torch.device(device):
        for layer in layers:
            kh, kw = layer.kernel
            modules.append(nn.Conv2d(c, layer.out_channels, (kh, kw), padding=(kh // 2, kw // 2)))
            modules.append(nn.ReLU())
            c = layer.out_channels
    return nn.Sequential(*modules)


def design_cost(
    name: str, in_channels: int, height: int, width: int, layers: Sequence[Conv]
) -> DesignCost:
    """Return the DesignCost of `layers` applied to an in_channels × height × width input."""
    h = check_int(N_("height"), height, 1, MAX_SIDE, error=KernelDesignError)
    w = check_int(N_("width"), width, 1, MAX_SIDE, error=KernelDesignError)
    c_in, layers = _check_layers(in_channels, layers)
    model = design_model(c_in, layers)  # shapes only: nothing is allocated
    x = torch.empty(1, c_in, h, w, device="meta")  # (1, C, H, W)
    with flop_counter() as counter:
        out = model(x)  # (1, C', H, W)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    rows = receptive_field(model, max(h, w), in_channels=c_in)
    return DesignCost(
        name=name,
        layers=layers,
        in_channels=c_in,
        receptive_field=(int(rows[-1].sizes[0]), int(rows[-1].sizes[1])),
        weights=sum(m.weight.numel() for m in convs),
        biases=sum(m.bias.numel() for m in convs),
        macs=counter.get_total_flops() // 2,  # torch counts a multiply-add as 2 FLOPs
        nonlinearities=sum(isinstance(m, nn.ReLU) for m in model),
        out_shape=tuple(out.shape[1:]),
    )


def stacked_field(depth: int, small: int = 3) -> int:
    """Return the side r = 1 + depth·(small − 1) that depth stacked small×small convs see."""
    depth = check_int(N_("number of stacked layers"), depth, 1, MAX_LAYERS, error=KernelDesignError)
    small = check_int(N_("small kernel side"), small, 1, MAX_KERNEL, error=KernelDesignError)
    return depth * (small - 1) + 1


def stacked_vs_single(
    channels: int, height: int, width: int, depth: int = 2, small: int = 3
) -> tuple[DesignCost, DesignCost]:
    """Return (depth stacked small×small convs, one conv with the same field), C → C channels."""
    big = stacked_field(depth, small)  # the single kernel that sees as far
    if big > MAX_KERNEL:
        raise KernelDesignError(
            "{depth} stacked {small}×{small} layers see {big}×{big} pixels; a single kernel "
            "is capped at {most}×{most}. Use fewer layers or a smaller kernel.",
            depth=depth,
            small=small,
            big=big,
            most=MAX_KERNEL,
        )
    stack = [Conv(channels, (small, small))] * depth
    return (
        design_cost(
            Phrase("{depth} × {small}×{small}", depth=depth, small=small),
            channels,
            height,
            width,
            stack,
        ),
        design_cost(
            Phrase("1 × {big}×{big}", big=big),
            channels,
            height,
            width,
            [Conv(channels, (big, big))],
        ),
    )


def bottleneck_branch(
    in_channels: int, reduce_channels: int, out_channels: int, height: int, width: int, k: int = 5
) -> tuple[DesignCost, DesignCost]:
    """Return (direct k×k conv, 1×1 reduction then k×k), as in a GoogLeNet Inception branch."""
    direct = design_cost(
        Phrase(N_("{k}×{k} directly"), k=k),
        in_channels,
        height,
        width,
        [Conv(out_channels, (k, k))],
    )
    reduced = design_cost(
        Phrase(N_("1×1 → {mid}, then {k}×{k}"), mid=reduce_channels, k=k),
        in_channels,
        height,
        width,
        [Conv(reduce_channels, (1, 1)), Conv(out_channels, (k, k))],
    )
    return direct, reduced


def factorised_pair(
    channels: int, height: int, width: int, n: int = 7
) -> tuple[DesignCost, DesignCost]:
    """Return (one n×n conv, a 1×n conv then an n×1 conv), C → C channels, as in Inception v3."""
    square = design_cost(Phrase("{n}×{n}", n=n), channels, height, width, [Conv(channels, (n, n))])
    pair = design_cost(
        Phrase(N_("1×{n} then {n}×1"), n=n),
        channels,
        height,
        width,
        [Conv(channels, (1, n)), Conv(channels, (n, 1))],
    )
    return square, pair


@dataclass(frozen=True)
class DesignVerdict:
    """How one design compares with a reference: field, shares of cost and ReLUs."""

    same_field: bool  # both see the same (rows, cols) patch
    weight_share: float  # design's weights over the reference's
    work_share: float  # design's multiply-adds over the reference's
    extra_relus: int  # design's ReLUs minus the reference's

    @property
    def cheaper(self) -> bool:
        """Return True when the design needs fewer weights and fewer multiply-adds."""
        return self.weight_share < 1 and self.work_share < 1


def design_verdict(design: DesignCost, reference: DesignCost) -> DesignVerdict:
    """Return the DesignVerdict of design against reference (both on the same input)."""
    weights, work = design.share_of(reference)
    return DesignVerdict(
        same_field=design.receptive_field == reference.receptive_field,
        weight_share=weights,
        work_share=work,
        extra_relus=design.nonlinearities - reference.nonlinearities,
    )


def share_words(share: float, what: str) -> str:
    """Return e.g. "28% less work", "15% more work" or "the same work" for a cost share."""
    if share < 1:
        return Phrase(N_("{share:.0%} less {what}"), share=1 - share, what=N_(what))
    if share > 1:
        return Phrase(N_("{share:.0%} more {what}"), share=share - 1, what=N_(what))
    return Phrase(N_("the same {what}"), what=N_(what))


def relu_words(extra: int) -> str:
    """Return "one more ReLU", "2 more ReLUs", "as many ReLUs" or "one fewer ReLU"."""
    if extra == 0:
        return Phrase(N_("as many ReLUs"))
    if extra == 1:
        return Phrase(N_("one more ReLU"))
    if extra == -1:
        return Phrase(N_("one fewer ReLU"))
    if extra > 0:
        return Phrase(N_("{n} more ReLUs"), n=extra)
    return Phrase(N_("{n} fewer ReLUs"), n=-extra)
