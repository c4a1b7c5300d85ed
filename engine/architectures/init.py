"""How are the networks' weights drawn? torch's default rule, reproduced with a local generator.

Each family file has an `init_weights(model, generator=None)` that applies its reference scheme
(e.g. He-normal convolutions for ResNet); with a generator it first redraws every layer with the
default rule below, so a model built on the meta device and materialised with `to_empty` ends up
exactly as if constructed normally, without touching torch's global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from engine.core import seeded

_CONVS_AND_LINEAR = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@torch.no_grad()
def default_init_(model: nn.Module, generator: torch.Generator) -> None:
    """Redraw every conv/linear layer as its reset_parameters() would, from `generator`."""
    for m in model.modules():
        if isinstance(m, _CONVS_AND_LINEAR):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
        elif isinstance(m, _NORMS):
            m.reset_parameters()  # ones, zeros and fresh running statistics: no randomness


def materialise(
    factory: Callable[[], nn.Module],
    init_weights: Callable[[nn.Module, torch.Generator], None],
    seed: int,
    meta: bool = False,
) -> nn.Module:
    """Return factory()'s model built on the meta device, then filled by init_weights from seed.

    With meta=True the model stays shape-only: no memory, no weights (enough for parameter
    counts, receptive fields, FLOPs).
    """
    with torch.device("meta"):
        model = factory()  # shapes only: no memory, no draws from the global generator
    if meta:
        return model
    model = model.to_empty(device="cpu")
    init_weights(model, seeded(seed))
    return model
