"""The reductions behind the sequence pages' sentences, against brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sequence import (
    ORDER_BLIND,
    RATIO_FACTOR,
    busiest_filter,
    firing_at,
    kmax_coverage,
    loudest_step,
    neighbour_jump,
    ngram_filters,
    peak_spread,
    seconds_per_step,
    shuffle_contrast,
    swap_summary,
    token_strength,
    top_windows,
)
from engine.sequence.order import OrderSensitivity


def test_loudest_step_and_firing_at_match_loops():
    maps = np.array([[0.0, 2.0, 0.5, 3.0], [1.0, 0.0, 3.0, -1.0]])
    best = max(range(4), key=lambda t: (max(maps[:, t]), -t))
    assert loudest_step(maps) == best == 2  # 3.0 first reached at t = 2
    assert firing_at(maps, 3) == (0, 1)
    assert firing_at(maps, 0) == (1, 1)
    assert firing_at(-np.ones((3, 2)), 1) == (None, 0)  # nobody fires: no strongest channel


def test_kmax_coverage_counts_samples_under_kept_windows():
    windows = np.array([[0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 5]])
    kept = np.array([[1, 4], [1, 2]])
    values = np.array([[0.5, 0.2], [0.1, 0.9]])
    covered = {s for p in kept.ravel() for s in range(windows[p][0], windows[p][1] + 1)}
    out = kmax_coverage(kept, values, windows)
    assert out.covered == len(covered) == 6 and out.length == 6
    assert (out.top_channel, out.top_rank) == (1, 1)
    assert kmax_coverage(np.array([[0]]), np.array([[1.0]]), windows).covered == 2


def _order(positions, cnn, rnn, cnn_norm=1.0):
    return OrderSensitivity(
        positions=np.array(positions),
        cnn_change=np.array(cnn, float),
        rnn_change=np.array(rnn, float),
        cnn_norm=cnn_norm,
        rnn_norm=1.0,
        candidates=len(positions),
    )


def test_swap_summary_sorts_swaps_by_hand():
    kept_windows = np.array([[10, 12]])  # the only kept unit sees t 10 … 12
    order = _order([0, 9, 12, 30, 38], [0.0, 0.5, 0.5, 1e-9, 0.2], [0.0, 0.1, 0.2, 0.3, 0.4])
    out = swap_summary(order, kept_windows, length=40)
    # swap s touches samples s and s + 1: 9 (10) and 12 (12) touch [10, 12]; 38 does not
    assert (out.swaps, out.still, out.moved, out.touching) == (5, 2, 3, 2)
    assert out.early == pytest.approx(np.mean([0.0, 0.1]))  # positions 0, 9 < 10
    assert out.late == pytest.approx(np.mean([0.3, 0.4]))  # positions 30, 38 ≥ 30
    assert out.rnn_trend == "later"  # 0.35 against 0.05: 7× more


def test_swap_summary_rnn_trend_on_both_sides_and_empty_quarters():
    def trend(early, late, rnn_norm=1.0):
        order = _order([0, 39], [0, 0], [early, late])
        order = OrderSensitivity(**{**order.__dict__, "rnn_norm": rnn_norm})
        return swap_summary(order, np.zeros((1, 2)), 40).rnn_trend

    assert trend(0.5, 0.5) == "similar"  # the old "late > early" called 0.5001 "later"
    assert trend(0.5, 0.5 * RATIO_FACTOR * (1 - 1e-9)) == "similar"
    assert trend(0.5, 0.5 * RATIO_FACTOR) == "later"
    assert trend(0.5 * RATIO_FACTOR, 0.5) == "earlier"
    assert trend(0.5 * RATIO_FACTOR * (1 - 1e-9), 0.5) == "similar"
    # changes below STILL · (1 + ‖h_T‖) are rounding: no "10⁶× more" from a 1e-12 early change
    floor = 1e-6 * (1 + 3.0)
    assert trend(1e-12, 0.1, rnn_norm=3.0) == "later"
    assert trend(floor * 0.99, floor * 0.999, rnn_norm=3.0) == "none"
    assert trend(floor, floor * 0.999, rnn_norm=3.0) == "earlier"
    out = swap_summary(_order([0, 39], [0, 0], [0.5, 0.6]), np.zeros((1, 2)), 40)
    assert out.moved == 0 and out.rnn_floor == pytest.approx(1e-6 * 2)
    middle = swap_summary(_order([20], [1.0], [0.5]), np.zeros((1, 2)), 40)
    assert middle.early is None and middle.late is None and middle.rnn_trend is None


def test_peak_spread_and_neighbour_jump_match_loops():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 12)), np.arange(60) % 3
    spread = peak_spread(x, y, classes=3)
    for c in range(3):
        peaks = [int(np.argmax(row)) for row, label in zip(x, y, strict=True) if label == c]
        assert spread[c] == pytest.approx(np.std(peaks))
    jumps = [abs(row[t + 1] - row[t]) for row in x for t in range(11)]
    assert neighbour_jump(x) == pytest.approx(sum(jumps) / len(jumps))


def test_seconds_per_step_survives_zero_steps():
    assert seconds_per_step(3.0, 4) == 0.75 and seconds_per_step(2.0, 0) == 2.0


def test_shuffle_contrast_sides():
    acc = {
        ("mlp", False): 0.70,
        ("mlp", True): 0.72,
        ("cnn", False): 0.90,
        ("cnn", True): 0.60,
        ("gru", False): 0.85,
        ("gru", True): 0.75,
    }
    out = shuffle_contrast(acc, ["mlp", "cnn", "gru"])
    assert out.drops["cnn"] == pytest.approx(30.0) and out.drops["mlp"] == pytest.approx(-2.0)
    assert out.worst_blind == pytest.approx(2.0) and out.least_biased == pytest.approx(10.0)
    assert shuffle_contrast(acc, ["cnn"]).worst_blind is None
    assert shuffle_contrast(acc, ["mlp"]).least_biased is None
    assert "mlp" in ORDER_BLIND and "cnn" not in ORDER_BLIND


def test_token_strength_top_windows_and_busiest_match_loops():
    res = ngram_filters("abcabcab zz", n=2, targets=("ab", "zz", "qq"))
    for f in range(3):
        expect = [
            max([res.activations[f][i] for i in range(len(res.windows)) if i <= j < i + 2] or [0])
            for j in range(len(res.tokens))
        ]
        np.testing.assert_array_equal(token_strength(res, f), expect)
    tops = top_windows(res, 2)
    assert list(tops[0]) == [0, 3]  # "ab" at 0, 3, 6: the earliest two on the tie
    assert busiest_filter(res) == (0, 1)  # "ab" fires three times; "qq" never
