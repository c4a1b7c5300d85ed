"""How much of its theoretical field does a unit actually use? The effective receptive field.

Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in Deep Convolutional
Neural Networks" (NeurIPS 2016): the gradient of one unit with respect to the input is nonzero
over the whole theoretical field, but its mass is roughly Gaussian and concentrated near the centre;
in a stack of n convolutions its spread grows like √n while the theoretical field grows like n.
"""

from __future__ import annotations

import inspect
import math
import threading
import weakref
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from engine.core import check_int, check_tensor, seeded
from engine.receptive_field.fields import ReceptiveFieldError, stack_model
from engine.receptive_field.ops import SPATIAL_OPS
from engine.receptive_field.trace import spatial_rank_and_channels, trace

MAX_DEPTH = 64  # erf_growth: deepest stack (each depth is one forward and one backward pass)
MAX_CHANNELS = 64
MAX_KERNEL = 11
MAX_SIDE = 2048  # effective_receptive_field: largest input side (one forward and backward)

_BATCH_NORM = inspect.signature(F.batch_norm)
_DROPOUTS = {F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout}


# model -> (its modules' ids, {(spatial, channels): (rows, call indices)}): a page asks for one
# unit after another on the same cached network, and the trace is a fifth of each answer
_TRACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TRACES_LOCK = threading.Lock()


def _cached_trace(model: nn.Module, spatial: tuple[int, ...], channels: int):
    """Return (rows, call_indices) of the trace, reusing it while the module tree is unchanged."""
    modules = tuple(id(m) for m in model.modules())
    key = (spatial, channels)
    with _TRACES_LOCK:
        known = _TRACES.get(model)
        if known is not None and known[0] == modules and key in known[1]:
            return known[1][key]
    tracer = trace(model, spatial, channels)
    result = (tuple(tracer.rows), tuple(tracer.call_indices))
    with _TRACES_LOCK:
        known = _TRACES.get(model)
        if known is None or known[0] != modules:
            known = (modules, {})
            _TRACES[model] = known
        known[1][key] = result
    return result


class _Stop(Exception):
    """Raised once the chosen layer has produced its output: the rest of the forward is skipped."""


class _InferenceForward(TorchFunctionMode):
    """Runs a forward as eval() would, without touching the (shared) model, up to one layer.

    Batch norm uses its running statistics (in training mode the batch mean would couple every
    unit to the whole image), dropout is the identity, and the output of spatial call number
    `stop_at` (counted as the tracer counts them) is kept and the forward abandoned.
    """

    def __init__(self, stop_at: int, counters: set[int]) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.counters = counters  # ids of batch norms' num_batches_tracked: left as they are
        self.calls = 0
        self.captured: torch.Tensor | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.batch_norm:
            bound = _BATCH_NORM.bind(*args, **kwargs)
            a = bound.arguments
            if a.get("running_mean") is not None and a.get("running_var") is not None:
                a["training"] = False
            return func(*bound.args, **bound.kwargs)
        if func in _DROPOUTS:
            return args[0] if args else kwargs["input"]
        if func is torch.Tensor.add_ and args and id(args[0]) in self.counters:
            return args[0]  # BatchNorm.forward counts batches in training mode; not ours to count
        out = func(*args, **kwargs)
        if func in SPATIAL_OPS:
            if self.calls == self.stop_at:
                self.captured = out[0] if isinstance(out, (tuple, list)) else out
                raise _Stop
            self.calls += 1
        return out


def _input(model: nn.Module, input_size: int, image: torch.Tensor | None, seed: int):
    """Return the (1, C, H, W) input: the image, or uniform noise in [0, 1) drawn from seed."""
    nd, channels = spatial_rank_and_channels(model)
    if nd != 2:
        raise ReceptiveFieldError("The effective receptive field is drawn for 2-D networks only.")
    if image is None:
        size = check_int("input size", input_size, 1, MAX_SIDE, error=ReceptiveFieldError)
        generator = seeded(seed)
        return torch.rand((1, channels or 1, size, size), generator=generator)
    image = check_tensor("image", image, (2, 3), error=ReceptiveFieldError).detach().float()
    image = image[None] if image.dim() == 2 else image  # (C, H, W)
    if max(image.shape[1:]) > MAX_SIDE:
        raise ReceptiveFieldError(
            f"The image is {image.shape[1]}×{image.shape[2]}; "
            f"resize it to at most {MAX_SIDE} pixels a side."
        )
    if channels is not None and image.shape[0] != channels:
        raise ReceptiveFieldError(
            f"The network expects {channels} input channel(s), the image has {image.shape[0]}."
        )
    return image[None]


def effective_receptive_field(
    model_or_stack: nn.Module | Sequence[Mapping],
    unit: tuple[int, int],
    input_size: int = 224,
    layer: str | None = None,
    seed: int = 0,
    *,
    image: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return |∂ unit / ∂ input| summed over input channels, (H, W), from one backward pass.

    The unit is position (row, col) of `layer` (a name from receptive_field(); default: the last
    layer whose output has more than one position), all its channels summed. The input is `image`
    ((C, H, W) or (H, W) floats) or seeded noise of input_size²; a layer stack (dicts as for
    stack_rf) is built with stack_model from the same seed. The model runs as in eval mode and is
    not changed: no hooks, no .grad, no batch-norm statistics updated. The layer lookup (a trace
    of the network) is remembered per model while its module tree stays the same.
    """
    seed = check_int("seed", seed, 0, error=ReceptiveFieldError)
    model = _model_for(model_or_stack, image, seed)
    x = _input(model, input_size, image, seed)  # (1, C, H, W)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), x.dtype)
    device = next((p.device for p in model.parameters()), x.device)
    x = x.to(device=device, dtype=dtype)
    rows, call_indices = _cached_trace(model, tuple(x.shape[2:]), int(x.shape[1]))
    index = _layer_index(rows, layer)
    row, col = _checked_unit(unit, rows[index].out_shape[2:])
    captured = _forward_to(model, x, call_indices[index], rows[index].name)
    with torch.enable_grad():
        target = captured[0, :, row, col].sum()  # one position, every channel
        (grad,) = torch.autograd.grad(target, x)  # (1, C, H, W); weights' gradients not computed
    return grad[0].abs().sum(0).detach()  # (H, W)


def _model_for(model_or_stack, image: torch.Tensor | None, seed: int) -> nn.Module:
    """Return the network itself, or the layer stack built with as many channels as the image."""
    if isinstance(model_or_stack, nn.Module):
        return model_or_stack
    image_3d = isinstance(image, torch.Tensor) and image.dim() == 3
    channels = int(image.shape[0]) if image_3d else 1
    return stack_model(model_or_stack, in_channels=channels, seed=seed)


def _layer_index(rows, layer: str | None) -> int:
    """Return the index of the named row, or of the last row with more than one position."""
    if layer is None:
        spread = [i for i, row in enumerate(rows) if math.prod(row.out_shape[2:]) > 1]
        if not spread:
            raise ReceptiveFieldError("Every layer's output is a single position at this size.")
        return spread[-1]
    names = [row.name for row in rows]
    if layer not in names:
        shown = names[:3] + ["..."] + names[-3:] if len(names) > 6 else names
        raise ReceptiveFieldError(
            f"No spatial layer named {layer!r}; the layers are {', '.join(shown)}."
        )
    return names.index(layer)


def _checked_unit(unit, out_shape) -> tuple[int, int]:
    """Return (row, col) of unit, checked to lie inside an output of out_shape (h, w)."""
    out_h, out_w = out_shape
    if not isinstance(unit, (tuple, list)) or len(unit) != 2:
        raise ReceptiveFieldError(f"unit must be a (row, column) pair, got {unit!r}.")
    row = check_int("unit row", unit[0], 0, out_h - 1, error=ReceptiveFieldError)
    col = check_int("unit column", unit[1], 0, out_w - 1, error=ReceptiveFieldError)
    return row, col


def _forward_to(model: nn.Module, x: torch.Tensor, call: int, name: str) -> torch.Tensor:
    """Return the output of spatial call number `call`, run with gradients from x onwards."""
    x.requires_grad_(True)
    counters = {
        id(m.num_batches_tracked)
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.num_batches_tracked is not None
    }
    forward = _InferenceForward(call, counters)
    with torch.enable_grad():
        try:
            with forward:
                model(x)
        except _Stop:
            pass
    if forward.captured is None:
        raise ReceptiveFieldError(f"The forward pass never reached {name!r}.")
    return forward.captured


def _spread(weights: torch.Tensor) -> float:
    """Return the standard deviation (pixels, averaged over the two axes) of a 2-D mass map."""
    total = weights.double().sum()
    if total <= 0:
        return math.nan  # no gradient reached the input: no spread to speak of
    p = weights.double() / total
    rows = torch.arange(p.shape[0], dtype=torch.float64)
    cols = torch.arange(p.shape[1], dtype=torch.float64)
    p_rows, p_cols = p.sum(1), p.sum(0)
    var_rows = (p_rows * rows**2).sum() - (p_rows * rows).sum() ** 2
    var_cols = (p_cols * cols**2).sum() - (p_cols * cols).sum() ** 2
    return math.sqrt(max(float(var_rows + var_cols) / 2, 0.0))


def erf_growth(
    depths: Sequence[int], k: int = 3, channels: int = 16, seed: int = 0, batch: int = 4
) -> dict[str, list]:
    """Return theoretical field size and measured ERF spread for plain k×k conv+ReLU stacks.

    For each depth n: "theoretical_rf" n(k-1)+1, "uniform_std" the spread of a flat field that
    size, sqrt((r²-1)/12), and "erf_std" the spread of the centre unit's |input gradient|, summed
    over `batch` noise images (one backward pass), with He-initialised random weights.
    """
    if isinstance(depths, (str, bytes)) or not isinstance(depths, Sequence) or not depths:
        raise ReceptiveFieldError("depths must be a non-empty list of whole numbers.")
    depths = [check_int("depth", d, 1, MAX_DEPTH, error=ReceptiveFieldError) for d in depths]
    k = check_int("kernel size", k, 1, MAX_KERNEL, error=ReceptiveFieldError)
    if k % 2 == 0:
        raise ReceptiveFieldError(f"Use an odd kernel (got {k}): 'same' padding needs a centre.")
    channels = check_int("channels", channels, 1, MAX_CHANNELS, error=ReceptiveFieldError)
    seed = check_int("seed", seed, 0, error=ReceptiveFieldError)
    batch = check_int("batch", batch, 1, 64, error=ReceptiveFieldError)
    size = max(depths) * (k - 1) + 3  # every field fits around the centre with a pixel to spare
    centre = size // 2
    generator = seeded(seed)
    result: dict[str, list] = {"depth": [], "theoretical_rf": [], "uniform_std": [], "erf_std": []}
    for depth in depths:
        layers = [{"kind": "conv", "k": k, "p": k // 2}] * depth
        model = stack_model(layers, in_channels=1, channels=channels, seed=seed)
        x = torch.rand((batch, 1, size, size), generator=generator, requires_grad=True)
        with torch.enable_grad():
            out = model(x)  # (batch, channels, size, size)
            (grad,) = torch.autograd.grad(out[:, :, centre, centre].sum(), x)
        r = depth * (k - 1) + 1
        result["depth"].append(depth)
        result["theoretical_rf"].append(r)
        result["uniform_std"].append(math.sqrt((r * r - 1) / 12))
        result["erf_std"].append(_spread(grad.abs().sum((0, 1))))
    return result
