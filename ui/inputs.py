"""Inputs the pages share: the image picker (sample gallery, upload, camera) and its session memory.

The picked image lives in `st.session_state` as raw bytes plus their sha256, never in module state,
so two browser sessions never see each other's pictures. Decoding is cached on the sha256 string
(not on the decoded image, whose hash Streamlit only samples).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

from engine.core import N_, ExplorerError
from engine.images import load_image, to_gray_tensor, to_rgb_tensor
from ui.i18n import error_text, t
from ui.links import first_param, keep_param

IMAGE_PARAM = "img"  # the URL parameter naming the gallery sample in use (its file's stem)
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]
MAX_SIDE = 1024  # every picked image is downscaled to this longest side once, at load
PREVIEW_SIDE = 480  # the picker's preview column is about 300 px wide; room for a 1.5x display
THUMB_SIDE = 256  # a gallery button's picture is about 150 px wide
SOURCES = (N_("Sample"), N_("Upload"), N_("Camera"))  # values kept; labels shown translated
# The gallery's titles (assets/samples/samples.json), marked here so the catalog has them
SAMPLE_TITLES = (
    N_("Shapes"),
    N_("Checkerboard & stripes"),
    N_("House"),
    N_("Text"),
    N_("Portrait"),
    N_("Noise & gradients"),
)
# How the caption names the image in use, by where it came from
SHOWN_NAMES = {
    "sample": N_("sample: {title}"),
    "upload": N_("upload: {title}"),
    "camera": N_("camera: {title}"),
}

_STATE = "picked_image"  # {"sha": str, "name": str, "data": bytes}
_SOURCE = "picked_image_source"
_SEEN_UPLOAD = "picked_image_seen_upload"  # file_id of the last upload we acted on


@dataclass(frozen=True)
class PickedImage:
    """The image a person chose: a name, the sha256 of its bytes, and the decoded RGB image."""

    name: str
    sha: str
    image: Image.Image  # RGB, longest side <= MAX_SIDE
    data: bytes = field(repr=False, default=b"")  # the original bytes, for keyed caches


@dataclass(frozen=True)
class Sample:
    """One picture from the project's own gallery (drawn by scripts/make_samples.py)."""

    file: str
    title: str
    caption: str

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file

    @property
    def link_name(self) -> str:
        """Return the sample's name in a link (?img=house): its file name without the suffix."""
        return Path(self.file).stem


@st.cache_resource(show_spinner=False)
def samples() -> list[Sample]:
    """Return the gallery listed in assets/samples/samples.json."""
    listing = json.loads((SAMPLES_DIR / "samples.json").read_text(encoding="utf-8"))
    return [Sample(file=s["file"], title=s["title"], caption=s["caption"]) for s in listing]


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _decode(sha: str, _data: bytes) -> np.ndarray:
    """Return the decoded (H, W, 3) uint8 array for bytes whose sha256 is `sha`."""
    return np.asarray(load_image(_data, max_side=MAX_SIDE))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _preview_png(sha: str, side: int, _data: bytes) -> bytes:
    """Return the picked image shrunk to `side` and encoded as PNG, once per picture and size.

    Streamlit would otherwise re-encode the full decoded image on every run of every page, and the
    browser would download and scale it down again in every session."""
    img = Image.fromarray(_decode(sha, _data))
    img.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False)
    return out.getvalue()


@st.cache_resource(show_spinner=False)
def sample_thumbnails() -> dict[str, bytes]:
    """Return each gallery picture (by file name) shrunk for its button, encoded once per server."""
    shrunk = {}
    for sample in samples():
        data = sample.path.read_bytes()
        shrunk[sample.file] = _preview_png(_sha(data), THUMB_SIDE, data)
    return shrunk


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _try_store(source: str, title: str, data: bytes) -> str | None:
    """Decode and remember an image; return an error message instead when it cannot be used."""
    try:
        _decode(_sha(data), data)
    except ExplorerError as err:
        return error_text(err)
    name = f"{source}: {title}"
    state = {"sha": _sha(data), "name": name, "source": source, "title": title, "data": data}
    st.session_state[_STATE] = state
    return None


def _use_sample(sample: Sample) -> None:
    _try_store("sample", sample.title, sample.path.read_bytes())


def sample_named(link_name: str) -> Sample | None:
    """Return the gallery sample a link names (?img=…), or None when there is no such sample."""
    return next((s for s in samples() if s.link_name == link_name), None)


def _follow_link() -> None:
    """Use the sample the link names, the first time this session opens a picker."""
    sample = first_param(IMAGE_PARAM, sample_named)
    if sample is not None:
        _use_sample(sample)


def _link_value() -> str | None:
    """Return the ?img= value of the image in use: None for the first sample or an upload."""
    state = st.session_state[_STATE]
    if state["source"] != "sample":
        return None
    sample = next((s for s in samples() if s.title == state["title"]), None)
    if sample is None or sample == samples()[0]:
        return None
    return sample.link_name


def _upload_note() -> None:
    """Say, under an uploaded picture or photo, which picture a link to this view reopens."""
    if st.session_state[_STATE]["source"] != "sample":
        st.caption(
            t(
                "A link to this view reopens the sample **{title}**: an uploaded picture or "
                "photo cannot travel in a link.",
                title=t(samples()[0].title),
            )
        )


def _shown_name() -> str:
    """Return the name of the image in use as the caption shows it, in the reader's language."""
    state = st.session_state[_STATE]
    source, title = state["source"], state["title"]
    template = SHOWN_NAMES[source]
    return t(template, title=t(title) if source == "sample" else title)


def current_image() -> PickedImage:
    """Return the image this session picked, defaulting to the first sample."""
    if _STATE not in st.session_state:
        _use_sample(samples()[0])
    state = st.session_state[_STATE]
    array = _decode(state["sha"], state["data"])
    return PickedImage(
        name=state["name"], sha=state["sha"], image=Image.fromarray(array), data=state["data"]
    )


def _take_upload(uploaded, label: str) -> None:
    """Act once on a new upload or photo; a refused file leaves the previous image in place."""
    if uploaded is None:
        return
    file_id = getattr(uploaded, "file_id", None) or uploaded.name
    if st.session_state.get(_SEEN_UPLOAD, {}).get("id") == file_id:
        error = st.session_state[_SEEN_UPLOAD].get("error")
    else:
        data = uploaded.getvalue()
        error = _try_store(label, uploaded.name, data)
        st.session_state[_SEEN_UPLOAD] = {"id": file_id, "error": error}
    if error:
        st.error(
            t(
                "**{name}** could not be used. {error} The previous image is kept.",
                name=uploaded.name,
                error=error,
            )
        )


def image_picker(key: str = "image") -> PickedImage:
    """Draw the picker (gallery, upload, camera) and return the image this session is using."""
    _follow_link()
    with st.container(border=True):
        left, right = st.columns([1, 3], vertical_alignment="top")
        with right:
            source = st.segmented_control(
                t("Image source"),
                SOURCES,
                format_func=t,
                default=st.session_state.get(_SOURCE, SOURCES[0]),
                key=f"{key}_source",
                help=t("Your choice follows you to every page that works on an image."),
            )
            source = source or SOURCES[0]
            st.session_state[_SOURCE] = source
            if source == "Sample":
                gallery = samples()
                thumbnails = sample_thumbnails()
                cols = st.columns(len(gallery))
                for col, sample in zip(cols, gallery, strict=True):
                    with col:
                        st.image(thumbnails[sample.file], width="stretch")
                        if st.button(
                            t(sample.title), key=f"{key}_sample_{sample.file}", width="stretch"
                        ):
                            _use_sample(sample)
            elif source == "Upload":
                uploaded = st.file_uploader(
                    t("Upload a picture (PNG, JPEG, WebP, GIF, BMP or TIFF, up to 16 MB)"),
                    type=UPLOAD_TYPES,
                    key=f"{key}_upload",
                )
                _take_upload(uploaded, "upload")
            else:
                photo = st.camera_input(t("Take a photo"), key=f"{key}_camera")
                _take_upload(photo, "camera")
        picked = current_image()
        with left:
            st.image(_preview_png(picked.sha, PREVIEW_SIDE, picked.data), width="stretch")
            w, h = picked.image.size
            st.caption(t("Using **{name}** · {w}×{h} px", name=_shown_name(), w=w, h=h))
            _upload_note()
    keep_param(IMAGE_PARAM, _link_value())
    return picked


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _working_array(sha: str, side: int, gray: bool, _data: bytes) -> np.ndarray:
    """Return the image at a working size: (H, W) or (3, H, W) float32 in [0, 1]."""
    img = Image.fromarray(_decode(sha, _data))
    img.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    tensor = to_gray_tensor(img) if gray else to_rgb_tensor(img)
    return tensor.numpy()


def working_tensor(picked: PickedImage, side: int, gray: bool = True) -> torch.Tensor:
    """Return the picked image shrunk so its longest side is `side`, as a float tensor in [0, 1]."""
    return torch.from_numpy(_working_array(picked.sha, int(side), gray, picked.data))


def clamp_state(key: str, low: int, high: int, default: int) -> int:
    """Return a remembered integer (e.g. a clicked row) clamped to [low, high], stored back."""
    value = st.session_state.get(key, default)
    value = min(max(int(value), low), high)
    st.session_state[key] = value
    return value


def pick_cell_on_click(row_key: str, col_key: str):
    """Return a chart's on_click copying the clicked cell of a pickable heatmap into state."""

    def _pick(point: dict) -> None:
        if isinstance(point.get("x"), int | float) and isinstance(point.get("y"), int | float):
            st.session_state[row_key] = int(round(point["y"]))
            st.session_state[col_key] = int(round(point["x"]))

    return _pick
