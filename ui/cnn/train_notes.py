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
from engine.core import N_, ExplorerError
from ui.cnn.names import kernel_name
from ui.i18n import t

__all__ = ["filters_notice", "loss_notice"]

_GAP = {
    "above": N_("{gap} above validation"),
    "below": N_("{gap} below validation"),
    None: N_("the same as validation to within {within}"),
}
_COLOUR = {
    "brightness": N_(
        "their weight moved towards brightness patterns, such as outlines and stripes"
    ),
    "colour": N_("their weight moved towards colour differences"),
    None: N_("within {by} of each other, so no clear shift towards colour or brightness"),
}


def loss_notice(history, k: int) -> str:
    """Return the "what to notice" of a finished run's curves (k classes)."""
    h = summarise_history(history)
    first, last = h.first, h.last
    gap = t(
        _GAP[accuracy_gap(last.train_acc, last.val_acc)],
        gap=f"{abs(h.gap):.1%}",
        within=f"{SAME_WITHIN:.1%}",
    )
    text = t(
        "**What to notice.** The loss went from {first} (mean of the first {steps} steps; "
        "guessing scores ln {k} = {guess}) to {last}. Validation accuracy ended at {val} (chance "
        "{chance}), its best was {best} at step {best_step}. Training accuracy over the last "
        "{last_steps} steps was {train}, {gap}.",
        first=f"{first.loss:.3f}",
        steps=first.step,
        k=k,
        guess=f"{math.log(k):.3f}",
        last=f"{last.loss:.3f}",
        val=f"{last.val_acc:.1%}",
        chance=f"{1 / k:.1%}",
        best=f"{h.best.val_acc:.1%}",
        best_step=h.best.step,
        last_steps=h.last_steps,
        train=f"{last.train_acc:.1%}",
        gap=gap,
    )
    if math.isfinite(last.loss):
        return text
    return text + t(
        " The loss is no longer a number: the steps were so large that the weights overflowed. "
        "Lower η and train again."
    )


def filters_notice(w0: torch.Tensor, w: torch.Tensor, step: int) -> str:
    """Return the "what to notice" for first-layer weights w0 (step 0) and w (now)."""
    drift = filter_drift(w0, w)
    shift = t(_COLOUR[colour_shift(drift.start_colour, drift.colour)], by=f"{COLOUR_BY:.0%}")
    text = t(
        "**What to notice.** Between step 0 and step {step} the first-layer weights moved by "
        "{moved} of their initial size (‖W − W₀‖ / ‖W₀‖). The share of a filter's weight that "
        "differs between the colour channels went from {start} to {now} on average: {shift}",
        step=f"{step:,}",
        moved=f"{drift.moved:.0%}",
        start=f"{drift.start_colour:.0%}",
        now=f"{drift.colour:.0%}",
        shift=shift,
    )
    return text + _kernel_part(w0, w)


def _kernel_part(w0: torch.Tensor, w: torch.Tensor) -> str:
    """Return how close the filters are to the classic kernels now and at their start."""
    try:
        comparison = compare_filters(w, w0)
    except ExplorerError:  # 1×1 kernels: no spatial pattern to compare
        return t(". With 1×1 kernels a filter has no extent: it can only weigh colours.")
    return t(
        ". Averaged over colour, each filter's closest classic kernel (Sobel, Gabor, Laplacian, "
        "blur…) now matches it with |cos| {now} on average, against {start} for the random "
        "start. Closest now: {closest}.",
        now=f"{comparison.mean_best:.2f}",
        start=f"{comparison.mean_start_best:.2f}",
        closest=t(", ").join(
            f"{kernel_name(name)} ×{n}" for name, n in comparison.closest_counts()[:4]
        ),
    )
