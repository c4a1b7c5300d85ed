"""swap_sensitivity: each swap's change equals a direct through_both of the swapped sequence."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sequence import SequenceError, swap_sensitivity, through_both


def test_changes_match_swapping_by_hand_and_skip_equal_neighbours():
    values = np.array([0.0, 1, 1, 3, -2, 5, 5, 0, 2])
    res = swap_sensitivity(values, seed=2, k=2, hidden=3)
    assert res.positions.tolist() == [0, 2, 3, 4, 6, 7]  # pairs (1, 1) and (5, 5) are no-ops
    assert res.candidates == 6
    base = through_both(values, seed=2, k=2, hidden=3)
    for s, cnn, rnn in zip(res.positions, res.cnn_change, res.rnn_change, strict=True):
        swapped = values.copy()
        swapped[s], swapped[s + 1] = values[s + 1], values[s]
        out = through_both(swapped, seed=2, k=2, hidden=3)
        assert cnn == pytest.approx(np.linalg.norm(out["cnn_final"] - base["cnn_final"]))
        assert rnn == pytest.approx(np.linalg.norm(out["rnn_final"] - base["rnn_final"]))
    assert res.rnn_norm == pytest.approx(np.linalg.norm(base["rnn_final"]))


def test_long_sequences_are_sampled_evenly_and_recent_swaps_move_the_rnn_more():
    values = np.random.default_rng(0).normal(size=300)
    res = swap_sensitivity(values, max_swaps=30)
    assert res.positions.size == 30 and res.candidates == 299
    assert res.positions[0] == 0 and res.positions[-1] == 298
    assert res.rnn_change[-3:].mean() > 100 * res.rnn_change[:3].mean()


def test_one_number_and_bad_input():
    assert swap_sensitivity(np.array([4.0])).positions.size == 0
    with pytest.raises(SequenceError):
        swap_sensitivity(np.array([1.0, np.nan]))
    with pytest.raises(SequenceError):
        swap_sensitivity(np.array([1.0, 2.0]), max_swaps=0)
