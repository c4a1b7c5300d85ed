"""What is a convolution in one dimension? The noisy spacecraft of Goodfellow et al., §9.1.

A laser reports a spacecraft's position x(a) at each time a, with noise. Averaging recent
measurements with a weighting w(age) that favours recent ones gives a smoothed estimate
s(t) = sum_a x(a) w(t - a): a convolution, written s = x * w. Weights for future measurements
(negative ages) are zero by construction, so the estimate never peeks ahead.
"""

from __future__ import annotations

import math

import numpy as np

from engine.conv.arithmetic import ConvConfigError
from engine.core import check_int, check_number

MAX_SAMPLES = 100_000
AGE_KERNELS = ("exponential", "half-gaussian", "uniform")


def spacecraft_track(
    n: int = 200, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return (true_position (n,), noisy_measurements (n,)): a smooth, coasting, wobbling track."""
    n = check_int("number of samples", n, 2, MAX_SAMPLES, error=ConvConfigError)
    noise = check_number("noise", noise, error=ConvConfigError)
    if noise < 0:
        raise ConvConfigError(f"noise is a standard deviation and cannot be negative, got {noise}.")
    rng = np.random.default_rng(check_int("seed", seed, 0, error=ConvConfigError))
    t = np.linspace(0.0, 1.0, n)  # mission time, 0..1
    velocity, wobble, phase = (
        rng.uniform(8.0, 12.0),
        rng.uniform(1.5, 3.0),
        rng.uniform(0, 2 * np.pi),
    )
    true_position = (
        velocity * t + wobble * np.sin(2 * np.pi * 1.5 * t + phase) - wobble * np.sin(phase)
    )
    measurements = true_position + noise * rng.standard_normal(n)
    return true_position, measurements


def age_kernel(kind: str, width: float, length: int) -> np.ndarray:
    """Return w(a) for ages a = 0..length-1: non-negative, summing to 1, largest for the newest.

    exponential: exp(-a / width); half-gaussian: exp(-a² / (2 width²)); uniform: equal weight for
    the ceil(width) newest measurements (at least one), none for older ones.
    """
    key = kind.strip().lower() if isinstance(kind, str) else kind
    if key not in AGE_KERNELS:
        raise ConvConfigError(
            f"Unknown age kernel {kind!r}; choose one of: {', '.join(AGE_KERNELS)}."
        )
    length = check_int("kernel length", length, 1, MAX_SAMPLES, error=ConvConfigError)
    width = check_number("width", width, error=ConvConfigError)
    if width <= 0:
        raise ConvConfigError(f"width must be positive (it is a time scale), got {width}.")
    ages = np.arange(length, dtype=np.float64)
    if key == "exponential":
        w = np.exp(-ages / width)
    elif key == "half-gaussian":
        w = np.exp(-(ages**2) / (2 * width**2))
    else:
        w = (ages < max(1, math.ceil(width))).astype(np.float64)
    return w / w.sum()  # age 0 always has weight 1 before this, so the sum is >= 1


def causal_smooth(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return s (n,) with s(t) = sum_{a<=t} x(a) w(t-a), renormalised where the history is short.

    Near the start fewer than len(w) measurements exist; their weights are scaled up so they carry
    w's full total, i.e. s(t) is the weighted average of the measurements that exist. Once t >=
    len(w) - 1 nothing is rescaled and s equals np.convolve(x, w)[:n]. If every available weight is
    zero (w starts with zeros), s(t) is NaN: there is no estimate yet.
    """
    x = _check_signal("measurements x", x)
    w = _check_signal("kernel w", w)
    if (w < 0).any():
        raise ConvConfigError("kernel w must be non-negative: it weights measurements by age.")
    total = w.sum()
    if total <= 0:
        raise ConvConfigError("kernel w must have some positive weight.")
    n = len(x)
    raw = np.convolve(x, w)[:n]  # sum over the ages that exist at each t
    available = np.cumsum(w)[np.minimum(np.arange(n), len(w) - 1)]  # weight of those ages
    # Only the steps renormalised_until names are rescaled; from there on s is exactly convolve.
    short = np.arange(n) < renormalised_until(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(short, raw * (total / available), raw)
        return np.where(available > 0, scaled, np.nan)


def renormalised_until(w: np.ndarray) -> int:
    """Return the first t at which no weight of w falls before the record starts.

    That is the age of w's oldest nonzero weight: at every earlier t, causal_smooth rescales the
    weights of the measurements that exist; from it on, s(t) is the plain convolution.
    """
    w = _check_signal("kernel w", w)
    nonzero = np.nonzero(w)[0]
    return int(nonzero[-1]) if nonzero.size else 0


def smoothing_terms(x: np.ndarray, w: np.ndarray, t: int) -> list[tuple[int, float, float]]:
    """Return s(t)'s terms as (time a, measurement x(a), weight used), newest first.

    Only nonzero weights of existing measurements appear; the weights are the ones causal_smooth
    uses, rescaled near the start, so x(a) times weight summed over the terms is s(t).
    """
    x, w = _check_signal("measurements x", x), _check_signal("kernel w", w)
    t = check_int("time step t", t, 0, len(x) - 1, error=ConvConfigError)
    ages = [age for age in range(min(t + 1, len(w))) if w[age] > 0]
    used = float(sum(w[age] for age in ages))
    if used <= 0:
        raise ConvConfigError(f"No measurement before t = {t} has any weight yet.")
    scale = w.sum() / used if t < renormalised_until(w) else 1.0
    return [(t - age, float(x[t - age]), float(w[age] * scale)) for age in ages]


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Return the root-mean-square distance between an estimate and the truth (NaN ignored)."""
    estimate, truth = np.asarray(estimate, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if estimate.shape != truth.shape or estimate.size == 0:
        raise ConvConfigError(
            f"rmse needs two equal non-empty shapes, got {estimate.shape}, {truth.shape}."
        )
    return float(np.sqrt(np.nanmean((estimate - truth) ** 2)))


def error_change(before: float, after: float) -> str:
    """Return "lower", "higher" or "equal": how the error after smoothing compares with before."""
    before = check_number("error before", before, error=ConvConfigError)
    after = check_number("error after", after, error=ConvConfigError)
    if after == before:
        return "equal"
    return "lower" if after < before else "higher"


def _check_signal(name: str, values: object) -> np.ndarray:
    """Return values as a finite 1-D float64 array, or raise ConvConfigError."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ConvConfigError(f"{name} must be a non-empty 1-D array, got shape {array.shape}.")
    if array.size > MAX_SAMPLES:
        raise ConvConfigError(f"{name} is capped at {MAX_SAMPLES} samples, got {array.size}.")
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ConvConfigError(f"{name} must hold real numbers, got dtype {array.dtype}.")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ConvConfigError(f"{name} contains NaN or infinity.")
    return array
