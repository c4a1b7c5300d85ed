"""The tiny model's dataflow graph, its forward and backward steps, and three ways to a gradient."""

from __future__ import annotations

import numpy as np
import pytest

from engine.autodiff import (
    PARAMETERS,
    AutodiffInputError,
    backward_steps,
    dataflow_graph,
    finite_difference_errors,
    forward_steps,
    gradient_table,
)


def _settings():
    rng = np.random.default_rng(7)
    yield None, None, None
    for n in (1, 3, 4):
        params = dict(zip(PARAMETERS, rng.uniform(-2, 2, 4).tolist(), strict=True))
        yield params, tuple(rng.uniform(-3, 3, n)), tuple(rng.uniform(-1, 1, n))


@pytest.mark.parametrize(("params", "x", "t"), list(_settings()))
def test_autodiff_equals_symbolic_equals_finite_differences(params, x, t):
    rows = gradient_table(params, x, t)
    assert [r.parameter for r in rows] == list(PARAMETERS)
    for row in rows:
        assert row.autodiff == pytest.approx(row.symbolic, rel=1e-12, abs=1e-12)
        assert row.finite_difference == pytest.approx(row.autodiff, rel=1e-6, abs=1e-8)
        assert row.fd_abs_error == pytest.approx(abs(row.finite_difference - row.autodiff))
        assert row.symbolic_latex.startswith(r"\frac{2}{N}")


def test_graph_holds_the_recorded_ops_and_the_actual_numbers():
    graph = dataflow_graph()
    ops = {n.id: n.op for n in graph.nodes}
    assert {ops[k] for k in PARAMETERS} == {"AccumulateGrad"}
    assert [ops[k] for k in "uzavyrsL"] == [
        "MulBackward0",
        "AddBackward0",
        "TanhBackward0",
        "MulBackward0",
        "AddBackward0",
        "SubBackward0",
        "PowBackward0",
        "MeanBackward0",
    ]
    recorded = {(e.source, e.target) for e in graph.edges if e.from_autograd}
    assert recorded == {
        ("w1", "u"),
        ("u", "z"),
        ("b1", "z"),
        ("z", "a"),
        ("a", "v"),
        ("w2", "v"),
        ("v", "y"),
        ("b2", "y"),
        ("y", "r"),
        ("r", "s"),
        ("s", "L"),
    }
    assert {(e.source, e.target) for e in graph.edges if not e.from_autograd} == {
        ("x", "u"),
        ("t", "r"),
    }
    node = {n.id: n for n in graph.nodes}
    x, t = np.array([0.5, -1.0]), np.array([0.8, 0.2])
    a = np.tanh(0.7 * x - 0.2)
    y = 1.3 * a + 0.1
    np.testing.assert_allclose(node["a"].value, a)
    assert graph.loss == pytest.approx(np.mean((y - t) ** 2)) == node["L"].value[0]
    np.testing.assert_allclose(node["z"].grad, np.array(node["a"].grad) * (1 - a**2))
    np.testing.assert_allclose(node["s"].grad, [0.5, 0.5])
    assert node["x"].grad is None and node["L"].grad == (1.0,)


def test_backward_order_runs_from_the_loss_against_the_edges():
    graph = dataflow_graph()
    order = graph.backward_order
    assert order[0] == "L" and set(order) == {n.id for n in graph.nodes} - {"x", "t"}
    for edge in graph.edges:
        if edge.from_autograd:
            assert order.index(edge.target) < order.index(edge.source)
    steps = backward_steps()
    assert [s.node for s in steps] == list(order)
    assert dict((s.node, s.value) for s in steps)["w1"] == {n.id: n.grad for n in graph.nodes}["w1"]


def test_forward_steps_in_execution_order_with_numbers():
    steps = forward_steps()
    assert [s.node for s in steps] == list("uzavyrsL")
    assert steps[0].rule == "u = w1·x = 0.7 · [0.5, −1] = [0.35, −0.7]"
    assert steps[1].rule.startswith("z = u + b1 = [0.35, −0.7] + (−0.2) = ")
    assert steps[-1].value == (dataflow_graph().loss,)


def test_finite_differences_trade_truncation_for_rounding():
    assert dict(finite_difference_errors("w2"))[1e-1] < 1e-12  # L is quadratic in w2: exact
    errors = dict(finite_difference_errors("w1"))
    assert errors[1e-1] > 1e-5  # truncation: the error falls like h²
    assert errors[1e-5] < 1e-9
    assert errors[1e-13] > 100 * errors[1e-5]  # rounding: it grows again as h shrinks


@pytest.mark.parametrize(
    "kwargs",
    [
        {"params": {"w1": float("nan"), "b1": 0, "w2": 1, "b2": 0}},
        {"params": {"w1": 1}},
        {"x": (1, 2), "t": (1,)},
        {"x": (1,) * 5, "t": (1,) * 5},
        {"x": (), "t": ()},
        {"x": (1e6,), "t": (0,)},
    ],
)
def test_bad_inputs_raise(kwargs):
    with pytest.raises(AutodiffInputError):
        dataflow_graph(**kwargs)
    with pytest.raises(AutodiffInputError):
        gradient_table(**kwargs)


def test_bad_sweeps_raise():
    with pytest.raises(AutodiffInputError):
        finite_difference_errors("w3")
    with pytest.raises(AutodiffInputError):
        finite_difference_errors("w1", steps=(0.0,))


def test_gradient_sign_follows_the_autodiff_gradient():
    from engine.autodiff import gradient_sign, gradient_table

    for row in gradient_table():
        expected = "positive" if row.autodiff > 0 else "negative" if row.autodiff < 0 else "zero"
        assert gradient_sign(row.autodiff) == expected
    assert [gradient_sign(v) for v in (2.0, -1e-9, 0.0)] == ["positive", "negative", "zero"]
