"""The two-colour score: exact on two-colour pictures, optimal on small ones, and it separates."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.cnn import (
    DRAWING_PERCENTILE,
    CNNError,
    DrawingReference,
    drawing_reference,
    familiarity,
    make_dataset_uint8,
    preprocess,
    two_colour_residual,
)
from engine.core import ExplorerError

SAMPLES_DIR = Path(__file__).resolve().parents[3] / "assets" / "samples"


def _two_colours(seed: int, noise: float = 0.0, side: int = 16) -> torch.Tensor:
    """Return (3, side, side): a random half-plane of one colour on another, plus noise."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.rand(3, generator=g) * 0.4, 0.6 + torch.rand(3, generator=g) * 0.4
    mask = (torch.rand(side, side, generator=g) < 0.3).float()
    x = a[:, None, None] + (b - a)[:, None, None] * mask
    return x + noise * torch.randn(3, side, side, generator=g)


def _brute_force(x: torch.Tensor) -> float:
    """Return the best two-colour RMS residual over every split of the pixels into two groups."""
    p = x.double().flatten(1).T.numpy()  # (P, 3)
    best = np.inf
    for bits in itertools.product((0, 1), repeat=len(p) - 1):
        side = np.array((0, *bits), dtype=bool)
        err = sum(((g - g.mean(0)) ** 2).sum() for g in (p[side], p[~side]) if len(g))
        best = min(best, err)
    return float(np.sqrt(best / len(p)))


@pytest.mark.parametrize("seed", range(4))
def test_two_exact_colours_leave_nothing(seed):
    assert float(two_colour_residual(_two_colours(seed))[0]) == pytest.approx(0, abs=1e-6)


def test_noise_on_two_colours_is_measured_as_its_rms():
    x = _two_colours(7, noise=0.02, side=64)
    clean = _two_colours(7, side=64)
    rms = float((x - clean).double().pow(2).sum(0).mean().sqrt())
    assert float(two_colour_residual(x)[0]) == pytest.approx(rms, rel=0.02)


@pytest.mark.parametrize("seed", range(6))
def test_the_fit_matches_the_best_split_on_small_pictures(seed):
    x = _two_colours(seed, noise=0.05, side=3)  # 9 pixels: 256 splits
    assert float(two_colour_residual(x)[0]) == pytest.approx(_brute_force(x), abs=1e-6)


def test_uint8_and_float_pictures_agree_and_batches_are_per_picture():
    images, _ = make_dataset_uint8(2, 5)
    as_float = images.float() / 255
    batch = two_colour_residual(images)
    assert torch.allclose(batch, two_colour_residual(as_float), atol=1e-6)
    assert torch.allclose(batch[3:4], two_colour_residual(as_float[3]), atol=1e-6)


@pytest.mark.parametrize("bad", [torch.zeros(2, 8, 8), torch.zeros(8, 8), "a picture"])
def test_bad_input_says_what_is_expected(bad):
    with pytest.raises(CNNError):
        two_colour_residual(bad)
    assert issubclass(CNNError, ExplorerError)


@pytest.fixture(scope="module")
def reference() -> DrawingReference:
    return drawing_reference(per_class=30)


def test_the_threshold_is_the_percentile_of_the_drawings(reference):
    assert reference.count == 300
    assert reference.threshold == pytest.approx(
        float(np.percentile(reference.scores, DRAWING_PERCENTILE))
    )


def test_unseen_drawings_mostly_look_like_drawings(reference):
    images, _ = make_dataset_uint8(20, 99)  # a seed the reference never used
    above = float((two_colour_residual(images).numpy() > reference.threshold).mean())
    assert above <= 0.05, above


def _sample(name: str) -> torch.Tensor:
    return preprocess(Image.open(SAMPLES_DIR / f"{name}.png"), 64)


@pytest.mark.parametrize("name", ["portrait", "house", "noise_gradients", "textures"])
def test_the_sample_photos_are_unlike_the_drawings(reference, name):
    seen = familiarity(_sample(name), reference)
    assert seen.unlike and seen.score > seen.threshold == reference.threshold


@pytest.mark.parametrize("seed", range(3))
def test_random_noise_is_unlike_the_drawings(reference, seed):
    x = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(seed))
    seen = familiarity(x, reference)
    assert seen.unlike and seen.share_below == 1.0


def test_both_sides_of_the_threshold():
    x = _two_colours(3, noise=0.03, side=32)
    score = float(two_colour_residual(x)[0])
    scores = np.array([score - 0.01, score, score + 0.01])
    at = DrawingReference(("star",), scores, 50.0, score)  # threshold exactly this score
    below = DrawingReference(("star",), scores, 50.0, score - 1e-6)
    assert not familiarity(x, at).unlike  # equal to the threshold: not above it
    assert familiarity(x, below).unlike
    assert familiarity(x, at).share_below == pytest.approx(2 / 3)
