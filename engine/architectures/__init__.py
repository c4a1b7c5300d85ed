"""Classic CNNs, built as their reference implementations build them, and measured.

registry.py names the nine networks and builds one; alexnet_vgg, inception, resnet, senet and
densenet hold one family each; init.py draws their weights with a local generator; stats.py
counts depth, parameters and multiply-adds and traces what each layer sees; compare.py
states the comparisons the page words from those numbers.
"""

from __future__ import annotations

from engine.architectures.compare import (
    LOSS_TOLERANCE,
    RESNET_VERSION,
    TREND_FACTOR,
    CostComparison,
    DepthVerdict,
    GradientTrend,
    TableSummary,
    cost_comparison,
    dense_part,
    depth_verdict,
    flops_ratio,
    gradient_spread,
    gradient_trend,
    parameter_ratio,
    shortcut_effect,
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
    bottleneck_stride,
    design_constants,
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
    "CostComparison",
    "DILATED_SIDE",
    "DILATION_RATES",
    "DepthVerdict",
    "EDGE_KERNELS",
    "GradientTrend",
    "HandSetInception",
    "LOSS_TOLERANCE",
    "RESNET_VERSION",
    "TREND_FACTOR",
    "TableSummary",
    "UnknownArchitectureError",
    "arch_stats",
    "arch_table",
    "bottleneck_stride",
    "build",
    "conv1x1",
    "cost_comparison",
    "dense_part",
    "depth_verdict",
    "design_constants",
    "dilated_extent",
    "dilated_scales",
    "final_field",
    "flops_ratio",
    "googlenet_branches",
    "gradient_spread",
    "gradient_trend",
    "inception_on_image",
    "layer_rows",
    "longest_weight_path",
    "parameter_ratio",
    "shortcut_effect",
    "smoothing_steps",
    "table_summary",
]
