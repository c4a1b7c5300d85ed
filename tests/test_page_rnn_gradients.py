"""The gradients-through-time page in AppTest: defaults, slider edges, a tiny memory-task run."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    table = at.dataframe[0].value
    assert list(table["network"]) == ["vanilla RNN", "LSTM", "GRU"]
    after = [float(v) for v in table["‖∇θ L‖ after"]]
    before = [float(v) for v in table["‖∇θ L‖ before"]]
    assert all(a <= min(b, 1.0) * 1.001 for a, b in zip(after, before, strict=True))
    assert "clipping multiplied it by" in _notices(at)[1]
    assert at.metric[0].value == "0.9526"  # σ(3)
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
    [("grad_T", 2), ("grad_T", 500), ("grad_rho", 4.0), ("grad_fb", -8.0), ("grad_fb", 8.0),
     ("grad_tau", 10.0)],
)  # fmt: skip
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


def test_a_tiny_memory_run_and_the_work_cap():
    at = _open()
    at.multiselect(key="mem_delays").set_value([1, 3])
    at.select_slider(key="mem_steps").set_value(20)
    at.toggle(key="mem_run").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error and not at.warning
    assert "Accuracy of at least 90% up to" in _notices(at)[-1]
    at.multiselect(key="mem_delays").set_value([]).run()
    assert at.warning and "at least one delay" in at.warning[0].value
    at.multiselect(key="mem_delays").set_value([60, 80, 100])
    at.select_slider(key="mem_steps").set_value(600).run()
    assert at.warning and "over the cap" in at.warning[0].value
