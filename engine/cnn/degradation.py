"""Why do deeper plain networks train worse, and how do residual connections fix it?

He et al. (2016) saw the *degradation problem*: a 56-layer plain network had higher training error
than a 20-layer one, although the deeper net could copy the shallower one and set its extra
layers to the identity. Their fix: let each pair of layers learn a residual F(x) and add x back,
y = ReLU(F(x) + x), so the identity is the easy default. This module repeats the experiment small
enough for a CPU: stacks of narrow dense layers with batch norm (CIFAR ResNets' shape, 2 + 2n
weight layers, with Linear in place of Conv) on a procedural task, four-armed spirals.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.core import ExplorerError, one_thread, seeded

ARMS = 4  # classes: one per spiral arm
CHANCE = math.log(ARMS)  # cross-entropy of a uniform guess
POINTS = 2048  # training points
BATCH = 256
MAX_DEPTH = 200
MAX_STEPS = 5000
MAX_WIDTH = 256
WIDTH = 32  # units per dense layer unless asked otherwise
EMA_DECAY = 0.95  # train_curves' smoothing: averages over about 1 / (1 - EMA_DECAY) steps


class DegradationError(ExplorerError):
    """A setting of the experiment that cannot work; the message says what to change."""


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DegradationError(f"{name} must be a whole number, got {value!r}.")
    if not low <= int(value) <= high:
        raise DegradationError(f"{name} must be from {low} to {high}, got {value}.")
    return int(value)


def check_depth(depth: object) -> int:
    """Return depth after checking it is an even number of weight layers from 4 to MAX_DEPTH."""
    depth = _whole("Depth", depth, 4, MAX_DEPTH)
    if depth % 2:
        raise DegradationError(
            f"Depth counts the stem, two layers per block and the head, so it is even; got {depth}."
        )
    return depth


# --- the data


def spirals(
    n: int = POINTS, seed: int = 0, noise: float = 0.05
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (points (n, 2) float32, labels (n,) int64): ARMS interleaved spirals, seeded."""
    g = seeded(_whole("Seed", seed, 0, 2**31 - 1))
    t = torch.rand(n, generator=g)  # position along the arm, 0 at the centre
    arm = torch.randint(0, ARMS, (n,), generator=g)
    angle = 3 * math.pi * t + 2 * math.pi * arm / ARMS  # one and a half turns per arm
    xy = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], 1)  # (n, 2)
    return xy + noise * torch.randn(n, 2, generator=g), arm


# --- the networks


class Block(nn.Module):
    """Two dense layers with batch norm; residual adds the input back before the last ReLU."""

    def __init__(self, width: int, residual: bool) -> None:
        super().__init__()
        self.residual = residual
        self.fc1 = nn.Linear(width, width, bias=False)
        self.bn1 = nn.BatchNorm1d(width)
        self.fc2 = nn.Linear(width, width, bias=False)
        self.bn2 = nn.BatchNorm1d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.bn2(self.fc2(F.relu(self.bn1(self.fc1(x)))))  # (B, width): F(x)
        return F.relu(f + x) if self.residual else F.relu(f)


class Stack(nn.Module):
    """Stem (2 → width), (depth - 2)/2 blocks, head (width → ARMS): depth weight layers."""

    def __init__(self, depth: int, residual: bool, width: int) -> None:
        super().__init__()
        self.stem = nn.Linear(2, width, bias=False)
        self.bn = nn.BatchNorm1d(width)
        self.blocks = nn.ModuleList(Block(width, residual) for _ in range((depth - 2) // 2))
        self.head = nn.Linear(width, ARMS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.stem(x)))  # (B, width), non-negative as every block's input
        for block in self.blocks:
            x = block(x)
        return self.head(x)  # (B, ARMS) logits

    def weight_layers(self) -> list[tuple[str, nn.Linear]]:
        """Return (name, layer) for every weight layer, input to output."""
        return [(n, m) for n, m in self.named_modules() if isinstance(m, nn.Linear)]


HEAD_STD = 0.01  # small logits at first: every run starts at chance, loss ln(ARMS)


@torch.no_grad()
def _init(model: Stack, generator: torch.Generator) -> None:
    """Draw He-normal hidden weights (as ResNets do) and a small head from a local generator."""
    for _, m in model.weight_layers():
        if m is model.head:  # else a residual stack's growing activations give a huge first loss
            nn.init.normal_(m.weight, 0.0, HEAD_STD, generator=generator)
            nn.init.zeros_(m.bias)
        else:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=generator)


def make_stack(depth: int, residual: bool, seed: int = 0, width: int = WIDTH) -> Stack:
    """Return a seeded plain or residual stack with `depth` weight layers (train mode)."""
    depth = check_depth(depth)
    width = _whole("Width", width, 2, MAX_WIDTH)
    with torch.device("meta"):
        model = Stack(depth, bool(residual), width)  # no draws from the global generator
    model = model.to_empty(device="cpu")
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_parameters()
    _init(model, seeded(_whole("Seed", seed, 0, 2**31 - 1)))
    return model


# --- gradients at initialisation


def gradient_norms(depth: int, residual: bool, seed: int = 0, width: int = WIDTH) -> np.ndarray:
    """Return (depth,) ‖∂loss/∂W‖ of each weight layer, input to output, at initialisation.

    One batch of BATCH spiral points, cross-entropy loss, batch norm in training mode.
    """
    model = make_stack(depth, residual, seed, width)
    x, y = spirals(BATCH, seed)
    weights = [m.weight for _, m in model.weight_layers()]
    with one_thread():
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    return np.array([float(g.norm()) for g in grads])


# --- training


@dataclass(frozen=True)
class Curves:
    """Training runs of several stacks on one data set: loss per step and the end result."""

    labels: list[str]  # e.g. "plain-20", "residual-56"
    loss: dict[str, np.ndarray]  # label -> (steps,) mini-batch cross-entropy
    smooth: dict[str, np.ndarray]  # label -> (steps,) exponential moving average of loss
    final_loss: dict[str, float]  # label -> cross-entropy on all POINTS (eval mode) after training
    accuracy: dict[str, float]  # label -> fraction of the POINTS classified right after training
    seconds: dict[str, float]


def label(depth: int, residual: bool) -> str:
    """Return the display name of a stack, e.g. 'residual-56'."""
    return f"{'residual' if residual else 'plain'}-{depth}"


def train_curves(
    depths: tuple[int, ...] = (20, 56),
    steps: int = 200,
    seed: int = 0,
    *,
    lr: float = 0.02,
    width: int = WIDTH,
    progress: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Curves | None:
    """Return loss curves of plain and residual stacks of each depth, trained by SGD + momentum.

    Every run sees the same data and the same mini-batches (both drawn from `seed`), on one
    intra-op thread (see one_thread). Returns None as soon as should_stop() says so (checked before
    every step): stacks trained part-way could not be compared.
    """
    depths = tuple(dict.fromkeys(check_depth(d) for d in depths))  # each depth once, in order
    if not depths:
        raise DegradationError("Pick at least one depth.")
    steps = _whole("Steps", steps, 1, MAX_STEPS)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise DegradationError(f"The learning rate must be in (0, 1], got {lr!r}.")
    seed = _whole("Seed", seed, 0, 2**31 - 2)
    width = _whole("Width", width, 2, MAX_WIDTH)
    with one_thread():
        return _train(depths, steps, seed, lr, width, progress, should_stop or _never)


def _never() -> bool:
    return False


def _train(depths, steps, seed, lr, width, progress, should_stop) -> Curves | None:
    """Return the Curves of train_curves' checked settings."""
    x, y = spirals(POINTS, seed)
    g = seeded(seed + 1)
    batches = torch.randint(0, POINTS, (steps, BATCH), generator=g)  # (steps, BATCH) indices
    runs = [(d, r) for d in depths for r in (False, True)]
    total = sum(d for d, _ in runs) * steps  # the work grows with depth
    done = 0
    loss, smooth, final, acc, secs = {}, {}, {}, {}, {}
    for depth, residual in runs:
        name = label(depth, residual)
        model = make_stack(depth, residual, seed, width)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        losses = np.empty(steps)
        t0 = time.perf_counter()
        for step in range(steps):
            if should_stop():
                return None
            idx = batches[step]
            batch_loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
            losses[step] = float(batch_loss.detach())
            if progress is not None and (step + 1) % 25 == 0:
                progress((done + (step + 1) * depth) / total, f"{name}: step {step + 1}/{steps}")
        done += steps * depth
        secs[name] = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            logits = model(x)  # (POINTS, ARMS)
        loss[name], smooth[name] = losses, ema(losses)
        final[name] = float(F.cross_entropy(logits, y))
        acc[name] = float((logits.argmax(1) == y).float().mean())
    if progress is not None:
        progress(1.0, "done")
    return Curves(list(loss), loss, smooth, final, acc, secs)


def ema(values: np.ndarray, decay: float = EMA_DECAY) -> np.ndarray:
    """Return the bias-corrected exponential moving average of a 1-D series, same length."""
    out = np.empty(len(values))
    avg = 0.0
    for i, v in enumerate(values):
        avg = decay * avg + (1 - decay) * v
        out[i] = avg / (1 - decay ** (i + 1))
    return out
