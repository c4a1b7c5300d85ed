"""Which networks do we compare on MNIST-1D? Seven sequence classifiers of about 5k weights each.

The linear, MLP, CNN and GRU follow the baselines of Greydanus & Kobak, "Scaling Down Deep
Learning with MNIST-1D" (ICML 2024, arXiv:2011.14439; their notebooks/models.py): ConvBase is
their three strided Conv1d layers with 25 channels, GRUBase their bidirectional GRU with 6 hidden
units read out from every time step. The LSTM and tanh RNN swap the cell; the TCN is a dilated
causal CNN (Bai, Kolter & Koltun, "An Empirical Evaluation of Generic Convolutional and Recurrent
Networks for Sequence Modeling", 2018) that reads the last time step, whose field covers the whole
sequence after ⌈log2⌉ layers. The MLP has 50 hidden units (5k weights; the paper's 100 give 15k).

Every model takes (B, T) and returns (B, 10) logits. Weights are drawn from PyTorch's default
distributions with a caller's torch.Generator, never the global one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.core import N_, ExplorerError, seeded

__all__ = [
    "ARCHS",
    "ARCH_TITLES",
    "CNN_CHANNELS",
    "CNN_LAYERS_SPEC",
    "MLP_HIDDEN",
    "PAPER_MLP_HIDDEN",
    "RNN_HIDDEN",
    "ConvBase",
    "LinearBase",
    "MLPBase",
    "RecurrentBase",
    "TCN",
    "UnknownArchError",
    "build_model",
    "count_parameters",
    "init_parameters_",
    "tcn_dilations",
]

ARCHS = ("linear", "mlp", "cnn", "gru", "lstm", "rnn", "tcn")
ARCH_TITLES = {
    "linear": N_("Logistic regression"),
    "mlp": N_("MLP (2 hidden layers)"),
    "cnn": N_("CNN (3 strided conv layers)"),
    "gru": N_("GRU (bidirectional)"),
    "lstm": N_("LSTM (bidirectional)"),
    "rnn": N_("tanh RNN (bidirectional)"),
    "tcn": N_("TCN (dilated causal CNN)"),
}
N_CLASSES = 10
MLP_HIDDEN = 50  # units per MLP hidden layer (about 5k weights)
PAPER_MLP_HIDDEN = 100  # the paper's MLP (about 15k weights)
CNN_CHANNELS = 25
CNN_LAYERS_SPEC = ((5, 2), (3, 2), (3, 2))  # (kernel, stride) of ConvBase's conv layers
RNN_HIDDEN = 6  # hidden units per direction of the recurrent readers


class UnknownArchError(ExplorerError):
    """An architecture name we do not build; the message lists the ones we do."""


class LinearBase(nn.Module):
    """Logistic regression: one linear map from the 40 samples to 10 logits."""

    def __init__(self, seq_len: int) -> None:
        super().__init__()
        self.linear = nn.Linear(seq_len, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, 10)
        return self.linear(x)


class MLPBase(nn.Module):
    """Two ReLU hidden layers, the second residual, as in the paper's MLPBase."""

    def __init__(self, seq_len: int, hidden: int = MLP_HIDDEN) -> None:
        super().__init__()
        self.linear1 = nn.Linear(seq_len, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear1(x).relu()  # (B, H)
        h = h + self.linear2(h).relu()
        return self.linear3(h)


def _conv_out(length: int, conv: nn.Conv1d) -> int:
    (k,), (s,), (p,), (d,) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    return (length + 2 * p - d * (k - 1) - 1) // s + 1


class ConvBase(nn.Module):
    """The paper's ConvBase: Conv1d k5/s2, k3/s2, k3/s2 with ReLU, flattened into a linear layer."""

    def __init__(self, seq_len: int, channels: int = CNN_CHANNELS) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(1 if i == 0 else channels, channels, k, stride=st, padding=1)
                for i, (k, st) in enumerate(CNN_LAYERS_SPEC)
            ]
        )
        length = seq_len
        for conv in self.convs:
            length = _conv_out(length, conv)  # 40 -> 19 -> 10 -> 5
        if length < 1:
            raise UnknownArchError(
                "The CNN needs sequences of at least 7 samples, not {n}.", n=seq_len
            )
        self.linear = nn.Linear(channels * length, N_CLASSES)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return each conv layer's ReLU output, (B, C, T_l)."""
        h, maps = x[:, None, :], []  # (B, 1, T)
        for conv in self.convs:
            h = conv(h).relu()
            maps.append(h)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x)[-1].flatten(1))  # (B, C·T_3) -> (B, 10)


class RecurrentBase(nn.Module):
    """The paper's GRUBase with any cell: bidirectional, read out from every step's hidden state."""

    def __init__(self, seq_len: int, cell: str = "gru", hidden: int = RNN_HIDDEN) -> None:
        super().__init__()
        module = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell]
        self.rnn = module(1, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden * seq_len, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x[:, :, None])  # (B, T, 1) -> (B, T, 2H)
        return self.linear(out.flatten(1))  # (B, T·2H) -> (B, 10)


def tcn_dilations(seq_len: int, kernel: int = 3) -> tuple[int, ...]:
    """Return dilations 1, 2, 4, … just enough for the last step's field to cover seq_len."""
    dilations, field = [1], kernel
    while field < seq_len:
        dilations.append(2 * dilations[-1])
        field += (kernel - 1) * dilations[-1]
    return tuple(dilations)


class TCN(nn.Module):
    """A dilated causal CNN: each layer sees k samples spaced d apart, all in the past."""

    def __init__(self, seq_len: int, channels: int = 20, kernel: int = 3) -> None:
        super().__init__()
        self.kernel = kernel
        self.convs = nn.ModuleList(
            nn.Conv1d(1 if i == 0 else channels, channels, kernel, dilation=d)
            for i, d in enumerate(tcn_dilations(seq_len, kernel))
        )
        self.linear = nn.Linear(channels, N_CLASSES)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return each layer's ReLU output, (B, C, T): left padding keeps every unit causal."""
        h, maps = x[:, None, :], []  # (B, 1, T)
        for conv in self.convs:
            h = conv(F.pad(h, ((self.kernel - 1) * conv.dilation[0], 0))).relu()
            maps.append(h)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x)[-1][:, :, -1])  # last step (B, C) -> (B, 10)


@torch.no_grad()
def init_parameters_(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Return model with PyTorch's default init redrawn from generator (in place)."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv1d):
            fan_in = module.weight[0].numel()
            bounds = {"weight": 1 / math.sqrt(fan_in), "bias": 1 / math.sqrt(fan_in)}
        elif isinstance(module, nn.RNNBase):
            bound = 1 / math.sqrt(module.hidden_size)
            bounds = {name: bound for name, _ in module.named_parameters()}
        else:
            continue
        for name, param in module.named_parameters(recurse=False):
            sample = torch.rand(param.shape, generator=generator, dtype=param.dtype)
            param.copy_((2 * sample - 1) * bounds[name])  # U(-b, b)
    return model


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable numbers in model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(arch: str, seq_len: int = 40, seed: int = 0) -> nn.Module:
    """Return arch's classifier for (B, seq_len) inputs, weights drawn from a seeded generator."""
    if arch not in ARCHS:
        raise UnknownArchError(
            "Unknown architecture {arch!r}; pick one of {names}.", arch=arch, names=", ".join(ARCHS)
        )
    with torch.device("meta"):  # no global-RNG draws while building; real init follows
        model: nn.Module
        if arch == "linear":
            model = LinearBase(seq_len)
        elif arch == "mlp":
            model = MLPBase(seq_len)
        elif arch == "cnn":
            model = ConvBase(seq_len)
        elif arch == "tcn":
            model = TCN(seq_len)
        else:
            model = RecurrentBase(seq_len, cell=arch)
    model = model.to_empty(device="cpu")
    if isinstance(model, RecurrentBase):
        model.rnn.flatten_parameters()
    return init_parameters_(model, seeded(seed))
