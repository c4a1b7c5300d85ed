"""Is a picture like the drawings the network was trained on? A measured two-colour score.

A softmax over K classes always sums to 1, so the network must name one of its drawn classes
for any picture, and its probability says nothing about whether the picture is a drawing at all.
Every training drawing (shapes_data.py) is one shape in one colour on a background of another,
lit unevenly and grainy. `two_colour_residual` measures how far a picture is from that: the
RMS distance of its pixels to the nearer of the two colours that fit it best (2-means). The
threshold is a high percentile of the same score over a fixed set of generated drawings.

Measured on the shipped model (issue 12): the usual network-side scores do not separate here.
The energy −logsumexp(z), and Mahalanobis or k-NN distances of the flattened features, of the
project's sample pictures (portrait, house, gradients) fall well inside the spread of the
drawings' own scores (below their 99th percentile), so the network's features cannot flag them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.cnn.shapes_data import CLASSES, make_dataset_uint8
from engine.cnn.small_cnn import CNNError
from engine.core import check_tensor

__all__ = [
    "DRAWING_PERCENTILE",
    "REFERENCE_PER_CLASS",
    "REFERENCE_SEED",
    "DrawingReference",
    "Familiarity",
    "drawing_reference",
    "familiarity",
    "two_colour_residual",
]

REFERENCE_PER_CLASS = 60  # generated drawings per class for the threshold
REFERENCE_SEED = 31337  # unseen in training (0), validation (1_000_003) and held-out sets (2024)
DRAWING_PERCENTILE = 99.0  # a picture scoring above this share of the drawings is "unlike them"
ITERATIONS = 12  # Lloyd steps of the 2-means fit (it settles in a few on two-colour pictures)
CHUNK = 64  # pictures fitted at once
_LUMA = (0.299, 0.587, 0.114)


def _as_batch(images: torch.Tensor) -> torch.Tensor:
    """Return images as (N, P, 3) float32 pixels: a (3, H, W) or (N, 3, H, W) tensor in [0, 1]."""
    if isinstance(images, torch.Tensor) and images.dtype == torch.uint8:
        images = images.float() / 255
    check_tensor("images", images, (3, 4), error=CNNError)
    x = images[None] if images.dim() == 3 else images
    if x.shape[1] != 3 or x.shape[2] * x.shape[3] == 0:
        raise CNNError(f"Expected RGB images (N, 3, H, W), got shape {tuple(images.shape)}.")
    return x.float().flatten(2).transpose(1, 2)  # (N, P, 3)


def _side(pixels: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Return (N, P) bool: True where a pixel is nearer the second colour than the first.

    The boundary between two colours is the plane halfway between them, normal to c₁ − c₀.
    """
    mid, normal = centres.mean(1), centres[:, 1] - centres[:, 0]  # (N, 3) each
    return torch.bmm(pixels - mid[:, None, :], normal[:, :, None])[..., 0] > 0


def _two_means(pixels: torch.Tensor) -> torch.Tensor:
    """Return (N, 2, 3) colours of a 2-means fit per picture, started at its darkest/brightest."""
    luma = pixels @ torch.tensor(_LUMA, dtype=pixels.dtype)  # (N, P)
    rows = torch.arange(len(pixels))
    centres = torch.stack([pixels[rows, luma.argmin(1)], pixels[rows, luma.argmax(1)]], 1)
    total, n = pixels.sum(1), pixels.shape[1]  # (N, 3), pixels per picture
    for _ in range(ITERATIONS):
        w = _side(pixels, centres).to(pixels.dtype)  # (N, P)
        count = w.sum(1, keepdim=True)  # (N, 1) pixels on the second colour's side
        second = torch.bmm(w[:, None, :], pixels)[:, 0]  # (N, 3) their sum
        means = torch.stack([(total - second) / (n - count), second / count], 1)
        keep = torch.stack([count < n, count > 0], 1)  # (N, 2, 1): an empty side keeps its colour
        centres = torch.where(keep, means, centres)
    return centres


def two_colour_residual(images: torch.Tensor) -> torch.Tensor:
    """Return (N,) float64: each picture's RMS pixel distance to the nearer of its two colours.

    0 for a picture of exactly two colours; about the noise's RMS for two colours plus noise;
    large for a picture of many colours or of noise. images: (3, H, W) or (N, 3, H, W), floats
    in [0, 1] or uint8.
    """
    pixels = _as_batch(images)
    out = []
    for part in pixels.split(CHUNK):  # bounded memory: (CHUNK, P, 2, 3) differences at a time
        centres = _two_means(part)
        near = torch.where(_side(part, centres)[..., None], centres[:, 1:], centres[:, :1])
        out.append((part - near).double().pow(2).sum(2).mean(1).sqrt())
    return torch.cat(out)


@dataclass(frozen=True)
class DrawingReference:
    """The score of a fixed set of generated drawings, and the threshold above them."""

    classes: tuple[str, ...]
    scores: np.ndarray  # (N,) sorted two_colour_residual of the drawings
    percentile: float
    threshold: float  # the percentile of scores

    @property
    def count(self) -> int:
        """Return how many drawings the reference holds."""
        return len(self.scores)


def drawing_reference(
    classes: tuple[str, ...] = CLASSES,
    size: int = 64,
    per_class: int = REFERENCE_PER_CLASS,
    seed: int = REFERENCE_SEED,
    percentile: float = DRAWING_PERCENTILE,
) -> DrawingReference:
    """Return the DrawingReference of per_class generated drawings of each class."""
    if not 0 < percentile < 100:
        raise CNNError(f"The percentile must lie between 0 and 100, got {percentile!r}.")
    images, _ = make_dataset_uint8(per_class, seed, tuple(classes), size)
    scores = np.sort(two_colour_residual(images).numpy())
    return DrawingReference(
        tuple(classes), scores, float(percentile), float(np.percentile(scores, percentile))
    )


@dataclass(frozen=True)
class Familiarity:
    """One picture's two-colour score against the drawings'."""

    score: float
    threshold: float
    share_below: float  # fraction of the reference drawings scoring at most this picture
    unlike: bool  # score above the threshold: the picture is unlike the training drawings


def familiarity(x: torch.Tensor, reference: DrawingReference) -> Familiarity:
    """Return how one picture (3, H, W) in [0, 1] compares with the reference drawings."""
    score = float(two_colour_residual(x)[0])
    below = float(np.searchsorted(reference.scores, score, side="right")) / reference.count
    return Familiarity(score, reference.threshold, below, score > reference.threshold)
