"""One output pixel by hand, and convolution versus cross-correlation, against feature_maps,
scipy.signal and a direct loop."""

import pytest
import torch

from engine.conv import (
    ConvConfigError,
    convolve2d_direct,
    feature_maps,
    flip_kernel,
    make_kernel,
    patch_arithmetic,
)
from tests.engine.conv.checks import CASES, rand, randn

# --- one pixel by hand


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("padding,stride,dilation", CASES + [(3, 1, 1), (1, 1, 3)])
@pytest.mark.parametrize("kh,kw", [(3, 3), (5, 5), (3, 5)])
def test_patch_arithmetic_total_is_the_feature_map_value_at_every_pixel(
    kh, kw, padding, stride, dilation, flip
):
    image, kernel = rand(10, 9, seed=kh), randn(kh, kw, seed=kw)
    try:
        maps = feature_maps(image, kernel, padding, stride, dilation, flip)[0]
    except ConvConfigError:
        with pytest.raises(ConvConfigError):
            patch_arithmetic(image, kernel, 0, 0, padding, stride, dilation, flip)
        return
    for row in range(maps.shape[0]):  # every pixel, borders included
        for col in range(maps.shape[1]):
            arith = patch_arithmetic(image, kernel, row, col, padding, stride, dilation, flip)
            assert arith.total == pytest.approx(float(maps[row, col]), abs=1e-5)
            assert (arith.row, arith.col) == (row, col)
    expected_kernel = kernel.flip((0, 1)) if flip else kernel
    torch.testing.assert_close(arith.kernel, expected_kernel)
    torch.testing.assert_close(arith.products, arith.patch * expected_kernel)


def test_patch_arithmetic_window_over_the_padding_reads_zeros():
    image = rand(6, 6, seed=9) + 1.0  # no zeros inside the image
    arith = patch_arithmetic(image, torch.ones(5, 5), 0, 5, padding=2)
    assert arith.input_rows == [-2, -1, 0, 1, 2] and arith.input_cols == [3, 4, 5, 6, 7]
    outside = torch.tensor([[r < 0 or c > 5 for c in arith.input_cols] for r in arith.input_rows])
    assert (arith.patch[outside] == 0).all() and (arith.patch[~outside] > 0).all()
    torch.testing.assert_close(arith.patch[2:, :3], image[:3, 3:])
    dilated = patch_arithmetic(image, torch.ones(3, 3), 1, 0, padding=1, stride=2, dilation=2)
    assert dilated.input_rows == [1, 3, 5] and dilated.input_cols == [-1, 1, 3]


def test_patch_arithmetic_adds_the_bias():
    image, kernel = rand(5, 5), randn(3, 3)
    plain = patch_arithmetic(image, kernel, 2, 2)
    assert patch_arithmetic(image, kernel, 2, 2, bias=0.75).total == pytest.approx(
        plain.total + 0.75
    )


@pytest.mark.parametrize(
    "row,col,kwargs",
    [
        (5, 0, {}),
        (0, 5, {}),
        (-1, 0, {}),
        (0, 0.5, {}),
        (3, 0, dict(stride=2)),
        (0, 0, dict(padding="full")),
        (0, 0, dict(bias=float("nan"))),
    ],
)
def test_patch_arithmetic_rejects_pixels_outside_the_output(row, col, kwargs):
    with pytest.raises(ConvConfigError):
        patch_arithmetic(rand(5, 5), randn(3, 3), row, col, **kwargs)


def test_patch_arithmetic_wants_a_gray_image():
    with pytest.raises(ConvConfigError, match="gray"):
        patch_arithmetic(rand(3, 5, 5), randn(3, 3), 0, 0)


# --- convolution versus cross-correlation


@pytest.mark.parametrize("name,size", [("sobel x", 3), ("emboss", 5), ("sobel y", 7)])
def test_flipping_turns_cross_correlation_into_convolution(name, size):
    image = rand(24, 20, seed=size)
    kernel = make_kernel(name, size, angle_deg=30.0)
    true_conv = feature_maps(image, kernel, flip=True)
    torch.testing.assert_close(true_conv, feature_maps(image, flip_kernel(kernel)))
    torch.testing.assert_close(true_conv[0], convolve2d_direct(image, kernel), atol=1e-5, rtol=0)
    assert (true_conv - feature_maps(image, kernel)).abs().max() > 0.05  # asymmetric kernel


@pytest.mark.parametrize("name", ["gaussian", "laplacian", "box blur", "sharpen", "gabor"])
def test_flipping_a_symmetric_kernel_changes_nothing(name):
    image, kernel = rand(16, 16, seed=4), make_kernel(name, 5, angle_deg=30.0)  # gabor: even
    torch.testing.assert_close(feature_maps(image, kernel, flip=True), feature_maps(image, kernel))


def test_flip_kernel_rotates_by_180_degrees():
    kernel = torch.arange(6.0).reshape(2, 3)
    torch.testing.assert_close(flip_kernel(kernel), torch.rot90(kernel, 2))
    torch.testing.assert_close(flip_kernel(flip_kernel(kernel)), kernel)
    with pytest.raises(ConvConfigError):
        flip_kernel(torch.ones(3))


def test_convolve2d_direct_refuses_big_images_and_even_kernels():
    convolve2d_direct(torch.zeros(128, 128), torch.ones(3, 3))
    with pytest.raises(ConvConfigError, match="128"):
        convolve2d_direct(torch.zeros(129, 64), torch.ones(3, 3))
    with pytest.raises(ConvConfigError, match="odd"):
        convolve2d_direct(torch.zeros(8, 8), torch.ones(2, 2))
