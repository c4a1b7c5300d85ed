"""The trained-CNN page in AppTest: its numbers are the network's own, for any model and input."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from engine.cnn import (
    CLASSES,
    CLASSIC_BY,
    COLOUR_BY,
    CNNConfig,
    SmallCNN,
    compare_filters,
    grad_cam,
    handmade_kernels,
    hires_cam_layer,
    load,
    preprocess,
    render,
)
from tests.charts import charts
from tests.tables import numbers, tables
from tests.test_pages import assert_clean, open_page
from ui.cnn.models import SHIPPED, SHIPPED_PATH, remember_model
from ui.cnn.overview_inputs import RENDER_SEED, training_summary
from ui.inputs import SAMPLES_DIR

PAGE = "app_pages/cnn_overview.py"


def _metric(at, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


def _png(size=(80, 60), color=(128, 128, 128)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _drawn(cls: str, number: int = 0) -> torch.Tensor:
    """The page's default input, drawn here from its recipe: (3, 64, 64)."""
    rng = np.random.default_rng([RENDER_SEED, CLASSES.index(cls), number])
    return torch.from_numpy(render(cls, rng, 64)).permute(2, 0, 1).contiguous()


def _forward(model: SmallCNN, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return {a.name: a.tensor[0] for a in model.forward_all(x[None])}


@pytest.fixture(scope="module")
def shipped():
    return load(SHIPPED_PATH)[0]


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def _session_model(
    config: CNNConfig, name: str = "tiny test model", seed: int = 3, opened: tuple[str, ...] = ()
):
    """Return (AppTest with an untrained model registered as this session's, the model); the
    lazy sections named in opened are open."""
    from streamlit.testing.v1 import AppTest

    from tests.test_pages import APP, TIMEOUT

    model = SmallCNN(config, seed=seed).eval().requires_grad_(False)
    store: dict = {}
    card = {"validation_accuracy": 0.5, "training": {"seed": seed}}
    label = remember_model(store, name, model, card)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    for key, value in store.items():  # AppTest's session state has no setdefault
        at.session_state[key] = value
    for key in opened:
        at.session_state[key] = True
    at.switch_page(PAGE).run()
    return at, model, label


def test_defaults_show_the_networks_own_prediction(default_page, shipped):
    at = default_page
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "A trained CNN on your image"
    probs = _forward(shipped, _drawn("star"))["softmax"]
    k = int(probs.argmax())
    assert _metric(at, "Predicted class") == CLASSES[k]
    assert _metric(at, "Its probability") == f"{float(probs[k]):.2%}"
    assert "97.7%" in at.info[0].value and "ring" in at.info[0].value  # the card, the classes
    assert at.selectbox(key="tc_layer").value == "conv1_1"  # one model: no model choice
    assert not [s for s in at.selectbox if s.key == "tc_model"]
    # Grad-CAM of the predicted class: the page says so exactly when it is zero everywhere.
    cam_zero = float(grad_cam(shipped, _drawn("star"), k).max()) == 0
    said = any("Grad-CAM is zero everywhere" in m.value for m in at.markdown)
    assert said == cam_zero


def _class_index(name: str) -> int:
    return CLASSES.index(name)


@pytest.mark.parametrize("cls", ["star", "circle"])
def test_the_grad_cam_sentence_follows_the_map(shipped, cls):
    """On the drawn star, Grad-CAM of "star" is blank and that of "circle" is not (measured)."""
    at = open_page(PAGE)
    k = _class_index(cls)
    at.selectbox(key="tc_explain").set_value(k).run()
    assert_clean(at)
    cam = grad_cam(shipped, _drawn("star"), k).numpy()
    blank = not (cam > 0).any()
    assert blank == (cls == "star")  # the two sides of the sentence, as measured here
    text = " ".join(m.value for m in at.markdown)
    assert ("Grad-CAM is zero everywhere" in text) == blank
    positive = f"Grad-CAM is positive at {int((cam > 0).sum()):,} of {cam.size:,} pixels"
    assert (positive in text) == (not blank)


def test_a_drawing_is_called_like_the_drawings_and_a_sample_photo_is_not():
    at = open_page(PAGE)
    assert not [w for w in at.warning if "unlike the drawings" in w.value]
    assert any("like a drawing" in c.value for c in at.caption)
    at.button_group(key="tc_source").set_value("Your own picture").run()
    at.button_group(key="trained_cnn_source").set_value("Upload").run()
    portrait = (SAMPLES_DIR / "portrait.png").read_bytes()
    at.file_uploader(key="trained_cnn_upload").upload("portrait.png", portrait, "image/png").run()
    assert_clean(at)
    warned = [w.value for w in at.warning if "unlike the drawings" in w.value]
    assert warned and "none of these" in warned[0]
    predicted = _metric(at, "Predicted class")
    assert f"“{predicted} {_metric(at, 'Its probability')}”" in warned[0]


def test_a_chosen_conv_unit_sums_to_the_activation(default_page, shipped):
    at = default_page
    at.selectbox(key="tc_layer").set_value("conv2_1").run()
    at.number_input(key="tc_channel").set_value(4)
    at.number_input(key="tc_row").set_value(7)
    at.number_input(key="tc_col").set_value(0)  # the kernel overhangs the zero padding here
    at.run()
    assert_clean(at)
    expected = float(_forward(shipped, _drawn("star"))["conv2_1"][4, 7, 0])
    assert at.subheader[0].value == "conv2_1, channel 4, unit (7, 0)"
    assert abs(float(_metric(at, "Σ products + bias")) - expected) < 1e-5
    assert abs(float(_metric(at, "The network's value")) - expected) < 1e-5
    assert float(_metric(at, "Difference")) < 1e-5


def test_relu_and_pool_units_follow_the_layer_below(default_page, shipped):
    at = default_page
    acts = _forward(shipped, _drawn("star"))
    at.selectbox(key="tc_layer").set_value("pool1").run()
    at.number_input(key="tc_channel").set_value(2)
    at.number_input(key="tc_row").set_value(10)
    at.number_input(key="tc_col").set_value(11)
    at.run()
    assert abs(float(_metric(at, "max of the window")) - float(acts["pool1"][2, 10, 11])) < 1e-6
    window = acts["relu1_2"][2, 20:22, 22:24]
    assert float(acts["pool1"][2, 10, 11]) == float(window.max())
    # "Explain the winner" moves to the ReLU unit below that holds the maximum.
    at.button(key="tc_follow").click().run()
    r, c = divmod(int(window.argmax()), 2)
    assert at.subheader[0].value == f"relu1_2, channel 2, unit ({20 + r}, {22 + c})"
    assert float(_metric(at, "max(0, x)")) == pytest.approx(float(window.max()), abs=1e-6)
    assert_clean(at)


def test_softmax_view_sums_to_one(default_page, shipped):
    at = default_page
    at.selectbox(key="tc_layer").set_value("softmax").run()
    assert_clean(at)
    table = next(df for df in tables(at) if "probability" in df.columns)
    assert abs(sum(numbers(table["probability"])) - 1) < 1e-5
    assert _metric(at, "Sum of the probabilities") == "1.000000"
    logits = _forward(shipped, _drawn("star"))["logits"].numpy()
    assert np.allclose(numbers(table["logit z"]), logits, atol=1e-4)
    at.selectbox(key="tc_out_class").set_value(CLASSES.index("ring")).run()
    assert at.subheader[0].value == "softmax of “ring”"
    at.selectbox(key="tc_layer").set_value("logits").run()
    assert abs(float(_metric(at, "w·x + b")) - logits[CLASSES.index("ring")]) < 1e-4
    assert_clean(at)


def test_a_session_trained_model_is_offered_and_the_page_adapts():
    config = CNNConfig(classes=("circle", "square"), depth_blocks=1, filters=3, pool=False)
    at, model, label = _session_model(config)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    choice = at.selectbox(key="tc_model")
    assert choice.options == [label, SHIPPED] and choice.value == label
    layers = at.selectbox(key="tc_layer").options
    assert [o.split(" · ")[0] for o in layers] == [
        "conv1_1",
        "relu1_1",
        "conv1_2",
        "relu1_2",
        "flatten",
        "logits",
        "softmax",
    ]
    assert at.button_group(key="tc_render_class").options == ["circle", "square"]
    probs = _forward(model, _drawn("circle"))["softmax"]  # a circle: star is not its class
    k = int(probs.argmax())
    assert _metric(at, "Predicted class") == config.classes[k]
    assert _metric(at, "Its probability") == f"{float(probs[k]):.2%}"
    assert "50.0%" in at.info[0].value
    # Back to the shipped model: the layer menu gains the pools again.
    choice.set_value(SHIPPED).run()
    assert_clean(at)
    assert any(o.startswith("pool2") for o in at.selectbox(key="tc_layer").options)


def test_a_model_without_relu_and_a_one_by_one_kernel():
    config = CNNConfig(
        classes=("ring", "dots", "cross"), depth_blocks=2, filters=2, kernel=1, relu=False
    )
    at, _, _ = _session_model(config, "linear 1×1", opened=("open_tc_filters",))
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    names = [o.split(" · ")[0] for o in at.selectbox(key="tc_layer").options]
    assert not any(n.startswith("relu") for n in names) and "pool2" in names
    assert any("1×1" in i.value for i in at.info)  # no hand-made 1×1 kernels to compare


def test_uniform_picture_and_a_corrupt_upload(shipped):
    at = open_page(PAGE)
    at.button_group(key="tc_source").set_value("Your own picture").run()
    at.button_group(key="trained_cnn_source").set_value("Upload").run()
    uniform = _png()
    at.file_uploader(key="trained_cnn_upload").upload("grey.png", uniform, "image/png").run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    x = preprocess(Image.open(io.BytesIO(uniform)), 64)
    probs = _forward(shipped, x)["softmax"]
    k = int(probs.argmax())
    assert _metric(at, "Predicted class") == CLASSES[k]
    assert _metric(at, "Its probability") == f"{float(probs[k]):.2%}"
    at.file_uploader(key="trained_cnn_upload").upload("broken.png", b"not a picture", "image/png")
    at.run()
    assert_clean(at)
    assert any("could not be used" in e.value for e in at.error)
    assert _metric(at, "Predicted class") == CLASSES[k]  # the previous picture is kept


def _hires_trace(at) -> np.ndarray:
    """Return the z of the page's HiResCAM heatmap, decoding plotly's typed arrays."""
    for chart in charts(at):
        for trace in json.loads(chart.spec)["data"]:
            if trace.get("name") == "HiResCAM":
                z = trace["z"]
                if isinstance(z, dict):  # {"dtype": "f4", "bdata": base64, "shape": "32, 32"}
                    shape = tuple(int(v) for v in str(z["shape"]).split(","))
                    raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
                    return raw.reshape(shape).astype(np.float64)
                return np.asarray(z, dtype=np.float64)
    raise AssertionError("no HiResCAM trace on the page")


@pytest.mark.parametrize("cls", [None, "ring"])
def test_hires_cam_is_the_engines_and_sums_to_logit_minus_bias(default_page, shipped, cls):
    at = default_page
    x = _drawn("star")
    with torch.no_grad():
        logits = shipped(x[None])[0].double()
    k = int(logits.argmax()) if cls is None else CLASSES.index(cls)
    if cls is not None:
        at.selectbox(key="tc_explain").set_value(k).run()
        assert_clean(at)
    assert at.selectbox(key="tc_explain").value == k
    expected = hires_cam_layer(shipped, x, k).double().numpy()
    shown = _hires_trace(at)
    assert shown.shape == expected.shape == (32, 32)
    assert np.allclose(shown, expected, atol=1e-6)
    assert float(np.abs(expected).max()) > 0  # a map with something in it, even for the star
    # Euler's check on the page: Σ L equals the logit minus the bias, computed here directly.
    independent = float(logits[k]) - float(shipped.fc.bias.double()[k])
    assert float(_metric(at, "Σ L(i, j)")) == pytest.approx(independent, abs=2e-4)
    assert float(_metric(at, "logit − bias")) == pytest.approx(independent, abs=1e-4)
    assert float(_metric(at, "Difference")) < 1e-3
    # The lighting toggle swaps the saliency panel; HiResCAM stays the same.
    at.toggle(key="tc_lit").set_value(True).run()
    assert_clean(at)
    assert np.allclose(_hires_trace(at), expected, atol=1e-6)
    at.toggle(key="tc_lit").set_value(False).run()


def _filters(kind: str) -> torch.Tensor:
    """Return (8, 3, 3, 3) first-layer filters: random, or Sobel x in grey (all channels)."""
    if kind == "sobel":
        return handmade_kernels(3)["Sobel x"].expand(8, 3, 3, 3).clone()
    return torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(3))


def test_the_first_layer_summary_claims_only_what_its_numbers_show():
    """Filters that barely moved are called unchanged (the old text said 'colour matters');
    grey Sobel filters from a random start are closer to the bank and moved to brightness."""
    start = _filters("random")
    same = training_summary(compare_filters(start * 1.001, start, 3))
    assert "no closer to hand-made ones" in same and f"within {CLASSIC_BY:.2f}" in same
    assert "as before training" in same and f"within {COLOUR_BY:.0%}" in same
    assert "colour matters" not in same

    c = compare_filters(_filters("sobel"), start, 3)
    grey = training_summary(c)
    assert f"median best |cos| {c.median_best:.2f} against {c.median_start_best:.2f}" in grey
    assert "resemble hand-made ones more" in grey
    assert "from colour differences to brightness patterns" in grey

    back = training_summary(compare_filters(start, _filters("sobel"), 3))
    assert "resemble hand-made ones less" in back
    assert "towards colour differences" in back


def test_an_untrained_model_shows_no_change_in_its_filters():
    """Filters still at their start: the old metrics showed "+0.00" and "+0 points" arrows."""
    config = CNNConfig(classes=("circle", "square"), depth_blocks=1, filters=4)
    at, _, _ = _session_model(config, "untrained", seed=0, opened=("open_tc_filters",))
    assert_clean(at)
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["Median best match, trained"] == ""
    assert deltas["Weight in colour differences"] == ""
    summary = next(m.value for m in at.markdown if "What training discovered" in m.value)
    assert "no closer to hand-made ones" in summary and "as before training" in summary


LAZY = {  # each lazy section's key and the chart keys drawn inside it
    "open_tc_patches": {"tc_top"},
    "open_tc_filters": {"tc_filters", "tc_filters_grey", "tc_handmade", "tc_similarity"},
}


def _chart_keys(at) -> set[str]:
    """Return the user keys of the page's Plotly charts (an element id ends "-<key>")."""
    return {c.key for c in charts(at)}


def test_the_first_visit_draws_no_folded_section():
    at = open_page(PAGE)
    shown = _chart_keys(at)
    assert "tc_attr" in shown  # the attribution maps stay on the first visit
    assert not shown & set().union(*LAZY.values())
    assert not any(m.label.startswith("Median best match") for m in at.metric)


def test_each_folded_section_draws_its_charts_when_opened():
    first = _chart_keys(open_page(PAGE))
    for key, expected in LAZY.items():
        at = open_page(PAGE)
        at.session_state[key] = True
        at.run()
        assert_clean(at)
        assert _chart_keys(at) == first | expected, key


def test_the_evidence_button_shows_its_class_in_section_2(shipped):
    at = open_page(PAGE)
    k = CLASSES.index("ring")
    at.selectbox(key="tc_explain").set_value(k).run()
    at.button(key="tc_cam_follow").click().run()
    assert_clean(at)
    assert at.session_state["tc_layer"] == "logits" and at.session_state["tc_out_class"] == k
    assert _metric(at, "w·x + b")  # section 2 shows the logit (the browser test checks the rerun)
