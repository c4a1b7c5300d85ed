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

from engine.conv import make_kernel
from engine.pooling import (
    PoolingError,
    detector_map,
    global_pool,
    kmax_positions,
    moving_dot,
    pool2d,
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
    with pytest.raises(PoolingError, match=match):
        pool2d(_randn(2, 8, 8), **kwargs)


def test_bad_maps_are_rejected_with_messages():
    with pytest.raises(PoolingError, match="NaN"):
        pool2d(torch.tensor([[1.0, float("nan")], [0.0, 0.0]]), "max", 2)
    with pytest.raises(PoolingError, match="2-D or 3-D"):
        pool2d(torch.zeros(1, 1, 4, 4), "max", 2)
    with pytest.raises(PoolingError, match="floats"):
        pool2d(torch.zeros(4, 4, dtype=torch.int64), "max", 2)
    with pytest.raises(PoolingError, match="stride"):
        pool2d(torch.zeros(64, 64, 64), "k-max", 32, stride=1, k=2)
    with pytest.raises(PoolingError):
        global_pool(_randn(2, 3, 3), "k-max", k=10)
    with pytest.raises(PoolingError):
        kmax_positions(_randn(4, 4), 2, k=5)


@pytest.mark.parametrize(
    "size,positions",
    [
        (0, [(0, 0)]),
        (4, [(4, 0)]),
        (4, [(0, -1)]),
        (4, []),
        (4, [(1, 2, 3)]),
        (4, "ab"),
        (4, [(0.5, 1)]),
        (2, [(0, 0)] * 300),
    ],
)
def test_moving_dot_rejects_bad_positions(size, positions):
    with pytest.raises(PoolingError):
        moving_dot(size, positions)


def test_moving_dot_rejects_a_window_larger_than_the_image():
    with pytest.raises(PoolingError, match="larger than"):
        moving_dot(3, [(0, 0)], pool_size=4)


def _brute_valid_relu(image: torch.Tensor, kernel: torch.Tensor) -> np.ndarray:
    """Return max(0, sum of image·kernel) at every position where the kernel fits inside."""
    img, ker = image.double().numpy(), kernel.double().numpy()
    k = ker.shape[0]
    rows, cols = img.shape[0] - k + 1, img.shape[1] - k + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = max(0.0, float((img[r : r + k, c : c + k] * ker).sum()))
    return out


def test_global_pooling_of_the_detector_map_never_reads_the_padded_border():
    # A bright image with one dark square: with zero padding the black frame outside would give
    # the strongest horizontal-edge responses (all tied along the top row).
    image = torch.ones(24, 30)
    image[10:14, 12:18] = 0.2
    kernel = make_kernel("sobel y", 5, angle_deg=45.0)
    padded = torch.relu(F.conv2d(image[None, None], kernel[None, None], padding=2))[0, 0]
    assert float(padded.amax()) > float(padded[3:-3, 3:-3].amax())  # the border would win
    fmap = detector_map(image, kernel)
    reference = _brute_valid_relu(image, kernel)
    assert fmap.shape == reference.shape == (20, 26)
    np.testing.assert_allclose(fmap.numpy(), reference, atol=1e-5)
    assert float(global_pool(fmap, "max")) == pytest.approx(reference.max(), abs=1e-5)
    assert float(global_pool(fmap, "max")) < float(padded.amax()) - 0.5
    top5 = sorted(global_pool(fmap, "k-max", k=5).tolist(), reverse=True)
    np.testing.assert_allclose(top5, np.sort(reference.ravel())[::-1][:5], atol=1e-5)


def test_valid_maps_of_a_bank_match_brute_force_with_and_without_relu():
    from engine.pooling import valid_maps

    image = torch.rand(14, 11, generator=torch.Generator().manual_seed(7))
    bank = torch.stack([make_kernel(n, 5, angle_deg=45.0) for n in ("sobel x", "laplacian")])
    rectified, signed = valid_maps(image, bank), valid_maps(image, bank, rectify=False)
    assert rectified.shape == signed.shape == (2, 10, 7)
    for i in range(2):
        reference = _brute_valid_relu(image, bank[i])
        np.testing.assert_allclose(rectified[i].numpy(), reference, atol=1e-5)
        np.testing.assert_allclose(np.maximum(signed[i].numpy(), 0), reference, atol=1e-5)
    assert float(signed.min()) < 0  # the signed maps keep their negative responses


def _pooled_dot_by_hand(size: int, row: int, col: int, pool: int) -> torch.Tensor:
    """Return the max-pooled map of one dot: 1 in the window holding it, if a whole one does."""
    out = torch.zeros(size // pool, size // pool)
    if row < out.shape[0] * pool and col < out.shape[1] * pool:
        out[row // pool, col // pool] = 1.0
    return out


@pytest.mark.parametrize(
    ("col", "identical", "windows"),
    [(2, True, (1, 1)), (3, False, (1, 2)), (4, True, (2, 2)), (5, False, (2, 3))],
)
def test_dot_move_is_identical_exactly_when_both_dots_share_a_window(col, identical, windows):
    from engine.pooling import dot_move

    move = dot_move(8, 3, col, pool_size=2)
    assert move.identical is identical and move.windows == windows
    for i, c in enumerate((col, col + 1)):
        torch.testing.assert_close(move.pooled[i], _pooled_dot_by_hand(8, 3, c, 2))


def test_dot_move_past_the_last_whole_window_is_in_no_window():
    from engine.pooling import PoolingError, dot_move

    move = dot_move(7, 0, 5, pool_size=2)  # column 6 of a 7-wide map is never pooled
    assert move.windows == (2, None) and not move.identical
    with pytest.raises(PoolingError):
        dot_move(8, 3, 7)  # col + 1 would leave the image
