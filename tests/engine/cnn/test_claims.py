"""The claims the training page may make: each tested on both sides of its threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.cnn import CHANCE_Z, CNNError, above_chance, chance_margin, compare, steadiest


def test_the_margin_is_z_binomial_standard_errors():
    assert chance_margin(500, 10) == pytest.approx(CHANCE_Z * math.sqrt(0.1 * 0.9 / 500))


def test_a_uniform_guesser_rarely_passes_for_a_learner():
    """Simulated guessers on 500 items among 10 classes: almost none is called 'learned'."""
    rng = np.random.default_rng(0)
    accs = rng.binomial(500, 0.1, size=20_000) / 500
    passed = np.mean([above_chance(float(a), 500, 10) for a in accs])
    assert passed < 0.005  # z = 3: about 0.1 % one-sided (a little more: the binomial is skewed)


def test_both_sides_of_chance():
    line = 0.1 + chance_margin(500, 10)
    assert not above_chance(0.088, 500, 10)  # the learner's report: 8.8 % is below chance
    assert not above_chance(line, 500, 10)
    assert above_chance(line + 1e-9, 500, 10)
    assert above_chance(0.62, 500, 10)


@pytest.mark.parametrize("bad", [(0, 10), (500, 1), (True, 10)])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(CNNError):
        chance_margin(*bad)


def test_the_steadiest_is_chosen_among_learners_only():
    names = ["baseline", "no pooling", "no ReLU"]
    kept = [0.62, 0.95, 0.70]
    assert steadiest(names, kept, [True, False, True]) == "no ReLU"
    assert steadiest(names, kept, [True, True, True]) == "no pooling"
    assert steadiest(names, kept, [False, False, False]) is None
    with pytest.raises(CNNError):
        steadiest(names, kept, [True])


def test_compare_both_sides_of_same():
    assert compare(0.5, 0.5049) == "same"
    assert compare(0.5, 0.506) == "below"
    assert compare(0.506, 0.5) == "above"
