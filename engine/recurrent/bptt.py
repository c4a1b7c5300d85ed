"""Why do gradients vanish or explode through time, and how does the LSTM's cell path help?

A recurrent net is unrolled over T steps on a seeded random input; the loss reads only the last
state, L = u · h_{T-1} with a fixed unit vector u, so ||dL/dh_{T-1}|| = 1 and ||dL/dh_t|| shows how
much of that signal reaches step t (autograd, float64). Recurrent matrices are random Gaussian,
rescaled to a chosen spectral radius ρ: for a linear RNN the gradient behaves like ρ^(T-1-t)
(Bengio et al. 1994; Pascanu, Mikolov & Bengio, "On the difficulty of training RNNs", 2013).
The LSTM's cell path c_t = f ⊙ c_{t-1} + i ⊙ g carries gradient through products of forget gates
only (no squashing): a high forget bias keeps it open, a forget gate near 0 cuts it.
Clipping (Pascanu et al.) rescales the whole parameter gradient when its norm exceeds `clip`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from engine.core import ExplorerError, one_thread, seeded

__all__ = [
    "CARRY_BAND",
    "CARRY_FORGET_BIAS",
    "CARRY_RADIUS",
    "EXPLODED",
    "FACTOR_TOLERANCE",
    "INPUT_SCALE",
    "KINDS",
    "MAX_FORGET_BIAS",
    "MAX_HIDDEN",
    "MAX_RADIUS",
    "MAX_STEPS",
    "NONLINEARITIES",
    "VANISHED",
    "BPTTConfigError",
    "GradientFlow",
    "bptt_problem",
    "carry_verdict",
    "clip_effect",
    "compare_factor",
    "earliest_vs_latest",
    "geometric_guide",
    "gradient_flow",
    "gradient_norms",
    "norm_verdict",
    "per_step_factor",
    "recurrent_params",
    "resting_gate",
    "unroll",
]

KINDS = ("rnn", "lstm", "gru")
NONLINEARITIES = ("tanh", "relu", "linear")  # of the vanilla RNN; LSTM/GRU use sigmoid and tanh
MAX_STEPS, MAX_HIDDEN, MAX_RADIUS = 500, 128, 4.0  # the largest run (LSTM) takes seconds
INPUT_SIZE = 4
INPUT_SCALE = 0.1  # std of each unit's input term: small, so tanh starts near its linear range
MAX_FORGET_BIAS = 20.0  # σ(±20) is 1 or 0 to 9 digits: a gate held open or shut
VANISHED, EXPLODED = 1e-6, 1e6  # a gradient norm below / above this is called vanished / exploded
FACTOR_TOLERANCE = 0.01  # a per-step factor within this share of a reference "matches" it
CARRY_BAND = 0.01  # a per-step factor within 1 ± this neither vanishes nor explodes (≈ T = 60)
# Settings where the LSTM's cell path carries the gradient: forget gates near 1 (σ(5) ≈ 0.993) and
# weak recurrent weights, so the detour through h and the gates hardly adds to the direct path.
CARRY_RADIUS, CARRY_FORGET_BIAS = 0.05, 5.0
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


class BPTTConfigError(ExplorerError):
    """A setting outside what the gradient experiment accepts; the message gives the range."""


@dataclass(frozen=True)
class GradientFlow:
    """Gradient norms through time for one unrolled network; arrays are (T,), index t = step t."""

    norms: np.ndarray  # ||dL/dh_t||; norms[T-1] = 1. May hold inf/nan once float64 overflows.
    cell_norms: np.ndarray | None  # ||dL/dc_t|| along the LSTM cell path (None for rnn/gru)
    weight_grad_norm: float  # ||dL/dθ|| over all parameters, before clipping
    clip: float | None  # the threshold used, or None
    clip_scale: (
        float  # min(1, clip / weight_grad_norm): the factor clipping applies (1 = unclipped)
    )
    clipped_norms: np.ndarray  # norms × clip_scale: clipping shrinks every step alike

    @property
    def clipped_weight_grad_norm(self) -> float:
        """Return ||dL/dθ|| after clipping."""
        return self.weight_grad_norm * self.clip_scale


def recurrent_params(
    kind: str,
    hidden: int,
    spectral_radius: float,
    forget_bias: float | None = None,
    seed: int = 0,
    input_size: int = INPUT_SIZE,
    input_scale: float = INPUT_SCALE,
) -> dict[str, Tensor]:
    """Return float64 weights {w_ih (G·H, I), w_hh (G·H, H), b (G·H)}, each recurrent block at ρ.

    Input weights are scaled so each unit's input term has standard deviation input_scale
    for the unit-variance inputs of gradient_flow.
    Gate blocks follow PyTorch's order (LSTM i, f, g, o; GRU r, z, n); forget_bias sets the LSTM
    forget-gate bias or the GRU update-gate bias (high = keep the old state), default 0.
    """
    g = seeded(seed)
    gates = _GATES[kind]
    blocks = []
    for _ in range(gates):
        w = torch.randn(hidden, hidden, generator=g, dtype=torch.float64)
        radius = torch.linalg.eigvals(w).abs().max().real
        blocks.append(w * (spectral_radius / radius))
    w_ih = torch.randn(gates * hidden, input_size, generator=g, dtype=torch.float64)
    b = torch.zeros(gates * hidden, dtype=torch.float64)
    if forget_bias is not None and kind in ("lstm", "gru"):
        b[hidden : 2 * hidden] = forget_bias  # LSTM f and GRU z are both the second block
    return {"w_ih": w_ih * (input_scale / input_size**0.5), "w_hh": torch.cat(blocks), "b": b}


def bptt_problem(
    kind: str,
    T: int,
    hidden: int,
    spectral_radius: float,
    forget_bias: float | None = None,
    seed: int = 0,
    input_scale: float = INPUT_SCALE,
) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """Return (params, inputs xs (T, INPUT_SIZE), unit readout u (hidden,)) of gradient_flow."""
    if not 0 <= input_scale <= 10:
        raise BPTTConfigError("The input scale must be between 0 and 10.")
    params = recurrent_params(
        kind, hidden, spectral_radius, forget_bias, seed, INPUT_SIZE, input_scale
    )
    g = seeded(seed + 1)
    xs = torch.randn(T, INPUT_SIZE, generator=g, dtype=torch.float64)
    u = torch.randn(hidden, generator=g, dtype=torch.float64)
    return params, xs, u / u.norm()


def unroll(
    kind: str,
    params: dict[str, Tensor],
    xs: Tensor,
    h: Tensor,
    c: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> tuple[list[Tensor], list[Tensor]]:
    """Return ([h_t], [c_t] (LSTM only, else empty)) for each step of xs (T, I) from state h, c."""
    w_ih, w_hh, b = params["w_ih"], params["w_hh"], params["b"]
    hidden = w_hh.shape[1]
    proj = xs @ w_ih.T + b  # (T, G·H)
    hs, cs = [], []
    for x_part in proj:
        if kind == "rnn":
            pre = x_part + w_hh @ h
            h = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda v: v}[nonlinearity](pre)
        elif kind == "lstm":
            i, f, g, o = (x_part + w_hh @ h).split(hidden)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            cs.append(c)
        else:
            rec = w_hh @ h  # (3H,)
            r, z = torch.sigmoid(x_part[: 2 * hidden] + rec[: 2 * hidden]).split(hidden)
            n = torch.tanh(x_part[2 * hidden :] + r * rec[2 * hidden :])
            h = (1 - z) * n + z * h
        hs.append(h)
    return hs, cs


def gradient_flow(
    kind: str,
    T: int,
    hidden: int,
    spectral_radius: float,
    nonlinearity: str = "tanh",
    forget_bias: float | None = None,
    clip: float | None = None,
    seed: int = 0,
    input_scale: float = INPUT_SCALE,
) -> GradientFlow:
    """Return the GradientFlow of L = u · h_{T-1} back to every step t (see module docstring)."""
    _check(kind, T, hidden, spectral_radius, nonlinearity, forget_bias, clip)
    with one_thread():  # tiny ops: a second thread only waits
        return _flow(
            kind, T, hidden, spectral_radius, nonlinearity, forget_bias, clip, seed, input_scale
        )


def _flow(
    kind: str,
    T: int,
    hidden: int,
    spectral_radius: float,
    nonlinearity: str,
    forget_bias: float | None,
    clip: float | None,
    seed: int,
    input_scale: float,
) -> GradientFlow:
    params, xs, u = bptt_problem(kind, T, hidden, spectral_radius, forget_bias, seed, input_scale)
    leaves = [p.requires_grad_() for p in params.values()]
    zero = torch.zeros(hidden, dtype=torch.float64)
    with torch.enable_grad():
        hs, cs = unroll(
            kind, params, xs, zero, zero.clone() if kind == "lstm" else None, nonlinearity
        )
        loss = u @ hs[-1]
        grads = torch.autograd.grad(loss, [*hs, *cs, *leaves])
    norms = torch.stack([gr.norm() for gr in grads[:T]]).numpy()
    cell_norms = torch.stack([gr.norm() for gr in grads[T : T + len(cs)]]).numpy() if cs else None
    weight_norm = float(torch.cat([gr.reshape(-1) for gr in grads[T + len(cs) :]]).norm())
    scale = 1.0
    if clip is not None and np.isfinite(weight_norm) and weight_norm > clip:
        scale = clip / weight_norm
    elif clip is not None and not np.isfinite(weight_norm):
        scale = float("nan")  # an overflowed gradient cannot be rescaled to anything meaningful
    return GradientFlow(norms, cell_norms, weight_norm, clip, scale, norms * scale)


def gradient_norms(
    kind: str,
    T: int,
    hidden: int,
    spectral_radius: float,
    nonlinearity: str = "tanh",
    forget_bias: float | None = None,
    clip: float | None = None,
    seed: int = 0,
    input_scale: float = INPUT_SCALE,
) -> np.ndarray:
    """Return ||dL/dh_t|| for t = 0..T-1 ((T,) float64), after clipping when clip is given."""
    flow = gradient_flow(
        kind, T, hidden, spectral_radius, nonlinearity, forget_bias, clip, seed, input_scale
    )
    return flow.clipped_norms


def earliest_vs_latest(norms: np.ndarray) -> str:
    """Return "smaller", "larger" or "equal": the gradient norm at the first step vs the last."""
    values = np.asarray(norms, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise BPTTConfigError(
            "Gradient norms need at least two steps, got shape {shape}.", shape=values.shape
        )
    first, last = values[0], values[-1]
    if np.isclose(first, last, rtol=1e-9, atol=0.0):
        return "equal"
    return "smaller" if first < last else "larger"


def per_step_factor(norms: np.ndarray, start: int = 0, stop: int = -1) -> float:
    """Return the geometric-mean factor per step back from norms[stop] to norms[start].

    (norms[start] / norms[stop]) ** (1 / (stop - start)): the one ratio that, applied at every
    step, carries the later norm to the earlier one. 0 when the gradient at start is exactly 0;
    NaN when it is undefined (a range of no steps, an overflowed or non-positive end).
    """
    values = np.asarray(norms, dtype=np.float64)
    first, last = range(values.size)[start], range(values.size)[stop]
    if last <= first:
        return float("nan")
    early, late = values[first], values[last]
    if not (np.isfinite(early) and np.isfinite(late) and late > 0 and early >= 0):
        return float("nan")
    return float((early / late) ** (1 / (last - first)))


def geometric_guide(factor: float, T: int, end: float = 1.0) -> np.ndarray:
    """Return end · factor^(T−1−t) for t = 0..T−1 ((T,) float64): a constant factor per step."""
    return end * float(factor) ** np.arange(T - 1, -1, -1, dtype=np.float64)


def resting_gate(bias: float) -> float:
    """Return σ(bias): a sigmoid gate's value when only its bias drives it."""
    return float(1 / (1 + np.exp(-bias)))


def norm_verdict(value: float) -> str:
    """Return "overflowed", "zero", "vanished", "exploded" or "" for one gradient norm."""
    if not np.isfinite(value):
        return "overflowed"
    if value == 0:
        return "zero"
    if value < VANISHED:
        return "vanished"
    return "exploded" if value > EXPLODED else ""


def compare_factor(factor: float, reference: float, tolerance: float = FACTOR_TOLERANCE) -> str:
    """Return "matches", "below" or "above" (factor against reference), "" if factor is NaN/inf.

    "matches" means within `tolerance` of the reference *relatively*: over many steps a factor
    0.8× a small ρ drifts as far from ρ's curve as 0.8 does from 1.
    """
    if not np.isfinite(factor):
        return ""
    if abs(factor - reference) <= tolerance * abs(reference):
        return "matches"
    return "below" if factor < reference else "above"


def carry_verdict(factor: float, band: float = CARRY_BAND) -> str:
    """Return "carries" (|factor − 1| ≤ band), "shrinks", "grows" or "" (factor NaN/inf)."""
    if not np.isfinite(factor):
        return ""
    if abs(factor - 1.0) <= band:
        return "carries"
    return "shrinks" if factor < 1.0 else "grows"


def clip_effect(scale: float) -> str:
    """Return "overflowed" (NaN scale), "unchanged" (scale 1: under the threshold) or "rescaled"."""
    if not np.isfinite(scale):
        return "overflowed"
    return "unchanged" if scale >= 1.0 else "rescaled"


def _check(
    kind: str,
    T: int,
    hidden: int,
    radius: float,
    nonlinearity: str,
    forget_bias: float | None,
    clip: float | None,
) -> None:
    if kind not in KINDS:
        raise BPTTConfigError(
            "Unknown kind {kind!r}: choose one of {kinds}.", kind=kind, kinds=", ".join(KINDS)
        )
    for name, value, top in (("T", T, MAX_STEPS), ("hidden", hidden, MAX_HIDDEN)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise BPTTConfigError(
                "{name} must be a whole number from 1 to {top}.", name=name, top=top
            )
    if not isinstance(radius, int | float) or not 0 <= radius <= MAX_RADIUS:
        raise BPTTConfigError("The spectral radius must be between 0 and {top}.", top=MAX_RADIUS)
    if nonlinearity not in NONLINEARITIES:
        raise BPTTConfigError(
            "The nonlinearity must be one of {names}.", names=", ".join(NONLINEARITIES)
        )
    if forget_bias is not None and not -MAX_FORGET_BIAS <= forget_bias <= MAX_FORGET_BIAS:
        raise BPTTConfigError(
            "The forget bias must be between {low} and {high}.",
            low=f"{-MAX_FORGET_BIAS:g}",
            high=f"{MAX_FORGET_BIAS:g}",
        )
    if clip is not None and not (isinstance(clip, int | float) and 0 < clip < float("inf")):
        raise BPTTConfigError("The clipping threshold must be a positive number (or None).")
