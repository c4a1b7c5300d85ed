"""How well, and how fast, does each kind of network learn MNIST-1D on this machine?

`fit_mnist1d` trains one of seven ~5k-weight classifiers (engine/sequence/models.py) on MNIST-1D
(engine/sequence/mnist1d_data.py) with Adam (lr 1e-2, batch 100: the settings of Greydanus & Kobak's
notebooks/train.py) and reports test accuracy, wall-clock seconds and a learning curve. Everything
random (the initial weights, the order of the minibatches) comes from torch.Generators seeded with
`seed`; the global generators are never drawn from.

Threads: on CPU the training runs on one intra-op thread. These models are tiny; a second thread
buys little, and when the two cores are shared with other work OpenMP's spinning workers made a GRU
step 25× slower (measured); see engine.core.one_thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.core import ExplorerError, default_device, one_thread, seeded
from engine.sequence.mnist1d_data import arrays
from engine.sequence.models import ARCHS, UnknownArchError, build_model, count_parameters

__all__ = [
    "BATCH",
    "DEFAULT_STEPS",
    "EVAL_POINTS",
    "LEARNING_RATE",
    "PUBLISHED_ACCURACY",
    "PUBLISHED_ACCURACY_SHUFFLED",
    "PUBLISHED_SOURCE",
    "FitResult",
    "HistoryPoint",
    "TrainingConfigError",
    "fit_mnist1d",
]

# Test accuracies published for MNIST-1D (fractions), from the table in the mnist1d README and
# Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024 (arXiv:2011.14439).
# "human" is their human-expert figure. Shuffled: the time axis permuted, as in Zhang et al. 2017.
PUBLISHED_SOURCE = (
    "Greydanus & Kobak, “Scaling Down Deep Learning with MNIST-1D”, ICML 2024 (arXiv:2011.14439); "
    "table in github.com/greydanus/mnist1d"
)
PUBLISHED_ACCURACY = {"linear": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91, "human": 0.96}
PUBLISHED_ACCURACY_SHUFFLED = {"linear": 0.32, "mlp": 0.68, "cnn": 0.56, "gru": 0.57, "human": 0.30}

# Steps (minibatches of 100) near each model's plateau: seconds, not minutes, on 2 CPU cores
# (measured quiet: cnn 92.5% in 5 s, gru 90% in ~20 s; see benchmarks/bench_mnist1d.py).
DEFAULT_STEPS = {
    "linear": 1000,
    "mlp": 1500,
    "cnn": 2000,
    "gru": 1500,
    "lstm": 2000,
    "rnn": 2000,
    "tcn": 2000,
}
BATCH = 100
LEARNING_RATE = 1e-2
EVAL_POINTS = 25  # evaluations along the run (plus step 0): the learning curve's resolution
MAX_STEPS = 50_000
TRAIN_EVAL = 1_000  # training sequences scored at each evaluation

Progress = Callable[[int, int, dict[str, float]], bool | None]


class TrainingConfigError(ExplorerError):
    """A training setting that cannot run (steps out of range, a bad seed)."""


@dataclass(frozen=True)
class HistoryPoint:
    """One evaluation during training; accuracies are fractions in [0, 1]."""

    step: int  # minibatches seen so far
    seconds: float  # wall-clock since training started, evaluations included
    loss: float  # mean training cross-entropy over the steps since the previous point
    train_acc: float  # on the first 1,000 training sequences (a quarter: evaluations stay cheap)
    test_acc: float  # on the 1,000 test sequences


@dataclass(frozen=True)
class FitResult:
    """The outcome of one fit_mnist1d run."""

    arch: str
    steps: int  # minibatches actually trained (fewer than requested if stopped)
    requested_steps: int
    seed: int
    shuffle_time: bool
    test_accuracy: float  # fraction in [0, 1] at the end of training
    train_accuracy: float  # on the first 1,000 training sequences
    seconds: float  # wall-clock training time, evaluations included, data generation excluded
    n_params: int
    history: tuple[HistoryPoint, ...]  # step 0 first, the final step last
    device: str  # "cpu" or "cuda"
    stopped_early: bool  # progress() returned True
    published_accuracy: float | None  # the paper's figure for this arch and setting, if any


def _check(arch: str, steps: int | None, seed: int) -> int:
    if arch not in ARCHS:
        raise UnknownArchError(
            "Unknown architecture {arch!r}; pick one of {names}.", arch=arch, names=", ".join(ARCHS)
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TrainingConfigError("seed must be a whole number ≥ 0, got {seed!r}.", seed=seed)
    if steps is None:
        return DEFAULT_STEPS[arch]
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise TrainingConfigError("steps must be a whole number, got {steps!r}.", steps=steps)
    if not 1 <= steps <= MAX_STEPS:
        raise TrainingConfigError(
            "steps must be between 1 and {most:,}, got {steps:,}.", most=MAX_STEPS, steps=steps
        )
    return int(steps)


@torch.no_grad()
def _accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    correct = sum(
        int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
        for i in range(0, len(x), 1000)
    )
    return correct / len(x)


def fit_mnist1d(
    arch: str,
    steps: int | None = None,
    seed: int = 0,
    shuffle_time: bool = False,
    progress: Progress | None = None,
) -> FitResult:
    """Return a FitResult after training arch on MNIST-1D for steps minibatches of 100.

    steps=None uses DEFAULT_STEPS[arch]. shuffle_time applies one fixed permutation of the 40 time
    steps (mnist1d_data.time_permutation) to every train and test sequence. progress(step, total,
    metrics) is called at step 0 and at every evaluation (about every steps/25 steps) with metrics
    {"loss", "train_acc", "test_acc", "seconds"}; returning True stops training there (the result
    then has stopped_early=True and the accuracies of that moment). Nothing is shared between calls
    except the read-only dataset, so concurrent calls do not disturb one another.
    """
    total = _check(arch, steps, seed)
    device = default_device()
    data = _Data(*(torch.tensor(a, device=device) for a in arrays(shuffle_time)))
    model = build_model(arch, data.x_train.shape[1], seed=int(seed)).to(device)
    with one_thread():
        run = _Run(model, data, total, progress)
        step = run.train(seeded(seed))  # the generator fixes the minibatch order
        seconds = time.perf_counter() - run.start
    last = run.history[-1]
    return FitResult(
        arch=arch,
        steps=step,
        requested_steps=total,
        seed=int(seed),
        shuffle_time=bool(shuffle_time),
        test_accuracy=last.test_acc,
        train_accuracy=last.train_acc,
        seconds=seconds,
        n_params=count_parameters(model),
        history=tuple(run.history),
        device=device.type,
        stopped_early=run.stopped and step < total,
        published_accuracy=(
            PUBLISHED_ACCURACY_SHUFFLED if shuffle_time else PUBLISHED_ACCURACY
        ).get(arch),
    )


@dataclass(frozen=True)
class _Data:
    """MNIST-1D as tensors on the training device: (4000, 40), (4000,), (1000, 40), (1000,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


class _Run:
    """One training run: the model, its optimizer, the evaluations so far and whether to stop."""

    def __init__(
        self, model: torch.nn.Module, data: _Data, total: int, progress: Progress | None
    ) -> None:
        self.model, self.data, self.total, self.progress = model, data, total, progress
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        self.eval_every = max(1, math.ceil(total / EVAL_POINTS))
        self.history: list[HistoryPoint] = []
        self.stopped = False
        self.start = time.perf_counter()

    def train(self, batch_gen: torch.Generator) -> int:
        """Train until total steps or a stop; return the steps trained."""
        self.evaluate(0, self.initial_loss())
        loss_sum, loss_count, step = 0.0, 0, 0
        batches = _minibatches(len(self.data.x_train), batch_gen, self.data.x_train.device)
        while not self.stopped and step < self.total:
            loss_sum, loss_count, step = (
                loss_sum + self.step(next(batches)),
                loss_count + 1,
                step + 1,
            )
            if step % self.eval_every == 0 or step == self.total:
                self.evaluate(step, loss_sum / loss_count)
                loss_sum, loss_count = 0.0, 0
        return step

    @torch.no_grad()
    def initial_loss(self) -> float:
        """Return the untrained model's cross-entropy on the training sequences scored."""
        x, y = self.data.x_train[:TRAIN_EVAL], self.data.y_train[:TRAIN_EVAL]
        return F.cross_entropy(self.model(x), y).item()

    def step(self, idx: torch.Tensor) -> float:
        """Take one Adam step on the minibatch idx; return its loss."""
        loss = F.cross_entropy(self.model(self.data.x_train[idx]), self.data.y_train[idx])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def evaluate(self, step: int, loss: float) -> None:
        """Record a HistoryPoint at step and report it; a progress() of True sets stopped."""
        self.model.eval()
        d = self.data
        point = HistoryPoint(
            step=step,
            seconds=time.perf_counter() - self.start,
            loss=loss,
            train_acc=_accuracy(self.model, d.x_train[:TRAIN_EVAL], d.y_train[:TRAIN_EVAL]),
            test_acc=_accuracy(self.model, d.x_test, d.y_test),
        )
        self.model.train()
        self.history.append(point)
        if self.progress is not None:
            metrics = {k: getattr(point, k) for k in ("loss", "train_acc", "test_acc", "seconds")}
            self.stopped = bool(self.progress(step, self.total, metrics))


def _minibatches(n: int, gen: torch.Generator, device: torch.device) -> Iterator[torch.Tensor]:
    """Yield index batches of BATCH forever: a fresh permutation of range(n) per epoch."""
    while True:
        perm = torch.randperm(n, generator=gen).to(device)
        for cursor in range(0, n - BATCH + 1, BATCH):
            yield perm[cursor : cursor + BATCH]
