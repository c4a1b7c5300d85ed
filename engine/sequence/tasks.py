"""Where does each model win? Two tiny sequence tasks trained live: a local one and a counting one.

"motif": every sequence is noise with one planted 3-sample pattern at a random place, either the
motif (up, down, up → label 1) or a decoy with the same values in another order (label 0). A
convolution with global max pooling is built for this: one filter matches the motif wherever it
is (100% within about 20 steps). A recurrent net must learn to detect it on the fly and hold the
verdict to the end: the GRU gets there after ~100 steps, the LSTM and the tanh RNN not in 300.

"majority": a ±1 sequence of 31 steps with 15 or 16 ups; label 1 when the ups are the majority.
Counting is what a recurrent state does well (add one per up, compare at the end), and the gated
GRU and LSTM learn it in a few hundred steps. The CNN's units each see a few neighbours and its
global max pooling keeps the strongest local window, not a total, so a one-step difference in the
count is invisible to it: it stays far from perfect (about 65% with the defaults).

The task CNN uses "valid" convolutions (no padding), so every window is treated alike: with zero
padding a CNN can tell where the sequence starts, and position would leak in through the border.

Data are drawn fresh every step from a seeded generator; the test set (1,000 sequences) comes
from a separate seed. Each model has a few hundred weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.core import N_, one_thread, seeded
from engine.sequence.models import count_parameters, init_parameters_
from engine.sequence.text import SequenceError

__all__ = [
    "MAX_TASK_STEPS",
    "MOTIF_LENGTH",
    "TASKS",
    "TASK_ARCHS",
    "TASK_BATCH",
    "TASK_CHANCE",
    "TASK_STEPS",
    "TASK_TEST_SIZE",
    "TaskPoint",
    "TaskResult",
    "TaskSpec",
    "make_batch",
    "synthetic_task",
]

TASK_ARCHS = ("cnn", "gru", "lstm", "rnn")
MAX_TASK_STEPS = 5_000
TASK_BATCH = 64  # sequences per training step
TASK_STEPS = 300  # synthetic_task's default training steps
TASK_TEST_SIZE = 1_000  # held-out sequences scored
TASK_CHANCE = 0.5  # both tasks are yes/no questions with balanced answers


@dataclass(frozen=True)
class TaskSpec:
    """A synthetic task: its length, which model it favours, and why (one line each)."""

    title: str
    length: int  # T
    winner: str  # "cnn" or "rnn"
    idea: str


TASKS = {
    "motif": TaskSpec(
        N_("Find a local pattern anywhere"),
        64,
        "cnn",
        N_(
            "One 3-sample motif (up, down, up) hides in noise; a decoy uses the same values "
            "reordered."
        ),
    ),
    "majority": TaskSpec(
        N_("Are there more ups than downs?"),
        31,
        "rnn",
        N_("Counting over the whole sequence: 15 or 16 of the 31 steps go up."),
    ),
}
MOTIF = torch.tensor([3.0, -3.0, 3.0])
DECOY = torch.tensor([3.0, 3.0, -3.0])
MOTIF_LENGTH = len(MOTIF)  # samples in the motif (and the decoy)


@dataclass(frozen=True)
class TaskPoint:
    """One evaluation during synthetic-task training."""

    step: int
    seconds: float
    loss: float  # mean training loss since the previous point
    accuracy: float  # on the fixed test set, a fraction


@dataclass(frozen=True)
class TaskResult:
    """The outcome of synthetic_task."""

    task: str
    arch: str
    steps: int
    accuracy: float  # final test accuracy (chance is 0.5)
    seconds: float
    n_params: int
    history: tuple[TaskPoint, ...]  # step 0 first
    stopped_early: bool


def make_batch(task: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x (n, T) float32, y (n,) int64) for task, drawn from generator."""
    length = TASKS[task].length
    if task == "motif":
        x = 0.5 * torch.randn(n, length, generator=generator)  # (n, T)
        y = torch.randint(0, 2, (n,), generator=generator)
        start = torch.randint(0, length - 2, (n,), generator=generator)
        pattern = torch.where(y[:, None] == 1, MOTIF, DECOY)  # (n, 3)
        cols = start[:, None] + torch.arange(3)  # (n, 3)
        x.scatter_(1, cols, pattern)
        return x, y
    ups = torch.randint(length // 2, length // 2 + 2, (n,), generator=generator)  # 15 or 16
    rank = torch.rand(n, length, generator=generator).argsort(1).argsort(1)  # random order
    x = torch.where(rank < ups[:, None], 1.0, -1.0)  # (n, T) ±1 with `ups` ones
    return x, (x.sum(1) > 0).long()


class _TaskCNN(nn.Module):
    def __init__(self, channels: int = 8, kernel: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, kernel)  # valid: no border to tell position by
        self.conv2 = nn.Conv1d(channels, channels, kernel)
        self.linear = nn.Linear(channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv2(F.relu(self.conv1(x[:, None, :]))))  # (B, C, T − 8)
        return self.linear(h.amax(dim=2))  # global max pool over time -> (B, C) -> (B, 2)


class _TaskRNN(nn.Module):
    def __init__(self, cell: str) -> None:
        super().__init__()
        hidden = {"gru": 12, "lstm": 10, "rnn": 20}[cell]  # ~500 weights each
        self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell](
            1, hidden, batch_first=True
        )
        self.linear = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x[:, :, None])  # (B, T, H)
        return self.linear(out[:, -1])  # the state after the last step -> (B, 2)


def _build(arch: str, seed: int) -> nn.Module:
    with torch.device("meta"):
        model = _TaskCNN() if arch == "cnn" else _TaskRNN(arch)
    return init_parameters_(model.to_empty(device="cpu"), seeded(seed))


def synthetic_task(
    task: str,
    arch: str,
    steps: int = TASK_STEPS,
    seed: int = 0,
    progress: Callable[[int, int, dict[str, float]], bool | None] | None = None,
) -> TaskResult:
    """Return a TaskResult after training arch on task for steps batches of 64 (Adam, lr 1e-2).

    progress(step, total, {"loss", "accuracy", "seconds"}) is called at step 0 and about 20 times
    along the run; returning True stops there.
    """
    if task not in TASKS:
        raise SequenceError(
            "Unknown task {task!r}; pick one of {names}.", task=task, names=", ".join(TASKS)
        )
    if arch not in TASK_ARCHS:
        raise SequenceError(
            "Unknown model {arch!r}; pick one of {names}.", arch=arch, names=", ".join(TASK_ARCHS)
        )
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_TASK_STEPS:
        raise SequenceError("steps must be a whole number from 1 to {most:,}.", most=MAX_TASK_STEPS)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SequenceError("seed must be a whole number ≥ 0, got {seed!r}.", seed=seed)
    model = _build(arch, seed)
    data_gen = seeded(seed)
    x_test, y_test = make_batch(task, TASK_TEST_SIZE, seeded(10_000 + seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    every = max(1, math.ceil(steps / 20))
    history: list[TaskPoint] = []

    with one_thread():
        start = time.perf_counter()

        def evaluate(step: int, loss: float) -> bool:
            with torch.no_grad():
                acc = float((model(x_test).argmax(1) == y_test).float().mean())
            history.append(TaskPoint(step, time.perf_counter() - start, loss, acc))
            metrics = {"loss": loss, "accuracy": acc, "seconds": history[-1].seconds}
            return bool(progress(step, steps, metrics)) if progress else False

        with torch.no_grad():
            stopped = evaluate(0, float(F.cross_entropy(model(x_test), y_test)))
        step, loss_sum, count = 0, 0.0, 0
        while not stopped and step < steps:
            x, y = make_batch(task, TASK_BATCH, data_gen)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step, loss_sum, count = step + 1, loss_sum + loss.item(), count + 1
            if step % every == 0 or step == steps:
                stopped = evaluate(step, loss_sum / count)
                loss_sum, count = 0.0, 0
        seconds = time.perf_counter() - start
    return TaskResult(
        task=task,
        arch=arch,
        steps=step,
        accuracy=history[-1].accuracy,
        seconds=seconds,
        n_params=count_parameters(model),
        history=tuple(history),
        stopped_early=stopped and step < steps,
    )
