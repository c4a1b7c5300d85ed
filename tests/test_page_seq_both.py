"""The "your sequence through both" page in AppTest: numbers shown vs independent computations,
bad inputs, text mode, and a tiny synthetic-task run through the background Job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from engine.sequence import (
    NOISE_Z,
    TASK_CHANCE,
    TASK_TEST_SIZE,
    TASKS,
    TaskResult,
    accuracy_noise,
    kmax_over_time,
    swap_sensitivity,
    synthetic_task,
    through_both,
)
from engine.sequence.tasks import TaskPoint
from tests.charts import charts
from tests.tables import number, numbers, tables
from ui.sequence.inputs import EXAMPLES
from ui.sequence.task_runs import verdicts

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "seq_both.py")
DEFAULT = next(iter(EXAMPLES["numbers"].values()))
TEXT = next(iter(EXAMPLES["text"].values()))
FOUR = 5.01e-5  # a number shown to 4 decimals is off by at most half its last digit


LAZY = {  # each lazy section's key and the chart keys drawn inside it
    "open_seqb_summary": {"seqb_kmax", "seqb_final", "seqb_order"},
    "open_seqb_ngrams": {"seqb_ngram", "seqb_strip"},
    "open_seqb_tasks": {f"seqb_examples_{task}" for task in TASKS},
}


def _open(opened=tuple(LAZY)) -> AppTest:
    """Return the page after its first run with the lazy sections in opened open (all of them,
    unless told otherwise: most tests read what is inside)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key in opened:
        at.session_state[key] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _chart_keys(at: AppTest) -> set[str]:
    """Return the user keys of the page's Plotly charts (an element id ends "-<key>")."""
    return {c.key for c in charts(at)}


def test_the_first_visit_draws_both_readers_and_no_folded_section():
    at = _open(opened=())
    assert _chart_keys(at) == {"seqb_cnn", "seqb_rnn"}
    assert not _notices(at)[1:]  # only the first what-to-notice: the step at t
    for key, expected in LAZY.items():
        opened = _open(opened=(key,))
        assert _chart_keys(opened) == {"seqb_cnn", "seqb_rnn"} | expected, key


def _table(at: AppTest, column: str):
    found = [d for d in tables(at) if column in d.columns]
    assert found, f"no table with a column {column!r}"
    return found[0]


def _row(at: AppTest, name: str) -> np.ndarray:
    """Return the numbers of the one-row vector table whose first cell is name."""
    found = [d for d in tables(at) if "vector" in d.columns and list(d["vector"]) == [name]]
    assert found, f"no table with a row {name!r}"
    return np.array(numbers(found[0].iloc[0, 1:]))


def _notices(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**What to notice.**")]


def test_defaults_show_the_engine_numbers_and_start_no_job():
    at = _open()
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Your sequence through both"
    assert "seqb_job" not in at.session_state  # nothing trains until asked
    values = np.array([float(v) for v in DEFAULT.split(",")])
    out = through_both(values, seed=0, k=3, hidden=4)

    np.testing.assert_allclose(_row(at, "CNN k-max vector"), out["cnn_final"], rtol=0, atol=FOUR)
    np.testing.assert_allclose(_row(at, "RNN last state h_T"), out["rnn_final"], rtol=0, atol=FOUR)
    # the kept positions, recomputed from the last layer's maps
    _, positions = kmax_over_time(out["cnn_maps"][-1], 3)
    shown = _table(at, "kept positions")["kept positions"]
    assert [[int(p) for p in row.split(", ")] for row in shown] == positions.tolist()
    assert [f"{v:.3f}" for v in out["cnn_final"][:3]] == _table(at, "kept values")["kept values"][
        0
    ].split(", ")

    # one CNN unit checked by hand: layer-1 filters as a weighted sum over the window at t
    t = int(at.session_state["seqb_t"])
    x = (values - values.mean()) / values.std()
    padded = np.concatenate([[0.0], x, [0.0]])
    window = padded[t : t + 3]  # x_{t-1}, x_t, x_{t+1}
    weights = {"rise": [-1, 0, 1], "fall": [1, 0, -1], "peak": [-1, 2, -1], "level": [1 / 3] * 3}
    layer1 = _table(at, "layer-1 filter").set_index("layer-1 filter")["value at t"]
    for name, w in weights.items():
        total = 0.0
        for weight, sample in zip(w, window, strict=True):
            total += weight * sample
        assert number(layer1[name]) == pytest.approx(max(total, 0.0), abs=FOUR + 1e-5)
    # and the whole rise map with F.conv1d
    rise = F.relu(
        F.conv1d(torch.tensor(x)[None, None], torch.tensor([[[-1.0, 0, 1]]]).double(), padding=1)
    )[0, 0].numpy()
    np.testing.assert_allclose(out["cnn_maps"][0][0], rise, atol=1e-5)

    # the swap test's sentence counts what swap_sensitivity finds
    order = swap_sensitivity(values, seed=0, k=3, hidden=4)
    assert f"{order.positions.size} swaps" in _notices(at)[2]
    assert "later the swap, the more it counts" in _notices(at)[2]
    # early swaps move h_T by ~1e-7, below rounding: no "10⁶× more" from a rounding error
    assert "early swaps stayed below the rounding level" in _notices(at)[2]
    assert "× more" not in _notices(at)[2]

    # k-max's question, answered from the kept positions of the channel with the largest value
    values_kept, kept = kmax_over_time(out["cnn_maps"][-1], 3)
    top = int(np.argmax(values_kept.max(axis=1)))
    fired = int((out["cnn_maps"][-1][top] > 0).sum())
    question = next(m.value for m in at.markdown if "up to 3 times?" in m.value)
    seen = [int(p) for p, v in zip(kept[top], values_kept[top], strict=True) if v > 0]
    assert f"fired at {fired} of its {len(values)} positions" in question
    assert f"“yes, at t {', '.join(map(str, seen))}”" in question


def test_choosing_a_step_and_settings_moves_the_numbers():
    at = _open()
    at.slider(key="seqb_t").set_value(0)
    at.slider(key="seqb_k").set_value(1)
    at.select_slider(key="seqb_hidden").set_value(8)
    at.number_input(key="seqb_seed").set_value(5).run()
    assert not at.exception and not at.error
    values = np.array([float(v) for v in DEFAULT.split(",")])
    out = through_both(values, seed=5, k=1, hidden=8)
    np.testing.assert_allclose(_row(at, "RNN last state h_T"), out["rnn_final"], rtol=0, atol=FOUR)
    np.testing.assert_allclose(_row(at, "CNN k-max vector"), out["cnn_final"], rtol=0, atol=FOUR)
    np.testing.assert_allclose(out["cnn_final"], out["cnn_maps"][-1].max(axis=1))  # k = 1: max
    layer1 = numbers(_table(at, "layer-1 filter")["value at t"])
    np.testing.assert_allclose(layer1, out["cnn_maps"][0][:, 0], rtol=0, atol=FOUR)


def test_text_mode_maps_letters_and_the_ngram_filters_count_matches():
    at = _open()
    at.radio(key="seqb_mode").set_value("text").run()
    assert not at.exception and not at.error
    values = np.array([" abcdefghijklmnopqrstuvwxyz".find(c) if c.isalpha() else 0 for c in TEXT])
    out = through_both(values.astype(float))
    np.testing.assert_allclose(_row(at, "RNN last state h_T"), out["rnn_final"], rtol=0, atol=FOUR)
    table = _table(at, "fires on (windows)").set_index("filter")
    occurrences = sum(TEXT[i : i + 3] == "the" for i in range(len(TEXT) - 2))
    assert number(table.loc["the", "fires on (windows)"]) == occurrences
    assert number(table.loc["the", "windows in all"]) == len(TEXT) - 2
    at.radio(key="seqb_unit").set_value("word").run()
    assert not at.exception and not at.error
    words = TEXT.replace(".", " .").split()
    pairs = [" ".join(words[i : i + 2]) for i in range(len(words) - 1)]
    table = _table(at, "fires on (windows)").set_index("filter")
    top = table.index[0]
    assert number(table.loc[top, "fires on (windows)"]) == pairs.count(top.replace("␣", " "))


def test_chinese_and_mixed_text_say_how_many_characters_were_mapped():
    at = _open()
    at.radio(key="seqb_mode").set_value("text").run()
    at.text_area(key="seqb_text").set_value("我爱机器学习").run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any(
        "Of the 6 characters used, 0 are letters a–z and became 1–26; the other 6 became 0 "
        "(6 letters of other scripts)." in c
        for c in captions
    ), captions
    assert any("No letter a–z" in w.value for w in at.warning)
    mixed = "Héllo 中国 2024!"
    at.text_area(key="seqb_text").set_value(mixed).run()
    assert not at.exception and not at.error
    letters = sum(c.isascii() and c.isalpha() for c in mixed) + 1  # é counts as e
    assert letters == 5
    expected = (
        f"Of the {len(mixed)} characters used, {letters} are letters a–z and became 1–26; the "
        f"other {len(mixed) - letters} became 0 (4 digits, 2 spaces, 2 letters of other scripts, "
        "1 punctuation mark)."
    )
    assert any(expected in c.value for c in at.caption), [c.value for c in at.caption]
    assert not any("No letter a–z" in w.value for w in at.warning)


def _run(task, arch, accuracy, reached_at=None, stopped=False):
    history = [TaskPoint(0, 0.0, 0.7, 0.5)]
    if reached_at is not None:
        history.append(TaskPoint(reached_at, 1.0, 0.1, 0.95))
    history.append(TaskPoint(300, 2.0, 0.1, accuracy))
    return TaskResult(task, arch, 300, accuracy, 2.0, 100, tuple(history), stopped)


def _verdict(cnn, gru, task="motif"):
    runs = {(task, "cnn"): _run(task, "cnn", *cnn), (task, "gru"): _run(task, "gru", *gru)}
    return verdicts(runs, 300)[list(TASKS).index(task)]


def test_task_verdicts_crown_no_model_at_chance_in_a_tie_or_a_stopped_run():
    # both near chance, 3 points apart: the old verdict said "the CNN leads by 3.0 points"
    at_chance = _verdict((0.53, None), (0.50, None))
    assert "neither is clearly above chance" in at_chance and "leads" not in at_chance
    assert "Not clearly above chance: CNN (53.0%), GRU (50.0%)" in at_chance
    # just above the chance edge against 50%: now the CNN is a winner
    edge = TASK_CHANCE + NOISE_Z * accuracy_noise(TASK_CHANCE, TASK_TEST_SIZE)
    win = _verdict((edge + 0.02, None), (0.50, None))
    assert "the CNN leads by" in win and "expected winner" not in win
    # a gap inside the noise of 1,000 test sequences is a tie (the old rule: > 0.5 points won)
    tie = _verdict((0.95, None), (0.94, None))
    assert "a tie, the gap is inside the noise" in tie and "leads" not in tie
    assert "expected winner, the CNN, did not come out ahead" in tie
    faster = _verdict((0.95, 40), (0.94, 80))
    assert "the CNN reached 90% first (step 40 against 80)" in faster
    # a stopped run decides nothing, however large the gap
    stopped = _verdict((0.95, None, True), (0.50, None))
    assert "stopped before the end, so no verdict" in stopped and "leads" not in stopped
    # the recurrent model winning the majority task, as expected
    rnn_win = _verdict((0.60, None), (0.97, 60), task="majority")
    assert "the GRU leads by 37.0 points" in rnn_win and "expected winner" not in rnn_win


BAD_NUMBERS = [
    ("", "empty"),
    ("1, 2, x, 4", "not a number"),
    ("1, 2, 3abc", "not a number"),
    ("1, nan, 3", "NaN"),
    ("1, inf", "infinity"),
    ("1, -inf, 2", "infinity"),
    ("😀, 1, 2", "not a number"),
    (", ".join(["1"] * 100_000), "the limit is 1,000"),
]


def test_bad_numbers_give_messages_not_tracebacks():
    at = _open()
    for raw, words in BAD_NUMBERS:
        at.text_area(key="seqb_numbers").set_value(raw).run()
        assert not at.exception, (raw[:30], [e.message for e in at.exception])
        assert at.error and words in at.error[0].value, (raw[:30], [e.value for e in at.error])
        assert len(at.error) == 1  # the text CNN and the tasks still work
    at.text_area(key="seqb_numbers").set_value("42").run()  # one element: drawn, no swaps
    assert not at.exception and not at.error
    assert any("no swap changes the order" in i.value for i in at.info)
    assert _row(at, "RNN last state h_T").size == 4


def test_bad_text_gives_messages_or_a_stated_cap():
    at = _open()
    at.radio(key="seqb_mode").set_value("text").run()
    at.text_area(key="seqb_text").set_value("   ").run()
    assert not at.exception and at.error and "empty" in at.error[0].value
    at.text_area(key="seqb_text").set_value("😀🎉 👍🏽 ✨").run()
    assert not at.exception and not at.error
    assert any("No letter a–z" in w.value for w in at.warning)
    at.text_area(key="seqb_text").set_value("abc de" * 20_000).run()  # 120,000 characters
    assert not at.exception and not at.error
    assert any("120,000 characters; the first 1,000 are used" in w.value for w in at.warning)
    assert _row(at, "RNN last state h_T").size == 4
    at.slider(key="seqb_n_char").set_value(8)
    at.radio(key="seqb_source").set_value("mine").run()
    assert not at.exception and any("at least one n-gram" in w.value for w in at.warning)
    at.text_input(key="seqb_targets_char_8").set_value("abc").run()
    assert not at.exception
    assert at.error and "every target needs 8" in at.error[0].value


def test_a_tiny_task_run_goes_through_the_job_and_is_kept_for_revisits():
    settings = {"seqb_archs": ["cnn", "gru"], "seqb_steps": 20, "seqb_task_seed": 7}
    at = _open()
    at.multiselect(key="seqb_archs").set_value(settings["seqb_archs"])
    at.select_slider(key="seqb_steps").set_value(20)
    at.number_input(key="seqb_task_seed").set_value(7).run()
    at.button(key="seqb_train").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = at.session_state["seqb_job"]
    assert job.join(90)
    at.run()
    assert not at.exception and not at.error
    table = _table(at, "test accuracy")
    assert len(table) == 4
    verdict = _notices(at)[-1]
    for task in ("motif", "majority"):
        for arch, name in (("cnn", "CNN"), ("gru", "GRU")):
            expected = synthetic_task(task, arch, steps=20, seed=7)
            row = table[(table["model"] == name) & (table["task"] == TASKS[task].title)].iloc[0]
            assert number(row["test accuracy"]) == pytest.approx(expected.accuracy, abs=5e-4)
            assert number(row["weights"]) == expected.n_params
            assert number(row["steps trained"]) == 20
            if arch == "cnn":  # the verdict quotes the computed accuracies
                assert f"{TASKS[task].title}** — CNN {expected.accuracy:.1%}" in verdict
    # a second visitor with the same settings gets the finished runs at once, with no job
    again = _open()
    again.multiselect(key="seqb_archs").set_value(settings["seqb_archs"])
    again.select_slider(key="seqb_steps").set_value(20)
    again.number_input(key="seqb_task_seed").set_value(7).run()
    assert "seqb_job" not in again.session_state
    assert len(_table(again, "test accuracy")) == 4
    assert again.button(key="seqb_train").disabled
