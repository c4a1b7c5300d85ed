"""The claims the training page may make: each tested on both sides of its threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.cnn import (
    BORDER_SAME,
    CHANCE_Z,
    CLASSIC_BY,
    COLOUR_BY,
    FITS_LESS_BY,
    SAME_WITHIN,
    TREND_BY,
    CNNError,
    above_chance,
    accuracy_gap,
    border_effect,
    chance_margin,
    classic_likeness,
    colour_shift,
    compare,
    fits_less,
    steadiest,
    trend,
)


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


def test_colour_shift_both_sides_of_its_margin():
    assert colour_shift(0.40, 0.40 - COLOUR_BY - 1e-6) == "brightness"
    assert colour_shift(0.40, 0.40 + COLOUR_BY + 1e-6) == "colour"
    assert colour_shift(0.40, 0.40 - COLOUR_BY + 1e-6) is None
    assert colour_shift(0.40, 0.40 + COLOUR_BY - 1e-6) is None
    assert colour_shift(0.400, 0.401) is None  # the learner's report: 40 % → 40 % called a change


def test_classic_likeness_both_sides_of_its_margin():
    assert classic_likeness(0.50, 0.50 + CLASSIC_BY + 1e-6) == "closer"
    assert classic_likeness(0.50, 0.50 - CLASSIC_BY - 1e-6) == "further"
    assert classic_likeness(0.50, 0.50 + CLASSIC_BY - 1e-6) is None
    assert classic_likeness(0.50, 0.50 - CLASSIC_BY + 1e-6) is None


def test_accuracy_gap_both_sides_of_same():
    assert accuracy_gap(0.62, 0.62 + SAME_WITHIN + 1e-6) == "below"
    assert accuracy_gap(0.62 + SAME_WITHIN + 1e-6, 0.62) == "above"
    assert accuracy_gap(0.6203, 0.62) is None  # the learner's report: "0.0% above validation"
    assert accuracy_gap(float("nan"), 0.62) is None


def test_fits_less_both_sides_of_its_margin():
    assert fits_less(0.70 - FITS_LESS_BY - 1e-6, 0.70)
    assert not fits_less(0.70 - FITS_LESS_BY + 1e-6, 0.70)
    assert not fits_less(0.90, 0.70)


def test_border_effect_both_sides_of_its_margin():
    assert border_effect(BORDER_SAME + 1e-6) == "more"
    assert border_effect(-BORDER_SAME - 1e-6) == "fewer"
    assert border_effect(BORDER_SAME - 1e-6) is None
    assert border_effect(-BORDER_SAME + 1e-6) is None


@pytest.mark.parametrize(
    ("claim", "fmt"),
    [
        (colour_shift, "{:.0%}"),
        (classic_likeness, "{:.2f}"),
        (accuracy_gap, "{:.1%}"),
        (fits_less, "{:.1%}"),
    ],
)
def test_a_named_change_never_prints_as_no_change(claim, fmt):
    """Whenever a claim is made, the two numbers as shown differ (random pairs, 0..1)."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, 20_000)
    b = a + rng.uniform(-0.06, 0.06, a.size)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if claim(x, y):
            assert fmt.format(x) != fmt.format(y), (x, y)


def test_trend_needs_every_step_beyond_its_margin():
    up = TREND_BY + 1e-6
    assert trend([0.5, 0.5 + up, 0.5 + 2 * up]) == "rises"
    assert trend([0.5, 0.5 - up, 0.5 - 2 * up]) == "falls"
    assert trend([0.64, 0.55, 0.65]) is None  # the learner's depth run: down, then up
    assert trend([0.5, 0.5 + up, 0.5 + up + TREND_BY - 1e-6]) is None  # one step too small
    assert trend([0.5, 0.5 + TREND_BY - 1e-6]) is None
    with pytest.raises(CNNError):
        trend([0.5])
