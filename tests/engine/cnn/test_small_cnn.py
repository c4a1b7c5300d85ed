"""The small CNN and its explanations against independent references.

References: forward_all against forward and against F.conv2d/F.max_pool2d run by hand; unit
formulas (explicit indexing) against forward_all's activations for random units of every kind; a
central finite difference in float64 for saliency; engine.receptive_field's traced fields; the
shipped weights against a freshly rendered held-out set.
"""

import copy
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from engine.cnn import (
    CNNConfig,
    CNNError,
    ConvFormula,
    FlattenFormula,
    ModelLoadError,
    OutputFormula,
    PoolFormula,
    ReluFormula,
    SmallCNN,
    accuracy,
    filter_images,
    first_layer_filters,
    grad_cam,
    load,
    make_dataset,
    make_dataset_uint8,
    preprocess,
    saliency,
    save,
    top_activating_patches,
    unit_formula,
)
from engine.receptive_field import receptive_field

ASSET = Path(__file__).resolve().parents[3] / "assets" / "small_cnn.safetensors"


def _image(seed: int = 0, side: int = 64) -> torch.Tensor:
    return torch.rand(3, side, side, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def shipped():
    return load(ASSET)


@pytest.fixture(scope="module")
def images():
    return make_dataset(3, seed=5)[0]  # (30, 3, 64, 64)


CONFIGS = [
    CNNConfig(),
    CNNConfig(classes=("circle", "ring", "dots"), depth_blocks=1, filters=4, kernel=5),
    CNNConfig(pool=False, relu=False, filters=3, input_size=16),
    CNNConfig(depth_blocks=4, filters=6, kernel=1),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_forward_all_matches_forward_and_the_torch_ops(config):
    model = SmallCNN(config, seed=1).eval()
    x = torch.rand(2, 3, config.input_size, config.input_size)
    acts = model.forward_all(x)
    assert [(a.name, a.kind) for a in acts[1:]] == config.layers()
    assert acts[0].kind == "input" and acts[0].tensor is x
    assert torch.equal(acts[-2].tensor, model(x))
    assert torch.allclose(acts[-1].tensor.sum(1), torch.ones(2))
    for below, act in zip(acts, acts[1:], strict=False):
        if act.kind == "conv":
            conv = model.convs[act.name]
            ref = F.conv2d(below.tensor, conv.weight, conv.bias, padding=config.kernel // 2)
            assert torch.allclose(act.tensor, ref, atol=1e-6)
        elif act.kind == "relu":
            assert torch.equal(act.tensor, below.tensor.clamp_min(0))
            assert (below.tensor < 0).any()  # the conv output was not overwritten in place
        elif act.kind == "pool":
            assert torch.equal(act.tensor, F.max_pool2d(below.tensor, 2))
    assert acts[-3].tensor.shape == (2, config.flat_features)


def test_forward_all_leaves_the_model_unchanged():
    model = SmallCNN(seed=3).eval().requires_grad_(False)
    before = copy.deepcopy(model.state_dict())
    modules = [type(m) for m in model.modules()]
    x = _image()[None]
    model.forward_all(x)
    saliency(model, x[0], 2)
    grad_cam(model, x[0], 2)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [type(m) for m in model.modules()] == modules
    assert not model._forward_hooks and not model._forward_pre_hooks
    assert all(p.grad is None for p in model.parameters())


def _units(acts, rng: random.Random, per_layer: int = 4):
    for act in acts[1:]:
        shape = act.tensor.shape[1:]
        for _ in range(per_layer):
            yield act, [rng.randrange(n) for n in shape] + [0] * (3 - len(shape))


@pytest.mark.parametrize("config", CONFIGS)
def test_unit_formulas_reproduce_the_activations(config):
    model = SmallCNN(config, seed=2).eval()
    x = _image(4, config.input_size)
    with torch.no_grad():
        acts = model.forward_all(x[None])
    rng = random.Random(0)
    kinds = set()
    corners = [(act, [0, 0, 0]) for act in acts[1:]]  # corners reach into the padding
    for act, (c, r, q) in [*_units(acts, rng), *corners]:
        f = unit_formula(model, x, act.name, c, r, q, acts=None if c % 2 else acts)
        index = (0, c) if act.tensor.dim() == 2 else (0, c, r, q)
        assert abs(f.total - float(act.tensor[index])) < 1e-5, (act.name, c, r, q)
        assert f.value == pytest.approx(float(act.tensor[index]))
        kinds.add(type(f))
        if isinstance(f, ConvFormula):
            c_in = 3 if f.input_layer == "input" else config.filters
            assert f.patches.shape == f.kernels.shape == (c_in, config.kernel, config.kernel)
            assert float(f.patches[:, ~f.inside].abs().sum()) == 0
    expected = {ConvFormula, FlattenFormula, OutputFormula}
    expected |= {ReluFormula} if config.relu else set()
    expected |= {PoolFormula} if config.pool else set()
    assert kinds == expected


def test_pool_formula_names_the_winner_and_output_formula_is_a_softmax():
    model = SmallCNN(seed=5).eval()
    x = _image(6)
    f = unit_formula(model, x, "pool1", 3, 7, 9)
    assert f.window.shape == (2, 2) and float(f.window[f.argmax]) == f.value
    out = unit_formula(model, x, "softmax", 4)
    assert isinstance(out, OutputFormula) and out.class_name == model.config.classes[4]
    assert float(out.probabilities.sum()) == pytest.approx(1, abs=1e-6)
    assert torch.allclose(out.probabilities, model(x[None])[0].softmax(0), atol=1e-7)
    assert out.logit == pytest.approx(float(out.logits[4]), abs=1e-5)


def test_formula_person_errors():
    model = SmallCNN()
    x = _image()
    for args in [
        ("conv9_9", 0, 0, 0),
        ("conv1_1", 10, 0, 0),
        ("pool2", 0, 16, 0),
        ("logits", 10),
        ("input", 0, 0, 0),
        ("conv1_1", 0, -1, 0),
    ]:
        with pytest.raises(CNNError):
            unit_formula(model, x, *args)
    with pytest.raises(CNNError, match="must be"):
        unit_formula(model, torch.rand(3, 32, 32), "conv1_1", 0, 0, 0)
    with pytest.raises(CNNError):
        saliency(model, x, 10)


def test_saliency_matches_finite_differences_in_float64():
    model = SmallCNN(seed=7).double().eval()
    x = _image(8).double()
    sal = saliency(model, x, 3)
    assert sal.shape == (64, 64)
    eps = 1e-6
    rng = random.Random(1)
    for _ in range(4):
        r, q = rng.randrange(64), rng.randrange(64)
        grads = []
        for ch in range(3):
            plus, minus = x.clone(), x.clone()
            plus[ch, r, q] += eps
            minus[ch, r, q] -= eps
            with torch.no_grad():
                diff = model(plus[None])[0, 3] - model(minus[None])[0, 3]
            grads.append(abs(float(diff)) / (2 * eps))
        assert float(sal[r, q]) == pytest.approx(max(grads), rel=1e-4, abs=1e-9)


def test_grad_cam_is_in_unit_range_at_input_size():
    model = SmallCNN(seed=9).eval()
    for k in range(3):
        cam = grad_cam(model, _image(k), k)
        assert cam.shape == (64, 64)
        assert float(cam.min()) >= 0 and float(cam.max()) <= 1
        assert float(cam.max()) in (0.0, pytest.approx(1.0))


def test_receptive_fields_match_the_traced_network():
    for config in CONFIGS:
        model = SmallCNN(config)
        rows = receptive_field(model, config.input_size)
        traced = {row.name.removeprefix("convs."): row for row in rows}
        ours = model.receptive_fields()
        convs = [n for n, k in config.layers() if k == "conv"]
        for name in convs:
            assert (traced[name].size, traced[name].jump, traced[name].start) == ours[name]
        pools = [row for row in rows if row.kind == "maxpool"]
        ours_pools = [v for n, v in ours.items() if n.startswith("pool")]
        assert [(p.size, p.jump, p.start) for p in pools] == ours_pools


def test_top_activating_patches_are_the_receptive_fields_of_the_best_units(images):
    model = SmallCNN(seed=11).eval().requires_grad_(False)
    patches, values, positions = top_activating_patches(model, images, "relu2_2", 4, k=5)
    r = model.receptive_fields()["relu2_2"][0]
    assert patches.shape == (5, 3, r, r) and values.shape == (5,) and positions.shape == (5, 3)
    assert torch.all(values[:-1] >= values[1:])
    maps = model.forward_all(images)[9].tensor[:, 4]  # relu2_2, channel 4: (N, 32, 32)
    assert torch.allclose(values, maps.flatten(1).max(1).values.sort(descending=True).values[:5])
    n, row, col = positions[0].tolist()
    assert float(maps[n, row, col]) == pytest.approx(float(values[0]))
    # the patch is what the unit sees: put it back in a blank image and the unit reads the same
    blank = torch.zeros(1, 3, 64, 64)
    top, left = 2 * row + 0.5 - (r - 1) / 2, 2 * col + 0.5 - (r - 1) / 2
    padded = F.pad(blank, (r,) * 4)
    padded[0, :, int(top) + r : int(top) + 2 * r, int(left) + r : int(left) + 2 * r] = patches[0]
    probe = padded[:, :, r:-r, r:-r]
    assert float(model.forward_all(probe)[9].tensor[0, 4, row, col]) == pytest.approx(
        float(values[0]), abs=1e-5
    )
    with pytest.raises(CNNError):
        top_activating_patches(model, images, "logits", 0)


def test_first_layer_filters_are_a_copy_and_filter_images_centre_zero():
    model = SmallCNN()
    w = first_layer_filters(model)
    assert w.shape == (10, 3, 3, 3)
    w.zero_()
    assert float(model.convs["conv1_1"].weight.detach().abs().sum()) > 0
    imgs = filter_images(torch.tensor([[[[0.0, 2.0]], [[-1.0, 0.0]], [[0.0, 0.0]]]]))
    assert imgs.shape == (1, 1, 2, 3)
    assert imgs[0, 0, 1, 0] == 1 and imgs[0, 0, 0, 1] == 0.25 and imgs[0, 0, 0, 0] == 0.5


def test_save_load_round_trip(tmp_path):
    config = CNNConfig(classes=("circle", "ring"), filters=4, depth_blocks=1)
    model = SmallCNN(config, seed=13)
    path = save(model, {"note": "test"}, tmp_path / "m.safetensors")
    loaded, card = load(path)
    assert loaded.config == config and card["note"] == "test"
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    x = torch.rand(2, 3, 64, 64)
    assert torch.equal(model(x), loaded(x))
    assert not any(p.requires_grad for p in loaded.parameters())
    card_path = tmp_path / "m.json"
    bad = json.loads(card_path.read_text())
    bad["config"]["filters"] = 5
    card_path.write_text(json.dumps(bad))
    with pytest.raises(ModelLoadError, match="does not match"):
        load(path)
    with pytest.raises(ModelLoadError, match="Missing"):
        load(tmp_path / "none.safetensors")
    (tmp_path / "m.json").write_text(json.dumps(card))
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="Cannot read"):
        load(path)
    path.unlink()
    with pytest.raises(ModelLoadError, match="Missing m.safetensors"):
        load(path)


def test_config_person_errors():
    for kwargs in [
        {"kernel": 4},
        {"depth_blocks": 0},
        {"depth_blocks": 7},
        {"filters": 0},
        {"classes": ("circle",)},
        {"input_size": 8, "depth_blocks": 4},
    ]:
        with pytest.raises(CNNError):
            CNNConfig(**kwargs)
    assert CNNConfig.from_dict(CNNConfig().to_dict()) == CNNConfig()


def test_shipped_model_accuracy_on_a_fresh_held_out_set(shipped):
    model, card = shipped
    assert card["config"] == CNNConfig().to_dict() and card["input_size"] == 64
    assert ASSET.stat().st_size < 1_000_000
    x, y = make_dataset_uint8(100, seed=777)  # a set neither training nor the card used
    acc = accuracy(model, x, y)
    assert acc >= 0.95
    assert abs(acc - card["held_out_accuracy"]) < 0.025


def test_forward_to_stops_at_the_layer():
    model = SmallCNN(seed=4).eval()
    x = torch.rand(2, 3, 64, 64)
    acts = model.forward_all(x)
    for act in acts:
        assert torch.equal(model.forward_to(x, act.name), act.tensor), act.name
    with pytest.raises(CNNError, match="No layer"):
        model.forward_to(x, "conv3_1")


_CX, _CY, _R, _INK = 450, 600, 300, (25, 25, 30)  # the drawing's centre, radius and ink


def _star(d: ImageDraw.ImageDraw) -> None:
    pts = [
        (
            _CX + _R * (1 if i % 2 == 0 else 0.42) * math.cos(math.pi * i / 5 - math.pi / 2),
            _CY + _R * (1 if i % 2 == 0 else 0.42) * math.sin(math.pi * i / 5 - math.pi / 2),
        )
        for i in range(10)
    ]
    d.line([*pts, pts[0], pts[1]], fill=_INK, width=28, joint="curve")


def _cross(d: ImageDraw.ImageDraw) -> None:
    d.line([(_CX - _R, _CY), (_CX + _R, _CY)], fill=_INK, width=90)
    d.line([(_CX, _CY - _R), (_CX, _CY + _R)], fill=_INK, width=90)


def _horizontal_stripes(d: ImageDraw.ImageDraw) -> None:
    for y in range(200, 1001, 110):
        d.line([(40, y), (860, y + 10)], fill=_INK, width=45)


def _vertical_stripes(d: ImageDraw.ImageDraw) -> None:
    for x in range(60, 900, 130):
        d.line([(x, 160), (x + 12, 1040)], fill=_INK, width=50)


def _ring(d: ImageDraw.ImageDraw) -> None:
    d.ellipse([_CX - _R, _CY - _R, _CX + _R, _CY + _R], outline=_INK, width=28)


def _circle(d: ImageDraw.ImageDraw) -> None:
    d.ellipse([_CX - _R, _CY - _R, _CX + _R, _CY + _R], fill=(200, 30, 40))


def _square(d: ImageDraw.ImageDraw) -> None:
    d.rectangle([_CX - 260, _CY - 260, _CX + 260, _CY + 260], outline=_INK, width=28)


def _triangle(d: ImageDraw.ImageDraw) -> None:
    pts = [(_CX, _CY - _R), (_CX + _R, _CY + 0.6 * _R), (_CX - _R, _CY + 0.6 * _R)]
    d.polygon(pts, outline=_INK, width=28)


def _dots(d: ImageDraw.ImageDraw) -> None:
    for i in range(5):
        for j in range(5):
            x, y = 130 + 160 * i, 280 + 160 * j
            d.ellipse([x - 30, y - 30, x + 30, y + 30], fill=_INK)


def _checkerboard(d: ImageDraw.ImageDraw) -> None:
    for i in range(6):
        for j in range(8):
            if (i + j) % 2 == 0:
                d.rectangle([i * 150, j * 150, i * 150 + 150, j * 150 + 150], fill=_INK)


_MARKER = {
    "star": _star,
    "cross": _cross,
    "horizontal stripes": _horizontal_stripes,
    "vertical stripes": _vertical_stripes,
    "ring": _ring,
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "dots": _dots,
    "checkerboard": _checkerboard,
}


def _marker_drawing(kind: str) -> Image.Image:
    """Return a 900×1200 'phone photo' of a marker drawing on shaded paper (not shapes_data)."""
    h, w = 1200, 900
    yy, xx = np.mgrid[0:h, 0:w] / h
    shade = 0.93 - 0.12 * xx - 0.05 * yy  # light from the top left
    paper = np.stack([shade, shade * 0.98, shade * 0.93], -1)  # (H, W, 3), a warm white
    img = Image.fromarray((paper * 255).astype(np.uint8))
    _MARKER[kind](ImageDraw.Draw(img))
    img = img.filter(ImageFilter.GaussianBlur(2))
    noise = np.random.default_rng(0).normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(img) + noise, 0, 255).astype(np.uint8))


# assets/samples/shapes.png: 4 columns × 3 rows of 128-px cells (diamonds are squares)
SHEET = "circle square triangle circle triangle circle square ring square triangle circle square"


def test_shipped_model_reads_drawings_it_never_saw(shipped):
    """Marker drawings on paper and the sample sheet's shapes, drawn by other code entirely."""
    model, _ = shipped
    classes = model.config.classes
    pictures = [(_marker_drawing(k), k) for k in classes]
    sheet = Image.open(ASSET.parent / "samples" / "shapes.png").convert("RGB")
    for i, name in enumerate(SHEET.split()):
        r, c = divmod(i, 4)
        pictures.append((sheet.crop((c * 128, r * 128, c * 128 + 128, r * 128 + 128)), name))
    with torch.no_grad():
        guesses = [classes[int(model(preprocess(p)[None]).argmax())] for p, _ in pictures]
    wrong = [(k, g) for g, (_, k) in zip(guesses, pictures, strict=True) if g != k]
    assert len(wrong) <= 3, wrong  # (drawn, read) pairs
