"""Receptive fields: how much of the input one unit sees, in theory and in use.

fields.py is the layer-by-layer recurrence for a stack of layers; network.py traces a real
network (trace.py follows its torch calls, ops.py reads each spatial op's settings); effective.py
measures the effective receptive field from gradients.
"""

from __future__ import annotations

from engine.receptive_field.effective import effective_receptive_field, erf_growth
from engine.receptive_field.fields import LayerRF, ReceptiveFieldError, stack_model, stack_rf
from engine.receptive_field.network import layer_output, receptive_field

__all__ = [
    "LayerRF",
    "ReceptiveFieldError",
    "effective_receptive_field",
    "erf_growth",
    "layer_output",
    "receptive_field",
    "stack_model",
    "stack_rf",
]
