"""Which sentence the numbers support: chance, the steadiest learner, shifts worth naming.

The training page words its findings from these; each returns a claim or None, never prose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.cnn.small_cnn import CNNError

__all__ = [
    "BORDER_SAME",
    "CHANCE_Z",
    "CLASSIC_BY",
    "COLOUR_BY",
    "FITS_LESS_BY",
    "SAME_WITHIN",
    "TREND_BY",
    "above_chance",
    "accuracy_gap",
    "border_effect",
    "chance_margin",
    "classic_likeness",
    "colour_shift",
    "compare",
    "fits_less",
    "steadiest",
    "trend",
]

CHANCE_Z = 3.0  # standard errors above 1/K before an accuracy counts as "learned"
SAME_WITHIN = 0.005  # two shares closer than this are "about the same" (shown to 0.1 %)
# Shown to 1 %: a change beyond 2 points never prints as "40 % to 40 %", and a change of a point
# or two is within what another seed gives.
COLOUR_BY = 0.02  # mean colour share of the filters: change named beyond this
CLASSIC_BY = 0.02  # median best |cos| with the hand-made kernels: change named beyond this
FITS_LESS_BY = 0.02  # training accuracy this far below the baseline's "fits less well"
TREND_BY = 0.02  # each step of a series must move this far for it to "rise" or "fall"
BORDER_SAME = 0.05  # circular and edge shifts keeping shares this close: the border is moot


def chance_margin(n: int, k: int, z: float = CHANCE_Z) -> float:
    """Return z standard errors of the accuracy of a uniform guesser among k classes on n items."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CNNError(f"n must be a whole number ≥ 1, got {n!r}.")
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise CNNError(f"k must be a whole number ≥ 2, got {k!r}.")
    p = 1 / k
    return z * math.sqrt(p * (1 - p) / n)


def above_chance(accuracy: float, n: int, k: int, z: float = CHANCE_Z) -> bool:
    """Return True when accuracy on n items is clearly (z standard errors) above 1/k."""
    return accuracy > 1 / k + chance_margin(n, k, z)


def steadiest(names: Sequence[str], kept: Sequence[float], learned: Sequence[bool]) -> str | None:
    """Return the name keeping most predictions among those that learned; None if none did."""
    if not len(names) == len(kept) == len(learned):
        raise CNNError("names, kept and learned must have the same length.")
    candidates = [(k, n) for n, k, ok in zip(names, kept, learned, strict=True) if ok]
    return max(candidates, key=lambda t: t[0])[1] if candidates else None


def compare(a: float, b: float, within: float = SAME_WITHIN) -> str:
    """Return "same" when |a − b| < within, else "above" or "below" (a against b)."""
    return "same" if abs(a - b) < within else "above" if a > b else "below"


def _beyond(a: float, b: float, margin: float) -> str | None:
    """Return "above" or "below" (a against b) when they differ by more than margin, else None."""
    if not (math.isfinite(a) and math.isfinite(b)) or abs(a - b) <= margin:
        return None
    return "above" if a > b else "below"


def colour_shift(start: float, now: float, margin: float = COLOUR_BY) -> str | None:
    """Return "brightness" or "colour", where the filters' colour share moved, or None."""
    return {"below": "brightness", "above": "colour", None: None}[_beyond(now, start, margin)]


def classic_likeness(start: float, now: float, margin: float = CLASSIC_BY) -> str | None:
    """Return "closer" or "further" (now vs start |cos| with hand-made kernels), or None."""
    return {"above": "closer", "below": "further", None: None}[_beyond(now, start, margin)]


def accuracy_gap(train: float, val: float, within: float = SAME_WITHIN) -> str | None:
    """Return "above" or "below" (training against validation accuracy), or None if the same."""
    return _beyond(train, val, within)


def fits_less(train: float, baseline_train: float, margin: float = FITS_LESS_BY) -> bool:
    """Return True when a variant's training accuracy is clearly below the baseline's."""
    return _beyond(train, baseline_train, margin) == "below"


def border_effect(circular_minus_edge: float, within: float = BORDER_SAME) -> str | None:
    """Return "more" or "fewer" answers kept when the picture wraps around, or None (moot)."""
    return {"above": "more", "below": "fewer", None: None}[
        _beyond(circular_minus_edge, 0.0, within)
    ]


def trend(values: Sequence[float], by: float = TREND_BY) -> str | None:
    """Return "rises" or "falls" when every step of values moves that way by more than by."""
    if len(values) < 2:
        raise CNNError("A trend needs at least two values.")
    steps = {_beyond(b, a, by) for a, b in zip(values[:-1], values[1:], strict=True)}
    return {"above": "rises", "below": "falls"}.get(steps.pop()) if len(steps) == 1 else None
