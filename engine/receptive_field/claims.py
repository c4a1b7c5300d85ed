"""Which sentences about field growth the measured numbers support.

growth_exponent fits how a spread grows with depth (the slope on log–log axes) and power_words
names it (n or √n) only when the slope is close enough; response_width measures how coarse a
response map is (the half-width of its autocorrelation) and widths_grow says whether a series
of maps got clearly coarser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from engine.receptive_field.fields import ReceptiveFieldError

POWER_TOLERANCE = 0.15  # power_words: a fitted exponent this close to 1 or 0.5 reads as n or √n
HALF_LEVEL = 0.5  # response_width: the autocorrelation level that marks a structure's half-width
WIDER_FACTOR = 1.5  # widths_grow: the last width must be at least this many times the first
_POWERS = ((1.0, "n"), (0.5, "√n"))


def growth_exponent(depths: Sequence[float], spreads: Sequence[float]) -> float:
    """Return the least-squares slope of log(spread) against log(depth): spread ∝ depth^slope."""
    x = np.asarray(depths, dtype=float)
    y = np.asarray(spreads, dtype=float)
    if x.shape != y.shape or x.size < 2 or len(set(x.tolist())) < 2:
        raise ReceptiveFieldError("A growth exponent needs two or more distinct depths.")
    if (x <= 0).any() or not np.isfinite(y).all() or (y <= 0).any():
        raise ReceptiveFieldError("Depths and spreads must be positive to fit a power law.")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def power_words(exponent: float, tol: float = POWER_TOLERANCE) -> str | None:
    """Return "n" or "√n" when the exponent is within tol of 1 or 0.5, else None."""
    for power, words in _POWERS:
        if abs(exponent - power) <= tol:
            return words
    return None


def response_width(response: np.ndarray | torch.Tensor) -> float:
    """Return the half-width (px) of a 2-D map's |values|: the shift at which their
    autocorrelation, averaged over the four axis directions, first falls to HALF_LEVEL."""
    m = np.abs(np.asarray(response, dtype=float))
    if m.ndim != 2 or min(m.shape) < 4:
        raise ReceptiveFieldError("A response width needs a 2-D map at least 4 pixels a side.")
    m = m - m.mean()
    h, w = m.shape
    power = np.abs(np.fft.rfft2(m, s=(2 * h, 2 * w))) ** 2  # zero-padded: no wrap-around
    ac = np.fft.irfft2(power, s=(2 * h, 2 * w))
    if ac[0, 0] <= 0:
        return math.nan  # a flat map has no structure to measure
    reach = min(h, w) // 2
    shifts = np.arange(reach + 1)
    profile = (ac[shifts, 0] + ac[0, shifts] + ac[-shifts, 0] + ac[0, -shifts]) / (4 * ac[0, 0])
    below = np.nonzero(profile < HALF_LEVEL)[0]
    if below.size == 0:
        return math.nan  # wider than half the map: not measurable here
    i = int(below[0])  # profile[i - 1] ≥ HALF_LEVEL > profile[i]; interpolate between them
    return float(i - 1 + (profile[i - 1] - HALF_LEVEL) / (profile[i - 1] - profile[i]))


def widths_grow(widths: Sequence[float], factor: float = WIDER_FACTOR) -> bool:
    """Return True when the widths never shrink and the last is ≥ factor times the first."""
    values = [float(v) for v in widths]
    if len(values) < 2 or not all(math.isfinite(v) and v > 0 for v in values):
        return False
    steady = all(b >= a for a, b in zip(values[:-1], values[1:], strict=True))
    return steady and values[-1] >= factor * values[0]
