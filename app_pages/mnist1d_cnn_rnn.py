"""Compare · CNN vs RNN on MNIST-1D: 1D digits, live training, scrambled time, sequential depth."""

import numpy as np
import pandas as pd
import streamlit as st

from engine.sequence import (
    ARCH_TITLES,
    ARCHS,
    BATCH,
    CNN_CHANNELS,
    CNN_LAYERS_SPEC,
    DEFAULT_STEPS,
    EVAL_POINTS,
    LEARNING_RATE,
    MLP_HIDDEN,
    N_CLASSES,
    ORDER_BLIND,
    PAPER_MLP_HIDDEN,
    PUBLISHED_ACCURACY,
    PUBLISHED_ACCURACY_SHUFFLED,
    PUBLISHED_SOURCE,
    RATIO_FACTOR,
    RNN_HIDDEN,
    SEQ_LEN,
    above_chance,
    differ,
    examples_per_class,
    neighbour_jump,
    peak_spread,
    ratio_claim,
    seconds_per_step,
    shuffle_claim,
    shuffle_contrast,
    time_permutation,
)
from ui.jobs import get_job, show_progress, start_job
from ui.sections import lazy_section
from ui.sequence import mnist1d_figures as mf
from ui.sequence.mnist1d_depth import depth_section, timing_section
from ui.sequence.mnist1d_runs import (
    MAX_PLAN_STEPS,
    arch_name,
    label,
    make_plan,
    mnist1d_data,
    parameter_counts,
    plan_work,
    results_table,
    run_store,
    runs_for,
)

MULTIPLIERS = [0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0]
BLURBS = {
    "linear": "one weight per (time step, digit): a bump that moves by one step meets other "
    "weights, so shifted digits look like different inputs.",
    "mlp": f"two hidden layers of {MLP_HIDDEN} ReLU units over all {SEQ_LEN} samples at once; it "
    "can learn any pattern but has no notion of which samples are neighbours.",
    "cnn": f"{len(CNN_LAYERS_SPEC)} 1D convolutions ({CNN_CHANNELS} channels; kernels "
    f"{', '.join(str(k) for k, _ in CNN_LAYERS_SPEC)}; strides "
    f"{', '.join(str(s) for _, s in CNN_LAYERS_SPEC)}) then a linear readout: "
    "the same small detectors slide along time, so a stroke is found wherever it sits.",
    "gru": f"a GRU with {RNN_HIDDEN} hidden units reads left to right, another right to left; the "
    f"readout sees all {SEQ_LEN} pairs of states. Each state depends on the previous one.",
    "lstm": "the same bidirectional reader with an LSTM cell (a separate memory and three gates).",
    "rnn": "the same bidirectional reader with a plain tanh cell, no gates.",
    "tcn": "causal convolutions with dilations 1, 2, 4, …: the last time step sees the whole "
    "sequence after ⌈log₂ T⌉ layers, and only it is read out.",
}


st.title("CNN vs RNN on MNIST-1D")
st.markdown(
    f"MNIST-1D is a tiny stand-in for MNIST: ten digits drawn as 1D curves of {SEQ_LEN} samples. "
    "It is small enough to train a CNN and an RNN live, yet hard enough to separate models "
    "that know about *order in time* from models that do not. Here you train them side by side, "
    "scramble time to see which ones care, and count how many steps each must take one after "
    "another."
)

# ---------------------------------------------------------------------------------------------
st.subheader("The data: ten templates, thousands of transformed copies")
data = mnist1d_data()
N_TEST = len(data.y_test)  # test sequences every accuracy is measured on (its noise)
st.markdown(
    f"Each digit starts as a hand-drawn template of {data.templates.shape[1]} points. The "
    f"generator pads it, stretches, scales, shears and shifts it, adds smooth and random noise "
    f"and resamples to {SEQ_LEN} points, {len(data.y_train):,} times for training and "
    f"{len(data.y_test):,} for testing."
)
st.plotly_chart(
    mf.digit_grid(
        data.template_t, data.templates, x_title="template t", title="The ten templates", height=320
    ),
    key="m1d_templates",
)


@st.fragment
def examples_section() -> None:
    """Draw the first k training samples of each digit; the slider reruns only this chart."""
    k = st.slider("Training samples per digit", 1, 5, 3, key="m1d_k")
    examples, rows = examples_per_class(k, "train")  # (10, k, 40), (10, k)
    st.plotly_chart(
        mf.digit_grid(
            np.arange(SEQ_LEN),
            examples,
            x_title="time step",
            height=380,
            title=f"The first {examples.shape[1]} training samples of each digit (one colour each)",
            names=[f"digit {d}, training row {r}" for d in range(10) for r in rows[d]],
        ),
        key="m1d_examples",
    )


examples_section()
peak_sd = peak_spread(data.x_train, data.y_train)  # (10,) per digit: spread of the peak's step
st.markdown(
    f"**What to notice.** Samples of one digit share strokes, not positions or exact values: "
    f"over all {len(data.y_train):,} training samples, the time step at which a sample reaches "
    f"its highest value varies with a standard deviation of {peak_sd.mean():.1f} steps within a "
    f"digit (from {peak_sd.min():.1f} for digit {peak_sd.argmin()} to {peak_sd.max():.1f} for "
    f"digit {peak_sd.argmax()}), out of {SEQ_LEN}. A model that recognises a stroke wherever it "
    "occurs has the easier job."
)

# ---------------------------------------------------------------------------------------------
counts = parameter_counts()
sized = [counts[a] for a in ARCHS if a != "linear"]  # logistic regression is small by nature
st.subheader(f"The models: {min(sized):,} to {max(sized):,} weights each")
st.markdown(
    "\n".join(
        f"- **{ARCH_TITLES[a]}** · {counts[a]:,} weights"
        + (f" · published {PUBLISHED_ACCURACY[a]:.0%}" if a in PUBLISHED_ACCURACY else "")
        + f": {BLURBS[a]}"
        for a in ARCHS
    )
)
st.caption(
    f"Published test accuracies: {PUBLISHED_SOURCE}; human experts reached "
    f"{PUBLISHED_ACCURACY['human']:.0%}. Our MLP has {MLP_HIDDEN} hidden units "
    f"({counts['mlp']:,} weights) where the paper's has {PAPER_MLP_HIDDEN}; the logistic "
    "regression is small by nature."
)

# ---------------------------------------------------------------------------------------------
st.subheader("Train them side by side")
st.markdown(
    f"Each model trains with Adam (learning rate {LEARNING_RATE:g}, minibatches of {BATCH}) on the "
    f"{len(data.y_train):,} training sequences and is scored on the {len(data.y_test):,} test "
    f"sequences about {EVAL_POINTS} times along the way. One run "
    "trains the chosen models one after another on one CPU thread; finished runs are kept for "
    "everyone, so asking again for the same settings is instant."
)
c1, c2, c3 = st.columns([3, 2, 1])
archs = c1.multiselect(
    "Models", ARCHS, ["linear", "mlp", "cnn", "gru"], format_func=arch_name, key="m1d_archs"
)
mult = c2.select_slider(
    "Training length (× each model's default steps)",
    MULTIPLIERS,
    1.0,
    key="m1d_mult",
    format_func=lambda m: f"{m:g}×",
)
seed = int(c3.number_input("Seed", 0, 10_000, 0, key="m1d_seed"))
plan = make_plan(archs, mult, seed)
store = run_store()
if plan:
    st.caption(
        "Minibatches per model: "
        + ", ".join(f"{label(key)} {key.steps:,}" for key in plan)
        + (
            ""
            if mult == 1
            else f" ({mult:g}× the defaults: "
            + ", ".join(f"{DEFAULT_STEPS[key.arch]:,}" for key in plan)
            + ")"
        )
        + "."
    )


def _launch(plan, job_key: str, name: str) -> None:
    """Check the plan and start its job, or say what is wrong."""
    total = sum(key.steps for key in plan)
    if not plan:
        st.warning("Choose at least one model to train.")
    elif total > MAX_PLAN_STEPS:
        st.warning(
            f"That is {total:,} minibatches in one run, over the cap of {MAX_PLAN_STEPS:,}: "
            "choose fewer models or a shorter length."
        )
    else:
        st.session_state[f"{job_key}_plan"] = plan
        start_job(st.session_state, job_key, name, plan_work(plan, store))


def _train_controls(plan, keys: tuple[str, str, str], name: str, all_done: str, **button):
    """Draw a "Train n of m" button and its job's progress; return (untrained keys, job).

    keys: the button's, the job's and the progress panel's session keys.
    """
    button_key, job_key, panel_key = keys
    missing = [key for key in plan if store.get(key) is None]
    label = f"Train {len(missing)} of {len(plan)}" if plan and missing else "Train"
    if st.button(label, key=button_key, **button):
        if plan and not missing:
            st.info(f"{all_done}: results below.")
        else:
            _launch(plan, job_key, name)
    job = get_job(st.session_state, job_key)
    if job is not None:
        show_progress(job, _live, key=panel_key, every=2.0)
    return missing, job


def _live(state) -> None:
    """Draw the curves of the running job (the finished page draws the stored results)."""
    if state.finished or not state.payload:
        return
    curves = {label(k): v for k, v in state.payload.items()}
    st.plotly_chart(
        mf.learning_curves(
            curves,
            {label(k): mf.ARCH_COLORS[k.arch] for k in state.payload},
            dashed=[label(k) for k in state.payload if k.shuffle],
            by_time=False,  # light while it refreshes; wall-clock time is drawn at the end
            title="Learning as it happens (test accuracy)",
            height=320,
        ),
        key="m1d_live",
    )


def _notice(runs) -> str:
    """Return the what-to-notice paragraph for trained runs, every claim chosen by the numbers."""
    parts = [
        f"{label(key)} reached {r.result.test_accuracy:.1%} in {r.result.seconds:.1f} s "
        f"({1000 * seconds_per_step(r.result.seconds, r.result.steps):.1f} ms per step"
        + (
            f", published {r.result.published_accuracy:.0%})"
            if r.result.published_accuracy
            else ")"
        )
        for key, r in runs.items()
    ]
    text = "**What to notice.** " + "; ".join(parts) + "."
    by_arch = {key.arch: r.result for key, r in runs.items()}
    if "cnn" in by_arch and "gru" in by_arch:
        text += _step_cost(by_arch["cnn"], by_arch["gru"])
    text += _linear_gap(runs) + _at_chance(runs)
    if any(r.stopped for r in runs.values()):
        text += " A stopped run shows the accuracy it had when it was stopped."
    return text


def _step_cost(cnn, gru) -> str:
    """Return the sentence comparing a GRU step's time with a CNN step's, as measured."""
    per_step = seconds_per_step(gru.seconds, gru.steps) / seconds_per_step(cnn.seconds, cnn.steps)
    weights = (
        "With about the same number of weights"
        if ratio_claim(gru.n_params / cnn.n_params) == "similar"
        else "With"
    ) + f" ({cnn.n_params:,} vs {gru.n_params:,})"
    claim = ratio_claim(per_step)
    if claim == "higher":
        return (
            f" {weights}, a GRU step costs {per_step:.1f}× a CNN step here: it walks through "
            f"{SEQ_LEN} time steps in both directions, one after another, where the CNN handles "
            "all positions of a layer in one operation."
        )
    return (
        f" {weights}, a GRU step took {per_step:.2f}× a CNN step here, "
        + ("less" if claim == "lower" else f"within {RATIO_FACTOR:g}× of it")
        + ": the server's load, not the models, may dominate these timings."
    )


def _linear_gap(runs) -> str:
    """Return the linear model's sentence if a finished model beats it beyond noise, else ''."""
    done = {key.arch: r.result for key, r in runs.items() if not r.stopped and not key.shuffle}
    if "linear" not in done or len(done) < 2:
        return ""
    linear = done.pop("linear")
    best = max(done, key=lambda a: done[a].test_accuracy)
    gap = done[best].test_accuracy - linear.test_accuracy
    if gap <= 0 or not differ(done[best].test_accuracy, linear.test_accuracy, N_TEST):
        return (
            f" The linear model ({linear.test_accuracy:.1%}) is within noise of or above the best "
            f"other model here ({arch_name(best)}, {done[best].test_accuracy:.1%}): too little "
            "training to tell them apart."
        )
    return (
        f" The linear model ends {100 * gap:.1f} points below the {arch_name(best)}, more than "
        f"the noise of {N_TEST:,} test sequences: with one weight per position it cannot follow "
        "a stroke that moves."
    )


def _at_chance(runs) -> str:
    """Return which runs are not clearly above chance (1 in N_CLASSES), or ''."""
    low = [
        f"{label(key)} ({r.result.test_accuracy:.1%})"
        for key, r in runs.items()
        if not above_chance(r.result.test_accuracy, 1 / N_CLASSES, N_TEST)
    ]
    if not low:
        return ""
    return (
        f" Not clearly above chance ({1 / N_CLASSES:.0%}) yet, so they have learned nothing we "
        "can compare: " + ", ".join(low) + "."
    )


def _running(job_key: str) -> bool:
    job = get_job(st.session_state, job_key)
    return job is not None and not job.state().finished


missing, job = _train_controls(
    plan,
    ("m1d_train", "m1d_train_job", "m1d_train_panel"),
    "mnist1d",
    "Every chosen model is already trained with these settings",
    type="primary",
    icon=":material/play_arrow:",
)
runs = runs_for(plan, store, job)
if runs and not _running("m1d_train_job"):
    st.plotly_chart(
        mf.learning_curves(
            {label(k): r.curve for k, r in runs.items()},
            {label(k): mf.ARCH_COLORS[k.arch] for k in runs},
            title="Test accuracy during training",
        ),
        key="m1d_curves",
    )
    st.dataframe(
        results_table(runs, counts),
        hide_index=True,
        key="m1d_results",
        column_config={
            "model": st.column_config.TextColumn(width="medium"),
            "weights": st.column_config.NumberColumn(format="localized"),
            "steps": st.column_config.NumberColumn(format="localized"),
        },
    )
    st.caption(
        "Seconds are wall-clock time on this server, which other people's pages share: they "
        f"vary with the load. Published accuracies: {PUBLISHED_SOURCE}."
    )
    st.markdown(_notice(runs))
if not plan:
    st.info("Choose at least one model to train.")
elif missing and not _running("m1d_train_job"):
    st.info(
        f"{len(missing)} of {len(plan)} chosen models are not trained with these settings yet: "
        "press **Train**."
    )


# ---------------------------------------------------------------------------------------------
def scramble_section() -> None:
    """Draw one permuted test sequence, why order matters, and the ordered/shuffled ablation."""
    st.subheader("Scramble time: which models care about order?")
    _permutation_view()
    _ablation_view()


def _permutation_view() -> None:
    """Draw a test sequence before and after the fixed time permutation, and how rough it got."""
    order = time_permutation(SEQ_LEN)
    st.markdown(
        f"Apply one fixed permutation to the {SEQ_LEN} time steps of every sequence, training and "
        f"test alike. No information is lost: the same {SEQ_LEN} numbers are there, and a model "
        "could in principle undo the permutation. But neighbours in time are no longer neighbours "
        "in the input."
    )
    pick = st.number_input("Test sequence to show", 0, len(data.y_test) - 1, 0, key="m1d_pick")
    x_seq = data.x_test[pick]
    st.plotly_chart(
        mf.before_after(
            np.arange(SEQ_LEN),
            x_seq,
            x_seq[order],
            title=f"Test sequence {pick} (digit {data.y_test[pick]}) before and after",
        ),
        key="m1d_perm",
    )
    st.markdown(_roughness_text(order))
    st.markdown(
        "A convolution's inductive bias is *locality* (a unit looks at a few neighbouring samples) "
        "and *weight sharing* (the same detector everywhere); a recurrent network's is *order* "
        "(each state builds on the previous one). Both biases help only if neighbours belong "
        "together. The linear model and the MLP connect every input to every unit with its own "
        "weight, so a permutation of the inputs is just a permutation of their first-layer "
        "weights: they can learn the scrambled task as well as the original."
    )


def _roughness_text(order) -> str:
    """Return how much more neighbouring samples differ after the permutation, and what follows."""
    jump, jump_shuffled = neighbour_jump(data.x_train), neighbour_jump(data.x_train[:, order])
    return (
        f"**What to notice.** Over the training set, neighbouring samples differ by {jump:.2f} on "
        f"average before the permutation and by {jump_shuffled:.2f} after "
        f"({jump_shuffled / jump:.1f}×)"
        + (
            f": the smooth strokes a {CNN_LAYERS_SPEC[0][0]}-wide kernel or a step-by-step reader "
            "relies on are gone."
            if ratio_claim(jump_shuffled / jump) == "higher"
            else f", within {RATIO_FACTOR:g}× of each other: this permutation left the curves "
            "about as smooth."
        )
        + f" Time step 0 now holds what was at step {order[0]}, step 1 what was at step "
        f"{order[1]}."
    )


def _ablation_view() -> None:
    """Draw the ablation's model picker, its Train button and, once trained, its results."""
    ablation_archs = st.multiselect(
        "Models for the ablation (same training length and seed as above)",
        ARCHS,
        ["mlp", "cnn", "gru"],
        format_func=arch_name,
        key="m1d_abl_archs",
    )
    abl_plan = make_plan(ablation_archs, mult, seed, (False, True))
    abl_missing, abl_job = _train_controls(
        abl_plan,
        ("m1d_abl_train", "m1d_abl_job", "m1d_abl_panel"),
        "mnist1d-shuffled",
        "Both versions of every chosen model are already trained",
        icon=":material/shuffle:",
        help="Trains each chosen model on ordered and on shuffled time (runs already done are "
        "reused).",
    )
    abl_runs = runs_for(abl_plan, store, abl_job)
    pairs = [
        a
        for a in ablation_archs
        if all(any(k.arch == a and k.shuffle == s for k in abl_runs) for s in (False, True))
    ]
    if pairs and not _running("m1d_abl_job"):
        _ablation_results(pairs, abl_runs, abl_plan)
    if not abl_plan:
        st.info("Choose at least one model for the ablation.")
    elif abl_missing and not _running("m1d_abl_job"):
        st.info(
            f"{len(abl_missing)} of {len(abl_plan)} runs (ordered and shuffled) are not trained "
            "with these settings yet: press the **Train** button of this section."
        )


def _ablation_results(pairs: list[str], runs, plan) -> None:
    """Draw the ordered-against-shuffled bars, table and what to notice for the trained pairs."""
    acc = {(k.arch, k.shuffle): r.result.test_accuracy for k, r in runs.items()}
    names = [label(k) for k in plan if not k.shuffle and k.arch in pairs]
    series = {
        "ours, ordered": [acc[a, False] for a in pairs],
        "ours, shuffled": [acc[a, True] for a in pairs],
        "published, ordered": [PUBLISHED_ACCURACY.get(a) for a in pairs],
        "published, shuffled": [PUBLISHED_ACCURACY_SHUFFLED.get(a) for a in pairs],
    }
    st.plotly_chart(
        mf.ablation_bars(
            names,
            series,
            {
                "ours, ordered": "#2563eb",
                "ours, shuffled": "#dc2626",
                "published, ordered": "#93c5fd",
                "published, shuffled": "#fca5a5",
            },
            {"published, ordered": "/", "published, shuffled": "/"},
            title="Test accuracy with time in order and shuffled",
        ),
        key="m1d_abl_bars",
    )
    contrast = shuffle_contrast(acc, pairs)
    st.dataframe(
        _ablation_table(names, pairs, series, contrast.drops), hide_index=True, key="m1d_abl_table"
    )
    st.caption(f"Published accuracies: {PUBLISHED_SOURCE}.")
    stopped = any(r.stopped for k, r in runs.items() if k.arch in pairs)
    st.markdown(_ablation_notice(pairs, acc, contrast, stopped))


def _pct(v):
    return None if v is None else round(100 * v, 1)


def _ablation_table(names, pairs, series, drops) -> pd.DataFrame:
    """Return one row per model: ordered and shuffled accuracy (ours, published) and the drop."""
    return pd.DataFrame(
        {
            "model": names,
            "ordered (%)": [_pct(v) for v in series["ours, ordered"]],
            "shuffled (%)": [_pct(v) for v in series["ours, shuffled"]],
            "drop (points)": [round(drops[a], 1) for a in pairs],
            "published ordered (%)": [_pct(v) for v in series["published, ordered"]],
            "published shuffled (%)": [_pct(v) for v in series["published, shuffled"]],
        }
    )


def _ablation_notice(pairs, acc, contrast, stopped: bool) -> str:
    """Return the what-to-notice paragraph of the ablation, the contrast chosen by its numbers."""
    text = (
        "**What to notice.** "
        + "; ".join(
            f"{arch_name(a)}: {acc[a, False]:.1%} → {acc[a, True]:.1%} "
            f"({-contrast.drops[a]:+.1f} points)"
            for a in pairs
        )
        + "."
    )
    return text + _contrast_text(pairs, acc, contrast, stopped) + _published_shuffle(pairs)


def _contrast_text(pairs, acc, contrast, stopped: bool) -> str:
    """Return the ablation's conclusion, only where shuffle_claim says the numbers support one."""
    if contrast.worst_blind is None:
        return " Add the MLP to see a model that does not care about order."
    if contrast.least_biased is None:
        return " Add the CNN or the GRU to see a model whose bias depends on order."
    if stopped:
        return " A run was stopped before the end, so these drops support no conclusion."
    claim = shuffle_claim(acc, pairs, ORDER_BLIND, 1 / N_CLASSES, N_TEST)
    if claim == "untrained":
        return (
            f" A model built on locality or order is not clearly above chance "
            f"({1 / N_CLASSES:.0%}) with time in order yet, so its drop means nothing: train "
            "longer before reading the contrast."
        )
    if claim == "contrast":
        return (
            f" The order-blind models move by at most {contrast.worst_blind:.1f} points, inside "
            "the noise (their first layer simply starts from a different random draw relative "
            "to the inputs); the models built around locality or order lose at least "
            f"{contrast.least_biased:.1f} points, beyond it."
        )
    return (
        " Here the drops do not separate the two kinds beyond the sampling noise of "
        f"{N_TEST:,} test sequences, so they support no conclusion; try a longer training length."
    )


def _published_shuffle(pairs) -> str:
    """Return the published ordered → shuffled accuracies of the models shown, or ''."""
    text = ""
    pub = [a for a in pairs if a in PUBLISHED_ACCURACY_SHUFFLED and a in PUBLISHED_ACCURACY]
    if pub:
        text += (
            " Published: "
            + "; ".join(
                f"{arch_name(a)} {PUBLISHED_ACCURACY[a]:.0%} → {PUBLISHED_ACCURACY_SHUFFLED[a]:.0%}"
                for a in pub
            )
            + "."
        )
    return text


# ---------------------------------------------------------------------------------------------
st.divider()
lazy_section(
    "Scramble time: which models care about order? (a permuted sequence and an ablation to train)",
    "open_m1d_scramble",
    scramble_section,
    icon=":material/shuffle:",
)


def depth_and_cost() -> None:
    """Draw the sequential-depth comparison, then the measured time per batch."""
    depth_section()
    timing_section()


lazy_section(
    "Sequential depth: how many steps one after another, and what that costs in time",
    "open_m1d_depth",
    depth_and_cost,
    icon=":material/timeline:",
)
