"""earliest_vs_latest on both sides, and on real BPTT norms against their own ends."""

import numpy as np
import pytest

from engine.recurrent import BPTTConfigError, earliest_vs_latest, gradient_norms


@pytest.mark.parametrize(
    ("norms", "expected"),
    [([0.1, 0.5, 1.0], "smaller"), ([3.0, 2.0, 1.0], "larger"), ([1.0, 7.0, 1.0], "equal")],
)
def test_earliest_vs_latest_both_sides(norms, expected):
    assert earliest_vs_latest(np.array(norms)) == expected


@pytest.mark.parametrize(("rho", "expected"), [(0.5, "smaller"), (2.5, "larger")])
def test_vanishing_and_exploding_runs(rho, expected):
    norms = gradient_norms("rnn", 30, 16, rho, "linear")
    assert earliest_vs_latest(norms) == expected
    assert (norms[0] < norms[-1]) == (expected == "smaller")


def test_earliest_vs_latest_needs_two_steps():
    with pytest.raises(BPTTConfigError):
        earliest_vs_latest(np.array([1.0]))
