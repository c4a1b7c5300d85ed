"""The unrolled-RNN readings against closed forms and torch's own nn.RNN.

References: the weight-count formula H·H + H·I + 2H and T·(H·I + 2H) + (T − 1)·H·H, the RNN
equation h_t = f(W h_{t-1} + U x_t + b) written with the module's weights, and torch's
bidirectional nn.RNN run on the original and the perturbed input.
"""

import numpy as np
import pytest
import torch
from torch import nn

from engine.recurrent import (
    MOVED,
    TANH_SATURATED,
    PerturbationResponse,
    RecurrentConfigError,
    make_rnn,
    perturbation_response,
    rnn_trace,
    saturated_share,
    step_terms,
    unmoved_reason,
    weight_counts,
)


@pytest.mark.parametrize(("inputs", "hidden", "steps"), [(1, 3, 4), (4, 3, 5), (2, 7, 1)])
def test_weight_counts_match_the_closed_form(inputs: int, hidden: int, steps: int) -> None:
    rnn = make_rnn(inputs, hidden)
    distinct, uses = weight_counts(rnn, steps)
    assert distinct == hidden * hidden + hidden * inputs + 2 * hidden
    assert uses == steps * (hidden * inputs + 2 * hidden) + (steps - 1) * hidden * hidden


def test_weight_counts_without_biases() -> None:
    rnn = nn.RNN(2, 3, bias=False)
    assert weight_counts(rnn, 4) == (3 * 3 + 3 * 2, 4 * 3 * 2 + 3 * 3 * 3)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_terms_rebuild_the_rnn_equation(nonlinearity: str) -> None:
    rnn = make_rnn(3, 4, nonlinearity, seed=2, scale=1.5)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    trace = rnn_trace(rnn, x)
    W, U = rnn.weight_hh_l0.detach().numpy(), rnn.weight_ih_l0.detach().numpy()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    f = np.tanh if nonlinearity == "tanh" else lambda v: np.maximum(v, 0)
    h_prev = np.zeros(4)
    for t in range(6):
        terms = step_terms(rnn, trace, t)
        np.testing.assert_allclose(terms.previous, h_prev, atol=1e-6)
        np.testing.assert_allclose(terms.recurrent, W @ h_prev, atol=1e-5)
        np.testing.assert_allclose(terms.input, U @ x[t].numpy(), atol=1e-5)
        np.testing.assert_allclose(terms.bias, b, atol=1e-6)
        np.testing.assert_allclose(
            terms.pre_activation, W @ h_prev + U @ x[t].numpy() + b, atol=1e-5
        )
        np.testing.assert_allclose(terms.hidden, f(terms.pre_activation), atol=1e-5)
        assert terms.input_norm == pytest.approx(float(np.linalg.norm(U @ x[t].numpy())), rel=1e-5)
        h_prev = terms.hidden


def test_saturated_share_on_both_sides_of_the_level() -> None:
    h = np.array([[TANH_SATURATED + 0.001, TANH_SATURATED - 0.001], [-1.0, 0.0]])
    assert saturated_share(h, "tanh") == 2 / 4
    assert saturated_share(h, "relu") == 0.0


def test_perturbation_response_matches_torch_and_is_causal() -> None:
    brnn = make_rnn(2, 3, bidirectional=True, seed=1)
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(3))
    response = perturbation_response(brnn, x, 3, 0.5)
    x2 = x.clone()
    x2[3] += 0.5
    with torch.no_grad():
        before, after = brnn(x)[0].numpy(), brnn(x2)[0].numpy()  # (T, 2H) from torch
    np.testing.assert_allclose(response.forward, before[:, :3], atol=1e-6)
    np.testing.assert_allclose(response.backward, before[:, 3:], atol=1e-6)
    np.testing.assert_allclose(response.forward_change, after[:, :3] - before[:, :3], atol=1e-6)
    np.testing.assert_allclose(response.backward_change, after[:, 3:] - before[:, 3:], atol=1e-6)
    changed = np.abs(after - before).T > MOVED
    np.testing.assert_array_equal(response.changed, changed)
    assert response.forward_moved.tolist() == [False] * 3 + [True] * 4
    assert response.backward_moved.tolist() == [True] * 4 + [False] * 3
    assert response.moved_anywhere.all()
    assert response.forward_is_causal and response.backward_is_causal
    np.testing.assert_allclose(
        response.forward_norms, np.linalg.norm(after[:, :3] - before[:, :3], axis=1), atol=1e-6
    )


def test_no_change_moves_nothing_and_bad_positions_are_refused() -> None:
    brnn = make_rnn(1, 2, bidirectional=True)
    x = torch.ones(4, 1)
    response = perturbation_response(brnn, x, 0, 0.0)
    assert not response.moved_anywhere.any() and not response.changed.any()
    for bad in (-1, 4, True, 1.0):
        with pytest.raises(RecurrentConfigError):
            perturbation_response(brnn, x, bad, 1.0)


def test_has_past_is_false_only_without_a_recurrent_term() -> None:
    rnn = make_rnn(1, 3, seed=0)
    x = torch.ones(3, 1)
    trace = rnn_trace(rnn, x)
    assert not step_terms(rnn, trace, 0).has_past  # h_0 = 0
    assert step_terms(rnn, trace, 1).has_past
    still = make_rnn(1, 3, seed=0, scale=0.0)  # W = 0: nothing from before
    assert not step_terms(still, rnn_trace(still, x), 2).has_past


def test_unmoved_reason_names_the_cause_that_applies() -> None:
    tanh = make_rnn(1, 2, bidirectional=True, seed=0)
    relu = make_rnn(1, 2, "relu", bidirectional=True, seed=0)
    still = make_rnn(1, 2, "relu", bidirectional=True, seed=0, scale=0.0)  # U = W = 0
    cut = make_rnn(1, 2, bidirectional=True, seed=0)
    with torch.no_grad():
        cut.weight_hh_l0.zero_()
        cut.weight_hh_l0_reverse.zero_()
    assert unmoved_reason(tanh, 0.0) == "δ = 0 changes nothing"
    assert unmoved_reason(still, 1.0).startswith("with U = 0")
    assert unmoved_reason(cut, 1.0).startswith("with W = 0")
    assert unmoved_reason(relu, 1.0).startswith("ReLU outputs 0")
    assert unmoved_reason(tanh, 1.0).startswith("where tanh is saturated")
    saturated = unmoved_reason(tanh, 1.0)
    assert saturated == f"where tanh is saturated it flattens the change below {MOVED:g}"
    assert saturated.template.endswith("below {moved}") and saturated.params == {
        "moved": f"{MOVED:g}"
    }
    # and the causes really hold: U = 0 moves nothing, W = 0 moves only the changed step
    x = torch.ones(5, 1)
    assert not perturbation_response(still, x, 2, 1.0).moved_anywhere.any()
    moved = perturbation_response(cut, x, 2, 1.0).moved_anywhere.tolist()
    assert moved == [False, False, True, False, False]


def test_causality_flags_catch_a_move_on_the_wrong_side() -> None:
    still, moved = np.zeros((4, 2)), np.zeros((4, 2))
    moved[0] = 1.0  # a change at step 0, before the perturbed step 2
    early = PerturbationResponse(2, still, still, moved, still, MOVED)
    assert not early.forward_is_causal and early.backward_is_causal
    late = PerturbationResponse(2, still, still, still, moved[::-1], MOVED)  # step 3, after it
    assert early.backward_is_causal and not late.backward_is_causal and late.forward_is_causal
