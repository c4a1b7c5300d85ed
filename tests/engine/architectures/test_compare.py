"""The page's comparisons against hand-built tables, brute force and closed forms."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.architectures import (
    LOSS_TOLERANCE,
    TREND_FACTOR,
    ArchStatsError,
    arch_stats,
    build,
    dense_part,
    depth_verdict,
    dilated_extent,
    flops_ratio,
    gradient_spread,
    gradient_trend,
    layer_rows,
    parameter_ratio,
    shortcut_effect,
    smoothing_steps,
    table_summary,
)
from engine.architectures.stats import ArchStats
from engine.cnn import EMA_DECAY, ema


def _stats(name, params, depth=10, rf=100, size=224, gate=False) -> ArchStats:
    return ArchStats(name, name.upper(), 2000, size, depth, depth, params, 0, rf, 1.0, (7, 7), gate)


TOY = [
    _stats("a", 60, depth=8, rf=195),
    _stats("b", 138, depth=16, rf=212),
    _stats("c", 7, depth=22, rf=907),
    _stats("d", 25, depth=50, rf=427, gate=True),
]


def test_parameter_ratio_divides_the_two_counts():
    assert parameter_ratio(TOY, "c", "d") == pytest.approx(7 / 25)
    assert parameter_ratio(TOY, "d", "d") == 1.0
    with pytest.raises(ArchStatsError, match="'z'"):
        parameter_ratio(TOY, "z", "d")


def test_parameter_ratio_on_the_real_networks_matches_their_parameter_counts():
    table = [arch_stats("densenet121"), arch_stats("resnet50")]
    counted = {s.name: sum(p.numel() for p in build(s.name).parameters()) for s in table}
    ratio = parameter_ratio(table, "densenet121", "resnet50")
    assert ratio == pytest.approx(counted["densenet121"] / counted["resnet50"])
    assert 0.25 < ratio < 0.4  # the paper's "about a third"


def test_table_summary_reads_depth_weight_and_field_facts():
    s = table_summary(TOY)
    assert s.first_depth == 8
    assert s.deepest.name == "d"
    assert s.heaviest.name == "b"
    assert s.lighter_after == ("C", "D")
    assert s.all_later_lighter
    assert s.field_beyond_image == ("C", "D")  # 907 and 427 > 224; 195 and 212 are not
    assert s.whole_image == ("D",)


def test_table_summary_notices_a_later_heavier_network():
    s = table_summary([*TOY, _stats("e", 138)])  # as heavy as the heaviest: not lighter
    assert s.heaviest.name == "b"
    assert not s.all_later_lighter
    assert s.lighter_after == ("C", "D")
    with pytest.raises(ArchStatsError):
        table_summary([])


def test_gradient_spread_ignores_the_output_layer():
    norms = {"plain": np.array([8.0, 4.0, 2.0, 0.001]), "res": np.array([1.0, 1.5, 0.5, 9.0])}
    spread = gradient_spread(norms)
    assert spread == {"plain": pytest.approx(4.0), "res": pytest.approx(3.0)}
    with pytest.raises(ArchStatsError):
        gradient_spread({"x": np.array([1.0])})  # only an output layer
    with pytest.raises(ArchStatsError):
        gradient_spread({"x": np.array([0.0, 1.0, 1.0])})


@pytest.mark.parametrize(
    ("plain", "residual", "degrades", "keeps_up"),
    [
        ((0.30, 0.90), (0.20, 0.21), True, True),  # the classic picture
        ((0.30, 0.30 + LOSS_TOLERANCE / 2), (0.2, 0.2), False, True),  # just under the tolerance
        ((0.30, 0.30 + 2 * LOSS_TOLERANCE), (0.2, 0.2 + 2 * LOSS_TOLERANCE), True, False),
        ((0.90, 0.30), (0.50, 0.10), False, True),  # deeper better on both
    ],
)
def test_depth_verdict_on_both_sides_of_the_tolerance(plain, residual, degrades, keeps_up):
    v = depth_verdict(plain, residual)
    assert v.plain_gap == pytest.approx(plain[1] - plain[0])
    assert v.residual_gap == pytest.approx(residual[1] - residual[0])
    assert v.plain_degrades is degrades
    assert v.residual_keeps_up is keeps_up


def test_smoothing_steps_is_where_the_weights_fall_e_fold():
    steps = smoothing_steps(EMA_DECAY)
    start = 400  # late enough that ema's start-up correction is below 1e-8
    impulse = np.zeros(start + 200)
    impulse[start] = 1.0
    weights = ema(impulse)[start:] / ema(impulse)[start]  # one value's weight as it ages
    first_below = int(np.argmax(weights < 1 / math.e))  # the first age where it is under 1/e
    assert first_below - 1 <= steps <= first_below
    assert smoothing_steps(0.5) == pytest.approx(1 / math.log(2))
    for bad in (0, 1, -0.5, True, "0.9"):
        with pytest.raises(ArchStatsError):
            smoothing_steps(bad)


@pytest.mark.parametrize("rate", [1, 2, 4, 7])
def test_dilated_extent_matches_the_nonzero_span_of_an_impulse_response(rate):
    k = 3
    x = torch.zeros(1, 1, 1, 64)
    x[..., 32] = 1.0
    y = F.conv2d(x, torch.ones(1, 1, 1, k), dilation=(1, rate), padding=(0, rate * (k - 1) // 2))
    hit = torch.nonzero(y[0, 0, 0]).flatten()
    assert dilated_extent(rate, k) == int(hit.max() - hit.min()) + 1


def _profile(first_over_last: float, layers: int = 6) -> np.ndarray:
    """Return geometric norms from input to last hidden layer, plus a small output layer."""
    hidden = first_over_last ** (np.arange(layers - 1, -1, -1) / (layers - 1))
    return np.append(hidden, 1e-3)


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (TREND_FACTOR * 1.01, "grows"),
        (TREND_FACTOR * 0.99, "stays within"),
        (1 / TREND_FACTOR * 1.01, "stays within"),
        (1 / TREND_FACTOR * 0.99, "shrinks"),
        (29_000.0, "grows"),  # the plain-56 stack at its defaults: exploding, not vanishing
    ],
)
def test_gradient_trend_words_on_both_sides_of_the_factor(ratio, words):
    trend = gradient_trend(_profile(ratio))
    assert trend.ratio == pytest.approx(ratio)
    assert trend.words.startswith(words)


def test_gradient_trend_reads_the_measured_plain_stack_as_growing():
    from engine.cnn import gradient_norms

    norms = gradient_norms(20, False, 0)
    trend = gradient_trend(norms)
    assert trend.ratio == pytest.approx(norms[0] / norms[-2])
    assert trend.spread == pytest.approx(gradient_spread({"p": norms})["p"])
    assert trend.words == "grows"  # the old text's "vanishing" would contradict this


def test_gradient_trend_refuses_too_few_or_non_positive_norms():
    with pytest.raises(ArchStatsError):
        gradient_trend(np.array([1.0, 0.1]))
    with pytest.raises(ArchStatsError):
        gradient_trend(np.array([1.0, 0.0, 2.0, 0.1]))


@pytest.mark.parametrize(
    ("plain", "residual", "effect"),
    [
        (1000.0, 1000.0 / TREND_FACTOR * 0.99, "narrow"),
        (1000.0, 1000.0 / TREND_FACTOR * 1.01, "keep"),
        (1000.0, 1000.0 * TREND_FACTOR * 0.99, "keep"),
        (1000.0, 1000.0 * TREND_FACTOR * 1.01, "widen"),
    ],
)
def test_shortcut_effect_on_both_sides_of_the_factor(plain, residual, effect):
    a, b = gradient_trend(_profile(plain)), gradient_trend(_profile(residual))
    assert shortcut_effect(a, b) == effect


def test_dense_part_counts_vggs_three_dense_layers_from_their_modules():
    model = build("vgg16", meta=True)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    total = sum(p.numel() for p in model.parameters())
    count, share = dense_part(layer_rows("vgg16"), arch_stats("vgg16").params)
    assert count == len(linears) == 3
    assert share == pytest.approx(sum(p.numel() for m in linears for p in m.parameters()) / total)
    with pytest.raises(ArchStatsError):
        dense_part([], 0)


def test_flops_ratio_divides_the_two_counts():
    toy = [replace(s, flops=f) for s, f in zip(TOY, (10, 40, 5, 20), strict=True)]
    assert flops_ratio(toy, "b", "a") == 4.0
    assert flops_ratio(toy, "c", "d") == 0.25
    with pytest.raises(ArchStatsError, match="'z'"):
        flops_ratio(toy, "z", "a")
