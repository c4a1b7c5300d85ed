"""How is the small CNN trained, and what do pooling, ReLU and depth buy? Training and ablations.

`train` runs Adam on minibatches drawn from a pre-rendered pool of shapes (shapes_data.py),
with random horizontal and vertical flips (every class keeps its name when flipped), and reports
to a callback so a page can draw curves and filters while it runs, or stop it. Everything random
comes from one seeded torch.Generator; the thread count is whatever torch was given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.cnn.shapes_data import CLASSES, make_dataset_uint8
from engine.cnn.small_cnn import CNNConfig, CNNError, SmallCNN
from engine.core import default_device, intra_op_threads, seeded

__all__ = [
    "ABLATIONS",
    "ADAM_BETAS",
    "DEFAULT_BATCH",
    "DEFAULT_LR",
    "DEFAULT_STEPS",
    "TRAIN_PER_CLASS",
    "VAL_PER_CLASS",
    "VAL_SEED_OFFSET",
    "TrainPoint",
    "HistorySummary",
    "TrainResult",
    "TrainingData",
    "ablation_config",
    "accuracy",
    "bf16_supported",
    "make_training_data",
    "predict",
    "shift_robustness",
    "summarise_history",
    "train",
]

VAL_SEED_OFFSET = 1_000_003  # validation images come from seed + this: never the training images
MAX_STEPS = 100_000
DEFAULT_STEPS = 1000  # the training page's default run, and the unit its cost cap is counted in
DEFAULT_LR = 3e-3  # Adam's step size for the default run (the shipped model used it too)
DEFAULT_BATCH = 64  # training images per Adam step
ADAM_BETAS = (0.9, 0.999)  # Adam's decay rates of its running mean and square of the gradient
TRAIN_PER_CLASS = 500  # training images per class rendered by make_training_data
VAL_PER_CLASS = 50  # validation images per class, from another seed: never trained on
EVAL_CHUNK = 64  # images per forward pass when evaluating: bounded memory, and cache-sized
# (500 validation images: 0.50 s in one pass, 0.14 s in chunks of 64 laid out channels-last)

# A batch's augmentation: (images, labels, generator) -> (images, labels); see train().
Augment = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]

# Ablations: overrides of the baseline config, one click each on the training page.
ABLATIONS: dict[str, dict[str, object]] = {
    "baseline": {},
    "no pooling": {"pool": False},
    "no ReLU": {"relu": False},
    "1 block": {"depth_blocks": 1},
    "4 blocks": {"depth_blocks": 4},
}


@dataclass(frozen=True)
class TrainingData:
    """Pre-rendered images to train and validate on; label i means classes[i]."""

    classes: tuple[str, ...]
    train_images: torch.Tensor  # (N, 3, S, S) uint8 (or float in [0, 1])
    train_labels: torch.Tensor  # (N,) long
    val_images: torch.Tensor  # (M, 3, S, S) uint8 (or float in [0, 1])
    val_labels: torch.Tensor  # (M,) long


@dataclass(frozen=True)
class TrainPoint:
    """Metrics at one report: mean loss and accuracy over the steps since the last report."""

    step: int  # steps done so far
    loss: float  # mean cross-entropy of the training batches since the previous point
    train_acc: float  # fraction of those batches' images classified right
    val_acc: float  # fraction of the validation images classified right now


@dataclass
class TrainResult:
    """What a training run produced: the model (eval mode), its curves, time and how it ended."""

    model: SmallCNN
    history: list[TrainPoint]
    seconds: float  # wall-clock time of the training loop (excludes rendering data)
    stopped: bool  # True if should_stop() ended the run early
    steps_done: int
    val_acc: float  # final validation accuracy (history[-1].val_acc)


@dataclass(frozen=True)
class HistorySummary:
    """The points of a training history worth naming: first, last, best, and the last gap."""

    first: TrainPoint
    last: TrainPoint
    best: TrainPoint  # the highest validation accuracy (the earliest of equals)
    last_steps: int  # steps the last point's training figures cover
    gap: float  # last training accuracy minus last validation accuracy


def summarise_history(history: list[TrainPoint] | tuple[TrainPoint, ...]) -> HistorySummary:
    """Return the HistorySummary of a non-empty history (TrainPoints in step order)."""
    if not history:
        raise CNNError("There is no training history yet: train for at least one step.")
    first, last = history[0], history[-1]
    before = history[-2].step if len(history) > 1 else 0
    best = max(history, key=lambda p: p.val_acc)
    return HistorySummary(first, last, best, last.step - before, last.train_acc - last.val_acc)


def make_training_data(
    classes: tuple[str, ...] = CLASSES,
    n_per_class: int = TRAIN_PER_CLASS,
    n_val_per_class: int = VAL_PER_CLASS,
    seed: int = 0,
) -> TrainingData:
    """Return TrainingData: n_per_class training and n_val_per_class validation images per class.

    Rendering costs about 0.4 ms per image on one core: cache the result (st.cache_resource).
    """
    x, y = make_dataset_uint8(n_per_class, seed, tuple(classes))
    vx, vy = make_dataset_uint8(n_val_per_class, seed + VAL_SEED_OFFSET, tuple(classes))
    return TrainingData(tuple(classes), x, y, vx, vy)


def _as_float(images: torch.Tensor) -> torch.Tensor:
    """Return images as float32 in [0, 1] (uint8 is divided by 255)."""
    return images.float().div_(255) if images.dtype == torch.uint8 else images.float()


def predict(model: SmallCNN, images: torch.Tensor) -> torch.Tensor:
    """Return the predicted class index (N,) long for images (N, 3, S, S), uint8 or float."""
    out = []
    device = next(model.parameters()).device
    with torch.inference_mode():
        for i in range(0, len(images), EVAL_CHUNK):
            chunk = _as_float(images[i : i + EVAL_CHUNK].to(device))
            out.append(model(chunk.contiguous(memory_format=torch.channels_last)).argmax(1).cpu())
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


def accuracy(model: SmallCNN, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Return the fraction of images (N, 3, S, S) whose predicted class equals labels (N,)."""
    if len(images) == 0:
        return float("nan")
    return (predict(model, images) == labels).float().mean().item()


def _check_train_args(config: CNNConfig, steps, lr, batch, seed, every) -> None:
    """Raise CNNError saying what to change if a training setting cannot work."""
    if not isinstance(config, CNNConfig):
        raise CNNError("config must be a CNNConfig.")
    for name, value, low, high in (
        ("steps", steps, 1, MAX_STEPS),
        ("batch", batch, 1, 1024),
        ("seed", seed, 0, 2**63 - 1),
        ("progress_every", every, 1, MAX_STEPS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CNNError(
                "{name} must be a whole number from {low} to {high}, got {value!r}.",
                name=name,
                low=low,
                high=high,
                value=value,
            )
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr <= 1:
        raise CNNError("The learning rate must be a number in (0, 1], got {lr!r}.", lr=lr)


# Transposing an image (a mirror in its diagonal) turns horizontal stripes into vertical ones.
_TRANSPOSED = {"horizontal stripes": "vertical stripes", "vertical stripes": "horizontal stripes"}


def _transpose_labels(classes: tuple[str, ...]) -> torch.Tensor:
    """Return (K,) long: the label of each class's transposed image; -1 if it is not a class."""
    index = {c: i for i, c in enumerate(classes)}
    return torch.tensor([index.get(_TRANSPOSED.get(c, c), -1) for c in classes])


def _augment(
    x: torch.Tensor, y: torch.Tensor, swap: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x, y) with each image (B, 3, S, S) mirrored left-right, up-down and/or in its
    diagonal at random; a diagonal mirror relabels via swap (horizontal ↔ vertical stripes).

    The three mirrors generate all eight symmetries of the square, and every class keeps its
    name under them (a stripes class whose partner is not trained is never transposed).
    """
    h, v, t = (torch.rand(len(x), generator=g) < 0.5 for _ in range(3))  # (B,) each
    t &= swap[y] != -1
    x = x.clone()  # (B, 3, S, S); only the chosen images are moved, in place
    x[h] = x[h].flip(-1)
    x[v] = x[v].flip(-2)
    x[t] = x[t].transpose(-1, -2)
    return x, torch.where(t, swap[y], y)


def train(
    config: CNNConfig,
    steps: int,
    lr: float,
    batch: int = DEFAULT_BATCH,
    seed: int = 0,
    data: TrainingData | None = None,
    progress: Callable[[int, int, TrainPoint, SmallCNN], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    progress_every: int = 50,
    cosine: bool = False,
    bf16: bool = False,
    threads: int | None = None,
    device: str | torch.device | None = None,
    augment: Augment | None = None,
) -> TrainResult:
    """Return a TrainResult after `steps` Adam steps (fewer if should_stop() returns True).

    The returned model is frozen, in eval mode and on the CPU, like load()'s: ready for the
    analyses.

    data: TrainingData for config.classes (None renders make_training_data(config.classes,
    seed=seed) first, a few seconds). progress(step, steps, point, model) is called every
    progress_every steps and at the end; `model` is the live network: copy what you keep
    (e.g. model.convs["conv1_1"].weight.detach().clone()). should_stop is polled every step.
    cosine: decay the learning rate along a half cosine to 0 (used for the shipped model).
    bf16: run the forward pass under torch.autocast(bfloat16) (weights and optimiser stay
    float32); about 1.6× faster on CPUs with native bfloat16 (see bf16_supported()).
    threads: intra-op threads for this run, in this thread only (None: as the caller has them).
    device: where to train (None: default_device(), a GPU if the machine has one).
    augment(images, labels, generator) -> (images, labels): replaces the mirrors for each batch
    (images (B, 3, S, S) uint8 in, uint8 or float in [0, 1] out); random only through generator.
    """
    device = torch.device(device) if device is not None else default_device()
    data = _checked_data(config, steps, lr, batch, seed, progress_every, bf16, data, device)
    run = _Run(config, data, steps, lr, seed, device, bf16, progress, progress_every)
    run.augment = augment or run.augment
    with intra_op_threads(threads) if threads else contextlib.nullcontext():
        stopped = run.steps(batch, cosine, should_stop)
    model = run.model.to("cpu", memory_format=torch.contiguous_format)
    model = model.eval().requires_grad_(False)
    return TrainResult(model, run.history, run.seconds, stopped, run.step, run.history[-1].val_acc)


class _Run:
    """One training run: the live model, its optimiser, the history and the step counter."""

    def __init__(self, config, data, total, lr, seed, device, bf16, progress, every) -> None:
        self.data, self.total, self.lr, self.device, self.bf16 = data, total, lr, device, bf16
        self.progress, self.every = progress, every
        self.g, self.swap = seeded(seed), _transpose_labels(config.classes)
        self.augment: Augment = lambda x, y, g: _augment(x, y, self.swap, g)
        model = SmallCNN(config, seed=seed)  # channels-last: faster oneDNN convolutions
        self.model = model.to(device, memory_format=torch.channels_last)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=lr, betas=ADAM_BETAS)
        self.history: list[TrainPoint] = []
        self.tally = _Tally()
        self.step, self.seconds = 0, 0.0

    def steps(self, batch: int, cosine: bool, should_stop: Callable[[], bool] | None) -> bool:
        """Train until the last step or should_stop(); return True if it was stopped."""
        stopped = False
        start = time.perf_counter()
        while self.step < self.total:
            if should_stop is not None and should_stop():
                stopped = True
                break
            if cosine:
                _set_lr(
                    self.optimiser, self.lr * 0.5 * (1 + math.cos(math.pi * self.step / self.total))
                )
            x, y = _minibatch(self.data, batch, self.augment, self.g)
            x, y = x.to(self.device), y.to(self.device)
            self.tally.add(*_step(self.model, self.optimiser, x, y, self.bf16))
            self.step += 1
            if self.step % self.every == 0 or self.step == self.total:
                self.report()
        if self.tally.steps or not self.history:  # stopped between reports: one last point
            self.report()
        self.seconds = time.perf_counter() - start
        return stopped

    def report(self) -> None:
        """Measure validation accuracy now, keep the point and pass it to progress."""
        self.history.append(_point(self.model, self.data, self.step, *self.tally.take()))
        if self.progress is not None:
            self.progress(self.step, self.total, self.history[-1], self.model)


def _checked_data(
    config: CNNConfig, steps, lr, batch, seed, every, bf16: bool, data, device: torch.device
) -> TrainingData:
    """Return the data to train on (rendered if None), or raise CNNError saying what to change."""
    _check_train_args(config, steps, lr, batch, seed, every)
    if bf16 and device.type == "cpu" and not bf16_supported():
        raise CNNError("This CPU has no native bfloat16 arithmetic; train in float32.")
    data = data if data is not None else make_training_data(config.classes, seed=seed)
    if tuple(data.classes) != config.classes:
        raise CNNError("The training data's classes differ from the network's; render new data.")
    side = config.input_size
    if data.train_images.shape[1:] != (3, side, side) or len(data.train_images) == 0:
        raise CNNError(f"Training images must be (N, 3, {side}, {side}) with N ≥ 1.")
    return data


class _Tally:
    """Sums of loss and right answers over the training steps since the last report."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.loss_sum, self.right, self.seen, self.steps = 0.0, 0, 0, 0

    def add(self, loss: float, right: int, seen: int) -> None:
        """Count one step: its mean loss, its right answers and its batch size."""
        self.loss_sum += loss * seen
        self.right += right
        self.seen += seen
        self.steps += 1

    def take(self) -> tuple[float, float]:
        """Return (mean loss, accuracy) since the last take (NaN if no image) and start over."""
        seen = self.seen
        out = (self.loss_sum / seen, self.right / seen) if seen else (math.nan, math.nan)
        self._reset()
        return out


def _set_lr(optimiser: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate to lr."""
    for group in optimiser.param_groups:
        group["lr"] = lr


def _minibatch(
    data: TrainingData, batch: int, augment: Augment, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x (B, 3, S, S) float32 channels-last, y (B,)): random, augmented training images."""
    idx = torch.randint(len(data.train_images), (batch,), generator=g)
    x, y = augment(data.train_images[idx], data.train_labels[idx], g)  # uint8: mirrors are cheap
    return _as_float(x.contiguous(memory_format=torch.channels_last)), y


def _step(
    model: SmallCNN, optimiser: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, bf16: bool
) -> tuple[float, int, int]:
    """Return (loss, right answers, batch size) after one Adam step on the batch (x, y)."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(x).float()  # (B, K)
    loss = F.cross_entropy(logits, y)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.item(), int((logits.argmax(1) == y).sum()), len(y)


def bf16_supported() -> bool:
    """Return True if this CPU computes bfloat16 natively (AVX512-BF16 or AMX), via oneDNN."""
    try:
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    except (AttributeError, RuntimeError):
        return False


def _point(model: SmallCNN, data: TrainingData, step: int, loss: float, acc: float) -> TrainPoint:
    """Return the TrainPoint at step, measuring validation accuracy now."""
    model.eval()
    val = accuracy(model, data.val_images, data.val_labels)
    model.train()
    return TrainPoint(step, float(loss), float(acc), val)


def ablation_config(name: str, base: CNNConfig | None = None) -> CNNConfig:
    """Return base (default CNNConfig()) changed as ABLATIONS[name] says."""
    if name not in ABLATIONS:
        raise CNNError(f"Unknown ablation {name!r}; choose one of: {', '.join(ABLATIONS)}.")
    return dataclasses.replace(base or CNNConfig(), **ABLATIONS[name])


def shift_robustness(
    model: SmallCNN, images: torch.Tensor, max_shift: int, mode: str = "circular"
) -> np.ndarray:
    """Return (max_shift + 1,) fractions: predictions unchanged when images move by s pixels.

    Entry s compares the prediction on each image (N, 3, S, S) with its prediction after moving
    it s pixels right, left, down and up (the mean over the four; entry 0 is 1). mode "circular"
    wraps what leaves one side in at the other (torch.roll); "edge" repeats the border pixels
    into the uncovered band, so no new edge appears.
    """
    if mode not in ("circular", "edge"):
        raise CNNError(f"Unknown shift mode {mode!r}; choose circular or edge.")
    side = images.shape[-1]
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or not 0 <= max_shift < side:
        raise CNNError(f"max_shift must be a whole number from 0 to {side - 1}, got {max_shift!r}.")
    x = _as_float(images)
    base = predict(model, x)
    out = np.ones(max_shift + 1)
    for s in range(1, max_shift + 1):
        same = [(predict(model, _shift(x, s, d, mode)) == base).float().mean() for d in range(4)]
        out[s] = float(torch.stack(same).mean())
    return out


def _shift(x: torch.Tensor, s: int, direction: int, mode: str) -> torch.Tensor:
    """Return x (N, C, H, W) moved s pixels right (0), left (1), down (2) or up (3)."""
    dim = -1 if direction < 2 else -2
    amount = s if direction % 2 == 0 else -s
    if mode == "circular":
        return torch.roll(x, amount, dims=dim)
    pad = [0, 0, 0, 0]  # F.pad order: left, right, top, bottom
    pad[(0 if dim == -1 else 2) + (0 if amount > 0 else 1)] = s
    padded = F.pad(x, pad, mode="replicate")
    size = x.shape[dim]
    start = 0 if amount > 0 else s
    return padded.narrow(dim, start, size)
