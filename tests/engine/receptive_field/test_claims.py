"""Growth sentences against power laws built by hand, and response widths against known blobs."""

import math

import numpy as np
import pytest

from engine.receptive_field import (
    POWER_TOLERANCE,
    WIDER_FACTOR,
    ReceptiveFieldError,
    growth_exponent,
    power_words,
    response_width,
    widths_grow,
)


@pytest.mark.parametrize("power", [0.3, 0.5, 1.0, 1.7])
def test_growth_exponent_recovers_a_power_law(power):
    depths = [1, 2, 4, 8, 16]
    assert growth_exponent(depths, [3.0 * d**power for d in depths]) == pytest.approx(power)


def test_growth_exponent_refuses_what_cannot_be_fitted():
    for depths, spreads in (([1], [1.0]), ([2, 2], [1.0, 2.0]), ([1, 2], [0.0, 1.0])):
        with pytest.raises(ReceptiveFieldError):
            growth_exponent(depths, spreads)


def test_power_words_on_both_sides_of_each_tolerance():
    eps = 1e-3
    assert power_words(1.0 + POWER_TOLERANCE - eps) == "n"
    assert power_words(1.0 - POWER_TOLERANCE + eps) == "n"
    assert power_words(1.0 + POWER_TOLERANCE + eps) is None
    assert power_words(0.5 + POWER_TOLERANCE - eps) == "√n"
    assert power_words(0.5 - POWER_TOLERANCE + eps) == "√n"
    assert power_words(0.5 + POWER_TOLERANCE + eps) is None  # between √n and n: no claim
    assert power_words(0.5 - POWER_TOLERANCE - eps) is None


def _checker(side: int, cell: int) -> np.ndarray:
    """Return a side×side checkerboard of cell×cell squares of ±1."""
    idx = np.arange(side) // cell
    return np.where((idx[:, None] + idx[None, :]) % 2 == 0, 1.0, -1.0)


def test_response_width_matches_a_brute_force_autocorrelation():
    rng = np.random.default_rng(0)
    m = np.abs(rng.normal(size=(24, 20)))
    m[8:14, 6:12] += 3.0
    c = m - m.mean()
    h, w = c.shape

    def ac(dy, dx):  # zero-padded autocorrelation at one shift, summed by hand
        a = c[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)]
        b = c[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
        return float((a * b).sum())

    prof = [(ac(s, 0) + ac(0, s) + ac(-s, 0) + ac(0, -s)) / (4 * ac(0, 0)) for s in range(11)]
    i = next(s for s, v in enumerate(prof) if v < 0.5)
    expected = i - 1 + (prof[i - 1] - 0.5) / (prof[i - 1] - prof[i])
    assert response_width(m) == pytest.approx(expected, rel=1e-9)


def test_response_width_grows_with_the_structure():
    # |checkerboard| is flat, so use blobs: a bright square every 2·cell pixels
    widths = [response_width(np.maximum(_checker(96, cell), 0)) for cell in (2, 4, 8)]
    assert widths[0] < widths[1] < widths[2]
    assert math.isnan(response_width(np.ones((16, 16))))  # flat: nothing to measure
    with pytest.raises(ReceptiveFieldError):
        response_width(np.ones(16))


def test_widths_grow_on_both_sides_of_the_factor():
    assert widths_grow([2.0, 2.5, 2.0 * WIDER_FACTOR])
    assert not widths_grow([2.0, 2.5, 2.0 * WIDER_FACTOR - 0.01])  # not wide enough
    assert not widths_grow([2.0, 1.9, 5.0])  # shrinks on the way
    assert not widths_grow([2.0, math.nan, 5.0])
    assert not widths_grow([2.0])
