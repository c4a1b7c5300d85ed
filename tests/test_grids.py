"""ui/grids colour scales: maps that are never negative get a sequential scale from zero."""

from __future__ import annotations

import numpy as np

from ui.figures import DIVERGING
from ui.grids import SEQUENTIAL, map_mosaic, value_scale


def _scales(fig) -> list[tuple]:
    return [(t.colorscale, t.zmin, t.zmax) for t in fig.data]


def test_value_scale_picks_by_sign():
    relu = np.array([[0.0, 2.0], [0.5, 0.0]])
    assert value_scale(relu) == (SEQUENTIAL, 0.0, 2.0)
    assert value_scale(relu - 1) == (DIVERGING, -1.0, 1.0)
    assert value_scale(np.zeros((2, 2))) == (SEQUENTIAL, 0.0, 1.0)  # no division by zero later
    assert value_scale([relu, np.array([[np.nan, -3.0]])]) == (DIVERGING, -3.0, 3.0)


def test_mosaic_of_non_negative_maps_is_sequential_from_zero():
    maps = np.stack([np.full((3, 3), 1.0), np.arange(9.0).reshape(3, 3)])
    fig = map_mosaic(maps, ["a", "b"])
    sequential = tuple(tuple(stop) for stop in SEQUENTIAL)
    assert _scales(fig) == [(sequential, 0.0, 1.0), (sequential, 0.0, 8.0)]
    assert [z[1:] for z in _scales(map_mosaic(maps, ["a", "b"], shared_scale=True))] == [
        (0.0, 8.0),
        (0.0, 8.0),
    ]
    # No placeholder colours that Streamlit's theme would swap for its palette (#000001..#000010)
    assert not any(c.startswith("#0000") and c != "#000000" for _, c in SEQUENTIAL)


def test_signed_mosaic_stays_diverging_and_centred_even_for_its_non_negative_maps():
    maps = [np.array([[-2.0, 1.0]]), np.array([[0.0, 4.0]])]
    scales = _scales(map_mosaic(maps, ["conv", "relu"]))
    assert [s[1:] for s in scales] == [(-2.0, 2.0), (-4.0, 4.0)]
    shared = _scales(map_mosaic(maps, ["conv", "relu"], shared_scale=True))
    assert [s[1:] for s in shared] == [(-4.0, 4.0), (-4.0, 4.0)]
    grey = _scales(map_mosaic(maps, ["conv", "relu"], signed=False))
    assert [s[1:] for s in grey] == [(-2.0, 1.0), (0.0, 4.0)]
    gray = map_mosaic(maps, ["a", "b"], signed=False).data[0].colorscale
    assert gray == map_mosaic(maps, ["a", "b"], signed=False).data[1].colorscale
    assert gray[0][1] == "rgb(0, 0, 0)" and gray[-1][1].startswith("rgb(25")  # black to white
