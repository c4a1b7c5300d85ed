"""How many weights and multiply-adds does a dense, a convolutional and a recurrent layer need?

Closed forms, written out so a reader can follow them; tests check every one against the parameter
count of the matching torch module and against torch's own FLOP counter.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from engine.conv.arithmetic import ConvConfigError


class LayerSizeError(ConvConfigError):
    """A layer size a person asked for that makes no sense (zero, negative, or absurdly large)."""


MAX_DIM = 10**12  # any single size above this is a typo, not a layer


@dataclass(frozen=True)
class LayerCost:
    """Weights, biases and multiply-adds of one layer for one input (batch of 1)."""

    kind: str
    weights: int  # multiplicative parameters
    biases: int
    macs: int  # multiply-accumulate operations for one forward pass
    fan_in: int  # inputs that each output unit reads directly

    @property
    def parameters(self) -> int:
        return self.weights + self.biases


def _check(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool):
            raise LayerSizeError(
                "{name} must be a whole number, got {value!r}.", name=name, value=value
            )
        try:
            value = operator.index(value)  # ints and NumPy integers; floats are refused
        except TypeError:
            raise LayerSizeError(
                "{name} must be a whole number, got {value!r}.", name=name, value=value
            ) from None
        if value < 1:
            raise LayerSizeError("{name} must be at least 1, got {value}.", name=name, value=value)
        if value > MAX_DIM:
            raise LayerSizeError(
                "{name} = {value:,} is larger than {limit:,}; pick a smaller size.",
                name=name,
                value=value,
                limit=MAX_DIM,
            )


def dense(n_in: int, n_out: int) -> LayerCost:
    """Return the cost of a fully connected layer: every output reads every input (n_in·n_out)."""
    _check(n_in=n_in, n_out=n_out)
    return LayerCost("dense", weights=n_in * n_out, biases=n_out, macs=n_in * n_out, fan_in=n_in)


def conv2d(height: int, width: int, c_in: int, c_out: int, k: int) -> LayerCost:
    """Return the cost of a k×k, stride-1, 'same'-padded convolution: k·k·c_in·c_out weights."""
    _check(height=height, width=width, c_in=c_in, c_out=c_out, k=k)
    weights = k * k * c_in * c_out
    # Each of the H·W·c_out outputs does k·k·c_in multiply-adds (padding taps count, as in torch).
    return LayerCost("convolution", weights, c_out, height * width * weights, fan_in=k * k * c_in)


def locally_connected(height: int, width: int, c_in: int, c_out: int, k: int) -> LayerCost:
    """Return the cost of a k×k 'same'-padded layer with NO kernel sharing across positions."""
    shared = conv2d(height, width, c_in, c_out, k)
    positions = height * width
    return LayerCost(
        "locally connected",
        weights=shared.weights * positions,
        biases=c_out * positions,
        macs=shared.macs,
        fan_in=shared.fan_in,
    )


def rnn(n_in: int, hidden: int, steps: int) -> LayerCost:
    """Return the cost of a vanilla RNN over `steps` steps: U (h·n_in) and W (h·h), reused."""
    _check(n_in=n_in, hidden=hidden, steps=steps)
    weights = hidden * n_in + hidden * hidden
    # torch's nn.RNN keeps two bias vectors (b_ih and b_hh); we count what torch counts.
    return LayerCost("recurrent", weights, 2 * hidden, macs=steps * weights, fan_in=n_in + hidden)


def unshared_recurrent(n_in: int, hidden: int, steps: int) -> LayerCost:
    """Return the cost of the same unrolled graph if every step had its own U and W (no sharing)."""
    per_step = rnn(n_in, hidden, steps)
    return LayerCost(
        "unrolled, unshared",
        weights=per_step.weights * steps,
        biases=per_step.biases * steps,
        macs=per_step.macs,
        fan_in=per_step.fan_in,
    )


def sparse_1d(n_in: int, n_out: int, k: int) -> LayerCost:
    """Return the cost of a layer whose n_out outputs each read k of the n_in inputs (k·n_out)."""
    _check(n_in=n_in, n_out=n_out, k=k)
    if k > n_in:
        raise LayerSizeError(
            "Each output cannot read k = {k} of only {n_in} inputs.", k=k, n_in=n_in
        )
    return LayerCost("sparse", weights=k * n_out, biases=n_out, macs=k * n_out, fan_in=k)


def shared_1d(n_in: int, n_out: int, k: int) -> LayerCost:
    """Return the cost of a 1-D convolution: sparse like sparse_1d, but one set of k weights."""
    sparse = sparse_1d(n_in, n_out, k)
    return LayerCost("convolution", weights=k, biases=1, macs=sparse.macs, fan_in=k)


def growth_factor(counts: list[int]) -> float:
    """Return counts[-1] / counts[0]: how many times a count grows along a sweep (1.0: flat)."""
    try:
        whole = [operator.index(c) for c in counts]  # ints and numpy integers, never floats
    except TypeError:
        whole = []
    if len(whole) < 2 or min(whole) < 1:
        raise LayerSizeError("growth_factor needs two or more positive whole counts.")
    return whole[-1] / whole[0]
