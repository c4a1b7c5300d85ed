"""CNN · Your trained weights: a classic architecture filled with weights you bring, on your photo.

Session state (this browser session only):
  "yw_upload_model": {"key": (architecture, sha256 of the file), "weights" or "error"}: the
                     uploaded file, loaded once per session and file
  "yw_results":      {"key": (...), ...}: the last photo's stage maps, logits and CAMs, so moving
                     a widget does not run the network again
The operator's folder file (EXPLORER_WEIGHTS_DIR) is loaded once per server and shared between
sessions (st.cache_resource on path and modification time): the engine never writes to a model.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import streamlit as st

from engine.architectures import (
    ARCHITECTURES,
    MAX_UPLOAD_BYTES,
    WEIGHTS_DIR_ENV,
    LoadedWeights,
    build,
    classify,
    grad_cam_classic,
    hires_cam_classic,
    load_weights,
    read_labels,
    stage_maps,
    weights_path_from_env,
)
from engine.core import N_, ExplorerError
from ui.architectures import weights_figures as wf
from ui.architectures.weights_store import folder_weights
from ui.chart import chart
from ui.i18n import error_text, t, tn
from ui.inputs import image_picker, working_tensor
from ui.links import linked
from ui.sections import lazy_section

UPLOADED, RESULTS = "yw_upload_model", "yw_results"
SOURCES = (N_("Server folder"), N_("Upload"))
LABEL_TYPES = ["txt", "json"]
TOP_K = 5
WORK_SIDE = 512  # the photo's longest side before the engine's resize to 256 and crop
SHOWN_CHANNELS = 8  # channels per stage in the overview; the lazy section shows them all
SHOWN_KEYS = 6  # expected tensor names listed in the explanation
EXPORT = """import torchvision
from safetensors.torch import save_file

model = torchvision.models.{name}(weights="DEFAULT")  # or your own trained model
save_file(model.state_dict(), "{name}.safetensors")"""


# --- the weights


def _uploaded_weights(
    key: tuple[str, str], data: bytes
) -> tuple[LoadedWeights | None, ExplorerError | None]:
    """Return (weights, None) or (None, refusal) for an upload, loaded once per session and file.

    key: (architecture, sha256 of data).
    """
    name = key[0]
    kept = st.session_state.get(UPLOADED)
    if kept is None or kept["key"] != key:
        try:
            kept = {"key": key, "weights": load_weights(name, data), "error": None}
        except ExplorerError as err:
            kept = {"key": key, "weights": None, "error": err}
        st.session_state[UPLOADED] = kept
    return kept["weights"], kept["error"]


def _folder_status(name: str):
    """Say whether the operator's folder is configured and has this network; return its file."""
    folder = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    path = weights_path_from_env(name)
    if not folder:
        st.caption(
            t(
                "No server weights folder is configured (the operator sets {env}); uploads are "
                "capped at {cap:.0f} MB, so a larger file such as ResNet-50's (about 100 MB) "
                "needs that folder.",
                env=WEIGHTS_DIR_ENV,
                cap=MAX_UPLOAD_BYTES / 2**20,
            )
        )
    elif path is None:
        st.caption(
            t(
                "The server's weights folder is configured but holds no {file}; uploads are "
                "capped at {cap:.0f} MB.",
                file=f"{name}.safetensors",
                cap=MAX_UPLOAD_BYTES / 2**20,
            )
        )
    else:
        st.caption(
            t(
                "The server's weights folder holds {file} ({size:.1f} MB). Uploads are capped "
                "at {cap:.0f} MB.",
                file=path.name,
                size=path.stat().st_size / 2**20,
                cap=MAX_UPLOAD_BYTES / 2**20,
            )
        )
    return path


def _choose_source(path) -> str:
    """Return "Server folder" or "Upload": the folder first when it holds this network."""
    if path is None:
        return "Upload"
    choice = st.segmented_control(
        t("Weights from"), SOURCES, format_func=t, default=SOURCES[0], key="yw_source"
    )
    return choice or SOURCES[0]


def pick_weights(name: str) -> tuple[LoadedWeights | None, tuple]:
    """Draw the weight inputs; return (the loaded network or None, a key naming its file)."""
    path = _folder_status(name)
    if _choose_source(path) == "Server folder":
        key = (name, str(path), path.stat().st_mtime)
        try:
            return folder_weights(*key), key
        except ExplorerError as err:
            st.error(t("The server's file was refused: {error}", error=error_text(err)))
            return None, key
    upload = st.file_uploader(
        t("Weights file (.safetensors, or a .pt/.pth state dict)"),
        key="yw_upload",  # no type list: the engine tells the formats apart by their first bytes
    )
    if upload is None:
        return None, ()
    key = (name, hashlib.sha256(upload.getvalue()).hexdigest())
    weights, error = _uploaded_weights(key, upload.getvalue())
    if error is not None:
        st.error(t("**{file}** was refused: {error}", file=upload.name, error=error_text(error)))
    return weights, key


def explain_what_to_bring(name: str) -> None:
    """Say what file the page expects for the network, with its first tensor names."""
    want = list(build(name, meta=True).state_dict())
    title = ARCHITECTURES[name].title
    st.info(
        t(
            "No weights yet, so nothing below is computed: an untrained network's answers would "
            "mean nothing. Bring a state dict of {title} in torchvision's layout: the "
            "{count} tensors named as torchvision names them, for example {keys}. A file saved "
            "from nn.DataParallel (names starting with “module.”) and the auxiliary heads of "
            "GoogLeNet and Inception v3 are accepted; anything else that does not match is "
            "refused by name.",
            title=title,
            count=len(want),
            keys=", ".join(want[:SHOWN_KEYS]),
        ),
        icon=":material/upload_file:",
    )
    st.markdown(
        t(
            "Export it with safetensors (a .pt or .pth state dict also works: it is read with "
            "weights_only=True, so nothing in it is ever run):"
        )
    )
    st.code(EXPORT.format(name=name), language="python")


def show_adjustments(weights: LoadedWeights) -> None:
    """List what the loader changed on the way, or say it took the file as it was."""
    notes = [tn("{n} tensor loaded.", "{n} tensors loaded.", weights.tensors)]
    if weights.stripped_prefix:
        notes.append(t("Removed the prefix “{p}” from every name.", p=weights.stripped_prefix))
    if weights.dropped_aux:
        notes.append(
            tn(
                "Left out {n} tensor of the auxiliary classifiers.",
                "Left out {n} tensors of the auxiliary classifiers.",
                weights.dropped_aux,
            )
        )
    if weights.filled_counters:
        notes.append(
            tn(
                "Set {n} missing batch-norm step counter to 0 (it plays no part in inference).",
                "Set {n} missing batch-norm step counters to 0 (they play no part in inference).",
                weights.filled_counters,
            )
        )
    if weights.converted_from:
        notes.append(t("Converted {dtypes} to float32.", dtypes=", ".join(weights.converted_from)))
    st.success(" ".join(notes), icon=":material/check_circle:")


# --- the labels


def pick_labels(count: int) -> list[str] | None:
    """Draw the label-file input and return its `count` names, or None ("class i")."""
    upload = st.file_uploader(
        t("Label file (optional): one class name per line, or JSON"),
        type=LABEL_TYPES,
        key="yw_labels",
    )
    if upload is None:
        st.caption(t("Without a label file the classes are named by index: class 0, class 1, …"))
        return None
    try:
        return read_labels(upload.getvalue(), count)
    except ExplorerError as err:
        st.error(t("**{file}** was refused: {error}", file=upload.name, error=error_text(err)))
        return None


# --- the photo through the network


def run_photo(name: str, weights: LoadedWeights, model_key: tuple, picked, photo) -> dict:
    """Return {"maps": [(stage, (C, h, w))], "classes": K} for the photo, once per model and photo.

    Only the last photo's results are kept, so a session holds one set of maps at a time.
    """
    key = (model_key, picked.sha)
    kept = st.session_state.get(RESULTS)
    if kept is None or kept["key"] != key:
        maps, logits = stage_maps(weights.model, name, photo)
        kept = {"key": key, "maps": [(s.name, s.maps.numpy()) for s in maps]}
        kept["classes"] = logits.numel()
        st.session_state[RESULTS] = kept
    return kept


def class_name(prediction, labels: list[str] | None) -> str:
    """Return the class's name from the label file, else "class i" in the reader's language."""
    return prediction.label if labels is not None else t("class {i}", i=prediction.index)


def show_top_classes(name: str, weights: LoadedWeights, photo, labels, count: int) -> list:
    """Draw the top classes' probabilities and return them (engine Predictions)."""
    st.header(t("1 · The top {k} classes", k=min(TOP_K, count)))
    top = classify(weights.model, photo, labels, min(TOP_K, count), name=name)
    chart(
        wf.top_classes([class_name(p, labels) for p in top], [p.probability for p in top]),
        key="yw_top",
    )
    st.markdown(
        t(
            "The most probable class is **{label}** at {p:.2%}; a uniform guess over the {k} "
            "classes would give each {u:.2%}.",
            label=class_name(top[0], labels),
            p=top[0].probability,
            k=count,
            u=1 / count,
        )
    )
    return top


def show_stages(name: str, maps: list[tuple[str, np.ndarray]]) -> None:
    """Draw the first channels of every stage, and every channel of one stage on request."""
    st.header(t("2 · Every stage's feature maps"))
    st.markdown(
        t(
            "The output of each stage in forward order, {n} channels each (the network reads a "
            "{side}×{side} crop). Black-to-yellow maps are never negative; red/blue maps are "
            "signed.",
            n=SHOWN_CHANNELS,
            side=ARCHITECTURES[name].input_size,
        )
    )
    for i, (stage, m) in enumerate(maps):
        c, h, w = m.shape
        st.markdown(t("**{stage}** · {c} channels of {h}×{w}", stage=stage, c=c, h=h, w=w))
        chart(
            wf.stage_sheet(m[:SHOWN_CHANNELS], SHOWN_CHANNELS),
            key=f"yw_stage_{i}",
        )
    lazy_section(
        t("Every channel of one stage"), "open_yw_all_channels", lambda: _all_channels(maps)
    )


def _all_channels(maps: list[tuple[str, np.ndarray]]) -> None:
    """Draw every channel of the stage the learner picks."""
    names = [stage for stage, _ in maps]
    chosen = linked(st.selectbox)(t("Stage"), names, index=len(names) - 1, key="yw_all_stage")
    m = dict(maps)[chosen]
    chart(wf.stage_sheet(m, 16), key="yw_all_sheet")


def show_cams(name: str, weights: LoadedWeights, photo, top: list, labels) -> None:
    """Draw Grad-CAM and HiResCAM of a chosen top class over the crop the network read."""
    st.header(t("3 · Where the evidence is: Grad-CAM and HiResCAM"))
    # the options are the class indices, so a new model or photo resets the choice to its top class
    by_index = {p.index: p for p in top}
    choice = linked(st.selectbox)(
        t("Class"),
        list(by_index),
        format_func=lambda i: f"{class_name(by_index[i], labels)} ({by_index[i].probability:.2%})",
        key="yw_class",
    )
    target = by_index[choice]
    grad = grad_cam_classic(weights.model, name, photo, target.index)
    hires = hires_cam_classic(weights.model, name, photo, target.index)
    crop = (grad.crop.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    chart(
        wf.cam_figure(crop, grad.cam.numpy(), hires.cam.numpy(), class_name(target, labels)),
        key="yw_cams",
    )
    h, w = grad.cam.shape
    st.markdown(
        t(
            "Both maps are computed at the last stage, **{layer}** ({h}×{w} positions), from one "
            "backward pass of the class's logit ({logit:+.3f}). **Grad-CAM** weighs each "
            "channel by its mean gradient, keeps the positive sum and scales it to its peak; "
            "**HiResCAM** multiplies gradient and activation position by position, so its "
            "cells keep their sign and add up to {total:+.3f} (the classifier's bias for the "
            "class is {bias:+.3f}).",
            layer=grad.layer,
            h=h,
            w=w,
            logit=grad.logit,
            total=float(hires.cam.sum()),
            bias=grad.bias,
        )
    )


# --- the page

st.title(t("Your trained weights"))
st.markdown(
    t(
        "Bring trained weights for one of the {n} classic architectures and look through them at "
        "your photo: its top classes, every stage's feature maps, and where the evidence for a "
        "class lies.",
        n=len(ARCHITECTURES),
    )
)

# The first network the operator's folder holds comes first, so its file shows without a choice
names = list(ARCHITECTURES)
ready = [n for n in names if weights_path_from_env(n) is not None]
arch = linked(st.selectbox)(
    t("Architecture"),
    names,
    index=names.index(ready[0]) if ready else 0,
    format_func=lambda n: ARCHITECTURES[n].title,
    key="yw_arch",
)
loaded, model_key = pick_weights(arch)
if loaded is None:
    explain_what_to_bring(arch)
    st.stop()
show_adjustments(loaded)
picked = image_picker("yw_image")
photo = working_tensor(picked, WORK_SIDE, gray=False)
try:
    run = run_photo(arch, loaded, model_key, picked, photo)
    labels = pick_labels(run["classes"])
    top = show_top_classes(arch, loaded, photo, labels, run["classes"])
    show_stages(arch, run["maps"])
    show_cams(arch, loaded, photo, top, labels)
except ExplorerError as err:
    st.error(error_text(err))
