"""The page's field geometry against gradient probes, slicing by hand and closed forms."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine.receptive_field import (
    ERF_LEVEL,
    ReceptiveFieldError,
    centre_crop,
    doubling_dilations,
    erf_share,
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
