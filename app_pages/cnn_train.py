"""CNN · Train it yourself: pick classes and layers, watch it learn, ablate pooling, ReLU, depth."""

import numpy as np
import streamlit as st

from engine.cnn import (
    ADAM_BETAS,
    CLASSES,
    DEFAULT_LR,
    DEFAULT_STEPS,
    KERNELS,
    MAX_DEPTH,
    MAX_FILTERS,
    WORK_CAP,
    CNNConfig,
    SmallCNN,
    bf16_supported,
    conv_macs,
    filter_images,
    first_layer_filters,
    last_field,
    make_dataset_uint8,
    map_sides,
    max_steps_within,
    parameter_count,
    run_cost,
)
from engine.cnn import MAX_STEPS as ENGINE_MAX_STEPS
from engine.core import ExplorerError
from ui.chart import chart
from ui.cnn import train_figures as tf
from ui.cnn.ablation_view import ablation_section
from ui.cnn.models import overview_link, remember_model, trained_name
from ui.cnn.names import class_name
from ui.cnn.train_notes import filters_notice, loss_notice
from ui.cnn.train_runs import (
    BATCH,
    DATA_SEED,
    N_PER_CLASS,
    N_VAL_PER_CLASS,
    DataStore,
    Live,
    RunOutcome,
    RunSettings,
    make_card,
    of_kind,
    session_job,
    training_work,
)
from ui.i18n import current_lang, error_text, t
from ui.jobs import JobState, show_progress, start_job
from ui.links import linked

MAX_STEPS = min(5000, ENGINE_MAX_STEPS)
LARGE_LR = 0.05  # above this, Adam's steps of about η usually make the loss jump or blow up
DEFAULT = CNNConfig()
JOB_KEY = "ct_job"
BF16 = bf16_supported()


@st.cache_resource
def _data_store() -> DataStore:
    """Rendered training images per class set, shared by every session."""
    return DataStore()


@st.cache_data(max_entries=16, show_spinner=False)
def _examples(classes: tuple[str, ...]) -> np.ndarray:
    images, _ = make_dataset_uint8(1, DATA_SEED, classes)  # the first training image per class
    return images.permute(0, 2, 3, 1).numpy()  # (K, 64, 64, 3) uint8


st.title(t("Train a CNN yourself"))
st.markdown(
    t(
        "Pick which shapes to tell apart and how big the network is, press **Train**, and watch "
        "a small VGG-style network learn on this server: its loss, its accuracy and its "
        "first-layer filters, as they change. Then switch off pooling, ReLU or depth in one "
        "click and measure what each was for."
    )
)

st.subheader(t("What one training step does"))
st.markdown(
    t(
        "A step draws {batch} training images at random (each mirrored at random: a mirrored "
        "star is still a star), runs them forward to the logits $z$, and scores the softmax "
        "probabilities with the **cross-entropy** loss: the average surprise at the right answer.",
        batch=BATCH,
    )
)
st.latex(
    r"L = -\frac{1}{B}\sum_{i=1}^{B}\log\frac{e^{z_{i,y_i}}}{\sum_{k=1}^{K}e^{z_{i,k}}}"
    + t(r"\qquad\text{{(a network that guesses uniformly scores }} L = \ln {k})", k="K")
)
st.markdown(
    t(
        "Backpropagation then gives the gradient $g = \\nabla_\\theta L$ of the loss with respect "
        "to every weight, and **Adam** moves each weight against its own running average of $g$, "
        "scaled by the running size of $g$, so every weight takes steps of about the learning "
        "rate $\\eta$ whatever the scale of its gradient:"
    )
)
st.latex(
    r"m \leftarrow \beta_1 m + (1-\beta_1)\,g,\quad v \leftarrow \beta_2 v + (1-\beta_2)\,g^2,"
    r"\quad \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v}+\epsilon}"
    rf"\quad(\beta_1 = {ADAM_BETAS[0]:g},\ \beta_2 = {ADAM_BETAS[1]:g})"
)

st.subheader(t("Your network"))
classes = tuple(
    linked(st.multiselect)(
        t("Classes to tell apart"),
        CLASSES,
        default=list(CLASSES),
        key="ct_classes",
        format_func=class_name,
    )
)
c1, c2, c3, c4, c5 = st.columns(5)
depth = linked(c1.slider)(
    t("Blocks (conv-conv-pool)"), 1, MAX_DEPTH, DEFAULT.depth_blocks, key="ct_depth"
)
filters = linked(c2.slider)(
    t("Filters per layer"), 1, MAX_FILTERS, DEFAULT.filters, key="ct_filters"
)
kernel = linked(c3.select_slider)(t("Kernel size"), list(KERNELS), DEFAULT.kernel, key="ct_kernel")
pool = linked(c4.toggle)(t("2×2 max pooling"), value=DEFAULT.pool, key="ct_pool")
relu = linked(c5.toggle)("ReLU", value=DEFAULT.relu, key="ct_relu")
c1, c2, c3 = st.columns(3)
lr = linked(c1.number_input)(
    t("Learning rate η"),
    0.0,
    1.0,
    DEFAULT_LR,
    0.001,
    format="%.4f",
    key="ct_lr",
    help=t(
        "Adam's step size; the default run uses {lr}. Above about {large} training usually "
        "diverges.",
        lr=f"{DEFAULT_LR:g}",
        large=f"{LARGE_LR:g}",
    ),
)
steps = int(
    linked(c2.number_input)(t("Training steps"), 0, MAX_STEPS, DEFAULT_STEPS, 100, key="ct_steps")
)
seed = int(
    linked(c3.number_input)(
        t("Seed"),
        0,
        1_000_000,
        0,
        key="ct_seed",
        help=t(
            "Sets the initial weights and the order of the minibatches and mirrors. The images "
            "are the same for everyone."
        ),
    )
)


def _problems() -> tuple[list[str], CNNConfig | None]:
    """Return what stops this run (empty if nothing) and its config (None if it has none)."""
    found: list[str] = []
    config = None
    if len(classes) < 2:
        found.append(
            t("Choose at least two classes: with one class there is nothing to tell apart.")
        )
    else:
        try:
            config = CNNConfig(classes, depth, filters, kernel, pool, relu)
        except ExplorerError as err:
            found.append(error_text(err))
    if not lr > 0:
        found.append(t("Set a learning rate above 0: with η = 0 Adam never moves a weight."))
    if steps < 1:
        found.append(t("Choose at least one training step."))
    if config is not None and run_cost(config, max(steps, 0)) > WORK_CAP:
        found.append(_too_costly(config))
    return found, config


def _too_costly(config: CNNConfig) -> str:
    """Return why a run over the work cap is refused, and what would fit."""
    return t(
        "This run would cost {cost}× the default one ({steps} steps of {blocks} blocks × "
        "{filters} filters, {k}×{k}); the cap is {cap}× so everyone's pages stay fast. Choose at "
        "most {most} steps, or fewer filters or blocks, a smaller kernel, or pooling on.",
        cost=f"{run_cost(config, steps):.1f}",
        steps=f"{DEFAULT_STEPS:,}",
        blocks=DEFAULT.depth_blocks,
        filters=DEFAULT.filters,
        k=DEFAULT.kernel,
        cap=WORK_CAP,
        most=f"{max_steps_within(config):,}",
    )


def _describe(config: CNNConfig) -> None:
    """Write the network's map sizes, classifier input, field and weights, with its caveats."""
    params = dict(
        maps=" → ".join(f"{s}×{s}" for s in map_sides(config)),
        f=config.filters,
        side=config.final_side,
        flat=f"{config.flat_features:,}",
        field=last_field(config),
        size=config.input_size,
        weights=f"{parameter_count(config):,}",
        macs=f"{conv_macs(config) / 1e6:.1f}",
    )
    st.markdown(
        t(
            "Feature maps: {maps} (halved by each pooling). The classifier reads {f}·{side}² = "
            "{flat} numbers; each last-layer unit sees a {field}-px square of the {size}-px input. "
            "**{weights} weights** in all, {macs} million multiply-adds per image in the "
            "convolutions.",
            **params,
        )
        if pool
        else t(
            "Feature maps: {maps} (no pooling: the size never changes). The classifier reads "
            "{f}·{side}² = {flat} numbers; each last-layer unit sees a {field}-px square of the "
            "{size}-px input. **{weights} weights** in all, {macs} million multiply-adds per image "
            "in the convolutions.",
            **params,
        )
    )
    if pool and config.final_side <= 4:
        st.info(
            t(
                "With {depth} poolings the last maps are {side}×{side}: fine, but every unit "
                "there sees almost the whole picture and little of *where* things are survives.",
                depth=depth,
                side=config.final_side,
            )
        )
    if not relu:
        st.info(
            t(
                "Without ReLU each conv–conv pair is one linear filter: max pooling is the only "
                "nonlinearity left."
            )
            if pool
            else t(
                "Without ReLU each conv–conv pair is one linear filter: max pooling is the only "
                "nonlinearity left, and with pooling off too, none at all."
            )
        )


problems, config = _problems()
if config is not None:
    model0 = SmallCNN(config, seed=seed)
    _describe(config)
for p in problems:
    st.warning(p)
if lr > LARGE_LR and not problems:
    st.info(
        t(
            "η = {lr} is large for Adam: each weight moves by up to about η per step, so the loss "
            "will likely jump around or blow up. Try it and watch the curves.",
            lr=f"{lr:g}",
        )
    )

if classes:
    chart(
        tf.image_row(list(_examples(classes)), [class_name(c) for c in classes], 150),
        key="ct_examples",
    )
    st.caption(
        t(
            "The first training picture of each class. Training uses {n} per class ({total} "
            "pictures); validation uses {val} other pictures per class, drawn from another seed "
            "and never trained on.",
            n=N_PER_CLASS,
            total=f"{N_PER_CLASS * len(classes):,}",
            val=N_VAL_PER_CLASS,
        )
    )

precision = (
    t(
        "This server's CPU computes bfloat16 natively (AVX512-BF16 or AMX, as oneDNN reports), so "
        "the forward pass runs under bfloat16 autocast: activations keep 8 significant bits, "
        "while the weights and Adam's averages stay float32. `python -m benchmarks small_cnn` "
        "measures the speed-up on this machine."
    )
    if BF16
    else t(
        "This CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX), so training runs in "
        "float32 (emulated bfloat16 would be slower)."
    )
)
st.caption(precision)
if st.button(
    t("Train"),
    type="primary",
    icon=":material/play_arrow:",
    key="ct_train",
    disabled=bool(problems),
):
    if not problems and config is not None:
        settings = RunSettings(config, steps, float(lr), seed, BF16)
        work = training_work(settings, _data_store(), current_lang())
        start_job(st.session_state, JOB_KEY, "train", work)


def _snapshots_to_show(snaps, n: int = 6) -> list:
    idx = np.unique(np.linspace(0, len(snaps) - 1, min(n, len(snaps))).round().astype(int))
    return [snaps[i] for i in idx]


def _render(s: JobState) -> None:
    """Draw metrics, curves and filters of the running or finished run."""
    outcome, live = of_kind(s.result, RunOutcome), of_kind(s.payload, Live)
    if outcome is None and live is None:
        return
    settings = (outcome or live).settings
    history = outcome.result.history if outcome else live.history
    snaps = outcome.snapshots if outcome else live.snapshots
    _metrics(settings, history, outcome.result.seconds if outcome else live.seconds)
    if not history:
        return
    _curves(settings, history)
    if outcome is not None and history[-1].step > 0:
        st.markdown(loss_notice(history, len(settings.config.classes)))
    _filters(snaps)


def _metrics(settings, history, seconds: float) -> None:
    """Draw the run's size, progress, speed and accuracies as metrics."""
    done = history[-1].step if history else 0
    m = st.columns(6)
    m[0].metric(t("Parameters"), f"{parameter_count(settings.config):,}")
    m[1].metric(t("Steps done (of {steps})", steps=f"{settings.steps:,}"), f"{done:,}")
    m[2].metric(t("Training time"), f"{seconds:.1f} s")
    images = f"{done * settings.batch / seconds:,.0f}" if seconds else "–"
    m[3].metric(t("Images per second"), images)
    m[4].metric(t("Validation accuracy"), f"{history[-1].val_acc:.1%}" if history else "–")
    m[5].metric(t("Training accuracy"), f"{history[-1].train_acc:.1%}" if history else "–")


def _curves(settings, history) -> None:
    """Draw the loss and accuracy curves so far, with what the two accuracies measure."""
    st.markdown(
        t(
            "Training accuracy is measured on the minibatches since the previous point, while the "
            "weights were still changing; validation accuracy on the held-out pictures with the "
            "weights of that moment. Early on validation can be *ahead* (the training figure "
            "averages over older, worse weights); later a gap opens when the network starts "
            "memorising its training pictures."
        )
    )
    pick = lambda f: np.array([getattr(p, f) for p in history])  # noqa: E731
    chart(
        tf.training_curves(
            pick("step"),
            pick("loss"),
            pick("train_acc"),
            pick("val_acc"),
            chance=1 / len(settings.config.classes),
            total_steps=settings.steps,
        ),
        key="ct_curves",
    )


def _filters(snaps) -> None:
    """Draw the first-layer filters now and their film strip from the start."""
    st.markdown(
        t(
            "**First-layer filters.** Each tile is one filter's 3 colour channels as an RGB "
            "picture (grey = weight 0; each filter scaled by its own largest weight). They start "
            "as random noise; the gradient then pulls each towards a pattern whose response helps "
            "the loss: a colour (the shapes are coloured on coloured backgrounds) or a change of "
            "brightness in one direction (the border of a shape, a stripe). Left: every filter "
            "now. Right: read a column downwards to follow one filter from its random start."
        )
    )
    left, right = st.columns([1, 2])
    step, weights = snaps[-1]
    chart(
        tf.filter_grid(
            filter_images(weights).numpy(),
            t("All {n} filters at step {step}", n=len(weights), step=f"{step:,}"),
        ),
        key="ct_filters_now",
        where=left,
    )
    shown = _snapshots_to_show(snaps)
    with right:
        chart(
            tf.filter_evolution(
                [filter_images(w).numpy() for _, w in shown], [at for at, _ in shown]
            ),
            key="ct_filmstrip",
        )
        st.markdown(filters_notice(snaps[0][1], weights, step))


job = session_job(st.session_state, JOB_KEY)
if job is not None:
    st.subheader(t("Training"))
    state = show_progress(job, _render, key="ct_panel", every=2.0)  # charts cost CPU too
    outcome = of_kind(state.result, RunOutcome)
    if outcome is not None and outcome.result.steps_done == 0:
        st.warning(t("Stopped before the first step: there is no trained model."))
    elif outcome is not None:
        if outcome.result.stopped:
            st.info(
                t(
                    "Stopped after {done} of {steps} steps; the model and its curves so far are "
                    "kept.",
                    done=f"{outcome.result.steps_done:,}",
                    steps=f"{outcome.settings.steps:,}",
                )
            )
        if st.session_state.get("ct_registered") is not job:
            c = outcome.settings.config
            st.session_state["ct_label"] = remember_model(
                st.session_state,
                trained_name(c, outcome.result.steps_done),
                outcome.result.model,
                make_card(outcome),
            )
            st.session_state["ct_registered"] = job
        st.success(
            t(
                "Your model is now available on the page “{page}” as “{name}” (in this browser "
                "session only).",
                page=t("A trained CNN on your image"),
                name=st.session_state["ct_label"],
            )
        )
        overview_link(t("Open it there"))
else:
    st.info(
        t(
            "Press **Train** to start. The run works in the background: you can keep reading, "
            "change widgets or press Stop at any time, and a stopped run keeps its model."
        )
    )
    if config is not None:
        left, right = st.columns([1, 1])
        chart(
            tf.filter_grid(
                filter_images(first_layer_filters(model0)).numpy(),
                t("Your first-layer filters before training (step 0)"),
                300,
            ),
            key="ct_filters_init",
            where=left,
        )
        right.markdown(
            t(
                "{n} random filters of {k}×{k} pixels × 3 colours (He-normal initialisation, "
                "seed {seed}), each drawn as an RGB picture: grey is weight 0, a bright red pixel "
                "a large positive weight on red, a dark one a negative weight. Right now they are "
                "noise, with no preference for any colour or edge; training will change that.",
                n=config.filters,
                k=config.kernel,
                seed=seed,
            )
        )

st.divider()
ablation_section(classes, float(lr), seed, BF16, _data_store())
