"""Kernel design: why 3×3, why 1×1, why 1×n then n×1, and why kernels are odd-sized.

design.py counts what a stack of convolutions costs and sees; parity.py compares odd and even
kernels; factoring.py turns stacks into one kernel and one kernel into a stack; checks.py holds
the package's argument checks.
"""

from __future__ import annotations

from engine.kernels.checks import KernelDesignError
from engine.kernels.design import (
    MAX_CHANNELS,
    MAX_SIDE,
    Conv,
    DesignCost,
    bottleneck_branch,
    design_cost,
    design_model,
    factorised_pair,
    stacked_vs_single,
)
from engine.kernels.factoring import (
    STACK_MID_CHANNELS,
    Separability,
    StackOnImage,
    best_single_kernel,
    pixel_mlp,
    random_kernel,
    rank_one_split,
    separability,
    stack_on_image,
)
from engine.kernels.parity import (
    CENTRED_SHIFT,
    DRIFT_KERNELS,
    EXACT_FIT,
    STEP_KERNELS,
    DriftSummary,
    WidthFit,
    WidthFitSummary,
    centred_difference_fits,
    centroid_drift,
    drift_summary,
    same_offsets,
    shift_words,
    step_responses,
    width_fit_summary,
)

__all__ = [
    "CENTRED_SHIFT",
    "Conv",
    "DRIFT_KERNELS",
    "DesignCost",
    "DriftSummary",
    "EXACT_FIT",
    "KernelDesignError",
    "MAX_CHANNELS",
    "MAX_SIDE",
    "STACK_MID_CHANNELS",
    "STEP_KERNELS",
    "Separability",
    "StackOnImage",
    "WidthFit",
    "WidthFitSummary",
    "best_single_kernel",
    "bottleneck_branch",
    "centred_difference_fits",
    "centroid_drift",
    "design_cost",
    "design_model",
    "drift_summary",
    "factorised_pair",
    "pixel_mlp",
    "random_kernel",
    "rank_one_split",
    "same_offsets",
    "separability",
    "shift_words",
    "stack_on_image",
    "stacked_vs_single",
    "step_responses",
    "width_fit_summary",
]
