"""The convolution operation: what it computes, how big its output is, what it costs and buys.

operation.py applies kernels to an image and opens one output pixel; arithmetic.py gives output
sizes and the steps of a slide (also transposed); kernel_bank.py the hand-made kernels; matrix.py
convolution as a sparse matrix; smoothing_1d.py the one-dimensional example; layer_costs.py and
sparse_interactions.py what weight sharing and local connections save; symmetry.py which
transformations a convolution commutes with.
"""

from __future__ import annotations

from engine.conv.arithmetic import (
    ConvConfigError,
    accumulated_outputs,
    accumulated_stamps,
    conv_output_size,
    conv_steps,
    matrix_step_error,
    padded_grid,
    resolve_padding,
    small_grid,
    small_kernel,
    step_products,
    transposed_conv2d,
    transposed_full_size,
    transposed_output_size,
    transposed_steps,
)
from engine.conv.kernel_bank import KERNEL_NAMES, KERNEL_SIZES, kernel_description, make_kernel
from engine.conv.layer_costs import (
    LayerSizeError,
    conv2d,
    dense,
    locally_connected,
    rnn,
    shared_1d,
    sparse_1d,
    unshared_recurrent,
)
from engine.conv.matrix import conv_matrix_1d, conv_matrix_2d, dense_matrix, matrix_stats
from engine.conv.operation import (
    NONLINEARITIES,
    PADDING_MODES,
    POOLS,
    convolve2d_direct,
    feature_maps,
    flip_kernel,
    layer_stages,
    patch_arithmetic,
    resize_image,
)
from engine.conv.smoothing_1d import AGE_KERNELS, age_kernel, causal_smooth, spacecraft_track
from engine.conv.sparse_interactions import (
    KINDS,
    WEIGHT_BUDGET,
    LocallyConnected2d,
    TimingRow,
    affected_outputs_1d,
    influence_1d,
    time_layers,
)
from engine.conv.symmetry import (
    MAX_KERNELS,
    EquivarianceCheck,
    comparison_disk,
    edge_map_everywhere,
    rescale,
    rotate,
    rotation_errors,
    scale_errors,
    scales_that_fit,
    shift,
    translation_equivariance,
)

__all__ = [
    "AGE_KERNELS",
    "ConvConfigError",
    "EquivarianceCheck",
    "KERNEL_NAMES",
    "KERNEL_SIZES",
    "KINDS",
    "LayerSizeError",
    "LocallyConnected2d",
    "MAX_KERNELS",
    "NONLINEARITIES",
    "PADDING_MODES",
    "POOLS",
    "TimingRow",
    "WEIGHT_BUDGET",
    "accumulated_outputs",
    "accumulated_stamps",
    "affected_outputs_1d",
    "age_kernel",
    "causal_smooth",
    "comparison_disk",
    "conv2d",
    "conv_matrix_1d",
    "conv_matrix_2d",
    "conv_output_size",
    "conv_steps",
    "convolve2d_direct",
    "dense",
    "dense_matrix",
    "edge_map_everywhere",
    "feature_maps",
    "flip_kernel",
    "influence_1d",
    "kernel_description",
    "layer_stages",
    "locally_connected",
    "make_kernel",
    "matrix_stats",
    "matrix_step_error",
    "padded_grid",
    "patch_arithmetic",
    "rescale",
    "resize_image",
    "resolve_padding",
    "rnn",
    "rotate",
    "rotation_errors",
    "scale_errors",
    "scales_that_fit",
    "shared_1d",
    "shift",
    "small_grid",
    "small_kernel",
    "spacecraft_track",
    "sparse_1d",
    "step_products",
    "time_layers",
    "translation_equivariance",
    "transposed_conv2d",
    "transposed_full_size",
    "transposed_output_size",
    "transposed_steps",
    "unshared_recurrent",
]
