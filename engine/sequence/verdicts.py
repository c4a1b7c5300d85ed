"""Which qualitative claim do the sequence pages' numbers support, if any?

Each function takes computed numbers (accuracies on a test set of known size, ratios, swap
changes) and returns the claim they support, or None when they support none: a difference inside
the test set's sampling noise is a tie, a model not clearly above chance wins nothing, and a
stopped run is compared with nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "NOISE_Z",
    "PROPORTIONAL_BAND",
    "RATIO_FACTOR",
    "Contest",
    "KmaxAnswer",
    "above_chance",
    "accuracy_noise",
    "contest",
    "differ",
    "first_reached",
    "growth_claim",
    "growth_exponent",
    "kmax_answer",
    "kmax_seen",
    "ratio_claim",
    "shuffle_claim",
]

NOISE_Z = 2.0  # a gap of two standard errors of the measured accuracy is more than noise
RATIO_FACTOR = 1.5  # a ratio within 1.5× either way is "about the same"
PROPORTIONAL_BAND = 0.2  # a growth exponent within 1 ± 0.2 counts as "in proportion to T"


def accuracy_noise(p: float, n: int) -> float:
    """Return the standard error of an accuracy p measured on n test items (at least 1 / n)."""
    return max(math.sqrt(max(p * (1 - p), 0.0) / n), 1 / n)


def above_chance(accuracy: float, chance: float, n: int) -> bool:
    """Return whether accuracy is more than NOISE_Z standard errors above chance on n items."""
    return accuracy > chance + NOISE_Z * accuracy_noise(chance, n)


def differ(a: float, b: float, n: int) -> bool:
    """Return whether accuracies a and b (each on n test items) differ by more than noise."""
    noise = math.hypot(accuracy_noise(a, n), accuracy_noise(b, n))
    return abs(a - b) > NOISE_Z * noise


def growth_exponent(lengths: Sequence[float], seconds: Sequence[float]) -> float | None:
    """Return a in seconds ∝ T^a, fitted on log-log; None with < 2 lengths or a time ≤ 0."""
    points = [(float(n), float(t)) for n, t in zip(lengths, seconds, strict=True)]
    if len({n for n, _ in points}) < 2 or any(n <= 0 or t <= 0 for n, t in points):
        return None
    logs = np.log(np.array(points))  # (P, 2): log T, log seconds
    return float(np.polyfit(logs[:, 0], logs[:, 1], 1)[0])


def growth_claim(exponent: float, band: float = PROPORTIONAL_BAND) -> str:
    """Return "slower" (exponent < 1 - band), "proportional" (within 1 ± band) or "faster"."""
    if exponent < 1 - band:
        return "slower"
    return "faster" if exponent > 1 + band else "proportional"


def ratio_claim(ratio: float, factor: float = RATIO_FACTOR) -> str:
    """Return "higher" if ratio ≥ factor, "lower" if ratio ≤ 1 / factor, else "similar"."""
    if ratio >= factor:
        return "higher"
    if ratio <= 1 / factor:
        return "lower"
    return "similar"


def first_reached(steps: Sequence[int], accuracies: Sequence[float], level: float) -> int | None:
    """Return the first step whose accuracy is ≥ level, or None if none is."""
    return next((s for s, a in zip(steps, accuracies, strict=True) if a >= level), None)


@dataclass(frozen=True)
class Contest:
    """Who won a two-model comparison, and on what grounds."""

    winner: str | None  # "a", "b", or None
    by: str  # "accuracy", "speed", "tie", "chance" (no one clearly above it) or "stopped"
    margin: float  # the gap in accuracy (a fraction) beyond which a and b differ


def contest(
    accuracy: tuple[float, float],
    reached: tuple[int | None, int | None],
    stopped: bool,
    chance: float,
    n: int,
) -> Contest:
    """Return the Contest of models a and b from their accuracies on n items and first good steps.

    A stopped run decides nothing; a winner must be clearly above chance; accuracies within noise
    are a tie unless both reached the good level, at different steps (then the sooner wins).
    """
    a, b = accuracy
    margin = NOISE_Z * math.hypot(accuracy_noise(a, n), accuracy_noise(b, n))
    if stopped:
        return Contest(None, "stopped", margin)
    if not above_chance(max(a, b), chance, n):
        return Contest(None, "chance", margin)
    if differ(a, b, n):
        return Contest("a" if a > b else "b", "accuracy", margin)
    if None not in reached and reached[0] != reached[1]:
        return Contest("a" if reached[0] < reached[1] else "b", "speed", margin)
    return Contest(None, "tie", margin)


def shuffle_claim(
    accuracy: Mapping[tuple[str, bool], float],
    archs: Sequence[str],
    blind: Sequence[str],
    chance: float,
    n: int,
) -> str | None:
    """Return which reading of an ordered-against-shuffled ablation the accuracies support.

    "untrained": a model built on order or locality is not clearly above chance with time in
    order, so its drop means nothing yet; "contrast": every order-blind model's two accuracies
    agree within noise and every other model lost more than noise; None: neither holds.
    """
    biased = [a for a in archs if a not in blind]
    if any(not above_chance(accuracy[a, False], chance, n) for a in biased):
        return "untrained"
    if not biased or len(biased) == len(archs):  # a contrast needs both kinds
        return None
    kept = [not differ(accuracy[a, False], accuracy[a, True], n) for a in archs if a in blind]
    lost = [
        accuracy[a, False] > accuracy[a, True] and differ(accuracy[a, False], accuracy[a, True], n)
        for a in biased
    ]
    return "contrast" if all(kept) and all(lost) else None


@dataclass(frozen=True)
class KmaxAnswer:
    """One channel's answer to k-max's question: did you see this feature up to k times?"""

    k: int
    fired: int  # positions of the whole map where the channel is > 0
    seen_at: tuple[int, ...]  # the kept positions whose value is > 0, in time order


def kmax_answer(
    last: np.ndarray, kept: np.ndarray, kept_values: np.ndarray, channel: int
) -> KmaxAnswer:
    """Return channel's KmaxAnswer from the (C, T) last map and its (C, k) kept positions/values."""
    row = np.asarray(kept_values)[channel]
    seen = np.asarray(kept)[channel][row > 0]
    return KmaxAnswer(len(row), int((np.asarray(last)[channel] > 0).sum()), tuple(map(int, seen)))


def kmax_seen(kept_values: np.ndarray) -> np.ndarray:
    """Return (C,): per channel, how many of its k kept values are > 0 (a ReLU unit that fired)."""
    return (np.asarray(kept_values) > 0).sum(axis=1)
