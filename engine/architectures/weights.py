"""Trained weights for a classic network: load them safely, classify a photo, show what it sees.

`load_weights(name, source)` fills one of the nine registry networks with a state dict in
torchvision's layout (the names registry.build already uses), from a `.safetensors` file given as
bytes (an upload) or as a path (the operator's), or from a PyTorch `.pt`/`.pth` state dict read
with `torch.load(weights_only=True)`: nothing is ever unpickled beyond tensors and plain
containers. Keys and shapes are checked by name before anything is assigned; the network is built
on the meta device and takes the file's tensors as they are (`assign=True`), so no random
initialisation of 25 M parameters is spent. `classify` gives the top-k classes of a photo,
`stage_maps` every stage's feature maps, `grad_cam_classic` and `hires_cam_classic` the class
evidence at the last stage. The stages are run one after another by this module, never with hooks,
so a model cached and shared by several sessions is only read.

Operator settings:
- `EXPLORER_WEIGHTS_DIR`: a folder on the server; `<name>.safetensors` there (for example
  `resnet50.safetensors`, ~100 MB) is what `weights_path_from_env(name)` returns. Files the
  operator placed are trusted for size (not capped) but still checked like any upload.
- `MAX_UPLOAD_BYTES` (16 MiB, the app's `server.maxUploadSize`): the largest upload
  `load_weights` reads from bytes; a caller may pass another `max_bytes`.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file as load_safetensors_file
from torch import nn

from engine.architectures.registry import ARCHITECTURES, ArchitectureError, build
from engine.core import N_, check_int, check_tensor

WEIGHTS_DIR_ENV = "EXPLORER_WEIGHTS_DIR"
MAX_UPLOAD_BYTES = 16 * 1024 * 1024  # the app's server.maxUploadSize (16 MB, Streamlit's MiB)
MAX_LISTED = 5  # names listed in a refusal before "and N more"
DATAPARALLEL_PREFIX = "module."  # what nn.DataParallel / DistributedDataParallel prepend
# Auxiliary classifiers torchvision's GoogLeNet and Inception v3 files carry; ours have none
AUX_PREFIXES = {"googlenet": ("aux1.", "aux2."), "inception_v3": ("AuxLogits.",)}

# ImageNet evaluation preprocessing, as torchvision's ImageClassification preset states it: resize
# the shorter side to 256, centre-crop 224 (Inception v3: 342 and 299, the same 256/224 ratio),
# then normalise with the per-channel mean and std of the ImageNet training images.
RESIZE, CROP = 256, 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's GoogLeNet and Inception v3 weights come with transform_input=True, which turns the
# ImageNet-normalised input back into (x - 0.5) / 0.5 (the scaling Google trained them with); our
# networks have no such step, so those two take that normalisation directly.
HALF = (0.5, 0.5, 0.5)
NORMALISATION = {name: (IMAGENET_MEAN, IMAGENET_STD) for name in ARCHITECTURES} | {
    "googlenet": (HALF, HALF),
    "inception_v3": (HALF, HALF),
}

_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_ZIP, _PICKLE = b"PK\x03\x04", b"\x80"  # torch.save's archive; a bare (legacy) pickle


class WeightsError(ArchitectureError):
    """A weights file, label file or request that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class LoadedWeights:
    """A network filled from a file, and what was adjusted on the way (each said on the page)."""

    name: str
    # eval mode, parameters frozen, every tensor a float32 (or int) on the CPU
    model: nn.Module = field(repr=False)
    tensors: int  # tensors in the file that were used
    stripped_prefix: str  # "module." when the keys carried DataParallel's prefix, else ""
    dropped_aux: int  # auxiliary-classifier tensors left out (GoogLeNet, Inception v3)
    filled_counters: int  # batch-norm step counters absent from the file, set to 0 (unused)
    converted_from: tuple[str, ...]  # dtypes other than float32 that were converted, sorted


# --- reading a file


def weights_path_from_env(name: str) -> Path | None:
    """Return the operator's EXPLORER_WEIGHTS_DIR/<name>.safetensors if it exists, else None."""
    _check_name(name)
    folder = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    if not folder:
        return None
    path = Path(folder) / f"{name}.safetensors"
    return path if path.is_file() else None


def _check_name(name: str) -> str:
    """Return name if the registry knows it, else raise WeightsError listing the names."""
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise WeightsError(
            N_("Unknown architecture {name!r}; choose one of: {names}."),
            name=name,
            names=", ".join(ARCHITECTURES),
        )
    return name


def _read_source(source: bytes | str | os.PathLike, max_bytes: int) -> dict[str, torch.Tensor]:
    """Return the tensors of an uploaded file (bytes, capped) or an operator's path (not capped)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise WeightsError(
                N_(
                    "The file is {size:.1f} MB; uploads are limited to {cap:.1f} MB. Ask the "
                    "operator to place it in the server's weights folder instead."
                ),
                size=len(data) / 2**20,
                cap=max_bytes / 2**20,
            )
        return _parse(data[:16], lambda: load_safetensors_bytes(data), lambda: io.BytesIO(data))
    path = Path(source)
    if not path.is_file():
        raise WeightsError(N_("There is no weights file at {path}."), path=str(path))
    with path.open("rb") as f:
        head = f.read(16)
    return _parse(head, lambda: load_safetensors_file(path, device="cpu"), lambda: path)


def _parse(
    head: bytes, safetensors: Callable[[], dict], torch_file: Callable[[], object]
) -> dict[str, torch.Tensor]:
    """Return the tensors of a file by its first bytes: a PyTorch archive or safetensors."""
    if head.startswith((_ZIP, _PICKLE)):
        return _torch_state_dict(torch_file())
    if not _looks_like_safetensors(head):
        raise WeightsError(
            N_(
                "This is not a .safetensors file (nor a PyTorch state dict); export the weights "
                "with safetensors.torch.save_file."
            )
        )
    try:
        return safetensors()
    except (SafetensorError, ValueError, OSError) as err:
        raise WeightsError(
            N_("The .safetensors file is damaged or truncated ({reason})."), reason=str(err)
        ) from None


def _looks_like_safetensors(head: bytes) -> bool:
    """Return True for a safetensors start: an 8-byte little-endian header size, then '{'."""
    if len(head) < 9:
        return False
    (size,) = struct.unpack("<Q", head[:8])
    return 2 <= size <= 100_000_000 and head[8:9] == b"{"


def _torch_state_dict(file: object) -> dict[str, torch.Tensor]:
    """Return a .pt/.pth state dict read with weights_only=True: tensors and containers only."""
    try:
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # a hostile pickle is refused here, before anything runs
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WeightsError(
            N_(
                "This PyTorch file holds more than tensors, so it is refused without being run "
                "({reason}). Save only the state dict, ideally as .safetensors."
            ),
            reason=first[:200],
        ) from None
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]  # a training checkpoint: its weights
    if not isinstance(loaded, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise WeightsError(
            N_("The PyTorch file is not a state dict (names mapped to tensors); got {kind}."),
            kind=type(loaded).__name__,
        )
    return dict(loaded)


# --- matching the file to the network


def _listed(names: list[str]) -> str:
    """Return at most MAX_LISTED names, then "and N more"."""
    shown = ", ".join(names[:MAX_LISTED])
    rest = len(names) - MAX_LISTED
    return f"{shown} and {rest} more" if rest > 0 else shown


def _normalise_keys(
    name: str, tensors: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], str, int]:
    """Return (tensors, stripped prefix, auxiliary tensors dropped) with the names made ours."""
    prefix = ""
    if tensors and all(k.startswith(DATAPARALLEL_PREFIX) for k in tensors):
        prefix = DATAPARALLEL_PREFIX
        tensors = {k.removeprefix(prefix): v for k, v in tensors.items()}
    aux = AUX_PREFIXES.get(name, ())
    kept = {k: v for k, v in tensors.items() if not k.startswith(aux)} if aux else tensors
    return kept, prefix, len(tensors) - len(kept)


def _check_keys(name: str, tensors: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> int:
    """Raise WeightsError for missing or unexpected names; return the counters to fill with 0."""
    title = ARCHITECTURES[name].title
    unexpected = sorted(set(tensors) - set(want))
    if unexpected:
        raise WeightsError(
            N_("{count} tensors in the file are not part of {title}: {keys}."),
            count=len(unexpected),
            title=title,
            keys=_listed(unexpected),
        )
    missing = [k for k in want if k not in tensors]
    counters = [k for k in missing if k.endswith("num_batches_tracked")]
    missing = [k for k in missing if k not in counters]
    if missing:
        raise WeightsError(
            N_("{count} tensors of {title} are missing from the file: {keys}."),
            count=len(missing),
            title=title,
            keys=_listed(missing),
        )
    return len(counters)


def _check_shapes(tensors: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    """Raise WeightsError naming every tensor whose shape is not the network's (up to 5)."""
    wrong = [
        f"{k} has shape {tuple(v.shape)}, the network expects {tuple(want[k].shape)}"
        for k, v in tensors.items()
        if tuple(v.shape) != tuple(want[k].shape)
    ]
    if wrong:
        raise WeightsError(
            N_("{count} tensors have the wrong shape: {details}."),
            count=len(wrong),
            details="; ".join(wrong[:MAX_LISTED])
            + (f"; and {len(wrong) - MAX_LISTED} more" if len(wrong) > MAX_LISTED else ""),
        )


def _check_values(
    tensors: dict[str, torch.Tensor], want: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Return the tensors as float32 (integer counters kept), refusing wrong kinds and NaN/inf."""
    out = {}
    for key, value in tensors.items():
        if not want[key].is_floating_point():  # a batch-norm step counter
            if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
                raise WeightsError(
                    N_("{key} must hold a whole number, got {dtype}."), key=key, dtype=value.dtype
                )
            out[key] = value.to(want[key].dtype)
            continue
        if value.dtype not in _FLOATS:
            raise WeightsError(
                N_("{key} must hold real floating-point numbers, got {dtype}."),
                key=key,
                dtype=str(value.dtype).removeprefix("torch."),
            )
        value = value.to(torch.float32).contiguous()
        # NumPy's one-threaded pass, as engine.core.check_tensor does (see its comment)
        if not np.isfinite(value.numpy()).all():
            raise WeightsError(N_("{key} contains NaN or infinity."), key=key)
        out[key] = value
    return out


# --- loading


def load_weights(
    name: str, source: bytes | str | os.PathLike, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> LoadedWeights:
    """Return the named network filled from the file (.model, eval mode) and what was adjusted.

    source: the bytes of an upload (refused over max_bytes) or a path set by the operator (not
    capped). A file of any of torch's float types loads as float32.
    """
    _check_name(name)
    tensors = _read_source(source, check_int("max_bytes", max_bytes, 1, error=WeightsError))
    tensors, prefix, dropped = _normalise_keys(name, tensors)
    model = build(name, meta=True)  # shapes only: the file's tensors are assigned, not copied
    want = model.state_dict()
    filled = _check_keys(name, tensors, want)
    _check_shapes(tensors, want)
    converted = sorted(
        {str(v.dtype).removeprefix("torch.") for v in tensors.values() if v.is_floating_point()}
        - {"float32"}
    )
    tensors = _check_values(tensors, want)
    for key, value in want.items():
        if key not in tensors:  # a missing step counter: torch's own default
            tensors[key] = torch.zeros((), dtype=value.dtype)
    model.load_state_dict(tensors, strict=True, assign=True)
    _check_materialised(model)
    model.eval().requires_grad_(False)
    return LoadedWeights(
        name, model, len(tensors) - filled, prefix, dropped, filled, tuple(converted)
    )


def _check_materialised(model: nn.Module) -> None:
    """Raise WeightsError if any parameter or buffer is still shape-only or not on the CPU."""
    left = [
        n
        for n, t in [*model.named_parameters(), *model.named_buffers()]
        if t.device.type != "cpu" or (t.is_floating_point() and t.dtype != torch.float32)
    ]
    if left:
        raise WeightsError(N_("Some tensors did not load: {keys}."), keys=_listed(left))


# --- labels


def read_labels(text: str | bytes, count: int = 1000) -> list[str]:
    """Return `count` class names from a label file: one per line, a JSON list, or a JSON object.

    A JSON object maps indices ("0".."count-1") to names, or to [id, name] as torchvision's
    imagenet_class_index.json does (the last entry is the name). Blank lines are ignored.
    """
    count = check_int("count", count, 1, error=WeightsError)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise WeightsError(N_("The label file must be UTF-8 text.")) from None
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        labels = _json_labels(stripped, count)
    else:
        labels = [line.strip() for line in stripped.splitlines() if line.strip()]
    if len(labels) != count:
        raise WeightsError(
            N_("The label file names {got} classes; the network has {want}."),
            got=len(labels),
            want=count,
        )
    return labels


def _json_labels(text: str, count: int) -> list[str]:
    """Return the names of a JSON label list or {index: name} object, in index order."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise WeightsError(
            N_("The label file is not valid JSON ({reason})."), reason=err.msg
        ) from None
    if isinstance(data, dict):
        try:
            by_index = {int(k): v for k, v in data.items()}
        except ValueError:
            raise WeightsError(N_("A JSON label object's keys must be class indices.")) from None
        if sorted(by_index) != list(range(len(by_index))):
            raise WeightsError(
                N_("A JSON label object must number the classes 0 to {last} without gaps."),
                last=len(by_index) - 1,
            )
        data = [by_index[i] for i in range(len(by_index))]
    if not isinstance(data, list):
        raise WeightsError(N_("A JSON label file must be a list or an object of names."))
    return [_label(v) for v in data]


def _label(value: object) -> str:
    """Return one JSON entry as a name: a string, or the last string of a list."""
    if isinstance(value, list) and value:
        value = value[-1]
    if not isinstance(value, str) or not value.strip():
        raise WeightsError(N_("Every label must be a non-empty name, got {value!r}."), value=value)
    return value.strip()


# --- the photo as the network expects it


def crop_side(name: str) -> int:
    """Return the side of the square crop the named network was trained on (224, Inception 299)."""
    return ARCHITECTURES[_check_name(name)].input_size


def preprocess(image: torch.Tensor, name: str | None, crop: int | None = None) -> torch.Tensor:
    """Return (1, 3, S, S): the shorter side resized to S·256/224, centre-cropped, normalised.

    image: (3, H, W) RGB floats in [0, 1] (engine.images.to_rgb_tensor). Resizing is bilinear with
    antialiasing and the crop offset rounded, as torchvision's Resize and CenterCrop do. name None:
    the plain ImageNet recipe (crop 224, ImageNet mean and std).
    """
    return normalise(centre_crop(image, name, crop), name)


def centre_crop(image: torch.Tensor, name: str | None, crop: int | None = None) -> torch.Tensor:
    """Return (3, crop, crop) in [0, 1]: the resized, centre-cropped photo the network reads."""
    image = check_tensor("The image", image, (3,), error=WeightsError)
    if image.shape[0] != 3:
        raise WeightsError(
            N_("The image must be RGB (3, H, W), got shape {shape}."), shape=tuple(image.shape)
        )
    if crop is not None:
        side = check_int("crop", crop, 16, 1024, error=WeightsError)
    else:
        side = CROP if name is None else crop_side(name)
    resize = round(side * RESIZE / CROP)
    h, w = image.shape[1:]
    size = (resize, int(resize * w / h)) if h <= w else (int(resize * h / w), resize)
    x = F.interpolate(
        image[None].float(), size=size, mode="bilinear", antialias=True, align_corners=False
    )[0]
    top, left = int(round((size[0] - side) / 2.0)), int(round((size[1] - side) / 2.0))
    return x[:, top : top + side, left : left + side].clamp(0.0, 1.0)


def normalise(crop: torch.Tensor, name: str | None) -> torch.Tensor:
    """Return (1, 3, S, S): (crop - mean) / std with the network's constants (None: ImageNet's)."""
    constants = (IMAGENET_MEAN, IMAGENET_STD) if name is None else NORMALISATION[_check_name(name)]
    mean, std = (torch.tensor(v).view(3, 1, 1) for v in constants)
    return ((crop - mean) / std)[None]


# --- classifying


@dataclass(frozen=True)
class Prediction:
    """One of the top classes: its index, softmax probability and name."""

    index: int
    probability: float
    label: str  # from the label file, else "class <index>"


def classify(
    model: nn.Module,
    image: torch.Tensor,
    labels: list[str] | None = None,
    k: int = 5,
    *,
    name: str | None = None,
    crop: int | None = None,
) -> list[Prediction]:
    """Return the k most probable classes of the photo (3, H, W) in [0, 1], most probable first.

    name: the architecture, for its crop and normalisation (None: crop 224, ImageNet constants).
    """
    with torch.inference_mode():
        logits = model(preprocess(image, name, crop))[0]
    k = check_int("k", k, 1, logits.numel(), error=WeightsError)
    if labels is not None and len(labels) != logits.numel():
        raise WeightsError(
            N_("The label file names {got} classes; the network has {want}."),
            got=len(labels),
            want=logits.numel(),
        )
    probs = torch.softmax(logits.double(), 0)
    top = torch.topk(probs, k)
    return [
        Prediction(int(i), float(p), labels[i] if labels is not None else f"class {int(i)}")
        for p, i in zip(top.values, top.indices, strict=True)
    ]


# --- the stages, run explicitly (no hooks: the model may be shared)


@dataclass(frozen=True)
class Stage:
    """A stretch of the network: its display name and the module paths it applies in order."""

    name: str
    modules: tuple[str, ...]
    relu: bool = False  # a final ReLU the reference forward applies functionally (DenseNet)


def _sequential_stages(prefix: str, features: nn.Sequential) -> list[Stage]:
    """Return one stage per max pool of a plain stack (VGG, AlexNet): pool1, pool2, ..."""
    stages, run = [], []
    for i, layer in enumerate(features):
        run.append(f"{prefix}.{i}")
        if isinstance(layer, nn.MaxPool2d):
            stages.append(Stage(f"pool{len(stages) + 1}", tuple(run)))
            run = []
    return stages


def _resnet_stages(stem: tuple[str, ...]) -> list[Stage]:
    return [Stage("stem", stem)] + [Stage(f"layer{i}", (f"layer{i}",)) for i in range(1, 5)]


def _densenet_stages() -> list[Stage]:
    f = "features."
    stages = [Stage("pool0", tuple(f + m for m in ("conv0", "norm0", "relu0", "pool0")))]
    for i in (1, 2, 3):
        stages.append(Stage(f"transition{i}", (f"{f}denseblock{i}", f"{f}transition{i}")))
    return stages + [Stage("denseblock4", (f"{f}denseblock4", f"{f}norm5"), relu=True)]


def _inception_stages(name: str) -> list[Stage]:
    if name == "googlenet":
        groups = [
            ("maxpool1", ("conv1", "maxpool1")),
            ("maxpool2", ("conv2", "conv3", "maxpool2")),
            ("maxpool3", ("inception3a", "inception3b", "maxpool3")),
            ("maxpool4", tuple(f"inception4{c}" for c in "abcde") + ("maxpool4",)),
            ("inception5b", ("inception5a", "inception5b")),
        ]
    else:
        groups = [
            ("maxpool1", ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1")),
            ("maxpool2", ("Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2")),
            ("Mixed_5d", ("Mixed_5b", "Mixed_5c", "Mixed_5d")),
            ("Mixed_6e", tuple(f"Mixed_6{c}" for c in "abcde")),
            ("Mixed_7c", ("Mixed_7a", "Mixed_7b", "Mixed_7c")),
        ]
    return [Stage(n, m) for n, m in groups]


def stages(model: nn.Module, name: str) -> list[Stage]:
    """Return the named network's natural stages in forward order (the last feeds the head)."""
    _check_name(name)
    if name in ("alexnet", "vgg16"):
        return _sequential_stages("features", model.features)
    if name == "se_resnet50":
        return [Stage("layer0", ("layer0",))] + _resnet_stages(())[1:]
    if name == "densenet121":
        return _densenet_stages()
    if name in ("googlenet", "inception_v3"):
        return _inception_stages(name)
    return _resnet_stages(("conv1", "bn1", "relu", "maxpool"))


# the head after the last stage: (global or fixed pool, classifier); dropout is off in eval mode
_HEADS = {"alexnet": ("avgpool", "classifier"), "vgg16": ("avgpool", "classifier")}
_HEADS |= {"se_resnet50": ("avg_pool", "last_linear"), "densenet121": ("avgpool", "classifier")}


def _run_stage(model: nn.Module, stage: Stage, x: torch.Tensor) -> torch.Tensor:
    """Return x after the stage's modules (and its functional ReLU)."""
    for path in stage.modules:
        x = model.get_submodule(path)(x)
    return F.relu(x) if stage.relu else x


def _head(model: nn.Module, name: str, maps: torch.Tensor) -> torch.Tensor:
    """Return the logits (1, K) the head computes from the last stage's maps."""
    pool, classifier = _HEADS.get(name, ("avgpool", "fc"))
    pooled = torch.flatten(model.get_submodule(pool)(maps), 1)
    return model.get_submodule(classifier)(pooled)


@dataclass(frozen=True)
class StageMap:
    """One stage's output on the photo: (C, h, w) maps."""

    name: str
    maps: torch.Tensor


def stage_maps(
    model: nn.Module, name: str, image: torch.Tensor, *, crop: int | None = None
) -> tuple[list[StageMap], torch.Tensor]:
    """Return (every stage's maps in forward order, the logits (K,)) for the photo (3, H, W)."""
    x = preprocess(image, name, crop)
    out = []
    with torch.inference_mode():
        for stage in stages(model, name):
            x = _run_stage(model, stage, x)
            out.append(StageMap(stage.name, x[0].clone()))
        logits = _head(model, name, x)[0]
    return out, logits


# --- class evidence at the last stage


@dataclass(frozen=True)
class ClassicCam:
    """A class-evidence map at the last stage, and what it was computed from."""

    layer: str  # the stage name
    cam: torch.Tensor  # (h, w) at the stage's resolution
    upsampled: torch.Tensor  # (S, S) on the crop the network read
    crop: torch.Tensor  # (3, S, S) that crop in [0, 1], to draw the map over
    logit: float  # the class's logit
    bias: float  # the classifier's bias for the class (its last layer)


def _cam_inputs(
    model: nn.Module, name: str, image: torch.Tensor, class_index: int, crop: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float, str]:
    """Return (crop, A (C, h, w), ∂logit/∂A, logit, stage) at the last stage, one backward pass.

    The backbone runs without a graph; only the head is differentiated, from a detached copy of
    the last maps, so neither the model's parameters nor their .grad are touched.
    """
    pixels = centre_crop(image, name, crop)
    x = normalise(pixels, name)
    all_stages = stages(model, name)
    with torch.no_grad():
        for stage in all_stages:
            x = _run_stage(model, stage, x)
    maps = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = _head(model, name, maps)[0]
        k = check_int("The class index", class_index, 0, logits.numel() - 1, error=WeightsError)
        (grad,) = torch.autograd.grad(logits[k], maps)
    return pixels, maps[0].detach(), grad[0], float(logits[k].detach()), all_stages[-1].name


def _class_bias(model: nn.Module, name: str, class_index: int) -> float:
    """Return the bias of the classifier's last linear layer for the class (0 without a bias)."""
    head = model.get_submodule(_HEADS.get(name, ("avgpool", "fc"))[1])
    last = [m for m in head.modules() if isinstance(m, nn.Linear)][-1]
    return float(last.bias[class_index].detach()) if last.bias is not None else 0.0


def grad_cam_classic(
    model: nn.Module, name: str, image: torch.Tensor, class_index: int, *, crop: int | None = None
) -> ClassicCam:
    """Return Grad-CAM of the class at the last stage: relu(Σ_c mean(∂z/∂A_c) · A_c) / its max.

    Selvaraju et al., "Grad-CAM" (ICCV 2017); upsampled bilinearly onto the crop, in [0, 1] (all
    zeros when nothing is positive).
    """
    pixels, maps, grad, logit, layer = _cam_inputs(model, name, image, class_index, crop)
    cam = F.relu((grad.mean((1, 2))[:, None, None] * maps).sum(0))  # (h, w)
    peak = float(cam.max())
    cam = cam / peak if peak > 0 else cam
    up = F.interpolate(cam[None, None], size=pixels.shape[1:], mode="bilinear", align_corners=False)
    bias = _class_bias(model, name, class_index)
    return ClassicCam(layer, cam, up[0, 0].clamp(0.0, 1.0), pixels, logit, bias)


def hires_cam_classic(
    model: nn.Module, name: str, image: torch.Tensor, class_index: int, *, crop: int | None = None
) -> ClassicCam:
    """Return HiResCAM of the class at the last stage: Σ_c ∂z/∂A_c(i, j) · A_c(i, j), signed.

    Draelos & Carin (2020). For a head of global average pool and one linear layer (every network
    here but AlexNet and VGG) the map sums exactly to the logit minus the class's bias. Upsampled
    by nearest neighbour: each unit's block of the crop shows its own value.
    """
    pixels, maps, grad, logit, layer = _cam_inputs(model, name, image, class_index, crop)
    cam = (grad * maps).sum(0)  # (h, w)
    up = F.interpolate(cam[None, None], size=pixels.shape[1:], mode="nearest")[0, 0]
    return ClassicCam(layer, cam, up, pixels, logit, _class_bias(model, name, class_index))
