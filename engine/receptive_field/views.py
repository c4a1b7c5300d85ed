"""Where exactly does one unit look? The geometry and summaries the receptive-field page draws.

Fields are in input pixel coordinates (pixel centres at 0, 1, ...): a unit's field of side r
centred at c covers [c − (r − 1)/2, c + (r − 1)/2].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from engine.core import N_
from engine.receptive_field.fields import LayerRF, ReceptiveFieldError

ERF_LEVEL = 0.1  # erf_share: a pixel counts when its gradient exceeds this fraction of the peak
WIDE_SIDE = 1024  # an input wide enough that no stack of the dilation demo runs out of image
SMALL_EXTENT = 0.25  # erf_extent_words: below this share of the square, "a small blob"
MOST_EXTENT = 0.5  # erf_extent_words: at or above this share, "most of the square"
EXTENT_TOLERANCE = 0.1  # erf_change_words: shares closer than this count as the same


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


def carry_unit(source: LayerRF, unit: tuple[int, int], target: LayerRF) -> tuple[int, int]:
    """Return the unit of `target` whose field centre is nearest the centre of `unit`'s field.

    A unit (i, j) is centred at start + (i, j)·jump in input pixels; the nearest target unit is
    that centre mapped back through the target's own start and jump, kept inside its output.
    """
    top, left, bottom, right = unit_box(source, unit)
    centre = ((top + bottom) / 2, (left + right) / 2)
    picked = []
    for axis, c in enumerate(centre):
        n = target.out_shape[-2 + axis]
        index = math.floor((c - target.starts[axis]) / target.jumps[axis] + 0.5)
        picked.append(min(max(index, 0), n - 1))
    return picked[0], picked[1]


def erf_extent(
    erf: np.ndarray | torch.Tensor,
    box: tuple[float, float, float, float],
    level: float = ERF_LEVEL,
) -> float:
    """Return the share of the theoretical square's in-image pixels above `level` of the peak.

    The square is `box` (top, left, bottom, right) clipped to the image; the peak is the
    largest gradient anywhere (outside the square it is zero by construction).
    """
    values = np.asarray(erf, dtype=float)
    if values.ndim != 2 or values.size == 0 or not 0 < level < 1:
        raise ReceptiveFieldError("erf_extent needs a 2-D map and a level in (0, 1).")
    top, left = max(math.ceil(box[0]), 0), max(math.ceil(box[1]), 0)
    bottom = min(math.floor(box[2]), values.shape[0] - 1)
    right = min(math.floor(box[3]), values.shape[1] - 1)
    if bottom < top or right < left or values.max() <= 0:
        return 0.0
    inside = values[top : bottom + 1, left : right + 1]
    return float((inside > level * values.max()).mean())


def erf_extent_words(share: float) -> str:
    """Return how much of the theoretical square an effective field of this share covers.

    The words complete "the effective field covers … the theoretical square".
    """
    if not 0 <= share <= 1:
        raise ReceptiveFieldError(f"A share lies in [0, 1], got {share!r}.")
    if share < SMALL_EXTENT:
        return N_("only a small central blob of")
    if share < MOST_EXTENT:
        return N_("part of")
    return N_("most of")


def erf_change_words(before: float, after: float) -> str:
    """Return how an effective field's share of its square changed (narrower, wider or not)."""
    if after < before - EXTENT_TOLERANCE:
        return N_("narrower")
    if after > before + EXTENT_TOLERANCE:
        return N_("wider")
    return N_("about as wide")


def layers_beyond_image(rows: Sequence[LayerRF], side: int) -> list[str]:
    """Return the names of the layers whose middle unit's field runs past a side×side image."""
    lows, highs = middle_spans(rows)
    return [r.name for r, lo, hi in zip(rows, lows, highs, strict=True) if lo < 0 or hi > side - 1]
