"""What the trained-CNN page remembers and caches: the model and input in use, computed results.

Results are cached with st.cache_data keyed on strings only: a model's key is its display name
plus a hash of its weights (two sessions may both call a model "my model"), an input's key is the
picked image's sha256 or the recipe of a drawn example. The models and tensors themselves are passed
as `_`-prefixed arguments, which Streamlit does not hash.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from engine.cnn import (
    CLASSES,
    CLASSIC_BY,
    COLOUR_BY,
    TOP_PATCHES_SEED,
    Activation,
    DrawingReference,
    Evidence,
    ExampleSet,
    Familiarity,
    FilterComparison,
    SmallCNN,
    classic_likeness,
    colour_shift,
    compare_first_layer,
    drawing_reference,
    grad_cam,
    hires_cam_layer,
    make_dataset_uint8,
    preprocess,
    render,
    saliency,
    top_activating_patches,
)
from engine.core import N_
from ui.cnn import taught
from ui.cnn.models import available_models, model_label
from ui.cnn.names import class_name, kernel_name
from ui.i18n import t, tn
from ui.inputs import image_picker
from ui.links import linked

RENDER_SEED = 5150  # drawn examples; training used 0, validation 1_000_003, held-out 2024
DRAWN = N_("A drawn example of a class")  # the input sources: values, shown via t
YOURS = N_("One of your examples")
OWN = N_("Your own picture")
SOURCES = (DRAWN, YOURS, OWN)


@dataclass(frozen=True)
class ChosenModel:
    """The model in use: its display name, cache key, module and card."""

    name: str
    key: str
    model: SmallCNN
    card: dict


@dataclass(frozen=True)
class ChosenInput:
    """The picture going in: cache key, a name to show, the model input and what it looks like."""

    key: str
    name: str
    x: torch.Tensor  # (3, S, S) float32 in [0, 1]
    rgb: np.ndarray  # (S, S, 3) uint8: the same pixels, as shown
    private: bool = False  # one of the learner's examples: results stay in the session


def ensure_choice(key: str, options: list, default, *, link: bool = False) -> None:
    """Put default in st.session_state[key] unless it already holds one of options; a linked
    widget's first draw leaves it to the link when the URL names the key (ui.links)."""
    if link and key not in st.session_state and key in st.query_params:
        return
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → hash of its weights


def model_key(name: str, model: SmallCNN) -> str:
    """Return name + a hash of the weights and config: equal keys mean equal results.

    The hash is remembered per model object (the models here are frozen once trained), which
    saves ~70 ms per rerun for the largest ones.
    """
    if model not in _KEYS:
        h = hashlib.blake2b(digest_size=12)
        h.update(repr(model.config).encode())
        for k, v in model.state_dict().items():
            h.update(k.encode())
            h.update(v.detach().contiguous().cpu().numpy().tobytes())
        _KEYS[model] = h.hexdigest()
    return f"{name}|{_KEYS[model]}"


def choose_model() -> ChosenModel:
    """Draw the model choice (only when there is more than one) and return the model in use."""
    models = available_models(st.session_state)
    names = list(models)
    if len(names) > 1:
        ensure_choice("tc_model", names, names[0])
        name = st.selectbox(
            t("Model"),
            names,
            key="tc_model",
            format_func=model_label,
            help=t(
                "Models you trained on “{page}” this session come first.",
                page=t("Train a CNN yourself"),
            ),
        )
    else:
        name = names[0]
    taught.model_loader()
    model, card = models[name]
    return ChosenModel(name, model_key(name, model), model, card)


def card_accuracy(card: dict) -> tuple[float | None, str]:
    """Return (accuracy, what it was measured on) from a model card, (None, "") if it has none."""
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    for source, key, what in (
        (card, "held_out_accuracy", N_("held-out images it never saw")),
        (card, "validation_accuracy", N_("validation images it never trained on")),
        (card, "val_acc", N_("validation images it never trained on")),
        (training, "final_validation_accuracy", N_("validation images it never trained on")),
        (card, "accuracy", N_("its card")),
    ):
        value = source.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            n = card.get("n_held_out") if key == "held_out_accuracy" else None
            if n:
                return float(value), t("{n} held-out images it never saw", n=f"{n:,}")
            return float(value), t(what)
    return None, ""


def describe(chosen: ChosenModel) -> str:
    """Return a markdown paragraph: the model's name, layers, classes and measured accuracy."""
    cfg = chosen.model.config
    acc, what = card_accuracy(chosen.card)
    accuracy = (
        t("accuracy **{acc}** on {what}", acc=f"{acc:.1%}", what=what)
        if acc is not None
        else t("no accuracy on its card")
    )
    ablations = [
        a for a, on in ((N_("no pooling"), not cfg.pool), (N_("no ReLU"), not cfg.relu)) if on
    ]
    text = tn(
        "Using **{name}**: {n} block of ({block}), {filters} per layer, then flatten → linear → "
        "softmax over **{k} classes** ({classes}); {size}×{size} RGB input; {accuracy}",
        "Using **{name}**: {n} blocks of ({block}), {filters} per layer, then flatten → linear → "
        "softmax over **{k} classes** ({classes}); {size}×{size} RGB input; {accuracy}",
        cfg.depth_blocks,
        name=model_label(chosen.name),
        block=_block(cfg),
        filters=tn("{n} filter", "{n} filters", cfg.filters),
        k=len(cfg.classes),
        classes=t(", ").join(class_name(c) for c in cfg.classes),
        size=cfg.input_size,
        accuracy=accuracy,
    )
    if ablations:
        return text + t(". Ablated: {names}.", names=t(", ").join(t(a) for a in ablations))
    return text + t(".")


def _block(cfg) -> str:
    """Return one block's layers: conv k×k (→ ReLU), twice (→ 2×2 max pool)."""
    relu = " → ReLU" if cfg.relu else ""
    if cfg.pool:
        return t("conv {k}×{k}{relu}, twice → 2×2 max pool", k=cfg.kernel, relu=relu)
    return t("conv {k}×{k}{relu}, twice", k=cfg.kernel, relu=relu)


@st.cache_data(max_entries=64, show_spinner=False)
def _drawn(cls: str, number: int, size: int) -> np.ndarray:
    """Return drawn example `number` of cls, (3, size, size) float32 in [0, 1]."""
    rng = np.random.default_rng([RENDER_SEED, CLASSES.index(cls), number])
    return render(cls, rng, size).transpose(2, 0, 1).copy()


@st.cache_data(max_entries=32, show_spinner=False)
def _model_input(sha: str, size: int, _image) -> np.ndarray:
    """Return preprocess(image, size) as (3, size, size) float32 for the picture with this sha."""
    return preprocess(_image, size).numpy()


def _next_example() -> None:
    st.session_state["tc_render_n"] = st.session_state.get("tc_render_n", 0) + 1


def input_sources(model: SmallCNN, yours: ExampleSet | None) -> list[str]:
    """Return the input sources this model can take: the learner's examples when given (they
    are its classes), drawn examples when its classes are drawn ones, and always a picture of
    one's own."""
    drawn = [DRAWN] if all(c in CLASSES for c in model.config.classes) else []
    return [*([YOURS] if yours is not None else []), *drawn, OWN]


def choose_input(model: SmallCNN) -> ChosenInput:
    """Draw the input choice (a drawn example, one of the learner's, or the shared picker) and
    return it."""
    yours = taught.your_examples(model)
    sources = input_sources(model, yours)
    ensure_choice("tc_source", sources, sources[0], link=True)
    source = linked(st.segmented_control)(
        t("What goes into the network"), sources, key="tc_source", required=True, format_func=t
    )
    source = source if source in sources else sources[0]  # a link that named none of them
    if source == DRAWN:
        return _drawn_input(model)
    if source == YOURS:
        return _your_input(model, yours)
    return _own_input(model)


def _drawn_input(model: SmallCNN) -> ChosenInput:
    """Draw the class choice and "draw another" button; return the drawn example on show."""
    size = model.config.input_size
    classes = list(model.config.classes)
    default = "star" if "star" in classes else classes[0]
    ensure_choice("tc_render_class", classes, default, link=True)
    with st.container(border=True):
        left, right = st.columns([1, 3], vertical_alignment="top")
        with right:
            cls = linked(st.pills)(
                t("Class to draw"),
                classes,
                key="tc_render_class",
                required=True,
                width="stretch",
                wrap=True,
                format_func=class_name,
                help=t(
                    "Drawn by the same generator as the training images, with its own seed "
                    "({seed}): pictures the network has never seen.",
                    seed=RENDER_SEED,
                ),
            )
            cls = cls if cls in classes else default  # a link that named none of them
            st.button(
                t("Draw another one"),
                key="tc_render_next",
                on_click=_next_example,
                icon=":material/refresh:",
            )
            n = st.session_state.get("tc_render_n", 0)
            st.caption(
                t(
                    "Or switch to **{own}** and photograph a shape you drew on paper.",
                    own=t(OWN),
                )
            )
        x = torch.from_numpy(_drawn(cls, n, size))
        rgb = _as_rgb(x)
        with left:
            st.image(rgb, width=160, output_format="PNG")
            st.caption(
                t(
                    "Using **a drawn {cls}** (example {n}) · {size}×{size} px",
                    cls=class_name(cls),
                    n=n + 1,
                    size=size,
                )
            )
    return ChosenInput(f"drawn|{cls}|{n}|{size}", f"a drawn {cls}", x, rgb)


def _your_input(model: SmallCNN, examples: ExampleSet) -> ChosenInput:
    """Draw the class and example choice among the learner's examples; return the one on show."""
    names = [n for n, count in zip(examples.names, examples.counts, strict=True) if count]
    ensure_choice("tc_your_class", names, names[0])
    with st.container(border=True):
        left, right = st.columns([1, 3], vertical_alignment="top")
        with right:
            name = st.pills(
                t("Your class"), names, key="tc_your_class", required=True, width="stretch"
            )
            index = examples.names.index(name)
            count = examples.counts[index]
            number = st.number_input(
                t("Example (1 to {n})", n=count), 1, count, 1, key=f"tc_your_n_{index}"
            )
            st.caption(
                t(
                    "Your examples from “{page}”: they stay in this session, and what is computed "
                    "from them here is kept in this session only.",
                    page=t("Teach it your classes"),
                )
            )
        array = examples.examples[index][int(number) - 1]
        x = torch.from_numpy(np.array(array)).permute(2, 0, 1).float() / 255  # a writable copy
        with left:
            st.image(array, width=160, output_format="PNG")
            st.caption(t("Using your example {n} of **{name}**", n=int(number), name=name))
    key = f"yours|{taught.examples_digest(examples)}|{index}|{int(number)}"
    return ChosenInput(key, name, x, np.ascontiguousarray(array), private=True)


def _own_input(model: SmallCNN) -> ChosenInput:
    """Draw the shared picker with a hint on what to photograph; return the picture on show."""
    size = model.config.input_size
    if all(c in CLASSES for c in model.config.classes):
        st.markdown(
            t(
                "Draw one of the shapes on paper with a thick marker — a filled disc, a square, a "
                "star, a cross, a ring, stripes, dots, a checkerboard — photograph it close up "
                "and upload the photo or use the camera. The network sees the centre square, "
                "shrunk to {size}×{size} pixels.",
                size=size,
            )
        )
    else:
        st.markdown(
            t(
                "Photograph something of one of its classes ({classes}) and upload the photo or "
                "use the camera. The network sees the centre square, shrunk to {size}×{size} "
                "pixels.",
                classes=t(", ").join(class_name(c) for c in model.config.classes),
                size=size,
            )
        )
    picked = image_picker("trained_cnn")
    x = torch.from_numpy(_model_input(picked.sha, size, picked.image))
    return ChosenInput(f"picked|{picked.sha}|{size}", picked.name, x, _as_rgb(x))


def _as_rgb(x: torch.Tensor) -> np.ndarray:
    """Return a (3, S, S) float image in [0, 1] as the (S, S, 3) uint8 picture shown."""
    return (x.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class Run:
    """One forward pass on show: the model and input, and every step's output as arrays."""

    chosen: ChosenModel
    picture: ChosenInput
    acts: list[Activation]  # forward_all, batch of one
    arrays: dict[str, np.ndarray]  # name → output without the batch axis
    kinds: dict[str, str]  # name → "input", "conv", "relu", "pool", "flatten", ...

    @property
    def probs(self) -> np.ndarray:
        """Return the class probabilities (K,) as float64."""
        return self.arrays["softmax"].astype(np.float64)

    @property
    def best(self) -> int:
        """Return the predicted class index."""
        return int(self.probs.argmax())

    @property
    def classes(self) -> list[str]:
        return list(self.chosen.model.config.classes)

    @property
    def names(self) -> list[str]:
        """Return every step after the input, in order."""
        return [name for name in self.arrays if name != "input"]

    def label(self, name: str) -> str:
        """Return a menu label for a layer: name · kind · shape."""
        shape = "×".join(str(s) for s in self.arrays[name].shape)
        return f"{name} · {t(KIND_NAMES[self.kinds[name]])} · {shape}"


KIND_NAMES = {
    "conv": N_("convolution"),
    "relu": "ReLU",
    "pool": N_("2×2 max pool"),
    "flatten": N_("flatten"),
    "logits": N_("logits (linear)"),
    "softmax": "softmax",
}


def forward(chosen: ChosenModel, picture: ChosenInput) -> Run:
    """Return the (cached) forward pass of the chosen model on the chosen input."""
    if picture.private:
        records = taught.session_memo(
            ("forward", chosen.key, picture.key), lambda: _activations(chosen.model, picture.x)
        )
    else:
        records = activations(chosen.key, picture.key, chosen.model, picture.x)
    return Run(
        chosen,
        picture,
        [Activation(name, kind, torch.from_numpy(a)) for name, kind, a in records],
        {name: a[0] for name, _, a in records},
        {name: kind for name, kind, _ in records},
    )


@st.cache_data(max_entries=24, show_spinner=False)
def activations(mkey: str, ikey: str, _model: SmallCNN, _x: torch.Tensor) -> list[tuple]:
    """Return [(name, kind, array with the batch axis)] of forward_all for this model and input."""
    return _activations(_model, _x)


def _activations(model: SmallCNN, x: torch.Tensor) -> list[tuple]:
    """Return [(name, kind, array with the batch axis)] of forward_all (uncached)."""
    with torch.inference_mode():
        acts = model.forward_all(x[None])
    return [(a.name, a.kind, a.tensor.numpy()) for a in acts]


def attribution_maps(
    chosen: ChosenModel, picture: ChosenInput, class_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return saliency, Grad-CAM and HiResCAM of one class (see attributions), cached in the
    session for the learner's examples and in the server otherwise."""
    if picture.private:
        return taught.session_memo(
            ("attributions", chosen.key, picture.key, class_index),
            lambda: _attributions(chosen.model, picture.x, class_index),
        )
    return attributions(chosen.key, picture.key, class_index, chosen.model, picture.x)


@st.cache_data(max_entries=64, show_spinner=False)
def attributions(
    mkey: str, ikey: str, class_index: int, _model: SmallCNN, _x: torch.Tensor
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return saliency (S, S), Grad-CAM (S, S) in [0, 1] and HiResCAM (h, w) of one class.

    HiResCAM stays signed, in logit units, at the CAM layer's own resolution (h, w).
    """
    return _attributions(_model, _x, class_index)


def _attributions(
    model: SmallCNN, x: torch.Tensor, class_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the three maps of attributions, uncached."""
    return (
        saliency(model, x, class_index).numpy(),
        grad_cam(model, x, class_index).numpy(),
        hires_cam_layer(model, x, class_index).numpy(),
    )


@st.cache_resource(max_entries=8, show_spinner=False)  # callers show a translated spinner
def drawings_of(classes: tuple[str, ...], size: int) -> DrawingReference | None:
    """Return the two-colour scores of generated drawings of these classes (None: not drawn ones).

    Computed once per class set and picture size, shared by every session and model.
    """
    if not all(c in CLASSES for c in classes):
        return None
    return drawing_reference(classes, size)


@st.cache_resource(max_entries=4, show_spinner=False)  # callers show a translated spinner
def held_out_images(
    classes: tuple[str, ...], size: int, per_class: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images (N, 3, S, S) uint8, labels (N,)): the fixed set the top patches come from."""
    return make_dataset_uint8(per_class, TOP_PATCHES_SEED, classes, size)


def scanned_images(
    model: SmallCNN, per_class: int, yours: ExampleSet | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images uint8, labels) a top-patch scan goes through: up to per_class of the
    learner's examples per class when given, else the fixed drawn set."""
    if yours is not None:
        return taught.scan_set(yours, per_class)
    return held_out_images(tuple(model.config.classes), model.config.input_size, per_class)


def top_patches(
    chosen: ChosenModel, layer: str, channel: int, k: int, per_class: int, yours: ExampleSet | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Return (patches (k, r, r, 3) uint8, values (k,), positions (k, 3), source classes) over
    the learner's examples (kept in the session) or the drawn set (cached for the server)."""
    if yours is None:
        return drawn_top_patches(chosen.key, layer, channel, k, per_class, chosen.model)
    key = ("top", chosen.key, taught.examples_digest(yours), layer, channel, k, per_class)
    return taught.session_memo(
        key, lambda: _scan(chosen.model, taught.scan_set(yours, per_class), layer, channel, k)
    )


@st.cache_data(max_entries=64, show_spinner=False)  # callers show a translated spinner
def drawn_top_patches(
    mkey: str, layer: str, channel: int, k: int, per_class: int, _model: SmallCNN
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Return top_patches over the fixed drawn set."""
    images = held_out_images(tuple(_model.config.classes), _model.config.input_size, per_class)
    return _scan(_model, images, layer, channel, k)


def _scan(
    model: SmallCNN, images: tuple[torch.Tensor, torch.Tensor], layer: str, channel: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Return top_patches of one filter over (images, labels), uncached."""
    pictures, labels = images
    classes = tuple(model.config.classes)
    patches, values, positions = top_activating_patches(model, pictures, layer, channel, k)
    tiles = (patches.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    sources = [classes[int(labels[int(i)])] for i in positions[:, 0]]
    return tiles, values.numpy(), positions.numpy(), sources


@st.cache_data(max_entries=16, show_spinner=False)
def filter_comparison(mkey: str, start_seed: int, _model: SmallCNN) -> FilterComparison:
    """Return the learned-vs-hand-made comparison of the first conv layer (kernel 3, 5 or 7)."""
    return compare_first_layer(_model, start_seed)


_LIKENESS = {
    "closer": N_(
        "The trained filters resemble hand-made ones more than the random filters they started "
        "from (seed {seed}) did: median best |cos| {now} against {start}. "
    ),
    "further": N_(
        "The trained filters resemble hand-made ones less than the random filters they started "
        "from (seed {seed}) did: median best |cos| {now} against {start}. "
    ),
    None: N_(
        "The trained filters are no closer to hand-made ones than the random filters they "
        "started from (seed {seed}): median best |cos| {now} against {start}, within {by}. "
    ),
}
_COLOUR = {
    "brightness": N_(
        "They also moved weight from colour differences to brightness patterns ({start} → {now} "
        "of their squared weight): light/dark edges work whatever the colours, and the shapes "
        "come in every colour."
    ),
    "colour": N_(
        "They also moved weight towards colour differences ({start} → {now} of their squared "
        "weight): telling colours apart helped the loss."
    ),
    None: N_(
        "{now} of their squared weight sits in colour differences, as before training ({start}; "
        "within {by})."
    ),
}


def training_summary(comparison: FilterComparison) -> str:
    """Return what training changed in the first layer, in sentences chosen by engine claims."""
    best_now = comparison.best.numpy()
    tally = comparison.closest_counts()
    closest = int(best_now.argmax())
    now, start = comparison.median_best, comparison.median_start_best
    colour_now = float(comparison.colour.mean())
    colour_start = float(comparison.start_colour.mean())
    found = t(
        "**What training discovered**: the closest match is filter {closest} (|cos| {cos} with "
        "{kernel}); best matches: {tally}. ",
        closest=closest,
        cos=f"{best_now[closest]:.2f}",
        kernel=kernel_name(comparison.best_kernel[closest]),
        tally=t(", ").join(f"{kernel_name(k)} ×{v}" for k, v in tally),
    )
    likeness = t(
        _LIKENESS[classic_likeness(start, now)],
        seed=comparison.start_seed,
        now=f"{now:.2f}",
        start=f"{start:.2f}",
        by=f"{CLASSIC_BY:.2f}",
    )
    colour = t(
        _COLOUR[colour_shift(colour_start, colour_now)],
        now=f"{colour_now:.0%}",
        start=f"{colour_start:.0%}",
        by=f"{COLOUR_BY:.0%}",
    )
    return found + likeness + colour


def show_familiarity(
    seen: Familiarity, drawings: DrawingReference, predicted: str, p: float, k: int
) -> None:
    """Say, from the measured two-colour score, whether the picture is like the drawings."""
    score = t(
        "Two-colour score: the RMS distance of a picture's pixels to the nearer of the two "
        "colours that fit it best. Every training drawing is one shape in one colour on a "
        "background of another; {percentile} % of {count} generated drawings score at most "
        "{threshold}",
        percentile=f"{drawings.percentile:g}",
        count=f"{drawings.count:,}",
        threshold=f"{drawings.threshold:.3f}",
    )
    if seen.unlike:
        st.warning(
            _unlike_text(seen, score, class_name(predicted), p, k), icon=":material/warning:"
        )
    else:
        st.caption(
            t(
                "{score}; this picture scores {value}, like a drawing ({share} of them score at "
                "most as much). Even so, the network can only choose among its {k} classes: the "
                "probabilities always add up to 1.",
                score=score,
                value=f"{seen.score:.3f}",
                share=f"{seen.share_below:.0%}",
                k=k,
            )
        )


def _unlike_text(seen: Familiarity, score: str, predicted: str, p: float, k: int) -> str:
    """Return the warning for a picture unlike every training drawing, chosen by its share."""
    params = dict(score=score, value=f"{seen.score:.3f}", k=k, predicted=predicted, p=f"{p:.2%}")
    if seen.share_below == 1:
        return t(
            "**This picture is unlike the drawings the network was trained on.** {score}; this "
            "one scores {value}, higher than every one of them. The network cannot answer “none "
            "of these”: its softmax shares 100 % among its {k} drawn classes, so “{predicted} "
            "{p}” only says which of them this picture is least unlike, not what it shows.",
            **params,
        )
    return t(
        "**This picture is unlike the drawings the network was trained on.** {score}; this one "
        "scores {value}, at least as much as {share} of them. The network cannot answer “none of "
        "these”: its softmax shares 100 % among its {k} drawn classes, so “{predicted} {p}” only "
        "says which of them this picture is least unlike, not what it shows.",
        share=f"{seen.share_below:.1%}",
        **params,
    )


def grad_cam_notice(blank: bool, cam: np.ndarray, ev: Evidence, name: str, layer: str) -> str:
    """Return what the Grad-CAM map shows here, chosen by whether it is blank."""
    if blank:
        return t(
            "**Grad-CAM is zero everywhere here**: Σ α_c A_c ≤ 0 at every position of {layer}, "
            "because averaging each map's gradients into one α cancelled them — while HiResCAM "
            "places {evidence} of evidence for “{name}”. A blank Grad-CAM does not mean that "
            "nothing in the picture mattered.",
            layer=layer,
            evidence=f"{ev.for_:+.3f}",
            name=class_name(name),
        )
    return t(
        "**Grad-CAM is positive at {positive} of {size} pixels here.** Where it is warm, the maps "
        "whose average gradient favours the class are active; compare with HiResCAM's red, which "
        "keeps each position's own gradient.",
        positive=f"{int((cam > 0).sum()):,}",
        size=f"{cam.size:,}",
    )
