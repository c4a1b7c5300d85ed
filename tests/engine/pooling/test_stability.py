"""Shift, rotation and scale stability of pooled maps, against brute-force loops and Zhang (2019)'s
finding that blurring before subsampling makes pooled maps more shift-consistent."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import engine.pooling.warps as warps
from engine.pooling import (
    COMPARISONS,
    POOL_METHODS,
    SHIFT_DIRECTIONS,
    STABILITY_METHODS,
    STABILITY_TOL,
    PoolingError,
    consistency,
    rotation_stability,
    scale_stability,
    shift_findings,
    shift_stability,
    stability_kernels,
    stability_pipeline,
)


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- stability


def _smooth_noise(seed: int, side: int = 80, sigma: float = 2.0) -> torch.Tensor:
    """Return a (side, side) gaussian-blurred white-noise image scaled to [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    radius = 3 * int(math.ceil(sigma))
    noise = torch.randn(1, 1, side + 2 * radius, side + 2 * radius, generator=generator)
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    bell = torch.exp(-(taps**2) / (2 * sigma**2))
    bell = bell / bell.sum()
    image = F.conv2d(F.conv2d(noise, bell.view(1, 1, 1, -1)), bell.view(1, 1, -1, 1))[0, 0]
    return (image - image.min()) / (image.max() - image.min())


def test_pipelines_are_the_named_layers():
    assert stability_kernels().shape == (4, 1, 5, 5)
    image = _smooth_noise(1, side=40)
    weight = stability_kernels()  # (4, 1, 5, 5)
    detector = torch.relu(F.conv2d(image[None, None], weight))[0]
    torch.testing.assert_close(stability_pipeline(image, "max pool"), F.max_pool2d(detector, 2))
    torch.testing.assert_close(stability_pipeline(image, "average pool"), F.avg_pool2d(detector, 2))
    strided = torch.relu(F.conv2d(image[None, None], weight, stride=2))[0]
    torch.testing.assert_close(stability_pipeline(image, "strided convolution"), strided)
    dense = F.max_pool2d(detector, 2, stride=1).double().numpy()  # (4, h, w)
    blurred = stability_pipeline(image, "anti-aliased max pool")
    row = np.array([1.0, 2.0, 1.0])
    blur = np.outer(row, row) / 16
    for ch, i, j in [(0, 0, 0), (1, 3, 5), (3, 7, 2), (2, blurred.shape[1] - 1, 4)]:
        expected = (dense[ch, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * blur).sum()
        assert float(blurred[ch, i, j]) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def _brute_shift_curve(image, method, max_shift, tol, moved):
    """The x-shift measurement written as loops over output cells, one shift at a time."""
    height, width = image.shape
    before = stability_pipeline(image[:, max_shift:], method).double().numpy()  # (K, h, w)
    span = before.max(axis=(1, 2)) - before.min(axis=(1, 2))
    margin = (max_shift + 1) // 2
    curve = []
    for s in range(max_shift + 1):
        after = stability_pipeline(image[:, max_shift - s : width - s], method).double().numpy()
        kept = counted = 0
        for ch in range(before.shape[0]):
            limit = tol * span[ch]
            for i in range(before.shape[1]):
                for j in range(margin, before.shape[2]):
                    lo, hi = (s // 2, (s + 1) // 2) if moved else (0, 0)
                    ref = 0.5 * (before[ch, i, j - lo] + before[ch, i, j - hi])
                    if abs(after[ch, i, j]) > limit or abs(ref) > limit:
                        counted += 1
                        kept += abs(after[ch, i, j] - ref) <= limit
        curve.append(kept / counted if counted else 1.0)
    return np.array(curve)


@pytest.mark.parametrize("compare", COMPARISONS)
@pytest.mark.parametrize("method", STABILITY_METHODS)
def test_shift_stability_matches_loops(method, compare):
    image = _smooth_noise(2, side=28, sigma=1.5)
    curves = shift_stability(image, 3, methods=[method], tol=0.1, compare=compare)
    expected = _brute_shift_curve(image, method, 3, 0.1, moved=compare == "moved")
    np.testing.assert_allclose(curves[method], expected, atol=1e-12)


@pytest.mark.parametrize("direction", SHIFT_DIRECTIONS)
def test_no_shift_keeps_everything_and_even_shifts_keep_everything_moved(direction):
    image = _smooth_noise(3, side=48)
    moved = shift_stability(image, 6, direction=direction)
    in_place = shift_stability(image, 6, direction=direction, compare="in place")
    assert list(moved) == list(STABILITY_METHODS)
    for method in STABILITY_METHODS:
        assert moved[method].shape == (7,) and moved[method].dtype == np.float64
        assert moved[method][0] == 1.0 and in_place[method][0] == 1.0
        # all four subsample by 2 from a shift-equivariant stage: shifts by 2 are exact
        np.testing.assert_array_equal(moved[method][::2], 1.0)
        assert moved[method][1] < 1.0
        assert in_place[method][2] < 1.0  # in place, a whole-cell move is a change


def test_flat_image_counts_as_fully_stable():
    curves = shift_stability(torch.full((32, 32), 0.5), 3)
    for method in STABILITY_METHODS:
        np.testing.assert_array_equal(curves[method], 1.0)


def test_anti_aliasing_makes_max_pool_more_shift_consistent():
    # statistical, with fixed seeds: Zhang (2019) fig. 5 / table 2 in miniature
    wins = []
    for seed in range(10):
        scores = consistency(shift_stability(_smooth_noise(100 + seed), 4, direction="diagonal"))
        wins.append(scores["anti-aliased max pool"] > scores["max pool"])
        assert scores["strided convolution"] < scores["anti-aliased max pool"]
    assert all(wins)


def test_consistency_is_the_mean_over_nonzero_shifts():
    curves = {"max pool": np.array([1.0, 0.5, 1.0, 0.6]), "average pool": np.array([1.0, 0.9])}
    assert consistency(curves) == pytest.approx({"max pool": 0.7, "average pool": 0.9})
    with pytest.raises(PoolingError, match="max_shift"):
        consistency({"max pool": np.array([1.0])})
    with pytest.raises(PoolingError):
        consistency({})


def test_rotation_turns_counter_clockwise_on_screen():
    image = _smooth_noise(4, side=33)
    theta = warps._rotation_theta([90.0, -90.0, 180.0], 33, 33)
    turned = warps._transformed(image, theta)
    # on a square grid a quarter turn maps pixel centres onto pixel centres
    torch.testing.assert_close(turned[0], torch.rot90(image, 1, dims=(0, 1)), atol=1e-5, rtol=0)
    torch.testing.assert_close(turned[1], torch.rot90(image, -1, dims=(0, 1)), atol=1e-5, rtol=0)
    torch.testing.assert_close(turned[2], torch.rot90(image, 2, dims=(0, 1)), atol=1e-5, rtol=0)


def test_zoom_by_2_doubles_distances_from_the_centre():
    image = torch.zeros(32, 32)
    image[12:20, 12:20] = 1.0  # an 8×8 square about the centre
    zoomed = warps._transformed(image, warps._scale_theta([2.0, 0.5]))
    # output pixel i reads input (i - 15.5) / scale + 15.5, bilinearly
    big, small = zoomed[0], zoomed[1]
    assert torch.equal(big[9:23, 9:23], torch.ones(14, 14))  # reads rows/cols 12.25..18.75
    assert big[:7].abs().max() == 0 and big[:, 25:].abs().max() == 0
    assert float(big.sum()) == pytest.approx(256.0, rel=0.02)  # 16×16 up to the blurred rim
    assert torch.equal(small[14:18, 14:18], torch.ones(4, 4))  # reads 12.5..18.5
    assert float(small.sum()) == pytest.approx(16.0)


@pytest.mark.parametrize("compare", COMPARISONS)
def test_rotation_and_scale_identity_keep_everything(compare):
    image = _smooth_noise(5, side=40)
    turned = rotation_stability(image, [0.0, 5.0, 30.0], compare=compare)
    zoomed = scale_stability(image, [1.0, 1.2, 0.8], compare=compare)
    for method in STABILITY_METHODS:
        assert turned[method].shape == (3,) and zoomed[method].shape == (3,)
        assert turned[method][0] == pytest.approx(1.0, abs=1e-3)
        assert zoomed[method][0] == pytest.approx(1.0, abs=1e-3)
        assert turned[method][2] < 1.0 and zoomed[method][1] < 1.0


def test_in_place_and_moved_differ_as_defined():
    # a blurred disc is the same after a quarter turn: in place nothing changes, but the pooled
    # maps of oriented kernels (Sobel x, y) do not turn with it, so "moved" sees a change
    taps = torch.arange(48, dtype=torch.float32) - 23.5
    radius = torch.sqrt(taps[:, None] ** 2 + taps[None, :] ** 2)
    disc = torch.sigmoid(10.0 - radius)  # (48, 48)
    in_place = rotation_stability(disc, [90.0], methods=["average pool"], compare="in place")
    moved = rotation_stability(disc, [90.0], methods=["average pool"], compare="moved")
    assert in_place["average pool"][0] > 0.99
    assert moved["average pool"][0] < 0.9


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(max_shift=40), "max_shift"),
        (dict(max_shift=20), "max_shift ≤ 16"),
        (dict(max_shift=-1), "at least 0"),
        (dict(max_shift=2, methods=["min pool"]), "min pool"),
        (dict(max_shift=2, methods=[]), "at least one"),
        (dict(max_shift=2, tol=1.5), "tol"),
        (dict(max_shift=2, direction="z"), "direction"),
        (dict(max_shift=2, compare="nearby"), "comparison"),
    ],
)
def test_shift_stability_rejects_bad_settings(kwargs, match):
    with pytest.raises(PoolingError, match=match):
        shift_stability(torch.rand(32, 32, generator=torch.Generator().manual_seed(0)), **kwargs)


def test_stability_rejects_bad_images_and_transforms():
    image = torch.rand(32, 32, generator=torch.Generator().manual_seed(0))
    with pytest.raises(PoolingError, match="resize"):
        shift_stability(torch.zeros(8, 64), 1)
    with pytest.raises(PoolingError, match="gray"):
        shift_stability(torch.zeros(3, 32, 32), 1)
    with pytest.raises(PoolingError, match="between"):
        rotation_stability(image, [0.0, 200.0])
    with pytest.raises(PoolingError, match="between"):
        rotation_stability(image, [])
    with pytest.raises(PoolingError, match="list"):
        rotation_stability(image, 5.0)
    with pytest.raises(PoolingError, match="between"):
        scale_stability(image, [0.1])
    with pytest.raises(PoolingError, match="finite"):
        scale_stability(image, [float("nan")])
    with pytest.raises(PoolingError, match="comparison"):
        scale_stability(image, [1.0], compare="")
    assert set(POOL_METHODS) == {"max", "average", "l2", "k-max"}


def test_the_default_tolerance_is_the_exported_one():
    image = _smooth_noise(7)
    default = shift_stability(image, 3)
    explicit = shift_stability(image, 3, tol=STABILITY_TOL)
    looser = shift_stability(image, 3, tol=0.5)
    for method, curve in default.items():
        np.testing.assert_array_equal(curve, explicit[method])
    assert any(not np.array_equal(c, looser[m]) for m, c in default.items())


def test_shift_findings_at_both_sides_of_each_claim():
    kept_even = {
        "max pool": np.array([1.0, 0.5, 1.0, 0.4]),
        "anti-aliased max pool": np.array([1.0, 0.8, 1.0, 0.6]),
    }
    found = shift_findings(kept_even)
    assert found.even_kept is True and found.blur_best is True
    assert found.odd_means == pytest.approx({"max pool": 0.45, "anti-aliased max pool": 0.7})
    one_short = {**kept_even, "max pool": np.array([1.0, 0.5, 0.999, 0.4])}
    assert shift_findings(one_short).even_kept is False
    tie = {**kept_even, "max pool": np.array([1.0, 0.8, 1.0, 0.6])}
    assert shift_findings(tie).blur_best is False  # equal is not "kept the most"
    assert shift_findings({m: c[:2] for m, c in kept_even.items()}).even_kept is None
    assert shift_findings({"max pool": kept_even["max pool"]}).blur_best is None


def test_shift_findings_on_an_image_moved_vs_in_place():
    image = _smooth_noise(7)
    assert shift_findings(shift_stability(image, 4, compare="moved")).even_kept is True
    assert shift_findings(shift_stability(image, 4, compare="in place")).even_kept is False
