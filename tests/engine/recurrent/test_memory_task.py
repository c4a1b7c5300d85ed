"""The memory task: deterministic; both nets learn a short delay, only the LSTM a longer one.

References: chance (1 / symbols) and perfect recall; Hochreiter & Schmidhuber's finding that a
gated cell bridges delays a plain RNN cannot. Settings are small so each run takes a fraction of a
second.
"""

import numpy as np
import pytest

from engine.recurrent import (
    MEMORY_LEARNED,
    MEMORY_SYMBOLS,
    MemoryTaskError,
    chance_accuracy,
    longest_learned,
    memory_curve,
    memory_task,
    memory_work,
)

SMALL = {"steps": 150, "hidden": 16}


def test_deterministic() -> None:
    assert memory_task("rnn", 5, seed=3, **SMALL) == memory_task("rnn", 5, seed=3, **SMALL)


def test_lstm_bridges_a_delay_the_rnn_cannot() -> None:
    curves = memory_curve(["rnn", "lstm"], [2, 20], seed=0, **SMALL)
    assert curves["rnn"][0] > 0.9 and curves["lstm"][0] > 0.9  # short delay: both remember
    assert curves["lstm"][1] > 0.9  # 20 steps of distractors: the LSTM still does
    assert curves["rnn"][1] < 0.5  # the RNN is near chance (0.25)
    assert curves["rnn"].shape == (2,)


def test_lstm_without_a_forget_bias_loses_its_advantage() -> None:
    assert memory_task("lstm", 20, forget_bias=0.0, **SMALL) < 0.5


def test_progress_is_reported_after_each_run_with_the_curves_so_far() -> None:
    calls = []
    curves = memory_curve(
        ["gru"], [1, 3], steps=5, hidden=4, progress=lambda f, label, c: calls.append((f, c))
    )
    np.testing.assert_allclose([f for f, _ in calls], [0.5, 1.0])
    first = calls[0][1]["gru"]
    assert first[0] == curves["gru"][0] and np.isnan(first[1])  # the second run not yet done
    np.testing.assert_array_equal(calls[1][1]["gru"], curves["gru"])


def test_should_stop_ends_early_and_leaves_nan_for_runs_not_done() -> None:
    polls = []

    def stop_after_first_run() -> bool:
        polls.append(1)
        return len(polls) > 6  # one poll before the run, one per training step (5 steps)

    curves = memory_curve(
        ["rnn", "lstm"], [1, 2], steps=5, hidden=4, should_stop=stop_after_first_run
    )
    assert np.isfinite(curves["rnn"][0])
    assert np.isnan(curves["lstm"][0]) and np.isnan(curves["rnn"][1]).all()
    assert np.isnan(memory_task("rnn", 1, steps=5, hidden=4, should_stop=lambda: True))


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "cnn"},
        {"delay": -1},
        {"delay": 10_000},
        {"steps": 0},
        {"hidden": 2.5},
        {"symbols": 1},
        {"lr": 0.0},
    ],
)
def test_settings_out_of_range_are_person_errors(bad: dict) -> None:
    with pytest.raises(MemoryTaskError):
        memory_task(**({"kind": "rnn", "delay": 3, "steps": 1} | bad))
    with pytest.raises(MemoryTaskError):
        memory_curve([], [3])


def test_memory_work_counts_every_sequence_step_of_every_run() -> None:
    kinds, delays, steps = ["rnn", "lstm", "gru"], [1, 4, 10], 7
    brute = sum(steps * (d + 1) for _ in kinds for d in delays)  # one term per run
    assert memory_work(kinds, delays, steps) == brute
    assert memory_work(kinds, [], steps) == 0


def test_chance_is_one_over_the_symbols() -> None:
    assert chance_accuracy() == 1 / MEMORY_SYMBOLS
    x = np.random.default_rng(0).integers(0, 5, 200_000)
    assert chance_accuracy(5) == pytest.approx(np.mean(x == 0), abs=0.01)  # random guessing


def test_longest_learned_on_both_sides_of_the_threshold() -> None:
    below, at = MEMORY_LEARNED - 0.01, MEMORY_LEARNED
    assert longest_learned([1, 5, 9], [at, below, at]) == 9  # not the last prefix: the longest
    assert longest_learned([1, 5, 9], [at, at, below]) == 5
    assert longest_learned([1, 5], [below, float("nan")]) is None
