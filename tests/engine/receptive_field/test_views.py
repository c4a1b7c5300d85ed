"""The page's field geometry against gradient probes, slicing by hand and closed forms."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine.receptive_field import (
    ERF_LEVEL,
    EXTENT_TOLERANCE,
    MOST_EXTENT,
    SMALL_EXTENT,
    ReceptiveFieldError,
    carry_unit,
    centre_crop,
    doubling_dilations,
    erf_change_words,
    erf_extent,
    erf_extent_words,
    erf_share,
    layers_beyond_image,
    middle_spans,
    middle_unit,
    sqrt_guide,
    stack_model,
    stack_rf,
    unit_box,
)

LAYERS = [
    {"kind": "conv", "k": 3, "p": 1},
    {"kind": "avgpool", "k": 2, "s": 2},
    {"kind": "conv", "k": 5, "d": 2, "p": 3},
]


def _probe_box(layers, size: int, unit: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return (top, left, bottom, right) of the pixels one unit's gradient reaches (no ReLU)."""
    model = stack_model(layers, channels=2)
    linear = nn.Sequential(*(m for m in model if not isinstance(m, nn.ReLU))).double()
    with torch.no_grad():
        for p in linear.parameters():
            p.copy_(p.abs() + 0.1)  # positive weights: no cancellation inside the field
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(linear(x)[0, :, unit[0], unit[1]].sum(), x)
    rows = grad[0, 0].abs().sum(1).nonzero().flatten()
    cols = grad[0, 0].abs().sum(0).nonzero().flatten()
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


@pytest.mark.parametrize("unit", [(5, 5), (6, 9), (8, 4)])
def test_unit_box_is_where_the_gradient_reaches(unit):
    size = 48
    row = stack_rf(LAYERS, size)[-1]
    assert _probe_box(LAYERS, size, unit) == unit_box(row, unit)


def test_unit_box_uses_each_axis_own_field():
    layers = [{"kind": "conv", "k": 3, "p": 1}, {"kind": "pool", "k": 2, "s": 2}]
    row = stack_rf(layers, 32)[-1]
    top, left, bottom, right = unit_box(row, (3, 5))
    assert (bottom - top + 1, right - left + 1) == tuple(row.sizes)
    assert (left - top) == 2 * row.jumps[1]  # two units further right, two jumps further


def test_middle_unit_and_spans_follow_the_output_shape():
    rows = stack_rf(LAYERS, 48)
    assert [r.out_shape for r in rows] == [(48, 48), (24, 24), (22, 22)]
    assert [middle_unit(r) for r in rows] == [(24, 24), (12, 12), (11, 11)]
    lows, highs = middle_spans(rows)
    for n, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        i = rows[n].out_shape[0] // 2
        probe = _probe_box(LAYERS[: n + 1], 48, (i, i))
        assert (lo, hi) == (probe[0], probe[2])  # every middle field lies inside the image


@pytest.mark.parametrize(("h", "w"), [(5, 9), (9, 5), (6, 6), (7, 10)])
def test_centre_crop_is_the_middle_square(h, w):
    image = torch.arange(h * w, dtype=torch.float32).reshape(h, w)
    crop = centre_crop(image)
    side = min(h, w)
    assert crop.shape == (side, side)
    top, left = (h - side) // 2, (w - side) // 2
    assert torch.equal(crop, image[top : top + side, left : left + side])
    assert crop[0, 0] == top * w + left
    with pytest.raises(ReceptiveFieldError):
        centre_crop(torch.zeros(2, 3, 4))


def test_erf_share_counts_pixels_above_the_level_on_both_sides():
    peak = 10.0
    erf = np.array([[peak, ERF_LEVEL * peak + 1e-9], [ERF_LEVEL * peak, 0.0]])
    assert erf_share(erf) == pytest.approx(2 / 4)  # exactly at the level does not count
    assert erf_share(torch.ones(3, 3)) == 1.0  # a flat map: every pixel is at the peak
    with pytest.raises(ReceptiveFieldError):
        erf_share(np.zeros((0,)))


def test_sqrt_guide_meets_the_anchor_and_grows_like_the_square_root():
    depths, spreads = [1, 4, 9, 16], [2.0, 3.0, 7.5, 9.0]
    guide = sqrt_guide(depths, spreads, anchor=2)
    assert guide[2] == pytest.approx(7.5)
    assert guide == pytest.approx([2.5, 5.0, 7.5, 10.0])
    with pytest.raises(ReceptiveFieldError):
        sqrt_guide(depths, spreads, anchor=4)


@pytest.mark.parametrize("layers", [1, 3, 6])
def test_doubling_dilations_reach_the_closed_form(layers):
    rows = stack_rf(doubling_dilations(layers), 1024)
    assert rows[-1].size == 2 ** (layers + 1) - 1
    assert [r.out_shape for r in rows] == [(1024, 1024)] * layers  # 'same' padding throughout
    assert math.isclose(rows[-1].jump, 1)


# --- carrying a unit to another layer, and the effective field's extent in words

STACK = [
    {"kind": "conv", "k": 3, "p": 1},
    {"kind": "conv", "k": 3, "p": 1},
    {"kind": "pool", "k": 2, "s": 2},
    {"kind": "conv", "k": 3, "p": 1},
    {"kind": "pool", "k": 2, "s": 2},
    {"kind": "conv", "k": 3, "p": 1},
]


def _centre(row, unit):
    top, left, bottom, right = unit_box(row, unit)
    return (top + bottom) / 2, (left + right) / 2


@pytest.mark.parametrize("pair", [(0, 5), (5, 0), (2, 4), (4, 1), (1, 3)])
@pytest.mark.parametrize("unit", [(0, 0), (3, 7), (10, 2), (15, 15)])
def test_carry_unit_picks_the_nearest_centre_by_brute_force(pair, unit):
    rows = stack_rf(STACK, 64)
    source, target = rows[pair[0]], rows[pair[1]]
    h, w = source.out_shape[-2:]
    unit = (min(unit[0], h - 1), min(unit[1], w - 1))
    c = _centre(source, unit)
    got = carry_unit(source, unit, target)
    th, tw = target.out_shape[-2:]
    # every axis on its own: no target unit's centre is nearer than the chosen one's
    for axis, n in ((0, th), (1, tw)):
        dist = [abs(_centre(target, (i, i))[axis] - c[axis]) for i in range(n)]
        assert dist[got[axis]] == pytest.approx(min(dist))


def test_carry_unit_keeps_the_place_where_the_old_page_kept_the_index():
    rows = stack_rf(STACK, 64)
    fine, coarse = rows[1], rows[-1]  # 64×64 and 16×16
    unit = (40, 12)
    carried = carry_unit(fine, unit, coarse)
    old = (min(unit[0], 15), min(unit[1], 15))  # the old page kept row and column, clamped
    c = np.array(_centre(fine, unit))
    assert np.abs(np.array(_centre(coarse, carried)) - c).max() <= coarse.jump / 2
    assert np.abs(np.array(_centre(coarse, old)) - c).max() > coarse.jump  # jumped elsewhere


def test_carry_unit_round_trip_through_a_finer_layer_returns_the_unit():
    rows = stack_rf(STACK, 64)
    for unit in [(0, 0), (7, 3), (15, 15)]:
        there = carry_unit(rows[-1], unit, rows[0])
        assert carry_unit(rows[0], there, rows[-1]) == unit


def test_erf_extent_counts_the_square_by_brute_force():
    rng = np.random.default_rng(0)
    erf = rng.random((20, 20))
    box = (3.0, -2.0, 12.0, 6.0)  # runs off the left edge: only columns 0..6 count
    peak = erf.max()
    inside = [
        erf[i, j] > ERF_LEVEL * peak
        for i in range(20)
        for j in range(20)
        if 3 <= i <= 12 and j <= 6
    ]
    assert erf_extent(erf, box) == pytest.approx(sum(inside) / len(inside))


def test_erf_extent_is_zero_for_a_map_with_no_gradient():
    assert erf_extent(np.zeros((5, 5)), (0, 0, 4, 4)) == 0.0
    with pytest.raises(ReceptiveFieldError):
        erf_extent(np.ones(5), (0, 0, 4, 4))


@pytest.mark.parametrize(
    ("share", "words"),
    [
        (0.0, "small central blob"),
        (SMALL_EXTENT - 0.01, "small central blob"),
        (SMALL_EXTENT, "part of"),
        (MOST_EXTENT - 0.01, "part of"),
        (MOST_EXTENT, "most of"),
        (0.54, "most of"),  # the trained network on the page: never "a small blob"
        (0.73, "most of"),  # the random one
    ],
)
def test_erf_extent_words_follow_the_share_on_both_sides(share, words):
    assert words in erf_extent_words(share)


def test_erf_extent_words_refuse_a_share_outside_0_1():
    with pytest.raises(ReceptiveFieldError):
        erf_extent_words(1.5)


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        (0.73, 0.54, "narrower"),
        (0.5, 0.5 - EXTENT_TOLERANCE + 0.01, "about as wide"),
        (0.5, 0.5 + EXTENT_TOLERANCE - 0.01, "about as wide"),
        (0.3, 0.5, "wider"),
    ],
)
def test_erf_change_words_on_both_sides_of_the_tolerance(before, after, words):
    assert erf_change_words(before, after) == words


def test_layers_beyond_image_are_those_whose_middle_field_leaves_it():
    rows = stack_rf(STACK, 16)
    names = layers_beyond_image(rows, 16)
    for r in rows:
        top, _, bottom, _ = unit_box(r, middle_unit(r))
        assert (r.name in names) == (top < 0 or bottom > 15)
    assert names  # at 16 px the last 3×3 after two pools sees past the image
    assert layers_beyond_image(stack_rf(STACK[:1], 64), 64) == []
