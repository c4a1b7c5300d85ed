"""The autodiff page's sweep guides, saturation notes and static trace, against closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.autodiff import (
    ANCHOR_STEP,
    CLOSE_FACTOR,
    EPS,
    SATURATED,
    dataflow_graph,
    error_sweep,
    finite_difference_errors,
    same_operations,
    saturation,
    static_graph,
)

H = tuple(float(h) for h in 10.0 ** -np.arange(1.0, 14.01, 0.5))


def test_error_sweep_guides_pass_where_they_should_and_cross_where_they_meet():
    graph = dataflow_graph()
    view = error_sweep(finite_difference_errors("w1", H), graph.loss)
    anchor = int(np.argmin(np.abs(view.h - ANCHOR_STEP)))
    assert view.truncation[anchor] == pytest.approx(view.error[anchor])
    # truncation ∝ h²: ten times smaller h, a hundred times smaller guide
    ratio = view.truncation[:-2] / view.truncation[2:]
    assert np.allclose(ratio, 100)
    assert np.allclose(view.rounding * view.h, EPS * graph.loss)
    # the crossing solves c·h² = ε·L/h
    c = view.truncation[0] / view.h[0] ** 2
    assert c * view.crossing**2 == pytest.approx(EPS * graph.loss / view.crossing)
    assert view.best == int(np.argmin(view.error))
    assert view.rises_again and view.crossing_near_cube_root


def test_error_sweep_drops_exact_zeros_and_returns_none_when_all_are_zero():
    sweep = [(0.1, 1e-3), (0.01, 0.0), (0.001, 1e-7)]
    view = error_sweep(sweep, 0.5)
    assert view.dropped == 1 and list(view.h) == [0.1, 0.001]
    assert error_sweep([(0.1, 0.0), (0.01, 0.0)], 0.5) is None


def test_no_truncation_guide_for_a_quadratic_parameter():
    graph = dataflow_graph()
    view = error_sweep(finite_difference_errors("b2", H), graph.loss)
    assert view is None or (view.truncation is None and view.crossing is None)


def test_truncation_shows_only_beyond_the_margin_over_rounding():
    loss = 1.0
    rounding_at_anchor = EPS * loss / ANCHOR_STEP
    above = error_sweep([(ANCHOR_STEP, 101 * rounding_at_anchor), (1e-9, 1e-6)], loss)
    below = error_sweep([(ANCHOR_STEP, 99 * rounding_at_anchor), (1e-9, 1e-6)], loss)
    assert above.truncation is not None and below.truncation is None


def _with_crossing(crossing: float):
    view = error_sweep([(0.1, 1e-4), (1e-12, 1e-3)], 1.0)
    return dataclasses.replace(view, crossing=crossing)


@pytest.mark.parametrize(
    ("factor", "near"),
    [(CLOSE_FACTOR * 0.99, True), (CLOSE_FACTOR * 1.01, False), (1 / CLOSE_FACTOR * 1.01, True)],
)
def test_crossing_near_cube_root_on_both_sides(factor, near):
    assert _with_crossing(EPS ** (1 / 3) * factor).crossing_near_cube_root is near
    assert _with_crossing(EPS ** (1 / 3) / factor).crossing_near_cube_root is near


def test_rises_again_only_when_the_last_error_is_above_the_best():
    assert error_sweep([(0.1, 1e-3), (1e-5, 1e-9), (1e-12, 1e-4)], 1.0).rises_again
    assert not error_sweep([(0.1, 1e-3), (1e-5, 1e-6), (1e-12, 1e-9)], 1.0).rises_again


@pytest.mark.parametrize(
    ("a", "examples"),
    [
        ((0.5, -SATURATED * 1.001), (2,)),
        ((SATURATED * 0.999, -0.2), None),
        ((1.0, -1.0, 0.3), (1, 2)),
    ],
)
def test_saturation_on_both_sides_of_the_level(a, examples):
    got = saturation(a)
    if examples is None:
        assert got is None
    else:
        assert got.examples == examples
        hit = [abs(a[i - 1]) for i in examples]
        assert got.largest_slope == pytest.approx(max(1 - v * v for v in hit))


def test_static_trace_lists_autograds_operations():
    static = static_graph()
    graph = dataflow_graph()
    ops = [n for n in graph.nodes if n.kind == "op"]
    assert [n.id for n in static] == [n.id for n in ops]
    assert [n.target for n in static] == ["mul", "add", "tanh", "mul", "add", "sub", "pow", "mean"]
    assert same_operations(static, graph)


def test_same_operations_notices_a_different_op_or_input():
    static, graph = static_graph(), dataflow_graph()
    swapped = [dataclasses.replace(static[0], target="add"), *static[1:]]
    rewired = [dataclasses.replace(static[0], inputs=("b1", "x")), *static[1:]]
    assert not same_operations(swapped, graph)
    assert not same_operations(rewired, graph)
    assert not same_operations(static[:-1], graph)
