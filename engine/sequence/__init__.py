"""CNN against RNN on sequences: MNIST-1D, a typed sequence through both, two small tasks.

mnist1d_data.py and mnist1d_training.py train the seven models of models.py on MNIST-1D;
compare.py measures sequential depth and time, and runs one sequence through both; text.py reads
typed sequences and slides n-gram filters; tasks.py trains the motif and majority tasks; order.py
measures how much each reader cares about order.
"""

from __future__ import annotations

from engine.sequence.compare import (
    MAX_DEPTH_LENGTH,
    SequentialDepth,
    conv_stack,
    kmax_over_time,
    sequential_steps,
    through_both,
    time_per_batch,
)
from engine.sequence.mnist1d_data import (
    SEQ_LEN,
    arrays,
    examples_per_class,
    load_mnist1d,
    time_permutation,
)
from engine.sequence.mnist1d_training import (
    BATCH,
    DEFAULT_STEPS,
    EVAL_POINTS,
    LEARNING_RATE,
    PUBLISHED_ACCURACY,
    PUBLISHED_ACCURACY_SHUFFLED,
    PUBLISHED_SOURCE,
    FitResult,
    TrainingConfigError,
    fit_mnist1d,
)
from engine.sequence.models import (
    ARCH_TITLES,
    ARCHS,
    ConvBase,
    UnknownArchError,
    build_model,
    count_parameters,
    tcn_dilations,
)
from engine.sequence.order import swap_sensitivity
from engine.sequence.summaries import (
    ORDER_BLIND,
    KmaxCoverage,
    ShuffleContrast,
    SwapSummary,
    firing_at,
    kmax_coverage,
    loudest_step,
    neighbour_jump,
    peak_spread,
    seconds_per_step,
    shuffle_contrast,
    swap_summary,
)
from engine.sequence.tasks import TASK_ARCHS, TASKS, TaskResult, make_batch, synthetic_task
from engine.sequence.text import (
    MAX_FILTERS,
    MAX_LENGTH,
    MAX_NGRAM,
    MAX_TEXT,
    NgramResult,
    SequenceError,
    busiest_filter,
    ngram_filters,
    parse_sequence,
    token_strength,
    top_windows,
)

__all__ = [
    "ARCHS",
    "ARCH_TITLES",
    "BATCH",
    "ConvBase",
    "DEFAULT_STEPS",
    "EVAL_POINTS",
    "FitResult",
    "KmaxCoverage",
    "LEARNING_RATE",
    "MAX_DEPTH_LENGTH",
    "MAX_FILTERS",
    "MAX_LENGTH",
    "MAX_NGRAM",
    "MAX_TEXT",
    "NgramResult",
    "ORDER_BLIND",
    "PUBLISHED_ACCURACY",
    "PUBLISHED_ACCURACY_SHUFFLED",
    "PUBLISHED_SOURCE",
    "SEQ_LEN",
    "SequenceError",
    "SequentialDepth",
    "ShuffleContrast",
    "SwapSummary",
    "TASKS",
    "TASK_ARCHS",
    "TaskResult",
    "TrainingConfigError",
    "UnknownArchError",
    "arrays",
    "build_model",
    "busiest_filter",
    "conv_stack",
    "count_parameters",
    "examples_per_class",
    "firing_at",
    "fit_mnist1d",
    "kmax_coverage",
    "kmax_over_time",
    "load_mnist1d",
    "loudest_step",
    "make_batch",
    "neighbour_jump",
    "ngram_filters",
    "parse_sequence",
    "peak_spread",
    "seconds_per_step",
    "sequential_steps",
    "shuffle_contrast",
    "swap_sensitivity",
    "swap_summary",
    "synthetic_task",
    "tcn_dilations",
    "through_both",
    "time_per_batch",
    "time_permutation",
    "token_strength",
    "top_windows",
]
