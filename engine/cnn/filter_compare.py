"""Did training rediscover the classic edge detectors? Learned first-layer filters against the bank.

Each learned filter (F, 3, k, k) is averaged over its three colour channels, then compared with
every hand-made kernel of engine/conv/kernel_bank.py of the same size by the absolute cosine
similarity |⟨a, b⟩| / (‖a‖ ‖b‖): 1 means the same pattern up to scale and sign (a filter and its
negative detect the same edge, the next layer can flip it), 0 means nothing in common. Because a
random 3×3 pattern already resembles some kernel of a bank of ten, the same numbers are computed for
the filters the network started from, so the comparison says how much training added.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

import torch

from engine.cnn.explain import first_layer_filters
from engine.cnn.small_cnn import CNNError, SmallCNN
from engine.conv import KERNEL_SIZES, make_kernel
from engine.core import N_

__all__ = [
    "HANDMADE",
    "FilterComparison",
    "FilterDrift",
    "abs_cosine",
    "colour_share",
    "compare_filters",
    "compare_first_layer",
    "filter_drift",
    "handmade_kernels",
]

# (display name, bank name, angle in degrees): edge, line and blob detectors, and a blur
HANDMADE: tuple[tuple[str, str, float], ...] = (  # display names are message ids (N_)
    (N_("Sobel x"), "sobel x", 0.0),
    (N_("Sobel y"), "sobel y", 0.0),
    (N_("Laplacian"), "laplacian", 0.0),
    (N_("Gabor 0°"), "gabor", 0.0),
    (N_("Gabor 45°"), "gabor", 45.0),
    (N_("Gabor 90°"), "gabor", 90.0),
    (N_("Gabor 135°"), "gabor", 135.0),
    (N_("Emboss"), "emboss", 0.0),
    (N_("Sharpen"), "sharpen", 0.0),
    (N_("Gaussian blur"), "gaussian", 0.0),
)


def handmade_kernels(size: int) -> dict[str, torch.Tensor]:
    """Return {display name: (size, size) float32 kernel} for the HANDMADE bank at this size."""
    if size not in KERNEL_SIZES:
        raise CNNError(
            f"Hand-made kernels come in sizes {KERNEL_SIZES}; a {size}×{size} filter has no "
            "spatial pattern to compare."
        )
    return {name: make_kernel(bank, size, angle) for name, bank, angle in HANDMADE}


def abs_cosine(filters: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Return (F, B) |cos| of each filter (F, k, k) with each kernel (B, k, k); 0 for zero ones."""
    a = filters.reshape(len(filters), -1).double()  # (F, k²)
    b = bank.reshape(len(bank), -1).double()  # (B, k²)
    norms = a.norm(dim=1)[:, None] * b.norm(dim=1)[None]  # (F, B)
    dots = (a @ b.T).abs()
    return torch.where(norms > 0, dots / norms.clamp_min(1e-300), torch.zeros_like(dots))


def colour_share(weights: torch.Tensor) -> torch.Tensor:
    """Return (F,) the fraction of each filter's squared weight (F, 3, k, k) that differs by colour.

    0: the three colour channels carry the same pattern (the filter sees brightness only);
    1: they cancel on average (the filter sees only colour differences, e.g. red against green).
    """
    w = weights.double()
    total = w.pow(2).sum((1, 2, 3))  # (F,)
    grey = 3 * w.mean(1).pow(2).sum((1, 2))  # the part shared by the channels
    return torch.where(total > 0, 1 - grey / total.clamp_min(1e-300), torch.zeros_like(total))


@dataclass(frozen=True)
class FilterComparison:
    """Learned first-layer filters against the hand-made bank, and the same for their start."""

    names: tuple[str, ...]  # the hand-made kernels, columns of the similarities
    kernels: torch.Tensor  # (B, k, k) the hand-made kernels
    grey: torch.Tensor  # (F, k, k) each learned filter averaged over colour
    similarity: torch.Tensor  # (F, B) |cos| between grey and kernels
    colour: torch.Tensor  # (F,) colour_share of each learned filter
    start_similarity: torch.Tensor  # (F, B) the same for the filters before training
    start_colour: torch.Tensor  # (F,)
    start_seed: int  # the initialisation seed of those starting filters

    @property
    def best(self) -> torch.Tensor:
        """Return (F,) each learned filter's highest |cos| over the bank."""
        return self.similarity.max(1).values

    @property
    def best_kernel(self) -> list[str]:
        """Return each learned filter's closest hand-made kernel by name."""
        return [self.names[int(i)] for i in self.similarity.argmax(1)]

    @property
    def start_best(self) -> torch.Tensor:
        """Return (F,) each starting filter's highest |cos| over the bank."""
        return self.start_similarity.max(1).values

    @property
    def median_best(self) -> float:
        """Return the median over learned filters of their highest |cos| (middle two averaged)."""
        return float(torch.quantile(self.best.double(), 0.5))

    @property
    def median_start_best(self) -> float:
        """Return the median over starting filters of their highest |cos| (middle two averaged)."""
        return float(torch.quantile(self.start_best.double(), 0.5))

    @property
    def mean_best(self) -> float:
        """Return the mean over learned filters of their highest |cos|."""
        return float(self.best.mean())

    @property
    def mean_start_best(self) -> float:
        """Return the mean over starting filters of their highest |cos|."""
        return float(self.start_best.mean())

    def closest_counts(self) -> list[tuple[str, int]]:
        """Return (kernel name, how many learned filters it is closest to), most first."""
        return Counter(self.best_kernel).most_common()


@dataclass(frozen=True)
class FilterDrift:
    """How far training moved first-layer filters, and towards colour or brightness."""

    moved: float  # ‖W − W₀‖ / ‖W₀‖
    start_colour: float  # mean colour_share of the starting filters
    colour: float  # mean colour_share of the filters now


def filter_drift(start: torch.Tensor, learned: torch.Tensor) -> FilterDrift:
    """Return the FilterDrift from start to learned, both (F, 3, k, k) (any kernel size)."""
    if start.shape != learned.shape or start.dim() != 4:
        raise CNNError("Compare filters of one layer: both must be (F, 3, k, k) of one shape.")
    moved = float((learned - start).norm() / start.norm()) if start.norm() > 0 else float("inf")
    return FilterDrift(
        moved, float(colour_share(start).mean()), float(colour_share(learned).mean())
    )


def compare_first_layer(model: SmallCNN, start_seed: int = 0) -> FilterComparison:
    """Return the comparison of model's first conv layer with the bank (kernel sides 3, 5, 7).

    The starting filters are those of SmallCNN(model.config, seed=start_seed): the exact weights
    a model trained from that seed began with (reset_parameters initialises the first conv first).
    """
    if isinstance(start_seed, bool) or not isinstance(start_seed, int) or start_seed < 0:
        raise CNNError(f"start_seed must be a whole number ≥ 0, got {start_seed!r}.")
    learned = first_layer_filters(model)  # (F, 3, k, k)
    small = dataclasses.replace(model.config, depth_blocks=1)  # same first layer, fewer weights
    start = first_layer_filters(SmallCNN(small, seed=start_seed))
    return compare_filters(learned, start, start_seed)


def compare_filters(
    learned: torch.Tensor, start: torch.Tensor, start_seed: int = 0
) -> FilterComparison:
    """Return the comparison of learned filters (F, 3, k, k) and their start with the bank."""
    kernel = learned.shape[-1]
    bank = handmade_kernels(kernel)
    kernels = torch.stack(list(bank.values()))  # (B, k, k)
    grey = learned.mean(1)  # (F, k, k)
    return FilterComparison(
        names=tuple(bank),
        kernels=kernels,
        grey=grey,
        similarity=abs_cosine(grey, kernels).float(),
        colour=colour_share(learned).float(),
        start_similarity=abs_cosine(start.mean(1), kernels).float(),
        start_colour=colour_share(start).float(),
        start_seed=start_seed,
    )
