"""Learned first-layer filters against hand-made kernels: checked against plain NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cnn import (
    HANDMADE,
    CNNConfig,
    CNNError,
    SmallCNN,
    abs_cosine,
    colour_share,
    compare_filters,
    compare_first_layer,
    filter_drift,
    first_layer_filters,
    handmade_kernels,
)
from engine.conv import make_kernel


def test_abs_cosine_matches_a_numpy_loop():
    g = torch.Generator().manual_seed(0)
    filters = torch.randn(6, 3, 3, generator=g)
    bank = torch.randn(4, 3, 3, generator=g)
    filters[2] = 0  # a dead filter: similarity 0, not NaN
    got = abs_cosine(filters, bank).numpy()
    for i, f in enumerate(filters.double().numpy().reshape(6, -1)):
        for j, b in enumerate(bank.double().numpy().reshape(4, -1)):
            norm = np.linalg.norm(f) * np.linalg.norm(b)
            want = abs(f @ b) / norm if norm else 0.0
            assert got[i, j] == pytest.approx(want, abs=1e-12)
    assert np.allclose(abs_cosine(-3 * filters, bank).numpy(), got)  # sign and scale do not count


def test_the_bank_is_the_projects_kernels():
    bank = handmade_kernels(5)
    assert list(bank) == [name for name, _, _ in HANDMADE]
    assert torch.equal(bank["Sobel y"], make_kernel("sobel y", 5))
    assert torch.equal(bank["Gabor 45°"], make_kernel("gabor", 5, 45.0))
    with pytest.raises(CNNError, match="1×1"):
        handmade_kernels(1)


def test_colour_share_of_grey_and_of_colour_opponent_filters():
    g = torch.Generator().manual_seed(1)
    pattern = torch.randn(3, 3, generator=g)
    grey = pattern.expand(3, 3, 3)  # the same weights in R, G and B
    opponent = torch.stack([pattern, -pattern, torch.zeros(3, 3)])  # red minus green
    mixed = torch.stack([pattern, torch.zeros(3, 3), torch.zeros(3, 3)])  # red only
    shares = colour_share(torch.stack([grey, opponent, mixed, torch.zeros(3, 3, 3)]))
    assert shares.tolist() == pytest.approx([0.0, 1.0, 2 / 3, 0.0], abs=1e-12)


def test_an_untrained_model_equals_its_own_start():
    config = CNNConfig(classes=("circle", "ring"), depth_blocks=2, filters=4, kernel=5)
    model = SmallCNN(config, seed=7)
    comparison = compare_first_layer(model, start_seed=7)
    assert torch.equal(comparison.similarity, comparison.start_similarity)
    other = compare_first_layer(model, start_seed=8)
    assert not torch.equal(other.similarity, other.start_similarity)
    assert comparison.kernels.shape == (len(HANDMADE), 5, 5)


def test_a_sobel_filter_is_recognised():
    model = SmallCNN(CNNConfig(classes=("circle", "ring"), depth_blocks=1, filters=3), seed=0)
    with torch.no_grad():
        first = next(iter(model.convs.values())).weight  # (3, 3, 3, 3)
        first[1] = make_kernel("sobel x", 3)  # every colour channel
        first[2] = -2 * make_kernel("laplacian", 3)
    comparison = compare_first_layer(model)
    assert comparison.best_kernel[1:] == ["Sobel x", "Laplacian"]
    assert comparison.best[1:].tolist() == pytest.approx([1.0, 1.0], abs=1e-6)
    assert comparison.colour[1:].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)


def test_the_start_filters_are_those_a_seeded_model_begins_with():
    config = CNNConfig(depth_blocks=3, filters=6)
    trained_from_seed = SmallCNN(config, seed=11)
    fresh = compare_first_layer(SmallCNN(config, seed=99), start_seed=11)
    want = abs_cosine(
        next(iter(trained_from_seed.convs.values())).weight.detach().mean(1), fresh.kernels
    ).float()
    assert torch.equal(fresh.start_similarity, want)
    with pytest.raises(CNNError):
        compare_first_layer(trained_from_seed, start_seed=-1)


def test_filter_drift_matches_numpy():
    g = torch.Generator().manual_seed(3)
    start = torch.randn(5, 3, 3, 3, generator=g)
    learned = start + 0.5 * torch.randn(5, 3, 3, 3, generator=g)
    learned[1] = learned[1].mean(0, keepdim=True)  # a brightness-only filter: colour share 0
    drift = filter_drift(start, learned)
    s, w = start.double().numpy(), learned.double().numpy()
    assert drift.moved == pytest.approx(np.linalg.norm(w - s) / np.linalg.norm(s), rel=1e-6)

    def share(x: np.ndarray) -> float:  # per filter: 1 − (grey part's energy) / energy
        grey = x.mean(1, keepdims=True)
        return float(
            np.mean([1 - 3 * (gf**2).sum() / (f**2).sum() for f, gf in zip(x, grey, strict=True)])
        )

    assert drift.start_colour == pytest.approx(share(s), rel=1e-6)
    assert drift.colour == pytest.approx(share(w), rel=1e-6)
    with pytest.raises(CNNError, match="one shape"):
        filter_drift(start, learned[:3])


def test_compare_filters_is_compare_first_layer_on_the_weights():
    model = SmallCNN(CNNConfig(kernel=5), seed=11)
    start = first_layer_filters(SmallCNN(CNNConfig(kernel=5), seed=2))
    direct = compare_filters(first_layer_filters(model), start, 2)
    via_model = compare_first_layer(model, 2)
    assert torch.equal(direct.similarity, via_model.similarity)
    assert torch.equal(direct.start_similarity, via_model.start_similarity)


@pytest.mark.parametrize("filters", [9, 10])  # an odd and an even count: np.median averages
def test_comparison_summaries_match_numpy_and_a_tally(filters):
    comparison = compare_first_layer(SmallCNN(CNNConfig(filters=filters), seed=5), 1)
    best = comparison.similarity.numpy().max(1)
    start_best = comparison.start_similarity.numpy().max(1)
    assert comparison.median_best == pytest.approx(float(np.median(best)))
    assert comparison.median_start_best == pytest.approx(float(np.median(start_best)))
    assert comparison.mean_best == pytest.approx(float(best.mean()), rel=1e-6)
    assert comparison.mean_start_best == pytest.approx(float(start_best.mean()), rel=1e-6)
    closest = [comparison.names[j] for j in comparison.similarity.numpy().argmax(1)]
    counts = comparison.closest_counts()
    assert sum(n for _, n in counts) == filters
    assert dict(counts) == {name: closest.count(name) for name in set(closest)}
    assert [n for _, n in counts] == sorted((n for _, n in counts), reverse=True)
