"""Sizes and costs of the small CNN, against counts taken from a real forward pass.

References: multiply-adds counted by forward hooks on every nn.Conv2d (output elements × the
k·k·c_in taps each), the closed-form parameter count, feature-map shapes from forward_all,
receptive fields worked out by hand, and both sides of every budget threshold.
"""

import pytest
import torch
from torch import nn

from engine.cnn import (
    ABLATIONS,
    CLASSES,
    DEFAULT_STEPS,
    TOP_PATCHES_PER_CLASS,
    WORK_CAP,
    CNNConfig,
    CNNError,
    SmallCNN,
    ablation_config,
    ablation_cost,
    conv_macs,
    last_field,
    map_sides,
    max_steps_within,
    parameter_count,
    run_cost,
    scan_per_class,
)

CONFIGS = [
    CNNConfig(),
    CNNConfig(classes=CLASSES[:3], depth_blocks=3, filters=7, kernel=5),
    CNNConfig(depth_blocks=1, filters=4, kernel=1, pool=False),
    CNNConfig(classes=CLASSES[:2], depth_blocks=4, filters=12, kernel=7, relu=False),
]


def _hooked_macs(config: CNNConfig) -> dict[str, int]:
    """Return {conv name: multiply-adds} counted on a real forward pass of one image."""
    model = SmallCNN(config).eval()
    counts: dict[str, int] = {}
    for name, conv in model.convs.items():

        def hook(module: nn.Conv2d, _inputs, out, name=name) -> None:
            taps = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            counts[name] = out.numel() * taps

        conv.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.rand(1, 3, config.input_size, config.input_size))
    return counts


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_conv_macs_match_a_real_forward_pass(config):
    counts = _hooked_macs(config)
    assert conv_macs(config) == sum(counts.values())
    running = 0
    for name, kind in config.layers():
        if kind == "conv":
            running += counts[name]
        if kind in ("conv", "relu", "pool"):
            assert conv_macs(config, name) == running, name


def test_conv_macs_reject_an_unknown_layer():
    with pytest.raises(CNNError, match="No layer 'conv9_1'"):
        conv_macs(CNNConfig(), "conv9_1")


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_parameter_count_is_the_closed_form(config):
    k, f = config.kernel, config.filters
    convs = (k * k * 3 * f + f) + (2 * config.depth_blocks - 1) * (k * k * f * f + f)
    classifier = config.flat_features * len(config.classes) + len(config.classes)
    assert parameter_count(config) == convs + classifier
    assert parameter_count(config) == sum(p.numel() for p in SmallCNN(config).parameters())


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_map_sides_are_the_feature_map_shapes(config):
    acts = SmallCNN(config).eval().forward_all(torch.rand(1, 3, 64, 64))
    block_ends = [a.tensor.shape[-1] for a in acts if a.name.startswith("conv") and "_2" in a.name]
    sides = map_sides(config)
    assert sides[0] == config.input_size and sides[-1] == config.final_side
    if config.pool:  # each block's maps are the side before its pooling
        assert block_ends == sides[:-1]
    else:
        assert set(block_ends) == set(sides) == {config.input_size}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (CNNConfig(), 16),  # 3, 5, pool 6, 10, 14, pool 16
        (CNNConfig(depth_blocks=1), 6),  # 3, 5, pool 6
        (CNNConfig(pool=False), 9),  # four 3×3 convs: 1 + 4·2
        (CNNConfig(depth_blocks=1, kernel=5), 10),  # 5, 9, pool 10
    ],
)
def test_last_field_by_hand(config, field):
    assert last_field(config) == field


def test_run_cost_counts_default_runs():
    base = CNNConfig()
    assert run_cost(base, DEFAULT_STEPS) == pytest.approx(1.0)
    assert run_cost(base, 3 * DEFAULT_STEPS) == pytest.approx(3.0)
    wide = CNNConfig(filters=20)  # the first conv doubles, the other three quadruple
    ratio = _total(_hooked_macs(wide)) / _total(_hooked_macs(base))
    assert run_cost(wide, DEFAULT_STEPS) == pytest.approx(ratio)


def _total(counts: dict[str, int]) -> int:
    return sum(counts.values())


@pytest.mark.parametrize("config", CONFIGS, ids=range(len(CONFIGS)))
def test_max_steps_within_is_the_last_step_under_the_cap(config):
    allowed = max_steps_within(config)
    assert run_cost(config, allowed) <= WORK_CAP + 1e-12
    assert run_cost(config, allowed + 1) > WORK_CAP


def test_ablation_cost_sums_the_variants():
    base = _total(_hooked_macs(CNNConfig()))
    expected = sum(_total(_hooked_macs(ablation_config(n))) for n in ABLATIONS) / base
    assert ablation_cost(CLASSES) == pytest.approx(expected)


def test_scan_per_class_on_both_sides_of_the_budget():
    config = CNNConfig(classes=CLASSES[:4])
    per_image = _hooked_macs(config)["conv1_1"] + _hooked_macs(config)["conv1_2"]
    exactly_five = per_image * len(config.classes) * 5
    assert scan_per_class(config, "pool1", exactly_five) == 5
    assert scan_per_class(config, "pool1", exactly_five - 1) == 4
    assert scan_per_class(config, "pool1", 0) == 1  # always at least one picture per class
    assert scan_per_class(config, "conv1_1", 1e18) == TOP_PATCHES_PER_CLASS
    assert scan_per_class(config, "conv1_1") <= TOP_PATCHES_PER_CLASS
