"""The gradients-through-time page in AppTest: defaults, slider edges, a tiny memory-task run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.recurrent import (
    CARRY_BAND,
    CARRY_FORGET_BIAS,
    CARRY_RADIUS,
    EXPLODED,
    FACTOR_TOLERANCE,
    MEMORY_BATCH,
    MEMORY_WORK_CAP,
    VANISHED,
    chance_accuracy,
    gradient_flow,
    memory_task,
    per_step_factor,
    resting_gate,
)
from tests.tables import numbers, tables
from ui.jobs import Job

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "rnn_gradients.py")


def _open() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _notices(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**What to notice.**")]


def test_defaults_show_all_three_networks_and_clipping():
    at = _open()
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Gradients through time"
    first = _notices(at)[0]
    for name in ("vanilla RNN", "LSTM", "GRU"):
        assert name in first
    table = tables(at)[0]
    assert list(table["network"]) == ["vanilla RNN", "LSTM", "GRU"]
    after = numbers(table["‖∇θ L‖ after"])
    before = numbers(table["‖∇θ L‖ before"])
    assert all(a <= min(b, 1.0) * 1.001 for a, b in zip(after, before, strict=True))
    assert "clipping multiplied it by" in _notices(at)[1]
    assert at.metric[0].value == f"{resting_gate(CARRY_FORGET_BIAS):.4f}"
    assert not any("Train" in p.value for p in at.get("progress"))


@pytest.mark.parametrize(
    ("rho", "act", "word"),
    [(0.5, "linear", "vanished"), (3.0, "linear", "exploded"), (0.0, "tanh", "exactly 0")],
)
def test_spectral_radius_makes_gradients_vanish_or_explode(rho, act, word):
    at = _open()
    at.slider(key="grad_T").set_value(100)
    at.selectbox(key="grad_act").set_value(act)
    at.slider(key="grad_rho").set_value(rho).run()
    assert not at.exception and not at.error
    assert f"vanilla RNN {'' if word == 'exactly 0' else ''}" in _notices(at)[0]
    rnn_part = _notices(at)[0].split("vanilla RNN", 1)[1].split(";")[0]
    assert word in rnn_part


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("grad_T", 2),
        ("grad_T", 500),
        ("grad_rho", 4.0),
        ("grad_fb", -8.0),
        ("grad_fb", 8.0),
        ("grad_tau", 10.0),
    ],
)
def test_slider_edges(key, value):
    at = _open()
    if key == "grad_T" and value == 500:
        at.slider(key="grad_rho").set_value(4.0)
        at.selectbox(key="grad_act").set_value("relu")
    at.slider(key=key).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error


def test_clipping_off_and_hidden_edges():
    at = _open()
    at.toggle(key="grad_clip_on").set_value(False)
    at.select_slider(key="grad_hidden").set_value(4).run()
    assert not at.exception
    assert "Clipping is off" in _notices(at)[1]


def _memory_notice(at: AppTest) -> str:
    return next(n for n in _notices(at) if "Accuracy of at least 90%" in n)


def test_a_tiny_memory_run_trains_in_the_background_and_matches_the_engine():
    at = _open()
    assert not any("Accuracy of at least 90%" in n for n in _notices(at))  # nothing trained yet
    at.multiselect(key="mem_delays").set_value([1, 3])
    at.select_slider(key="mem_steps").set_value(20)
    at.slider(key="mem_fb").set_value(2.5)  # settings no other test uses: a fresh run
    at.button(key="mem_train").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = at.session_state["mem_job"]
    assert job.join(90), "the memory job did not finish"
    at.run()
    assert not at.exception and not at.error and not at.warning
    notice = _memory_notice(at)
    expected = {
        k: [memory_task(k, d, 20, 0, hidden=16, forget_bias=2.5) for d in (1, 3)]
        for k in ("rnn", "lstm")
    }
    for kind, name in (("rnn", "vanilla RNN"), ("lstm", "LSTM")):
        assert f"{name} {expected[kind][-1]:.0%}" in notice
        assert job.state().result[kind].tolist() == expected[kind]
    # the result is shared: pressing Train again with the same settings does not retrain
    at.button(key="mem_train").click().run()
    assert at.session_state["mem_job"] is job
    assert any("already trained" in i.value for i in at.info)


def test_memory_stop_keeps_what_finished(monkeypatch):
    report = Job._report

    def stop_after_the_first_run(self, fraction, text, payload=None):
        report(self, fraction, text, payload)
        if payload is not None:  # one run has finished: press Stop now, no polling
            self.stop()

    monkeypatch.setattr(Job, "_report", stop_after_the_first_run)
    at = _open()
    at.multiselect(key="mem_delays").set_value([1, 2, 3, 5, 8, 10])
    at.select_slider(key="mem_steps").set_value(50)
    at.slider(key="mem_fb").set_value(1.5)
    at.checkbox(key="mem_gru").check()
    at.button(key="mem_train").click().run()
    job = at.session_state["mem_job"]
    assert job.join(90)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    state = job.state()
    assert state.status == "stopped"
    done = np.concatenate(list(state.result.values()))
    assert np.isfinite(done).any() and np.isnan(done).any()  # some runs finished, not all
    assert "The run was stopped" in _memory_notice(at)


def test_memory_refuses_empty_and_too_much_work():
    at = _open()
    at.multiselect(key="mem_delays").set_value([])
    at.button(key="mem_train").click().run()
    assert at.warning and "at least one delay" in at.warning[0].value
    at.multiselect(key="mem_delays").set_value([60, 80, 100])
    at.select_slider(key="mem_steps").set_value(600)
    at.button(key="mem_train").click().run()
    assert at.warning and "over the cap" in at.warning[0].value
    assert "mem_job" not in at.session_state


def _lstm_notice(at: AppTest) -> str:
    return next(n for n in _notices(at) if "cell-state gradient" in n)


def _cell_factor(radius: float, forget_bias: float) -> float:
    """Return the LSTM cell gradient's per-step factor, computed by hand from the norms."""
    flow = gradient_flow("lstm", 60, 32, radius, "tanh", forget_bias=forget_bias)
    return float(flow.cell_norms[0] / flow.cell_norms[-1]) ** (1 / 59)


def test_cell_path_note_matches_the_engine_at_zero_radius():
    at = _open()
    at.slider(key="grad_fb").set_value(3.0)
    at.slider(key="grad_rho").set_value(0.0).run()
    assert not at.exception and not at.error
    per_step = _cell_factor(0.0, 3.0)
    assert f"factor of {per_step:.3f}, below 1 − {CARRY_BAND:g}" in _lstm_notice(at)
    assert "close to σ(b_f) = 0.953" in _lstm_notice(at)
    at.slider(key="grad_rho").set_value(1.0).run()
    assert "above σ(b_f) = 0.953: besides the direct path" in _lstm_notice(at)


def test_at_the_defaults_the_lstm_cell_path_carries_and_the_controls_break_it():
    at = _open()
    assert at.slider(key="grad_rho").value == CARRY_RADIUS
    assert at.slider(key="grad_fb").value == CARRY_FORGET_BIAS
    factor = _cell_factor(CARRY_RADIUS, CARRY_FORGET_BIAS)
    assert abs(factor - 1) <= CARRY_BAND  # the old defaults (ρ = 1, b_f = 3) gave 1.065
    notice = _lstm_notice(at)
    assert f"factor of {factor:.3f}, within 1 ± {CARRY_BAND:g}" in notice
    assert "neither vanishes nor explodes" in notice and "follows the direct path" in notice
    at.slider(key="grad_rho").set_value(1.0).run()  # strong recurrent weights: the detour grows
    factor = _cell_factor(1.0, CARRY_FORGET_BIAS)
    assert factor > 1 + CARRY_BAND
    assert f"factor of {factor:.3f}, above 1 + {CARRY_BAND:g}" in _lstm_notice(at)
    assert "explodes here" in _lstm_notice(at) and "neither" not in _lstm_notice(at)
    at.slider(key="grad_rho").set_value(CARRY_RADIUS)
    at.slider(key="grad_fb").set_value(0.0).run()  # the forget gate half shut: it fades
    factor = _cell_factor(CARRY_RADIUS, 0.0)
    assert f"factor of {factor:.3f}, below 1 − {CARRY_BAND:g}" in _lstm_notice(at)
    assert "shrinks at every step back" in _lstm_notice(at)


def test_clipping_note_follows_the_scale_it_applied():
    at = _open()
    rnn = gradient_flow("rnn", 60, 32, CARRY_RADIUS, "tanh", clip=1.0)
    assert rnn.clip_scale < 1
    assert f"clipping multiplied it by {rnn.clip_scale:.3g}" in _notices(at)[1]
    at.slider(key="grad_tau").set_value(10.0).run()  # above the norm: nothing to clip
    assert rnn.weight_grad_norm < 10
    assert "left it unchanged" in _notices(at)[1]
    assert "multiplied" not in _notices(at)[1]


def test_rnn_factor_against_rho_is_chosen_by_the_numbers():
    at = _open()
    rnn = per_step_factor(gradient_flow("rnn", 60, 32, CARRY_RADIUS, "tanh").norms)
    first = _notices(at)[0]
    side = "below" if rnn < CARRY_RADIUS * 0.99 else "matches"
    assert ("lies below ρ" in first) == (side == "below")
    assert side == "below" and "(tanh' ≤ 1, less where saturated)" in first
    # a linear RNN with 4 units: its factor is within the tolerance of ρ
    at.selectbox(key="grad_act").set_value("linear")
    at.select_slider(key="grad_hidden").set_value(4)
    at.slider(key="grad_rho").set_value(1.0).run()
    linear = per_step_factor(gradient_flow("rnn", 60, 4, 1.0, "linear").norms)
    assert abs(linear - 1.0) <= FACTOR_TOLERANCE
    assert "The RNN's factor matches ρ" in _notices(at)[0]


def test_numbers_in_the_text_come_from_the_engine():
    at = _open()
    texts = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert f"Chance is {chance_accuracy():.0%}" in texts
    assert f"batch {MEMORY_BATCH}," in texts and f"at most {MEMORY_WORK_CAP:,}" in texts
    assert f"Below {VANISHED:g} we call it vanished, above {EXPLODED:g} exploded" in texts
    assert "≈" not in " ".join(c.value for c in at.caption)  # no guessed durations
