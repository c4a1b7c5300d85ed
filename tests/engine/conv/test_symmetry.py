"""Equivariance checks against references: index arithmetic, torch.rot90, F.interpolate, and the
identity conv(rot90 x, Sobel x) = rot90 conv(x, Sobel y) derived by hand."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.conv import (
    MAX_KERNELS,
    NEAR_EQUIVARIANT,
    PADDING_MODES,
    ConvConfigError,
    EquivarianceCheck,
    comparison_disk,
    edge_map_everywhere,
    error_verdict,
    feature_maps,
    make_kernel,
    rescale,
    rotate,
    rotation_errors,
    scale_errors,
    scales_that_fit,
    shift,
    shift_verdict,
    translation_equivariance,
)
from engine.conv.symmetry import ROUNDING


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def _structured(side: int = 96, seed: int = 0) -> torch.Tensor:
    """Return a (side, side) image with smooth blobs, a bright rectangle and a dark disk."""
    coarse = _rand(1, 1, 12, 12, seed=seed)
    image = F.interpolate(coarse, size=(side, side), mode="bicubic", align_corners=False)[0, 0]
    image[side // 4 : side // 2, side // 3 : 3 * side // 4] += 0.5
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    image[(rows - 0.65 * side) ** 2 + (cols - 0.4 * side) ** 2 < (side / 8) ** 2] = 0.0
    return image.clamp(0, 1)


def _masked_relative(got: torch.Tensor, expected: torch.Tensor, mask: torch.Tensor) -> float:
    diff = (got - expected)[mask].double()
    return float(diff.norm() / expected[mask].double().norm())


# --- shift


def _shift_reference(image: np.ndarray, dy: int, dx: int, mode: str) -> np.ndarray:
    """out[r, c] = image[r - dy, c - dx], wrapping or zero outside, written as plain loops."""
    height, width = image.shape
    out = np.zeros_like(image)
    for r in range(height):
        for c in range(width):
            sr, sc = r - dy, c - dx
            if mode == "circular":
                out[r, c] = image[sr % height, sc % width]
            elif 0 <= sr < height and 0 <= sc < width:
                out[r, c] = image[sr, sc]
    return out


@pytest.mark.parametrize("mode", ["circular", "zeros"])
@pytest.mark.parametrize("dy,dx", [(0, 0), (2, -3), (-4, 1), (6, 7), (-6, -7)])
def test_shift_moves_content_down_and_right(mode, dy, dx):
    image = _rand(7, 8, seed=1)
    expected = _shift_reference(image.numpy(), dy, dx, mode)
    np.testing.assert_array_equal(shift(image, dy, dx, mode).numpy(), expected)
    colour = _rand(3, 7, 8, seed=2)
    for c in range(3):
        np.testing.assert_array_equal(
            shift(colour, dy, dx, mode)[c].numpy(),
            _shift_reference(colour[c].numpy(), dy, dx, mode),
        )


@pytest.mark.parametrize(
    "dy,dx,mode", [(7, 0, "circular"), (0, -8, "zeros"), (1.5, 0, "zeros"), (0, 0, "reflect")]
)
def test_shift_refuses_what_it_cannot_do(dy, dx, mode):
    with pytest.raises(ConvConfigError):
        shift(_rand(7, 8), dy, dx, mode)


# --- translation equivariance


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(5, 24),
    w=st.integers(5, 24),
    k=st.sampled_from([1, 3, 5]),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_circular_padding_commutes_with_circular_shifts(h, w, k, seed, data):
    dy = data.draw(st.integers(-(h - 1), h - 1))
    dx = data.draw(st.integers(-(w - 1), w - 1))
    image, kernel = _rand(h, w, seed=seed), torch.randn(k, k, generator=torch.Generator())
    check = translation_equivariance(image, kernel, dy, dx, "circular")
    assert check.max_error <= 1e-5
    assert check.relative_error <= 1e-5


@settings(max_examples=60, deadline=None)
@given(
    side=st.integers(12, 24),
    k=st.sampled_from([3, 5]),
    seed=st.integers(0, 2**16),
    dy=st.integers(-3, 3),
    dx=st.integers(-3, 3),
    mode=st.sampled_from(["zeros", "reflect", "replicate"]),
)
def test_other_paddings_agree_in_the_interior(side, k, seed, dy, dx, mode):
    image = _rand(side, side + 3, seed=seed)
    kernel = torch.randn(k, k, generator=torch.Generator().manual_seed(seed))
    check = translation_equivariance(image, kernel, dy, dx, mode)
    assert check.interior_max_error <= 1e-5


def test_zero_padding_differs_only_in_the_border_band():
    image, kernel = _structured(40, seed=3), make_kernel("sobel x", 5)
    check = translation_equivariance(image, kernel, 3, -2, padding_mode="zeros")
    assert isinstance(check, EquivarianceCheck)
    assert check.interior_max_error <= 1e-5
    assert check.border_max_error > 0.05 and check.max_error == check.border_max_error
    # the band is k//2 + |shift| wide on every side: rows 5..34, columns 4..35 are interior
    assert check.interior.sum() == (40 - 2 * 5) * (40 - 2 * 4)
    assert check.interior[5, 4] and not check.interior[4, 4] and not check.interior[5, 3]
    torch.testing.assert_close(check.difference, check.shift_then_conv - check.conv_then_shift)
    expected = feature_maps(shift(image, 3, -2, "zeros"), kernel)[0]
    torch.testing.assert_close(check.shift_then_conv, expected)


def test_circular_case_is_exact_where_zero_padding_is_not():
    image, kernel = _structured(32, seed=4), make_kernel("gabor", 7, 30.0)
    circular = translation_equivariance(image, kernel, 5, 9)
    zeros = translation_equivariance(image, kernel, 5, 9, "zeros")
    assert circular.max_error <= 1e-5 and circular.border_max_error <= 1e-5
    assert zeros.relative_error > 0.01
    no_shift = translation_equivariance(image, kernel, 0, 0, "zeros")
    assert no_shift.max_error == 0.0 and no_shift.relative_error == 0.0


def test_translation_equivariance_of_a_colour_image_uses_the_channel_mean():
    colour = _rand(3, 16, 16, seed=5)
    kernel = make_kernel("laplacian")
    check = translation_equivariance(colour, kernel, 2, 2, "zeros")
    gray = translation_equivariance(colour.mean(0), kernel, 2, 2, "zeros")
    torch.testing.assert_close(check.difference, gray.difference)
    torch.testing.assert_close(check.shift_then_conv, gray.shift_then_conv)


@pytest.mark.parametrize(
    "kernel,dy,padding_mode",
    [
        (torch.ones(4, 4), 0, "circular"),
        (torch.ones(3, 3), 9, "zeros"),
        (torch.ones(3, 3), 0, "mirror"),
        (torch.ones(3, 3), 0, None),
        (torch.ones(13, 13), 0, "reflect"),
    ],
)
def test_translation_equivariance_refuses_impossible_settings(kernel, dy, padding_mode):
    with pytest.raises(ConvConfigError):
        translation_equivariance(_rand(6, 6), kernel, dy, 0, padding_mode)


# --- rotation and rescaling, against independent references


def test_rotating_a_square_image_by_90_degrees_is_rot90():
    image = _rand(2, 33, 33, seed=6)
    for quarter in (1, 2, 3):
        expected = torch.rot90(image, quarter, dims=(-2, -1))  # counter-clockwise on screen
        torch.testing.assert_close(rotate(image, 90.0 * quarter), expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(
        rotate(image, -90.0), torch.rot90(image, -1, (-2, -1)), atol=1e-4, rtol=0
    )


def test_rotating_a_wide_image_keeps_pixels_square():
    image = _rand(20, 28, seed=7)  # the central 20×20 square turns like rot90; the sides are lost
    turned = rotate(image, 90.0)
    torch.testing.assert_close(turned[:, 4:24], torch.rot90(image[:, 4:24]), atol=1e-4, rtol=0)
    assert turned[:, :3].abs().max() == 0 and turned[:, 25:].abs().max() == 0
    torch.testing.assert_close(rotate(image, 180.0), image.flip((0, 1)), atol=1e-4, rtol=0)


def test_rotation_by_zero_and_rescaling_by_one_change_nothing():
    image = _rand(3, 17, 24, seed=8)
    torch.testing.assert_close(rotate(image, 0.0), image, atol=1e-5, rtol=0)
    torch.testing.assert_close(rotate(image, 360.0), image, atol=1e-4, rtol=0)
    torch.testing.assert_close(rescale(image, 1.0), image, atol=1e-5, rtol=0)
    assert rotate(image[0], 30.0).shape == (17, 24) and rescale(image, 2.0).shape == (3, 17, 24)


def test_rescaling_by_two_is_the_centre_of_a_bilinear_upsampling():
    image = _rand(16, 24, seed=9)
    full = F.interpolate(image[None, None], scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(rescale(image, 2.0), full[0, 0, 8:24, 12:36], atol=1e-5, rtol=0)


def test_rescaling_by_one_half_averages_pixel_pairs_and_pads_with_zeros():
    image = _rand(16, 24, seed=10)
    small = rescale(image, 0.5)
    torch.testing.assert_close(
        small[4:12, 6:18], F.avg_pool2d(image[None], 2)[0], atol=1e-5, rtol=0
    )
    assert small[:3].abs().max() == 0 and small[:, :5].abs().max() == 0


def test_the_comparison_disk_is_the_inscribed_circle_minus_a_margin():
    disk = comparison_disk(40, 60, 5)  # radius 20 - (2 + 2) = 16 about (19.5, 29.5)
    assert disk.shape == (40, 60) and disk[19, 29] and not disk[19, 29 + 17]
    assert int(disk[19].sum()) == 2 * 16  # centres 0.5, 1.5, … 15.5 either side of 29.5
    assert disk.sum() == pytest.approx(math.pi * 16**2, rel=0.03)
    assert comparison_disk(40, 60, 5, scale=0.5).sum() == pytest.approx(math.pi * 6**2, rel=0.1)
    with pytest.raises(ConvConfigError, match="larger image"):
        comparison_disk(12, 12, 5)


@pytest.mark.parametrize(
    ("height", "width", "kernel_size"), [(24, 32, 5), (40, 60, 5), (12, 12, 3)]
)
def test_scales_that_fit_are_those_whose_disk_radius_reaches_the_minimum(
    height, width, kernel_size
):
    scales = [0.25, 0.5, 0.6, 0.75, 1.0, 2.0]
    # closed form: radius = min(H, W)/2 · min(1, s) − (k//2 + 2) must reach 4 px
    expected = [
        s for s in scales if min(height, width) / 2 * min(1.0, s) - (kernel_size // 2 + 2) >= 4
    ]
    assert scales_that_fit(height, width, kernel_size, scales) == expected
    for s in expected:
        assert comparison_disk(height, width, kernel_size, s).any()


def test_scales_that_fit_at_the_smallest_page_size_drop_only_the_small_scales():
    fits = scales_that_fit(24, 32, 5, [0.5, 0.7, 1.0, 2.0])  # radius at 0.5: 12·0.5 − 4 = 2
    assert fits == [0.7, 1.0, 2.0]
    assert scales_that_fit(12, 12, 5, [0.5, 1.0]) == []  # even scale 1 is too small: radius 2
    with pytest.raises(ConvConfigError, match="scales"):
        scales_that_fit(24, 32, 5, [0.1])


# --- rotation and scale error curves


def test_isotropic_kernels_nearly_commute_with_rotation_oriented_ones_do_not():
    image = _structured(96, seed=11)
    kernels = {name: make_kernel(name, 5) for name in ("gaussian", "sobel x", "gabor", "laplacian")}
    errors = rotation_errors(image, kernels, [0.0, 45.0, 90.0])
    for name, curve in errors.items():
        assert curve.shape == (3,) and curve[0] <= 1e-5, name  # no rotation, no error
    for i in (1, 2):
        assert errors["gaussian"][i] < 0.05 * errors["sobel x"][i]
        assert errors["gaussian"][i] < 0.05 * errors["gabor"][i]
    assert errors["sobel x"][2] > 1.0  # at 90° Sobel x has turned into Sobel y
    assert errors["laplacian"][2] < 1e-3  # a Laplacian of Gaussian has the square's symmetry


def test_sobel_x_on_a_rotated_image_is_sobel_y_rotated():
    # conv(R x, K) = R conv(x, R⁻¹ K), and turning Sobel x a quarter clockwise gives Sobel y
    image = _structured(64, seed=12)
    sobel_x, sobel_y = make_kernel("sobel x"), make_kernel("sobel y")
    torch.testing.assert_close(torch.rot90(sobel_x, -1), sobel_y)
    lhs = feature_maps(rotate(image, 90.0), sobel_x)[0]
    rhs = torch.rot90(feature_maps(image, sobel_y)[0])
    torch.testing.assert_close(lhs, rhs, atol=1e-4, rtol=0)
    # so the 90° error of Sobel x is how far the Sobel y map lies from the Sobel x map
    disk = comparison_disk(64, 64, 3)
    direct = _masked_relative(
        feature_maps(image, sobel_y)[0], feature_maps(image, sobel_x)[0], disk
    )
    measured = rotation_errors(image, {"sobel x": sobel_x}, [90.0])["sobel x"][0]
    assert measured == pytest.approx(direct, rel=1e-4)


@pytest.mark.parametrize("angle", [10.0, 45.0, 200.0])
def test_batched_rotation_errors_equal_one_rotation_at_a_time(angle):
    image = _structured(48, seed=13)
    kernels = {"gaussian": make_kernel("gaussian", 3), "gabor 7": make_kernel("gabor", 7, 20.0)}
    batched = rotation_errors(image, kernels, [0.0, angle, 33.0])
    disk = comparison_disk(48, 48, 7)  # the largest kernel sets the margin for all
    for name, kernel in kernels.items():
        expected = rotate(feature_maps(image, kernel)[0], angle)
        got = feature_maps(rotate(image, angle), kernel)[0]
        assert batched[name][1] == pytest.approx(_masked_relative(got, expected, disk), rel=1e-4)


def test_scale_errors_by_hand_and_the_identity_kernel_commutes_with_everything():
    image = _structured(64, seed=14)
    kernels = {"identity": make_kernel("identity", 3), "gaussian": make_kernel("gaussian", 5)}
    scales = [0.5, 1.0, 1.5, 3.0]
    errors = scale_errors(image, kernels, scales)
    assert errors["identity"].max() <= 1e-5
    assert errors["gaussian"][1] <= 1e-5 and errors["gaussian"][3] > 0.01
    for i, s in enumerate(scales):
        disk = comparison_disk(64, 64, 5, s)
        kernel = kernels["gaussian"]
        got = feature_maps(rescale(image, s), kernel)[0]
        expected = rescale(feature_maps(image, kernel)[0], s)
        assert errors["gaussian"][i] == pytest.approx(
            _masked_relative(got, expected, disk), rel=1e-4, abs=1e-6
        )
    identity_rotations = rotation_errors(image, {"id": make_kernel("identity")}, [17.0, 90.0])
    assert identity_rotations["id"].max() <= 1e-5


def test_an_edge_kernel_on_a_flat_image_has_nothing_to_compare():
    errors = rotation_errors(torch.full((32, 32), 0.5), {"sobel": make_kernel("sobel x")}, [30.0])
    assert math.isnan(errors["sobel"][0])


def test_colour_images_are_compared_on_their_channel_mean():
    colour = torch.stack([_structured(40, seed=s) for s in (1, 2, 3)])
    kernels = {"sobel": make_kernel("sobel x")}
    gray = rotation_errors(colour.mean(0), kernels, [30.0])["sobel"]
    np.testing.assert_allclose(rotation_errors(colour, kernels, [30.0])["sobel"], gray)


@pytest.mark.parametrize(
    "kernels,values",
    [
        ({}, [0.0]),
        ({"even": torch.ones(4, 4)}, [0.0]),
        ({"flat": torch.ones(3, 5)}, [0.0]),
        ({f"k{i}": torch.ones(3, 3) for i in range(MAX_KERNELS + 1)}, [0.0]),
        ({"k": torch.ones(3, 3)}, []),
        ({"k": torch.ones(3, 3)}, [float("nan")]),
        ({"k": torch.ones(3, 3)}, list(range(100))),
        ({"k": torch.ones(3, 3)}, "45"),
        ([torch.ones(3, 3)], [0.0]),
        ({"k": [[1.0]]}, [0.0]),
    ],
)
def test_error_curves_refuse_bad_inputs(kernels, values):
    with pytest.raises(ConvConfigError):
        rotation_errors(_rand(32, 32), kernels, values)


@pytest.mark.parametrize("scales", [[0.2], [5.0], [0.25, float("inf")]])
def test_scale_errors_refuse_scales_out_of_range(scales):
    with pytest.raises(ConvConfigError):
        scale_errors(_rand(64, 64), {"k": torch.ones(3, 3)}, scales)


def test_error_curves_refuse_work_too_big_to_hold_and_images_too_small():
    kernels = {f"k{i}": make_kernel("gaussian", 3) for i in range(MAX_KERNELS)}
    with pytest.raises(ConvConfigError, match="fewer angles"):
        rotation_errors(torch.zeros(512, 512), kernels, list(range(72)))
    with pytest.raises(ConvConfigError, match="larger image"):
        scale_errors(_rand(24, 24), {"k": torch.ones(3, 3)}, [0.25])


# --- the edge detector applied everywhere


def test_edge_map_counts_one_parameter_set_at_every_position():
    image, kernel = _structured(50, seed=15)[:, :40], make_kernel("sobel x")
    edges = edge_map_everywhere(image, kernel, strong=0.3)
    response = feature_maps(image, kernel)[0]
    torch.testing.assert_close(edges.response, response)
    assert (edges.positions, edges.parameters) == (50 * 40, 9)
    assert edges.multiply_adds == edges.unshared_parameters == 50 * 40 * 9
    assert edges.dense_parameters == (50 * 40) ** 2
    magnitude = np.abs(response.numpy())
    assert edges.threshold == pytest.approx(0.3 * magnitude.max())
    assert edges.strong_fraction == pytest.approx(np.mean(magnitude >= 0.3 * magnitude.max()))
    assert 0 < edges.strong_fraction < 0.5
    # a flat image has no edges, except the ones zero padding draws at its left and right borders
    flat = edge_map_everywhere(torch.full((20, 20), 0.3), kernel)
    assert flat.strong_fraction == pytest.approx(2 * 20 / 400)
    assert flat.response[:, 1:-1].abs().max() < 1e-6
    replicated = edge_map_everywhere(torch.full((20, 20), 0.3), kernel, padding_mode="replicate")
    assert replicated.strong_fraction == 0.0 and replicated.threshold < 1e-6
    for strong in (0.0, 1.5, float("nan")):
        with pytest.raises(ConvConfigError):
            edge_map_everywhere(image, kernel, strong)


def test_padding_modes_all_work_with_the_equivariance_check():
    for mode in PADDING_MODES:
        check = translation_equivariance(_rand(12, 12, seed=16), make_kernel("emboss"), 1, 2, mode)
        assert check.interior_max_error <= 1e-5


@settings(max_examples=80, deadline=None, database=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    channels=st.sampled_from([0, 1, 3, 20]),
    k=st.integers(1, 8),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-400, 400)),
    shift_by=st.integers(-45, 45),
    mode=st.sampled_from(PADDING_MODES + ("wrap",)),
    dtype=st.sampled_from([torch.float16, torch.float32, torch.float64]),
)
def test_every_setting_gives_a_result_or_a_conv_config_error(
    h, w, channels, k, value, shift_by, mode, dtype
):
    shape = (h, w) if channels == 0 else (channels, h, w)
    image = torch.rand(shape, generator=torch.Generator().manual_seed(h * w)).to(dtype)
    kernel = torch.ones(k, k)
    calls = [
        lambda: translation_equivariance(image, kernel, shift_by, -shift_by, mode),
        lambda: rotation_errors(image, {"k": kernel}, [value, 10.0]),
        lambda: scale_errors(image, {"k": kernel}, [value]),
        lambda: rotate(image, value),
        lambda: rescale(image, value),
        lambda: shift(image, shift_by, 0, "zeros"),
        lambda: edge_map_everywhere(image, kernel, strong=0.5, padding_mode=mode),
    ]
    for call in calls:
        try:
            call()
        except ConvConfigError as err:
            assert len(str(err)) > 20


# --- which claim the measured errors support


def test_error_verdict_sorts_kernels_at_both_sides_of_the_tolerance():
    values = [0.5, 1.0, 2.0]
    errors = {
        "at tol": np.array([NEAR_EQUIVARIANT, 0.0, 0.01]),
        "just above": np.array([0.0, 0.0, NEAR_EQUIVARIANT * 1.001]),
        "flat image": np.array([np.nan, np.nan, np.nan]),
        "one nan": np.array([np.nan, 0.0, 0.02]),
    }
    verdict = error_verdict(errors, values)
    assert verdict.close == [("at tol", NEAR_EQUIVARIANT), ("one nan", 0.02)]
    assert verdict.far == [("just above", pytest.approx(NEAR_EQUIVARIANT * 1.001), 2.0)]
    assert verdict.unmeasured == ["flat image"] and verdict.tol == NEAR_EQUIVARIANT
    with pytest.raises(ConvConfigError, match="3 errors for 2 values"):
        error_verdict({"k": np.zeros(3)}, [1.0, 2.0])


def test_a_symmetric_laplacian_is_far_from_scale_equivariant_though_close_for_rotation():
    # The old heading said "not equivariant, unless the kernel is symmetric": the Laplacian is
    # symmetric under 90° turns and stays close for a quarter turn, yet rescaling breaks it.
    image = _structured(96, seed=11)
    kernels = {name: make_kernel(name, 5) for name in ("gaussian", "laplacian")}
    scales = [0.5, 1.0, 2.0]
    by_scale = error_verdict(scale_errors(image, kernels, scales), scales)
    assert "laplacian" in [name for name, _, _ in by_scale.far]
    (worst,) = [(e, at) for name, e, at in by_scale.far if name == "laplacian"]
    assert worst[0] > 10 * NEAR_EQUIVARIANT and worst[1] != 1.0
    angles = [0.0, 90.0, 180.0]
    by_angle = error_verdict(rotation_errors(image, kernels, angles), angles)
    assert [name for name, _ in by_angle.close] == ["gaussian", "laplacian"]


def _check(max_error: float, interior: float) -> EquivarianceCheck:
    empty = torch.zeros(2, 2)
    return EquivarianceCheck(empty, empty, empty, empty.bool(), max_error, interior, max_error, 0.0)


def test_shift_verdict_at_both_sides_of_rounding():
    assert shift_verdict(_check(ROUNDING, ROUNDING)) == "exact"
    assert shift_verdict(_check(ROUNDING * 1.01, ROUNDING)) == "border only"
    assert shift_verdict(_check(ROUNDING * 1.01, ROUNDING * 1.01)) == "broken"
    image = _structured(48, seed=3)
    kernel = make_kernel("sobel x", 5)
    assert shift_verdict(translation_equivariance(image, kernel, 5, -7, "circular")) == "exact"
    zeros = translation_equivariance(image, kernel, 5, -7, "zeros")
    assert shift_verdict(zeros) == "border only"
