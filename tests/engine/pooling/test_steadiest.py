"""steadiest: the method that keeps the largest share after a shift, ties included."""

import numpy as np
import pytest
import torch

from engine.pooling import PoolingError, shift_stability, steadiest


def test_steadiest_picks_the_largest_share_at_the_shift():
    curves = {"a": np.array([1.0, 0.4, 0.9]), "b": np.array([1.0, 0.6, 0.2])}
    assert steadiest(curves, 1) == ("b",)
    assert steadiest(curves, 2) == ("a",)
    assert steadiest(curves, 0) == ("a", "b")  # everything is kept unshifted: a tie


def test_steadiest_on_real_curves_is_their_argmax():
    g = np.random.default_rng(0)
    image = torch.tensor(g.random((48, 48)), dtype=torch.float32)
    curves = shift_stability(image, 1)
    best = max(float(c[1]) for c in curves.values())
    assert set(steadiest(curves, 1)) == {m for m, c in curves.items() if float(c[1]) == best}


def test_steadiest_refuses_no_curves():
    with pytest.raises(PoolingError):
        steadiest({}, 1)
