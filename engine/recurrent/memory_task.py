"""Can a network remember one symbol for D steps? A memory task learned live, RNN against LSTM.

Each sequence shows a symbol (one of `symbols`, with a "first" flag) then `delay` random distractor
symbols; after the last one the network must name the first symbol. The only way to learn it is a
gradient that survives `delay` steps back in time (the "remember the first symbol" task; Hochreiter
& Schmidhuber 1997 used longer versions). Chance is 1 / symbols. Everything is seeded: the same
arguments give the same accuracy on the same machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.core import ExplorerError, one_thread, seeded

__all__ = [
    "KINDS",
    "MAX_DELAY",
    "MAX_HIDDEN",
    "MAX_STEPS",
    "MEMORY_BATCH",
    "MEMORY_FORGET_BIAS",
    "MEMORY_LEARNED",
    "MEMORY_SYMBOLS",
    "MEMORY_WORK_CAP",
    "MemoryTaskError",
    "chance_accuracy",
    "longest_learned",
    "memory_curve",
    "memory_task",
    "memory_work",
]

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
MAX_DELAY, MAX_STEPS, MAX_HIDDEN = 200, 2000, 128
EVAL_SEQUENCES = 512
MEMORY_SYMBOLS, MEMORY_BATCH, MEMORY_FORGET_BIAS = 4, 64, 3.0  # memory_task's defaults
MEMORY_LEARNED = 0.9  # test accuracy from which a delay counts as learned
# Cap on training steps × sequence steps × networks for one live run (see memory_work); beyond it
# a shared server is tied up for too long.
MEMORY_WORK_CAP = 250_000


class MemoryTaskError(ExplorerError):
    """A memory-task setting outside the accepted ranges; the message gives them."""


class _Rememberer(nn.Module):
    """One recurrent layer reading the sequence, a linear readout of its last state."""

    def __init__(self, kind: str, symbols: int, hidden: int) -> None:
        super().__init__()
        self.rnn = KINDS[kind](symbols + 1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, symbols)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1])  # (B, symbols)


def _batch(
    size: int, delay: int, symbols: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Return (x (B, delay + 1, symbols + 1) one-hot with the flag channel, target (B,))."""
    seq = torch.randint(0, symbols, (size, delay + 1), generator=generator)
    x = F.one_hot(seq, symbols + 1).float()
    x[:, 0, symbols] = 1.0  # the flag: "this is the one to remember"
    return x, seq[:, 0]


def memory_task(
    kind: str,
    delay: int,
    steps: int = 300,
    seed: int = 0,
    hidden: int = 32,
    symbols: int = MEMORY_SYMBOLS,
    batch: int = MEMORY_BATCH,
    lr: float = 1e-2,
    forget_bias: float = MEMORY_FORGET_BIAS,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Return test accuracy (0..1) of a `kind` net trained `steps` Adam steps at this delay.

    The LSTM's forget-gate bias starts at forget_bias (σ(3) ≈ 0.95: start by remembering; Gers et
    al. 2000). At 0 the LSTM forgets half its cell each step and fails like the RNN. If
    should_stop() turns True during training, the run is abandoned and NaN returned.
    """
    _check(kind, delay, steps, hidden, symbols, batch)
    if not (0 < lr <= 1 and -10 <= forget_bias <= 10):
        raise MemoryTaskError("lr must be in (0, 1] and forget_bias between -10 and 10.")
    generator = seeded(seed)
    model = _Rememberer(kind, symbols, hidden)
    with torch.no_grad():
        for p in model.parameters():  # PyTorch's default range, from our generator
            p.uniform_(-(hidden**-0.5), hidden**-0.5, generator=generator)
        if kind == "lstm":
            model.rnn.bias_ih_l0[hidden : 2 * hidden] += forget_bias
    test_x, test_y = _batch(EVAL_SEQUENCES, delay, symbols, seeded(seed + 7))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # One intra-op thread: these ops are too small to split, and on a busy 2-core machine two
    # threads made each run ~10x slower (measured 14 s against 0.6 s).
    with torch.enable_grad(), one_thread():
        for _ in range(steps):
            if should_stop is not None and should_stop():
                return float("nan")
            x, y = _batch(batch, delay, symbols, generator)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    with torch.inference_mode(), one_thread():
        return float((model(test_x).argmax(1) == test_y).float().mean())


def memory_curve(
    kinds: Sequence[str],
    delays: Sequence[int],
    steps: int = 300,
    seed: int = 0,
    progress: Callable[[float, str, dict[str, np.ndarray]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    **settings: int | float,
) -> dict[str, np.ndarray]:
    """Return {kind: accuracies (len(delays),)}, NaN for runs not finished before should_stop().

    progress(fraction done, label, a copy of the curves so far) is called after each run.
    """
    kinds, delays = list(kinds), list(delays)
    if not kinds or not delays or len(kinds) * len(delays) > 60:
        raise MemoryTaskError("Choose 1 to 60 runs in all (kinds × delays).")
    curves = {kind: np.full(len(delays), np.nan) for kind in kinds}
    done, total = 0, len(kinds) * len(delays)
    for j, delay in enumerate(delays):
        for kind in kinds:
            if should_stop is not None and should_stop():
                return curves
            curves[kind][j] = memory_task(
                kind, delay, steps, seed, should_stop=should_stop, **settings
            )
            done += 1
            if progress is not None:
                label = f"{kind.upper()}, delay {delay}: {curves[kind][j]:.0%}"
                progress(done / total, label, {k: v.copy() for k, v in curves.items()})
    return curves


def memory_work(kinds: Sequence[str], delays: Sequence[int], steps: int) -> int:
    """Return the work of memory_curve(kinds, delays, steps): steps × Σ(D + 1) × networks."""
    return steps * sum(d + 1 for d in delays) * len(kinds)


def chance_accuracy(symbols: int = MEMORY_SYMBOLS) -> float:
    """Return the accuracy of guessing one of `symbols` at random."""
    return 1 / symbols


def longest_learned(
    delays: Sequence[int], accuracies: Sequence[float], threshold: float = MEMORY_LEARNED
) -> int | None:
    """Return the longest delay whose accuracy reaches threshold, or None if none does."""
    learned = [d for d, a in zip(delays, accuracies, strict=True) if a >= threshold]
    return max(learned) if learned else None


def _check(kind: str, delay: int, steps: int, hidden: int, symbols: int, batch: int) -> None:
    if kind not in KINDS:
        raise MemoryTaskError(
            "Unknown kind {kind!r}: choose one of {kinds}.", kind=kind, kinds=", ".join(KINDS)
        )
    limits = {
        "delay": (delay, 0, MAX_DELAY),
        "steps": (steps, 1, MAX_STEPS),
        "hidden": (hidden, 1, MAX_HIDDEN),
        "symbols": (symbols, 2, 16),
        "batch": (batch, 1, 512),
    }
    for name, (value, low, high) in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise MemoryTaskError(
                "{name} must be a whole number from {low} to {high}.", name=name, low=low, high=high
            )
