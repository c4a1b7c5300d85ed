"""How big is a small CNN, and how much work is a run? Sizes and costs computed from a CNNConfig.

The convolutions' multiply-adds are the bulk of a training step's work, so a run's cost is
counted in them: the training page allows at most WORK_CAP default runs (DEFAULT_STEPS steps of
the default network, CNNConfig() on the same classes). The top-patch scan is budgeted the same
way, in multiply-adds up to the layer scanned.
"""

from __future__ import annotations

from engine.cnn.small_cnn import CNNConfig, CNNError, SmallCNN
from engine.cnn.training import ABLATIONS, DEFAULT_STEPS, ablation_config
from engine.conv import conv2d

__all__ = [
    "SCAN_BUDGET",
    "TOP_PATCHES",
    "TOP_PATCHES_PER_CLASS",
    "TOP_PATCHES_SEED",
    "WORK_CAP",
    "ablation_cost",
    "conv_macs",
    "last_field",
    "map_sides",
    "max_steps_within",
    "parameter_count",
    "run_cost",
    "scan_per_class",
]

WORK_CAP = 6  # a run may cost at most this many default runs, so every page stays responsive
TOP_PATCHES_SEED = 4242  # the fixed set scanned for top-activating patches, unseen in training
TOP_PATCHES_PER_CLASS = 20  # images per class in that set, at most
TOP_PATCHES = 12  # strongest patches shown
SCAN_BUDGET = 4e9  # multiply-adds for one top-patch scan; larger models scan fewer images


def conv_macs(config: CNNConfig, upto: str | None = None) -> int:
    """Return the convolutions' multiply-adds for one image, through layer `upto` (None: all)."""
    names = [name for name, _ in config.layers()]
    if upto is not None and upto not in names:
        raise CNNError(f"No layer {upto!r}; this network has: {', '.join(names)}.")
    total, side, channels = 0, config.input_size, 3
    for name, kind in config.layers():
        if kind == "conv":
            total += conv2d(side, side, channels, config.filters, config.kernel).macs
            channels = config.filters
        elif kind == "pool":
            side //= 2
        if name == upto:
            break
    return total


def parameter_count(config: CNNConfig) -> int:
    """Return the number of trainable weights and biases of SmallCNN(config)."""
    return sum(p.numel() for p in SmallCNN(config).parameters())


def map_sides(config: CNNConfig) -> list[int]:
    """Return the feature maps' side at the input and after each block (pooling halves it)."""
    return [
        config.input_size >> b if config.pool else config.input_size
        for b in range(config.depth_blocks + 1)
    ]


def last_field(config: CNNConfig) -> int:
    """Return the receptive field side (px) of the last conv or pool layer's units."""
    return max(r for r, _, _ in SmallCNN(config).receptive_fields().values())


def run_cost(config: CNNConfig, steps: int) -> float:
    """Return the cost of `steps` steps of config in default runs (DEFAULT_STEPS of CNNConfig())."""
    return conv_macs(config) * steps / (conv_macs(CNNConfig(config.classes)) * DEFAULT_STEPS)


def max_steps_within(config: CNNConfig, cap: float = WORK_CAP) -> int:
    """Return the most steps of config that cost at most `cap` default runs."""
    base = conv_macs(CNNConfig(config.classes)) * DEFAULT_STEPS
    return int(cap * base // conv_macs(config))


def ablation_cost(classes: tuple[str, ...]) -> float:
    """Return the cost of all ABLATIONS runs, in baseline runs of the same number of steps."""
    base = CNNConfig(classes=classes)
    return sum(conv_macs(ablation_config(name, base)) for name in ABLATIONS) / conv_macs(base)


def scan_per_class(
    config: CNNConfig,
    layer: str,
    budget: float = SCAN_BUDGET,
    most: int = TOP_PATCHES_PER_CLASS,
) -> int:
    """Return how many images per class (1 to most) a scan up to `layer` can afford in budget."""
    macs = conv_macs(config, layer) * len(config.classes)
    return max(1, min(most, int(budget // max(macs, 1))))
