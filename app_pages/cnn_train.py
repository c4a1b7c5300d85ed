"""CNN · Train it yourself: pick classes and layers, watch it learn, ablate pooling, ReLU, depth."""

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

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
from ui.cnn import train_figures as tf
from ui.cnn.ablation_view import ablation_section
from ui.cnn.models import remember_model
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
from ui.jobs import JobState, show_progress, start_job

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


st.title("Train a CNN yourself")
st.markdown(
    "Pick which shapes to tell apart and how big the network is, press **Train**, and watch a "
    "small VGG-style network learn on this server: its loss, its accuracy and its first-layer "
    "filters, as they change. Then switch off pooling, ReLU or depth in one click and measure "
    "what each was for."
)

st.subheader("What one training step does")
st.markdown(
    f"A step draws {BATCH} training images at random (each mirrored at random: a mirrored star "
    "is still a star), runs them forward to the logits $z$, and scores the softmax "
    "probabilities with the **cross-entropy** loss: the average surprise at the right answer."
)
st.latex(
    r"L = -\frac{1}{B}\sum_{i=1}^{B}\log\frac{e^{z_{i,y_i}}}{\sum_{k=1}^{K}e^{z_{i,k}}}"
    r"\qquad\text{(a network that guesses uniformly scores } L = \ln K)"
)
st.markdown(
    "Backpropagation then gives the gradient $g = \\nabla_\\theta L$ of the loss with respect to "
    "every weight, and **Adam** moves each weight against its own running average of $g$, "
    "scaled by the running size of $g$, so every weight takes steps of about the learning rate "
    "$\\eta$ whatever the scale of its gradient:"
)
st.latex(
    r"m \leftarrow \beta_1 m + (1-\beta_1)\,g,\quad v \leftarrow \beta_2 v + (1-\beta_2)\,g^2,"
    r"\quad \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v}+\epsilon}"
    rf"\quad(\beta_1 = {ADAM_BETAS[0]:g},\ \beta_2 = {ADAM_BETAS[1]:g})"
)

st.subheader("Your network")
classes = tuple(
    st.multiselect("Classes to tell apart", CLASSES, default=list(CLASSES), key="ct_classes")
)
c1, c2, c3, c4, c5 = st.columns(5)
depth = c1.slider("Blocks (conv-conv-pool)", 1, MAX_DEPTH, DEFAULT.depth_blocks, key="ct_depth")
filters = c2.slider("Filters per layer", 1, MAX_FILTERS, DEFAULT.filters, key="ct_filters")
kernel = c3.select_slider("Kernel size", list(KERNELS), DEFAULT.kernel, key="ct_kernel")
pool = c4.toggle("2×2 max pooling", value=DEFAULT.pool, key="ct_pool")
relu = c5.toggle("ReLU", value=DEFAULT.relu, key="ct_relu")
c1, c2, c3 = st.columns(3)
lr = c1.number_input(
    "Learning rate η",
    0.0,
    1.0,
    DEFAULT_LR,
    0.001,
    format="%.4f",
    key="ct_lr",
    help=f"Adam's step size; the default run uses {DEFAULT_LR:g}. Above about {LARGE_LR:g} "
    "training usually diverges.",
)
steps = int(c2.number_input("Training steps", 0, MAX_STEPS, DEFAULT_STEPS, 100, key="ct_steps"))
seed = int(
    c3.number_input(
        "Seed",
        0,
        1_000_000,
        0,
        key="ct_seed",
        help="Sets the initial weights and the order of the minibatches and mirrors. The images "
        "are the same for everyone.",
    )
)

problems: list[str] = []
config = None
if len(classes) < 2:
    problems.append("Choose at least two classes: with one class there is nothing to tell apart.")
else:
    try:
        config = CNNConfig(classes, depth, filters, kernel, pool, relu)
    except ExplorerError as err:
        problems.append(str(err))
if not lr > 0:
    problems.append("Set a learning rate above 0: with η = 0 Adam never moves a weight.")
if steps < 1:
    problems.append("Choose at least one training step.")
if config is not None and run_cost(config, max(steps, 0)) > WORK_CAP:
    problems.append(
        f"This run would cost {run_cost(config, steps):.1f}× the default one ({DEFAULT_STEPS:,} "
        f"steps of {DEFAULT.depth_blocks} blocks × {DEFAULT.filters} filters, "
        f"{DEFAULT.kernel}×{DEFAULT.kernel}); the cap is {WORK_CAP}× so everyone's pages stay "
        f"fast. Choose at most {max_steps_within(config):,} steps, or fewer filters or blocks, a "
        "smaller kernel, or pooling on."
    )

if config is not None:
    model0 = SmallCNN(config, seed=seed)
    st.markdown(
        f"Feature maps: {' → '.join(f'{s}×{s}' for s in map_sides(config))} "
        f"({'halved by each pooling' if pool else 'no pooling: the size never changes'}). The "
        f"classifier reads {config.filters}·{config.final_side}² = {config.flat_features:,} "
        f"numbers; each last-layer unit sees a {last_field(config)}-px square "
        f"of the {config.input_size}-px input. **{parameter_count(config):,} weights** in all, "
        f"{conv_macs(config) / 1e6:.1f} million multiply-adds per image in the convolutions."
    )
    if pool and config.final_side <= 4:
        st.info(
            f"With {depth} poolings the last maps are {config.final_side}×{config.final_side}: "
            "fine, but every unit there sees almost the whole picture and little of *where* "
            "things are survives."
        )
    if not relu:
        st.info(
            "Without ReLU each conv–conv pair is one linear filter: max pooling is the only "
            "nonlinearity left" + ("." if pool else ", and with pooling off too, none at all.")
        )
for p in problems:
    st.warning(p)
if lr > LARGE_LR and not problems:
    st.info(
        f"η = {lr:g} is large for Adam: each weight moves by up to about η per step, so the "
        "loss will likely jump around or blow up. Try it and watch the curves."
    )

if classes:
    st.plotly_chart(
        tf.image_row(list(_examples(classes)), list(classes), 150),
        key="ct_examples",
        config={"staticPlot": True},
    )
    st.caption(
        f"The first training picture of each class. Training uses {N_PER_CLASS} per class "
        f"({N_PER_CLASS * len(classes):,} pictures); validation uses {N_VAL_PER_CLASS} other "
        f"pictures per class, drawn from another seed and never trained on."
    )

precision = (
    "This server's CPU computes bfloat16 natively (AVX512-BF16 or AMX, as oneDNN reports), so "
    "the forward pass runs under bfloat16 autocast: activations keep 8 significant bits, while "
    "the weights and Adam's averages stay float32. `python -m benchmarks small_cnn` measures the "
    "speed-up on this machine."
    if BF16
    else "This CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX), so training runs in "
    "float32 (emulated bfloat16 would be slower)."
)
st.caption(precision)
if st.button(
    "Train", type="primary", icon=":material/play_arrow:", key="ct_train", disabled=bool(problems)
):
    if not problems and config is not None:
        settings = RunSettings(config, steps, float(lr), seed, BF16)
        start_job(st.session_state, JOB_KEY, "train", training_work(settings, _data_store()))


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
    m[0].metric("Parameters", f"{parameter_count(settings.config):,}")
    m[1].metric(f"Steps done (of {settings.steps:,})", f"{done:,}")
    m[2].metric("Training time", f"{seconds:.1f} s")
    m[3].metric("Images per second", f"{done * settings.batch / seconds:,.0f}" if seconds else "–")
    m[4].metric("Validation accuracy", f"{history[-1].val_acc:.1%}" if history else "–")
    m[5].metric("Training accuracy", f"{history[-1].train_acc:.1%}" if history else "–")


def _curves(settings, history) -> None:
    """Draw the loss and accuracy curves so far, with what the two accuracies measure."""
    st.markdown(
        "Training accuracy is measured on the minibatches since the previous point, while the "
        "weights were still changing; validation accuracy on the held-out pictures with the "
        "weights of that moment. Early on validation can be *ahead* (the training figure "
        "averages over older, worse weights); later a gap opens when the network starts "
        "memorising its training pictures."
    )
    pick = lambda f: np.array([getattr(p, f) for p in history])  # noqa: E731
    st.plotly_chart(
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
        "**First-layer filters.** Each tile is one filter's 3 colour channels as an RGB picture "
        "(grey = weight 0; each filter scaled by its own largest weight). They start as random "
        "noise; the gradient then pulls each towards a pattern whose response helps the loss: "
        "a colour (the shapes are coloured on coloured backgrounds) or a change of brightness "
        "in one direction (the border of a shape, a stripe). Left: every filter now. Right: "
        "read a column downwards to follow one filter from its random start."
    )
    left, right = st.columns([1, 2])
    step, weights = snaps[-1]
    left.plotly_chart(
        tf.filter_grid(
            filter_images(weights).numpy(), f"All {len(weights)} filters at step {step:,}"
        ),
        key="ct_filters_now",
    )
    shown = _snapshots_to_show(snaps)
    with right:
        st.plotly_chart(
            tf.filter_evolution(
                [filter_images(w).numpy() for _, w in shown], [t for t, _ in shown]
            ),
            key="ct_filmstrip",
        )
        st.markdown(filters_notice(snaps[0][1], weights, step))


job = session_job(st.session_state, JOB_KEY)
if job is not None:
    st.subheader("Training")
    state = show_progress(job, _render, key="ct_panel", every=2.0)  # charts cost CPU too
    outcome = of_kind(state.result, RunOutcome)
    if outcome is not None and outcome.result.steps_done == 0:
        st.warning("Stopped before the first step: there is no trained model.")
    elif outcome is not None:
        if outcome.result.stopped:
            st.info(
                f"Stopped after {outcome.result.steps_done:,} of {outcome.settings.steps:,} "
                "steps; the model and its curves so far are kept."
            )
        if st.session_state.get("ct_registered") is not job:
            c = outcome.settings.config
            st.session_state["ct_label"] = remember_model(
                st.session_state,
                f"Trained here: {c.depth_blocks} block(s) × {c.filters} filters "
                f"{c.kernel}×{c.kernel}, {len(c.classes)} classes, "
                f"{outcome.result.steps_done:,} steps",
                outcome.result.model,
                make_card(outcome),
            )
            st.session_state["ct_registered"] = job
        st.success(
            f"Your model is now available on the page “A trained CNN on your image” as "
            f"“{st.session_state['ct_label']}” (in this browser session only)."
        )
        try:
            st.page_link(
                "app_pages/cnn_overview.py", label="Open it there", icon=":material/neurology:"
            )
        except (StreamlitAPIException, KeyError):  # the page alone (tests) has no navigation
            pass
else:
    st.info(
        "Press **Train** to start. The run works in the background: you can keep reading, "
        "change widgets or press Stop at any time, and a stopped run keeps its model."
    )
    if config is not None:
        left, right = st.columns([1, 1])
        left.plotly_chart(
            tf.filter_grid(
                filter_images(first_layer_filters(model0)).numpy(),
                "Your first-layer filters before training (step 0)",
                300,
            ),
            key="ct_filters_init",
        )
        right.markdown(
            f"{config.filters} random filters of {config.kernel}×{config.kernel} pixels × 3 "
            f"colours (He-normal initialisation, seed {seed}), each drawn as an RGB picture: "
            "grey is weight 0, a bright red pixel a large positive weight on red, a dark one a "
            "negative weight. Right now they are noise, with no preference for any colour or "
            "edge; training will change that."
        )

st.divider()
ablation_section(classes, float(lr), seed, BF16, _data_store())
