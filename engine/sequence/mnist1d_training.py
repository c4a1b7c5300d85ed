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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.core import ExplorerError, one_thread, seeded
from engine.sequence.mnist1d_data import arrays
from engine.sequence.models import ARCHS, UnknownArchError, build_model, count_parameters

__all__ = [
    "DEFAULT_STEPS",
    "PUBLISHED_ACCURACY",
    "PUBLISHED_ACCURACY_SHUFFLED",
    "PUBLISHED_SOURCE",
    "FitResult",
    "HistoryPoint",
    "TrainingConfigError",
    "default_device",
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


def default_device() -> torch.device:
    """Return cuda if a GPU is present, else cpu."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _check(arch: str, steps: int | None, seed: int) -> int:
    if arch not in ARCHS:
        raise UnknownArchError(f"Unknown architecture {arch!r}; pick one of {', '.join(ARCHS)}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TrainingConfigError(f"seed must be a whole number ≥ 0, got {seed!r}.")
    if steps is None:
        return DEFAULT_STEPS[arch]
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise TrainingConfigError(f"steps must be a whole number, got {steps!r}.")
    if not 1 <= steps <= MAX_STEPS:
        raise TrainingConfigError(f"steps must be between 1 and {MAX_STEPS:,}, got {steps:,}.")
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
    x_tr, y_tr, x_te, y_te = arrays(shuffle_time)
    device = default_device()
    x_train = torch.tensor(x_tr, device=device)  # (4000, 40)
    x_test = torch.tensor(x_te, device=device)  # (1000, 40)
    y_train = torch.tensor(y_tr, device=device)  # (4000,)
    y_test = torch.tensor(y_te, device=device)

    model = build_model(arch, x_train.shape[1], seed=int(seed)).to(device)
    batch_gen = seeded(seed)  # minibatch order
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    eval_every = max(1, math.ceil(total / EVAL_POINTS))
    published = (PUBLISHED_ACCURACY_SHUFFLED if shuffle_time else PUBLISHED_ACCURACY).get(arch)

    history: list[HistoryPoint] = []
    stopped = False
    with one_thread():
        start = time.perf_counter()

        def evaluate(step: int, loss: float) -> bool:
            model.eval()
            point = HistoryPoint(
                step=step,
                seconds=time.perf_counter() - start,
                loss=loss,
                train_acc=_accuracy(model, x_train[:TRAIN_EVAL], y_train[:TRAIN_EVAL]),
                test_acc=_accuracy(model, x_test, y_test),
            )
            model.train()
            history.append(point)
            if progress is None:
                return False
            metrics = {k: getattr(point, k) for k in ("loss", "train_acc", "test_acc", "seconds")}
            return bool(progress(step, total, metrics))

        with torch.no_grad():
            initial_loss = F.cross_entropy(model(x_train[:TRAIN_EVAL]), y_train[:TRAIN_EVAL]).item()
        stopped = evaluate(0, initial_loss)
        perm, cursor, loss_sum, loss_count, step = torch.empty(0, dtype=torch.long), 0, 0.0, 0, 0
        while not stopped and step < total:
            if cursor + BATCH > len(perm):
                perm, cursor = torch.randperm(len(x_train), generator=batch_gen).to(device), 0
            idx = perm[cursor : cursor + BATCH]
            cursor += BATCH
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])  # (B, 10) vs (B,)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum, loss_count = loss_sum + loss.item(), loss_count + 1
            if step % eval_every == 0 or step == total:
                stopped = evaluate(step, loss_sum / loss_count)
                loss_sum, loss_count = 0.0, 0
        seconds = time.perf_counter() - start

    last = history[-1]
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
        history=tuple(history),
        device=device.type,
        stopped_early=stopped and step < total,
        published_accuracy=published,
    )
