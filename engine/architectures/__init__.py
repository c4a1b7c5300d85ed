"""Classic CNNs, built as their reference implementations build them, and measured.

registry.py names the nine networks and builds one; alexnet_vgg, inception, resnet, senet and
densenet hold one family each; init.py draws their weights with a local generator; stats.py
counts depth, parameters and multiply-adds and traces what each layer sees; compare.py
states the comparisons the page words from those numbers.
"""

from __future__ import annotations

from engine.architectures.compare import (
    LOSS_TOLERANCE,
    DepthVerdict,
    TableSummary,
    depth_verdict,
    gradient_spread,
    parameter_ratio,
    smoothing_steps,
    table_summary,
)
from engine.architectures.registry import ARCHITECTURES, UnknownArchitectureError, build
from engine.architectures.resnet import Bottleneck, conv1x1
from engine.architectures.stats import (
    BRANCH_NAMES,
    COLOUR_MIXES,
    DILATED_SIDE,
    DILATION_RATES,
    EDGE_KERNELS,
    ArchStatsError,
    HandSetInception,
    arch_stats,
    arch_table,
    dilated_extent,
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
    "DILATED_SIDE",
    "DILATION_RATES",
    "DepthVerdict",
    "EDGE_KERNELS",
    "HandSetInception",
    "LOSS_TOLERANCE",
    "TableSummary",
    "UnknownArchitectureError",
    "arch_stats",
    "arch_table",
    "build",
    "conv1x1",
    "depth_verdict",
    "dilated_extent",
    "dilated_scales",
    "final_field",
    "googlenet_branches",
    "gradient_spread",
    "inception_on_image",
    "layer_rows",
    "longest_weight_path",
    "parameter_ratio",
    "smoothing_steps",
    "table_summary",
]
