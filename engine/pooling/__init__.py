"""Pooling and the operations between layers: what they keep and what they forgive.

operations.py pools a feature map (max, average, L2, k-max) and computes the book's examples;
stability.py measures how pooled maps survive shifts, warps.py rotations and rescaling;
between_layers.py shows dropout and normalization; errors.py holds PoolingError, the
package's own error.
"""

from __future__ import annotations

from engine.pooling.between_layers import (
    BN_MOMENTUM,
    NORMALISED_BAND,
    NormDemo,
    batchnorm_demo,
    dropout_demo,
    eval_variance_claim,
    layernorm_demo,
    quarters_batch,
    survived_fraction,
)
from engine.pooling.errors import PoolingError
from engine.pooling.operations import (
    POOL_METHODS,
    DotMove,
    detector_map,
    dot_move,
    global_pool,
    kmax_positions,
    moving_dot,
    pool2d,
    valid_maps,
    worked_examples,
)
from engine.pooling.stability import (
    COMPARISONS,
    SHIFT_DIRECTIONS,
    STABILITY_METHODS,
    STABILITY_TOL,
    ShiftFindings,
    consistency,
    shift_findings,
    shift_stability,
    stability_kernels,
    stability_pipeline,
    steadiest,
)
from engine.pooling.warps import rotation_stability, scale_stability

__all__ = [
    "BN_MOMENTUM",
    "COMPARISONS",
    "DotMove",
    "NORMALISED_BAND",
    "NormDemo",
    "POOL_METHODS",
    "PoolingError",
    "SHIFT_DIRECTIONS",
    "STABILITY_METHODS",
    "STABILITY_TOL",
    "ShiftFindings",
    "batchnorm_demo",
    "consistency",
    "detector_map",
    "dot_move",
    "dropout_demo",
    "eval_variance_claim",
    "global_pool",
    "kmax_positions",
    "layernorm_demo",
    "moving_dot",
    "pool2d",
    "quarters_batch",
    "rotation_stability",
    "scale_stability",
    "shift_findings",
    "shift_stability",
    "steadiest",
    "stability_kernels",
    "stability_pipeline",
    "survived_fraction",
    "valid_maps",
    "worked_examples",
]
