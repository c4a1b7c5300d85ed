"""What is a receptive field, how does one layer grow it, and what does a stack of layers see?

Along one axis, a layer with kernel k, stride s, padding p and dilation d (effective kernel
k_eff = d(k-1)+1) turns the field size r, the jump j (input pixels between neighbouring units)
and the centre `start` of unit 0's field (input pixel i sits at coordinate i) into

    r_out = r_in + (k_eff - 1)·j_in
    j_out = j_in·s
    start_out = start_in + ((k_eff - 1)/2 - p)·j_in

starting from r = 1, j = 1, start = 0 at the image (Araujo, Norris & Sim, "Computing Receptive
Fields of Convolutional Neural Networks", Distill 2019). Padding counts as part of the field, so r
is the same for every unit, border or not. Where paths meet, the field is the union of theirs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from engine.conv import ConvConfigError, conv_output_size
from engine.core import ExplorerError, check_int, seeded


class ReceptiveFieldError(ExplorerError):
    """A layer stack or network whose receptive field cannot be computed; the message says why."""


@dataclass(frozen=True)
class LayerRF:
    """One spatial layer: its field in the input (size r, jump j, start) and its output shape.

    Per-axis values (rows, cols) are in `sizes`, `jumps`, `starts`; the scalar `size`, `jump` and
    `start` describe the axis with the larger field (rows when equal, as for square kernels).
    """

    name: str  # module path, e.g. "layer4.2.conv2" (a stack's layers are "conv1", "pool2", ...)
    kind: str  # "conv", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool" or "pad"
    size: int  # r: side of the field in input pixels
    jump: float  # input pixels between neighbouring units (the effective stride)
    start: float  # centre of unit 0's field, in input pixel coordinates (may be < 0: padding)
    out_shape: tuple[int, ...]  # (N, C, H, W) from a traced network; (H, W) for a stack
    kernel: tuple[int, ...]
    stride: tuple[float, ...]
    padding: tuple[int, ...]  # before the first unit (top, left); torch pads the same after
    dilation: tuple[int, ...]
    sizes: tuple[int, ...]
    jumps: tuple[float, ...]
    starts: tuple[float, ...]
    global_context: bool = False  # also sees the whole input through a global pool (SE gate)

    @property
    def effective_padding(self) -> float:
        """Return how far unit 0's field reaches before pixel 0: (r-1)/2 - start (Araujo's P)."""
        return (self.size - 1) / 2 - self.start


# --- the recurrence, one axis at a time


@dataclass(frozen=True)
class _Axis:
    """A field along one axis: size r, jump j, centre `start` of unit 0's field."""

    size: float = 1
    jump: float = 1
    start: float = 0

    def through(self, k: int, s: float, p: float, d: int = 1) -> _Axis:
        span = d * (k - 1) + 1  # the dilated kernel's footprint
        return _Axis(
            self.size + (span - 1) * self.jump,
            self.jump * s,
            self.start + ((span - 1) / 2 - p) * self.jump,
        )

    def union(self, other: _Axis) -> _Axis:
        """Return the smallest field holding both (paths that meet in an add or a concat)."""
        left = min(self.start - (self.size - 1) / 2, other.start - (other.size - 1) / 2)
        right = max(self.start + (self.size - 1) / 2, other.start + (other.size - 1) / 2)
        return _Axis(right - left + 1, max(self.jump, other.jump), (left + right) / 2)


@dataclass(frozen=True)
class _Field:
    axes: tuple[_Axis, ...]  # one per spatial axis
    global_context: bool = False

    def union(self, other: _Field) -> _Field:
        axes = tuple(a.union(b) for a, b in zip(self.axes, other.axes, strict=True))
        return _Field(axes, self.global_context or other.global_context)


def _number(x: float) -> float:
    """Return x as an int when it is whole, so tables show 32 rather than 32.0."""
    return int(x) if float(x).is_integer() else x


def _row(name, kind, field, out_shape, kernel, stride, padding, dilation) -> LayerRF:
    sizes = tuple(int(round(a.size)) for a in field.axes)
    main = max(range(len(sizes)), key=lambda i: (sizes[i], -i))
    jumps = tuple(_number(a.jump) for a in field.axes)
    starts = tuple(_number(a.start) for a in field.axes)
    return LayerRF(
        name=name,
        kind=kind,
        size=sizes[main],
        jump=jumps[main],
        start=starts[main],
        out_shape=tuple(out_shape),
        kernel=tuple(kernel),
        stride=tuple(_number(s) for s in stride),
        padding=tuple(padding),
        dilation=tuple(dilation),
        sizes=sizes,
        jumps=jumps,
        starts=starts,
        global_context=field.global_context,
    )


# --- a stack of layers, as the page's stack builder describes it

# A VGG-like stack (two 3×3 convs, then a 2×2 pool, twice, then two convs): the receptive-field
# page's starting table, and what its "predict, then check" prompt starts from.
VGG_LIKE_STACK = tuple(
    {"kind": kind, "k": k, "s": s, "p": p, "d": d}
    for kind, k, s, p, d in (
        ("conv", 3, 1, 1, 1),
        ("conv", 3, 1, 1, 1),
        ("pool", 2, 2, 0, 1),
        ("conv", 3, 1, 1, 1),
        ("conv", 3, 1, 1, 1),
        ("pool", 2, 2, 0, 1),
        ("conv", 3, 1, 1, 1),
        ("conv", 3, 1, 1, 1),
    )
)
MAX_SETTING = 512  # largest kernel, stride, padding or dilation a stack layer may have
_STACK_KINDS = {"conv": "conv", "pool": "maxpool", "maxpool": "maxpool", "avgpool": "avgpool"}
_STACK_KEYS = {"kind", "k", "s", "p", "d"}


def _check_stack_layer(i: int, layer: Mapping) -> tuple[str, int, int, int, int]:
    """Return (kind, k, s, p, d) of layer i after checking it is a layer torch could build."""
    where = f"Layer {i + 1}"
    if not isinstance(layer, Mapping):
        raise ReceptiveFieldError(f"{where} must be a dict with kind, k, s, p, d.")
    unknown = set(layer) - _STACK_KEYS
    if unknown:
        raise ReceptiveFieldError(
            f"{where} has unknown setting(s) {sorted(unknown)}; use kind, k, s, p, d."
        )
    kind = layer.get("kind", "conv")
    kind = _STACK_KINDS.get(kind) if isinstance(kind, str) else None
    if kind is None:
        raise ReceptiveFieldError(
            f"{where}: kind must be 'conv' or 'pool', got {layer.get('kind')!r}."
        )
    k = check_int(
        f"{where}'s kernel size", layer.get("k"), 1, MAX_SETTING, error=ReceptiveFieldError
    )
    s = check_int(f"{where}'s stride", layer.get("s", 1), 1, MAX_SETTING, error=ReceptiveFieldError)
    p = check_int(
        f"{where}'s padding", layer.get("p", 0), 0, MAX_SETTING, error=ReceptiveFieldError
    )
    d = check_int(
        f"{where}'s dilation", layer.get("d", 1), 1, MAX_SETTING, error=ReceptiveFieldError
    )
    if kind != "conv" and 2 * p > k:
        raise ReceptiveFieldError(
            "Layer {layer}: a {k}×{k} pool can pad at most {most} (half its kernel), got {p}.",
            layer=i + 1,
            k=k,
            most=k // 2,
            p=p,
        )
    if kind == "avgpool" and d != 1:
        raise ReceptiveFieldError(
            "Layer {layer}: average pooling has no dilation; use d = 1.", layer=i + 1
        )
    return kind, k, s, p, d


def stack_rf(layers: Sequence[Mapping], input_size: int) -> list[LayerRF]:
    """Return one LayerRF per layer of a square stack on an input_size × input_size image.

    Each layer is a dict: kind "conv" or "pool" (max pool; "avgpool" also accepted), k (kernel),
    s (stride, default 1), p (padding, default 0), d (dilation, default 1).
    """
    n = check_int("input size", input_size, 1, error=ReceptiveFieldError)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise ReceptiveFieldError("layers must be a list of dicts with kind, k, s, p, d.")
    axis, rows = _Axis(), []
    for i, layer in enumerate(layers):
        kind, k, s, p, d = _check_stack_layer(i, layer)
        try:
            n = conv_output_size(n, k, p, s, d)
        except ConvConfigError as err:
            raise ReceptiveFieldError(
                "Layer {layer} ({kind} {k}×{k}) has nothing left to slide over: {reason}",
                layer=i + 1,
                kind=kind,
                k=k,
                reason=err,  # an engine error: shown in the reader's language too
            ) from None
        axis = axis.through(k, s, p, d)
        name = f"{'conv' if kind == 'conv' else 'pool'}{i + 1}"
        field = _Field((axis, axis))
        rows.append(_row(name, kind, field, (n, n), (k, k), (s, s), (p, p), (d, d)))
    return rows


def stack_model(
    layers: Sequence[Mapping], in_channels: int = 1, channels: int = 16, seed: int = 0
) -> nn.Sequential:
    """Return the stack as torch modules (conv → ReLU, max/avg pool), He-initialised from seed.

    Module names match stack_rf's rows ("conv1", "relu1", "pool2", ...), so the two line up.
    """
    checked = [_check_stack_layer(i, layer) for i, layer in enumerate(layers)]
    in_channels = check_int("input channels", in_channels, 1, 64, error=ReceptiveFieldError)
    channels = check_int("channels", channels, 1, 256, error=ReceptiveFieldError)
    generator = seeded(check_int("seed", seed, 0, error=ReceptiveFieldError))
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    c = in_channels
    for i, (kind, k, s, p, d) in enumerate(checked):
        if kind == "conv":
            conv = nn.Conv2d(c, channels, k, stride=s, padding=p, dilation=d, device="meta")
            conv = conv.to_empty(device="cpu")
            with torch.no_grad():
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu", generator=generator)
                conv.bias.zero_()
            modules[f"conv{i + 1}"] = conv
            modules[f"relu{i + 1}"] = nn.ReLU()
            c = channels
        elif kind == "maxpool":
            modules[f"pool{i + 1}"] = nn.MaxPool2d(k, stride=s, padding=p, dilation=d)
        else:
            modules[f"pool{i + 1}"] = nn.AvgPool2d(k, stride=s, padding=p)
    return nn.Sequential(modules)
