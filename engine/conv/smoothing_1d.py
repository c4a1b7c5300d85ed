"""What is a convolution in one dimension? The noisy spacecraft of Goodfellow et al., §9.1.

A laser reports a spacecraft's position x(a) at each time a, with noise. Averaging recent
measurements with a weighting w(age) that favours recent ones gives a smoothed estimate
s(t) = sum_a x(a) w(t - a): a convolution, written s = x * w. Weights for future measurements
(negative ages) are zero by construction, so the estimate never peeks ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.conv.arithmetic import ConvConfigError
from engine.core import N_, check_int, check_number

MAX_SAMPLES = 100_000
AGE_KERNELS = (N_("exponential"), N_("half-gaussian"), N_("uniform"))  # ids: shown translated
WIDER = 2.0  # the wider kernel compared on the page is this many times as wide
CHANGE_TOL = 0.02  # a change within 2 % of the larger value counts as "about the same"


def spacecraft_track(
    n: int = 200, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return (true_position (n,), noisy_measurements (n,)): a smooth, coasting, wobbling track."""
    n = check_int(N_("number of samples"), n, 2, MAX_SAMPLES, error=ConvConfigError)
    noise = check_number(N_("noise"), noise, error=ConvConfigError)
    if noise < 0:
        raise ConvConfigError(
            "noise is a standard deviation and cannot be negative, got {noise}.", noise=noise
        )
    rng = np.random.default_rng(check_int(N_("seed"), seed, 0, error=ConvConfigError))
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
            "Unknown age kernel {kind!r}; choose one of: {choices}.",
            kind=kind,
            choices=", ".join(AGE_KERNELS),
        )
    length = check_int(N_("kernel length"), length, 1, MAX_SAMPLES, error=ConvConfigError)
    width = check_number(N_("width"), width, error=ConvConfigError)
    if width <= 0:
        raise ConvConfigError(
            "width must be positive (it is a time scale), got {width}.", width=width
        )
    ages = np.arange(length, dtype=np.float64)
    if key == "exponential":
        w = np.exp(-ages / width)
    elif key == "half-gaussian":
        w = np.exp(-(ages**2) / (2 * width**2))
    else:
        w = (ages < max(1, math.ceil(width))).astype(np.float64)
    return w / w.sum()  # age 0 always has weight 1 before this, so the sum is >= 1


NOTICEABLE = 0.1  # a weight of at least this share of the newest one's still moves the estimate


def samples_that_count(w: np.ndarray, share: float = NOTICEABLE) -> int:
    """Return how many weights are at least share × the newest weight w[0]."""
    w = _check_signal("w", w)
    share = check_number("share", share, error=ConvConfigError)
    return int(np.count_nonzero(w >= share * w[0]))


def causal_smooth(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return s (n,) with s(t) = sum_{a<=t} x(a) w(t-a), renormalised where the history is short.

    Near the start fewer than len(w) measurements exist; their weights are scaled up so they carry
    w's full total, i.e. s(t) is the weighted average of the measurements that exist. Once t >=
    len(w) - 1 nothing is rescaled and s equals np.convolve(x, w)[:n]. If every available weight is
    zero (w starts with zeros), s(t) is NaN: there is no estimate yet.
    """
    x = _check_signal(N_("measurements x"), x)
    w = _check_signal(N_("kernel w"), w)
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
    w = _check_signal(N_("kernel w"), w)
    nonzero = np.nonzero(w)[0]
    return int(nonzero[-1]) if nonzero.size else 0


def smoothing_terms(x: np.ndarray, w: np.ndarray, t: int) -> list[tuple[int, float, float]]:
    """Return s(t)'s terms as (time a, measurement x(a), weight used), newest first.

    Only nonzero weights of existing measurements appear; the weights are the ones causal_smooth
    uses, rescaled near the start, so x(a) times weight summed over the terms is s(t).
    """
    x, w = _check_signal(N_("measurements x"), x), _check_signal(N_("kernel w"), w)
    t = check_int(N_("time step t"), t, 0, len(x) - 1, error=ConvConfigError)
    ages = [age for age in range(min(t + 1, len(w))) if w[age] > 0]
    used = float(sum(w[age] for age in ages))
    if used <= 0:
        raise ConvConfigError("No measurement before t = {t} has any weight yet.", t=t)
    scale = w.sum() / used if t < renormalised_until(w) else 1.0
    return [(t - age, float(x[t - age]), float(w[age] * scale)) for age in ages]


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Return the root-mean-square distance between an estimate and the truth (NaN ignored)."""
    estimate, truth = np.asarray(estimate, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if estimate.shape != truth.shape or estimate.size == 0:
        raise ConvConfigError(
            "rmse needs two equal non-empty shapes, got {first}, {second}.",
            first=estimate.shape,
            second=truth.shape,
        )
    return float(np.sqrt(np.nanmean((estimate - truth) ** 2)))


def error_change(before: float, after: float) -> str:
    """Return "lower", "higher" or "equal": how the error after smoothing compares with before."""
    before = check_number(N_("error before"), before, error=ConvConfigError)
    after = check_number(N_("error after"), after, error=ConvConfigError)
    if after == before:
        return "equal"
    return "lower" if after < before else "higher"


def relative_change(before: float, after: float, tol: float = CHANGE_TOL) -> str:
    """Return "lower", "higher" or "similar" (|after - before| ≤ tol × the larger of the two)."""
    before = check_number(N_("value before"), before, error=ConvConfigError)
    after = check_number(N_("value after"), after, error=ConvConfigError)
    if abs(after - before) <= tol * max(abs(before), abs(after)):
        return "similar"
    return "lower" if after < before else "higher"


@dataclass(frozen=True)
class SmoothingParts:
    """One kernel's error on the track, split into what noise leaves and what lag costs."""

    width: float
    noise: float  # RMSE of the smoothed noise alone: s(noisy) - s(true)
    lag: float  # RMSE of smoothing the noise-free track: s(true) - true
    total: float  # RMSE of s(noisy) against the truth
    delay: float  # mean age of the weights, Σ a·w(a), in samples


def smoothing_parts(true: np.ndarray, noisy: np.ndarray, w: np.ndarray) -> SmoothingParts:
    """Return w's leftover noise, lag error, total error and mean delay on this track.

    The width field is left at 0; width_tradeoff fills it in.
    """
    true, noisy = _check_signal(N_("true track"), true), _check_signal(N_("measurements x"), noisy)
    w = _check_signal(N_("kernel w"), w)
    clean = causal_smooth(true, w)  # smoothing is linear: s(noisy) = s(true) + s(noise)
    smoothed = causal_smooth(noisy, w)
    ages = np.arange(len(w))
    return SmoothingParts(
        width=0.0,
        noise=rmse(smoothed - clean, np.zeros_like(clean)),
        lag=rmse(clean, true),
        total=rmse(smoothed, true),
        delay=float((ages * w).sum() / w.sum()),
    )


@dataclass(frozen=True)
class WidthTradeoff:
    """The chosen kernel against one WIDER times as wide: which error part moves which way."""

    current: SmoothingParts
    wider: SmoothingParts
    same_kernel: bool  # the wider width gives the same weights (the length caps it)
    noise: str  # relative_change of the leftover noise: "lower", "higher" or "similar"
    lag: str  # ... of the lag error
    total: str  # ... of the total error


def width_tradeoff(
    true: np.ndarray, noisy: np.ndarray, kind: str, width: float, length: int, factor: float = WIDER
) -> WidthTradeoff:
    """Return the error parts of age_kernel(kind, width, length) and of factor × the width."""
    factor = check_number(N_("width factor"), factor, error=ConvConfigError)
    if factor <= 1:
        raise ConvConfigError("The width factor must be above 1, got {factor}.", factor=factor)
    w, w_wide = age_kernel(kind, width, length), age_kernel(kind, width * factor, length)
    current = _with_width(smoothing_parts(true, noisy, w), width)
    wider = _with_width(smoothing_parts(true, noisy, w_wide), width * factor)
    return WidthTradeoff(
        current=current,
        wider=wider,
        same_kernel=bool(np.allclose(w, w_wide, rtol=0, atol=1e-12)),
        noise=relative_change(current.noise, wider.noise),
        lag=relative_change(current.lag, wider.lag),
        total=relative_change(current.total, wider.total),
    )


def _with_width(parts: SmoothingParts, width: float) -> SmoothingParts:
    return SmoothingParts(width, parts.noise, parts.lag, parts.total, parts.delay)


def tradeoff_verdict(tradeoff: WidthTradeoff) -> str | None:
    """Return which side of "averages more but lags more" wins, or None when that is not the case.

    "averaging" (less noise, more lag, lower total), "lag" (less noise, more lag, higher total),
    "balance" (less noise, more lag, total about the same); None when the wider kernel does not
    both average away noise and lag more here (e.g. σ = 0, or the length caps the width).
    """
    if tradeoff.same_kernel or (tradeoff.noise, tradeoff.lag) != ("lower", "higher"):
        return None
    return {"lower": "averaging", "higher": "lag", "similar": "balance"}[tradeoff.total]


def _check_signal(name: str, values: object) -> np.ndarray:
    """Return values as a finite 1-D float64 array, or raise ConvConfigError."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ConvConfigError(
            "{name} must be a non-empty 1-D array, got shape {shape}.", name=name, shape=array.shape
        )
    if array.size > MAX_SAMPLES:
        raise ConvConfigError(
            "{name} is capped at {cap} samples, got {size}.",
            name=name,
            cap=MAX_SAMPLES,
            size=array.size,
        )
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ConvConfigError(
            "{name} must hold real numbers, got dtype {dtype}.", name=name, dtype=array.dtype
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ConvConfigError("{name} contains NaN or infinity.", name=name)
    return array
