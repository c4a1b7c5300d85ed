"""The LSTM-gates page in AppTest, run standalone: defaults, every input rule, widget edges."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.recurrent import (
    GATE_OPEN,
    GATE_SHUT,
    TIME_LOCKED,
    forget_open_claim,
    gate_saturation,
    gated_beat_vanilla,
    load,
    mean_open_share,
    most_changing,
    rank_units,
    switch_claim,
    text_properties,
    trace_text,
)
from tests.charts import charts
from tests.tables import is_table, numbers, tables
from tests.test_widget_ends import open_lazy_sections

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "lstm_gates.py")
RUNNERS = "runners-up (or why not)"  # the ranking table's last column


def _open() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120).run()


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _typed(at: AppTest, text: str) -> AppTest:
    at.text_area(key="lstm_text").set_value(text).run()
    _clean(at)
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _open()


def test_defaults_show_every_section(page):
    at = page
    _clean(at)
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert at.title[0].value == "LSTM gates on your text"
    headers = [h.value for h in at.header]
    assert any("through a vanilla RNN" in h for h in headers) and len(headers) == 5
    assert int(_metric(at, "Characters traced")) > 300
    assert 0.5 < float(_metric(at, "LSTM bits per character")) < 6.0
    assert not any(m.label.startswith(("GRU", "RNN")) for m in at.metric)  # folded: not computed
    opened = open_lazy_sections(_open())
    for name in ("LSTM", "GRU", "RNN"):
        assert 0.5 < float(_metric(opened, f"{name} bits per character")) < 6.0
    assert _metric(at, "Unknown characters") == "0"
    assert len(at.latex) >= 5
    table = tables(at)[0]
    assert list(table["property"]) == [
        "inside quotes",
        "bracket depth",
        "position in line",
        "indentation",
        "inside a comment",
    ]
    assert all(abs(r) > 0.2 for r in numbers(table["r"]))  # the sample has every property
    assert at.multiselect(key="lstm_units").value  # default units picked from the ranking


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "no text"), ("   \n\t  \n", "only whitespace")],
)
def test_blank_text_gives_a_message_not_a_trace(text, expected):
    at = _typed(_open(), text)
    assert at.error and expected in at.error[0].value
    assert not at.header  # the page stops before any figure


def test_emoji_and_cjk_become_unknown_with_a_count():
    at = _typed(_open(), "x = '猫🐍'  # 日本\nprint(x)\n")
    assert not at.error
    note = at.warning[0].value
    assert "4 characters outside" in note and "unknown symbol" in note
    assert _metric(at, "Unknown characters") == "4"
    table = tables(at)[0].set_index("property")
    assert table.loc["indentation", "best unit"] == "—"  # one flat line: nothing to follow
    assert "never changes" in table.loc["indentation", RUNNERS]
    assert any("'indentation' is not scored: it never changes" in i.value for i in at.info)


def test_only_unknown_characters_still_runs_with_a_warning():
    at = _typed(_open(), "深度学习🙂🙂")
    warnings = " ".join(w.value for w in at.warning)
    assert "6 characters outside" in warnings and "sees only" in warnings
    assert at.header  # the figures still draw, on the unknown symbol


def test_hundred_thousand_characters_are_capped_with_a_note():
    at = _typed(_open(), "def f(x):\n    return x\n" * 4348)  # 100,004 characters
    assert "Only the first 2,000 of 100,004 characters are used." in at.warning[0].value
    assert _metric(at, "Characters traced") == "2,000"
    at.slider(key="lstm_start").set_value(2000 - 120).run()  # the last window
    at.slider(key="lstm_pos").set_value(1999).run()  # the last character: nothing follows
    _clean(at)
    assert any("last character" in c.value for c in at.caption)


def test_one_character_and_short_texts():
    at = _typed(_open(), "x")
    assert _metric(at, "LSTM bits per character") == "—"  # nothing to predict
    assert any("fits in the window" in c.value for c in at.caption)
    _typed(at, "ab")
    assert at.slider(key="lstm_pos").max == 1


def test_windows_line_endings_and_tabs():
    at = _typed(_open(), "if x:\r\n\tprint('a')\r\n")  # CR LF → newline; the stdlib has no tabs
    assert not at.error and _metric(at, "Unknown characters") == "1"
    assert "'\\t'" in at.warning[0].value
    assert _metric(at, "Characters traced") == "18"


def test_html_in_the_text_is_never_rendered_as_html():
    at = _typed(_open(), "<script>alert(1)</script>\n<b>bold</b> & 'x'\n")
    assert not at.error
    assert all("<script>" not in m.value for m in at.markdown)


def test_widget_edges(page):
    at = page
    at.slider(key="lstm_window").set_value(20).run()
    at.slider(key="lstm_start").set_value(at.slider(key="lstm_start").max).run()
    _clean(at)
    at.slider(key="lstm_window").set_value(300).run()  # wider than the sample: no start slider
    _clean(at)
    at.slider(key="lstm_pos").set_value(0).run()
    at.multiselect(key="lstm_units").set_value([]).run()
    assert any("Pick at least one unit" in i.value for i in at.info)
    at.multiselect(key="lstm_units").set_value([0, 1, 2, 125, 126, 127]).run()
    at.radio(key="lstm_state").set_value("hidden").run()
    _clean(at)
    assert not at.error


def _heatmap_steps(at: AppTest, first_panel: str) -> np.ndarray:
    """Return the time steps (x) of the stacked heatmap whose first panel is first_panel."""
    for chart in charts(at):
        first = json.loads(chart.spec)["data"][0]
        if first.get("hovertemplate", "").startswith(first_panel):
            x = first["x"]  # a base64 typed array
            return np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
    raise AssertionError(f"no heatmap starts with {first_panel}")


def test_the_gates_and_the_comparison_each_have_their_own_window():
    at = open_lazy_sections(_typed(_open(), "def f(x):\n    return x + 1\n" * 20))  # 540 chars
    at.slider(key="lstm_cmp_window").set_value(40).run()
    at.slider(key="lstm_cmp_start").set_value(7).run()
    _clean(at)
    np.testing.assert_array_equal(_heatmap_steps(at, "RNN hidden h_t"), np.arange(7, 47))
    np.testing.assert_array_equal(_heatmap_steps(at, "input gate i_t"), np.arange(0, 120))
    at.slider(key="lstm_window").set_value(60).run()
    at.slider(key="lstm_start").set_value(100).run()
    _clean(at)
    np.testing.assert_array_equal(_heatmap_steps(at, "input gate i_t"), np.arange(100, 160))
    np.testing.assert_array_equal(_heatmap_steps(at, "RNN hidden h_t"), np.arange(7, 47))


def test_surprise_notice_and_symbol_count_match_the_engine():
    text = "for i in range(10):\n    print(i)\n"
    at = _typed(_open(), text)
    model = load("lstm")[0]
    bits = trace_text(model, text).surprise_bits()
    easy, hard = int(np.argmin(bits)), int(np.argmax(bits))
    notice = next(m.value for m in at.markdown if "was surest of" in m.value)
    assert f"after character {easy} ({bits[easy]:.3f} bits" in notice
    assert f"after character {hard} ({bits[hard]:.1f} bits" in notice
    assert f"{np.mean(bits < 1):.0%} of your characters" in notice
    symbols = len(model.vocab)
    assert any(f"over the {symbols} symbols" in c.value for c in at.caption)
    assert any(f"costs {np.log2(symbols):.1f} bits" in c.value for c in at.caption)


def test_clearest_cell_sentence_matches_an_independent_ranking(page):
    at = page
    at.radio(key="lstm_state").set_value("cell").run()
    traced = trace_text(load("lstm")[0], at.text_area(key="lstm_text").value)
    ranking = rank_units(traced.trace.cell, text_properties(traced.encoded.text), top=1)
    prop, ((unit, r),) = max(ranking.items(), key=lambda item: abs(item[1][0][1]))
    sentence = next(m.value for m in at.markdown if m.value.startswith("On your text the clearest"))
    assert f"unit {unit} with '{prop}' (r = {r:+.2f})" in sentence


def test_rnn_gru_lstm_notice_matches_the_engine():
    text = "if (a and b):\n    return [x for x in y]\n"
    at = _typed(_open(), text)
    assert not any("update gate plays" in m.value for m in at.markdown)  # folded: not computed
    at = open_lazy_sections(at)
    moves = {}
    for name in ("rnn", "gru", "lstm"):
        hidden = trace_text(load(name)[0], text).trace.hidden.numpy()
        moves[name] = float(np.mean(np.abs(np.diff(hidden, axis=0))))
    update = float(trace_text(load("gru")[0], text).trace.update.mean())
    notice = next(m.value for m in at.markdown if "update gate plays" in m.value)
    for name, value in moves.items():
        assert f"{value:.2f} ({name.upper()})" in notice
    assert f"averages {update:.2f}" in notice
    most = most_changing(moves)  # the claim appears exactly when the numbers give it
    assert ("changes most" in notice) == (most is not None)
    if most is not None:
        assert f"the {most.upper()}'s state changes most" in notice
    cards = {name: load(name)[1]["validation"]["bpc"] for name in ("rnn", "gru", "lstm")}
    assert ("gated models predict better" in notice) == gated_beat_vanilla(cards)


def _table(at: AppTest):
    return tables(at)[0].set_index("property")


def _cells_sentence(at: AppTest) -> str:
    return next(
        (m.value for m in at.markdown if m.value.startswith("On your text the clearest")), ""
    )


def _switched_share(text: str) -> float:
    trace = trace_text(load("lstm")[0], text).trace
    gates = np.concatenate(
        [g.numpy().ravel() for g in (trace.input_gate, trace.forget_gate, trace.output_gate)]
    )
    return float(np.mean((gates < GATE_SHUT) | (gates > GATE_OPEN)))


def test_single_line_position_is_time_and_is_not_scored():
    at = _typed(_open(), "total = compute(alpha, beta) + other_value * 3 + another_one(gamma)")
    row = _table(at).loc["position in line"]
    assert row["r"] == "—" and "rises with time" in row[RUNNERS]
    assert "position in line" not in _cells_sentence(at)
    assert any("'position in line' is not scored: it rises with time" in i.value for i in at.info)
    prose = [m.value for m in at.markdown if not is_table(m.value)]  # the table says why: r = +1
    assert not any("+1.00" in text or "-1.00" in text for text in prose)


def test_all_chinese_text_scores_nothing_and_claims_nothing():
    text = "深度学习是机器学习的一个分支" * 5
    at = _typed(_open(), text)
    table = _table(at)
    assert (table["r"] == "—").all()  # one line of one unknown symbol: nothing varies on its own
    assert "rises with time" in table.loc["position in line", RUNNERS]
    assert "never changes" in table.loc["inside quotes", RUNNERS]  # a constant property
    assert _cells_sentence(at) == ""  # no clearest, no least clear
    assert "none scores here" in at.multiselect(key="lstm_units").label
    notes = " ".join(m.value for m in at.markdown)
    # the gate notes follow the numbers: here neither switches nor dials, forget gates not ahead
    assert switch_claim(_switched_share(text)) is None
    assert "more like switches" not in notes and "more like dials" not in notes
    trace = trace_text(load("lstm")[0], text).trace
    assert not forget_open_claim(mean_open_share(gate_saturation(trace)))
    assert "forget gates sit open more often" not in notes


def test_multi_line_code_is_scored_and_clearest_differs_from_least_clear(page):
    at = page
    at.radio(key="lstm_state").set_value("cell").run()
    table = _table(at)
    assert table.loc["position in line", "r"] != "—"  # lines reset the count: not the clock
    sentence = _cells_sentence(at)
    clearest = sentence.split("with '", 1)[1].split("'", 1)[0]
    least = sentence.split("least clear of the 5 scored is '", 1)[1].split("'", 1)[0]
    assert clearest != least
    assert f"|r| ≥ {TIME_LOCKED:g}" in " ".join(m.value for m in at.markdown)


def test_gate_notes_at_the_defaults_follow_their_numbers(page):
    at = page
    notes = " ".join(m.value for m in at.markdown)
    text = at.text_area(key="lstm_text").value
    share = _switched_share(text)
    assert switch_claim(share) == "switches"
    assert f"{share:.0%} are below {GATE_SHUT:g} or above {GATE_OPEN:g}" in notes
    assert "more like switches than dials" in notes
    trace = trace_text(load("lstm")[0], text).trace
    assert forget_open_claim(mean_open_share(gate_saturation(trace)))
    assert "forget gates sit open more often than the other two" in notes
    assert "crowd the top" not in notes and "Vertical stripes" not in notes
