"""CNN or RNN for a sequence? Sequential depth, time per batch, and one sequence through both.

An RNN needs T steps, one after another, before its state has seen all T samples. A stack of
convolutions sees more of the sequence with every layer, and each layer computes all positions at
once: a unit's receptive field over time grows by (k − 1)·d·jump per layer (k kernel, d dilation,
jump the product of the strides below), so strided or dilated stacks cover T in about log2 T
layers and plain 3-wide stacks in (T − 1)/2. `sequential_steps` counts this from the layer specs of
the real modules; `time_per_batch` measures it; `through_both` shows a person's sequence as a small
CNN's feature maps (with each unit's window and k-max pooling over time) and as an RNN's states.

The typed-sequence parser and the text CNN live in engine/sequence/text.py, the synthetic tasks in
engine/sequence/tasks.py.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.core import N_, one_thread, seeded
from engine.sequence.models import ARCHS, ConvBase, build_model, init_parameters_, tcn_dilations
from engine.sequence.text import (
    MAX_LENGTH,
    MAX_MAGNITUDE,
    SequenceError,
)

__all__ = [
    "CNN_FILTERS",
    "CNN_LAYERS",
    "DEPTH_ARCHS",
    "MAX_TIMING_LENGTH",
    "PLAIN_KERNEL",
    "LayerField",
    "SequentialDepth",
    "KMAX_K",
    "RNN_UNITS",
    "TAPS",
    "ThroughBoth",
    "conv_stack",
    "kmax_over_time",
    "layer_specs",
    "sequential_steps",
    "through_both",
    "time_per_batch",
]

DEPTH_ARCHS = ("rnn", "gru", "lstm", "cnn", "cnn_plain", "tcn")
MAX_DEPTH_LENGTH = 100_000
PLAIN_KERNEL = 3  # width of each layer of the plain stride-1 CNN (cnn_plain) of the depth table
MAX_TIMING_LENGTH = 10_000  # longest sequence time_per_batch will run
MAX_TIMING_WORK = 2_000_000  # batch × length × repeat: caps one call at a few seconds of CPU
CNN_FILTERS = ("rise", "fall", "peak", "level")  # layer 1 of through_both's CNN, by design
TAPS = 3  # width of through_both's conv filters (and of _FIRST_LAYER's rows)
KMAX_K = 3  # through_both's default k of k-max pooling
RNN_UNITS = 4  # through_both's default RNN hidden units
CNN_LAYERS = 2  # conv layers in through_both's CNN: the designed one, then random mixes
_FIRST_LAYER = torch.tensor([[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 2.0, -1.0], [1, 1, 1]])
_FIRST_LAYER[3] /= 3  # "level": the local mean


@dataclass(frozen=True)
class LayerField:
    """One conv layer's spec and the receptive field over time of its units."""

    kernel: int
    stride: int
    dilation: int
    field: int  # input samples one unit of this layer depends on
    jump: int  # input samples between neighbouring units of this layer


@dataclass(frozen=True)
class SequentialDepth:
    """How many sequential steps a model needs before one unit has seen all T samples."""

    arch: str
    length: int  # T
    steps: int  # RNN: T time steps; conv stacks: layers until a unit's field covers T
    fields: tuple[int, ...]  # samples seen after each sequential step, capped at T
    layers: tuple[LayerField, ...]  # the conv layers (empty for recurrent models)
    parallel_over_time: bool  # True when each step computes every time position at once


def _check_length(length: int, cap: int, what: str = N_("The sequence length")) -> int:
    if isinstance(length, bool) or not isinstance(length, int | np.integer):
        raise SequenceError(
            "{what} must be a whole number, got {length!r}.", what=what, length=length
        )
    if not 1 <= length <= cap:
        raise SequenceError(
            "{what} must be between 1 and {cap:,}, got {length:,}.",
            what=what,
            cap=cap,
            length=length,
        )
    return int(length)


def layer_specs(arch: str, length: int) -> list[tuple[int, int, int, int]]:
    """Return (kernel, stride, dilation, padding) per layer of arch's stack covering length."""
    length = _check_length(length, MAX_DEPTH_LENGTH)
    if arch == "tcn":
        return [(3, 1, d, 0) for d in tcn_dilations(length)]  # causal: left-padded in forward
    if arch == "cnn_plain":
        layers = max(1, math.ceil((length - 1) / (PLAIN_KERNEL - 1)))  # each adds k - 1 samples
        return [(PLAIN_KERNEL, 1, 1, PLAIN_KERNEL // 2)] * layers
    if arch != "cnn":
        raise SequenceError("{arch!r} has no conv stack; pick cnn, cnn_plain or tcn.", arch=arch)
    with torch.device("meta"):
        convs = list(ConvBase(40).convs)  # the MNIST-1D CNN's three layers, then its last again
    specs = [(c.kernel_size[0], c.stride[0], c.dilation[0], c.padding[0]) for c in convs]
    fields = _fields([s[:3] for s in specs])
    while fields[-1].field < length:
        specs.append(specs[-1])
        fields = _fields([s[:3] for s in specs])
    while len(specs) > 1 and fields[len(specs) - 2].field >= length:
        specs.pop()  # short sequences are covered before the third layer
    return specs


def _fields(specs: list[tuple[int, int, int]]) -> list[LayerField]:
    out, field, jump = [], 1, 1
    for k, s, d in specs:
        field += (k - 1) * d * jump
        jump *= s
        out.append(LayerField(kernel=k, stride=s, dilation=d, field=field, jump=jump))
    return out


def conv_stack(arch: str, length: int, channels: int = 1) -> nn.Sequential:
    """Return the real Conv1d layers (no nonlinearity) of arch's stack covering length."""
    layers = [
        nn.Conv1d(channels, channels, k, stride=s, dilation=d, padding=p)
        for k, s, d, p in layer_specs(arch, length)
    ]
    return nn.Sequential(*layers)


def sequential_steps(arch: str, length: int) -> SequentialDepth:
    """Return the sequential steps arch needs to represent all `length` samples, with fields."""
    length = _check_length(length, MAX_DEPTH_LENGTH)
    if arch in ("rnn", "gru", "lstm"):
        return SequentialDepth(arch, length, length, tuple(range(1, length + 1)), (), False)
    if arch not in DEPTH_ARCHS:
        raise SequenceError(
            "Unknown architecture {arch!r}; pick one of {names}.",
            arch=arch,
            names=", ".join(DEPTH_ARCHS),
        )
    layers = tuple(_fields([s[:3] for s in layer_specs(arch, length)]))
    fields = tuple(min(layer.field, length) for layer in layers)
    return SequentialDepth(arch, length, len(layers), fields, layers, True)


def time_per_batch(
    arch: str,
    lengths: tuple[int, ...] = (40, 100, 400, 1000, 4000),
    batch: int = 32,
    repeat: int = 3,
) -> dict:
    """Return {"arch", "lengths", "seconds", "n_params", "batch", "repeat"}: forward time per batch.

    Each length builds arch's MNIST-1D model for that length (models.py: the CNN's and
    RNN's readouts grow with T) and times `repeat` forward passes of a random batch (the median,
    after one warm-up) on one thread without autograd. Work is capped: lengths ≤ 10,000, at most
    12 lengths, and batch × longest length × repeat ≤ 2,000,000 samples (a few seconds).
    """
    if arch not in ARCHS:
        raise SequenceError(
            "Unknown architecture {arch!r}; pick one of {names}.", arch=arch, names=", ".join(ARCHS)
        )
    lengths = tuple(_check_length(n, MAX_TIMING_LENGTH) for n in lengths)
    batch = _check_length(batch, 256, N_("The batch size"))
    repeat = _check_length(repeat, 20, N_("The number of repeats"))
    if not 1 <= len(lengths) <= 12:
        raise SequenceError("Give between 1 and 12 sequence lengths.")
    if batch * max(lengths) * repeat > MAX_TIMING_WORK:
        raise SequenceError(
            "batch × length × repeat = {work:,} is over {cap:,}; use a smaller batch, shorter "
            "sequences or fewer repeats.",
            work=batch * max(lengths) * repeat,
            cap=MAX_TIMING_WORK,
        )
    generator = seeded(0)
    seconds, n_params = [], []
    with one_thread(), torch.inference_mode():
        for length in lengths:
            model = build_model(arch, max(length, 7)).eval()
            x = torch.randn(batch, max(length, 7), generator=generator)  # (B, T)
            model(x)  # warm-up
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
            seconds.append(float(np.median(times)))
            n_params.append(sum(p.numel() for p in model.parameters()))
    return {
        "arch": arch,
        "lengths": list(lengths),
        "seconds": seconds,
        "n_params": n_params,
        "batch": batch,
        "repeat": repeat,
    }


def kmax_over_time(maps: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, positions), each (C, k'): each row's k largest, kept in time order.

    k' = min(k, T). Ties go to the earlier position, so the result does not depend on the sort.
    """
    maps = np.asarray(maps, dtype=np.float64)  # (C, T)
    k = max(1, min(int(k), maps.shape[1]))
    top = np.argsort(-maps, axis=1, kind="stable")[:, :k]  # (C, k) largest first
    positions = np.sort(top, axis=1)  # (C, k) in time order, as k-max pooling keeps them
    return np.take_along_axis(maps, positions, axis=1), positions


class ThroughBoth(TypedDict):
    """A sequence through a small CNN and a small RNN (returned by through_both)."""

    values: np.ndarray  # (T,) the numbers as given
    x: np.ndarray  # (T,) standardised (mean 0, std 1; all zeros if every value is the same)
    cnn_filter_names: tuple[str, ...]  # layer 1's designed detectors, one per channel
    cnn_maps: list[np.ndarray]  # per conv layer (C, T) after ReLU ('same' padding, stride 1)
    cnn_fields: list[int]  # samples one unit of each layer sees
    cnn_windows: list[np.ndarray]  # per layer (T, 2) first and last input position a unit sees
    kmax_k: int
    kmax_values: np.ndarray  # (C, k) the last layer's k largest per channel, in time order
    kmax_positions: np.ndarray  # (C, k) where they were, ascending
    cnn_final: np.ndarray  # (C·k,) the k-max values flattened: the CNN's fixed-size summary
    rnn_hidden: np.ndarray  # (T, H) the tanh RNN's state after each step
    rnn_final: np.ndarray  # (H,) the state after the last step: the RNN's summary
    sequential_steps: dict[str, int]  # {"cnn": conv layers, "rnn": T}


def _checked_values(seq, seed, k: int, hidden: int) -> np.ndarray:
    """Return seq as a (T,) float64 array; raise SequenceError naming the first unusable input."""
    values = np.asarray(seq, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise SequenceError("The sequence is empty; type at least one number.")
    if values.size > MAX_LENGTH:
        raise SequenceError(
            "The sequence has {n:,} numbers; the limit is {cap:,}.", n=values.size, cap=MAX_LENGTH
        )
    if not np.isfinite(values).all() or np.abs(values).max() > MAX_MAGNITUDE:
        raise SequenceError(
            "Keep every number finite and between −{most:g} and {most:g}.", most=MAX_MAGNITUDE
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SequenceError("The seed must be a whole number ≥ 0, got {seed!r}.", seed=seed)
    if not 1 <= k <= 50 or not 1 <= hidden <= 64:
        raise SequenceError("k must be between 1 and 50 and hidden between 1 and 64.")
    return values


def _readers(seed: int, hidden: int) -> tuple[list[nn.Conv1d], nn.RNN]:
    """Return the CNN's convs (layer 1 designed, the rest drawn) and the RNN, drawn from seed."""
    generator = seeded(seed)
    channels = len(CNN_FILTERS)
    convs = [
        nn.Conv1d(1 if i == 0 else channels, channels, TAPS, padding=TAPS // 2, device="meta")
        for i in range(CNN_LAYERS)
    ]
    rnn = nn.RNN(1, hidden, batch_first=True, device="meta")
    convs = [init_parameters_(m.to_empty(device="cpu"), generator) for m in convs]
    rnn = init_parameters_(rnn.to_empty(device="cpu"), generator)
    with torch.no_grad():
        convs[0].weight.copy_(_FIRST_LAYER[:, None, :])
        convs[0].bias.zero_()
    return convs, rnn


def _read(x: np.ndarray, convs, rnn) -> tuple[list[np.ndarray], torch.Tensor]:
    """Return (each conv layer's (C, T) map after ReLU, the RNN's (1, T, H) states) for x."""
    xt = torch.tensor(x, dtype=torch.float32)  # (T,)
    maps, h = [], xt[None, None, :]  # (1, 1, T)
    with torch.no_grad():
        for conv in convs:
            h = F.relu(conv(h))  # (1, 4, T)
            maps.append(h[0].numpy().astype(np.float64))
        states, _ = rnn(xt[None, :, None])  # (1, T, H)
    return maps, states


def through_both(
    seq: np.ndarray, seed: int = 0, k: int = KMAX_K, hidden: int = RNN_UNITS
) -> ThroughBoth:
    """Return the sequence's trip through a 2-layer 1D CNN with k-max pooling and a tanh RNN.

    CNN layer 1 holds four designed 3-tap detectors (rise, fall, peak, level) so its maps read
    directly; layer 2 (4 → 4, 3 taps) and the RNN (hidden units) are drawn from `seed`.
    """
    values = _checked_values(seq, seed, k, hidden)
    std = values.std()
    x = (values - values.mean()) / std if std > 0 else values - values.mean()
    convs, rnn = _readers(seed, hidden)
    maps, states = _read(x, convs, rnn)
    fields = [f.field for f in _fields([(TAPS, 1, 1)] * len(convs))]
    t = np.arange(values.size)
    windows = [
        np.stack([np.maximum(t - f // 2, 0), np.minimum(t + f // 2, t[-1])], 1) for f in fields
    ]
    kmax_values, kmax_positions = kmax_over_time(maps[-1], k)
    return ThroughBoth(
        values=values,
        x=x,
        cnn_filter_names=CNN_FILTERS,
        cnn_maps=maps,
        cnn_fields=fields,
        cnn_windows=windows,
        kmax_k=kmax_values.shape[1],
        kmax_values=kmax_values,
        kmax_positions=kmax_positions,
        cnn_final=kmax_values.reshape(-1),
        rnn_hidden=states[0].numpy().astype(np.float64),
        rnn_final=states[0, -1].numpy().astype(np.float64),
        sequential_steps={"cnn": len(convs), "rnn": int(values.size)},
    )
