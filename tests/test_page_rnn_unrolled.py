"""The unrolled/bidirectional RNN page in AppTest: defaults, the input rules, widget edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.charts import charts

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "rnn_unrolled.py")


def _run(kind: str | None = None, text: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    if kind is not None:
        at.radio(key="unr_kind").set_value(kind).run()
    if text is not None:
        key = f"unr_text_{kind or 'numbers'}"
        at.text_input(key=key).set_value(text).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _notice(at: AppTest) -> str:
    return [m.value for m in at.markdown if m.value.startswith("**What to notice.**")][-1]


def test_defaults_show_the_graph_and_the_bidirectional_split():
    at = _run()
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value.startswith("Recurrence unrolled")
    assert [m.value for m in at.metric][:2] == ["4", "18"]  # T and 3·3 + 3·1 + 2·3 weights
    assert at.metric[2].value == str(4 * (3 * 1 + 2 * 3) + 3 * (3 * 3))  # U, biases; W from t=2
    notice = _notice(at)
    # x_3 perturbed: forward moves from step 3 on, backward up to step 3, computed
    assert "forward state at steps 3, 4" in notice
    assert "backward state at steps 1, 2, 3" in notice
    assert "As the equations promise, the forward direction moved at no step before 3" in notice
    assert "Unexpectedly" not in notice
    assert len(charts(at)) == 4


def test_characters_are_one_hot_over_their_own_alphabet():
    at = _run("characters", "hello")
    assert not at.error
    assert at.metric[0].value == "5"
    assert at.metric[1].value == str(3 * 3 + 3 * 4 + 2 * 3)  # alphabet e, h, l, o


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a few numbers"),
        ("1, 2, abc, 4", "Entry 3 ('abc') is not a number"),
        ("1, nan, 3", "finite number"),
        ("1, inf", "finite number"),
        ("😀 1 2", "is not a number"),
        (", ".join(["1"] * 100_000), "use at most 12"),
    ],
    ids=["empty", "junk", "nan", "inf", "emoji", "100k"],
)
def test_bad_numbers_give_a_clear_message(text, message):
    at = _run("numbers", text)
    assert at.error and message in at.error[0].value, [e.value for e in at.error]


def test_one_number_still_runs():
    at = _run("numbers", "7")
    assert not at.error
    assert at.metric[0].value == "1"
    assert "every** position" in _notice(at)


@pytest.mark.parametrize("text", ["   ", ""])
def test_blank_characters_give_a_message(text):
    at = _run("characters", text)
    assert at.error and "text" in at.error[0].value


def test_long_text_is_cut_with_a_note_and_emoji_are_symbols():
    at = _run("characters", "ab😀" * 50_000)
    assert not at.error
    assert any("first 12 of 150,000" in i.value for i in at.info)
    assert at.metric[0].value == "12"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("unr_hidden", 2),
        ("unr_hidden", 4),
        ("unr_scale", 0.0),
        ("unr_scale", 3.0),
        ("unr_act", "relu"),
        ("unr_delta", 0.0),
        ("unr_seed", 9999),
    ],
)
def test_widget_edges(key, value):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    widget = at.selectbox(key=key) if key == "unr_act" else None
    if widget is None:
        widget = at.number_input(key=key) if key == "unr_seed" else at.slider(key=key)
    widget.set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    if key == "unr_delta":
        assert "steps none" in _notice(at) and "δ = 0 changes nothing" in _notice(at)
    if key == "unr_scale" and value == 0.0:  # U = W = 0: only the bias sets the states
        assert "0 of 4 positions: with U = 0 the input never reaches the state" in _notice(at)


def test_step_and_position_pickers_cover_the_ends():
    at = _run()
    at.selectbox(key="unr_step").set_value(0).run()
    at.selectbox(key="unr_pos").set_value(3).run()
    assert not at.exception
    notice = _notice(at)
    assert "forward state at steps 4 " in notice
    assert "backward state at steps 1, 2, 3, 4" in notice


def test_step_note_says_when_nothing_comes_from_before():
    at = _run()
    notes = " ".join(m.value for m in at.markdown)
    assert "Step 4's state mixes its own input" in notes  # the default step, with a past
    at.selectbox(key="unr_step").set_value(0).run()
    notes = " ".join(m.value for m in at.markdown)
    assert "Nothing from before reaches step 1" in notes and "mixes" not in notes
