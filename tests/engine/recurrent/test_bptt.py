"""Gradients through time against a closed form, central finite differences and torch's modules.

References: a one-unit linear RNN (dL/dh_t = w^(T-1-t)), numerical derivatives of the loss with
respect to each hidden state, nn.LSTM / nn.GRU / nn.RNN run on the same weights, and clipping's
definition (torch.nn.utils.clip_grad_norm_ scales by clip / norm).
"""

import numpy as np
import pytest
import torch
from torch import nn

from engine.recurrent import (
    CARRY_BAND,
    CARRY_FORGET_BIAS,
    CARRY_RADIUS,
    EXPLODED,
    FACTOR_TOLERANCE,
    KINDS,
    MAX_FORGET_BIAS,
    VANISHED,
    BPTTConfigError,
    bptt_problem,
    carry_verdict,
    clip_effect,
    compare_factor,
    geometric_guide,
    gradient_flow,
    gradient_norms,
    norm_verdict,
    per_step_factor,
    recurrent_params,
    resting_gate,
    unroll,
)


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.3])
def test_one_unit_linear_rnn_is_a_power_of_w(radius: float) -> None:
    T = 30
    norms = gradient_norms("rnn", T, 1, radius, nonlinearity="linear")
    np.testing.assert_allclose(norms, radius ** np.arange(T - 1, -1, -1), rtol=1e-12)


def _loss_from(kind: str, params, xs, u, t: int, h: torch.Tensor, c) -> float:
    """L = u · h_{T-1} when the state after step t is (h, c) and steps t+1.. run as usual."""
    if t == len(xs) - 1:
        return float(u @ h)
    hs, _ = unroll(kind, params, xs[t + 1 :], h, c, nonlinearity="tanh")
    return float(u @ hs[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_autograd_norms_match_finite_differences(kind: str) -> None:
    T, hidden, eps = 7, 3, 1e-6
    flow = gradient_flow(kind, T, hidden, 1.2, forget_bias=1.0, seed=4, input_scale=1.0)
    params, xs, u = bptt_problem(kind, T, hidden, 1.2, forget_bias=1.0, seed=4, input_scale=1.0)
    zero = torch.zeros(hidden, dtype=torch.float64)
    hs, cs = unroll(kind, params, xs, zero, zero.clone() if kind == "lstm" else None)
    for t in range(T):
        grad = np.zeros(hidden)
        for j in range(hidden):
            step = torch.zeros(hidden, dtype=torch.float64)
            step[j] = eps
            c = cs[t] if cs else None
            up = _loss_from(kind, params, xs, u, t, hs[t] + step, c)
            down = _loss_from(kind, params, xs, u, t, hs[t] - step, c)
            grad[j] = (up - down) / (2 * eps)
        assert flow.norms[t] == pytest.approx(np.linalg.norm(grad), rel=1e-6, abs=1e-12)
    assert flow.norms[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_unroll_matches_torch_modules(kind: str) -> None:
    params = recurrent_params(kind, 5, 0.9, forget_bias=2.0, seed=1, input_scale=1.0)
    module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](4, 5).double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(params["w_ih"])
        module.weight_hh_l0.copy_(params["w_hh"])
        module.bias_ih_l0.copy_(params["b"])
        module.bias_hh_l0.zero_()
    xs = torch.randn(9, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    zero = torch.zeros(5, dtype=torch.float64)
    hs, _ = unroll(kind, params, xs, zero, zero if kind == "lstm" else None)
    torch.testing.assert_close(torch.stack(hs), module(xs)[0].detach())


def test_spectral_radius_and_forget_bias_are_what_was_asked() -> None:
    params = recurrent_params("lstm", 6, 1.7, forget_bias=4.0)
    for block in params["w_hh"].split(6):
        assert torch.linalg.eigvals(block).abs().max().item() == pytest.approx(1.7)
    assert torch.all(params["b"][6:12] == 4.0) and torch.all(params["b"][:6] == 0)


def test_vanishing_below_one_and_exploding_above() -> None:
    small = gradient_norms("rnn", 60, 16, 0.6)
    large = gradient_norms("rnn", 60, 16, 2.0, nonlinearity="linear")
    assert small[0] < 1e-8 < 1e8 < large[0]


def test_lstm_cell_path_follows_the_forget_bias() -> None:
    open_path = gradient_flow("lstm", 80, 8, 1.0, forget_bias=6.0)
    cut_path = gradient_flow("lstm", 80, 8, 1.0, forget_bias=-6.0)
    assert open_path.cell_norms is not None and open_path.cell_norms.shape == (80,)
    assert open_path.norms[0] > 1e-3 and cut_path.norms[0] < 1e-30
    assert gradient_flow("gru", 5, 3, 1.0).cell_norms is None


def test_clipping_rescales_every_step_alike() -> None:
    flow = gradient_flow("rnn", 40, 8, 1.5, nonlinearity="linear", clip=1.0)
    assert flow.weight_grad_norm > 1.0
    assert flow.clipped_weight_grad_norm == pytest.approx(1.0)
    np.testing.assert_allclose(flow.clipped_norms, flow.norms * (1.0 / flow.weight_grad_norm))
    # the same factor as torch's own clipping of the parameter gradients
    params, xs, u = bptt_problem("rnn", 40, 8, 1.5)
    leaves = [p.requires_grad_() for p in params.values()]
    hs, _ = unroll("rnn", params, xs, torch.zeros(8, dtype=torch.float64), nonlinearity="linear")
    (u @ hs[-1]).backward()
    before = torch.nn.utils.clip_grad_norm_(leaves, 1.0)
    assert float(before) == pytest.approx(flow.weight_grad_norm)
    unclipped = gradient_flow("rnn", 40, 8, 0.5, clip=1e6)
    assert unclipped.clip_scale == 1.0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "transformer"},
        {"T": 0},
        {"T": 10_000},
        {"hidden": 1.5},
        {"spectral_radius": -1.0},
        {"nonlinearity": "sigmoid"},
        {"forget_bias": 100.0},
        {"clip": 0.0},
        {"input_scale": -1.0},
    ],
)
def test_settings_out_of_range_are_person_errors(bad: dict) -> None:
    args = {"kind": "rnn", "T": 10, "hidden": 4, "spectral_radius": 1.0} | bad
    with pytest.raises(BPTTConfigError):
        gradient_flow(**args)


@pytest.mark.parametrize("ratio", [0.3, 0.95, 1.0, 1.7])
def test_per_step_factor_of_a_geometric_sequence_is_its_ratio(ratio: float) -> None:
    T = 40
    norms = 2.5 * ratio ** np.arange(T - 1, -1, -1, dtype=np.float64)  # closed form a·r^(T−1−t)
    assert per_step_factor(norms) == pytest.approx(ratio, rel=1e-12)
    assert per_step_factor(norms, 5, 20) == pytest.approx(ratio, rel=1e-12)
    np.testing.assert_allclose(geometric_guide(ratio, T, end=2.5), norms, rtol=1e-12)


@pytest.mark.parametrize(("start", "stop"), [(0, -1), (0, 30), (10, 59), (3, 4)])
def test_per_step_factor_carries_the_later_norm_back_to_the_earlier_one(start, stop) -> None:
    norms = gradient_norms("rnn", 60, 8, 1.2, nonlinearity="tanh")  # not geometric
    factor = per_step_factor(norms, start, stop)
    last = range(norms.size)[stop]
    assert norms[last] * factor ** (last - start) == pytest.approx(norms[start], rel=1e-9)


def test_per_step_factor_is_zero_or_nan_where_the_curve_is_degenerate() -> None:
    assert per_step_factor(np.array([0.0, 0.5, 1.0])) == 0.0  # the gradient died completely
    for bad in ([np.inf, 1.0, 1.0], [1.0, 1.0, np.nan], [1.0, 1.0, 0.0], [1.0]):
        assert np.isnan(per_step_factor(np.array(bad)))
    assert np.isnan(per_step_factor(np.ones(5), 3, 2))  # no steps in the range


def test_resting_gate_is_the_sigmoid() -> None:
    for bias in (-MAX_FORGET_BIAS, -1.0, 0.0, 3.0, MAX_FORGET_BIAS):
        assert resting_gate(bias) == pytest.approx(float(torch.sigmoid(torch.tensor(bias))))


def test_norm_verdict_on_both_sides_of_each_threshold() -> None:
    assert norm_verdict(VANISHED * 0.99) == "vanished" and norm_verdict(VANISHED * 1.01) == ""
    assert norm_verdict(EXPLODED * 1.01) == "exploded" and norm_verdict(EXPLODED * 0.99) == ""
    assert norm_verdict(0.0) == "zero"
    assert norm_verdict(float("inf")) == "overflowed" and norm_verdict(float("nan")) == "overflowed"


def test_compare_factor_on_both_sides_of_the_tolerance() -> None:
    edge = 0.5 * FACTOR_TOLERANCE * 0.99  # the tolerance is relative to the reference
    assert compare_factor(0.5 + edge, 0.5) == "matches" == compare_factor(0.5 - edge, 0.5)
    assert compare_factor(0.5 + 2 * edge, 0.5) == "above"
    assert compare_factor(0.5 - 2 * edge, 0.5) == "below"
    assert compare_factor(float("nan"), 0.5) == ""
    # a small ρ: 0.041 per step is 0.82 × 0.05, far off ρ's curve after a few dozen steps
    assert compare_factor(0.041, 0.05) == "below" and compare_factor(0.0, 0.0) == "matches"


def test_forget_bias_limit_is_enforced_and_named() -> None:
    gradient_flow("lstm", 5, 4, 1.0, forget_bias=-MAX_FORGET_BIAS)
    with pytest.raises(BPTTConfigError, match=f"{MAX_FORGET_BIAS:g}"):
        gradient_flow("lstm", 5, 4, 1.0, forget_bias=MAX_FORGET_BIAS + 1)


def test_carry_verdict_on_both_sides_of_the_band() -> None:
    e = CARRY_BAND * 0.01
    assert carry_verdict(1 + CARRY_BAND - e) == "carries" == carry_verdict(1 - CARRY_BAND + e)
    assert carry_verdict(1 + CARRY_BAND + e) == "grows"
    assert carry_verdict(1 - CARRY_BAND - e) == "shrinks"
    assert carry_verdict(float("nan")) == "" == carry_verdict(float("inf"))


def test_clip_effect_follows_the_scale() -> None:
    flow = gradient_flow("rnn", 30, 8, 1.5, "linear", clip=1e-3)
    assert flow.clip_scale < 1 and clip_effect(flow.clip_scale) == "rescaled"
    loose = gradient_flow("rnn", 30, 8, 1.5, "linear", clip=flow.weight_grad_norm * 1.01)
    assert loose.clip_scale == 1.0 and clip_effect(loose.clip_scale) == "unchanged"
    assert clip_effect(float("nan")) == "overflowed"


def test_the_carry_settings_carry_and_leaving_them_breaks_it() -> None:
    flow = gradient_flow("lstm", 60, 32, CARRY_RADIUS, forget_bias=CARRY_FORGET_BIAS)
    factor = per_step_factor(flow.cell_norms)
    assert abs(factor - 1) <= CARRY_BAND and carry_verdict(factor) == "carries"
    # close to the direct path: the forget gates' own product
    assert compare_factor(factor, resting_gate(CARRY_FORGET_BIAS)) == "matches"
    strong = gradient_flow("lstm", 60, 32, 1.0, forget_bias=CARRY_FORGET_BIAS)
    assert carry_verdict(per_step_factor(strong.cell_norms)) == "grows"  # the detour through h
    shut = gradient_flow("lstm", 60, 32, CARRY_RADIUS, forget_bias=0.0)
    assert carry_verdict(per_step_factor(shut.cell_norms)) == "shrinks"  # f ≈ 0.5 per step
