"""How does the trace follow a network's graph? A TorchFunctionMode that sees every torch call.

The forward pass runs on a shape-only (meta) copy of the network, so nothing is computed and the
caller's model is neither run nor hooked. Every tensor derived from the input carries a field
(looked up by identity); a conv/pool/pad call applies the recurrence and records a row named after
the module making the call; any other call (add, cat, batch norm, ReLU, ...) passes on the union of
its inputs' fields when the spatial shape is unchanged: such calls are taken to act position by
position, true of the CNNs here, not of e.g. torch.roll or grid_sample. A 1×1 map broadcast back
onto a larger one (the squeeze-and-excitation gate) marks the result `global_context`; anything
that reshapes the spatial axes (flatten, transpose, crop, resize) ends the trace for that tensor,
and a convolution reached only through such a tensor is an error, not a guess.
"""

from __future__ import annotations

import copy
import itertools
import weakref
from collections import Counter
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from engine.core import check_int
from engine.receptive_field.fields import (
    LayerRF,
    ReceptiveFieldError,
    _Axis,
    _Field,
    _row,
)
from engine.receptive_field.ops import AXIS_MOVES, CATS, OWNERS, SPATIAL_OPS, spatial_settings


def _tensors(obj) -> list[torch.Tensor]:
    """Return the tensors in a call's arguments or result (lists and tuples flattened)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, Mapping):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


class _Lost:
    """Marks a tensor derived from the input whose spatial layout the trace could not follow."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class FieldTracer(TorchFunctionMode):
    """Follows every tensor derived from the input by identity and records spatial layers.

    Fields live in a dict keyed by id(tensor) with a weak reference to the tensor, so a recycled
    id is never mistaken for the old tensor and nothing is kept alive longer than the forward.
    """

    def __init__(self, nd: int) -> None:
        super().__init__()
        self.nd = nd
        self.fields: dict[int, tuple[weakref.ref, _Field | _Lost]] = {}
        self.rows: list[LayerRF] = []
        self.call_indices: list[int] = []  # which spatial call (0, 1, ...) each row came from
        self.calls = 0
        self.modules: list[tuple[str, nn.Module]] = []  # the module stack, innermost last
        self.names = Counter()

    def entering(self, name: str):
        """Return a forward pre-hook that pushes the module's path onto the module stack."""

        def hook(module: nn.Module, args) -> None:
            self.modules.append((name, module))

        return hook

    def leaving(self, module: nn.Module, args, output) -> None:
        """Forward hook: pop the module stack (returns None, so the output is untouched)."""
        self.modules.pop()

    def set(self, t: torch.Tensor, field: _Field | _Lost) -> None:
        self.fields[id(t)] = (weakref.ref(t), field)

    def get(self, t: torch.Tensor) -> _Field | _Lost | None:
        entry = self.fields.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = _meta_shortcut(func, args, kwargs)
        if out is None:
            out = func(*args, **kwargs)
        spatial = SPATIAL_OPS.get(func)
        if spatial is not None:
            self._spatial(*spatial, args, kwargs, out)
        else:
            self._elementwise(func, args, kwargs, out)
        return out

    def _row_name(self, kind: str, op_name: str) -> str:
        path, module = self.modules[-1] if self.modules else ("", None)
        owned = module is not None and isinstance(module, OWNERS[kind])
        name = path if owned and path else f"{path}.{op_name}" if path else op_name
        self.names[name] += 1
        return name if self.names[name] == 1 else f"{name} (call {self.names[name]})"

    def _spatial(self, kind, op_name, sig, args, kwargs, out) -> None:
        index, self.calls = self.calls, self.calls + 1
        y = out[0] if isinstance(out, (tuple, list)) else out
        x = sig.bind(*args, **kwargs).arguments["input"]
        field = self.get(x)
        if isinstance(field, _Lost):
            raise ReceptiveFieldError(
                f"Cannot follow the receptive field into {op_name} "
                f"({self._row_name(kind, op_name)}): {field.reason}."
            )
        if field is None:  # a constant, not derived from the input
            return
        kernel, stride, padding, dilation = spatial_settings(kind, sig, args, kwargs, y, self.nd)
        axes = []
        for i, axis in enumerate(field.axes):
            if kind.startswith("adaptive"):
                n, m = x.shape[i - self.nd], y.shape[i - self.nd]
                first = -(-n // m)  # unit 0 pools input [0, ceil(n/m))
                grown = axis.through(kernel[i], stride[i], 0)
                axes.append(_Axis(grown.size, grown.jump, axis.start + (first - 1) / 2 * axis.jump))
            else:
                axes.append(axis.through(kernel[i], stride[i], padding[i], dilation[i]))
        field = _Field(tuple(axes), field.global_context)
        self.set(y, field)
        name = self._row_name(kind, op_name)
        self.rows.append(_row(name, kind, field, y.shape, kernel, stride, padding, dilation))
        self.call_indices.append(index)

    def _elementwise(self, func, args, kwargs, out) -> None:
        outs = _tensors(out)
        if not outs:
            return
        inputs = [(t, f) for t in _tensors((args, kwargs)) if (f := self.get(t)) is not None]
        if not inputs:
            return
        name = getattr(func, "__name__", str(func))
        for y in outs:
            self.set(y, self._merged_field(func, name, inputs, args, kwargs, y))

    def _merged_field(self, func, name, inputs, args, kwargs, y) -> _Field | _Lost:
        """Return the field of output y: the union of its inputs' fields, or why it is lost."""
        merged, lost, global_context = None, None, False
        for x, f in inputs:
            g, why, gate = self._input_field(name, x, f, y)
            global_context = global_context or gate
            lost = lost or why
            if g is not None:
                merged = g if merged is None else merged.union(g)
        lost = self._layout_change(func, name, args, kwargs, y) or lost
        if lost is not None or merged is None:
            return _Lost(lost or f"{name} mixed the map with non-spatial values")
        return _Field(merged.axes, merged.global_context or global_context)

    def _input_field(self, name, x, f, y) -> tuple[_Field | None, str | None, bool]:
        """Return (what input x contributes to y's field, why it is lost, is it a global gate)."""
        nd = self.nd
        if x.dim() < nd or y.dim() < nd:
            return None, f"{name} removed the spatial axes", False
        xs, ys = tuple(x.shape[-nd:]), tuple(y.shape[-nd:])
        if isinstance(f, _Lost):
            if all(s == 1 for s in xs) and xs != ys:  # broadcast global gate
                return None, None, True
            return None, f.reason, False
        if xs == ys:  # position by position (channels may mix, as in a concat)
            return f, None, False
        if all(s == 1 for s in xs):  # broadcast of a global summary onto the map
            return None, None, True
        if all(s == 1 for s in ys) and y.dim() == x.dim():  # reduction over the map
            axes = tuple(a.through(n, n, 0) for a, n in zip(f.axes, xs, strict=True))
            return _Field(axes, f.global_context), None, False
        return None, f"{name} changed the spatial shape {xs} → {ys}", False

    def _layout_change(self, func, name, args, kwargs, y) -> str | None:
        """Return why a transpose/permute or concat moved y's spatial axes, or None."""
        if func in AXIS_MOVES and _moves_spatial_axis(func, args, kwargs, y.dim(), self.nd):
            return f"{name} moved a spatial axis"
        if func in CATS and _cat_dim(args, kwargs, y.dim()) >= y.dim() - self.nd:
            return f"{name} concatenated along a spatial axis"
        return None


def _meta_shortcut(func, args, kwargs) -> torch.Tensor | None:
    """Return the result's shape-only stand-in for calls whose meta kernels are slow Python
    decompositions (batch norm: 80% of a ResNet trace), or None to run the call itself."""
    if func is F.batch_norm and args and args[0].is_meta:
        return torch.empty_like(args[0])  # same shape; no statistics to keep on a meta copy
    if func in CATS and args and isinstance(args[0], (list, tuple)) and len(args[0]) > 0:
        parts = args[0]
        if all(
            isinstance(t, torch.Tensor) and t.is_meta and t.dim() == parts[0].dim() for t in parts
        ):
            dim = _cat_dim(args, kwargs, parts[0].dim())
            shape = list(parts[0].shape)
            shape[dim] = sum(t.shape[dim] for t in parts)
            return parts[0].new_empty(shape)
    return None


def _cat_dim(args, kwargs, ndim: int) -> int:
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    return dim % ndim if isinstance(dim, int) else -1


def _moves_spatial_axis(func, args, kwargs, ndim: int, nd: int) -> bool:
    """Return True when a transpose/permute call moves one of the last nd axes."""
    spatial = set(range(ndim - nd, ndim))
    rest = list(args[1:]) + list(kwargs.values())
    dims = [d for item in rest for d in (item if isinstance(item, (list, tuple)) else [item])]
    dims = [d % ndim for d in dims if isinstance(d, int)]
    if func in (torch.permute, torch.Tensor.permute):
        return any(dims[i] != i for i in spatial if i < len(dims))
    return func in (torch.Tensor.t, torch.t) or bool(spatial & set(dims))


# --- running the trace


def spatial_rank_and_channels(model: nn.Module) -> tuple[int, int | None]:
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            return len(m.kernel_size), m.in_channels
    return 2, None


def _meta_copy(model: nn.Module) -> nn.Module:
    """Return a copy of model whose parameters and buffers are shape-only meta tensors."""
    memo = {}
    for t in itertools.chain(model.parameters(), model.buffers()):
        meta = torch.empty_like(t, device="meta")
        memo[id(t)] = nn.Parameter(meta, t.requires_grad) if isinstance(t, nn.Parameter) else meta
    return copy.deepcopy(model, memo)


def _trace_on(shadow: nn.Module, shape: tuple[int, ...], device: str) -> FieldTracer:
    """Run shadow (a private copy: hooks and eval() are fine) on zeros of shape under a tracer."""
    tracer = FieldTracer(nd=len(shape) - 2)
    dtype = next((p.dtype for p in shadow.parameters() if p.is_floating_point()), torch.float32)
    for name, module in shadow.named_modules():
        module.register_forward_pre_hook(tracer.entering(name))
        module.register_forward_hook(tracer.leaving)
    x = torch.zeros(shape, device=device, dtype=dtype)
    tracer.set(x, _Field(tuple(_Axis() for _ in shape[2:])))
    shadow.eval()
    with torch.no_grad(), tracer:
        shadow(x)
    return tracer


def trace(
    model: nn.Module, spatial: tuple[int, ...], in_channels: int | None = None
) -> FieldTracer:
    """Return the finished tracer of one forward pass of model on a (1, C, *spatial) input."""
    nd, channels = spatial_rank_and_channels(model)
    channels = in_channels if in_channels is not None else channels
    if channels is None:
        raise ReceptiveFieldError("The network has no convolution: say how many input channels.")
    if len(spatial) != nd:
        raise ReceptiveFieldError(f"The network's convolutions are {nd}-D; give {nd} input sizes.")
    shape = (1, check_int("input channels", channels, 1, error=ReceptiveFieldError), *spatial)
    try:
        tracer = _trace_on(_meta_copy(model), shape, "meta")
    except ReceptiveFieldError:
        raise
    except Exception as err:  # noqa: BLE001 - a model with parts the meta device cannot run
        if not (isinstance(err, NotImplementedError) or "meta" in str(err).lower()):
            raise ReceptiveFieldError(_cannot_run(shape, err)) from None
        try:
            tracer = _trace_on(copy.deepcopy(model).cpu(), shape, "cpu")
        except ReceptiveFieldError:
            raise
        except Exception as err2:  # noqa: BLE001
            raise ReceptiveFieldError(_cannot_run(shape, err2)) from None
    if not tracer.rows:
        raise ReceptiveFieldError("The network has no convolution or pooling layer on its input.")
    return tracer


def _cannot_run(shape: tuple[int, ...], err: Exception) -> str:
    size = "×".join(str(s) for s in shape[2:])
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    hint = "; try a larger input size" if "size" in first_line.lower() else ""
    return f"The network cannot run on a {size} input ({first_line}){hint}."
