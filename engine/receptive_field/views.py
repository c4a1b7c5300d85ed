"""Where exactly does one unit look? The geometry and summaries the receptive-field page draws.

Fields are in input pixel coordinates (pixel centres at 0, 1, ...): a unit's field of side r
centred at c covers [c − (r − 1)/2, c + (r − 1)/2].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from engine.receptive_field.fields import LayerRF, ReceptiveFieldError

ERF_LEVEL = 0.1  # erf_share: a pixel counts when its gradient exceeds this fraction of the peak
WIDE_SIDE = 1024  # an input wide enough that no stack of the dilation demo runs out of image


def centre_crop(image: torch.Tensor) -> torch.Tensor:
    """Return the largest centred square of a (H, W) image."""
    if not isinstance(image, torch.Tensor) or image.dim() != 2:
        raise ReceptiveFieldError("The crop needs a grey image tensor of shape (H, W).")
    h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def middle_unit(row: LayerRF) -> tuple[int, int]:
    """Return (row, col) of the middle unit of a layer's output (the lower-right one if even)."""
    h, w = row.out_shape[-2:]
    return h // 2, w // 2


def unit_box(row: LayerRF, unit: tuple[int, int]) -> tuple[float, float, float, float]:
    """Return (top, left, bottom, right) of one unit's field, in input pixel coordinates."""
    half = [(s - 1) / 2 for s in row.sizes]
    cy = row.starts[0] + unit[0] * row.jumps[0]
    cx = row.starts[1] + unit[1] * row.jumps[1]
    return cy - half[0], cx - half[1], cy + half[0], cx + half[1]


def middle_spans(rows: Sequence[LayerRF]) -> tuple[list[float], list[float]]:
    """Return (first, last) input row seen by the middle unit of each layer, down the rows."""
    boxes = [unit_box(r, middle_unit(r)) for r in rows]
    return [b[0] for b in boxes], [b[2] for b in boxes]


def erf_share(erf: np.ndarray | torch.Tensor, level: float = ERF_LEVEL) -> float:
    """Return the fraction of pixels whose gradient exceeds `level` times the largest one."""
    values = np.asarray(erf, dtype=float)
    if values.size == 0 or not 0 < level < 1:
        raise ReceptiveFieldError("erf_share needs a non-empty map and a level in (0, 1).")
    return float((values > level * values.max()).mean())


def sqrt_guide(depths: Sequence[float], spreads: Sequence[float], anchor: int) -> np.ndarray:
    """Return c·√depth with c chosen so the guide meets spreads[anchor] at depths[anchor]."""
    if not 0 <= anchor < len(depths) or len(depths) != len(spreads):
        raise ReceptiveFieldError("The anchor must index one of the measured depths.")
    scale = spreads[anchor] / math.sqrt(depths[anchor])
    return np.sqrt(np.asarray(depths, dtype=float)) * scale


def doubling_dilations(layers: int, k: int = 3) -> list[dict]:
    """Return a stack of k×k 'same' convolutions whose dilation doubles: 1, 2, 4, ..."""
    return [dict(kind="conv", k=k, p=2**i * (k - 1) // 2, d=2**i) for i in range(layers)]
