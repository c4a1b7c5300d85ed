"""The numbers the sequence pages' "what to notice" sentences are built from.

Each function reduces an engine result (through_both, swap_sensitivity, MNIST-1D arrays, trained
runs) to the few figures a sentence states, and returns the verdicts those figures decide, so the
pages only format them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.sequence.order import OrderSensitivity
from engine.sequence.verdicts import ratio_claim

__all__ = [
    "ORDER_BLIND",
    "KmaxCoverage",
    "ShuffleContrast",
    "SwapSummary",
    "firing_at",
    "kmax_coverage",
    "loudest_step",
    "neighbour_jump",
    "peak_spread",
    "seconds_per_step",
    "shuffle_contrast",
    "swap_summary",
]

ORDER_BLIND = ("linear", "mlp")  # every input has its own weight: a permutation costs them nothing
STILL = 1e-6  # a change below STILL · (1 + ‖vector‖) is rounding, not a move


def loudest_step(first_layer: np.ndarray) -> int:
    """Return the time step at which any channel of a (C, T) map is largest (earliest on ties)."""
    return int(np.argmax(np.asarray(first_layer).max(axis=0)))


def firing_at(maps: np.ndarray, t: int) -> tuple[int | None, int]:
    """Return (the channel of (C, T) maps strongest at t, or None if none is > 0; channels > 0)."""
    column = np.asarray(maps)[:, t]
    strongest = int(np.argmax(column))
    return (strongest if column[strongest] > 0 else None), int((column > 0).sum())


@dataclass(frozen=True)
class KmaxCoverage:
    """How much of the input reaches the k-max summary, and its largest value."""

    covered: int  # input samples inside the window of at least one kept unit
    length: int
    top_channel: int  # channel and rank (in time order) of the largest kept value
    top_rank: int


def kmax_coverage(kept: np.ndarray, kept_values: np.ndarray, windows: np.ndarray) -> KmaxCoverage:
    """Return the KmaxCoverage of kept (C, k) positions with their values; windows: (T, 2)."""
    windows = np.asarray(windows)
    covered = np.zeros(len(windows), bool)
    for p in np.unique(kept):
        covered[windows[p][0] : windows[p][1] + 1] = True
    top_c, top_i = np.unravel_index(int(np.argmax(kept_values)), np.shape(kept_values))
    return KmaxCoverage(int(covered.sum()), len(windows), int(top_c), int(top_i))


@dataclass(frozen=True)
class SwapSummary:
    """What the swaps of an OrderSensitivity did to each model's final vector."""

    swaps: int
    still: int  # swaps that left the CNN's vector where it was
    moved: int  # swaps that moved it
    touching: int  # of those, swaps touching the input window of a unit k-max pooling kept
    early: float | None  # the RNN's mean change for swaps in the first quarter (None: no such swap)
    late: float | None  # ... in the last quarter
    rnn_floor: float  # changes of h_T below this are rounding: STILL · (1 + ‖h_T‖)

    @property
    def rnn_trend(self) -> str | None:
        """Return how late swaps moved h_T against early ones, or None if a quarter is empty.

        "later" / "earlier": that quarter's mean change is ≥ RATIO_FACTOR × the other's (a change
        below rnn_floor counts as none); "similar": within that factor; "none": neither moved.
        """
        if self.early is None or self.late is None:
            return None
        early, late = (v if v >= self.rnn_floor else 0.0 for v in (self.early, self.late))
        if early == late == 0.0:
            return "none"
        if early == 0.0 or late == 0.0:
            return "later" if late else "earlier"
        return {"higher": "later", "lower": "earlier", "similar": "similar"}[
            ratio_claim(late / early)
        ]


def swap_summary(order: OrderSensitivity, kept_windows: np.ndarray, length: int) -> SwapSummary:
    """Return the SwapSummary of order; kept_windows: (m, 2) input spans of the kept units."""
    kept_windows = np.asarray(kept_windows).reshape(-1, 2)
    moves = order.cnn_change > STILL * (1 + order.cnn_norm)
    moved = order.positions[moves]
    touching = [((kept_windows[:, 0] <= s + 1) & (kept_windows[:, 1] >= s)).any() for s in moved]
    quarter = length / 4
    early = order.rnn_change[order.positions < quarter]
    late = order.rnn_change[order.positions >= 3 * quarter]
    return SwapSummary(
        swaps=int(order.positions.size),
        still=int((~moves).sum()),
        moved=int(moves.sum()),
        touching=int(sum(touching)),
        early=float(early.mean()) if early.size else None,
        late=float(late.mean()) if late.size else None,
        rnn_floor=STILL * (1 + order.rnn_norm),
    )


def seconds_per_step(seconds: float, steps: int) -> float:
    """Return seconds / steps, with no division by zero for a run stopped before its first step."""
    return seconds / max(steps, 1)


def peak_spread(x: np.ndarray, y: np.ndarray, classes: int = 10) -> np.ndarray:
    """Return (classes,): per class, the standard deviation of the step where a sample peaks."""
    peak_at = np.asarray(x).argmax(axis=1)
    return np.array([peak_at[np.asarray(y) == c].std() for c in range(classes)])


def neighbour_jump(x: np.ndarray) -> float:
    """Return the mean |x[:, t + 1] − x[:, t]| over all sequences (rows) and steps."""
    return float(np.abs(np.diff(np.asarray(x, dtype=np.float64), axis=1)).mean())


@dataclass(frozen=True)
class ShuffleContrast:
    """Accuracy lost to shuffled time, in points, and the two kinds of model compared."""

    drops: dict[str, float]  # arch -> ordered minus shuffled accuracy, in percentage points
    worst_blind: float | None  # largest |drop| of an order-blind model (None: none compared)
    least_biased: float | None  # smallest drop of a model built on locality or order


def shuffle_contrast(accuracy: dict[tuple[str, bool], float], archs: list[str]) -> ShuffleContrast:
    """Return the ShuffleContrast of accuracy[(arch, shuffled)] (fractions) over archs."""
    drops = {a: 100 * (accuracy[a, False] - accuracy[a, True]) for a in archs}
    blind = [abs(drops[a]) for a in archs if a in ORDER_BLIND]
    biased = [drops[a] for a in archs if a not in ORDER_BLIND]
    return ShuffleContrast(drops, max(blind) if blind else None, min(biased) if biased else None)
