"""The training page's "what to notice" sentences, each chosen by engine.cnn's claims."""

from __future__ import annotations

import math

import torch

from engine.cnn import (
    COLOUR_BY,
    SAME_WITHIN,
    accuracy_gap,
    colour_shift,
    compare_filters,
    filter_drift,
    summarise_history,
)
from engine.core import ExplorerError

__all__ = ["filters_notice", "loss_notice"]

_GAP = {
    "above": "{gap:.1%} above validation",
    "below": "{gap:.1%} below validation",
    None: "the same as validation to within {within:.1%}",
}
_COLOUR = {
    "brightness": "their weight moved towards brightness patterns, such as outlines and stripes",
    "colour": "their weight moved towards colour differences",
    None: "within {by:.0%} of each other, so no clear shift towards colour or brightness",
}


def loss_notice(history, k: int) -> str:
    """Return the "what to notice" of a finished run's curves (k classes)."""
    h = summarise_history(history)
    first, last = h.first, h.last
    gap = _GAP[accuracy_gap(last.train_acc, last.val_acc)].format(
        gap=abs(h.gap), within=SAME_WITHIN
    )
    return (
        f"**What to notice.** The loss went from {first.loss:.3f} (mean of the first "
        f"{first.step} steps; guessing scores ln {k} = {math.log(k):.3f}) to "
        f"{last.loss:.3f}. Validation accuracy ended at {last.val_acc:.1%} (chance "
        f"{1 / k:.1%}), its best was {h.best.val_acc:.1%} at step {h.best.step}. Training "
        f"accuracy over the last {h.last_steps} steps was {last.train_acc:.1%}, {gap}."
        + (
            ""
            if math.isfinite(last.loss)
            else " The loss is no longer a number: the steps were so large that the weights "
            "overflowed. Lower η and train again."
        )
    )


def filters_notice(w0: torch.Tensor, w: torch.Tensor, step: int) -> str:
    """Return the "what to notice" for first-layer weights w0 (step 0) and w (now)."""
    drift = filter_drift(w0, w)
    text = (
        f"**What to notice.** Between step 0 and step {step:,} the first-layer weights moved by "
        f"{drift.moved:.0%} of their initial size (‖W − W₀‖ / ‖W₀‖). "
        f"The share of a filter's weight that differs between the colour channels went from "
        f"{drift.start_colour:.0%} to {drift.colour:.0%} on average: "
        + _COLOUR[colour_shift(drift.start_colour, drift.colour)].format(by=COLOUR_BY)
    )
    return text + _kernel_part(w0, w)


def _kernel_part(w0: torch.Tensor, w: torch.Tensor) -> str:
    """Return how close the filters are to the classic kernels now and at their start."""
    try:
        comparison = compare_filters(w, w0)
    except ExplorerError:  # 1×1 kernels: no spatial pattern to compare
        return ". With 1×1 kernels a filter has no extent: it can only weigh colours."
    return (
        f". Averaged over colour, each filter's closest classic kernel (Sobel, Gabor, Laplacian, "
        f"blur…) now matches it with |cos| {comparison.mean_best:.2f} on average, "
        f"against {comparison.mean_start_best:.2f} for the random start. Closest now: "
        + ", ".join(f"{name} ×{n}" for name, n in comparison.closest_counts()[:4])
        + "."
    )
