"""The kernel bank checked against textbook matrices, a published kernel and closed forms."""

import math

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from engine.conv import KERNEL_NAMES, KERNEL_SIZES, ConvConfigError, kernel_description, make_kernel

TEXTBOOK_3X3 = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
SUM_ONE = ("identity", "box blur", "gaussian", "sharpen", "emboss")
SUM_ZERO = ("sobel x", "sobel y", "laplacian", "gabor")
ANGLES = (0.0, 30.0, 45.0, 90.0, 137.5)


def _respond(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Torch's own cross-correlation, no padding: (H-k+1, W-k+1)."""
    return F.conv2d(image[None, None].double(), kernel[None, None].double())[0, 0]


@pytest.mark.parametrize("name", TEXTBOOK_3X3)
def test_3x3_kernels_are_the_textbook_matrices(name):
    expected = torch.tensor(TEXTBOOK_3X3[name], dtype=torch.float32)
    torch.testing.assert_close(make_kernel(name, 3), expected)


@pytest.mark.parametrize("size", KERNEL_SIZES)
@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_every_kernel_is_a_finite_float32_square(name, size):
    kernel = make_kernel(name, size)
    assert kernel.shape == (size, size) and kernel.dtype == torch.float32
    assert torch.isfinite(kernel).all()
    assert kernel.abs().sum() > 0


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_sums(size):
    for name in SUM_ONE:
        assert float(make_kernel(name, size).double().sum()) == pytest.approx(1.0, abs=1e-6), name
    for name in SUM_ZERO:
        for angle in ANGLES:
            kernel = make_kernel(name, size, angle)
            assert float(kernel.double().sum()) == pytest.approx(0.0, abs=1e-6), (name, angle)


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_sobel_y_is_sobel_x_transposed_and_separable(size):
    sx, sy = make_kernel("sobel x", size), make_kernel("sobel y", size)
    assert torch.equal(sy, sx.T)
    assert torch.linalg.matrix_rank(sx.double()) == 1  # smoothing ⊗ derivative
    torch.testing.assert_close(sx, -sx.flip(1))  # odd across the vertical axis


def test_larger_sobel_is_proportional_to_the_published_5x5():
    # OpenCV's getDerivKernels(1, 0, 5): [1, 4, 6, 4, 1]ᵀ ⊗ [-1, -2, 0, 2, 1]
    published = torch.outer(torch.tensor([1.0, 4, 6, 4, 1]), torch.tensor([-1.0, -2, 0, 2, 1]))
    ours = make_kernel("sobel x", 5)
    ratio = ours[published != 0] / published[published != 0]
    assert ratio.min() > 0
    torch.testing.assert_close(ratio, torch.full_like(ratio, float(ratio[0])))


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_sobel_x_on_a_rightward_ramp_gives_a_positive_constant(size):
    slope = 0.25
    ramp = slope * torch.arange(20.0).repeat(16, 1)  # (16, 20): brighter to the right
    response = _respond(ramp, make_kernel("sobel x", size))
    assert (response > 0).all()
    torch.testing.assert_close(response, torch.full_like(response, 8 * slope))  # 3×3: 2+4+2 = 8
    # and it ignores a ramp that rises downwards
    torch.testing.assert_close(
        _respond(ramp.T, make_kernel("sobel x", size)).abs().max().item(), 0.0, atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_gaussian_is_a_symmetric_bell(size):
    g = make_kernel("gaussian", size)
    assert torch.equal(g, g.T) and torch.equal(g, g.flip(0)) and torch.equal(g, g.flip(1))
    centre = size // 2
    assert g.argmax() == centre * size + centre
    row = g[centre]
    assert (row[1 : centre + 1] > row[:centre]).all()  # rises to the centre
    assert (g > 0).all()


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_gaussian_is_scipys_sampled_window_with_the_documented_sigma(size):
    window = scipy.signal.windows.gaussian(size, std=size / 4)  # sigma = size/4, as documented
    expected = np.outer(window, window) / np.outer(window, window).sum()
    np.testing.assert_allclose(make_kernel("gaussian", size).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("size", (5, 7))
def test_larger_laplacian_is_a_zero_sum_laplacian_of_gaussian(size):
    lap = make_kernel("laplacian", size).double()
    centre = size // 2
    assert lap[centre, centre] < 0 and lap[0, 0] > 0  # negative centre, positive surround
    assert torch.equal(lap, lap.T) and torch.equal(lap, lap.flip(0))
    rows, cols = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    for image, laplacian_value in [(3 * rows - 2 * cols + 1, 0.0), (rows**2 + cols**2, 4.0)]:
        response = _respond(image.double(), lap)  # the discrete ∇² of a plane and a bowl
        expected = torch.full_like(response, laplacian_value)
        torch.testing.assert_close(response, expected, atol=1e-5, rtol=1e-6)  # float32 kernel


@pytest.mark.parametrize("size", (5, 7))
def test_larger_sharpen_is_identity_plus_detail(size):
    identity, blur = make_kernel("identity", size), make_kernel("gaussian", size)
    sharp = make_kernel("sharpen", size)
    detail = identity - blur
    amount = float((sharp - identity)[size // 2, size // 2] / detail[size // 2, size // 2])
    assert amount > 0
    torch.testing.assert_close(sharp, identity + amount * detail)


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_emboss_is_a_diagonal_ramp_plus_identity(size):
    ramp = make_kernel("emboss", size) - make_kernel("identity", size)
    assert float(ramp[0, 0]) == -2.0 and float(ramp[-1, -1]) == 2.0
    torch.testing.assert_close(ramp, ramp.T)  # a diagonal ramp: same along rows and columns
    torch.testing.assert_close(ramp, -ramp.flip((0, 1)))  # rising from top left to bottom right
    torch.testing.assert_close(ramp.diagonal(offset=0).flip(0), -ramp.diagonal(offset=0))
    assert (ramp.flip(1).diagonal() == 0).all()  # constant along the anti-diagonal


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_gabor_rotates_with_its_angle(size):
    g0 = make_kernel("gabor", size, 0.0)
    torch.testing.assert_close(make_kernel("gabor", size, 90.0), torch.rot90(g0), atol=1e-6, rtol=0)
    g30 = make_kernel("gabor", size, 30.0)
    torch.testing.assert_close(
        make_kernel("gabor", size, 120.0), torch.rot90(g30), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(make_kernel("gabor", size, 210.0), g30, atol=1e-6, rtol=0)
    assert not torch.allclose(g30, g0, atol=1e-3)


@pytest.mark.parametrize("size", KERNEL_SIZES)
def test_gabor_at_zero_degrees_prefers_vertical_stripes(size):
    wavelength = 2 * size / 3  # documented in the kernel's description
    x = torch.arange(40.0)
    vertical = torch.cos(2 * math.pi * x / wavelength).repeat(40, 1)  # varies along a row
    horizontal = vertical.T.contiguous()
    g0 = make_kernel("gabor", size, 0.0)
    assert _respond(vertical, g0).abs().mean() > 3 * _respond(horizontal, g0).abs().mean()


@pytest.mark.parametrize("size", (5, 7))
def test_gabor_angles_turn_anticlockwise_on_screen(size):
    # At 45° the carrier's wave travels towards the upper right, so its crests run from the
    # top left to the bottom right, like a backslash.
    wavelength = 2 * size / 3
    r, c = torch.meshgrid(torch.arange(40.0), torch.arange(40.0), indexing="ij")
    backslash = torch.cos(2 * math.pi * (c - r) / (wavelength * math.sqrt(2)))  # crests like \\
    slash = torch.cos(2 * math.pi * (c + r) / (wavelength * math.sqrt(2)))  # crests like /
    g45 = make_kernel("gabor", size, 45.0)
    assert _respond(backslash, g45).abs().mean() > 3 * _respond(slash, g45).abs().mean()


def test_names_are_forgiving_about_case_and_blanks_only():
    torch.testing.assert_close(make_kernel(" Sobel X "), make_kernel("sobel x"))
    for bad in ("sobel", "blur", "", None, 3):
        with pytest.raises(ConvConfigError, match="choose one of"):
            make_kernel(bad)


@pytest.mark.parametrize("size", [1, 2, 4, 9, 3.0, True, "3"])
def test_unsupported_sizes_are_refused(size):
    with pytest.raises(ConvConfigError):
        make_kernel("gaussian", size)


@pytest.mark.parametrize("angle", [float("nan"), float("inf"), "45", None])
def test_bad_angles_are_refused(angle):
    with pytest.raises(ConvConfigError):
        make_kernel("gabor", 5, angle)


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_each_kernel_has_a_one_line_description(name):
    text = kernel_description(name)
    assert text and "\n" not in text
    assert text.lower().startswith(name.split()[0])
