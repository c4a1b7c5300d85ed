"""The training page in AppTest: defaults, a tiny run, Stop, bad settings, queueing, ablations."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from engine.cnn import (
    COLOUR_BY,
    SAME_WITHIN,
    CNNConfig,
    SmallCNN,
    TrainPoint,
    accuracy,
    first_layer_filters,
    make_training_data,
    shift_robustness,
    train,
)
from runtime_tuning import training_threads
from tests.charts import charts
from tests.tables import tables
from ui.cnn.models import available_models
from ui.cnn.train_notes import filters_notice, loss_notice
from ui.cnn.train_runs import DATA_SEED, N_PER_CLASS, N_VAL_PER_CLASS, Live, RunOutcome
from ui.jobs import Job, Watch

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "cnn_train.py")


@pytest.fixture(autouse=True)
def _one_thread():
    """Pin torch to one thread, as the server does: the page's job and the test's own retraining
    must add up floats in the same order to agree exactly (other tests may leave 1 or 2)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TWO = ["circle", "square"]


def _open() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _tiny(at: AppTest, steps: int) -> AppTest:
    at.multiselect(key="ct_classes").set_value(TWO)
    at.slider(key="ct_depth").set_value(1)
    at.slider(key="ct_filters").set_value(4)
    at.number_input(key="ct_steps").set_value(steps)
    return at


def _job(at: AppTest, key: str = "ct_job") -> Job:
    assert key in at.session_state, "no job was started"
    job = at.session_state[key]
    assert isinstance(job, Job | Watch)
    return job


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.spec) for c in charts(at)]


def _values(array) -> list[float]:
    """Return a trace's x or y as a list (Plotly 7 sends numeric arrays base64-encoded)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


@pytest.fixture(scope="module")
def two_class_data():
    return make_training_data(tuple(TWO), N_PER_CLASS, N_VAL_PER_CLASS, DATA_SEED)


def test_defaults_render_without_starting_a_job():
    at = _open()
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert at.title[0].value == "Train a CNN yourself"
    assert "ct_job" not in at.session_state and "ct_ablation_job" not in at.session_state
    assert not at.button(key="ct_train").disabled
    assert at.latex, "the loss is written as a formula"
    # the default network: 2 blocks of 10 3×3 filters, 10 classes
    assert "**28,620 weights**" in " ".join(m.value for m in at.markdown)


def test_a_tiny_run_shows_its_own_curves_and_registers_the_model(two_class_data):
    at = _tiny(_open(), 20)
    at.button(key="ct_train").click().run()
    job = _job(at)
    assert job.join(120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    s = job.state()
    assert s.status == "done", s.error
    outcome = s.result
    assert isinstance(outcome, RunOutcome)
    r = outcome.result
    assert r.steps_done == 20 and not r.stopped
    # the validation accuracy, recomputed here on independently rendered images
    val = accuracy(r.model, two_class_data.val_images, two_class_data.val_labels)
    assert val == pytest.approx(r.val_acc)
    assert _metric(at, "Validation accuracy") == f"{val:.1%}"
    assert _metric(at, "Steps done (of 20)") == "20"
    assert _metric(at, "Parameters") == f"{sum(p.numel() for p in r.model.parameters()):,}"
    assert _metric(at, "Images per second") == f"{20 * 64 / r.seconds:,.0f}"
    # the curves drawn are the run's history
    curves = next(
        f for f in _figures(at) if any(t.get("name") == "validation accuracy" for t in f["data"])
    )
    by_name = {t["name"]: t for t in curves["data"]}
    assert _values(by_name["validation accuracy"]["y"]) == pytest.approx(
        [p.val_acc for p in r.history]
    )
    assert _values(by_name["training loss"]["y"]) == pytest.approx([p.loss for p in r.history])
    assert _values(by_name["training loss"]["x"]) == [p.step for p in r.history]
    # the filters' notice: how far the first layer moved from its (independently rebuilt) start
    start = first_layer_filters(SmallCNN(CNNConfig(tuple(TWO), 1, 4), seed=0))
    moved = float((first_layer_filters(r.model) - start).norm() / start.norm())
    assert any(f"moved by {moved:.0%} of their initial size" in m.value for m in at.markdown)
    # the model is offered on the overview page, with a card describing it
    label = at.session_state["ct_label"]
    models = available_models({"cnn_trained_models": at.session_state["cnn_trained_models"]})
    model, card = models[label]
    assert model is r.model
    assert card["held_out_accuracy"] == r.val_acc and card["classes"] == TWO
    assert card["config"]["filters"] == 4 and card["training"]["steps"] == 20
    assert any(label in m.value for m in at.success)
    # a rerun does not register it twice
    at.run()
    assert len(at.session_state["cnn_trained_models"]) == 1


def test_stop_mid_run_keeps_a_usable_model_and_a_second_session_queues(two_class_data):
    at = _tiny(_open(), 3000)
    other = _open()
    at.button(key="ct_train").click().run()
    job = _job(at)
    assert "ct_job" not in other.session_state, "one session's run is invisible to another"
    other = _tiny(other, 50)
    other.button(key="ct_train").click().run()
    queued = _job(other)
    assert any("in the queue" in i.value for i in other.info)
    deadline = time.time() + 60
    while not isinstance(job.state().payload, Live) and time.time() < deadline:
        time.sleep(0.1)
    at.run()  # the panel shows the live curves and a Stop button
    assert not at.exception, [e.message for e in at.exception]
    at.button(key="ct_panel__stop").click().run()
    assert job.join(60)
    queued.stop()
    assert queued.join(60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    s = job.state()
    assert s.status == "stopped"
    r = s.result.result
    assert r.stopped and 0 < r.steps_done < 3000
    val = accuracy(r.model, two_class_data.val_images, two_class_data.val_labels)
    assert val == pytest.approx(r.val_acc)
    assert _metric(at, "Validation accuracy") == f"{val:.1%}"
    assert any("Stopped after" in i.value for i in at.info)
    assert at.session_state["ct_label"] in at.session_state["cnn_trained_models"]
    assert queued.state().status == "stopped"


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda at: at.multiselect(key="ct_classes").set_value(["circle"]), "at least two"),
        (lambda at: at.multiselect(key="ct_classes").set_value([]), "at least two"),
        (lambda at: at.number_input(key="ct_lr").set_value(0.0), "learning rate above 0"),
        (lambda at: at.number_input(key="ct_steps").set_value(0), "at least one training step"),
        (
            lambda at: (
                at.slider(key="ct_filters").set_value(64),
                at.toggle(key="ct_pool").set_value(False),
                at.number_input(key="ct_steps").set_value(5000),
            ),
            "the cap is",
        ),
    ],
)
def test_settings_that_make_no_sense_say_so_and_start_nothing(setup, words):
    at = _open()
    setup(at)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="ct_train").disabled  # AppTest, like a browser, cannot press it
    assert "ct_job" not in at.session_state


@pytest.mark.parametrize(("steps", "lr"), [(1, 0.003), (5, 1.0)])
def test_one_step_and_a_huge_learning_rate_finish_cleanly(steps, lr):
    at = _tiny(_open(), steps)
    at.number_input(key="ct_lr").set_value(lr).run()
    assert (lr > 0.05) == any("is large for Adam" in i.value for i in at.info)
    at.button(key="ct_train").click().run()
    assert _job(at).join(120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert _job(at).state().status == "done", _job(at).state().error
    assert _metric(at, f"Steps done (of {steps})") == str(steps)


def test_five_pooled_blocks_end_at_two_by_two():
    at = _open()
    at.slider(key="ct_depth").set_value(5).run()
    assert not at.warning
    assert any("2×2" in i.value for i in at.info)


def test_a_tiny_ablation_run_fills_the_table(two_class_data):
    st.cache_resource.clear()  # no earlier result for these settings
    at = _open()
    at.multiselect(key="ct_classes").set_value(TWO)
    at.select_slider(key="ct_abl_steps").set_value(20).run()
    at.button(key="ct_abl_run").click().run()
    job = _job(at, "ct_ablation_job")
    assert job.join(180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(d for d in tables(at) if "variant" in d.columns)
    assert list(table["variant"]) == ["baseline", "no pooling", "no ReLU", "1 block", "4 blocks"]
    # the baseline row, recomputed with the engine alone, in the page's precision and on its
    # threads (bfloat16 kernels may round differently on another thread count)
    bf16 = at.session_state["ct_abl_settings"].bf16
    r = train(
        CNNConfig(tuple(TWO)),
        20,
        0.003,
        64,
        0,
        two_class_data,
        progress_every=1,
        bf16=bf16,
        threads=training_threads(),
    )
    base = table.iloc[0]
    assert base["validation"] == f"{r.val_acc:.1%}"
    probe = two_class_data.val_images[:20]
    kept = shift_robustness(r.model, probe, 8, "edge")
    assert base["kept at 8 px"] == f"{float(kept[8]):.1%}"
    assert base["parameters"] == f"{sum(p.numel() for p in r.model.parameters()):,}"
    assert any("**Pooling.**" in m.value for m in at.markdown)
    # a second visit with the same settings is instant: no new job, the cached table
    again = _open()
    again.multiselect(key="ct_classes").set_value(TWO)
    again.select_slider(key="ct_abl_steps").set_value(20).run()
    assert "ct_ablation_job" not in again.session_state
    assert list(tables(again)[0]["variant"]) == list(table["variant"])


def _row(name: str, val_acc: float, kept: float):
    from engine.cnn import ablation_config, last_field, parameter_count
    from ui.cnn.train_runs import AblationRow

    config = ablation_config(name)
    curve = np.linspace(1, kept, 9)
    robust = {"edge": curve, "circular": curve}
    return AblationRow(
        name, config, parameter_count(config), last_field(config), val_acc, val_acc, 1.0, (), robust
    )


def test_a_variant_at_chance_is_flagged_and_not_called_the_most_stable():
    """The learner's case: "no pooling" at 8.8 % (below 10 % chance) kept 95 % of its answers."""
    from ui.cnn.ablation_view import DEFAULT_ABLATION_STEPS, finished_sets
    from ui.cnn.train_runs import AblationSettings

    at = _open()
    lr, seed = float(at.number_input(key="ct_lr").value), int(at.number_input(key="ct_seed").value)
    classes = tuple(at.multiselect(key="ct_classes").value)
    bf16 = "natively" in " ".join(c.value for c in at.caption)
    settings = AblationSettings(classes, DEFAULT_ABLATION_STEPS, lr, seed, bf16)
    rows = (
        _row("baseline", 0.62, 0.62),
        _row("no pooling", 0.088, 0.95),
        _row("no ReLU", 0.50, 0.70),
        _row("1 block", 0.55, 0.50),
        _row("4 blocks", 0.60, 0.80),
    )
    finished_sets()[settings] = rows
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert list(tables(at)[0]["learned"]) == ["✓", "✗", "✓", "✓", "✓"]
    warned = [w.value for w in at.warning if "Not learned" in w.value]
    assert warned and "no pooling (8.8%)" in warned[0]
    text = " ".join(m.value for m in at.markdown)
    assert "edge shift is 4 blocks (80% kept)" in text
    assert "is no pooling" not in text
    assert "it did not learn" in text
    # the other side: when every variant learned, the steadiest is named as measured
    finished_sets()[settings] = (_row("no pooling", 0.5, 0.95), *rows[2:])
    at.run()
    assert not [w for w in at.warning if "Not learned" in w.value]
    assert "edge shift is no pooling (95% kept)" in " ".join(m.value for m in at.markdown)


def test_a_training_gap_that_rounds_to_zero_is_called_the_same():
    """The old notice printed "0.0% above validation" for a 0.03-point gap."""
    first = TrainPoint(10, 0.69, 0.5, 0.5)
    same = loss_notice([first, TrainPoint(20, 0.3, 0.8003, 0.8)], 2)
    assert ", 0.0% above" not in same
    assert f"the same as validation to within {SAME_WITHIN:.1%}" in same
    assert "10.0% above validation" in loss_notice([first, TrainPoint(20, 0.3, 0.9, 0.8)], 2)
    assert "5.0% below validation" in loss_notice([first, TrainPoint(20, 0.3, 0.75, 0.8)], 2)


def test_the_filter_notice_names_a_colour_shift_only_beyond_its_margin():
    """Weights scaled by 1.001 keep their colour share: the old notice still said "more of them
    now respond to colour differences"."""
    w0 = torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    same = filters_notice(w0, w0 * 1.001, 50)
    assert "respond to colour" not in same
    assert f"within {COLOUR_BY:.0%} of each other" in same
    grey = w0.mean(1, keepdim=True)
    assert "towards brightness" in filters_notice(w0, grey + 0.5 * (w0 - grey), 50)
    assert "towards colour differences" in filters_notice(w0, grey + 2 * (w0 - grey), 50)


def test_the_depth_paragraph_says_pooling_helps_only_when_the_shares_rise():
    """The learner's run: kept 64 %, 55 %, 65 % for 1, 2, 4 blocks, yet the old paragraph said
    "each extra pooling adds tolerance to shifts"."""
    from ui.cnn.ablation_view import depth_paragraph

    learned = dict.fromkeys(["baseline", "1 block", "4 blocks"], True)
    base = _row("baseline", 0.456, 0.55)
    mixed = depth_paragraph(
        _row("1 block", 0.294, 0.64), _row("4 blocks", 0.318, 0.65), base, learned
    )
    assert "64%, 55%, 65%" in mixed and "these runs do not show it" in mixed
    assert "added tolerance" not in mixed
    rising = depth_paragraph(_row("1 block", 0.5, 0.40), _row("4 blocks", 0.6, 0.80), base, learned)
    assert "Each extra pooling added tolerance to shifts here" in rising
    falling = depth_paragraph(
        _row("1 block", 0.5, 0.80), _row("4 blocks", 0.6, 0.30), base, learned
    )
    assert "falls with depth" in falling
    learned["1 block"] = False  # a network at chance keeps its answers under any shift
    idle = depth_paragraph(_row("1 block", 0.1, 0.99), _row("4 blocks", 0.6, 0.30), base, learned)
    assert "tolerance" not in idle
