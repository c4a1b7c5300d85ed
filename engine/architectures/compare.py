"""What do the measured tables say? Ratios and comparisons the architectures page words.

The page states each comparison from these numbers: how two networks' sizes compare, which
networks' fields outgrow the image, and how plain and residual stacks of two depths end up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.architectures.stats import ArchStats, ArchStatsError, LayerRow

LOSS_TOLERANCE = 0.05  # nats: final losses closer than this count as level (run-to-run noise)
TREND_FACTOR = 2.0  # gradient_trend: first over last hidden layer beyond this factor is a trend


def parameter_ratio(table: Sequence[ArchStats], name: str, reference: str) -> float:
    """Return name's parameter count over reference's, both taken from the table."""
    by_name = {s.name: s for s in table}
    for key in (name, reference):
        if key not in by_name:
            raise ArchStatsError("No network named {key!r} in the table.", key=key)
    return by_name[name].params / by_name[reference].params


RESNET_VERSION = {"1×1": "v1", "3×3": "v1.5"}  # which bottleneck conv strides, by layout name


@dataclass(frozen=True)
class CostComparison:
    """Two networks' FLOPs side by side, and where each one's bottlenecks stride."""

    name: str  # title of the first network
    reference: str  # title of the second
    flops: float
    reference_flops: float
    stride: str | None  # "1×1", "3×3" or None (no bottlenecks)
    reference_stride: str | None

    @property
    def cheaper(self) -> bool:
        """Return True when the first network needs fewer FLOPs than the reference."""
        return self.flops < self.reference_flops

    @property
    def layouts_differ(self) -> bool:
        """Return True when both have bottlenecks that stride on different convolutions."""
        return None not in (self.stride, self.reference_stride) and (
            self.stride != self.reference_stride
        )


def dense_part(rows: Sequence[LayerRow], params: int) -> tuple[int, float]:
    """Return (number of dense layers, their share of `params`) from a network's layer rows."""
    if params <= 0:
        raise ArchStatsError("A network's parameter count must be positive.")
    dense = [r for r in rows if r.kind == "linear"]
    return len(dense), sum(r.params for r in dense) / params


def flops_ratio(table: Sequence[ArchStats], name: str, reference: str) -> float:
    """Return name's FLOPs over reference's, both from the table."""
    rows = {s.name: s for s in table}
    for key in (name, reference):
        if key not in rows:
            raise ArchStatsError("No network named {key!r} in the table.", key=key)
    return rows[name].flops / rows[reference].flops


def cost_comparison(table: Sequence[ArchStats], name: str, reference: str) -> CostComparison:
    """Return the FLOPs and bottleneck stride layouts of two networks of the table."""
    by_name = {s.name: s for s in table}
    for key in (name, reference):
        if key not in by_name:
            raise ArchStatsError("No network named {key!r} in the table.", key=key)
    a, b = by_name[name], by_name[reference]
    return CostComparison(
        a.title, b.title, a.flops, b.flops, a.bottleneck_stride, b.bottleneck_stride
    )


@dataclass(frozen=True)
class TableSummary:
    """What the table shows, network titles in table order."""

    first_depth: int  # depth of the first (oldest) network
    deepest: ArchStats
    heaviest: ArchStats  # most parameters
    lighter_after: tuple[str, ...]  # networks after the heaviest with fewer parameters than it
    all_later_lighter: bool  # every network after the heaviest has fewer parameters
    field_beyond_image: tuple[str, ...]  # a last-map unit's field is wider than the input
    whole_image: tuple[str, ...]  # units see the whole image through a global gate


def table_summary(table: Sequence[ArchStats]) -> TableSummary:
    """Return the depth, size and field facts the table's caption states."""
    if not table:
        raise ArchStatsError("The table is empty.")
    heaviest_at = max(range(len(table)), key=lambda i: table[i].params)
    heaviest = table[heaviest_at]
    later = table[heaviest_at + 1 :]
    return TableSummary(
        first_depth=table[0].depth,
        deepest=max(table, key=lambda s: s.depth),
        heaviest=heaviest,
        lighter_after=tuple(s.title for s in later if s.params < heaviest.params),
        all_later_lighter=all(s.params < heaviest.params for s in later),
        field_beyond_image=tuple(s.title for s in table if s.rf_size > s.input_size),
        whole_image=tuple(s.title for s in table if s.global_context),
    )


def gradient_spread(norms: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Return, per stack, largest over smallest gradient norm across its hidden layers.

    The last entry of each profile is the output layer, which starts small by design (its own
    scale), so it is left out.
    """
    spread = {}
    for name, values in norms.items():
        hidden = np.asarray(values, dtype=float)[:-1]
        if hidden.size == 0 or not np.all(hidden > 0):
            raise ArchStatsError(
                "{name} needs positive gradient norms on its hidden layers.", name=name
            )
        spread[name] = float(hidden.max() / hidden.min())
    return spread


@dataclass(frozen=True)
class DepthVerdict:
    """How a deeper stack's final training loss compares with a shallower one's, per kind."""

    plain_gap: float  # deep − shallow final loss, plain stacks (nats)
    residual_gap: float  # the same for residual stacks
    tolerance: float

    @property
    def plain_degrades(self) -> bool:
        """Return True when the deeper plain stack ends measurably worse."""
        return self.plain_gap > self.tolerance

    @property
    def residual_keeps_up(self) -> bool:
        """Return True when the deeper residual stack ends no measurably worse."""
        return self.residual_gap <= self.tolerance


def depth_verdict(
    plain: tuple[float, float],
    residual: tuple[float, float],
    tolerance: float = LOSS_TOLERANCE,
) -> DepthVerdict:
    """Return the verdict on (shallow, deep) final losses of the plain and residual stacks."""
    return DepthVerdict(plain[1] - plain[0], residual[1] - residual[0], tolerance)


def smoothing_steps(decay: float) -> float:
    """Return the steps after which an exponential moving average's weight on a value falls e-fold.

    A value k steps old weighs decay**k times the newest, so the weight reaches 1/e at
    k = −1 / ln(decay): about 1 / (1 − decay) for decay near 1.
    """
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay < 1:
        raise ArchStatsError("The decay must be in (0, 1), got {decay!r}.", decay=decay)
    return -1 / math.log(decay)


@dataclass(frozen=True)
class GradientTrend:
    """How one stack's gradient norm changes from its last hidden layer back to its first."""

    ratio: float  # first hidden layer's norm over the last hidden layer's
    spread: float  # largest over smallest norm across the hidden layers
    factor: float  # the threshold TREND_FACTOR the words were chosen with

    @property
    def words(self) -> str:
        """Return "grows", "shrinks" or "stays within a factor of …" toward the input."""
        if self.ratio > self.factor:
            return "grows"
        if self.ratio < 1 / self.factor:
            return "shrinks"
        return f"stays within a factor of {self.factor:g}"


def gradient_trend(norms: np.ndarray, factor: float = TREND_FACTOR) -> GradientTrend:
    """Return the trend of one stack's per-layer gradient norms (input first, output layer last).

    The output layer, last, starts small by design and is left out, as in gradient_spread.
    """
    hidden = np.asarray(norms, dtype=float)[:-1]
    if hidden.size < 2 or not np.all(hidden > 0):
        raise ArchStatsError("A trend needs positive gradient norms on two hidden layers or more.")
    if not factor > 1:
        raise ArchStatsError("The factor must exceed 1, got {factor!r}.", factor=factor)
    return GradientTrend(
        float(hidden[0] / hidden[-1]), float(hidden.max() / hidden.min()), float(factor)
    )


def shortcut_effect(plain: GradientTrend, residual: GradientTrend) -> str:
    """Return what shortcuts do to the spread of gradient norms: "narrow", "widen" or "keep".

    Spreads within the trend factor of each other count as kept.
    """
    if residual.spread * plain.factor < plain.spread:
        return "narrow"
    if residual.spread > plain.spread * plain.factor:
        return "widen"
    return "keep"
