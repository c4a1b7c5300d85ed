"""The small summaries the kernel-sizes page states, against hand counts and closed forms."""

from __future__ import annotations

import pytest
import torch

from engine import kernels as kd
from engine.conv import make_kernel


def _noise(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.rand((h, w), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("c", [1, 16, 64])
def test_stack_shares_are_18_over_25_and_27_over_49_of_weights_and_work(c):
    two, five, three, seven = [*kd.stacked_vs_single(c, 9, 9, 2), *kd.stacked_vs_single(c, 9, 9, 3)]
    assert two.share_of(five) == pytest.approx((18 / 25, 18 / 25))  # 2·9·C² vs 25·C²
    assert three.share_of(seven) == pytest.approx((27 / 49, 27 / 49))
    assert [len(d.layers) for d in (two, five, three, seven)] == [2, 1, 3, 1]
    assert [d.layers[0].taps for d in (two, five, three, seven)] == [9, 25, 9, 49]


def test_bottleneck_and_factorised_shares_match_closed_forms():
    direct, reduced = kd.bottleneck_branch(256, 32, 64, 28, 28, 5)
    w = (256 * 32 + 25 * 32 * 64) / (25 * 256 * 64)
    assert reduced.share_of(direct) == pytest.approx((w, w))  # same H·W on both sides
    square, pair = kd.factorised_pair(192, 17, 17, 7)
    assert pair.share_of(square) == pytest.approx((2 / 7, 2 / 7))
    assert kd.Conv(4, (1, 7)).taps == 7


@pytest.mark.parametrize("name", ["gaussian", "sobel x", "random"])
def test_pair_kernel_is_the_outer_product_of_the_factors(name):
    kernel = kd.random_kernel(5) if name == "random" else make_kernel(name, 5, 30.0)
    sep = kd.separability(_noise(20, 20), kernel)
    expected = sep.column[:, None] * sep.row[None, :]  # broadcasting, not torch.outer
    torch.testing.assert_close(sep.pair_kernel, expected)
    residual = torch.linalg.matrix_norm(sep.kernel.double() - sep.pair_kernel.double())
    rel = float(residual / torch.linalg.matrix_norm(sep.kernel.double()))
    assert rel == pytest.approx(sep.rank1_error, abs=1e-5)


@pytest.mark.parametrize("layers", [1, 4, 9])
def test_drift_summary_reads_the_last_layer_of_each_kernel(layers):
    drift = kd.centroid_drift(_noise(30, 40, seed=3).double(), layers)
    moved = kd.drift_summary(drift)
    odd, even = kd.DRIFT_KERNELS
    assert moved.layers == layers
    assert moved.even_shift == pytest.approx((-0.5 * layers, -0.5 * layers))
    assert moved.even_per_layer == pytest.approx((-0.5, -0.5))
    assert moved.odd_largest == pytest.approx(0.0, abs=1e-9)
    assert moved.odd_largest == float(drift[odd][-1].abs().max())


def test_drift_summary_takes_the_even_kernel_by_name_not_position():
    shifts = {
        "2×2 average (even)": torch.tensor([[0.0, 0.0], [-0.5, -0.5], [-1.0, -1.0]]),
        "3×3 binomial (odd)": torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.25, -0.5]]),
    }
    moved = kd.drift_summary(shifts)
    assert moved.even_shift == (-1.0, -1.0)
    assert moved.odd_largest == 0.5
