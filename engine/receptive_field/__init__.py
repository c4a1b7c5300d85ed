"""Receptive fields: how much of the input one unit sees, in theory and in use.

fields.py is the layer-by-layer recurrence for a stack of layers; network.py traces a real
network (trace.py follows its torch calls, ops.py reads each spatial op's settings); effective.py
measures the effective receptive field from gradients; claims.py says which growth sentences the
measurements support; views.py gives the geometry and summaries a page draws (a unit's box, the
middle unit, the share of a map above a level).
"""

from __future__ import annotations

from engine.receptive_field.claims import (
    POWER_TOLERANCE,
    WIDER_FACTOR,
    growth_exponent,
    power_words,
    response_width,
    widths_grow,
)
from engine.receptive_field.effective import effective_receptive_field, erf_growth
from engine.receptive_field.fields import (
    VGG_LIKE_STACK,
    LayerRF,
    ReceptiveFieldError,
    stack_model,
    stack_rf,
)
from engine.receptive_field.network import layer_output, receptive_field
from engine.receptive_field.views import (
    ERF_LEVEL,
    EXTENT_TOLERANCE,
    MOST_EXTENT,
    SMALL_EXTENT,
    WIDE_SIDE,
    carry_unit,
    centre_crop,
    doubling_dilations,
    erf_change_words,
    erf_extent,
    erf_extent_words,
    erf_share,
    layers_beyond_image,
    middle_spans,
    middle_unit,
    sqrt_guide,
    unit_box,
)

__all__ = [
    "ERF_LEVEL",
    "EXTENT_TOLERANCE",
    "LayerRF",
    "MOST_EXTENT",
    "POWER_TOLERANCE",
    "ReceptiveFieldError",
    "SMALL_EXTENT",
    "VGG_LIKE_STACK",
    "WIDER_FACTOR",
    "WIDE_SIDE",
    "carry_unit",
    "centre_crop",
    "doubling_dilations",
    "effective_receptive_field",
    "erf_change_words",
    "erf_extent",
    "erf_extent_words",
    "erf_growth",
    "erf_share",
    "growth_exponent",
    "layer_output",
    "layers_beyond_image",
    "middle_spans",
    "middle_unit",
    "power_words",
    "receptive_field",
    "response_width",
    "sqrt_guide",
    "stack_model",
    "stack_rf",
    "unit_box",
    "widths_grow",
]
