"""CNN · Teach it your classes: name classes, show examples, train, see what it gets wrong.

Session state (this browser session only, never a cache or a file):
  "teach_examples": the ExampleSet being edited (immutable; every edit stores a new one)
  "teach_job":      the training job (ui.jobs); its result is (ExampleSet trained on, FitResult)
  "teach_model":    (SmallCNN, card) — this session's model, trained here or loaded from a file;
                    a later page (the trained-CNN page) may open it from this key
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import streamlit as st

from engine.cnn import (
    CLASSES,
    CROSS_VALIDATION,
    DEFAULT_AUGMENTATION,
    EXAMPLE_BYTES,
    EXAMPLE_SIDE,
    FIT_STEPS,
    HOLDOUT_FRACTION,
    HOLDOUT_MIN_PER_CLASS,
    MAX_CLASSES,
    MAX_DEPTH,
    MAX_EXAMPLES,
    MAX_FILTERS,
    MAX_MODEL_BYTES,
    MAX_NAME_LENGTH,
    MAX_PER_CLASS,
    MIN_CLASSES,
    MIN_PER_CLASS,
    CNNConfig,
    ExampleSet,
    above_chance,
    downscale,
    evaluation_plan,
    fit_examples,
    load_model,
    predict_examples,
    save_model,
)
from engine.core import N_, ExplorerError
from runtime_tuning import training_threads
from ui.chart import chart
from ui.cnn import teach_figures as tf
from ui.cnn.models import TAUGHT, TAUGHT_KEY, overview_link
from ui.i18n import error_text, t, tn
from ui.jobs import JobState, get_job, show_progress, start_job
from ui.links import linked

EXAMPLES, JOB, MODEL = "teach_examples", "teach_job", TAUGHT_KEY
NOTICE, SEEN = "tc_notice", "tc_seen_files"
DRAWN = ("horizontal stripes", "vertical stripes", "checkerboard")  # learnable (engine tests)
# i18n: the names of the drawn shapes (engine.cnn.CLASSES, which the tests compare with this),
# marked here so the catalog holds them
SHAPE_IDS = (
    N_("circle"),
    N_("square"),
    N_("triangle"),
    N_("star"),
    N_("cross"),
    N_("horizontal stripes"),
    N_("vertical stripes"),
    N_("checkerboard"),
    N_("dots"),
    N_("ring"),
)
DRAWN_PER_CLASS = 20
STEP_CHOICES = sorted({30, 60, FIT_STEPS, 2 * FIT_STEPS, 4 * FIT_STEPS})
DEFAULT_NET = CNNConfig()
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]
THUMB_PX = 96


# --- the example set, kept in this session only


def drawings_set() -> ExampleSet:
    """Return the starting set: DRAWN_PER_CLASS drawings of each DRAWN class, named in the
    reader's language."""
    drawn = ExampleSet.from_drawings(DRAWN, DRAWN_PER_CLASS, seed=0)
    return ExampleSet(tuple(t(name) for name in DRAWN), drawn.examples)


def examples() -> ExampleSet:
    """Return this session's example set, the drawings on a first visit."""
    if EXAMPLES not in st.session_state:
        st.session_state[EXAMPLES] = drawings_set()
    return st.session_state[EXAMPLES]


def edit(change, *args) -> None:
    """Store change(set, *args) as the new set; a refusal is kept as the notice to show."""
    try:
        st.session_state[EXAMPLES] = change(examples(), *args)
    except ExplorerError as err:
        st.session_state[NOTICE] = error_text(err)


def reset_to_drawings() -> None:
    """Replace the set by the drawings (a button's callback)."""
    st.session_state[EXAMPLES] = drawings_set()
    st.session_state[SEEN] = set()


def add_class() -> None:
    """Add a class named as typed (a button's callback), then clear the box."""
    edit(ExampleSet.with_class, st.session_state.get("tc_new_name", ""))
    st.session_state["tc_new_name"] = ""


def rename_class(index: int, key: str) -> None:
    """Rename class index to the text in widget key (a button's callback)."""
    edit(ExampleSet.renamed, index, st.session_state.get(key, ""))


def remove_example(index: int, key: str) -> None:
    """Remove the example whose 1-based number is in widget key (a button's callback)."""
    edit(ExampleSet.without_example, index, int(st.session_state.get(key, 1)) - 1)


def add_files(key: str) -> None:
    """Add each new picture from uploader or camera `key` to the chosen class, once each."""
    value = st.session_state.get(key)
    files = value if isinstance(value, list) else [value] if value is not None else []
    seen = st.session_state.setdefault(SEEN, set())
    refused = []
    for f in files:
        if f.file_id in seen:
            continue
        seen.add(f.file_id)
        try:
            st.session_state[EXAMPLES] = examples().with_example(target(), f.getvalue())
        except ExplorerError as err:
            refused.append(t("**{name}**: {error}", name=f.name, error=error_text(err)))
    if refused:
        st.session_state[NOTICE] = "\n\n".join(refused)


def add_drawings() -> None:
    """Add the chosen number of new drawings of the chosen shape to the chosen class."""
    shape, n = st.session_state["tc_shape"], int(st.session_state["tc_n_drawings"])
    index = target()
    try:
        seed = 1 + examples().counts[index]  # other drawings than the starting set's (seed 0)
        drawn = ExampleSet.from_drawings((shape,), n, seed=seed)
        st.session_state[EXAMPLES] = examples().with_examples(index, list(drawn.examples[0]))
    except ExplorerError as err:
        st.session_state[NOTICE] = error_text(err)


def target() -> int:
    """Return the class that new examples go to."""
    return int(st.session_state.get("tc_target", 0))


# --- drawing the classes


def show_notice() -> None:
    """Show (once) why the last edit was refused."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.error(notice)


def class_card(s: ExampleSet, index: int) -> None:
    """Draw one class: its name, count, thumbnails, and its rename / remove controls."""
    name, group = s.names[index], s.examples[index]
    with st.container(border=True):
        st.markdown(
            "**{name}** · {count}".format(
                name=name, count=tn("{n} example", "{n} examples", len(group))
            )
        )
        if group:
            st.image(tf.mosaic(group), width=min(len(group), tf.MOSAIC_COLUMNS) * THUMB_PX // 2)
        class_controls(s, index)


def class_controls(s: ExampleSet, index: int) -> None:
    """Draw the rename, remove-example and remove-class controls of class index."""
    tag = f"{index}_{s.names[index]}"  # a new key when a class moves, so boxes never go stale
    c1, c2, c3, c4, c5 = st.columns([3, 1, 1.4, 1.4, 1.4], vertical_alignment="bottom")
    c1.text_input(t("Name"), s.names[index], max_chars=MAX_NAME_LENGTH, key=f"tc_rename_{tag}")
    c2.button(
        t("Rename"),
        key=f"tc_rename_btn_{tag}",
        on_click=rename_class,
        args=(index, f"tc_rename_{tag}"),
    )
    count = s.counts[index]
    if count:
        c3.number_input(
            t("Example number"),
            1,
            count,
            count,
            key=f"tc_which_{tag}",
            help=t("Thumbnails are numbered from 1, left to right, row by row."),
        )
        c4.button(
            t("Remove example"),
            key=f"tc_drop_{tag}",
            on_click=remove_example,
            args=(index, f"tc_which_{tag}"),
        )
    c5.button(
        t("Remove class"),
        key=f"tc_drop_class_{tag}",
        on_click=edit,
        args=(ExampleSet.without_class, index),
        icon=":material/delete:",
    )


def add_panel(s: ExampleSet) -> None:
    """Draw where new classes and examples come from: a name box, camera, uploads, drawings."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input(t("New class name (any language)"), key="tc_new_name", max_chars=MAX_NAME_LENGTH)
    c2.button(
        t("Add class"),
        key="tc_add_class",
        on_click=add_class,
        icon=":material/add:",
        disabled=len(s.names) >= MAX_CLASSES,
    )
    if not s.names:
        return
    if st.session_state.get("tc_target", 0) >= len(s.names):
        st.session_state["tc_target"] = 0
    st.selectbox(
        t("Add examples to"),
        range(len(s.names)),
        format_func=s.names.__getitem__,
        key="tc_target",
    )
    sources = {"camera": t("Camera"), "upload": t("Upload files"), "drawings": t("Drawings")}
    source = st.segmented_control(
        t("From"),
        list(sources),
        format_func=sources.__getitem__,
        default="drawings",
        key="tc_source",
    )
    add_source(source or "drawings", s)


def add_source(source: str, s: ExampleSet) -> None:
    """Draw the chosen source of new examples. The camera and the uploader are the target
    class's own (their keys name it), so the files listed are always that class's."""
    tag = f"{target()}_{s.names[target()]}"
    if source == "camera":
        st.camera_input(
            t("Each photo you take is added as one example"),
            key=f"tc_camera_{tag}",
            on_change=add_files,
            args=(f"tc_camera_{tag}",),
        )
    elif source == "upload":
        st.file_uploader(
            t("Pictures (several at once)"),
            type=IMAGE_TYPES,
            accept_multiple_files=True,
            key=f"tc_upload_{tag}",
            on_change=add_files,
            args=(f"tc_upload_{tag}",),
        )
    else:
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        c1.selectbox(t("Shape"), CLASSES, format_func=t, key="tc_shape")
        c2.number_input(t("How many"), 1, MAX_PER_CLASS, 10, key="tc_n_drawings")
        c3.button(t("Add drawings"), key="tc_add_drawings", on_click=add_drawings)


# --- training


def trainable_problem(s: ExampleSet) -> str | None:
    """Return why the set cannot be trained on yet, in the engine's words, or None."""
    try:
        s.check_trainable()
    except ExplorerError as err:
        return error_text(err)
    return None


def plan_text(s: ExampleSet, seed: int) -> str:
    """Return how accuracy will be measured for this set, and why that way."""
    method, tests = evaluation_plan(s.counts, seed)
    if method == CROSS_VALIDATION:
        return t(
            "Accuracy will be measured by **{k}-fold cross-validation**: the smallest class has "
            "{smallest} examples, fewer than {need}, so no split can spare enough to test on. "
            "{k} models each train on all but one fold and predict that fold, so every example "
            "is predicted once by a model that never saw it; then a last model trains on all "
            "{total} examples, and that is the model you keep.",
            k=len(tests),
            smallest=min(s.counts),
            need=HOLDOUT_MIN_PER_CLASS,
            total=s.total,
        )
    return t(
        "Accuracy will be measured on a **held-out split**: every class has at least {need} "
        "examples, so {share:.0%} of each class ({n} examples) is kept aside, never trained on, "
        "and predicted by the one model trained on the rest.",
        need=HOLDOUT_MIN_PER_CLASS,
        share=HOLDOUT_FRACTION,
        n=len(tests[0]),
    )


def fit_work(s: ExampleSet, config: CNNConfig, steps: int, seed: int):
    """Return a job function fitting s and reporting every run's curve so far."""

    def work(report, should_stop):
        curves: dict[tuple[str, int], list] = {}

        def progress(p) -> None:
            curves.setdefault((p.kind, p.number), []).append(p.point)
            live = {"steps": p.steps, "run": p.run, "runs": p.runs, "k": len(s.names)}
            live["curves"] = _frozen(curves)
            report(p.done, N_("Training…"), live)

        result = fit_examples(
            s, config, steps, seed, progress, should_stop, threads=training_threads()
        )
        return s, result

    return work


def _frozen(curves: dict) -> tuple:
    """Return the curves so far as ((kind, number, points), ...), safe to hand to another
    thread."""
    return tuple((kind, number, tuple(points)) for (kind, number), points in curves.items())


def run_name(kind: str, number: int) -> str:
    """Return a training run's name as the legend shows it."""
    if kind == "fold":
        return t("fold {i}", i=number)
    if kind == "final":
        return t("final model (all examples)")
    return t("held-out split")


def curves_figure(curves, k: int, steps: int):
    """Return the fit curves figure of runs given as (kind, number, points)."""
    runs = []
    for kind, number, points in curves:
        pick = lambda f, ps=points: np.array([getattr(p, f) for p in ps], dtype=float)  # noqa: E731
        runs.append((run_name(kind, number), pick("step"), pick("loss"), pick("val_acc")))
    return tf.fit_curves(runs, chance=1 / k, total_steps=steps)


def render_live(state: JobState) -> None:
    """Draw the curves of a running fit (its result's curves once it is done)."""
    done = state.result
    if done is not None:
        s, r = done
        curves = [(c.kind, c.number, c.history) for c in r.runs]
        k, steps = len(s.names), r.card["steps"]
    elif isinstance(state.payload, dict):
        live = state.payload
        st.caption(t("Run {run} of {runs}", run=live["run"], runs=live["runs"]))
        curves, steps, k = live["curves"], live["steps"], live["k"]
    else:
        return
    if curves:
        chart(curves_figure(curves, k, steps), key="tc_curves")


# --- results


def show_results(s: ExampleSet, r) -> None:
    """Draw the accuracy and how it was measured, the confusion matrix and the mistakes."""
    k = len(s.names)
    a, b, c = st.columns(3)
    a.metric(t("Accuracy on unseen examples"), f"{r.accuracy:.1%}" if r.evaluated else "–")
    b.metric(t("Chance (1/{k})", k=k), f"{1 / k:.1%}")
    c.metric(t("Examples predicted unseen"), f"{r.evaluated:,}")
    st.markdown(method_text(r))
    if not r.evaluated:
        return
    st.markdown(notice_text(r.accuracy, r.evaluated, k))
    left, right = st.columns([1, 1])
    with left:
        st.markdown(t("**Confusion matrix**: rows are the true class, columns the prediction."))
        chart(tf.confusion(r.confusion, s.names), key="tc_confusion")
    with right:
        show_mistakes(s, r)


def method_text(r) -> str:
    """Return which evaluation gave the accuracy."""
    if r.method == CROSS_VALIDATION:
        return t(
            "Measured by {k}-fold cross-validation: each of the {n} examples was predicted by "
            "a model that never trained on it.",
            k=r.folds,
            n=r.evaluated,
        )
    return t(
        "Measured on a held-out split: {n} examples that the model never trained on.",
        n=r.evaluated,
    )


def notice_text(accuracy: float, n: int, k: int) -> str:
    """Return the "what to notice" sentence, chosen by accuracy against chance 1/k."""
    if above_chance(accuracy, n, k):
        return t(
            "**What to notice:** {acc:.0%} is clearly above chance ({chance:.0%}, guessing "
            "among {k} classes): the network found something that tells your classes apart. "
            "Look at the mistakes to see what still confuses it.",
            acc=accuracy,
            chance=1 / k,
            k=k,
        )
    return t(
        "**What to notice:** {acc:.0%} is near chance ({chance:.0%}, guessing among {k} "
        "classes): on {n} examples this is no evidence that the network learned your classes. "
        "Add more examples that differ between classes, or train for more steps.",
        acc=accuracy,
        chance=1 / k,
        k=k,
        n=n,
    )


def show_mistakes(s: ExampleSet, r) -> None:
    """Draw the examples predicted wrong, most confident first, with what was predicted."""
    if not r.mistakes:
        st.success(t("No example was predicted wrong."))
        return
    st.markdown(
        tn("**{n} example predicted wrong**", "**{n} examples predicted wrong**", len(r.mistakes))
    )
    shown = r.mistakes[:12]
    images, captions = [], []
    for m in shown:
        cls, pos = s.locate(m.index)
        images.append(s.examples[cls][pos])
        captions.append(
            t(
                "{true} → {predicted} ({p:.0%})",
                true=s.names[m.true],
                predicted=s.names[m.predicted],
                p=m.probability,
            )
        )
    st.image(images, caption=captions, width=THUMB_PX)


# --- predicting, saving, loading


def prediction_source(names) -> bytes | np.ndarray | None:
    """Draw the chooser of a picture to predict and return it (None until one is given)."""
    sources = {"drawing": t("A new drawing"), "upload": t("Upload"), "camera": t("Camera")}
    source = (
        st.segmented_control(
            t("Picture"),
            list(sources),
            format_func=sources.__getitem__,
            default="drawing",
            key="tc_predict_source",
        )
        or "drawing"
    )
    if source == "drawing":
        c1, c2 = st.columns([2, 1])
        shape = c1.selectbox(
            t("Shape"),
            CLASSES,
            index=CLASSES.index(DRAWN[0]),  # a class of the starting set
            format_func=t,
            key="tc_predict_shape",
        )
        seed = c2.number_input(t("Drawing number"), 0, 10_000, 1000, key="tc_predict_seed")
        return ExampleSet.from_drawings((shape,), 1, seed=int(seed)).examples[0][0]
    if source == "upload":
        f = st.file_uploader(t("A picture"), type=IMAGE_TYPES, key="tc_predict_upload")
    else:
        f = st.camera_input(t("Take a photo"), key="tc_predict_camera")
    return None if f is None else f.getvalue()


def show_prediction(model, picture) -> None:
    """Draw the picture as the model sees it and its class probabilities."""
    names = list(model.config.classes)
    try:
        probs = predict_examples(model, picture)
        seen = downscale(picture)
    except ExplorerError as err:
        st.error(error_text(err))
        return
    left, right = st.columns([1, 3])
    left.image(seen, width=THUMB_PX * 2, caption=t("What the model sees (64×64)"))
    with right:
        chart(tf.probabilities(probs, names), key="tc_probs")
    best = int(np.argmax(probs))
    st.markdown(t("The model says **{name}** ({p:.1%}).", name=names[best], p=probs[best]))


def file_name(card: dict) -> str:
    """Return a download name made of the class names and the card's date."""
    stem = "-".join(re.sub(r"[^\w]+", "_", n).strip("_") for n in card["classes"])
    day = str(card.get("date", date.today().isoformat()))[:10]
    return f"{stem}-{day}.safetensors"


def keep_model(model, card: dict) -> None:
    """Make (model, card) this session's model, the one the trained-CNN page opens first."""
    st.session_state[MODEL] = (model, card)
    st.session_state["tc_model"] = TAUGHT  # that page's model choice


def load_uploaded() -> None:
    """Load the uploaded model file as this session's model (a callback); refusals are kept."""
    f = st.session_state.get("tc_load")
    if f is None:
        return
    try:
        keep_model(*load_model(f.getvalue()))
        st.session_state["tc_loaded"] = f.name
    except ExplorerError as err:
        st.session_state["tc_load_error"] = error_text(err)


# --- the page


st.title(t("Teach it your classes"))
st.markdown(
    t(
        "Make your own classes, show the network examples of each (your camera, your files or "
        "the app's drawings), train it, and see honestly how well it tells them apart on "
        "examples it never trained on."
    )
)
st.caption(
    t(
        "Your examples stay in this browser session's memory only: nothing is written to disk "
        "and they are gone when the session ends. Each is shrunk on arrival to {side}×{side} "
        "pixels ({bytes:,} bytes). At most {classes} classes, {per_class} examples per class and "
        "{total} in all ({mib:.1f} MiB).",
        side=EXAMPLE_SIDE,
        bytes=EXAMPLE_BYTES,
        classes=MAX_CLASSES,
        per_class=MAX_PER_CLASS,
        total=MAX_EXAMPLES,
        mib=MAX_EXAMPLES * EXAMPLE_BYTES / 2**20,
    )
)

st.subheader(t("1 · Your classes"))
s = examples()
st.info(
    t(
        "The page starts with {n} drawn classes ({names}), {per} examples each, so you can "
        "press **Train** right away. Rename them, add your own, or start again from the "
        "drawings.",
        n=len(DRAWN),
        names=", ".join(t(d) for d in DRAWN),
        per=DRAWN_PER_CLASS,
    )
)
st.button(
    t("Start from the drawings"),
    key="tc_drawings",
    on_click=reset_to_drawings,
    icon=":material/draw:",
)
show_notice()
s = examples()
st.markdown(
    tn("{n} class", "{n} classes", len(s.names))
    + " · "
    + tn("{n} example in all", "{n} examples in all", s.total)
)
for i in range(len(s.names)):
    class_card(s, i)
with st.container(border=True):
    add_panel(s)

st.subheader(t("2 · Train"))
augment_template, augment_params = DEFAULT_AUGMENTATION.summary()
st.markdown(t(augment_template, **augment_params))
c1, c2, c3, c4 = st.columns(4)
# the settings travel in a link (the examples never do: they stay in this session)
blocks = linked(c1.slider)(
    t("Blocks (conv-conv-pool)"), 1, MAX_DEPTH, DEFAULT_NET.depth_blocks, key="tc_blocks"
)
filters = linked(c2.slider)(
    t("Filters per layer"), 1, MAX_FILTERS, DEFAULT_NET.filters, key="tc_filters"
)
steps = linked(c3.select_slider)(
    t("Training steps per run"), STEP_CHOICES, FIT_STEPS, key="tc_steps"
)
seed = int(linked(c4.number_input)(t("Seed"), 0, 1_000_000, 0, key="tc_seed"))
problem = trainable_problem(s)
if problem:
    st.warning(
        t(
            "{problem} Training needs at least {classes} classes with at least {per} examples "
            "each.",
            problem=problem,
            classes=MIN_CLASSES,
            per=MIN_PER_CLASS,
        )
    )
else:
    st.markdown(plan_text(s, seed))
if st.button(
    t("Train"),
    type="primary",
    icon=":material/play_arrow:",
    key="tc_train",
    disabled=problem is not None,
):
    config = CNNConfig(depth_blocks=blocks, filters=filters)  # fit_examples names the classes
    start_job(st.session_state, JOB, "teach", fit_work(s, config, int(steps), seed))

job = get_job(st.session_state, JOB)
if job is not None:
    state = show_progress(job, render_live, key="tc_panel", every=2.0)
    if state.result is not None:
        trained_on, result = state.result
        if st.session_state.get("tc_kept") is not job:  # this run's model becomes the session's
            keep_model(result.model, result.card)
            st.session_state["tc_kept"] = job
            st.session_state.pop("tc_loaded", None)
        st.subheader(t("3 · How well it learned"))
        show_results(trained_on, result)
else:
    st.info(
        t(
            "Press **Train** to start. Training runs in the background: you can keep reading, "
            "and press Stop at any time."
        )
    )

st.subheader(t("4 · Try it on a new picture"))
held = st.session_state.get(MODEL)
if held is None:
    st.info(t("Train a model (or load one below) to try it on a new picture."))
else:
    model, card = held
    st.caption(t("This session's model knows: {names}.", names=", ".join(model.config.classes)))
    overview_link(
        t("Open every layer of this model on “{page}”", page=t("A trained CNN on your image"))
    )
    picture = prediction_source(model.config.classes)
    if picture is not None:
        show_prediction(model, picture)

st.subheader(t("5 · Save or load a model"))
if held is not None:
    model, card = held
    st.download_button(
        t("Download this model (.safetensors with its card)"),
        save_model(model, card),
        file_name=file_name(card),
        mime="application/octet-stream",
        key="tc_download",
        icon=":material/download:",
    )
st.file_uploader(
    t("Load a model file saved from this page (at most {mb:.1f} MB)", mb=MAX_MODEL_BYTES / 1e6),
    type=["safetensors"],
    key="tc_load",
    on_change=load_uploaded,
)
load_error = st.session_state.pop("tc_load_error", None)
if load_error:
    st.error(load_error)
elif st.session_state.get("tc_loaded") and held is not None:
    st.success(
        t("Loaded **{name}**: it is now this session's model.", name=st.session_state["tc_loaded"])
    )
