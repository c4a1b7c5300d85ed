"""Each backward step as upstream × local derivative, the settings check, and sweeps on any data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.autodiff import (
    PARAMETERS,
    AutodiffInputError,
    backward_steps,
    check_inputs,
    dataflow_graph,
    finite_difference_errors,
)


def _settings():
    rng = np.random.default_rng(11)
    yield dict(w1=0.7, b1=-0.2, w2=1.3, b2=0.1), (0.5, -1.0), (0.8, 0.2)
    for n in (1, 3, 4):
        params = dict(zip(PARAMETERS, rng.uniform(-2, 2, 4).tolist(), strict=True))
        yield params, tuple(rng.uniform(-3, 3, n)), tuple(rng.uniform(-1, 1, n))


def _torch_gradients(params, x, t) -> dict[str, float]:
    """The model written out by hand, differentiated by torch.autograd.grad."""
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()
    }
    xs, ts = torch.tensor(x, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
    y = leaves["w2"] * torch.tanh(leaves["w1"] * xs + leaves["b1"]) + leaves["b2"]
    loss = ((y - ts) ** 2).mean()
    grads = torch.autograd.grad(loss, [leaves[k] for k in PARAMETERS])
    return {k: float(g) for k, g in zip(PARAMETERS, grads, strict=True)}


@pytest.mark.parametrize(("params", "x", "t"), list(_settings()))
def test_local_derivatives_are_the_textbook_ones(params, x, t):
    xs, ts = np.array(x), np.array(t)
    a = np.tanh(params["w1"] * xs + params["b1"])
    r = params["w2"] * a + params["b2"] - ts
    ones = np.ones_like(xs)
    expected = {
        "s": ones / xs.size,
        "r": 2 * r,
        "y": ones,
        "b2": ones,
        "v": ones,
        "w2": a,
        "a": params["w2"] * ones,
        "z": 1 - a**2,
        "u": ones,
        "b1": ones,
        "w1": xs,
    }
    steps = {s.node: s for s in backward_steps(params, x, t)}
    assert steps["L"].via is None and steps["L"].local is None and steps["L"].value == (1.0,)
    for name, local in expected.items():
        np.testing.assert_allclose(steps[name].local, local, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("params", "x", "t"), list(_settings()))
def test_upstream_times_local_is_the_gradient(params, x, t):
    steps = backward_steps(params, x, t)
    grads = {s.node: np.array(s.value) for s in steps}
    reference = _torch_gradients(params, x, t)
    for step in steps[1:]:
        np.testing.assert_allclose(step.upstream, grads[step.via], rtol=0, atol=0)
        product = np.array(step.upstream) * np.array(step.local)
        assert step.summed == (step.node in PARAMETERS)
        if step.summed:
            assert step.value[0] == pytest.approx(product.sum(), rel=1e-12, abs=1e-15)
            assert step.value[0] == pytest.approx(reference[step.node], rel=1e-12, abs=1e-15)
        else:
            np.testing.assert_allclose(step.value, product, rtol=1e-12, atol=1e-15)


def test_the_graph_names_what_each_node_saved_for_backward():
    saved = {n.id: set(n.saved) for n in dataflow_graph().nodes}
    assert saved["u"] == saved["v"] == {"self", "other"}  # a product needs both factors
    assert saved["a"] == {"result"}  # tanh' = 1 − tanh²: the output is enough
    assert saved["w1"] == saved["x"] == set()


def test_check_inputs_returns_floats_or_says_what_is_wrong():
    params, x, t = check_inputs({"w1": 1, "b1": 0, "w2": 2, "b2": -1}, [3], [0.5])
    assert params == {"w1": 1.0, "b1": 0.0, "w2": 2.0, "b2": -1.0}
    assert x == (3.0,) and t == (0.5,) and all(type(v) is float for v in x + t)
    for kwargs in (
        {"params": {"w1": "abc", "b1": 0, "w2": 0, "b2": 0}},
        {"x": ("one",), "t": (0,)},
        {"x": (float("inf"),), "t": (0,)},
        {"x": (1,), "t": (101,)},
    ):
        with pytest.raises(AutodiffInputError):
            check_inputs(**kwargs)


def test_sweep_uses_the_given_data():
    params, x, t = dict(w1=-1.5, b1=0.3, w2=0.8, b2=-0.4), (2.0, -0.5, 1.0), (1.0, 0.0, -1.0)
    h = 1e-3
    xs, ts = np.array(x), np.array(t)

    def loss(w1: float) -> float:
        y = params["w2"] * np.tanh(w1 * xs + params["b1"]) + params["b2"]
        return float(np.mean((y - ts) ** 2))

    central = (loss(params["w1"] + h) - loss(params["w1"] - h)) / (2 * h)
    expected = abs(central - _torch_gradients(params, x, t)["w1"])
    (got,) = finite_difference_errors("w1", (h,), params, x, t)
    assert got[0] == h and got[1] == pytest.approx(expected, rel=1e-6)
    assert got[1] != pytest.approx(finite_difference_errors("w1", (h,), params)[0][1], rel=1e-3)
