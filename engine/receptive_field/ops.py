"""Which torch calls are spatial layers, and how are their kernel, stride, padding, dilation read?

The trace (trace.py) sees torch functions, not modules: this table maps each conv, pool
and pad function to a signature that binds its arguments, and `spatial_settings` turns one call's
arguments into the per-axis numbers the receptive-field recurrence needs.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AXIS_MOVES", "CATS", "OWNERS", "SPATIAL_OPS", "spatial_settings"]


def _conv_args(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): ...
def _maxpool_args(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
): ...
def _avgpool_args(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
): ...
def _adaptive_args(input, output_size, return_indices=False): ...
def _pad_args(input, pad, mode="constant", value=None): ...


def _table(kind: str, signature_of, funcs: dict[str, object]) -> dict:
    sig = inspect.signature(signature_of)
    return {func: (kind, name, sig) for name, func in funcs.items() if func is not None}


# torch function (as a TorchFunctionMode sees it) -> (kind, display name, argument signature)
SPATIAL_OPS: dict[object, tuple[str, str, inspect.Signature]] = {
    **_table("conv", _conv_args, {"conv1d": torch.conv1d, "conv2d": torch.conv2d}),
    **_table(
        "maxpool",
        _maxpool_args,
        {
            "max_pool1d": F.max_pool1d,
            "max_pool2d": F.max_pool2d,
            "max_pool1d_with_indices": F.max_pool1d_with_indices,
            "max_pool2d_with_indices": F.max_pool2d_with_indices,
            "torch.max_pool1d": torch.max_pool1d,
            "torch.max_pool2d": torch.max_pool2d,
        },
    ),
    **_table("avgpool", _avgpool_args, {"avg_pool1d": F.avg_pool1d, "avg_pool2d": F.avg_pool2d}),
    **_table(
        "adaptive_avgpool",
        _adaptive_args,
        {
            "adaptive_avg_pool1d": F.adaptive_avg_pool1d,
            "adaptive_avg_pool2d": F.adaptive_avg_pool2d,
        },
    ),
    **_table(
        "adaptive_maxpool",
        _adaptive_args,
        {
            "adaptive_max_pool1d": F.adaptive_max_pool1d,
            "adaptive_max_pool2d": F.adaptive_max_pool2d,
            "adaptive_max_pool1d_with_indices": F.adaptive_max_pool1d_with_indices,
            "adaptive_max_pool2d_with_indices": F.adaptive_max_pool2d_with_indices,
        },
    ),
    **_table("pad", _pad_args, {"pad": F.pad}),
}

# the module classes whose own forward makes each kind of call (their path names the row)
OWNERS = {
    "conv": nn.modules.conv._ConvNd,
    "maxpool": nn.modules.pooling._MaxPoolNd,
    "avgpool": nn.modules.pooling._AvgPoolNd,
    "adaptive_avgpool": nn.modules.pooling._AdaptiveAvgPoolNd,
    "adaptive_maxpool": nn.modules.pooling._AdaptiveMaxPoolNd,
    "pad": (
        nn.modules.padding._ConstantPadNd,
        nn.modules.padding._ReflectionPadNd,
        nn.modules.padding._ReplicationPadNd,
        nn.modules.padding._CircularPadNd,
    ),
}

# calls that move axes around: a spatial axis that moves leaves the trace
AXIS_MOVES = {
    torch.transpose,
    torch.Tensor.transpose,
    torch.Tensor.transpose_,
    torch.permute,
    torch.Tensor.permute,
    torch.movedim,
    torch.Tensor.movedim,
    torch.swapaxes,
    torch.Tensor.swapaxes,
    torch.Tensor.t,
    torch.t,
}
CATS = {torch.cat, torch.concat, torch.concatenate}


def _tuple(value, nd: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value) if len(value) == nd else tuple(value) * nd if len(value) == 1 else ()
    return (value,) * nd


def spatial_settings(kind: str, sig: inspect.Signature, args, kwargs, out: torch.Tensor, nd: int):
    """Return (kernel, stride, padding, dilation) per spatial axis of one conv/pool/pad call."""
    a = sig.bind(*args, **kwargs)
    a.apply_defaults()
    a = a.arguments
    x = a["input"]
    n_in, n_out = tuple(x.shape[-nd:]), tuple(out.shape[-nd:])
    if kind == "conv":
        kernel = tuple(a["weight"].shape[-nd:])
        dilation = _tuple(a["dilation"], nd)
        padding = a["padding"]
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":  # torch puts the odd pixel of the total after the input
            padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
        return kernel, _tuple(a["stride"], nd), _tuple(padding, nd), dilation
    if kind in ("maxpool", "avgpool"):
        kernel = _tuple(a["kernel_size"], nd)
        stride = a["stride"]
        stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, nd)
        dilation = _tuple(a.get("dilation", 1), nd)
        return kernel, stride, _tuple(a["padding"], nd), dilation
    if kind == "pad":
        pad = list(a["pad"])  # (before_last, after_last, before_second_last, ...)
        before = tuple(
            pad[2 * (nd - 1 - i)] if 2 * (nd - 1 - i) < len(pad) else 0 for i in range(nd)
        )
        return (1,) * nd, (1,) * nd, before, (1,) * nd
    # adaptive pooling: output unit i pools input [floor(i·n/m), ceil((i+1)·n/m))
    kernel, stride = [], []
    for n, m in zip(n_in, n_out, strict=True):
        kernel.append(max(-(-(i + 1) * n // m) - (i * n // m) for i in range(m)))
        stride.append(n // m if n % m == 0 else n / m)
    return tuple(kernel), tuple(stride), (0,) * nd, (1,) * nd
