"""Trained weights for the classic networks: loading, refusals, labels, top-k, stages and CAMs.

Every file here is written by the test from a randomly initialised registry network in
torchvision's layout; nothing is downloaded.
"""

import io
import json
import os
import pickle

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save, save_file
from torch import nn

from engine.architectures import (
    ARCHITECTURES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    WEIGHTS_DIR_ENV,
    WeightsError,
    build,
    centre_crop,
    classify,
    grad_cam_classic,
    hires_cam_classic,
    layer_rows,
    load_weights,
    normalise,
    preprocess,
    read_labels,
    stage_maps,
    stages,
    weights_path_from_env,
)
from engine.architectures.weights import _HEADS, _head, _run_stage
from engine.core import ExplorerError

SIDE = 64  # small crops keep the logic tests fast; ResNet-18 and VGG-16 both run at 64×64


def _photo(h: int = 80, w: int = 96, seed: int = 0) -> torch.Tensor:
    return torch.rand((3, h, w), generator=torch.Generator().manual_seed(seed))


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory):
    """(original model in eval mode, its state dict, the .safetensors path)."""
    model = build("resnet18", seed=3).eval()
    state = _state(model)
    path = tmp_path_factory.mktemp("weights") / "resnet18.safetensors"
    save_file(state, path)
    return model, state, path


@pytest.fixture(scope="module")
def loaded18(resnet18):
    return load_weights("resnet18", resnet18[2]).model


def _assert_same(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    got = model.state_dict()
    assert set(got) == set(state)
    for key, value in state.items():
        assert torch.equal(got[key], value), key


def _same_logits(a: nn.Module, b: nn.Module) -> None:
    x = torch.randn((2, 3, SIDE, SIDE), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


# --- loading back what was saved


def test_resnet18_safetensors_loads_back_identically(resnet18, loaded18):
    model, state, _ = resnet18
    _assert_same(loaded18, state)
    _same_logits(model, loaded18)


def test_vgg16_safetensors_loads_back_identically(tmp_path):
    model = build("vgg16", seed=4).eval()
    state = model.state_dict()  # views of the model's own tensors: 0.5 GB is not copied
    save_file(state, tmp_path / "vgg16.safetensors")
    loaded = load_weights("vgg16", tmp_path / "vgg16.safetensors").model
    _assert_same(loaded, state)
    _same_logits(model, loaded)


def test_loaded_network_is_real_float32_on_cpu_frozen_and_in_eval_mode(loaded18):
    tensors = [*loaded18.parameters(), *loaded18.buffers()]
    assert all(t.device.type == "cpu" and not t.is_meta for t in tensors)
    assert all(t.dtype == torch.float32 for t in tensors if t.is_floating_point())
    assert all(t.dtype == torch.int64 for t in tensors if not t.is_floating_point())
    assert not loaded18.training
    assert not any(p.requires_grad for p in loaded18.parameters())


def test_bytes_upload_loads_like_the_path(resnet18):
    model, state, path = resnet18
    result = load_weights("resnet18", path.read_bytes(), max_bytes=path.stat().st_size)
    _assert_same(result.model, state)
    assert result.tensors == len(state)
    assert (result.stripped_prefix, result.dropped_aux, result.filled_counters) == ("", 0, 0)
    assert result.converted_from == ()


@pytest.mark.parametrize("as_bytes", [True, False])
def test_pytorch_state_dict_loads_with_weights_only(resnet18, tmp_path, as_bytes):
    model, state, _ = resnet18
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = tmp_path / "resnet18.pth"
    path.write_bytes(buffer.getvalue())
    source = buffer.getvalue() if as_bytes else path
    _assert_same(load_weights("resnet18", source, max_bytes=10**9).model, state)


def test_a_checkpoint_s_state_dict_entry_is_used(resnet18):
    _, state, _ = resnet18
    buffer = io.BytesIO()
    torch.save({"epoch": 3, "state_dict": state}, buffer)
    _assert_same(load_weights("resnet18", buffer.getvalue(), max_bytes=10**9).model, state)


def test_half_precision_file_loads_as_float32(resnet18):
    _, state, _ = resnet18
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    result = load_weights("resnet18", save(half), max_bytes=10**9)
    assert result.converted_from == ("float16",)
    expected = {k: v.float() if v.is_floating_point() else v for k, v in half.items()}
    _assert_same(result.model, expected)


def test_dataparallel_prefix_is_stripped_and_reported(resnet18):
    _, state, _ = resnet18
    prefixed = {f"module.{k}": v for k, v in state.items()}
    result = load_weights("resnet18", save(prefixed), max_bytes=10**9)
    assert result.stripped_prefix == "module."
    _assert_same(result.model, state)


def test_missing_step_counters_are_filled_with_zero(resnet18):
    _, state, _ = resnet18
    counters = [k for k in state if k.endswith("num_batches_tracked")]
    assert len(counters) == sum(isinstance(m, nn.BatchNorm2d) for m in resnet18[0].modules())
    kept = {k: v for k, v in state.items() if k not in counters}
    result = load_weights("resnet18", save(kept), max_bytes=10**9)
    assert result.filled_counters == len(counters)
    assert all(int(result.model.get_buffer(k)) == 0 for k in counters)
    _same_logits(resnet18[0], result.model)  # eval mode never reads the counters


def test_auxiliary_heads_of_googlenet_are_dropped_and_reported():
    model = build("googlenet", seed=0).eval()
    state = _state(model)
    aux = {"aux1.fc2.weight": torch.zeros(1000, 1024), "aux2.fc2.bias": torch.zeros(1000)}
    result = load_weights("googlenet", save(state | aux), max_bytes=10**9)
    assert result.dropped_aux == 2
    _assert_same(result.model, state)


# --- refusals


def _refused(source, match: str, name: str = "resnet18", **kwargs) -> WeightsError:
    with pytest.raises(WeightsError, match=match) as info:
        load_weights(name, source, **{"max_bytes": 10**9} | kwargs)
    assert isinstance(info.value, ExplorerError)
    return info.value


def test_missing_keys_are_named_five_then_counted(resnet18):
    _, state, _ = resnet18
    gone = [k for k in state if k.startswith("layer4.") and "num_batches" not in k]  # net order
    err = _refused(save({k: v for k, v in state.items() if k not in gone}), "missing")
    message = str(err)
    assert f"{len(gone)} tensors of ResNet-18 are missing" in message
    assert all(k in message for k in gone[:5])
    assert gone[5] not in message and f"and {len(gone) - 5} more" in message
    assert err.template.startswith("{count} tensors of {title}")  # translatable template


def test_unexpected_keys_are_named(resnet18):
    _, state, _ = resnet18
    _refused(save(state | {"head.extra": torch.zeros(2)}), r"1 tensors .* not part .*head\.extra")


def test_shape_mismatch_names_key_got_and_want(resnet18):
    _, state, _ = resnet18
    wrong = state | {"fc.weight": torch.zeros(10, 512), "fc.bias": torch.zeros(10)}
    err = _refused(save(wrong), "wrong shape")
    assert "fc.weight has shape (10, 512), the network expects (1000, 512)" in str(err)
    assert "fc.bias has shape (10,), the network expects (1000,)" in str(err)


def test_integer_weights_are_refused(resnet18):
    _, state, _ = resnet18
    bad = state | {"conv1.weight": state["conv1.weight"].to(torch.int32)}
    _refused(save(bad), r"conv1\.weight must hold real floating-point numbers, got int32")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(resnet18, value):
    _, state, _ = resnet18
    bad = state["layer2.0.conv1.weight"].clone()
    bad[0, 0, 0, 0] = value
    _refused(save(state | {"layer2.0.conv1.weight": bad}), r"layer2\.0\.conv1\.weight .*NaN")


@pytest.mark.parametrize(
    "data", [b"", b"hello, these are not weights", b"\x89PNG\r\n\x1a\n" + bytes(64), bytes(100)]
)
def test_files_that_are_not_safetensors_are_refused(data):
    _refused(data, "not a .safetensors file")


def test_a_truncated_safetensors_file_is_refused(resnet18):
    data = resnet18[2].read_bytes()
    _refused(data[: len(data) // 2], "damaged or truncated")


def test_an_upload_over_the_cap_is_refused_but_a_path_is_not(resnet18):
    path = resnet18[2]
    size = path.stat().st_size
    _refused(path.read_bytes(), "uploads are limited", max_bytes=size - 1)
    load_weights("resnet18", path, max_bytes=size - 1)  # the operator's file: not capped


def test_a_missing_path_and_an_unknown_name_are_refused(tmp_path, resnet18):
    _refused(tmp_path / "nothing.safetensors", "no weights file")
    _refused(resnet18[2], "Unknown architecture", name="resnet1000")


class _Payload:
    """Unpickled, it would create a folder: the observable effect of arbitrary code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("via", ["torch.save", "pickle"])
@pytest.mark.parametrize("as_bytes", [True, False])
def test_a_malicious_pickle_is_refused_and_never_run(tmp_path, via, as_bytes):
    marker = tmp_path / "ran"
    payload = {"conv1.weight": _Payload(str(marker))}
    if via == "torch.save":
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        data = buffer.getvalue()
    else:
        data = pickle.dumps(payload, protocol=2)
    (tmp_path / "evil.pth").write_bytes(data)
    source = data if as_bytes else tmp_path / "evil.pth"
    _refused(source, "refused without being run")
    assert not marker.exists()
    pickle.loads(pickle.dumps(payload))  # the payload is live: plain unpickling runs it
    assert marker.exists()


def test_a_pytorch_file_that_is_not_a_state_dict_is_refused():
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)
    _refused(buffer.getvalue(), "not a state dict")


# --- the operator's folder


def test_weights_path_from_env(tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    assert weights_path_from_env("resnet50") is None
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    assert weights_path_from_env("resnet50") is None
    (tmp_path / "resnet50.safetensors").write_bytes(b"x")
    assert weights_path_from_env("resnet50") == tmp_path / "resnet50.safetensors"
    with pytest.raises(WeightsError, match="Unknown architecture"):
        weights_path_from_env("../resnet50")


# --- labels


def test_labels_one_per_line_ignoring_blank_lines():
    assert read_labels("tench\n\ngoldfish\r\nshark\n", count=3) == ["tench", "goldfish", "shark"]
    assert read_labels("\ufeffa\nb".encode(), count=2) == ["a", "b"]


def test_labels_from_json_list_and_objects():
    assert read_labels('["a", "b"]', count=2) == ["a", "b"]
    assert read_labels('{"1": "b", "0": "a"}', count=2) == ["a", "b"]
    index = {"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}
    assert read_labels(json.dumps(index), count=2) == ["tench", "goldfish"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a\nb\nc", "names 3 classes; the network has 2"),
        ('["a"]', "names 1 classes; the network has 2"),
        ('{"0": "a", "2": "c"}', "without gaps"),
        ('{"zero": "a", "one": "b"}', "class indices"),
        ('["a", 3]', "non-empty name"),
        ("[not json", "not valid JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_label_files_that_do_not_fit_are_refused(text, match):
    with pytest.raises(WeightsError, match=match):
        read_labels(text, count=2)


# --- preprocessing and top-k


def test_preprocess_crops_the_centre_and_normalises_with_the_imagenet_constants():
    # the shorter side is already 73 = round(64·256/224), so resizing leaves it as it is
    photo = _photo(73, 90)
    top, left = round((73 - 64) / 2), round((90 - 64) / 2)  # 4 (round half to even) and 13
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    expected = (photo[:, top : top + 64, left : left + 64] - mean) / std
    torch.testing.assert_close(preprocess(photo, "resnet18", crop=64)[0], expected)


def test_resize_keeps_the_aspect_and_a_flat_colour():
    photo = torch.ones(3, 300, 150) * torch.tensor([0.2, 0.5, 0.9]).view(3, 1, 1)
    crop = centre_crop(photo, "resnet18")
    assert crop.shape == (3, 224, 224)
    torch.testing.assert_close(crop, photo[:, :1, :1].expand(3, 224, 224))


def test_googlenet_and_inception_read_inputs_scaled_to_minus_one_one():
    crop = torch.rand(3, 8, 8)
    for name in ("googlenet", "inception_v3"):
        torch.testing.assert_close(normalise(crop, name)[0], (crop - 0.5) / 0.5)
    assert centre_crop(_photo(), "inception_v3").shape == (3, 299, 299)


def test_top_k_matches_torch_topk_of_the_softmax(loaded18):
    photo = _photo()
    labels = [f"name {i}" for i in range(1000)]
    got = classify(loaded18, photo, labels, k=5, name="resnet18", crop=SIDE)
    with torch.no_grad():
        probs = torch.softmax(loaded18(preprocess(photo, "resnet18", crop=SIDE)).double(), 1)[0]
    top = torch.topk(probs, 5)
    assert [p.index for p in got] == top.indices.tolist()
    assert [p.label for p in got] == [f"name {i}" for i in top.indices.tolist()]
    torch.testing.assert_close(torch.tensor([p.probability for p in got]), top.values.float())
    unnamed = classify(loaded18, photo, k=1, name="resnet18", crop=SIDE)
    assert unnamed[0].label == f"class {top.indices[0]}"


def test_classify_refuses_a_bad_k_or_label_count(loaded18):
    with pytest.raises(WeightsError, match="k must be at most 1000"):
        classify(loaded18, _photo(), k=1001, crop=SIDE)
    with pytest.raises(WeightsError, match="names 2 classes"):
        classify(loaded18, _photo(), ["a", "b"], crop=SIDE)
    with pytest.raises(WeightsError, match="RGB"):
        classify(loaded18, torch.rand(1, 80, 80), crop=SIDE)


# --- stages


def _hooked_shapes(name: str, side: int) -> dict[str, tuple[int, ...]]:
    """Return the output shape of each stage's last module in the model's own forward (hooks)."""
    model = build(name, meta=True).eval()
    shapes = {}
    for stage in stages(model, name):
        module = model.get_submodule(stage.modules[-1])
        module.register_forward_hook(
            lambda m, i, o, n=stage.name: shapes.__setitem__(n, tuple(o.shape[1:]))
        )
    model(torch.empty(1, 3, side, side, device="meta"))
    return shapes


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_stages_match_the_forward_and_the_layer_trace(name):
    side = ARCHITECTURES[name].input_size
    model = build(name, meta=True).eval()
    x = torch.empty(1, 3, side, side, device="meta")
    got = {}
    with torch.no_grad():
        for stage in stages(model, name):
            x = _run_stage(model, stage, x)
            got[stage.name] = tuple(x.shape[1:])
        assert _head(model, name, x).shape == (1, 1000)
    assert got == _hooked_shapes(name, side)
    rows = {r.name: r.out_shape for r in layer_rows(name, side)}
    for stage in stages(model, name):  # stages that end on a pooling layer the trace lists
        if stage.modules[-1] in rows:
            assert got[stage.name] == rows[stage.modules[-1]], stage.name
    pool = _HEADS.get(name, ("avgpool",))[0]
    assert list(got.values())[-1][0] == rows[pool][0]  # the head pools the last stage's channels


def test_stage_maps_compose_to_the_network_and_never_hook_it(loaded18):
    photo = _photo()
    maps, logits = stage_maps(loaded18, "resnet18", photo, crop=SIDE)
    assert [m.name for m in maps] == ["stem", "layer1", "layer2", "layer3", "layer4"]
    assert [tuple(m.maps.shape) for m in maps] == [
        (64, 16, 16),
        (64, 16, 16),
        (128, 8, 8),
        (256, 4, 4),
        (512, 2, 2),
    ]
    with torch.no_grad():
        x = preprocess(photo, "resnet18", crop=SIDE)
        torch.testing.assert_close(logits, loaded18(x)[0])
        stem = loaded18.maxpool(loaded18.relu(loaded18.bn1(loaded18.conv1(x))))
        torch.testing.assert_close(maps[1].maps, loaded18.layer1(stem)[0])
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in loaded18.modules())


def test_vgg_stages_are_the_five_pools():
    model = build("vgg16", meta=True)
    assert [s.name for s in stages(model, "vgg16")] == [f"pool{i}" for i in range(1, 6)]
    assert [s.modules[-1] for s in stages(model, "vgg16")] == [
        f"features.{i}" for i in (4, 9, 16, 23, 30)
    ]


# --- class evidence


def _brute_force_cam(model: nn.Module, x: torch.Tensor, module: str, k: int):
    """Return (A, ∂z_k/∂A, z_k) of the whole network's own forward, A captured by a hook."""
    captured = {}
    handle = model.get_submodule(module).register_forward_hook(
        lambda m, i, o: captured.__setitem__("A", o)
    )
    try:
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)  # the graph reaches A through the input
            z = model(x)[0, k]
            (grad,) = torch.autograd.grad(z, captured["A"])
    finally:
        handle.remove()
    return captured["A"][0].detach(), grad[0], float(z.detach())


def test_grad_cam_matches_a_brute_force_autograd_computation(resnet18):
    model = build("resnet18", seed=3).eval()  # the test's own copy, hooked here only
    photo = _photo(seed=5)
    x = preprocess(photo, "resnet18", crop=SIDE)
    positive = 0
    for k in range(0, 1000, 100):
        maps, grad, z = _brute_force_cam(model, x, "layer4", k)
        expected = F.relu((grad.mean((1, 2))[:, None, None] * maps).sum(0))
        peak = float(expected.max())
        positive += peak > 0
        expected = expected / peak if peak > 0 else expected
        got = grad_cam_classic(resnet18[0], "resnet18", photo, k, crop=SIDE)
        assert got.layer == "layer4" and got.logit == pytest.approx(z, abs=1e-5)
        torch.testing.assert_close(got.cam, expected)
        assert got.upsampled.shape == (SIDE, SIDE) and got.crop.shape == (3, SIDE, SIDE)
        assert 0 <= float(got.upsampled.min()) and float(got.upsampled.max()) <= 1
    assert positive >= 3  # most classes have some positive evidence: the maps were compared


def test_hires_cam_adds_up_to_the_logit_minus_the_bias(loaded18):
    for k in (0, 123, 999):
        cam = hires_cam_classic(loaded18, "resnet18", _photo(seed=k), k, crop=SIDE)
        assert cam.bias == pytest.approx(float(loaded18.fc.bias[k]))
        assert float(cam.cam.double().sum()) == pytest.approx(cam.logit - cam.bias, abs=1e-4)
        assert cam.upsampled.shape == (SIDE, SIDE)
        assert set(cam.upsampled.unique().tolist()) <= set(cam.cam.unique().tolist())


def test_hires_cam_on_densenet_uses_its_final_relu():
    model = build("densenet121", seed=0).eval()
    cam = hires_cam_classic(model, "densenet121", _photo(), 5, crop=SIDE)
    assert cam.layer == "denseblock4"
    assert float(cam.cam.double().sum()) == pytest.approx(cam.logit - cam.bias, abs=1e-4)
    with torch.no_grad():
        assert cam.logit == pytest.approx(
            float(model(preprocess(_photo(), "densenet121", crop=SIDE))[0, 5]), abs=1e-5
        )


def test_cams_leave_the_shared_model_untouched_and_refuse_a_bad_class(loaded18):
    before = _state(loaded18)
    grad_cam_classic(loaded18, "resnet18", _photo(), 3, crop=SIDE)
    _assert_same(loaded18, before)
    assert all(p.grad is None for p in loaded18.parameters())
    with pytest.raises(WeightsError, match="class index must be at most 999"):
        hires_cam_classic(loaded18, "resnet18", _photo(), 1000, crop=SIDE)
