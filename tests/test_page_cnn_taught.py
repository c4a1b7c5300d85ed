"""The trained-CNN page on the model of "Teach it your classes" (issue 15): it joins the session's
models, looks at the learner's own examples, scans them for top patches without any shared cache,
and loads a model file saved from the teach page (refusing a hostile one)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.cnn import (
    DEFAULT_AUGMENTATION,
    TOP_PATCHES,
    CNNConfig,
    ExampleSet,
    ModelLoadError,
    SmallCNN,
    load_model,
    save_model,
)
from tests.charts import charts
from tests.test_pages import APP, TIMEOUT, assert_clean
from ui.cnn.models import SHIPPED, TAUGHT, TAUGHT_KEY
from ui.cnn.overview_inputs import OWN, YOURS
from ui.cnn.taught import EXAMPLES_KEY, MEMO_KEY

PAGE = "app_pages/cnn_overview.py"
NAMES = ("mug", "pen", "猫")  # a learner's own names, in any language
HOSTILE = (10**9).to_bytes(8, "little") + b'{"__metadata__": {}}'


def _examples(per_class: int = 4, seed: int = 0) -> ExampleSet:
    """Return per_class random 64×64 pictures of each of NAMES (class c brighter than c - 1)."""
    rng = np.random.default_rng(seed)
    groups = tuple(
        tuple(
            (rng.integers(0, 80, (64, 64, 3)) + 80 * c).astype(np.uint8) for _ in range(per_class)
        )
        for c in range(len(NAMES))
    )
    return ExampleSet(NAMES, groups)


def _taught_model(names=NAMES, seed: int = 7) -> tuple[SmallCNN, dict]:
    """Return an untrained 64-px model over names, with a card like the teach page's."""
    model = SmallCNN(CNNConfig(classes=tuple(names)), seed=seed).eval().requires_grad_(False)
    card = {
        "classes": list(names),
        "config": model.config.to_dict(),
        "accuracy": 0.75,
        "date": "2026-12-05T02:30:00+00:00",
        "augmentation": DEFAULT_AUGMENTATION.to_dict(),
        "steps": 0,
        "seed": seed,
    }
    return model, card


def _open(held=None, examples=None, **state) -> AppTest:
    """Return the page opened in a session holding this taught model and these examples."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if held is not None:
        at.session_state[TAUGHT_KEY] = held
    if examples is not None:
        at.session_state[EXAMPLES_KEY] = examples
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metric(at, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


@pytest.fixture(scope="module")
def taught():
    return _taught_model()


def test_the_taught_model_comes_first_and_looks_at_your_examples(taught):
    model, _ = taught
    examples = _examples()
    at = _open(taught, examples, tc_your_class="pen", tc_your_n_1=3)
    assert_clean(at)
    choice = at.selectbox(key="tc_model")
    assert choice.options[0] == TAUGHT and choice.value == TAUGHT
    assert SHIPPED in choice.options
    assert at.button_group(key="tc_source").value == YOURS
    x = torch.from_numpy(np.array(examples.examples[1][2])).permute(2, 0, 1).float()[None] / 255
    with torch.inference_mode():
        probs = model(x).softmax(-1)[0]
    best = int(probs.argmax())
    assert _metric(at, "Predicted class") == NAMES[best]
    assert _metric(at, "Its probability") == f"{float(probs[best]):.2%}"
    memo = at.session_state[MEMO_KEY]
    assert any(key[0] == "forward" for key in memo), "kept in the session, not a shared cache"


def test_top_patches_come_from_your_examples(taught):
    """The strongest units are the brute-force maxima of each of the learner's pictures."""
    model, _ = taught
    examples = _examples(per_class=5, seed=1)
    at = _open(taught, examples, open_tc_patches=True)
    layer, channel = at.selectbox(key="tc_top_layer").value, 0
    images, labels = examples.tensors()
    with torch.inference_mode():
        maps = model.forward_to(images.float() / 255, layer)[:, channel]
    best = maps.flatten(1).max(1).values
    order = torch.argsort(best, descending=True)[: min(TOP_PATCHES, len(images))]
    chart = next(c for c in charts(at) if c.id.endswith("-tc_top"))
    titles = [a["text"] for a in json.loads(chart.spec)["layout"]["annotations"]]
    expected = [f"{float(best[i]):.2f} · {NAMES[int(labels[i])]}" for i in order]
    assert titles[: len(expected)] == expected
    text = " ".join(m.value for m in at.markdown)
    assert f"{len(images)} of your own examples" in text


def test_without_your_examples_only_your_own_picture_goes_in(taught):
    at = _open(taught, None, open_tc_patches=True)
    assert at.button_group(key="tc_source").options == [OWN]
    assert any("no picture set to scan" in i.value for i in at.info)
    assert not at.error


def test_examples_of_other_classes_are_not_offered(taught):
    other = ExampleSet(("a", "b"), (_examples().examples[0], _examples().examples[1]))
    at = _open(taught, other)
    assert at.button_group(key="tc_source").options == [OWN]


def test_a_saved_model_loads_here_and_is_chosen():
    at = _open()
    assert not [s for s in at.selectbox if s.key == "tc_model"]  # the shipped model alone
    model, card = _taught_model(seed=11)
    at.file_uploader(key="tc_overview_load").set_value(
        ("m.safetensors", save_model(model, card), "")
    )
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="tc_model").value == TAUGHT
    loaded, _ = at.session_state[TAUGHT_KEY]
    x = torch.full((1, 3, 64, 64), 0.5)
    with torch.inference_mode():
        assert torch.equal(loaded(x), model(x))
    assert "mug" in at.info[0].value  # the card names the learner's classes


def test_a_hostile_file_is_refused_with_the_reason():
    at = _open()
    with pytest.raises(ModelLoadError) as err:
        load_model(HOSTILE)
    at.file_uploader(key="tc_overview_load").set_value(("evil.safetensors", HOSTILE, "")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.value == str(err.value) for e in at.error), [e.value for e in at.error]
    assert TAUGHT_KEY not in at.session_state
