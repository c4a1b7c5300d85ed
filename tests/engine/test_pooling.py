"""Pooling and its stability against brute-force loops, torch's pooling ops and closed forms.

References: Python loops over windows, F.max_pool2d / F.avg_pool2d / F.lp_pool2d, torch.amax/mean,
the Deep Learning book's worked numbers, exact equivariance of stride-2 pooling to shifts by 2, and
Zhang (2019)'s finding that blurring before subsampling makes pooled maps more shift-consistent.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.pool_warps as warps
from engine.pooling import (
    COMPARISONS,
    POOL_METHODS,
    SHIFT_DIRECTIONS,
    STABILITY_METHODS,
    ConvConfigError,
    consistency,
    global_pool,
    kmax_positions,
    moving_dot,
    pool2d,
    rotation_stability,
    scale_stability,
    shift_stability,
    stability_kernels,
    stability_pipeline,
    worked_examples,
)


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _brute_pool(fmap: np.ndarray, reduce, size: int, stride: int) -> np.ndarray:
    """Apply reduce to every size×size window (list of values, row-major) of a (C, H, W) map."""
    channels, height, width = fmap.shape
    rows = range(0, height - size + 1, stride)
    cols = range(0, width - size + 1, stride)
    out = np.zeros((channels, len(rows), len(cols)))
    for ch in range(channels):
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                window = [float(fmap[ch, r + u, c + v]) for u in range(size) for v in range(size)]
                out[ch, i, j] = reduce(window)
    return out


def _brute_kmax(values: list[float], k: int) -> list[int]:
    """Return the positions of the k largest values, ties to the earlier, in order of position."""
    ranked = sorted(range(len(values)), key=lambda i: (-values[i], i))
    return sorted(ranked[:k])


REDUCERS = {
    "max": max,
    "average": lambda w: sum(w) / len(w),
    "l2": lambda w: math.sqrt(sum(v * v for v in w)),
}
WINDOWS = [(2, None), (3, None), (2, 1), (3, 2), (2, 3), (1, 1), (4, 2)]  # size, stride


@pytest.mark.parametrize("size,stride", WINDOWS)
@pytest.mark.parametrize("method", ["max", "average", "l2"])
def test_pool2d_matches_brute_force(method, size, stride):
    fmap = _randn(3, 9, 11, seed=size * 10 + (stride or 0))
    expected = _brute_pool(fmap.double().numpy(), REDUCERS[method], size, stride or size)
    out = pool2d(fmap, method, size, stride)
    assert out.shape == expected.shape and out.dtype == torch.float32
    np.testing.assert_allclose(out.double().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size,stride", WINDOWS)
def test_pool2d_matches_torch_ops(size, stride):
    fmap = _randn(4, 12, 10, seed=3)
    step = stride or size
    torch.testing.assert_close(pool2d(fmap, "max", size, stride), F.max_pool2d(fmap, size, step))
    torch.testing.assert_close(
        pool2d(fmap, "average", size, stride), F.avg_pool2d(fmap, size, step)
    )
    # lp_pool2d is (sum of x^p)^(1/p), the L2 norm of the window, not the root mean square
    torch.testing.assert_close(
        pool2d(fmap, "l2", size, stride), F.lp_pool2d(fmap, 2, size, step), rtol=1e-4, atol=1e-5
    )


def test_pool2d_keeps_a_2d_map_2d():
    fmap = _randn(8, 6)
    assert pool2d(fmap, "max", 2).shape == (4, 3)
    assert pool2d(fmap, "k-max", 2, k=3).shape == (3, 4, 3)
    torch.testing.assert_close(pool2d(fmap, "average", 2), pool2d(fmap[None], "average", 2)[0])
    assert kmax_positions(fmap, 2, k=3).shape == (3, 4, 3, 2)


@settings(max_examples=60, deadline=None, database=None)
@given(
    size=st.integers(1, 4),
    stride=st.integers(1, 4),
    data=st.data(),
    ties=st.booleans(),
)
def test_kmax_matches_brute_force_including_ties(size, stride, data, ties):
    k = data.draw(st.integers(1, size * size))
    height, width = data.draw(st.integers(size, 9)), data.draw(st.integers(size, 9))
    seed = data.draw(st.integers(0, 10_000))
    generator = torch.Generator().manual_seed(seed)
    if ties:  # few distinct values: most windows hold equal values
        fmap = torch.randint(0, 3, (2, height, width), generator=generator).float()
    else:
        fmap = torch.randn(2, height, width, generator=generator)
    values = pool2d(fmap, "k-max", size, stride, k=k)  # (C, k, H', W')
    positions = kmax_positions(fmap, size, stride, k=k)  # (C, k, H', W', 2)
    for ch in range(2):
        for i, r in enumerate(range(0, height - size + 1, stride)):
            for j, c in enumerate(range(0, width - size + 1, stride)):
                window = [float(fmap[ch, r + u, c + v]) for u in range(size) for v in range(size)]
                kept = _brute_kmax(window, k)
                assert values[ch, :, i, j].tolist() == [window[p] for p in kept]
                assert positions[ch, :, i, j].tolist() == [[p // size, p % size] for p in kept]
    assert values.shape[2:] == F.max_pool2d(fmap, size, stride).shape[1:]


def test_kmax_keeps_order_of_position_not_of_size():
    # Kalchbrenner et al.: the k largest, in the order they appear
    fmap = torch.tensor([[1.0, 5.0], [3.0, 4.0]])
    assert pool2d(fmap, "k-max", 2, k=3).flatten().tolist() == [5.0, 3.0, 4.0]
    assert kmax_positions(fmap, 2, k=3).reshape(3, 2).tolist() == [[0, 1], [1, 0], [1, 1]]
    # ties: the earlier of equal values is kept; k = 1 is max pooling
    ties = torch.tensor([[2.0, 7.0], [7.0, 7.0]])
    assert kmax_positions(ties, 2, k=2).reshape(2, 2).tolist() == [[0, 1], [1, 0]]
    fmap = _randn(3, 8, 8)
    torch.testing.assert_close(pool2d(fmap, "k-max", 2, k=1)[:, 0], F.max_pool2d(fmap, 2))


def test_global_pool_matches_reductions():
    fmap = _randn(5, 7, 6, seed=4)
    torch.testing.assert_close(global_pool(fmap, "max"), torch.amax(fmap, dim=(1, 2)))
    torch.testing.assert_close(global_pool(fmap, "average"), fmap.mean(dim=(1, 2)))
    expected_l2 = np.sqrt((fmap.double().numpy() ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(global_pool(fmap, "l2").numpy(), expected_l2, rtol=1e-5)
    kmax = global_pool(fmap, "k-max", k=4)
    assert kmax.shape == (5, 4)
    for ch in range(5):
        values = fmap[ch].flatten().tolist()
        assert kmax[ch].tolist() == [values[p] for p in _brute_kmax(values, 4)]
    assert global_pool(fmap[0], "max").shape == ()
    assert global_pool(fmap[0], "k-max", k=3).shape == (3,)


def test_worked_examples_match_the_book():
    first, second = worked_examples()
    torch.testing.assert_close(first["a"], torch.tensor([[1.5, 0.0], [1.0, 0.0]]))
    torch.testing.assert_close(first["b"], torch.tensor([[0.0, 1.5], [1.0, 0.0]]))
    torch.testing.assert_close(second["a"], torch.ones(2, 2))
    torch.testing.assert_close(second["b"], torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    # max pooling cannot tell either pair apart
    assert first["max"] == (1.5, 1.5) and second["max"] == (1.0, 1.0)
    # the first pair holds the same values in other places: only positions tell them apart
    assert first["average"] == (0.625, 0.625)
    assert first["k-max(k=2)"] == ((1.5, 1.0), (1.5, 1.0))
    assert first["k-max positions(k=2)"] == (((0, 0), (1, 0)), ((0, 1), (1, 0)))
    # the second differs in how much is active: average, L2 and k-max see it
    assert second["average"] == (1.0, 0.25)
    assert second["l2"] == pytest.approx((2.0, 1.0))
    assert second["k-max(k=2)"] == ((1.0, 1.0), (1.0, 0.0))
    assert first["l2"] == pytest.approx((math.sqrt(3.25), math.sqrt(3.25)))


def test_moving_dot_one_column_inside_a_window_is_invisible():
    inputs, pooled = moving_dot(8, [(3, 4), (3, 5), (3, 5), (3, 6), (2, 4)])
    assert inputs.shape == (5, 8, 8) and pooled.shape == (5, 4, 4)
    assert inputs.sum(dim=(1, 2)).tolist() == [1.0] * 5
    assert inputs[0, 3, 4] == 1.0 and inputs[1, 3, 5] == 1.0
    torch.testing.assert_close(pooled[0], pooled[1])  # x = 4 even: (x, y) and (x+1, y) agree
    assert not torch.equal(pooled[2], pooled[3])  # x = 5 odd: the step crosses a window edge
    torch.testing.assert_close(pooled[0], pooled[4])  # row 2 and 3 share a window too
    for (row, col), out in zip([(3, 4), (3, 5), (3, 5), (3, 6), (2, 4)], pooled, strict=True):
        expected = torch.zeros(4, 4)
        expected[row // 2, col // 2] = 1.0
        torch.testing.assert_close(out, expected)


def test_moving_dot_overlapping_windows_and_dropped_edge():
    _, pooled = moving_dot(7, [(0, 6), (1, 1)], pool_size=3, stride=2)
    assert pooled.shape == (2, 3, 3)
    assert pooled[0].sum() == 1.0  # only the last window reaches column 6
    assert pooled[1].sum() == 1.0  # (1, 1) lies in the first window only
    _, pooled = moving_dot(7, [(6, 6)])  # a 7-wide map: the 7th row/column are not pooled
    assert pooled.sum() == 0.0


def test_stride_2_max_pool_is_equivariant_to_shifts_by_2():
    fmap = _randn(3, 12, 16, seed=5)
    for shift in (2, 4, -6):
        shifted_input = torch.roll(fmap, shifts=shift, dims=2)
        expected = torch.roll(F.max_pool2d(fmap, 2), shifts=shift // 2, dims=2)
        torch.testing.assert_close(pool2d(shifted_input, "max", 2), expected, rtol=0, atol=0)
    # a shift by 1 breaks it: the window grid no longer lines up with the content
    odd = pool2d(torch.roll(fmap, 1, dims=2), "max", 2)
    assert not torch.equal(odd, F.max_pool2d(fmap, 2))


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
    with pytest.raises(ConvConfigError, match="max_shift"):
        consistency({"max pool": np.array([1.0])})
    with pytest.raises(ConvConfigError):
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


# --- what a person can get wrong


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(method="median", size=2), "median"),
        (dict(method="max", size=9), "larger than"),
        (dict(method="max", size=0), "at least 1"),
        (dict(method="max", size=2, stride=0), "stride"),
        (dict(method="k-max", size=2, k=5), "k "),
        (dict(method="k-max", size=2, k=0), "k "),
        (dict(method="max", size=2.5), "whole number"),
    ],
)
def test_pool2d_rejects_bad_settings(kwargs, match):
    with pytest.raises(ConvConfigError, match=match):
        pool2d(_randn(2, 8, 8), **kwargs)


def test_bad_maps_are_rejected_with_messages():
    with pytest.raises(ConvConfigError, match="NaN"):
        pool2d(torch.tensor([[1.0, float("nan")], [0.0, 0.0]]), "max", 2)
    with pytest.raises(ConvConfigError, match="2-D or 3-D"):
        pool2d(torch.zeros(1, 1, 4, 4), "max", 2)
    with pytest.raises(ConvConfigError, match="floats"):
        pool2d(torch.zeros(4, 4, dtype=torch.int64), "max", 2)
    with pytest.raises(ConvConfigError, match="stride"):
        pool2d(torch.zeros(64, 64, 64), "k-max", 32, stride=1, k=2)
    with pytest.raises(ConvConfigError):
        global_pool(_randn(2, 3, 3), "k-max", k=10)
    with pytest.raises(ConvConfigError):
        kmax_positions(_randn(4, 4), 2, k=5)


@pytest.mark.parametrize(
    "size,positions",
    [(0, [(0, 0)]), (4, [(4, 0)]), (4, [(0, -1)]), (4, []), (4, [(1, 2, 3)]), (4, "ab"),
     (4, [(0.5, 1)]), (2, [(0, 0)] * 300)],
)  # fmt: skip
def test_moving_dot_rejects_bad_positions(size, positions):
    with pytest.raises(ConvConfigError):
        moving_dot(size, positions)


def test_moving_dot_rejects_a_window_larger_than_the_image():
    with pytest.raises(ConvConfigError, match="larger than"):
        moving_dot(3, [(0, 0)], pool_size=4)


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
    with pytest.raises(ConvConfigError, match=match):
        shift_stability(torch.rand(32, 32, generator=torch.Generator().manual_seed(0)), **kwargs)


def test_stability_rejects_bad_images_and_transforms():
    image = torch.rand(32, 32, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ConvConfigError, match="resize"):
        shift_stability(torch.zeros(8, 64), 1)
    with pytest.raises(ConvConfigError, match="gray"):
        shift_stability(torch.zeros(3, 32, 32), 1)
    with pytest.raises(ConvConfigError, match="between"):
        rotation_stability(image, [0.0, 200.0])
    with pytest.raises(ConvConfigError, match="between"):
        rotation_stability(image, [])
    with pytest.raises(ConvConfigError, match="list"):
        rotation_stability(image, 5.0)
    with pytest.raises(ConvConfigError, match="between"):
        scale_stability(image, [0.1])
    with pytest.raises(ConvConfigError, match="finite"):
        scale_stability(image, [float("nan")])
    with pytest.raises(ConvConfigError, match="comparison"):
        scale_stability(image, [1.0], compare="")
    assert set(POOL_METHODS) == {"max", "average", "l2", "k-max"}
