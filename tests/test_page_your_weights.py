"""AppTest for the your-weights page: the explanation first, then a random ResNet-18 in
torchvision's layout from the operator's folder (top-5, stage maps and both CAMs against the
engine on the same picture), refusals by name (wrong key, hostile pickle, too big), and Chinese.

Every weights file is written here from a seeded registry network; nothing is downloaded. Every
one of the nine networks is larger than the upload cap in float32, so the full path is tested
through EXPLORER_WEIGHTS_DIR, and uploads with the small files a refusal needs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save, save_file
from streamlit.testing.v1 import AppTest

from engine.architectures import (
    MAX_UPLOAD_BYTES,
    WEIGHTS_DIR_ENV,
    WeightsError,
    build,
    classify,
    grad_cam_classic,
    hires_cam_classic,
    load_weights,
    stage_maps,
)
from tests.charts import charts
from ui.inputs import PickedImage, current_image, working_tensor

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "your_weights.py")
WORK_SIDE = 512  # the page's WORK_SIDE: the photo's longest side handed to the engine
NAME = "resnet18"


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A weights folder holding a random ResNet-18 (seed 3) in torchvision's layout."""
    path = tmp_path_factory.mktemp("weights")
    state = {k: v.contiguous() for k, v in build(NAME, seed=3).state_dict().items()}
    save_file(state, path / f"{NAME}.safetensors")
    return path


def _open(lang: str | None = None, arch: str = NAME) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    if lang:
        at.query_params["lang"] = lang
    at.session_state["yw_arch"] = arch
    at.run()
    _clean(at)
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.spec) for c in charts(at)]


def _values(array) -> np.ndarray:
    """Return a trace's x, y or z as an array (Plotly sends numeric arrays base64-encoded)."""
    if isinstance(array, dict):
        flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        shape = [int(n) for n in str(array.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(array)


def _photo() -> torch.Tensor:
    """Return the page's default picture (the first sample) as the page hands it to the engine."""
    picked = current_image()
    return working_tensor(
        PickedImage(picked.name, picked.sha, picked.image, picked.data), WORK_SIDE, gray=False
    )


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.success])


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="yw_upload").set_value((name, data, "")).run()
    _clean(at)
    return at


def test_first_visit_explains_what_to_bring_and_computes_nothing(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    at = _open()
    want = list(build(NAME, meta=True).state_dict())
    text = _text(at)
    assert "No weights yet" in text
    assert f"the {len(want)} tensors" in text and want[0] in text
    assert f"capped at {MAX_UPLOAD_BYTES / 2**20:.0f} MB" in text
    assert "No server weights folder is configured" in text
    assert f'{NAME}.safetensors"' in at.code[0].value
    assert not charts(at) and not at.error


@pytest.fixture(scope="module")
def shown(folder):
    """The page with the folder's ResNet-18 on the default picture, and the engine's own run."""
    mp = pytest.MonkeyPatch()
    mp.setenv(WEIGHTS_DIR_ENV, str(folder))  # kept for the reruns of the tests below
    model = load_weights(NAME, folder / f"{NAME}.safetensors").model
    yield _open(), model, _photo()
    mp.undo()


def test_the_folder_file_is_said_and_loaded(shown, folder):
    at, _, _ = shown
    size = (folder / f"{NAME}.safetensors").stat().st_size / 2**20
    assert f"holds {NAME}.safetensors ({size:.1f} MB)" in _text(at)
    tensors = load_weights(NAME, folder / f"{NAME}.safetensors").tensors
    assert f"{tensors} tensors loaded." in _text(at)
    assert not at.error


def test_the_top_five_are_the_engines_on_the_same_picture(shown):
    at, model, photo = shown
    top = classify(model, photo, None, 5, name=NAME)
    bars = _charts(at)[0]["data"][0]
    assert list(bars["x"]) == [f"class {p.index}" for p in top]
    np.testing.assert_allclose(_values(bars["y"]), [100 * p.probability for p in top], rtol=1e-9)
    assert f"**class {top[0].index}** at {top[0].probability:.2%}" in _text(at)
    assert f"would give each {1 / 1000:.2%}" in _text(at)


def test_every_stage_is_shown_with_its_first_channels(shown):
    at, model, photo = shown
    maps, _ = stage_maps(model, NAME, photo)
    text = _text(at)
    for s in maps:
        c, h, w = s.maps.shape
        assert f"**{s.name}** · {c} channels of {h}×{w}" in text
    sheets = _charts(at)[1 : 1 + len(maps)]
    assert len(sheets) == len(maps)
    # the last stage (7×7) is shown unshrunk: its first channel is the sheet's first tile
    last = _values(sheets[-1]["data"][0]["z"])
    np.testing.assert_allclose(last[:7, :7], maps[-1].maps[0].numpy(), rtol=1e-5, atol=1e-6)


def test_both_cams_are_the_engines_for_the_chosen_class(shown):
    at, model, photo = shown
    top = classify(model, photo, None, 5, name=NAME)
    at.selectbox(key="yw_class").set_value(top[2].index).run()
    _clean(at)
    target = top[2].index
    grad = grad_cam_classic(model, NAME, photo, target)
    hires = hires_cam_classic(model, NAME, photo, target)
    traces = _charts(at)[-1]["data"]
    heat = [tr for tr in traces if tr["type"] == "heatmap"]
    np.testing.assert_allclose(_values(heat[0]["z"]), grad.cam.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_values(heat[1]["z"]), hires.cam.numpy(), rtol=1e-5, atol=1e-7)
    assert f"add up to {float(hires.cam.sum()):+.3f}" in _text(at)
    assert f"“class {target}”" in json.dumps(
        _charts(at)[-1]["layout"]["annotations"], ensure_ascii=False
    )


def _engine_refusal(data: bytes, name: str = NAME) -> str:
    with pytest.raises(WeightsError) as err:
        load_weights(name, data)
    return str(err.value)


def test_a_wrong_key_is_refused_by_name(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    data = save({"fc.weights": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)})
    at = _upload(_open(), "wrong.safetensors", data)
    assert "fc.weights" in _errors(at)
    assert _engine_refusal(data) in _errors(at)
    assert not charts(at)


class _Payload:
    """Unpickled, it would create a folder: the observable effect of arbitrary code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_malicious_pickle_is_refused_and_never_run(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save({"conv1.weight": _Payload(str(marker))}, buffer)
    at = _upload(_open(), "evil.pth", buffer.getvalue())
    assert "refused without being run" in _errors(at)
    assert not marker.exists()
    assert not charts(at)


def test_a_file_over_the_upload_cap_is_refused(monkeypatch, folder):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    data = (folder / f"{NAME}.safetensors").read_bytes()
    assert len(data) > MAX_UPLOAD_BYTES
    at = _upload(_open(), "big.safetensors", data)
    assert _engine_refusal(data) in _errors(at)


def test_not_safetensors_is_refused(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    at = _upload(_open(), "notes.safetensors", b"just some text, not weights")
    assert _engine_refusal(b"just some text, not weights") in _errors(at)


def test_an_upload_is_loaded_once_per_session_and_file(monkeypatch):
    """GoogLeNet in float16 fits under the cap: it loads, says what it converted, and a rerun
    reuses the session's model (same object) instead of reading the file again."""
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    state = {
        k: v.half() if v.is_floating_point() else v
        for k, v in build("googlenet").state_dict().items()
    }
    data = save({k: v.contiguous() for k, v in state.items()})
    assert len(data) < MAX_UPLOAD_BYTES
    at = _upload(_open(arch="googlenet"), "g.safetensors", data)
    assert "Converted float16 to float32." in _text(at)
    kept = at.session_state["yw_upload_model"]
    assert kept["key"] == ("googlenet", hashlib.sha256(data).hexdigest())
    model = kept["weights"].model
    at.selectbox(key="yw_class").select_index(1).run()
    _clean(at)
    assert at.session_state["yw_upload_model"]["weights"].model is model
    assert len(_charts(at)) == 1 + 5 + 1  # top classes, GoogLeNet's five stages, the CAMs


def test_a_label_file_names_the_classes_and_a_wrong_one_is_refused(monkeypatch, folder):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(folder))
    at = _open()
    names = "\n".join(f"thing {i}" for i in range(1000)).encode()
    at.file_uploader(key="yw_labels").set_value(("labels.txt", names, "")).run()
    _clean(at)
    assert all(x.startswith("thing ") for x in _charts(at)[0]["data"][0]["x"])
    at.file_uploader(key="yw_labels").set_value(("short.txt", b"a\nb\n", "")).run()
    _clean(at)
    assert "names 2 classes; the network has 1000" in _errors(at)
    assert all(x.startswith("class ") for x in _charts(at)[0]["data"][0]["x"])


def test_the_page_in_chinese(monkeypatch, folder):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(folder))
    at = _open(lang="zh")
    assert at.title[0].value == "你训练好的权重"
    assert _charts(at)[0]["data"][0]["x"][0].startswith("类别 ")
    assert not at.error
