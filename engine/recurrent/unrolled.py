"""What an unrolled one-layer RNN shows: shared-weight counts, one step's terms, saturation, and how
a change at one step spreads through both directions of a bidirectional RNN.

The unrolled graph of h_t = f(W h_{t-1} + U x_t + b) uses the same W, U and b at every step; a
bidirectional layer runs a second RNN from the end, so o_t = [h→_t ; h←_t] depends on the whole
sequence (Schuster & Paliwal 1997).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor, nn

from engine.core import N_, Phrase
from engine.recurrent.traces import RecurrentConfigError, RNNTrace, bidirectional_trace

__all__ = [
    "MAX_UNROLLED_STEPS",
    "MOVED",
    "TANH_SATURATED",
    "PerturbationResponse",
    "StepTerms",
    "perturbation_response",
    "saturated_share",
    "step_terms",
    "unmoved_reason",
    "weight_counts",
]

MAX_UNROLLED_STEPS = 12  # an unrolled graph wider than this no longer fits numbers you can read
MOVED = 1e-6  # a state "moved" when some unit changed by more than this (float32 noise is less)
TANH_SATURATED = 0.99  # |h| beyond this: tanh is flat there, large inputs all look alike


def weight_counts(rnn: nn.RNN, steps: int) -> tuple[int, int]:
    """Return (distinct weights, weight uses in the graph unrolled over `steps`) of a 1-layer RNN.

    Every step uses all of U and both biases; every step after the first also uses all of W
    (h_0 = 0 contributes nothing): T·(H·I + 2H) + (T − 1)·H·H uses.
    """
    per_step = rnn.weight_ih_l0.numel()
    if rnn.bias:
        per_step += rnn.bias_ih_l0.numel() + rnn.bias_hh_l0.numel()
    distinct = sum(p.numel() for p in rnn.parameters())
    return distinct, steps * per_step + max(steps - 1, 0) * rnn.weight_hh_l0.numel()


@dataclass(frozen=True)
class StepTerms:
    """The terms of h_t = f(W h_{t-1} + U x_t + b) at one step t; each array is (H,)."""

    recurrent: np.ndarray  # W h_{t-1}
    input: np.ndarray  # U x_t
    bias: np.ndarray  # b = b_ih + b_hh (PyTorch keeps two bias vectors)
    pre_activation: np.ndarray  # the sum of the three
    hidden: np.ndarray  # h_t
    previous: np.ndarray  # h_{t-1}; zeros at t = 0

    @property
    def input_norm(self) -> float:
        """Return ||U x_t||: how much the step's own input contributes."""
        return float(np.linalg.norm(self.input))

    @property
    def recurrent_norm(self) -> float:
        """Return ||W h_{t-1}||: how much everything before the step contributes."""
        return float(np.linalg.norm(self.recurrent))

    @property
    def has_past(self) -> bool:
        """Return True when W h_{t-1} is not zero: something before the step reaches it."""
        return self.recurrent_norm > 0


def step_terms(rnn: nn.RNN, trace: RNNTrace, t: int) -> StepTerms:
    """Return the StepTerms of step t of an rnn_trace of this rnn."""
    b_ih, b_hh = (rnn.bias_ih_l0, rnn.bias_hh_l0) if rnn.bias else (None, None)
    b_ih = np.zeros(rnn.hidden_size) if b_ih is None else b_ih.detach().numpy()
    b_hh = np.zeros(rnn.hidden_size) if b_hh is None else b_hh.detach().numpy()
    hidden = trace.hidden.numpy()
    return StepTerms(
        recurrent=trace.recurrent_part[t].numpy() - b_hh,
        input=trace.input_part[t].numpy() - b_ih,
        bias=b_ih + b_hh,
        pre_activation=trace.pre_activation[t].numpy(),
        hidden=hidden[t],
        previous=hidden[t - 1] if t > 0 else np.zeros(rnn.hidden_size, dtype=hidden.dtype),
    )


def saturated_share(hidden: Tensor | np.ndarray, nonlinearity: str) -> float:
    """Return the share of |h| values beyond TANH_SATURATED (0 for relu, which never saturates)."""
    if nonlinearity != "tanh":
        return 0.0
    return float(np.mean(np.abs(np.asarray(hidden)) > TANH_SATURATED))


@dataclass(frozen=True)
class PerturbationResponse:
    """Both directions of a bidirectional RNN before and after x_position += delta."""

    position: int  # the perturbed step
    forward: np.ndarray  # (T, H) forward states before the change
    backward: np.ndarray  # (T, H) backward states before, in time order
    forward_change: np.ndarray  # (T, H) after − before
    backward_change: np.ndarray  # (T, H)
    tolerance: float  # a change above this counts as moved

    @property
    def forward_norms(self) -> np.ndarray:
        """Return ||Δh→_t|| per step ((T,))."""
        return np.linalg.norm(self.forward_change, axis=1)

    @property
    def backward_norms(self) -> np.ndarray:
        """Return ||Δh←_t|| per step ((T,))."""
        return np.linalg.norm(self.backward_change, axis=1)

    @property
    def changed(self) -> np.ndarray:
        """Return (2H, T) bool: which units of [h→ ; h←] moved at which step."""
        both = np.concatenate([self.forward_change.T, self.backward_change.T])
        return np.abs(both) > self.tolerance

    @property
    def forward_moved(self) -> np.ndarray:
        """Return (T,) bool: the steps where the forward state moved."""
        return self.forward_norms > self.tolerance

    @property
    def backward_moved(self) -> np.ndarray:
        """Return (T,) bool: the steps where the backward state moved."""
        return self.backward_norms > self.tolerance

    @property
    def moved_anywhere(self) -> np.ndarray:
        """Return (T,) bool: the steps where either direction, so o_t, moved."""
        return self.forward_moved | self.backward_moved

    @property
    def forward_is_causal(self) -> bool:
        """Return True when the forward state moved at no step before the change."""
        return not self.forward_moved[: self.position].any()

    @property
    def backward_is_causal(self) -> bool:
        """Return True when the backward state moved at no step after the change."""
        return not self.backward_moved[self.position + 1 :].any()


def perturbation_response(
    module: nn.RNN, x: Tensor, position: int, delta: float, tolerance: float = MOVED
) -> PerturbationResponse:
    """Return how both directions of a bidirectional module move when x[position] += delta."""
    before = bidirectional_trace(module, x)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(x):
        raise RecurrentConfigError("The perturbed step must be from 0 to {last}.", last=len(x) - 1)
    x2 = x.clone()
    x2[position] += delta
    after = bidirectional_trace(module, x2)
    fwd, bwd = before.forward.hidden.numpy(), before.backward.hidden.numpy()
    return PerturbationResponse(
        position=position,
        forward=fwd,
        backward=bwd,
        forward_change=after.forward.hidden.numpy() - fwd,
        backward_change=after.backward.hidden.numpy() - bwd,
        tolerance=tolerance,
    )


def unmoved_reason(module: nn.RNN, delta: float) -> Phrase:
    """Return why some position of o_t did not move after x_t += delta (the first that applies).

    δ = 0 moves nothing; U = 0 lets no input in; W = 0 passes nothing between steps; ReLU stops
    a change at a unit whose pre-activation stays negative; otherwise tanh, flat where saturated,
    shrank it below MOVED.
    """
    if delta == 0:
        return Phrase(N_("δ = 0 changes nothing"))
    if _all_zero(module, "weight_ih_l0"):
        return Phrase(N_("with U = 0 the input never reaches the state"))
    if _all_zero(module, "weight_hh_l0"):
        return Phrase(N_("with W = 0 nothing passes from one step to the next"))
    if module.nonlinearity == "relu":
        return Phrase(
            N_("ReLU outputs 0 wherever the pre-activation stays negative: the change stops there")
        )
    return Phrase(
        N_("where tanh is saturated it flattens the change below {moved}"), moved=f"{MOVED:g}"
    )


def _all_zero(module: nn.RNN, name: str) -> bool:
    """Return True when the weight `name` is zero in every direction of the module."""
    weights = [getattr(module, name), getattr(module, f"{name}_reverse", getattr(module, name))]
    return all(not w.detach().any() for w in weights)
