"""The 1-D spacecraft: age kernels and causal smoothing against brute force and np.convolve."""

import numpy as np
import pytest

from engine.conv import AGE_KERNELS, ConvConfigError, age_kernel, causal_smooth, spacecraft_track


def _brute_force_smooth(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """s(t) = sum over a <= t of x(a) w(t-a), scaled so the weights used carry w's total."""
    s = np.empty(len(x))
    for t in range(len(x)):
        acc, used = 0.0, 0.0
        for a in range(t + 1):
            age = t - a
            if age < len(w):
                acc += x[a] * w[age]
                used += w[age]
        s[t] = acc * w.sum() / used if used > 0 else np.nan
    return s


def test_track_is_seeded_smooth_and_noisy_by_the_requested_amount():
    truth, measured = spacecraft_track(n=4000, noise=0.5, seed=3)
    again_truth, again_measured = spacecraft_track(n=4000, noise=0.5, seed=3)
    assert truth.shape == measured.shape == (4000,)
    np.testing.assert_array_equal(measured, again_measured)
    np.testing.assert_array_equal(truth, again_truth)
    assert not np.array_equal(spacecraft_track(4000, 0.5, seed=4)[1], measured)
    assert np.std(measured - truth) == pytest.approx(0.5, rel=0.05)
    # smooth: the truth's steps are tiny next to the noise, and its curvature tinier still
    assert np.abs(np.diff(truth)).max() < 0.05 and np.abs(np.diff(truth, 2)).max() < 1e-3
    truth0, measured0 = spacecraft_track(n=50, noise=0.0)
    np.testing.assert_array_equal(truth0, measured0)


@pytest.mark.parametrize(
    "kwargs", [dict(n=1), dict(n=2.5), dict(noise=-1.0), dict(noise=float("nan")), dict(seed=-1)]
)
def test_track_rejects_bad_settings(kwargs):
    with pytest.raises(ConvConfigError):
        spacecraft_track(**kwargs)


@pytest.mark.parametrize("width", [0.3, 1.0, 2.5, 10.0, 1e6])
@pytest.mark.parametrize("kind", AGE_KERNELS)
def test_age_kernel_is_a_density_favouring_recent_ages(kind, width):
    w = age_kernel(kind, width, 25)
    assert w.shape == (25,)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0)
    assert (np.diff(w) <= 1e-15).all()  # never heavier for older measurements
    assert w[0] == w.max() > 0


def test_age_kernel_closed_forms():
    ages = np.arange(6)
    expected = np.exp(-ages / 2.0) / np.exp(-ages / 2.0).sum()
    np.testing.assert_allclose(age_kernel("exponential", 2.0, 6), expected)
    half = np.exp(-(ages**2) / 8.0)
    np.testing.assert_allclose(age_kernel("half-gaussian", 2.0, 6), half / half.sum())
    np.testing.assert_allclose(age_kernel("uniform", 2.5, 6), [1 / 3] * 3 + [0] * 3)
    np.testing.assert_allclose(age_kernel("uniform", 0.2, 6), [1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(age_kernel("uniform", 50, 4), [0.25] * 4)
    exponential = age_kernel("exponential", 3.0, 30)
    assert (np.diff(exponential) < 0).all()  # strictly decreasing


@pytest.mark.parametrize(
    "args",
    [
        ("gaussian", 1.0, 5),
        ("uniform", 0.0, 5),
        ("uniform", -1.0, 5),
        ("uniform", float("inf"), 5),
        ("uniform", 1.0, 0),
        ("uniform", 1.0, 2.0),
    ],
)
def test_age_kernel_rejects_bad_settings(args):
    with pytest.raises(ConvConfigError):
        age_kernel(*args)


@pytest.mark.parametrize(
    "n,w",
    [
        (30, np.array([0.5, 0.3, 0.2])),
        (12, np.array([2.0, 1.0, 0.0, 1.0])),  # total 4, not 1; a zero inside
        (5, np.arange(1.0, 9.0)),  # kernel longer than the signal
        (40, np.array([1.0])),
    ],
)
def test_causal_smooth_matches_brute_force(n, w):
    x = np.random.default_rng(n).normal(size=n)
    np.testing.assert_allclose(causal_smooth(x, w), _brute_force_smooth(x, w), rtol=1e-12)


@pytest.mark.parametrize("kind", AGE_KERNELS)
def test_causal_smooth_is_np_convolve_once_the_history_is_long_enough(kind):
    x = np.random.default_rng(0).normal(size=60)
    w = age_kernel(kind, 3.0, 8)
    expected = np.convolve(x, w)[:60]
    s = causal_smooth(x, w)
    np.testing.assert_allclose(s[len(w) - 1 :], expected[len(w) - 1 :], rtol=1e-12)
    assert not np.allclose(s[:2], expected[:2])  # renormalised where the history is short
    np.testing.assert_allclose(causal_smooth(np.full(60, 7.0), w), 7.0)  # an average: no droop


def test_causal_smooth_never_looks_ahead():
    x = np.random.default_rng(1).normal(size=40)
    w = age_kernel("half-gaussian", 4.0, 10)
    y = x.copy()
    y[25:] += 100.0
    np.testing.assert_array_equal(causal_smooth(x, w)[:25], causal_smooth(y, w)[:25])


def test_causal_smooth_has_no_estimate_before_any_weighted_measurement():
    s = causal_smooth(np.ones(6), np.array([0.0, 0.0, 1.0]))  # a pure two-step delay
    assert np.isnan(s[:2]).all()
    np.testing.assert_allclose(s[2:], 1.0)


def test_smoothing_brings_the_estimate_closer_to_the_truth():
    truth, measured = spacecraft_track(n=300, noise=0.5, seed=0)
    smoothed = causal_smooth(measured, age_kernel("exponential", 3.0, 20))
    assert np.abs(smoothed - truth).mean() < 0.6 * np.abs(measured - truth).mean()


@pytest.mark.parametrize(
    "x,w",
    [
        (np.ones(5), np.array([-0.5, 1.5])),
        (np.ones(5), np.zeros(3)),
        (np.ones(5), np.array([])),
        (np.array([1.0, np.nan]), np.ones(2)),
        (np.ones((2, 3)), np.ones(2)),
        (np.array(["a", "b"]), np.ones(2)),
        ([], np.ones(2)),
    ],
)
def test_causal_smooth_rejects_bad_inputs(x, w):
    with pytest.raises(ConvConfigError):
        causal_smooth(x, w)


@pytest.mark.parametrize(
    "w",
    [
        np.array([0.5, 0.3, 0.2]),
        np.array([0.6, 0.4, 0.0, 0.0]),  # a uniform kernel cut short: zeros at the old end
        np.array([1.0]),
        np.array([0.0, 0.7, 0.3]),
    ],
)
def test_renormalised_until_is_where_the_brute_force_stops_rescaling(w):
    from engine.conv import renormalised_until

    until = renormalised_until(w)
    for t in range(len(w) + 3):  # brute force: does some weight fall before the record starts?
        used = sum(w[age] for age in range(min(t + 1, len(w))))
        assert (used < w.sum() - 1e-15) == (t < until), t
    x = np.random.default_rng(0).normal(size=12)
    s = causal_smooth(x, w)
    plain = np.convolve(x, w)[: len(x)]
    np.testing.assert_array_equal(s[until:], plain[until:])  # exactly, not just close
    rescaled = np.isfinite(s[:until])
    assert not np.allclose(s[:until][rescaled], plain[:until][rescaled]) or not rescaled.any()


@pytest.mark.parametrize("kind", AGE_KERNELS)
@pytest.mark.parametrize("t", [0, 1, 3, 19, 20, 150])
def test_smoothing_terms_sum_to_the_smoothed_value(kind, t):
    from engine.conv import smoothing_terms

    _, x = spacecraft_track(n=200, noise=0.8, seed=0)
    w = age_kernel(kind, 4.0, 20)
    terms = smoothing_terms(x, w, t)
    assert sum(xa * wa for _, xa, wa in terms) == pytest.approx(causal_smooth(x, w)[t])
    assert sum(wa for *_, wa in terms) == pytest.approx(1.0)  # the weights used carry w's total
    used = {t - age: w[age] for age in range(min(t + 1, len(w))) if w[age] > 0}
    assert [a for a, *_ in terms] == sorted(used, reverse=True)
    for a, xa, wa in terms:  # brute force: w(t - a), scaled by total over the weight that exists
        assert xa == x[a] and wa == pytest.approx(used[a] * w.sum() / sum(used.values()))


def test_smoothing_terms_rejects_bad_times():
    from engine.conv import smoothing_terms

    with pytest.raises(ConvConfigError):
        smoothing_terms(np.ones(5), np.ones(2) / 2, 5)
    with pytest.raises(ConvConfigError):
        smoothing_terms(np.ones(5), np.array([0.0, 1.0]), 0)  # nothing weighted yet


def test_rmse_and_error_change_at_both_sides():
    from engine.conv import error_change, rmse

    assert rmse(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == pytest.approx(np.sqrt(5))
    assert rmse(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ConvConfigError):
        rmse(np.zeros(3), np.zeros(4))
    assert error_change(0.8, 0.3) == "lower"
    assert error_change(0.3, 0.3) == "equal"
    assert error_change(0.0, 0.1) == "higher"


def test_relative_change_on_both_sides_of_its_tolerance():
    from engine.conv.smoothing_1d import CHANGE_TOL, relative_change

    assert relative_change(1.0, 1.0 - 0.99 * CHANGE_TOL) == "similar"
    assert relative_change(1.0, 1.0 - 1.01 * CHANGE_TOL) == "lower"
    assert relative_change(1.0, 1.0 / (1 - 0.99 * CHANGE_TOL)) == "similar"
    assert relative_change(1.0, 1.0 / (1 - 1.01 * CHANGE_TOL)) == "higher"
    assert relative_change(0.0, 0.0) == "similar"
    assert relative_change(0.0, 1e-9) == "higher"


def test_smoothing_parts_match_brute_force_and_the_mean_age():
    from engine.conv.smoothing_1d import smoothing_parts

    true, noisy = spacecraft_track(n=120, noise=0.7, seed=2)
    w = age_kernel("exponential", 3.0, 12)
    parts = smoothing_parts(true, noisy, w)
    clean = _brute_force_smooth(true, w)
    smoothed = _brute_force_smooth(noisy, w)
    noise_alone = _brute_force_smooth(noisy - true, w)  # linearity: s(noisy) − s(true)
    assert parts.lag == pytest.approx(np.sqrt(np.mean((clean - true) ** 2)), rel=1e-9)
    assert parts.noise == pytest.approx(np.sqrt(np.mean(noise_alone**2)), rel=1e-9)
    assert parts.total == pytest.approx(np.sqrt(np.mean((smoothed - true) ** 2)), rel=1e-9)
    assert parts.delay == pytest.approx(np.average(np.arange(12), weights=w))


@pytest.mark.parametrize(
    ("noise", "kind", "width", "verdict"),
    [
        (2.0, "uniform", 1.0, "averaging"),  # much noise, little lag: wider wins
        (0.05, "exponential", 4.0, "lag"),  # little noise: the extra lag costs more
        (0.8, "uniform", 4.0, "balance"),  # the two about cancel
        (0.0, "exponential", 4.0, None),  # no noise to average away: no trade-off
        (0.8, "uniform", 20.0, None),  # the 20-sample length caps the wider kernel
    ],
)
def test_width_tradeoff_verdicts_follow_the_measured_parts(noise, kind, width, verdict):
    from engine.conv.smoothing_1d import WIDER, relative_change, tradeoff_verdict, width_tradeoff

    true, noisy = spacecraft_track(n=200, noise=noise, seed=0)
    tradeoff = width_tradeoff(true, noisy, kind, width, 20)
    assert tradeoff_verdict(tradeoff) == verdict
    assert tradeoff.wider.width == width * WIDER
    wide = causal_smooth(noisy, age_kernel(kind, width * WIDER, 20))
    assert tradeoff.wider.total == pytest.approx(np.sqrt(np.mean((wide - true) ** 2)))
    assert tradeoff.total == relative_change(tradeoff.current.total, tradeoff.wider.total)
    assert tradeoff.same_kernel == (verdict is None and noise > 0)


def _tradeoff(noise: float, lag: float, total: float):
    from engine.conv.smoothing_1d import SmoothingParts, WidthTradeoff, relative_change

    before = SmoothingParts(4.0, 1.0, 1.0, 1.0, 2.0)
    after = SmoothingParts(8.0, noise, lag, total, 4.0)
    return WidthTradeoff(
        before,
        after,
        False,
        relative_change(1.0, noise),
        relative_change(1.0, lag),
        relative_change(1.0, total),
    )


def test_tradeoff_verdict_on_both_sides_of_each_threshold():
    from engine.conv.smoothing_1d import CHANGE_TOL, tradeoff_verdict

    step = 1.5 * CHANGE_TOL
    assert tradeoff_verdict(_tradeoff(1 - step, 1 + step, 1 - step)) == "averaging"
    assert tradeoff_verdict(_tradeoff(1 - step, 1 + step, 1 + step)) == "lag"
    assert tradeoff_verdict(_tradeoff(1 - step, 1 + step, 1.0)) == "balance"
    assert tradeoff_verdict(_tradeoff(1 - step / 3, 1 + step, 1 + step)) is None  # noise same
    assert tradeoff_verdict(_tradeoff(1 - step, 1 + step / 3, 1 - step)) is None  # lag same
