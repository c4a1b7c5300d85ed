"""Text properties against hand-written answers; unit ranking finds a planted unit; gate statistics.

References: per-character expectations written out by hand, numpy's corrcoef, and traces whose
gate values are set by hand.
"""

import numpy as np
import pytest
import torch

from engine.recurrent import (
    CANDIDATE_SATURATED,
    CELL_BOUND,
    DIALS,
    GATE_OPEN,
    GATE_SHUT,
    INTEGRATOR,
    MIN_CHANGES,
    MOVE_MARGIN,
    OPEN_MARGIN,
    PROPERTIES,
    SWITCHES,
    TIME_LOCKED,
    GRUTrace,
    LSTMTrace,
    average_keep,
    bracket_depth,
    clearest_and_faintest,
    forget_open_claim,
    gate_saturation,
    gate_shares,
    indentation,
    inside_comment,
    inside_quotes,
    integrator_cells,
    kept_after,
    mean_keep,
    mean_open_share,
    mean_step_change,
    most_changing,
    position_in_line,
    rank_units,
    saturated_gate_share,
    scorable_ranking,
    switch_claim,
    text_properties,
    unscorable_reason,
)


def _bits(s: str) -> list[float]:
    return [float(c) for c in s]


def test_inside_quotes_by_hand() -> None:
    text = """a 'b\\'c' "d#" x\n'open\nz"""
    # a _ ' b \ ' c ' | _ | " d # | " | _ x \n | ' o p e n | \n | z   (opening 1, closing 0)
    expected = "00111110" + "0" + "111" + "0" + "000" + "11111" + "0" + "0"
    assert inside_quotes(text).tolist() == _bits(expected)


def test_bracket_depth_by_hand() -> None:
    assert bracket_depth("f(a[1], {b})) x(").tolist() == [
        0,
        1,
        1,
        2,
        2,
        1,
        1,
        1,
        2,
        2,
        1,
        0,
        0,
        0,
        0,
        1,
    ]


def test_position_and_indentation_by_hand() -> None:
    text = "ab\n  cd\n\tx y\n"
    assert position_in_line(text).tolist() == [1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0]
    assert indentation(text).tolist() == [0, 0, 0, 1, 2, 2, 2, 0, 4, 4, 4, 4, 0]


def test_inside_comment_by_hand() -> None:
    text = "x = '#no' # yes\ny  # z"
    expected = "0" * 10 + "1" * 5 + "0" + "000" + "111"
    assert inside_comment(text).tolist() == _bits(expected)
    assert set(text_properties(text)) == set(PROPERTIES)
    assert all(v.shape == (len(text),) for v in text_properties(text).values())


def test_rank_units_finds_a_planted_unit() -> None:
    text = "def f(x):\n    return (x + [1, 2]) # done\n" * 5
    props = text_properties(text)
    noise = np.random.default_rng(0).normal(size=(len(text), 16))
    noise[:, 11] = 0.9 * props["bracket depth"] + 0.1 * noise[:, 11]
    noise[:, 4] = -props["inside a comment"]
    noise[:, 7] = 3.0  # a dead unit
    ranking = rank_units(torch.tensor(noise), props)
    assert ranking["bracket depth"][0][0] == 11 and ranking["bracket depth"][0][1] > 0.9
    assert ranking["inside a comment"][0] == (4, pytest.approx(-1.0))
    r = dict(ranking["position in line"])
    assert r[7] == 0.0  # constant: nothing to correlate
    expected = np.corrcoef(noise[:, 2], props["position in line"])[0, 1]
    assert r[2] == pytest.approx(expected)
    assert len(rank_units(noise, props, top=3)["indentation"]) == 3


def test_rank_units_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="expected"):
        rank_units(np.zeros((5, 2)), {"p": np.zeros(4)})


def test_gate_saturation_and_integrators() -> None:
    T = 10
    forget = torch.full((T, 3), 0.5)
    forget[:, 0] = 0.99  # an integrator
    forget[:8, 1] = 0.05  # left-saturated 80% of the time
    half = torch.full((T, 3), 0.5)
    trace = LSTMTrace(half, forget, half * 0, half, half, half)
    stats = gate_saturation(trace)
    np.testing.assert_allclose(stats["forget"]["right"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(stats["forget"]["left"], [0.0, 0.8, 0.0])
    assert set(stats) == {"input", "forget", "output"}
    assert integrator_cells(trace) == [(0, pytest.approx(0.99))]
    gru = GRUTrace(half, forget, half, half)
    assert set(gate_saturation(gru)) == {"reset", "update"}
    assert [u for u, _ in integrator_cells(gru, threshold=0.4)] == [0, 2]


def _planted_lstm() -> LSTMTrace:
    """Return a 4-step, 2-unit trace with each value set on one side of its threshold."""
    e = 0.01
    i = torch.tensor([[GATE_SHUT - e, GATE_SHUT + e]] * 4)  # half shut
    f = torch.tensor([[GATE_OPEN + e, GATE_OPEN - e], [GATE_OPEN + e, GATE_OPEN + e]] * 2)
    g = torch.tensor([[CANDIDATE_SATURATED + e, -CANDIDATE_SATURATED - e]] * 3 + [[0.0, 0.0]])
    c = torch.tensor([[CELL_BOUND + e, -CELL_BOUND + e]] * 4)
    return LSTMTrace(i, f, g, torch.full((4, 2), 0.5), c, torch.tanh(c))


def test_gate_shares_count_values_on_each_side_of_the_thresholds() -> None:
    trace = _planted_lstm()
    shares = gate_shares(trace)
    assert shares == {
        "forget_open": 6 / 8,
        "input_shut": 4 / 8,
        "candidate_saturated": 6 / 8,
        "cell_beyond": 4 / 8,
    }
    # the shares and the per-unit saturation use the same thresholds: the means agree
    stats = gate_saturation(trace)
    assert float(np.mean(stats["forget"]["right"])) == shares["forget_open"]
    assert float(np.mean(stats["input"]["left"])) == shares["input_shut"]
    assert mean_open_share(stats)["forget"] == shares["forget_open"]


def test_keep_statistics_match_plain_means() -> None:
    forget = torch.rand(50, 6, generator=torch.Generator().manual_seed(0))
    half = torch.full((50, 6), 0.5)
    trace = LSTMTrace(half, forget, half, half, half, half)
    np.testing.assert_allclose(mean_keep(trace), forget.double().mean(0).numpy(), rtol=1e-12)
    assert average_keep(trace) == pytest.approx(float(forget.double().mean()), rel=1e-12)
    gru = GRUTrace(half, forget, half, half)
    np.testing.assert_allclose(mean_keep(gru), mean_keep(trace))


def test_integrator_threshold_on_both_sides() -> None:
    forget = torch.tensor([[INTEGRATOR + 0.001, INTEGRATOR - 0.001]] * 3, dtype=torch.float64)
    half = torch.full((3, 2), 0.5, dtype=torch.float64)
    trace = LSTMTrace(half, forget, half, half, half, half)
    assert [u for u, _ in integrator_cells(trace)] == [0]


def test_kept_after_is_a_repeated_product() -> None:
    kept = 1.0
    for _ in range(100):
        kept *= 0.99
    assert kept_after(0.99, 100) == pytest.approx(kept, rel=1e-12)


def test_mean_step_change_matches_a_loop() -> None:
    h = np.random.default_rng(1).normal(size=(7, 3))
    loop = sum(abs(h[t, u] - h[t - 1, u]) for t in range(1, 7) for u in range(3)) / 18
    assert mean_step_change(h) == pytest.approx(loop, rel=1e-12)
    assert mean_step_change(torch.from_numpy(h)) == pytest.approx(loop, rel=1e-12)
    assert np.isnan(mean_step_change(h[:1]))


def test_clearest_and_faintest_skip_constant_properties() -> None:
    ranking = {
        "a": [(3, -0.8), (1, 0.2)],
        "b": [(0, 0.0), (1, 0.0)],  # constant in the text: no match at all
        "c": [(5, 0.3)],
        "d": [(2, 0.8)],  # ties with a on |r|: the first listed wins
    }
    assert clearest_and_faintest(ranking) == (("a", 3, -0.8), ("c", 5, 0.3))
    assert clearest_and_faintest({"b": [(0, 0.0)]}) is None


def test_one_property_is_never_both_clearest_and_least_clear() -> None:
    # the old answer named "a" as both the clearest and the least clear match
    assert clearest_and_faintest({"a": [(3, 0.9)], "b": [(0, 0.0)]}) == (("a", 3, 0.9), None)


def _with_time_correlation(r: float, steps: int = 200) -> np.ndarray:
    """Return a (steps,) property whose Pearson r with t = 0..steps-1 is exactly r."""
    t = np.arange(steps, dtype=float)
    t = (t - t.mean()) / t.std()
    wiggle = np.sin(np.arange(steps) * 1.7)
    wiggle -= wiggle.mean() + (wiggle @ t) / (t @ t) * t  # orthogonal to t and to constants
    wiggle /= wiggle.std()
    return r * t + np.sqrt(1 - r**2) * wiggle


def test_a_property_that_is_just_time_is_not_scored() -> None:
    single_line = "x = compute(a, b) + other_value * 3"
    assert "rises with time" in unscorable_reason(position_in_line(single_line))
    chinese = "深度学习是机器学习的一个分支" * 5  # all unknown symbols, one line: still the clock
    assert "rises with time" in unscorable_reason(position_in_line(chinese))
    code = "def f(x):\n    return x  # hi\n" * 10  # lines reset the count: not the clock
    for name, prop in text_properties(code).items():
        assert unscorable_reason(prop) is None or name == "inside quotes", name
    above, below = TIME_LOCKED + 0.01, TIME_LOCKED - 0.01
    assert np.corrcoef(_with_time_correlation(above), np.arange(200))[0, 1] == pytest.approx(above)
    assert "rises with time" in unscorable_reason(_with_time_correlation(above))
    assert "falls with time" in unscorable_reason(-_with_time_correlation(above))
    assert unscorable_reason(_with_time_correlation(below)) is None
    rises = unscorable_reason(_with_time_correlation(above))
    assert rises.template.startswith("rises with time (r = {r}")
    assert rises.params == {"r": f"{above:+.2f}"}


def test_a_constant_or_once_changed_property_is_not_scored() -> None:
    assert unscorable_reason(np.full(50, 3.0)) == "never changes in this text"
    step = np.r_[np.zeros(25), np.ones(25)]  # MIN_CHANGES - 1 changes
    assert MIN_CHANGES == 2 and unscorable_reason(step) == "changes only 1 time in this text"
    once = unscorable_reason(step)
    assert (once.template, once.plural, once.params) == (
        "changes only {n} time in this text",
        "changes only {n} times in this text",
        {"n": 1},
    )
    pulse = np.r_[np.zeros(20), np.ones(10), np.zeros(20)]  # MIN_CHANGES changes, not time
    assert unscorable_reason(pulse) is None


def test_scorable_ranking_ranks_only_what_can_be_scored() -> None:
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(50, 4))
    props = {"pulse": np.r_[np.zeros(20), np.ones(10), np.zeros(20)], "clock": np.arange(50.0)}
    ranking, reasons = scorable_ranking(acts, props, top=2)
    assert ranking == rank_units(acts, {"pulse": props["pulse"]}, top=2)
    assert list(reasons) == ["clock"] and "with time" in reasons["clock"]
    assert scorable_ranking(acts, {"flat": np.ones(50)}) == (
        {},
        {"flat": "never changes in this text"},
    )


def test_saturated_gate_share_counts_values_at_either_end() -> None:
    trace = _planted_lstm()
    gates = torch.cat([trace.input_gate, trace.forget_gate, trace.output_gate]).numpy()
    brute = sum(1 for v in gates.ravel() if v < GATE_SHUT or v > GATE_OPEN) / gates.size
    assert saturated_gate_share(trace) == pytest.approx(brute)


def test_switch_claim_on_both_sides_of_each_threshold() -> None:
    e = 1e-3
    assert switch_claim(SWITCHES) == "switches" and switch_claim(SWITCHES - e) is None
    assert switch_claim(DIALS - e) == "dials" and switch_claim(DIALS) is None


def test_forget_open_claim_on_both_sides_of_the_margin() -> None:
    e = 1e-3
    ahead = {"forget": 0.6, "input": 0.6 - OPEN_MARGIN - e, "output": 0.1}
    level = {"forget": 0.6, "input": 0.1, "output": 0.6 - OPEN_MARGIN + e}
    assert forget_open_claim(ahead) and not forget_open_claim(level)


def test_most_changing_needs_a_clear_lead() -> None:
    e = 1e-3
    assert most_changing({"rnn": 0.5 * (1 + MOVE_MARGIN + e), "gru": 0.5, "lstm": 0.1}) == "rnn"
    assert most_changing({"rnn": 0.5 * (1 + MOVE_MARGIN - e), "gru": 0.5, "lstm": 0.1}) is None
    assert most_changing({"rnn": float("nan"), "gru": 0.3}) == "gru"
    assert most_changing({"rnn": float("nan")}) is None
