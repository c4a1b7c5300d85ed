"""Which sentence the numbers support: chance-level accuracy, the steadiest learner, comparisons.

The training page words its findings from these; each returns a claim or None, never prose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.cnn.small_cnn import CNNError

__all__ = ["CHANCE_Z", "SAME_WITHIN", "above_chance", "chance_margin", "compare", "steadiest"]

CHANCE_Z = 3.0  # standard errors above 1/K before an accuracy counts as "learned"
SAME_WITHIN = 0.005  # two shares closer than this are "about the same"


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
