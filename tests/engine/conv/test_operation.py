"""Feature maps, one pixel's arithmetic, flipping, resizing and layer stages against references.

References: a brute-force NumPy loop, scipy.signal, Pillow's resize, and torch ops composed by hand.
"""

import math

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import engine.conv as conv
from engine.conv import (
    NONLINEARITIES,
    POOLS,
    ConvConfigError,
    convolve2d_direct,
    feature_maps,
    layer_stages,
    make_kernel,
    resize_image,
)
from tests.engine.conv.checks import CASES, brute_force, rand, randn


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("padding,stride,dilation", CASES)
@pytest.mark.parametrize("layout", ["gray k", "gray Kkk", "rgb Kkk", "rgb KCkk"])
def test_feature_maps_matchbrute_force(layout, padding, stride, dilation, flip):
    k = 3
    gray = layout.startswith("gray")
    image = rand(9, 11, seed=1) if gray else rand(3, 9, 11, seed=2)
    channels = 1 if gray else 3
    if layout == "gray k":
        kernels = randn(k, k, seed=3)
        weight = kernels[None, None]
    elif layout.endswith("Kkk"):
        kernels = randn(4, k, k, seed=4)
        weight = kernels[:, None].repeat(1, channels, 1, 1) / channels  # the documented average
    else:
        kernels = randn(4, 3, k, k, seed=5)
        weight = kernels
    if flip:
        weight = weight.flip((-1, -2))
    pad = {"same": dilation * (k - 1) // 2, "valid": 0}.get(padding, padding)
    expected = brute_force(
        image.reshape(channels, 9, 11).double().numpy(),
        weight.double().numpy(),
        pad,
        stride,
        dilation,
    )
    got = feature_maps(image, kernels, padding=padding, stride=stride, dilation=dilation, flip=flip)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("k", [3, 5])
def test_feature_maps_match_scipy_correlate_and_convolve(k):
    image, kernel = rand(17, 13, seed=k), randn(k, k, seed=k + 1)
    im, ke = image.double().numpy(), kernel.double().numpy()
    correlation = scipy.signal.correlate2d(im, ke, mode="same", boundary="fill")
    convolution = scipy.signal.convolve2d(im, ke, mode="same", boundary="fill")
    np.testing.assert_allclose(feature_maps(image, kernel)[0].numpy(), correlation, atol=1e-5)
    np.testing.assert_allclose(
        feature_maps(image, kernel, flip=True)[0].numpy(), convolution, atol=1e-5
    )
    np.testing.assert_allclose(convolve2d_direct(image, kernel).numpy(), convolution, atol=1e-5)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_padding_keeps_the_size_or_divides_it_by_the_stride(stride):
    for name, size in [("gaussian", 3), ("sobel x", 5), ("gabor", 7)]:
        maps = feature_maps(rand(3, 20, 31), make_kernel(name, size), stride=stride)
        assert maps.shape == (1, math.ceil(20 / stride), math.ceil(31 / stride))


def test_feature_maps_of_a_batch_are_the_maps_of_each_kernel():
    image = rand(12, 12, seed=7)
    bank = torch.stack([make_kernel(name, 5) for name in conv.KERNEL_NAMES])  # (9, 5, 5)
    maps = feature_maps(image, bank)
    assert maps.shape == (9, 12, 12) and maps.dtype == torch.float32
    for i, kernel in enumerate(bank):
        torch.testing.assert_close(maps[i], feature_maps(image, kernel)[0])
    identity = maps[conv.KERNEL_NAMES.index("identity")]
    torch.testing.assert_close(identity, image)


@pytest.mark.parametrize("mode", conv.PADDING_MODES)
@pytest.mark.parametrize(
    "padding,stride,dilation,kh,kw",
    [
        ("same", 1, 1, 3, 3),
        ("same", 1, 1, 5, 7),
        (2, 1, 1, 3, 3),
        (2, 2, 1, 5, 5),
        (1, 3, 2, 3, 3),
        ("valid", 1, 1, 3, 3),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_padding_modes_match_nn_conv2d_with_the_same_weights(
    mode, padding, stride, dilation, kh, kw, channels
):
    image = rand(channels, 11, 9, seed=kh + kw) if channels > 1 else rand(11, 9, seed=kh)
    kernels = randn(4, channels, kh, kw, seed=kw)  # full weights: no channel averaging involved
    layer = torch.nn.Conv2d(
        channels,
        4,
        (kh, kw),
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=False,
        padding_mode=mode,
    )
    with torch.no_grad():
        layer.weight.copy_(kernels)
        expected = layer(image.reshape(1, channels, 11, 9))[0]
    got = feature_maps(image, kernels, padding, stride, dilation, padding_mode=mode)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_padding_modes_fill_the_border_with_what_their_names_say():
    image = torch.arange(12.0).reshape(3, 4) / 12  # (3, 4), every pixel distinct
    identity = torch.zeros(3, 3)
    identity[0, 0] = 1.0  # reads the pixel up-left of centre: row -1, col -1 at output (0, 0)
    corner = {
        m: float(feature_maps(image, identity, padding_mode=m)[0, 0, 0]) for m in conv.PADDING_MODES
    }
    assert corner["zeros"] == 0.0
    assert corner["replicate"] == pytest.approx(float(image[0, 0]))
    assert corner["reflect"] == pytest.approx(float(image[1, 1]))  # mirror without the edge
    assert corner["circular"] == pytest.approx(float(image[-1, -1]))  # wraps to the far corner


def test_circular_padding_equals_convolving_the_tiled_image():
    # an independent reference: tile the image 3×3, convolve without padding, keep the middle
    image, kernel = rand(7, 8, seed=3), randn(5, 5, seed=4)
    tiled = image.repeat(3, 3)  # (21, 24)
    full = F.conv2d(tiled[None, None], kernel[None, None])[0, 0]  # (17, 20)
    middle = full[7 - 2 : 14 - 2, 8 - 2 : 16 - 2]
    torch.testing.assert_close(feature_maps(image, kernel, padding_mode="circular")[0], middle)


@pytest.mark.parametrize(
    "side,pad,mode",
    [(3, 3, "reflect"), (4, 5, "reflect"), (2, 3, "circular"), (1, 1, "reflect")],
)
def test_impossible_padding_modes_are_refused(side, pad, mode):
    with pytest.raises(ConvConfigError, match=mode):
        feature_maps(rand(side, 9), torch.ones(1, 1), padding=pad, padding_mode=mode)
    feature_maps(rand(side, 9), torch.ones(1, 1), padding=pad, padding_mode="replicate")


@pytest.mark.parametrize("mode", ["mirror", "constant", "", None, 0])
def test_unknown_padding_modes_are_refused(mode):
    with pytest.raises(ConvConfigError, match="padding mode"):
        feature_maps(rand(5, 5), torch.ones(3, 3), padding_mode=mode)


def test_layer_stages_pass_the_padding_mode_on():
    image, kernels = rand(3, 10, 12, seed=5), randn(2, 3, 3, seed=6)
    for mode in conv.PADDING_MODES:
        stages = layer_stages(image, kernels, padding_mode=mode)
        torch.testing.assert_close(stages.conv, feature_maps(image, kernels, padding_mode=mode))
    edges = layer_stages(image, kernels, padding_mode="reflect").conv[:, 0]
    assert (edges - layer_stages(image, kernels).conv[:, 0]).abs().max() > 1e-3


# --- variable-size input


@pytest.mark.parametrize("scale", [0.25, 0.5, 0.8, 1.5, 3.0])
def test_resize_matches_pillow_bilinear(scale):
    image = rand(40, 56, seed=11)
    ours = resize_image(image, scale)
    size = (round(56 * scale), round(40 * scale))  # Pillow wants (W, H)
    pil = Image.fromarray(image.numpy(), mode="F").resize(size, Image.Resampling.BILINEAR)
    assert ours.shape == (size[1], size[0])
    np.testing.assert_allclose(ours.numpy(), np.asarray(pil), atol=2e-3)


def test_resize_keeps_channels_and_a_constant_image_constant():
    image = torch.full((3, 30, 50), 0.4)
    small = resize_image(image, 0.3)
    assert small.shape == (3, 9, 15)
    torch.testing.assert_close(small, torch.full_like(small, 0.4))
    striped = torch.zeros(64, 64)
    striped[:, ::2] = 1.0  # finest vertical stripes: antialiasing should average them to grey
    assert (resize_image(striped, 0.25) - 0.5).abs().max() < 0.05


@pytest.mark.parametrize("scale", [0.04, 4.1, 0.1, float("nan"), "2", True])
def test_resize_rejects_bad_scales(scale):
    with pytest.raises(ConvConfigError):
        resize_image(rand(40, 40), scale)  # 0.1 → 4×4, below the 8-pixel minimum


def test_resize_rejects_outputs_too_large():
    with pytest.raises(ConvConfigError, match="at most"):
        resize_image(torch.zeros(1100, 20), 4.0)


# --- the three stages of a convolutional layer


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_layer_stages_compose_conv_nonlinearity_and_pool(nonlinearity, pool):
    image = rand(3, 15, 14, seed=3)
    kernels = torch.stack([make_kernel("sobel x"), make_kernel("laplacian"), randn(3, 3)])
    bias = torch.tensor([0.1, -0.2, 0.3])
    stages = layer_stages(image, kernels, bias, nonlinearity, pool, pool_size=3, pool_stride=2)
    weight = kernels[:, None].repeat(1, 3, 1, 1) / 3
    expected_conv = F.conv2d(image[None], weight, bias, padding=1)[0]
    activation = {
        "relu": F.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "abs": torch.abs,
        "none": lambda t: t,
    }[nonlinearity]
    expected_detector = activation(expected_conv)
    pooling = F.max_pool2d if pool == "max" else F.avg_pool2d
    expected_pooled = pooling(expected_detector[None], 3, 2)[0]
    torch.testing.assert_close(stages.conv, expected_conv)
    torch.testing.assert_close(stages.detector, expected_detector)
    torch.testing.assert_close(stages.pooled, expected_pooled)
    assert stages.pooled.shape == (3, 7, 6)


def test_layer_stages_default_pool_stride_is_the_pool_size():
    stages = layer_stages(rand(16, 12), randn(2, 3, 3))
    assert stages.conv.shape == (2, 16, 12) and stages.pooled.shape == (2, 8, 6)
    torch.testing.assert_close(stages.detector, stages.conv.clamp(min=0))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(nonlinearity="softmax"),
        dict(pool="min"),
        dict(pool_size=0),
        dict(pool_size=9),
        dict(pool_stride=0),
        dict(bias=torch.zeros(3)),
        dict(bias=torch.tensor([[0.0, 1.0]])),
        dict(bias=torch.tensor([0.0, float("nan")])),
    ],
)
def test_layer_stages_rejects_bad_settings(kwargs):
    with pytest.raises(ConvConfigError):
        layer_stages(rand(8, 8), randn(2, 3, 3), **kwargs)


# --- what a person can get wrong never escapes as anything but ConvConfigError


@pytest.mark.parametrize(
    "image,kernels,kwargs",
    [
        (torch.rand(5, 5), torch.ones(7, 7), dict(padding="valid")),  # kernel larger than image
        (torch.rand(5, 5), torch.ones(4, 4), {}),  # 'same' needs an odd kernel
        (torch.rand(5, 5), torch.ones(3, 3), dict(stride=0)),
        (torch.rand(5, 5), torch.ones(3, 3), dict(dilation=0)),
        (torch.rand(5, 5), torch.ones(3, 3), dict(padding=-1)),
        (torch.rand(5, 5), torch.ones(3, 3), dict(padding="full")),
        (torch.rand(5, 5), torch.ones(3, 3), dict(padding=1000)),
        (torch.rand(5, 5), torch.ones(3, 3), dict(stride=2.0)),
        (torch.rand(5, 5), torch.tensor([[1.0, float("nan"), 0], [0, 1, 0], [0, 0, 1]]), {}),
        (torch.rand(5, 5), torch.ones(33, 33), dict(padding=20)),  # kernel too big
        (torch.rand(5, 5), torch.ones(300, 3, 3), {}),  # too many kernels
        (torch.rand(3, 5, 5), torch.ones(2, 2, 3, 3), {}),  # weight channels ≠ image channels
        (torch.rand(1, 3, 5, 5), torch.ones(3, 3), {}),  # a batch, not an image
        (torch.rand(5), torch.ones(3, 3), {}),
        (torch.rand(64, 5, 5), torch.ones(3, 3), {}),  # channels last by mistake?
        (torch.zeros(5, 5, dtype=torch.uint8), torch.ones(3, 3), {}),
        (torch.zeros(0, 5), torch.ones(3, 3), {}),
        (np.zeros((5, 5)), torch.ones(3, 3), {}),
        (torch.rand(5, 5), [[1.0]], {}),
        (torch.rand(5, 5), torch.ones(1, 1, 1, 3, 3), {}),
    ],
)
def test_feature_maps_errors_are_conv_config_errors(image, kernels, kwargs):
    with pytest.raises(ConvConfigError) as err:
        feature_maps(image, kernels, **kwargs)
    assert len(str(err.value)) > 20  # a sentence a person can act on


@settings(max_examples=150, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    k=st.integers(1, 8),
    padding=st.one_of(st.integers(-2, 5), st.sampled_from(["same", "valid", "SAME", "x"])),
    stride=st.integers(-1, 4),
    dilation=st.integers(-1, 4),
    flip=st.booleans(),
    mode=st.sampled_from(conv.PADDING_MODES + ("Reflect", "wrap")),
)
def test_feature_maps_either_works_or_raises_conv_config_error(
    h, w, k, padding, stride, dilation, flip, mode
):
    image, kernel = torch.rand(h, w), torch.ones(k, k)
    try:
        maps = feature_maps(image, kernel, padding, stride, dilation, flip, padding_mode=mode)
    except ConvConfigError:
        return
    assert maps.shape[0] == 1 and maps.numel() > 0


def test_the_page_facing_module_exports_everything_it_promises():
    for name in conv.__all__:
        assert hasattr(conv, name), name
    assert issubclass(ConvConfigError, ValueError)


# --- helpers of the kernels and layer pages


def test_strongest_pixel_is_the_brute_force_argmax_away_from_the_border():
    from engine.conv import strongest_pixel

    fmap = torch.zeros(8, 10)
    fmap[0, 0] = -9.0  # the strongest overall, but on the border
    fmap[4, 6] = 5.0
    assert strongest_pixel(fmap) == (0, 0)
    assert strongest_pixel(fmap, margin=2) == (4, 6)
    rng = torch.Generator().manual_seed(0)
    noise = torch.randn(9, 7, generator=rng)
    best = max(
        ((r, c) for r in range(2, 7) for c in range(2, 5)), key=lambda rc: abs(noise[rc].item())
    )
    assert strongest_pixel(noise, margin=2) == best
    assert strongest_pixel(torch.tensor([[0.0, -3.0], [1.0, 2.0]]), margin=1) == (
        0,
        1,
    )  # no interior


def test_padding_taps_count_the_window_cells_outside_the_image():
    from engine.conv import patch_arithmetic

    image = torch.rand(6, 5, generator=torch.Generator().manual_seed(1))
    kernel = torch.ones(3, 3)
    for row, col in [(0, 0), (0, 2), (5, 4), (2, 2)]:
        arith = patch_arithmetic(image, kernel, row, col)
        outside = sum(
            1 for r in arith.input_rows for c in arith.input_cols if not (0 <= r < 6 and 0 <= c < 5)
        )
        assert arith.padding_taps == outside
    assert patch_arithmetic(image, kernel, 0, 0).padding_taps == 5  # a corner: 9 − 2·2
    assert patch_arithmetic(image, kernel, 2, 2).padding_taps == 0


def test_flip_symmetry_of_bank_kernels():
    from engine.conv import is_flip_symmetric

    assert is_flip_symmetric(make_kernel("gaussian", 5))
    assert is_flip_symmetric(make_kernel("laplacian", 3))
    assert not is_flip_symmetric(make_kernel("sobel x", 3))
    kernel = torch.arange(9.0).reshape(3, 3)
    assert is_flip_symmetric(kernel + torch.rot90(kernel, 2))  # symmetric by construction


def test_within_rounding_on_both_sides_of_its_threshold():
    from engine.conv.operation import ROUNDING, within_rounding

    assert within_rounding(ROUNDING * 0.99, 0.5)  # small values: the threshold is ROUNDING × 1
    assert not within_rounding(ROUNDING * 1.01, 0.5)
    assert within_rounding(-ROUNDING * 9.9, 10.0)  # large values: ROUNDING × their size
    assert not within_rounding(ROUNDING * 10.1, 10.0)


def test_pixel_check_agrees_with_rounding_and_not_with_a_real_gap():
    from engine.conv import patch_arithmetic, pixel_check

    image = rand(9, 8, seed=3)
    kernel = make_kernel("sobel x", 3)
    total = patch_arithmetic(image, kernel, 4, 5).total
    check = pixel_check(total, float(feature_maps(image, kernel)[0, 4, 5]))
    assert check.agrees and check.difference == abs(check.by_hand - check.from_torch)
    assert check.difference < 1e-5
    off = pixel_check(total, total + 1e-3)  # a real gap, far above rounding
    assert not off.agrees and math.isclose(off.difference, 1e-3, rel_tol=1e-6)


def test_compare_flip_matches_the_direct_convolution_and_brute_force():
    from engine.conv import compare_flip

    image = rand(14, 12, seed=4)
    kernel = make_kernel("sobel x", 5)
    got = compare_flip(image, kernel)
    reference = convolve2d_direct(image, kernel).numpy()  # written from the formula
    np.testing.assert_allclose(got.convolution.numpy(), reference, atol=1e-5)
    padded = np.pad(image.numpy().astype(np.float64), 2)
    correlation = scipy.signal.correlate2d(padded, kernel.numpy(), mode="valid")
    np.testing.assert_allclose(got.correlation.numpy(), correlation, atol=1e-5)
    gap = np.abs(reference - correlation).max()
    assert math.isclose(got.max_difference, gap, rel_tol=1e-4, abs_tol=1e-6)
    assert not got.symmetric and not got.outputs_equal  # sobel flips sign under a 180° turn
    assert got.flip_identity_holds and got.max_flip_error < 1e-5


def test_compare_flip_calls_symmetric_kernels_equal_and_a_blank_image_equal_too():
    from engine.conv import compare_flip

    image = rand(10, 10, seed=5)
    gaussian = compare_flip(image, make_kernel("gaussian", 5))
    assert gaussian.symmetric and gaussian.outputs_equal and gaussian.max_difference < 1e-5
    blank = compare_flip(torch.full((10, 10), 0.0), make_kernel("sobel x", 3))
    assert not blank.symmetric and blank.outputs_equal  # nothing to tell them apart on black
    nudged = make_kernel("gaussian", 3).clone()
    nudged[0, 0] += 1e-2  # no longer symmetric: the outputs now differ by more than rounding
    tilted = compare_flip(image, nudged)
    assert not tilted.symmetric and not tilted.outputs_equal


def test_stage_shares_match_counting_by_hand():
    from engine.conv import stage_shares

    image = torch.rand(12, 10, generator=torch.Generator().manual_seed(2))
    bank = torch.stack([make_kernel("sobel x", 5), make_kernel("laplacian", 5)])
    stages = layer_stages(image, bank, nonlinearity="relu", pool="max", pool_size=2, pool_stride=2)
    shares = stage_shares(stages)
    conv = stages.conv.numpy()
    assert shares["negative"] == pytest.approx((conv < 0).sum() / conv.size)
    assert shares["zero"] == pytest.approx((np.maximum(conv, 0) == 0).sum() / conv.size)
    assert shares["kept"] == pytest.approx((12 // 2) * (10 // 2) / (12 * 10))


def test_is_sparse_at_both_sides_of_the_share():
    from engine.conv import SPARSE_SHARE, is_sparse, layer_stages, stage_shares

    assert is_sparse({"zero": SPARSE_SHARE})
    assert not is_sparse({"zero": SPARSE_SHARE - 1e-9})
    image = torch.linspace(0, 1, 16)[None].expand(16, 16).contiguous()  # brightens to the right
    kernel = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])  # left − right
    relu = stage_shares(layer_stages(image, kernel[None], nonlinearity="relu", pool_size=1))
    tanh = stage_shares(layer_stages(image, kernel[None], nonlinearity="tanh", pool_size=1))
    assert is_sparse(relu) and relu["zero"] == (16 * 15) / 256  # all but the right edge column
    assert not is_sparse(tanh) and tanh["zero"] == 0.0
