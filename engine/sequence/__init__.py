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
    DEFAULT_STEPS,
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
from engine.sequence.tasks import TASK_ARCHS, TASKS, TaskResult, make_batch, synthetic_task
from engine.sequence.text import MAX_LENGTH, SequenceError, ngram_filters, parse_sequence

__all__ = [
    "ARCHS",
    "ARCH_TITLES",
    "ConvBase",
    "DEFAULT_STEPS",
    "FitResult",
    "MAX_DEPTH_LENGTH",
    "MAX_LENGTH",
    "PUBLISHED_ACCURACY",
    "PUBLISHED_ACCURACY_SHUFFLED",
    "PUBLISHED_SOURCE",
    "SEQ_LEN",
    "SequenceError",
    "SequentialDepth",
    "TASKS",
    "TASK_ARCHS",
    "TaskResult",
    "TrainingConfigError",
    "UnknownArchError",
    "arrays",
    "build_model",
    "conv_stack",
    "count_parameters",
    "examples_per_class",
    "fit_mnist1d",
    "kmax_over_time",
    "load_mnist1d",
    "make_batch",
    "ngram_filters",
    "parse_sequence",
    "sequential_steps",
    "swap_sensitivity",
    "synthetic_task",
    "tcn_dilations",
    "through_both",
    "time_per_batch",
    "time_permutation",
]
