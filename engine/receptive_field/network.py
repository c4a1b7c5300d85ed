"""How much of the input does one unit of a layer see, and where does that patch sit?

`stack_rf` applies the receptive-field recurrence to a list of layers, as the page's stack
builder describes them, and `stack_model` builds the same stack in torch (fields.py).
`receptive_field` traces a real network (trace.py): the largest field over paths at
every conv/pool layer, through residual adds and Inception/DenseNet concatenations.
`effective_receptive_field` and `erf_growth` (effective.py) measure how much of that
field a unit actually uses.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.core import check_int
from engine.receptive_field.fields import (
    LayerRF,
    ReceptiveFieldError,
)
from engine.receptive_field.trace import spatial_rank_and_channels, trace

MAX_INPUT = 8192  # side of the largest traced input (the trace is shape-only, so this is generous)

__all__ = [
    "layer_output",
    "receptive_field",
]


def receptive_field(
    model: nn.Module, input_size: int = 224, *, in_channels: int | None = None
) -> list[LayerRF]:
    """Return one LayerRF per convolution/pooling/padding call of model, in forward order.

    The model itself is not run or changed: a shape-only copy is traced on an input_size-square
    image (input_size samples for 1-D networks).
    """
    size = check_int("input size", input_size, 1, MAX_INPUT, error=ReceptiveFieldError)
    nd, _ = spatial_rank_and_channels(model)
    return trace(model, (size,) * nd, in_channels).rows


def layer_output(stack: nn.Sequential, image: torch.Tensor, layer: str) -> torch.Tensor:
    """Return the (C, H', W') activations of a stack_model after `layer` (and its ReLU)."""
    names = [name for name, _ in stack.named_children()]
    if layer not in names:
        raise ReceptiveFieldError(f"No layer named {layer!r}; the stack has {', '.join(names)}.")
    stop = names.index(layer)
    if stop + 1 < len(names) and names[stop + 1].startswith("relu"):
        stop += 1  # a conv's output is read after its nonlinearity, as the next layer reads it
    x = image[None, None] if image.dim() == 2 else image[None]  # (1, C, H, W)
    with torch.inference_mode():
        for module in list(stack.children())[: stop + 1]:
            x = module(x)
    return x[0]
