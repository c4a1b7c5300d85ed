"""The claims the sequence pages may make, each on both sides of its threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.sequence import (
    NOISE_Z,
    RATIO_FACTOR,
    above_chance,
    accuracy_noise,
    contest,
    differ,
    first_reached,
    kmax_seen,
    ratio_claim,
    shuffle_claim,
)

N = 1_000
EPS = 1e-9


def test_accuracy_noise_is_the_binomial_standard_error_with_a_floor():
    assert accuracy_noise(0.5, 100) == pytest.approx(0.05)  # sqrt(0.25 / 100)
    assert accuracy_noise(0.9, 400) == pytest.approx(math.sqrt(0.09 / 400))
    assert accuracy_noise(1.0, 50) == pytest.approx(1 / 50)  # p = 1: one item is the resolution


def test_above_chance_on_both_sides_of_two_standard_errors():
    edge = 0.5 + NOISE_Z * math.sqrt(0.25 / N)  # 0.5316...
    assert not above_chance(edge - EPS, 0.5, N)
    assert not above_chance(edge, 0.5, N)  # at the edge is not above it
    assert above_chance(edge + EPS, 0.5, N)
    assert not above_chance(0.12, 0.1, 100)  # MNIST-1D-like: 12% on 100 is noise
    assert above_chance(0.2, 0.1, 100)


def test_differ_on_both_sides_of_the_two_proportion_noise():
    a = 0.8
    # find the smallest b > a that differs, by brute force on a fine grid
    grid = np.arange(0.8, 0.9, 1e-5)
    first = next(b for b in grid if differ(a, b, N))
    noise = math.hypot(math.sqrt(a * (1 - a) / N), math.sqrt(first * (1 - first) / N))
    assert first - a == pytest.approx(NOISE_Z * noise, abs=2e-5)
    assert not differ(a, first - 2e-5, N) and differ(a, first + 2e-5, N)
    assert differ(first, a, N)  # symmetric


def test_ratio_claim_on_both_sides_of_the_factor():
    assert ratio_claim(RATIO_FACTOR) == "higher" and ratio_claim(RATIO_FACTOR - EPS) == "similar"
    assert ratio_claim(1 / RATIO_FACTOR) == "lower"
    assert ratio_claim(1 / RATIO_FACTOR + EPS) == "similar" and ratio_claim(1.0) == "similar"


def test_first_reached_is_the_first_step_at_or_above_the_level():
    assert first_reached([0, 10, 20, 30], [0.5, 0.89, 0.9, 0.95], 0.9) == 20
    assert first_reached([0, 10], [0.5, 0.899], 0.9) is None


def test_contest_never_crowns_a_model_at_chance_or_a_stopped_run():
    edge = 0.5 + NOISE_Z * math.sqrt(0.25 / N)
    # both at chance, even with a gap: no winner
    assert contest((edge, 0.45), (None, None), False, 0.5, N).by == "chance"
    # clearly above chance and clearly apart: the better one wins on accuracy
    assert contest((0.95, 0.6), (100, None), False, 0.5, N) == contest(
        (0.95, 0.6), (None, None), False, 0.5, N
    )
    assert contest((0.6, 0.95), (None, None), False, 0.5, N).winner == "b"
    win = contest((0.95, 0.6), (None, None), False, 0.5, N)
    assert (win.winner, win.by) == ("a", "accuracy")
    # within noise: a tie, unless both reached the good level at different steps
    assert contest((0.95, 0.945), (None, 50), False, 0.5, N).by == "tie"
    assert contest((0.95, 0.945), (50, 50), False, 0.5, N).by == "tie"
    fast = contest((0.95, 0.945), (80, 50), False, 0.5, N)
    assert (fast.winner, fast.by) == ("b", "speed")
    assert contest((0.95, 0.6), (None, None), True, 0.5, N).by == "stopped"


def test_contest_tie_threshold_both_sides():
    a = 0.9
    grid = np.arange(0.9, 0.95, 1e-5)
    b = next(v for v in grid if differ(a, v, N))
    assert contest((a, b), (None, None), False, 0.5, N).by == "accuracy"
    assert contest((a, b - 2e-5), (None, None), False, 0.5, N).by == "tie"


ACC = {
    ("mlp", False): 0.60,
    ("mlp", True): 0.61,
    ("cnn", False): 0.90,
    ("cnn", True): 0.50,
    ("gru", False): 0.85,
    ("gru", True): 0.70,
}


def test_shuffle_claim_contrast_and_its_failures():
    archs, blind = ["mlp", "cnn", "gru"], ("linear", "mlp")
    assert shuffle_claim(ACC, archs, blind, 0.1, N) == "contrast"
    moved = {**ACC, ("mlp", True): 0.50}  # an order-blind model moved beyond noise
    assert shuffle_claim(moved, archs, blind, 0.1, N) is None
    gained = {**ACC, ("gru", True): 0.90}  # a biased model gained: it lost nothing
    assert shuffle_claim(gained, archs, blind, 0.1, N) is None
    tiny = {**ACC, ("gru", True): 0.84}  # a loss inside the noise is no loss
    assert shuffle_claim(tiny, archs, blind, 0.1, N) is None
    chance = {**ACC, ("cnn", False): 0.11}  # an untrained CNN's drop means nothing
    assert shuffle_claim(chance, archs, blind, 0.1, N) == "untrained"
    assert shuffle_claim(ACC, ["mlp"], blind, 0.1, N) is None  # one kind only
    assert shuffle_claim(ACC, ["cnn", "gru"], blind, 0.1, N) is None


def test_kmax_seen_counts_positive_kept_values_per_channel():
    kept = np.array([[0.5, 0.0, 2.0], [0.0, 0.0, 0.0], [1e-12, 3.0, 4.0]])
    expect = [sum(1 for v in row if v > 0) for row in kept]
    assert kmax_seen(kept).tolist() == expect == [2, 0, 3]


def test_kmax_answer_matches_a_loop():
    from engine.sequence import kmax_answer, kmax_over_time

    rng = np.random.default_rng(3)
    last = np.maximum(rng.normal(size=(3, 12)) - 0.8, 0.0)  # a ReLU map, mostly silent
    last[2] = 0.0  # one channel never fires
    values, kept = kmax_over_time(last, 4)
    for c in range(3):
        ans = kmax_answer(last, kept, values, c)
        assert ans.k == 4
        assert ans.fired == sum(1 for v in last[c] if v > 0)
        assert ans.seen_at == tuple(
            int(p) for p, v in zip(kept[c], values[c], strict=True) if v > 0
        )
        assert len(ans.seen_at) == min(4, ans.fired)
    assert kmax_answer(last, kept, values, 2).seen_at == ()


def test_contest_margin_is_the_two_proportion_noise():
    out = contest((0.9, 0.8), (None, None), False, 0.5, N)
    expect = NOISE_Z * math.sqrt(0.9 * 0.1 / N + 0.8 * 0.2 / N)
    assert out.margin == pytest.approx(expect)
    assert (out.winner, out.by) == ("a", "accuracy") and 0.1 > expect


def test_growth_exponent_recovers_a_power_law_and_refuses_too_little():
    from engine.sequence import growth_exponent

    lengths = [40, 100, 400, 1000, 4000]
    for a in (0.5, 1.0, 1.7):
        seconds = [2e-4 * n**a for n in lengths]
        assert growth_exponent(lengths, seconds) == pytest.approx(a, abs=1e-9)
    noisy = [1e-3 * n * f for n, f in zip(lengths, (1.1, 0.9, 1.05, 0.95, 1.0), strict=True)]
    slope = np.polyfit(np.log(lengths), np.log(noisy), 1)[0]  # the least-squares line by numpy
    assert growth_exponent(lengths, noisy) == pytest.approx(slope)
    assert growth_exponent([40], [1e-3]) is None
    assert growth_exponent([40, 40], [1e-3, 2e-3]) is None
    assert growth_exponent([40, 100], [0.0, 1e-3]) is None


def test_growth_claim_on_both_sides_of_each_edge_of_the_band():
    from engine.sequence import PROPORTIONAL_BAND, growth_claim

    low, high = 1 - PROPORTIONAL_BAND, 1 + PROPORTIONAL_BAND
    assert growth_claim(low - 0.01) == "slower"
    assert growth_claim(low + 0.01) == "proportional"
    assert growth_claim(1.0) == "proportional"
    assert growth_claim(high - 0.01) == "proportional"
    assert growth_claim(high + 0.01) == "faster"
