"""How deep, how big and how costly is each classic CNN, and what does each of its layers see?

`arch_stats(name)` gives one row of the comparison table: weight layers (every convolution and
dense layer, counted once) and the longest chain of them from input to output (the depth the
papers' names count: VGG-16 → 16, ResNet-50 → 50, DenseNet-121 → 121), parameters, FLOPs from
torch's FlopCounterMode (2 per multiply-add), and the receptive field and jump of one unit of the
last feature map (the map the global pool or the classifier reads). `layer_rows(name)` is the
per-layer drill-down. Everything runs on shape-only (meta) networks: no weights, no real compute.

`HandSetInception` is an Inception module (1×1, 1×1→3×3, 1×1→5×5, pool→1×1) whose kernels are
set by hand from the kernel bank, so its branch outputs on a picture can be read.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from engine.architectures.registry import ARCHITECTURES, ArchitectureError, build
from engine.conv import make_kernel
from engine.core import N_
from engine.flops import flop_counter
from engine.receptive_field import LayerRF, ReceptiveFieldError, receptive_field

MIN_SIDE, MAX_SIDE = 32, 1024  # input sides the drill-down accepts
WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_WEIGHT_CALLS = {F.conv1d, F.conv2d, F.conv3d, F.linear, torch.conv1d, torch.conv2d, torch.conv3d}


class ArchStatsError(ArchitectureError):
    """An input size or image the statistics cannot be computed for; the message says why."""


# --- the longest chain of weight layers: a function mode that carries a depth per tensor


class _DepthTracer(TorchFunctionMode):
    """Gives every tensor derived from the input the most weight layers on any path to it."""

    def __init__(self) -> None:
        super().__init__()
        self.depths: dict[int, tuple[weakref.ref, int]] = {}

    def get(self, t: object) -> int:
        entry = self.depths.get(id(t)) if isinstance(t, torch.Tensor) else None
        return entry[1] if entry is not None and entry[0]() is t else -1

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.batch_norm and args and args[0].is_meta:  # its meta kernel is slow Python
            out = torch.empty_like(args[0])
        else:
            out = func(*args, **kwargs)
        outs = _flat(out)
        ins = [self.get(t) for t in _flat((args, kwargs)) if not _is_gate(t, outs)]
        depth = max(ins, default=-1)
        if depth < 0:  # not derived from the input (weights, constants)
            return out
        if func in _WEIGHT_CALLS:
            depth = self.get(args[0]) + 1  # the weight layer's own input, not its weight
        for t in outs:
            self.depths[id(t)] = (weakref.ref(t), max(depth, self.get(t)))
        return out


def _is_gate(t: torch.Tensor, outs: list[torch.Tensor]) -> bool:
    """Return True for a 1×1 map broadcast onto a larger output (a squeeze-and-excitation gate).

    A gate scales the main path's channels; it does not lengthen that path, so its own layers
    (two per SE module) are not counted in the depth, as the name SE-ResNet-50 does not.
    """
    if t.dim() < 3 or any(s != 1 for s in t.shape[-2:]):
        return False
    return any(o.dim() == t.dim() and any(s != 1 for s in o.shape[-2:]) for o in outs)


def _flat(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _flat(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _flat(item)]
    return []


def longest_weight_path(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Return the most conv/linear layers on any path from the input to the model's output."""
    device = next(model.parameters()).device
    x = torch.zeros(input_shape, device=device)  # (N, C, H, W)
    tracer = _DepthTracer()
    tracer.depths[id(x)] = (weakref.ref(x), 0)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), tracer:
            out = model(x)
    finally:
        model.train(was_training)
    return max(tracer.get(t) for t in _flat(out))


# --- the table


@dataclass(frozen=True)
class ArchStats:
    """One architecture's row: depth two ways, size, cost and the last feature map's field."""

    name: str
    title: str
    year: int
    input_size: int  # side of the square image everything below is measured at
    weight_layers: int  # conv + linear modules (each counted once, branches included)
    depth: int  # most conv + linear layers on one input→output path
    params: int
    flops: int  # FlopCounterMode's count: 2 per multiply-add (convolutions and matmuls)
    rf_size: int  # receptive field of one unit of the last feature map, input pixels
    rf_jump: float  # input pixels between neighbouring units of that map
    grid: tuple[int, int]  # (H, W) of the last feature map
    global_context: bool  # units also see the whole image through a global gate (SE)
    bottleneck_stride: str | None = None  # "1×1" (ResNet v1) or "3×3" (v1.5); None: no bottleneck

    @property
    def macs(self) -> int:
        """Return the multiply-adds (half the FLOPs)."""
        return self.flops // 2


def final_field(rows: list[LayerRF]) -> tuple[int, float, tuple[int, int], bool]:
    """Return (size, jump, (H, W), global context) of a unit of the map entering a global pool.

    A global pool's own row is the union over its whole input map; undoing its one step of the
    recurrence (r_in = r - (k-1)·j_in, j_in = j/s) gives the field of one unit of that map, the
    largest over all paths into it (for GoogLeNet, the 3×3 branches, not the last-traced pool one).
    """
    last = rows[-1]
    if all(s == 1 for s in last.out_shape[2:]) and last.kind.startswith(("adaptive", "avg", "max")):
        j_in = last.jump / last.stride[0]
        size = int(round(last.size - (last.kernel[0] - 1) * j_in))
        return size, j_in, (last.kernel[0], last.kernel[-1]), last.global_context
    return last.size, last.jump, tuple(last.out_shape[2:4]), last.global_context


def _flops(model: nn.Module, x: torch.Tensor) -> tuple[int, dict[str, int]]:
    """Return (total FLOPs, FLOPs per module path) of one forward pass of model on x."""
    with flop_counter() as counter, torch.no_grad():
        model(x)
    prefix = type(model).__name__ + "."
    per_module = {
        key.removeprefix(prefix): sum(ops.values())
        for key, ops in counter.get_flop_counts().items()
        if key.startswith(prefix)
    }
    return counter.get_total_flops(), per_module


def _side(name: str, input_size: int | None) -> int:
    side = ARCHITECTURES[name].input_size if input_size is None else input_size
    if isinstance(side, bool) or not isinstance(side, int) or not MIN_SIDE <= side <= MAX_SIDE:
        raise ArchStatsError(
            "Input side must be a whole number from {low} to {high}, got {side!r}.",
            low=MIN_SIDE,
            high=MAX_SIDE,
            side=side,
        )
    return side


def arch_stats(name: str) -> ArchStats:
    """Return the table row of one architecture, measured at the input size it was designed for."""
    model = build(name, meta=True).eval()  # raises UnknownArchitectureError for a bad name
    info = ARCHITECTURES[name]
    side = info.input_size
    x = torch.empty(1, 3, side, side, device="meta")
    flops, _ = _flops(model, x)
    size, jump, grid, global_context = final_field(receptive_field(model, side))
    return ArchStats(
        name=name,
        title=info.title,
        year=info.year,
        input_size=side,
        weight_layers=sum(isinstance(m, WEIGHT_LAYERS) for m in model.modules()),
        depth=longest_weight_path(model, (1, 3, side, side)),
        params=sum(p.numel() for p in model.parameters()),
        flops=int(flops),
        rf_size=size,
        rf_jump=jump,
        grid=grid,
        global_context=global_context,
        bottleneck_stride=bottleneck_stride(model),
    )


def _bottlenecks(model: nn.Module) -> list[nn.Module]:
    """Return the modules shaped as bottlenecks: a 1×1, a 3×3 and a 1×1 conv named conv1..3."""
    found = []
    for m in model.modules():
        convs = [getattr(m, f"conv{i}", None) for i in (1, 2, 3)]
        if all(isinstance(c, nn.Conv2d) for c in convs):
            if [c.kernel_size for c in convs] == [(1, 1), (3, 3), (1, 1)]:
                found.append(m)
    return found


def bottleneck_stride(model: nn.Module) -> str | None:
    """Return which conv of a downsampling bottleneck strides ("1×1" or "3×3"), or None.

    ResNet v1 (He et al. 2016, and the SE-ResNet port) strides on the first 1×1, skipping three
    of every four positions before any 3×3 reads them; v1.5 (torchvision) strides on the 3×3,
    which reads every position and costs more multiply-adds in the first block of a stage.
    """
    for block in _bottlenecks(model):
        for name in ("conv1", "conv2"):
            conv = getattr(block, name)
            if max(conv.stride) > 1:
                return f"{conv.kernel_size[0]}×{conv.kernel_size[1]}"
    return None


def design_constants() -> dict[str, int]:
    """Return ResNeXt-50's groups and width per group, DenseNet-121's growth rate and the n of
    Inception v3's 1×n convolutions, as built.

    Read from the first bottleneck's grouped 3×3, the first dense layer's 3×3 output and the
    widest 1×n kernel in Inception v3.
    """
    resnext = _bottlenecks(build("resnext50_32x4d", meta=True))[0].conv2
    dense = next(
        m.conv2
        for m in build("densenet121", meta=True).modules()
        if type(m).__name__ == "_DenseLayer"
    )
    thin = [
        m.kernel_size[1]
        for m in build("inception_v3", meta=True).modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size[0] == 1 and m.kernel_size[1] > 1
    ]
    return {
        "inception_n": max(thin),
        "resnext_groups": resnext.groups,
        "resnext_width": resnext.in_channels // resnext.groups,
        "densenet_growth": dense.out_channels,
    }


def arch_table() -> list[ArchStats]:
    """Return the table row of every architecture, in the order of ARCHITECTURES."""
    return [arch_stats(name) for name in ARCHITECTURES]


# --- the drill-down


@dataclass(frozen=True)
class LayerRow:
    """One layer of a network in forward order: what it outputs, weighs, costs and sees."""

    index: int
    name: str  # module path, e.g. "layer4.2.conv2"
    kind: str  # "conv", "maxpool", "avgpool", "adaptive_avgpool", ..., or "linear"
    out_shape: tuple[int, ...]  # (C, H, W), or (features,) for a dense layer
    params: int  # of this module alone (its batch norm is a separate module, not counted)
    flops: int  # FlopCounterMode's count for this module (2 per multiply-add)
    rf_size: int | None  # receptive field in input pixels; None for dense layers (whole input)
    jump: float | None
    global_context: bool


def layer_rows(name: str, input_size: int | None = None) -> list[LayerRow]:
    """Return every conv/pool layer (then the dense layers) of the named net at input_size."""
    model = build(name, meta=True).eval()  # raises UnknownArchitectureError for a bad name
    side = _side(name, input_size)
    try:
        _, per_module = _flops(model, torch.empty(1, 3, side, side, device="meta"))
        traced = receptive_field(model, side)
    except ReceptiveFieldError as err:
        raise ArchStatsError(
            "{network} at {side}×{side}: {error}",
            network=ARCHITECTURES[name].title,
            side=side,
            error=err,
        ) from None
    except RuntimeError as err:  # a map shrinks to nothing before the last layer
        first = str(err).strip().splitlines()[0]
        raise ArchStatsError(
            "{network} cannot run on {side}×{side} ({first}); try a larger input side.",
            network=ARCHITECTURES[name].title,
            side=side,
            first=first,
        ) from None
    modules = dict(model.named_modules())
    rows: list[LayerRow] = []
    for r in traced:
        module = modules.get(r.name)
        rows.append(
            LayerRow(
                index=len(rows),
                name=r.name,
                kind=r.kind,
                out_shape=tuple(r.out_shape[1:]),
                params=sum(p.numel() for p in module.parameters()) if module is not None else 0,
                flops=per_module.get(r.name, 0),
                rf_size=r.size,
                jump=r.jump,
                global_context=r.global_context,
            )
        )
    for path, module in modules.items():
        if isinstance(module, nn.Linear):
            rows.append(
                LayerRow(
                    index=len(rows),
                    name=path,
                    kind="linear",
                    out_shape=(module.out_features,),
                    params=sum(p.numel() for p in module.parameters()),
                    flops=per_module.get(path, 0),
                    rf_size=None,
                    jump=None,
                    global_context=False,
                )
            )
    return rows


# --- an Inception module with kernels set by hand


# 1×1 colour mixes (R, G, B weights): brightness and two opponent colours
COLOUR_MIXES = {
    N_("brightness"): (0.299, 0.587, 0.114),
    N_("red − green"): (0.5, -0.5, 0.0),
    N_("yellow − blue"): (0.25, 0.25, -0.5),
}
EDGE_KERNELS = ("sobel x", "sobel y", "laplacian")  # the 3×3 and 5×5 branches' filters


class HandSetInception(nn.Module):
    """GoogLeNet's module with 3 channels per branch and a real 5×5, weights set by hand.

    branch1: 1×1 colour mixes; branch2: 1×1 to brightness, then 3×3 edge and blob filters;
    branch3: the same at 5×5; branch4: 3×3 max pool, then the 1×1 colour mixes.
    Outputs are the branches before their ReLU, so both signs of an edge stay visible.
    """

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Conv2d(3, 3, 1, bias=False)
        pad = dict(padding_mode="replicate", bias=False)  # the image border is not an edge
        self.branch2 = nn.Sequential(
            nn.Conv2d(3, 1, 1, bias=False), nn.Conv2d(1, 3, 3, padding=1, **pad)
        )
        self.branch3 = nn.Sequential(
            nn.Conv2d(3, 1, 1, bias=False), nn.Conv2d(1, 3, 5, padding=2, **pad)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(3, 3, 1, bias=False)
        )
        mixes = torch.tensor(list(COLOUR_MIXES.values()))  # (3 out, 3 in)
        with torch.no_grad():
            self.branch1.weight.copy_(mixes[:, :, None, None])
            self.branch4[1].weight.copy_(mixes[:, :, None, None])
            for branch, k in ((self.branch2, 3), (self.branch3, 5)):
                branch[0].weight.copy_(mixes[:1, :, None, None])  # reduce to brightness
                branch[1].weight.copy_(
                    torch.stack([make_kernel(n, k) for n in EDGE_KERNELS])[:, None]
                )

    def branches(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the four branch outputs, each (B, 3, H, W), for x (B, 3, H, W)."""
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.branches(x), 1)  # (B, 12, H, W)


BRANCH_NAMES = ("1×1", "1×1 → 3×3", "1×1 → 5×5", N_("3×3 max pool → 1×1"))
BRANCH_CHANNELS = (tuple(COLOUR_MIXES), EDGE_KERNELS, EDGE_KERNELS, tuple(COLOUR_MIXES))


@dataclass(frozen=True)
class Branch:
    """One branch of an Inception module: its maps on an image, or its size and cost."""

    name: str
    channels: tuple[str, ...]  # what each output channel is
    params: int
    macs: int  # multiply-adds for the image (or the map) it was applied to
    maps: torch.Tensor | None = None  # (C, H, W) float32, before the ReLU


def inception_on_image(image: torch.Tensor) -> list[Branch]:
    """Return the four branches of HandSetInception applied to an RGB image (3, H, W) in [0, 1]."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        raise ArchStatsError("The Inception demo needs an RGB image tensor of shape (3, H, W).")
    if min(image.shape[1:]) < 5:
        raise ArchStatsError(
            "The image must be at least 5×5 pixels, got {shape}.", shape=tuple(image.shape[1:])
        )
    module = HandSetInception()
    x = image.float()[None]  # (1, 3, H, W)
    with torch.no_grad():
        outs = module.branches(x)
    per_module = _flops(module, x)[1]
    result = []
    for i, (out, name, chans) in enumerate(zip(outs, BRANCH_NAMES, BRANCH_CHANNELS, strict=True)):
        part = getattr(module, f"branch{i + 1}")
        flops = per_module.get(f"branch{i + 1}", 0)  # the module total (children are in it)
        params = sum(p.numel() for p in part.parameters())
        result.append(Branch(name, chans, params, flops // 2, out[0]))
    return result


def googlenet_branches(block: str = "inception3a") -> list[Branch]:
    """Return the parameters and multiply-adds of each branch of one of GoogLeNet's modules."""
    model = build("googlenet", meta=True).eval()
    modules = dict(model.named_modules())
    if not isinstance(block, str) or not block.startswith("inception") or block not in modules:
        names = [n for n in modules if n.startswith("inception") and "." not in n]
        raise ArchStatsError(
            "Unknown GoogLeNet module {block!r}; choose one of {names}.", block=block, names=names
        )
    _, per_module = _flops(model, torch.empty(1, 3, 224, 224, device="meta"))
    result = []
    for i, name in enumerate(BRANCH_NAMES):
        path = f"{block}.branch{i + 1}"
        part = modules[path]
        convs = [m for m in part.modules() if isinstance(m, nn.Conv2d)]
        label = " → ".join(
            f"{c.in_channels}→{c.out_channels} {c.kernel_size[0]}×{c.kernel_size[1]}" for c in convs
        )
        result.append(
            Branch(
                name=name,
                channels=(label,),
                params=sum(p.numel() for p in part.parameters()),
                macs=per_module.get(path, 0) // 2,
            )
        )
    return result


DILATION_RATES = (1, 2, 4)  # dilated_scales' default rates
DILATED_SIDE = 3  # dilated_scales' kernel side


def dilated_extent(rate: int, k: int = DILATED_SIDE) -> int:
    """Return how many pixels across a k-tap kernel at dilation `rate` reads: rate·(k − 1) + 1."""
    return rate * (k - 1) + 1


def dilated_scales(
    gray: torch.Tensor, kernel: str = "laplacian", rates: tuple[int, ...] = DILATION_RATES
) -> torch.Tensor:
    """Return (len(rates), H, W): one 3×3 kernel at each dilation rate, edge-replicate padded."""
    if not isinstance(gray, torch.Tensor) or gray.dim() != 2:
        raise ArchStatsError("The dilation demo needs a grey image tensor of shape (H, W).")
    if any(not isinstance(r, int) or r < 1 for r in rates) or not rates:
        raise ArchStatsError(
            "Dilation rates must be whole numbers ≥ 1, got {rates!r}.", rates=rates
        )
    if min(gray.shape) <= 2 * max(rates):
        raise ArchStatsError(
            "The image ({shape}) is too small for dilation {rate}.",
            shape=tuple(gray.shape),
            rate=max(rates),
        )
    weight = make_kernel(kernel, DILATED_SIDE)[
        None, None
    ]  # (1, 1, 3, 3): the same 9 weights at every rate
    x = gray.float()[None, None]  # (1, 1, H, W)
    maps = [F.conv2d(F.pad(x, (r,) * 4, mode="replicate"), weight, dilation=r)[0, 0] for r in rates]
    return torch.stack(maps)  # (R, H, W)
