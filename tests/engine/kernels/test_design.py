"""Kernel design checked against torch modules, FlopCounterMode, SciPy and closed forms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import signal
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine import kernels as kd
from engine.conv import make_kernel
from engine.images import to_gray_tensor

SAMPLES = Path(__file__).resolve().parents[3] / "assets" / "samples"


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    """A real sample image, gray, at most 96 px per side."""
    img = Image.open(sorted(SAMPLES.glob("*.png"))[0]).convert("RGB")
    img.thumbnail((96, 96))
    return to_gray_tensor(img)


def _noise(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.rand((h, w), generator=torch.Generator().manual_seed(seed))


def _real_design(c_in: int, layers: list[tuple[int, int, int]]) -> nn.Sequential:
    """Build the reference stack by hand: (out channels, kernel rows, kernel cols) per layer."""
    mods, c = [], c_in
    for c_out, kh, kw in layers:
        mods += [nn.Conv2d(c, c_out, (kh, kw), padding=(kh // 2, kw // 2)), nn.ReLU()]
        c = c_out
    return nn.Sequential(*mods)


def _flops(model: nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops()


def _probed_field(model: nn.Module, c_in: int, side: int) -> tuple[int, int]:
    """Rows and columns of input pixels that move the centre output (positive weights, grads)."""
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
                m.bias.fill_(0.0)
    x = torch.ones(1, c_in, side, side, dtype=torch.float64, requires_grad=True)
    model.double()(x)[0, 0, side // 2, side // 2].backward()
    touched = x.grad[0].abs().sum(0) > 0  # (H, W)
    return int(touched.any(1).sum()), int(touched.any(0).sum())


# --- costs: stacked small kernels, bottlenecks, factorisation


@pytest.mark.parametrize("c,h,w", [(1, 5, 7), (3, 8, 8), (16, 11, 6)])
@pytest.mark.parametrize("depth", [2, 3])
def test_stacked_vs_single_counts_match_real_modules(c, h, w, depth):
    stack, single = kd.stacked_vs_single(c, h, w, depth)
    big = 2 * depth + 1
    ref_stack = _real_design(c, [(c, 3, 3)] * depth)
    ref_single = _real_design(c, [(c, big, big)])
    x = torch.randn(1, c, h, w)
    for cost, ref in [(stack, ref_stack), (single, ref_single)]:
        assert cost.parameters == sum(p.numel() for p in ref.parameters())
        assert cost.biases == sum(m.bias.numel() for m in ref if isinstance(m, nn.Conv2d))
        assert 2 * cost.macs == _flops(ref, x)  # real tensors, not the engine's meta ones
        assert cost.out_shape == tuple(ref(x).shape[1:])
    # the closed forms of the page: 9·L·C² versus (2L+1)²·C², times H·W for the work
    assert stack.weights == depth * 9 * c * c and single.weights == big**2 * c * c
    assert stack.macs == depth * 9 * c * c * h * w and single.macs == big**2 * c * c * h * w
    assert (stack.nonlinearities, single.nonlinearities) == (depth, 1)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_stacked_field_equals_single_field_and_a_gradient_probe(depth):
    stack, single = kd.stacked_vs_single(2, 32, 32, depth)
    r = 1 + depth * 2
    assert stack.receptive_field == single.receptive_field == (r, r)
    probe = _probed_field(kd.design_model(2, stack.layers, device="cpu"), 2, 31)
    assert probe == (r, r)


def test_vgg_figures_for_512_channels():
    # Simonyan & Zisserman, sec. 2.3: three 3×3 layers have 27C² weights, one 7×7 has 49C²
    stack, single = kd.stacked_vs_single(512, 14, 14, depth=3)
    assert (stack.weights, single.weights) == (27 * 512**2, 49 * 512**2)
    assert single.weights / stack.weights == pytest.approx(49 / 27)


@pytest.mark.parametrize("c_in,c_mid,c_out,side,k", [(256, 32, 64, 28, 5), (8, 2, 4, 5, 3)])
def test_bottleneck_branch_against_modules_and_closed_form(c_in, c_mid, c_out, side, k):
    direct, reduced = kd.bottleneck_branch(c_in, c_mid, c_out, side, side, k)
    assert direct.weights == k * k * c_in * c_out
    assert reduced.weights == c_in * c_mid + k * k * c_mid * c_out
    assert reduced.macs == side * side * (c_in * c_mid + k * k * c_mid * c_out)
    ref = _real_design(c_in, [(c_mid, 1, 1), (c_out, k, k)])
    assert reduced.parameters == sum(p.numel() for p in ref.parameters())
    assert 2 * reduced.macs == _flops(ref, torch.zeros(1, c_in, side, side))
    assert reduced.receptive_field == direct.receptive_field == (k, k)


def test_googlenet_5x5_branch_numbers():
    # 256 → 5×5 → 64 on 28×28: 28·28·64·5·5·256 multiply-adds, about 321 million
    direct, reduced = kd.bottleneck_branch(256, 32, 64, 28, 28, 5)
    assert direct.macs == 321_126_400
    assert reduced.macs < direct.macs / 6


@pytest.mark.parametrize("n", [3, 5, 7, 15])
def test_factorised_pair_counts_and_field(n):
    c, side = 6, 9
    square, pair = kd.factorised_pair(c, side, side, n)
    assert (square.weights, pair.weights) == (n * n * c * c, 2 * n * c * c)
    assert (square.macs, pair.macs) == (n * n * c * c * side * side, 2 * n * c * c * side * side)
    ref = _real_design(c, [(c, 1, n), (c, n, 1)])
    assert pair.parameters == sum(p.numel() for p in ref.parameters())
    assert 2 * pair.macs == _flops(ref, torch.zeros(1, c, side, side))
    assert square.receptive_field == pair.receptive_field == (n, n)
    assert _probed_field(kd.design_model(c, pair.layers, device="cpu"), c, 2 * n + 1) == (n, n)


@settings(max_examples=25, deadline=None)
@given(
    c_in=st.integers(1, 6),
    convs=st.lists(
        st.tuples(st.integers(1, 5), st.sampled_from([1, 3, 5]), st.sampled_from([1, 3, 5])),
        min_size=1,
        max_size=3,
    ),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
)
def test_any_design_matches_its_real_modules(c_in, convs, h, w):
    layers = [kd.Conv(c, (kh, kw)) for c, kh, kw in convs]
    cost = kd.design_cost("any", c_in, h, w, layers)
    ref = _real_design(c_in, convs)
    assert cost.parameters == sum(p.numel() for p in ref.parameters())
    assert 2 * cost.macs == _flops(ref, torch.zeros(1, c_in, h, w))
    assert cost.receptive_field == (
        1 + sum(kh - 1 for _, kh, _ in convs),
        1 + sum(kw - 1 for _, _, kw in convs),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: kd.stacked_vs_single(0, 8, 8),
        lambda: kd.stacked_vs_single(8, 8, 8, depth=20),
        lambda: kd.stacked_vs_single(True, 8, 8),
        lambda: kd.stacked_vs_single(8, 8, 8.5),
        lambda: kd.bottleneck_branch(8, 4, 8, 8, 8, k=4),
        lambda: kd.factorised_pair(8, 8, 8, n=6),
        lambda: kd.factorised_pair(10**6, 8, 8),
        lambda: kd.design_cost("x", 3, 8, 8, []),
        lambda: kd.design_cost("x", 3, 8, 8, [(3, 3)]),
    ],
)
def test_person_caused_cost_errors_are_kernel_design_errors(call):
    with pytest.raises(kd.KernelDesignError):
        call()


def test_big_designs_cost_nothing_to_count():
    _, single = kd.stacked_vs_single(8192, 8192, 8192, depth=3)
    assert single.weights == 49 * 8192**2  # 3.3 billion weights, counted on meta tensors


# --- odd versus even kernels


@pytest.mark.parametrize("w", [1, 2, 3, 4, 5, 6, 7])
def test_same_offsets_are_torchs_same_padding(w):
    x = torch.randn(1, 1, 20, dtype=torch.float64)
    k = torch.randn(w, dtype=torch.float64)
    ref = F.conv1d(x, k[None, None], padding="same")[0, 0]
    padded = F.pad(x[0, 0], (20, 20))
    ours = sum(k[j] * padded[20 + o : 40 + o] for j, o in enumerate(kd.same_offsets(w)))
    torch.testing.assert_close(ours, ref)


def test_centred_difference_on_white_noise_matches_closed_forms():
    # For independent unit-variance pixels, the best fits of t = (x[i+1] - x[i-1]) / 2 are known:
    # width 2 (taps x[i], x[i+1]): b = 1/2 leaves 1/4 of t's variance 1/2 -> relative error² 1/2;
    # width 2 antisymmetric a(x[i+1] - x[i]): a = 1/4 leaves 3/8 -> 3/4;
    # width 4 antisymmetric (-b, -a, a, b): a = b = 1/4 leaves 1/4 -> 1/2.
    x = torch.randn((400, 400), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    fits = {f.width: f for f in kd.centred_difference_fits(x.float(), (1, 2, 3, 4, 5, 6))}
    assert fits[2].any_error ** 2 == pytest.approx(0.5, abs=0.01)
    assert fits[2].antisymmetric_error ** 2 == pytest.approx(0.75, abs=0.01)
    assert fits[4].antisymmetric_error ** 2 == pytest.approx(0.5, abs=0.01)
    assert fits[1].antisymmetric_error == 1.0  # a 1-tap antisymmetric kernel is zero
    for w in (3, 5):
        assert fits[w].antisymmetric_error < 1e-6 and fits[w].any_error < 1e-6
        centre = fits[w].offsets.index(0)
        assert fits[w].antisymmetric_kernel[centre - 1 : centre + 2] == pytest.approx(
            (-0.5, 0.0, 0.5), abs=1e-6
        )
    # width 4 reaches the detector only by leaving its last tap empty (off its own centre)
    assert fits[4].any_error < 1e-6
    assert fits[4].any_kernel == pytest.approx((-0.5, 0.0, 0.5, 0.0), abs=1e-6)


def test_even_widths_always_miss_on_a_photo(photo):
    fits = kd.centred_difference_fits(photo, (1, 2, 3, 4, 5, 6))
    for f in fits:
        if f.width % 2:
            assert f.antisymmetric_error < 1e-6 or f.width == 1
        else:
            assert f.antisymmetric_error > 0.1


def test_step_edge_odd_response_is_on_the_edge_even_is_half_a_pixel_off():
    step = kd.step_responses(16, 8)
    odd, even = kd.STEP_KERNELS
    assert step.edge_at == 7.5
    assert step.shift(odd) == 0.0
    assert step.shift(even) == -0.5
    for name, taps in kd.STEP_KERNELS.items():  # away from the replicated right border
        ref = F.conv1d(
            step.signal[None, None], torch.tensor(taps)[None, None].double(), padding="same"
        )
        torch.testing.assert_close(step.responses[name][:12], ref[0, 0, :12])


def test_centroid_drift_is_half_a_pixel_per_even_layer():
    image = _noise(40, 30, seed=5).double()
    drift = kd.centroid_drift(image, 6)
    odd, even = kd.DRIFT_KERNELS
    expected = -0.5 * torch.arange(7, dtype=torch.float64)[:, None].expand(7, 2)
    torch.testing.assert_close(drift[even], expected)
    torch.testing.assert_close(drift[odd], torch.zeros(7, 2, dtype=torch.float64))


def test_centroid_drift_matches_torch_same_padding_on_one_layer():
    image = _noise(24, 24, seed=2).double()
    canvas = F.pad(image, (4, 4, 4, 4))[None, None]
    out = F.conv2d(canvas, torch.full((1, 1, 2, 2), 0.25, dtype=torch.float64), padding="same")
    rows, cols = np.indices(out.shape[-2:])
    m = out[0, 0].numpy()
    ref = np.array([(rows * m).sum() / m.sum(), (cols * m).sum() / m.sum()])
    c = canvas[0, 0].numpy()
    start = np.array([(rows * c).sum() / c.sum(), (cols * c).sum() / c.sum()])
    even = list(kd.DRIFT_KERNELS)[1]
    np.testing.assert_allclose(kd.centroid_drift(image, 1)[even][1].numpy(), ref - start)


@pytest.mark.parametrize(
    "call",
    [
        lambda: kd.centroid_drift(torch.zeros(8, 8)),
        lambda: kd.centroid_drift(-torch.ones(8, 8)),
        lambda: kd.centroid_drift(torch.ones(8, 8), 0),
        lambda: kd.centred_difference_fits(torch.ones(8, 8)),
        lambda: kd.centred_difference_fits(torch.rand(8, 5), (6,)),
        lambda: kd.centred_difference_fits(torch.rand(8, 8), ()),
        lambda: kd.centred_difference_fits(torch.rand(3, 8, 8)),
        lambda: kd.step_responses(16, 15),
        lambda: kd.same_offsets(0),
    ],
)
def test_person_caused_parity_errors(call):
    with pytest.raises(kd.KernelDesignError):
        call()


# --- a stack as one kernel, 1×1 as a linear layer, separable kernels


@pytest.mark.parametrize("depth", [2, 3])
def test_linear_stack_is_the_composed_kernel(photo, depth):
    demo = kd.stack_on_image(photo, depth=depth, mid_channels=3, seed=1)
    w = [t.double().numpy() for t in demo.weights]
    # compose by full 2-D convolution along every channel path (SciPy, not the engine's impulse)
    kernels = [w[0][m, 0] for m in range(w[0].shape[0])]  # the M kernels seen after layer 1
    for layer in w[1:]:
        kernels = [
            sum(signal.convolve2d(k, layer[o, i], mode="full") for i, k in enumerate(kernels))
            for o in range(layer.shape[0])
        ]
    paths = kernels[0]
    np.testing.assert_allclose(demo.composed.numpy(), paths, rtol=1e-4, atol=1e-5)
    assert demo.field == 2 * depth + 1 == paths.shape[0]
    ref = signal.correlate2d(photo.double().numpy(), paths, mode="valid")
    np.testing.assert_allclose(demo.linear.numpy(), ref, rtol=1e-4, atol=1e-4)
    assert demo.linear_error < 1e-4


def test_relu_stack_matches_torch_modules_and_no_single_kernel_reaches_it(photo):
    demo = kd.stack_on_image(photo, depth=2, mid_channels=4, seed=0)
    ref = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.ReLU(), nn.Conv2d(4, 1, 3, bias=False))
    with torch.no_grad():
        ref[0].weight.copy_(demo.weights[0])
        ref[2].weight.copy_(demo.weights[1])
        torch.testing.assert_close(demo.stacked, ref(photo[None, None])[0, 0])
    assert demo.unexplained > 0.05
    # the fit is the least-squares one: NumPy's solver on the same patches agrees
    patches = np.lib.stride_tricks.sliding_window_view(photo.double().numpy(), (5, 5))
    a = np.c_[patches.reshape(-1, 25), np.ones(patches.shape[0] * patches.shape[1])]
    coef, *_ = np.linalg.lstsq(a, demo.stacked.double().numpy().ravel(), rcond=None)
    np.testing.assert_allclose(demo.best_kernel.numpy(), coef[:25].reshape(5, 5), atol=1e-4)


def test_best_single_kernel_recovers_a_known_kernel():
    image = _noise(40, 36, seed=7)
    k = kd.random_kernel(5, seed=2)
    target = torch.from_numpy(signal.correlate2d(image.numpy(), k.numpy(), mode="valid")) + 0.3
    kernel, bias, fitted, unexplained = kd.best_single_kernel(image, target.float(), 5)
    torch.testing.assert_close(kernel, k, atol=1e-4, rtol=1e-4)
    assert bias == pytest.approx(0.3, abs=1e-4)
    assert unexplained < 1e-5


@pytest.mark.parametrize("hidden", [0, 5])
def test_one_by_one_conv_is_a_linear_layer_per_pixel(hidden):
    maps = torch.randn((8, 13, 11), generator=torch.Generator().manual_seed(4))
    mlp = kd.pixel_mlp(maps, 3, hidden=hidden, seed=9)
    ref = maps
    for i, layer in enumerate(mlp.layers):  # by hand: a matrix times every pixel's vector
        ref = (
            torch.einsum("oc,chw->ohw", layer.weight.detach(), ref)
            + layer.bias.detach()[:, None, None]
        )
        if i < len(mlp.layers) - 1:
            ref = ref.clamp_min(0)
    torch.testing.assert_close(mlp.conv_out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mlp.linear_out, ref, atol=1e-5, rtol=1e-5)
    assert mlp.max_abs_diff == float((mlp.conv_out - mlp.linear_out).abs().max()) < 1e-5
    dims = [8, hidden, 3] if hidden else [8, 3]
    assert mlp.parameters == sum(a * b + b for a, b in zip(dims[:-1], dims[1:], strict=True))
    assert len(mlp.layers) == (2 if hidden else 1)


@pytest.mark.parametrize("name", ["gaussian", "sobel x", "sobel y", "box blur"])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_separable_kernels_are_exactly_1xn_then_nx1(photo, name, n):
    sep = kd.separability(photo, make_kernel(name, n))
    assert sep.rank == 1
    assert sep.rank1_error < 1e-6
    ref = signal.correlate2d(photo.double().numpy(), make_kernel(name, n).double().numpy(), "same")
    np.testing.assert_allclose(sep.full_out.numpy(), ref, atol=1e-5)
    assert sep.max_abs_diff < 1e-5 * max(1.0, float(sep.full_out.abs().max()))


@pytest.mark.parametrize("n", [3, 5, 7])
def test_generic_kernel_rank1_error_is_eckart_young(photo, n):
    k = kd.random_kernel(n, seed=n)
    sep = kd.separability(photo, k)
    s = np.linalg.svd(k.double().numpy(), compute_uv=False)
    for r, err in enumerate(sep.rank_errors, start=1):
        assert err == pytest.approx(math.sqrt((s[r:] ** 2).sum() / (s**2).sum()), abs=1e-9)
    assert sep.rank == n and sep.rank1_error > 0.1
    pair = np.outer(sep.column.numpy(), sep.row.numpy())
    assert np.linalg.norm(k.numpy() - pair) / np.linalg.norm(k.numpy()) == pytest.approx(
        sep.rank1_error, rel=1e-4
    )
    ref = signal.correlate2d(photo.double().numpy(), pair, mode="same")
    np.testing.assert_allclose(sep.factorised_out.numpy(), ref, atol=1e-4)
    assert sep.relative_diff > 0.05


@pytest.mark.parametrize(
    "call",
    [
        lambda: kd.separability(torch.rand(16, 16), torch.zeros(3, 3)),
        lambda: kd.separability(torch.rand(16, 16), torch.rand(4, 4)),
        lambda: kd.separability(torch.rand(16, 16), torch.rand(3, 5)),
        lambda: kd.separability(torch.rand(16, 16), torch.tensor([[1.0, float("nan"), 0.0]] * 3)),
        lambda: kd.stack_on_image(torch.rand(16, 16), depth=9),
        lambda: kd.stack_on_image(torch.rand(4, 40), depth=2),
        lambda: kd.stack_on_image(torch.rand(400, 400), depth=2),
        lambda: kd.pixel_mlp(torch.rand(8, 8), 2),
        lambda: kd.pixel_mlp(torch.rand(3, 8, 8), 0),
        lambda: kd.random_kernel(0),
    ],
)
def test_person_caused_factoring_errors(call):
    with pytest.raises(kd.KernelDesignError):
        call()
