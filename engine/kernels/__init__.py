"""Kernel design: why 3×3, why 1×1, why 1×n then n×1, and why kernels are odd-sized.

design.py counts what a stack of convolutions costs and sees; parity.py compares odd and even
kernels; factoring.py turns stacks into one kernel and one kernel into a stack; checks.py holds
the package's argument checks.
"""

from __future__ import annotations

from engine.kernels.design import (
    MAX_CHANNELS,
    MAX_SIDE,
    DesignCost,
    bottleneck_branch,
    factorised_pair,
    stacked_vs_single,
)
from engine.kernels.factoring import (
    Separability,
    StackOnImage,
    pixel_mlp,
    random_kernel,
    separability,
    stack_on_image,
)
from engine.kernels.parity import (
    STEP_KERNELS,
    WidthFit,
    centred_difference_fits,
    centroid_drift,
    step_responses,
)

__all__ = [
    "DesignCost",
    "MAX_CHANNELS",
    "MAX_SIDE",
    "STEP_KERNELS",
    "Separability",
    "StackOnImage",
    "WidthFit",
    "bottleneck_branch",
    "centred_difference_fits",
    "centroid_drift",
    "factorised_pair",
    "pixel_mlp",
    "random_kernel",
    "separability",
    "stack_on_image",
    "stacked_vs_single",
    "step_responses",
]
