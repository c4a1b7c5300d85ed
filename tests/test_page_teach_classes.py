"""The teach-your-classes page in AppTest: the drawings set, class edits, the trainable check on
both sides, a short fit with its results, prediction, save/load, a hostile file, Chinese."""

from __future__ import annotations

import ast
import base64
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.cnn import (
    CLASSES,
    MIN_PER_CLASS,
    ExamplesError,
    ExampleSet,
    ModelLoadError,
    above_chance,
    chance_margin,
    downscale,
    load_model,
    save_model,
)
from tests.charts import charts
from ui.jobs import Job

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "teach_classes.py")
DRAWN = ("horizontal stripes", "vertical stripes", "checkerboard")
HOSTILE = (10**9).to_bytes(8, "little") + b'{"__metadata__": {}}'


@pytest.fixture(autouse=True)
def _one_thread():
    """Pin torch to one thread, as the server's jobs run (and as the engine's tests fit)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _open(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.spec) for c in charts(at)]


def _values(array) -> list:
    """Return a trace's x, y or z as a list (Plotly sends numeric arrays base64-encoded)."""
    if isinstance(array, dict):
        flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        shape = [int(n) for n in str(array.get("shape", len(flat))).split(",")]
        return flat.reshape(shape).tolist()
    return list(array)


def _engine_message(make) -> str:
    """Return the English message of the ExamplesError that make() raises."""
    with pytest.raises(ExamplesError) as err:
        make()
    return str(err.value)


def _png(rgb: tuple[int, int, int], size: tuple[int, int] = (80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, format="PNG")
    return buffer.getvalue()


# --- first visit and the example set


def test_first_visit_shows_the_drawings_ready_to_train():
    at = _open()
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert at.title[0].value == "Teach it your classes"
    s = at.session_state["teach_examples"]
    assert s.names == DRAWN and s.counts == (20, 20, 20)
    text = _text(at)
    for name in DRAWN:
        assert f"**{name}** · 20 examples" in text
    assert "3 classes · 60 examples in all" in text
    assert "teach_job" not in at.session_state and "teach_model" not in at.session_state
    assert not at.button(key="tc_train").disabled
    assert "5-fold cross-validation" in text  # 20 per class: fewer than the held-out threshold
    caption = " ".join(c.value for c in at.caption)
    assert "At most 6 classes, 100 examples per class and 400 in all (4.7 MiB)" in caption


def test_the_drawings_button_brings_back_three_classes_after_edits():
    at = _open()
    at.button(key="tc_drop_class_0_horizontal stripes").click().run()
    assert at.session_state["teach_examples"].names == DRAWN[1:]
    at.button(key="tc_drawings").click().run()
    assert at.session_state["teach_examples"].counts == (20, 20, 20)
    assert "3 classes · 60 examples in all" in _text(at)


def test_classes_are_added_renamed_and_emptied_in_any_language():
    at = _open()
    at.text_input(key="tc_new_name").input("  猫   咪 ").run()
    at.button(key="tc_add_class").click().run()
    s = at.session_state["teach_examples"]
    assert s.names[-1] == "猫 咪" and s.counts[-1] == 0
    at.text_input(key="tc_rename_0_horizontal stripes").input("rayures").run()
    at.button(key="tc_rename_btn_0_horizontal stripes").click().run()
    assert at.session_state["teach_examples"].names[0] == "rayures"
    at.number_input(key="tc_which_0_rayures").set_value(3).run()
    at.button(key="tc_drop_0_rayures").click().run()
    s = at.session_state["teach_examples"]
    before = ExampleSet.from_drawings(DRAWN, 20, seed=0).examples[0]
    assert s.counts[0] == 19
    assert np.array_equal(s.examples[0][2], before[3]), "example 3 (1-based) was removed"
    # a duplicate name is refused in the engine's words and the set is kept
    at.text_input(key="tc_new_name").input("RAYURES").run()
    at.button(key="tc_add_class").click().run()
    assert any("Two classes are called" in e.value for e in at.error)
    assert at.session_state["teach_examples"] == s


def test_uploads_add_each_good_picture_once_and_name_the_bad_one():
    at = _open()
    at.segmented_control(key="tc_source").set_value("upload")
    at.selectbox(key="tc_target").set_value(1).run()
    files = [("red.png", _png((255, 0, 0)), "image/png"), ("blue.png", _png((0, 0, 255)), "")]
    files.append(("broken.png", b"not a picture at all", "image/png"))
    name = at.session_state["teach_examples"].names[1]
    at.file_uploader(key=f"tc_upload_1_{name}").set_value(files).run()  # the class's own
    assert not at.exception, [e.message for e in at.exception]
    s = at.session_state["teach_examples"]
    assert s.counts == (20, 22, 20)
    assert np.array_equal(s.examples[1][-2], downscale(_png((255, 0, 0))))
    assert any("**broken.png**" in e.value for e in at.error)
    at.run()  # the same files again: nothing added twice
    assert at.session_state["teach_examples"].counts == (20, 22, 20)


def test_drawings_are_added_to_the_chosen_class():
    at = _open()
    assert at.segmented_control(key="tc_source").value == "drawings"  # no camera needed first
    at.selectbox(key="tc_shape").set_value("ring")
    at.number_input(key="tc_n_drawings").set_value(5)
    at.button(key="tc_add_drawings").click().run()
    s = at.session_state["teach_examples"]
    assert s.counts == (25, 20, 20)
    expected = ExampleSet.from_drawings(("ring",), 5, seed=21).examples[0]
    assert all(np.array_equal(a, b) for a, b in zip(s.examples[0][20:], expected, strict=True))


# --- the trainable check, both sides of each threshold


@pytest.mark.parametrize(
    ("examples", "refusal"),
    [
        (lambda: ExampleSet.from_drawings(("circle",), 8), True),  # one class
        (lambda: ExampleSet.from_drawings(("circle", "ring"), MIN_PER_CLASS - 1), True),
        (lambda: ExampleSet.from_drawings(("circle", "ring"), MIN_PER_CLASS), False),
    ],
)
def test_train_waits_for_enough_classes_and_examples(examples, refusal):
    at = AppTest.from_file(PAGE, default_timeout=120)
    s = examples()
    at.session_state["teach_examples"] = s
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    if refusal:
        message = _engine_message(s.check_trainable)
        assert len(warnings) == 1 and warnings[0].startswith(message), warnings
        assert at.button(key="tc_train").disabled
    else:
        assert not warnings and not at.button(key="tc_train").disabled


def test_the_shape_names_marked_for_translation_are_the_engines():
    tree = ast.parse(Path(PAGE).read_text(encoding="utf-8"))
    marked = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SHAPE_IDS"
    )
    assert tuple(call.args[0].value for call in marked.elts) == CLASSES


# --- a short fit on the drawings


@pytest.fixture(scope="module")
def trained():
    """The page after a short fit (30 steps of a 1-block, 4-filter net) on the drawings set."""
    at = _open()
    at.select_slider(key="tc_steps").set_value(30)
    at.slider(key="tc_blocks").set_value(1)
    at.slider(key="tc_filters").set_value(4)
    at.button(key="tc_train").click().run()
    job = at.session_state["teach_job"]
    assert isinstance(job, Job) and job.join(600)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    state = job.state()
    assert state.status == "done", state.error
    return at, state.result


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_fit_shows_its_accuracy_method_confusion_and_mistakes(trained):
    at, (s, r) = trained
    labels = s.tensors()[1].numpy()
    accuracy = float((r.predictions == labels).mean())  # every example predicted once (CV)
    assert r.evaluated == s.total == 60
    assert _metric(at, "Accuracy on unseen examples") == f"{accuracy:.1%}"
    assert _metric(at, "Chance (1/3)") == "33.3%"
    text = _text(at)
    assert "Measured by 5-fold cross-validation: each of the 60 examples" in text
    clearly = above_chance(accuracy, 60, 3)
    assert ("clearly above chance" in text) == clearly and ("near chance" in text) != clearly
    brute = np.zeros((3, 3), dtype=int)
    for t, p in zip(labels, r.predictions, strict=True):
        brute[t, p] += 1
    heat = next(f for f in _figures(at) if f["data"][0]["type"] == "heatmap")["data"][0]
    assert np.array_equal(np.array(_values(heat["z"])), brute)
    assert list(heat["x"]) == list(heat["y"]) == list(DRAWN)
    wrong = int((r.predictions != labels).sum())
    if wrong:
        assert (
            f"**{wrong} examples" if wrong > 1 else "**1 example"
        ) + " predicted wrong**" in text
        first = r.mistakes[0]  # the most confident mistake comes first, captioned as such
        caption = f"{DRAWN[first.true]} → {DRAWN[first.predicted]} ({first.probability:.0%})"
        captions = [c for image in at.get("image") for c in image.captions if "→" in c]
        assert captions[0] == caption and len(captions) == min(wrong, 12)
    else:
        assert any("No example was predicted wrong." in m.value for m in at.success)
    # the live curves: one per run, the final model's without held-out accuracy
    curves = next(f for f in _figures(at) if any(t.get("name") == "fold 1" for t in f["data"]))
    losses = [t for t in curves["data"] if t.get("xaxis", "x") == "x"]
    assert [t["name"] for t in losses] == [
        *(f"fold {i}" for i in range(1, 6)),
        "final model (all examples)",
    ]
    assert _values(losses[0]["y"]) == pytest.approx([p.loss for p in r.runs[0].history])
    assert at.session_state["teach_model"] == (r.model, r.card)


def _probabilities_shown(at: AppTest) -> list[float]:
    bars = next(f for f in _figures(at) if f["data"][0]["type"] == "bar")["data"][0]
    return _values(bars["y"])


def test_a_new_drawing_gets_the_models_softmax(trained):
    at, (s, r) = trained
    picture = ExampleSet.from_drawings((DRAWN[0],), 1, seed=1000).examples[0][0]
    x = torch.from_numpy(downscale(picture)).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        expected = r.model(x).softmax(-1)[0].double().numpy()
    assert _probabilities_shown(at) == pytest.approx(expected.tolist(), abs=1e-9)
    best = int(expected.argmax())
    assert f"The model says **{DRAWN[best]}** ({expected[best]:.1%})." in _text(at)


def test_save_then_load_gives_the_same_probabilities(trained):
    at, _ = trained
    before = _probabilities_shown(at)
    model, card = at.session_state["teach_model"]
    assert at.get("download_button"), "a download button is offered"
    data = save_model(model, card)
    at.file_uploader(key="tc_load").set_value(("mine.safetensors", data, "")).run()
    assert not at.exception, [e.message for e in at.exception]
    loaded, loaded_card = at.session_state["teach_model"]
    assert loaded is not model and loaded_card["classes"] == list(DRAWN)
    assert _probabilities_shown(at) == pytest.approx(before, abs=1e-12)
    assert any("mine.safetensors" in m.value for m in at.success)


def test_a_hostile_model_file_is_refused_and_the_model_kept(trained):
    at, _ = trained
    held = at.session_state["teach_model"]
    with pytest.raises(ModelLoadError) as err:
        load_model(HOSTILE)
    at.file_uploader(key="tc_load").set_value(("evil.safetensors", HOSTILE, "")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.value == str(err.value) for e in at.error), [e.value for e in at.error]
    assert at.session_state["teach_model"] is held


@pytest.mark.parametrize("side", ["above", "near"])
def test_what_to_notice_follows_accuracy_against_chance(trained, side):
    """The sentence on both sides of the engine's threshold: 1/K plus chance_margin(n, K)."""
    _, (s, r) = trained
    n, k = r.evaluated, len(s.names)
    edge = 1 / k + chance_margin(n, k)
    accuracy = edge + 0.01 if side == "above" else edge - 0.01
    fake = dataclasses.replace(r, accuracy=accuracy)
    job = Job("fake", lambda report, stop: (s, fake)).start()
    assert job.join(30)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["teach_job"] = job
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = _text(at)
    assert (f"{accuracy:.0%} is clearly above chance" in text) == (side == "above")
    assert (f"{accuracy:.0%} is near chance" in text) == (side == "near")


# --- language


def test_the_page_in_chinese():
    at = _open("zh")
    assert at.title[0].value == "教它认识你的类别"
    assert at.session_state["teach_examples"].names == ("横条纹", "竖条纹", "棋盘格")
    assert "3 个类别 · 共 60 个样本" in _text(at)
    assert not at.error and not at.warning
