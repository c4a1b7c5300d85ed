"""Classic CNNs, built as their reference implementations build them, and measured.

registry.py names the nine networks and builds one; alexnet_vgg, inception, resnet, senet and
densenet hold one family each; init.py draws their weights with a local generator; stats.py
counts depth, parameters and multiply-adds and traces what each layer sees.
"""

from __future__ import annotations

from engine.architectures.registry import ARCHITECTURES, UnknownArchitectureError, build
from engine.architectures.resnet import Bottleneck, conv1x1
from engine.architectures.stats import (
    BRANCH_NAMES,
    COLOUR_MIXES,
    EDGE_KERNELS,
    ArchStatsError,
    HandSetInception,
    arch_stats,
    arch_table,
    dilated_scales,
    final_field,
    googlenet_branches,
    inception_on_image,
    layer_rows,
    longest_weight_path,
)

__all__ = [
    "ARCHITECTURES",
    "ArchStatsError",
    "BRANCH_NAMES",
    "Bottleneck",
    "COLOUR_MIXES",
    "EDGE_KERNELS",
    "HandSetInception",
    "UnknownArchitectureError",
    "arch_stats",
    "arch_table",
    "build",
    "conv1x1",
    "dilated_scales",
    "final_field",
    "googlenet_branches",
    "inception_on_image",
    "layer_rows",
    "longest_weight_path",
]
