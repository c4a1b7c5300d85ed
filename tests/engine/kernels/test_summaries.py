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


# --- sentences the page chooses from the fits, the step and the ranks


def _fit(width, any_error, anti_error, any_kernel=None):
    offsets = kd.same_offsets(width)
    kernel = any_kernel or tuple(1.0 for _ in offsets)
    return kd.WidthFit(width, offsets, kernel, any_error, kernel, anti_error)


def test_width_fit_summary_sorts_widths_on_both_sides_of_the_tolerance():
    tol = kd.EXACT_FIT
    fits = [
        _fit(3, 0.0, tol * 0.99),  # centred, just exact
        _fit(5, 0.0, tol),  # centred fit just misses; free one exact: free only
        _fit(2, 0.5, 0.6),  # neither
        _fit(4, tol, 0.7),  # the free fit just misses too
    ]
    got = kd.width_fit_summary(fits)
    assert got.centred_exact == (3,)
    assert got.centred_missed == (5, 2, 4)
    assert [w for w, _ in got.free_only] == [5]


def test_width_fit_summary_on_an_image_matches_the_fits_and_finds_the_empty_taps():
    fits = kd.centred_difference_fits(
        torch.rand(30, 40, generator=torch.Generator().manual_seed(1))
    )
    got = kd.width_fit_summary(fits)
    assert got.centred_exact == (3, 5)  # width 1 cannot reach either neighbour
    assert 1 in got.centred_missed and 3 not in got.centred_missed
    by_width = dict(got.free_only)
    assert set(by_width) == {4, 6}
    for width, used in by_width.items():
        fit = next(f for f in fits if f.width == width)
        # brute force: the taps that carry weight are the centred detector's, at −1 and +1
        weights = dict(zip(fit.offsets, fit.any_kernel, strict=True))
        assert used == (-1, 1)
        assert weights[-1] == pytest.approx(-0.5) and weights[1] == pytest.approx(0.5)
        assert all(abs(weights[o]) < 1e-6 for o in fit.offsets if o not in used)


@pytest.mark.parametrize(
    ("shift", "words"),
    [
        (0.0, "centred on the edge"),
        (kd.CENTRED_SHIFT * 0.99, "centred on the edge"),
        (-kd.CENTRED_SHIFT * 1.01, "to its left"),
        (-0.5, "0.5 px to its left"),
        (0.5, "0.5 px to its right"),
    ],
)
def test_shift_words_on_both_sides_of_the_tolerance(shift, words):
    assert words in kd.shift_words(shift)


def test_step_shifts_are_what_the_page_words_them():
    step = kd.step_responses(16, 8)
    odd, even = kd.STEP_KERNELS
    assert kd.shift_words(step.shift(odd)) == "centred on the edge"
    assert kd.shift_words(step.shift(even)) == "0.5 px to its left"


def test_rank_one_split_agrees_with_numpys_matrix_rank():
    import numpy as np

    image = torch.rand(24, 24, generator=torch.Generator().manual_seed(0))
    bank = {name: make_kernel(name, 5, 30.0) for name in ("box blur", "gaussian", "sobel x")}
    bank |= {"laplacian": make_kernel("laplacian", 5), "random": kd.random_kernel(5)}
    seps = {k: kd.separability(image, v) for k, v in bank.items()}
    ones, others = kd.rank_one_split(seps)
    for name, kernel in bank.items():
        rank = np.linalg.matrix_rank(
            kernel.double().numpy(), tol=1e-6 * float(seps[name].singular_values[0])
        )
        assert (name in ones) == (rank == 1)
    assert ones + others == list(bank)  # every kernel once, in order
    assert "laplacian" in others and "gaussian" in ones


# --- verdicts and words the captions of sections 1, 3 and 4 are chosen by


@pytest.mark.parametrize("depth, small", [(1, 3), (2, 3), (3, 3), (2, 5), (4, 1)])
def test_stacked_field_is_one_plus_depth_times_k_minus_one(depth, small):
    assert kd.stacked_field(depth, small) == 1 + depth * (small - 1)
    assert (
        kd.stacked_vs_single(4, 6, 6, depth, small)[0].receptive_field
        == (kd.stacked_field(depth, small),) * 2
    )


def test_design_verdicts_against_hand_counts():
    two, five = kd.stacked_vs_single(8, 10, 10, 2)
    v = kd.design_verdict(two, five)
    assert (v.same_field, v.extra_relus, v.cheaper) == (True, 1, True)
    assert v.weight_share == pytest.approx(18 / 25) and v.work_share == pytest.approx(18 / 25)
    # the other way round: the big kernel is dearer and has one ReLU fewer
    back = kd.design_verdict(five, two)
    assert (back.cheaper, back.extra_relus) == (False, -1)
    # a bottleneck that widens (16 → 64 → 8) is no saving: weights 16·64 + 25·64·8 vs 25·16·8
    direct, reduced = kd.bottleneck_branch(16, 64, 8, 9, 9, 5)
    wide = kd.design_verdict(reduced, direct)
    assert wide.weight_share == pytest.approx((16 * 64 + 25 * 64 * 8) / (25 * 16 * 8))
    assert not wide.cheaper and wide.same_field
    # a 3×3 against a 5×5 sees a different field
    three = kd.design_cost("3×3", 4, 8, 8, [kd.Conv(4, (3, 3))])
    assert not kd.design_verdict(three, kd.stacked_vs_single(4, 8, 8, 2)[1]).same_field


@pytest.mark.parametrize(
    "share, words",
    [(0.72, "28% less work"), (1.25, "25% more work"), (1.0, "the same work")],
)
def test_share_words_on_both_sides_of_one(share, words):
    assert kd.share_words(share, "work") == words


@pytest.mark.parametrize(
    "extra, words",
    [(1, "one more ReLU"), (2, "2 more ReLUs"), (0, "as many ReLUs"), (-1, "one fewer ReLU")],
)
def test_relu_words_count_the_difference(extra, words):
    assert kd.relu_words(extra) == words


def test_within_rounding_on_both_sides_of_the_threshold():
    values = torch.tensor([2.0, -4.0])
    assert kd.within_rounding(4.0 * kd.ROUNDING * 0.99, values)
    assert not kd.within_rounding(4.0 * kd.ROUNDING * 1.01, values)
    assert kd.within_rounding(0.0, torch.zeros(3))
    assert not kd.within_rounding(1e-9, torch.zeros(3))


def test_relu_matters_on_both_sides_of_the_gain():
    demo = kd.stack_on_image(_noise(24, 24), depth=2)
    assert kd.relu_matters(demo) == (demo.unexplained >= kd.RELU_GAIN)
    assert kd.relu_matters(demo, gain=demo.unexplained)
    assert not kd.relu_matters(demo, gain=demo.unexplained * 1.001)
    # on the page's numbers: the linear stack is its composed kernel to rounding
    assert kd.within_rounding(demo.linear_error, demo.linear)


def test_drift_moves_and_stays_on_both_sides_of_the_still_threshold():
    def summary(even: float, odd: float) -> kd.DriftSummary:
        return kd.DriftSummary(layers=2, even_shift=(even, 0.0), odd_largest=odd)

    still = kd.DRIFT_STILL
    assert summary(-still, 0.0).even_moves and not summary(-0.99 * still, 0.0).even_moves
    assert summary(1.0, 0.99 * still).odd_stays and not summary(1.0, still).odd_stays
