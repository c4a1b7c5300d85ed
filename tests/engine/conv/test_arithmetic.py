"""Output sizes, step-throughs and transposed convolution checked against what torch produces."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.conv import (
    ConvConfigError,
    conv_output_size,
    conv_steps,
    resolve_padding,
    small_grid,
    transposed_conv2d,
    transposed_output_size,
    transposed_steps,
)


def _torch_conv_size(n, k, p, s, d):
    """Return torch's output length along one axis, or None if torch refuses or gives nothing."""
    try:  # the other axis is trivially valid (size 1, kernel 1), so only this one can fail
        out = F.conv2d(
            torch.zeros(1, 1, n, 1),
            torch.zeros(1, 1, k, 1),
            padding=(p, 0),
            stride=(s, 1),
            dilation=(d, 1),
        )
    except RuntimeError:
        return None
    return None if out.numel() == 0 else out.shape[-2]


def _torch_transposed_size(n, k, p, s, d, op):
    try:
        out = F.conv_transpose2d(
            torch.zeros(1, 1, n, 1),
            torch.zeros(1, 1, k, 1),
            padding=(p, 0),
            stride=(s, 1),
            dilation=(d, 1),
            output_padding=(op, 0),
        )
    except RuntimeError:
        return None
    return None if out.numel() == 0 else out.shape[-2]


@settings(max_examples=400, deadline=None)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 7),
    p=st.integers(0, 4),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
)
def test_conv_output_size_matches_torch(n, k, p, s, d):
    expected = _torch_conv_size(n, k, p, s, d)
    if expected is None:
        with pytest.raises(ConvConfigError):
            conv_output_size(n, k, p, s, d)
    else:
        assert conv_output_size(n, k, p, s, d) == expected


@settings(max_examples=400, deadline=None)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 6),
    p=st.integers(0, 6),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    op=st.integers(0, 3),
)
def test_transposed_output_size_matches_torch(n, k, p, s, d, op):
    expected = _torch_transposed_size(n, k, p, s, d, op)
    if expected is None:
        with pytest.raises(ConvConfigError):
            transposed_output_size(n, k, p, s, d, op)
    else:
        assert transposed_output_size(n, k, p, s, d, op) == expected


@pytest.mark.parametrize(
    "args",
    [
        (0, 3),
        (5, 0),
        (5, 3, -1),
        (5, 3, 0, 0),
        (5, 3, 0, 1, 0),
        (5.0, 3),
        (5, 3, 1.5),
        (True, 3),
        ("5", 3),
        (3, 4),
        (2, 2, 0, 1, 2),
    ],
)
def test_conv_output_size_rejects_invalid(args):
    with pytest.raises(ConvConfigError):
        conv_output_size(*args)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(output_padding=1),
        dict(stride=2, output_padding=2),
        dict(padding=-1),
        dict(n=1, k=1, padding=1),
        dict(stride=0),
    ],
)
def test_transposed_output_size_rejects_invalid(kwargs):
    args = dict(n=3, k=3) | kwargs
    with pytest.raises(ConvConfigError):
        transposed_output_size(**args)


def test_resolve_padding_same_keeps_size_and_rejects_even_kernels():
    for k in (1, 3, 5, 7):
        for d in (1, 2, 3):
            ph, pw = resolve_padding("same", (k, k), d)
            assert ph == pw and _torch_conv_size(20, k, ph, 1, d) == 20
            torch_same = F.conv2d(
                torch.zeros(1, 1, 20, 17), torch.zeros(1, 1, k, k), padding="same", dilation=d
            )
            assert torch_same.shape[-2:] == (20, 17)
    assert resolve_padding("valid", (3, 5), 1) == (0, 0)
    assert resolve_padding(2, (3, 5), 1) == (2, 2)
    for bad in ("full", "", -1, 1.0):
        with pytest.raises(ConvConfigError):
            resolve_padding(bad, (3, 3), 1)
    with pytest.raises(ConvConfigError, match="odd"):
        resolve_padding("same", (4, 3), 1)


# --- the small grid and its step-through


def test_small_grid_is_seeded_small_integers():
    a, b, c = small_grid(6, seed=1), small_grid(6, seed=1), small_grid(6, seed=2)
    assert a.shape == (6, 6) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.unique().tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert torch.equal(a, a.round())
    for bad in (0, 33, 2.5):
        with pytest.raises(ConvConfigError):
            small_grid(bad)


CONFIGS = [(0, 1, 1), (1, 1, 1), (1, 2, 1), (2, 2, 1), (0, 1, 2), (1, 3, 2), (2, 1, 2)]


@pytest.mark.parametrize("padding,stride,dilation", CONFIGS)
@pytest.mark.parametrize("n,k", [(5, 3), (6, 2), (7, 3)])
def test_conv_steps_values_match_conv2d(n, k, padding, stride, dilation):
    grid = small_grid(n, seed=n + k)
    kernel = torch.arange(k * k, dtype=torch.float32).reshape(k, k) - 2
    expected = F.conv2d(
        grid[None, None], kernel[None, None], padding=padding, stride=stride, dilation=dilation
    )[0, 0]
    steps = conv_steps(grid, kernel, padding, stride, dilation)
    assert len(steps) == expected.numel()
    order = [(s.out_row, s.out_col) for s in steps]
    assert order == [(r, c) for r in range(expected.shape[0]) for c in range(expected.shape[1])]
    for s in steps:
        assert s.value == pytest.approx(float(expected[s.out_row, s.out_col]), abs=1e-5)


@pytest.mark.parametrize("padding,stride,dilation", CONFIGS)
def test_conv_steps_taps_are_what_autograd_says_each_output_reads(padding, stride, dilation):
    # The cells an output reads are those with a nonzero gradient; giving each kernel entry a
    # distinct value tells which kernel entry multiplied which cell.
    grid, k = small_grid(6, seed=3), 3
    kernel = torch.arange(1, k * k + 1, dtype=torch.float32).reshape(k, k)  # no zeros, distinct
    padded = F.pad(grid, (padding,) * 4).requires_grad_(True)
    out = F.conv2d(padded[None, None], kernel[None, None], stride=stride, dilation=dilation)[0, 0]
    for s in conv_steps(grid, kernel, padding, stride, dilation):
        (grad,) = torch.autograd.grad(out[s.out_row, s.out_col], padded, retain_graph=True)
        touched = {tuple(ix) for ix in grad.nonzero().tolist()}
        assert set(s.taps) == touched and len(s.taps) == k * k
        assert [float(grad[t]) for t in s.taps] == kernel.flatten().tolist()  # kernel order


def test_conv_steps_rejects_bad_settings():
    grid = small_grid(4)
    with pytest.raises(ConvConfigError):
        conv_steps(grid, torch.ones(5, 5))  # kernel larger than the grid
    with pytest.raises(ConvConfigError):
        conv_steps(torch.zeros(40, 40), torch.ones(3, 3))  # too many steps to list
    with pytest.raises(ConvConfigError):
        conv_steps(grid, torch.ones(3))
    with pytest.raises(ConvConfigError):
        conv_steps(grid, torch.tensor([[float("nan")]]))
    with pytest.raises(ConvConfigError):
        conv_steps(grid, torch.ones(3, 3), stride=0)


# --- transposed convolution


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("n,kh,kw", [(3, 3, 3), (4, 2, 2), (2, 3, 4), (1, 2, 3)])
def test_transposed_conv2d_matches_conv_transpose2d(n, kh, kw, stride, padding):
    grid = small_grid(n, seed=kh)
    kernel = torch.randn(kh, kw, generator=torch.Generator().manual_seed(n))
    try:
        expected = F.conv_transpose2d(
            grid[None, None], kernel[None, None], stride=stride, padding=padding
        )[0, 0]
    except RuntimeError:
        expected = None
    if expected is None or expected.numel() == 0:
        with pytest.raises(ConvConfigError):
            transposed_conv2d(grid, kernel, stride, padding)
        return
    torch.testing.assert_close(transposed_conv2d(grid, kernel, stride, padding), expected)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 0), (2, 1), (3, 1)])
def test_transposed_steps_stamps_add_up_to_the_full_output(stride, padding):
    grid = small_grid(3, seed=5)
    kernel = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    steps = transposed_steps(grid, kernel, stride, padding)
    full = F.conv_transpose2d(grid[None, None], kernel[None, None], stride=stride)[0, 0]
    stamped = torch.zeros_like(full)
    for s in steps:
        assert s.value == float(grid[s.in_row, s.in_col])
        assert len(s.out_cells) == kernel.numel()
        for (r, c), weight in zip(s.out_cells, kernel.flatten().tolist(), strict=True):
            stamped[r, c] += s.value * weight
    torch.testing.assert_close(stamped, full)
    cropped = stamped[padding : stamped.shape[0] - padding, padding : stamped.shape[1] - padding]
    torch.testing.assert_close(cropped, transposed_conv2d(grid, kernel, stride, padding))
    assert [(s.in_row, s.in_col) for s in steps] == [(r, c) for r in range(3) for c in range(3)]


@pytest.mark.parametrize("n,k,stride", [(2, 1, 1), (3, 3, 2), (4, 2, 3), (5, 3, 1)])
def test_accumulated_stamps_end_at_conv_transpose2d(n, k, stride):
    from engine.conv import accumulated_stamps, small_kernel

    grid, kernel = small_grid(n, seed=3), small_kernel(k, seed=4)
    steps = transposed_steps(grid, kernel, stride=stride)
    full = (n - 1) * stride + k
    frames = accumulated_stamps(steps, (full, full))
    assert len(frames) == n * n
    reference = F.conv_transpose2d(
        grid[None, None].double(), kernel[None, None].double(), stride=stride
    )[0, 0].numpy()
    np.testing.assert_allclose(frames[-1], reference, atol=1e-9)
    # Each frame adds exactly one input cell's stamp: value times the whole kernel.
    first = F.conv_transpose2d(
        (grid * (torch.arange(n * n).reshape(n, n) == 0))[None, None].double(),
        kernel[None, None].double(),
        stride=stride,
    )[0, 0].numpy()
    np.testing.assert_allclose(frames[0], first, atol=1e-9)


def test_small_kernel_has_no_zeros_and_is_seeded():
    from engine.conv import small_kernel

    a, b = small_kernel(5, seed=2), small_kernel(5, seed=2)
    assert torch.equal(a, b)
    assert (a != 0).all()
    assert set(a.unique().tolist()) <= {-1.0, 1.0, 2.0}


# --- helpers of the padding/stride/dilation page


@pytest.mark.parametrize("padding", [0, 1, 3])
def test_padded_grid_is_numpy_pad_and_its_mask_marks_exactly_the_added_ring(padding):
    from engine.conv import padded_grid

    grid = small_grid(4, seed=2)
    padded, mask = padded_grid(grid, padding)
    side = 4 + 2 * padding
    assert padded.shape == mask.shape == (side, side)
    inner = padded[padding : padding + 4, padding : padding + 4]
    np.testing.assert_array_equal(inner, grid.numpy())
    assert not padded[mask].any()  # zeros around the grid
    assert int(mask.sum()) == side * side - 16  # brute count of the ring
    assert not mask[padding : padding + 4, padding : padding + 4].any()


@pytest.mark.parametrize(("padding", "stride", "dilation"), [(1, 1, 1), (0, 2, 1), (2, 1, 2)])
def test_accumulated_outputs_fill_row_major_and_end_at_conv2d(padding, stride, dilation):
    from engine.conv import accumulated_outputs, small_kernel

    grid, kernel = small_grid(6, seed=3), small_kernel(3, seed=4)
    steps = conv_steps(grid, kernel, padding=padding, stride=stride, dilation=dilation)
    ref = (
        F.conv2d(
            grid[None, None], kernel[None, None], padding=padding, stride=stride, dilation=dilation
        )[0, 0]
        .double()
        .numpy()
    )
    frames = accumulated_outputs(steps, ref.shape)
    assert len(frames) == ref.size
    np.testing.assert_allclose(frames[-1], ref, atol=1e-9)
    for i, frame in enumerate(frames):  # after step i, exactly the first i+1 cells are known
        assert np.isfinite(frame).ravel().tolist() == [j <= i for j in range(ref.size)]


def test_step_products_sum_to_the_steps_value():
    from engine.conv import padded_grid, small_kernel, step_products

    grid, kernel = small_grid(5, seed=0), small_kernel(3, seed=1)
    padded, _ = padded_grid(grid, 1)
    for step in conv_steps(grid, kernel, padding=1, stride=2, dilation=2):
        pairs = step_products(step, padded, kernel)
        assert [w for _, w in pairs] == kernel.flatten().tolist()
        assert sum(a * b for a, b in pairs) == pytest.approx(step.value)


def test_matrix_step_error_is_zero_for_the_same_settings_and_refuses_mismatches():
    from engine.conv import conv_matrix_2d, matrix_step_error, small_kernel

    grid, kernel = small_grid(5, seed=0), small_kernel(3, seed=1)
    steps = conv_steps(grid, kernel, padding=1, stride=2)
    m = conv_matrix_2d(5, 5, kernel, padding=1, stride=2)
    assert matrix_step_error(m, grid, steps) < 1e-9
    wrong = m.clone()
    wrong[0, 0] += 5.0  # one entry off by 5 changes output 0 by 5 × grid[0, 0]
    assert matrix_step_error(wrong, grid, steps) == pytest.approx(5.0 * float(grid[0, 0]))
    with pytest.raises(ConvConfigError, match="same settings"):
        matrix_step_error(m, grid, conv_steps(grid, kernel, padding=1))  # 25 outputs, not 9


@pytest.mark.parametrize(("n", "k", "stride"), [(1, 1, 1), (3, 2, 2), (5, 3, 4)])
def test_transposed_full_size_is_conv_transpose2d_without_padding(n, k, stride):
    from engine.conv import transposed_full_size

    out = F.conv_transpose2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=stride)
    assert transposed_full_size(n, k, stride) == out.shape[-1]


# --- the drawn crop, stamp overlaps and the sentences' choices


@pytest.mark.parametrize(
    "n,k,stride,padding", [(3, 3, 1, 1), (4, 2, 2, 0), (5, 3, 2, 2), (2, 5, 1, 2)]
)
def test_crop_mask_marks_what_conv_transpose2d_crops_away(n, k, stride, padding):
    from engine.conv import small_kernel, transposed_crop_mask, transposed_full_size

    grid, kernel = small_grid(n, seed=2), small_kernel(k, seed=3)
    full = transposed_full_size(n, k, stride)
    mask = transposed_crop_mask(full, padding)
    uncropped = F.conv_transpose2d(grid[None, None], kernel[None, None], stride=stride)[0, 0]
    cropped = F.conv_transpose2d(
        grid[None, None], kernel[None, None], stride=stride, padding=padding
    )[0, 0]
    n_out = cropped.shape[-1]
    assert int(mask.sum()) == full * full - n_out * n_out
    kept = uncropped.numpy()[~mask].reshape(n_out, n_out)
    np.testing.assert_array_equal(kept, cropped.numpy())


def test_crop_mask_refuses_a_crop_that_leaves_nothing():
    from engine.conv import transposed_crop_mask

    assert transposed_crop_mask(3, 1).sum() == 8
    with pytest.raises(ConvConfigError):
        transposed_crop_mask(4, 2)


@pytest.mark.parametrize("n,k,stride", [(3, 3, 1), (3, 3, 2), (3, 2, 2), (4, 2, 3), (2, 1, 4)])
def test_stamp_counts_are_conv_transpose2d_of_ones(n, k, stride):
    from engine.conv import stamp_counts

    grid = small_grid(n, seed=1)
    steps = transposed_steps(grid, torch.ones(k, k), stride=stride)
    full = (n - 1) * stride + k
    counts = stamp_counts(steps, (full, full))
    ones = F.conv_transpose2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=stride)
    np.testing.assert_array_equal(counts, ones[0, 0].numpy().astype(np.int64))
    assert (counts.max() > 1) == (stride < k)  # stamps overlap exactly when the stride is shorter


def test_size_change_at_both_sides_of_equal():
    from engine.conv import size_change

    assert size_change(5, 4) == "shrinks"
    assert size_change(5, 5) == "keeps"
    assert size_change(5, 6) == "grows"
    with pytest.raises(ConvConfigError):
        size_change(0, 3)


def test_knob_sizes_reset_one_setting_at_a_time():
    from engine.conv import knob_sizes

    assert knob_sizes(5, 3, 0, 1, 1) == {}  # nothing away from neutral, nothing to compare
    sizes = knob_sizes(7, 3, 1, 2, 2)
    assert sizes == {
        "padding": _torch_conv_size(7, 3, 0, 2, 2),
        "stride": _torch_conv_size(7, 3, 1, 1, 2),
        "dilation": _torch_conv_size(7, 3, 1, 2, 1),
    }
    # at n = 5, k = 3, p = 1, d = 3 the kernel spans 7 cells: only the padding makes it fit
    assert knob_sizes(5, 3, 1, 1, 3) == {"padding": None, "dilation": 5}
    with pytest.raises(ConvConfigError):
        knob_sizes(3, 3, 0, 1, 2)
