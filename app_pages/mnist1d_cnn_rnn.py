"""Compare · CNN vs RNN on MNIST-1D: 1D digits, live training, scrambled time, sequential depth."""

import numpy as np
import pandas as pd
import streamlit as st

from engine.core import N_
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
from ui.chart import chart
from ui.i18n import current_lang, t
from ui.jobs import get_job, show_progress, start_job
from ui.links import linked
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
from ui.tables import table

MULTIPLIERS = [0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0]


def _blurbs() -> dict[str, str]:
    """Return one line per model on what it can see, in the session's language."""
    return {
        "linear": t(
            "one weight per (time step, digit): a bump that moves by one step meets other "
            "weights, so shifted digits look like different inputs."
        ),
        "mlp": t(
            "two hidden layers of {hidden} ReLU units over all {length} samples at once; it can "
            "learn any pattern but has no notion of which samples are neighbours.",
            hidden=MLP_HIDDEN,
            length=SEQ_LEN,
        ),
        "cnn": t(
            "{layers} 1D convolutions ({channels} channels; kernels {kernels}; strides {strides}) "
            "then a linear readout: the same small detectors slide along time, so a stroke is "
            "found wherever it sits.",
            layers=len(CNN_LAYERS_SPEC),
            channels=CNN_CHANNELS,
            kernels=", ".join(str(k) for k, _ in CNN_LAYERS_SPEC),
            strides=", ".join(str(s) for _, s in CNN_LAYERS_SPEC),
        ),
        "gru": t(
            "a GRU with {hidden} hidden units reads left to right, another right to left; the "
            "readout sees all {length} pairs of states. Each state depends on the previous one.",
            hidden=RNN_HIDDEN,
            length=SEQ_LEN,
        ),
        "lstm": t(
            "the same bidirectional reader with an LSTM cell (a separate memory and three gates)."
        ),
        "rnn": t("the same bidirectional reader with a plain tanh cell, no gates."),
        "tcn": t(
            "causal convolutions with dilations 1, 2, 4, …: the last time step sees the whole "
            "sequence after ⌈log₂ T⌉ layers, and only it is read out."
        ),
    }


st.title(t("CNN vs RNN on MNIST-1D"))
st.markdown(
    t(
        "MNIST-1D is a tiny stand-in for MNIST: ten digits drawn as 1D curves of {length} "
        "samples. It is small enough to train a CNN and an RNN live, yet hard enough to separate "
        "models that know about *order in time* from models that do not. Here you train them "
        "side by side, scramble time to see which ones care, and count how many steps each must "
        "take one after another.",
        length=SEQ_LEN,
    )
)

# ---------------------------------------------------------------------------------------------
st.subheader(t("The data: ten templates, thousands of transformed copies"))
with st.spinner(t("Generating MNIST-1D (once per server)…")):
    data = mnist1d_data()
N_TEST = len(data.y_test)  # test sequences every accuracy is measured on (its noise)
st.markdown(
    t(
        "Each digit starts as a hand-drawn template of {points} points. The generator pads it, "
        "stretches, scales, shears and shifts it, adds smooth and random noise and resamples to "
        "{length} points, {train} times for training and {test} for testing.",
        points=data.templates.shape[1],
        length=SEQ_LEN,
        train=f"{len(data.y_train):,}",
        test=f"{len(data.y_test):,}",
    )
)
chart(
    mf.digit_grid(
        data.template_t,
        data.templates,
        x_title=t("template t"),
        title=t("The ten templates"),
        height=320,
    ),
    key="m1d_templates",
)


@st.fragment
def examples_section() -> None:
    """Draw the first k training samples of each digit; the slider reruns only this chart."""
    k = linked(st.slider)(t("Training samples per digit"), 1, 5, 3, key="m1d_k")
    examples, rows = examples_per_class(k, "train")  # (10, k, 40), (10, k)
    chart(
        mf.digit_grid(
            np.arange(SEQ_LEN),
            examples,
            x_title=t("time step"),
            height=380,
            title=t(
                "The first {k} training samples of each digit (one colour each)",
                k=examples.shape[1],
            ),
            names=[t("digit {d}, training row {r}", d=d, r=r) for d in range(10) for r in rows[d]],
        ),
        key="m1d_examples",
    )


examples_section()
peak_sd = peak_spread(data.x_train, data.y_train)  # (10,) per digit: spread of the peak's step
st.markdown(
    t(
        "**What to notice.** Samples of one digit share strokes, not positions or exact values: "
        "over all {n} training samples, the time step at which a sample reaches its highest value "
        "varies with a standard deviation of {mean} steps within a digit (from {low} for digit "
        "{low_digit} to {high} for digit {high_digit}), out of {length}. A model that recognises "
        "a stroke wherever it occurs has the easier job.",
        n=f"{len(data.y_train):,}",
        mean=f"{peak_sd.mean():.1f}",
        low=f"{peak_sd.min():.1f}",
        low_digit=peak_sd.argmin(),
        high=f"{peak_sd.max():.1f}",
        high_digit=peak_sd.argmax(),
        length=SEQ_LEN,
    )
)

# ---------------------------------------------------------------------------------------------
counts = parameter_counts()
sized = [counts[a] for a in ARCHS if a != "linear"]  # logistic regression is small by nature
st.subheader(
    t("The models: {low} to {high} weights each", low=f"{min(sized):,}", high=f"{max(sized):,}")
)


def _model_line(arch: str, blurb: str) -> str:
    """Return one model's bullet: its title, weights, published accuracy and what it sees."""
    params = dict(title=t(ARCH_TITLES[arch]), weights=f"{counts[arch]:,}", blurb=blurb)
    if arch in PUBLISHED_ACCURACY:
        return t(
            "- **{title}** · {weights} weights · published {published}: {blurb}",
            published=f"{PUBLISHED_ACCURACY[arch]:.0%}",
            **params,
        )
    return t("- **{title}** · {weights} weights: {blurb}", **params)


BLURBS = _blurbs()
st.markdown("\n".join(_model_line(a, BLURBS[a]) for a in ARCHS))
st.caption(
    t(
        "Published test accuracies: {source}; human experts reached {human}. Our MLP has "
        "{hidden} hidden units ({weights} weights) where the paper's has {paper}; the logistic "
        "regression is small by nature.",
        source=PUBLISHED_SOURCE,
        human=f"{PUBLISHED_ACCURACY['human']:.0%}",
        hidden=MLP_HIDDEN,
        weights=f"{counts['mlp']:,}",
        paper=PAPER_MLP_HIDDEN,
    )
)

# ---------------------------------------------------------------------------------------------
st.subheader(t("Train them side by side"))
st.markdown(
    t(
        "Each model trains with Adam (learning rate {lr}, minibatches of {batch}) on the {train} "
        "training sequences and is scored on the {test} test sequences about {points} times "
        "along the way. One run trains the chosen models one after another on one CPU thread; "
        "finished runs are kept for everyone, so asking again for the same settings is instant.",
        lr=f"{LEARNING_RATE:g}",
        batch=BATCH,
        train=f"{len(data.y_train):,}",
        test=f"{len(data.y_test):,}",
        points=EVAL_POINTS,
    )
)
c1, c2, c3 = st.columns([3, 2, 1])
archs = linked(c1.multiselect)(
    t("Models"), ARCHS, ["linear", "mlp", "cnn", "gru"], format_func=arch_name, key="m1d_archs"
)
mult = linked(c2.select_slider)(
    t("Training length (× each model's default steps)"),
    MULTIPLIERS,
    1.0,
    key="m1d_mult",
    format_func=lambda m: f"{m:g}×",
)
seed = int(linked(c3.number_input)(t("Seed"), 0, 10_000, 0, key="m1d_seed"))
plan = make_plan(archs, mult, seed)
store = run_store()


def _plan_caption(plan) -> str:
    """Return the minibatches each planned model trains for (and the defaults, if scaled)."""
    per_model = t(", ").join(f"{label(key)} {key.steps:,}" for key in plan)
    if mult == 1:
        return t("Minibatches per model: {per_model}.", per_model=per_model)
    return t(
        "Minibatches per model: {per_model} ({mult}× the defaults: {defaults}).",
        per_model=per_model,
        mult=f"{mult:g}",
        defaults=t(", ").join(f"{DEFAULT_STEPS[key.arch]:,}" for key in plan),
    )


if plan:
    st.caption(_plan_caption(plan))


def _launch(plan, job_key: str, name: str) -> None:
    """Check the plan and start its job, or say what is wrong."""
    total = sum(key.steps for key in plan)
    if not plan:
        st.warning(t("Choose at least one model to train."))
    elif total > MAX_PLAN_STEPS:
        st.warning(
            t(
                "That is {total} minibatches in one run, over the cap of {cap}: choose fewer "
                "models or a shorter length.",
                total=f"{total:,}",
                cap=f"{MAX_PLAN_STEPS:,}",
            )
        )
    else:
        st.session_state[f"{job_key}_plan"] = plan
        start_job(st.session_state, job_key, name, plan_work(plan, store, current_lang()))


def _train_controls(plan, keys: tuple[str, str, str], name: str, all_done: str, **button):
    """Draw a "Train n of m" button and its job's progress; return (untrained keys, job).

    keys: the button's, the job's and the progress panel's session keys.
    """
    button_key, job_key, panel_key = keys
    missing = [key for key in plan if store.get(key) is None]
    text = (
        t("Train {n} of {total}", n=len(missing), total=len(plan))
        if plan and missing
        else t("Train")
    )
    if st.button(text, key=button_key, **button):
        if plan and not missing:
            st.info(t("{all_done}: results below.", all_done=t(all_done)))
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
    chart(
        mf.learning_curves(
            curves,
            {label(k): mf.ARCH_COLORS[k.arch] for k in state.payload},
            dashed=[label(k) for k in state.payload if k.shuffle],
            by_time=False,  # light while it refreshes; wall-clock time is drawn at the end
            title=t("Learning as it happens (test accuracy)"),
            height=320,
        ),
        key="m1d_live",
    )


def _notice(runs) -> str:
    """Return the what-to-notice paragraph for trained runs, every claim chosen by the numbers."""
    parts = [_run_part(key, r.result) for key, r in runs.items()]
    text = t("**What to notice.** {runs}.", runs=t("; ").join(parts))
    by_arch = {key.arch: r.result for key, r in runs.items()}
    if "cnn" in by_arch and "gru" in by_arch:
        text += _step_cost(by_arch["cnn"], by_arch["gru"])
    text += _linear_gap(runs) + _at_chance(runs)
    if any(r.stopped for r in runs.values()):
        text += t(" A stopped run shows the accuracy it had when it was stopped.")
    return text


def _run_part(key, result) -> str:
    """Return one run's accuracy, time and time per step (and published accuracy, if any)."""
    params = dict(
        model=label(key),
        accuracy=f"{result.test_accuracy:.1%}",
        seconds=f"{result.seconds:.1f}",
        ms=f"{1000 * seconds_per_step(result.seconds, result.steps):.1f}",
    )
    if result.published_accuracy:
        return t(
            "{model} reached {accuracy} in {seconds} s ({ms} ms per step, published {published})",
            published=f"{result.published_accuracy:.0%}",
            **params,
        )
    return t("{model} reached {accuracy} in {seconds} s ({ms} ms per step)", **params)


def _step_cost(cnn, gru) -> str:
    """Return the sentence comparing a GRU step's time with a CNN step's, as measured."""
    per_step = seconds_per_step(gru.seconds, gru.steps) / seconds_per_step(cnn.seconds, cnn.steps)
    similar = ratio_claim(gru.n_params / cnn.n_params) == "similar"
    params = dict(cnn=f"{cnn.n_params:,}", gru=f"{gru.n_params:,}", length=SEQ_LEN)
    claim = ratio_claim(per_step)
    if claim == "higher":
        return t(_STEP_COST[similar, "higher"], ratio=f"{per_step:.1f}", **params)
    return t(
        _STEP_COST[similar, claim], ratio=f"{per_step:.2f}", factor=f"{RATIO_FACTOR:g}", **params
    )


_STEP_COST = {  # (about the same weights?, the ratio's claim) → the sentence
    (True, "higher"): N_(
        " With about the same number of weights ({cnn} vs {gru}), a GRU step costs {ratio}× a "
        "CNN step here: it walks through {length} time steps in both directions, one after "
        "another, where the CNN handles all positions of a layer in one operation."
    ),
    (False, "higher"): N_(
        " With ({cnn} vs {gru}), a GRU step costs {ratio}× a CNN step here: it walks through "
        "{length} time steps in both directions, one after another, where the CNN handles all "
        "positions of a layer in one operation."
    ),
    (True, "lower"): N_(
        " With about the same number of weights ({cnn} vs {gru}), a GRU step took {ratio}× a CNN "
        "step here, less: the server's load, not the models, may dominate these timings."
    ),
    (False, "lower"): N_(
        " With ({cnn} vs {gru}), a GRU step took {ratio}× a CNN step here, less: the server's "
        "load, not the models, may dominate these timings."
    ),
    (True, "similar"): N_(
        " With about the same number of weights ({cnn} vs {gru}), a GRU step took {ratio}× a CNN "
        "step here, within {factor}× of it: the server's load, not the models, may dominate "
        "these timings."
    ),
    (False, "similar"): N_(
        " With ({cnn} vs {gru}), a GRU step took {ratio}× a CNN step here, within {factor}× of "
        "it: the server's load, not the models, may dominate these timings."
    ),
}


def _linear_gap(runs) -> str:
    """Return the linear model's sentence if a finished model beats it beyond noise, else ''."""
    done = {key.arch: r.result for key, r in runs.items() if not r.stopped and not key.shuffle}
    if "linear" not in done or len(done) < 2:
        return ""
    linear = done.pop("linear")
    best = max(done, key=lambda a: done[a].test_accuracy)
    gap = done[best].test_accuracy - linear.test_accuracy
    if gap <= 0 or not differ(done[best].test_accuracy, linear.test_accuracy, N_TEST):
        return t(
            " The linear model ({linear}) is within noise of or above the best other model here "
            "({best}, {accuracy}): too little training to tell them apart.",
            linear=f"{linear.test_accuracy:.1%}",
            best=arch_name(best),
            accuracy=f"{done[best].test_accuracy:.1%}",
        )
    return t(
        " The linear model ends {gap} points below the {best}, more than the noise of {n} test "
        "sequences: with one weight per position it cannot follow a stroke that moves.",
        gap=f"{100 * gap:.1f}",
        best=arch_name(best),
        n=f"{N_TEST:,}",
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
    return t(
        " Not clearly above chance ({chance}) yet, so they have learned nothing we can compare: "
        "{runs}.",
        chance=f"{1 / N_CLASSES:.0%}",
        runs=t(", ").join(low),
    )


def _running(job_key: str) -> bool:
    job = get_job(st.session_state, job_key)
    return job is not None and not job.state().finished


def _result_formats() -> dict[str, str]:
    """Return the formats of the results table's numbers (mnist1d_runs.results_table)."""
    tenths = [t("seconds"), t("test accuracy (%)"), t("train accuracy (%)"), t("published (%)")]
    tenths.append(t("ours − published (points)"))
    return dict.fromkeys((t("weights"), t("steps")), "localized") | dict.fromkeys(tenths, "%.1f")


missing, job = _train_controls(
    plan,
    ("m1d_train", "m1d_train_job", "m1d_train_panel"),
    "mnist1d",
    N_("Every chosen model is already trained with these settings"),
    type="primary",
    icon=":material/play_arrow:",
)
runs = runs_for(plan, store, job)
if runs and not _running("m1d_train_job"):
    chart(
        mf.learning_curves(
            {label(k): r.curve for k, r in runs.items()},
            {label(k): mf.ARCH_COLORS[k.arch] for k in runs},
            title=t("Test accuracy during training"),
        ),
        key="m1d_curves",
    )
    table(results_table(runs, counts), csv_name="training-runs", formats=_result_formats())
    st.caption(
        t(
            "Seconds are wall-clock time on this server, which other people's pages share: they "
            "vary with the load. Published accuracies: {source}.",
            source=PUBLISHED_SOURCE,
        )
    )
    st.markdown(_notice(runs))
if not plan:
    st.info(t("Choose at least one model to train."))
elif missing and not _running("m1d_train_job"):
    st.info(
        t(
            "{n} of {total} chosen models are not trained with these settings yet: press "
            "**Train**.",
            n=len(missing),
            total=len(plan),
        )
    )


# ---------------------------------------------------------------------------------------------
def scramble_section() -> None:
    """Draw one permuted test sequence, why order matters, and the ordered/shuffled ablation."""
    st.subheader(t("Scramble time: which models care about order?"))
    _permutation_view()
    _ablation_view()


def _permutation_view() -> None:
    """Draw a test sequence before and after the fixed time permutation, and how rough it got."""
    order = time_permutation(SEQ_LEN)
    st.markdown(
        t(
            "Apply one fixed permutation to the {length} time steps of every sequence, training "
            "and test alike. No information is lost: the same {length} numbers are there, and a "
            "model could in principle undo the permutation. But neighbours in time are no longer "
            "neighbours in the input.",
            length=SEQ_LEN,
        )
    )
    pick = linked(st.number_input)(
        t("Test sequence to show"), 0, len(data.y_test) - 1, 0, key="m1d_pick"
    )
    x_seq = data.x_test[pick]
    chart(
        mf.before_after(
            np.arange(SEQ_LEN),
            x_seq,
            x_seq[order],
            title=t(
                "Test sequence {pick} (digit {digit}) before and after",
                pick=pick,
                digit=data.y_test[pick],
            ),
        ),
        key="m1d_perm",
    )
    st.markdown(_roughness_text(order))
    st.markdown(
        t(
            "A convolution's inductive bias is *locality* (a unit looks at a few neighbouring "
            "samples) and *weight sharing* (the same detector everywhere); a recurrent network's "
            "is *order* (each state builds on the previous one). Both biases help only if "
            "neighbours belong together. The linear model and the MLP connect every input to "
            "every unit with its own weight, so a permutation of the inputs is just a permutation "
            "of their first-layer weights: they can learn the scrambled task as well as the "
            "original."
        )
    )


def _roughness_text(order) -> str:
    """Return how much more neighbouring samples differ after the permutation, and what follows."""
    jump, jump_shuffled = neighbour_jump(data.x_train), neighbour_jump(data.x_train[:, order])
    params = dict(
        before=f"{jump:.2f}",
        after=f"{jump_shuffled:.2f}",
        ratio=f"{jump_shuffled / jump:.1f}",
        first=order[0],
        second=order[1],
    )
    if ratio_claim(jump_shuffled / jump) == "higher":
        return t(
            "**What to notice.** Over the training set, neighbouring samples differ by {before} "
            "on average before the permutation and by {after} after ({ratio}×): the smooth "
            "strokes a {kernel}-wide kernel or a step-by-step reader relies on are gone. Time "
            "step 0 now holds what was at step {first}, step 1 what was at step {second}.",
            kernel=CNN_LAYERS_SPEC[0][0],
            **params,
        )
    return t(
        "**What to notice.** Over the training set, neighbouring samples differ by {before} on "
        "average before the permutation and by {after} after ({ratio}×), within {factor}× of "
        "each other: this permutation left the curves about as smooth. Time step 0 now holds "
        "what was at step {first}, step 1 what was at step {second}.",
        factor=f"{RATIO_FACTOR:g}",
        **params,
    )


def _ablation_view() -> None:
    """Draw the ablation's model picker, its Train button and, once trained, its results."""
    ablation_archs = linked(st.multiselect)(
        t("Models for the ablation (same training length and seed as above)"),
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
        N_("Both versions of every chosen model are already trained"),
        icon=":material/shuffle:",
        help=t(
            "Trains each chosen model on ordered and on shuffled time (runs already done are "
            "reused)."
        ),
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
        st.info(t("Choose at least one model for the ablation."))
    elif abl_missing and not _running("m1d_abl_job"):
        st.info(
            t(
                "{n} of {total} runs (ordered and shuffled) are not trained with these settings "
                "yet: press the **Train** button of this section.",
                n=len(abl_missing),
                total=len(abl_plan),
            )
        )


SERIES = {  # series key → its name in the legend (translated where shown)
    "ours, ordered": N_("ours, ordered"),
    "ours, shuffled": N_("ours, shuffled"),
    "published, ordered": N_("published, ordered"),
    "published, shuffled": N_("published, shuffled"),
}
SERIES_COLOURS = {
    "ours, ordered": "#2563eb",
    "ours, shuffled": "#dc2626",
    "published, ordered": "#93c5fd",
    "published, shuffled": "#fca5a5",
}


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
    shown = {k: t(SERIES[k]) for k in series}
    chart(
        mf.ablation_bars(
            names,
            {shown[k]: v for k, v in series.items()},
            {shown[k]: c for k, c in SERIES_COLOURS.items()},
            {shown["published, ordered"]: "/", shown["published, shuffled"]: "/"},
            title=t("Test accuracy with time in order and shuffled"),
        ),
        key="m1d_abl_bars",
    )
    contrast = shuffle_contrast(acc, pairs)
    ablation = _ablation_table(names, pairs, series, contrast.drops)
    table(
        ablation,
        csv_name="ordered-vs-shuffled",
        formats=dict.fromkeys(ablation.columns[1:], "%.1f"),
    )
    st.caption(t("Published accuracies: {source}.", source=PUBLISHED_SOURCE))
    stopped = any(r.stopped for k, r in runs.items() if k.arch in pairs)
    st.markdown(_ablation_notice(pairs, acc, contrast, stopped))


def _pct(v):
    return None if v is None else 100 * v


def _ablation_table(names, pairs, series, drops) -> pd.DataFrame:
    """Return one row per model: ordered and shuffled accuracy (ours, published) and the drop."""
    return pd.DataFrame(
        {
            t("model"): names,
            t("ordered (%)"): [_pct(v) for v in series["ours, ordered"]],
            t("shuffled (%)"): [_pct(v) for v in series["ours, shuffled"]],
            t("drop (points)"): [drops[a] for a in pairs],
            t("published ordered (%)"): [_pct(v) for v in series["published, ordered"]],
            t("published shuffled (%)"): [_pct(v) for v in series["published, shuffled"]],
        }
    )


def _ablation_notice(pairs, acc, contrast, stopped: bool) -> str:
    """Return the what-to-notice paragraph of the ablation, the contrast chosen by its numbers."""
    drops = t("; ").join(
        t(
            "{model}: {ordered} → {shuffled} ({change} points)",
            model=arch_name(a),
            ordered=f"{acc[a, False]:.1%}",
            shuffled=f"{acc[a, True]:.1%}",
            change=f"{-contrast.drops[a]:+.1f}",
        )
        for a in pairs
    )
    text = t("**What to notice.** {drops}.", drops=drops)
    return text + _contrast_text(pairs, acc, contrast, stopped) + _published_shuffle(pairs)


def _contrast_text(pairs, acc, contrast, stopped: bool) -> str:
    """Return the ablation's conclusion, only where shuffle_claim says the numbers support one."""
    if contrast.worst_blind is None:
        return t(" Add the MLP to see a model that does not care about order.")
    if contrast.least_biased is None:
        return t(" Add the CNN or the GRU to see a model whose bias depends on order.")
    if stopped:
        return t(" A run was stopped before the end, so these drops support no conclusion.")
    claim = shuffle_claim(acc, pairs, ORDER_BLIND, 1 / N_CLASSES, N_TEST)
    if claim == "untrained":
        return t(
            " A model built on locality or order is not clearly above chance ({chance}) with "
            "time in order yet, so its drop means nothing: train longer before reading the "
            "contrast.",
            chance=f"{1 / N_CLASSES:.0%}",
        )
    if claim == "contrast":
        return t(
            " The order-blind models move by at most {blind} points, inside the noise (their "
            "first layer simply starts from a different random draw relative to the inputs); the "
            "models built around locality or order lose at least {biased} points, beyond it.",
            blind=f"{contrast.worst_blind:.1f}",
            biased=f"{contrast.least_biased:.1f}",
        )
    return t(
        " Here the drops do not separate the two kinds beyond the sampling noise of {n} test "
        "sequences, so they support no conclusion; try a longer training length.",
        n=f"{N_TEST:,}",
    )


def _published_shuffle(pairs) -> str:
    """Return the published ordered → shuffled accuracies of the models shown, or ''."""
    text = ""
    pub = [a for a in pairs if a in PUBLISHED_ACCURACY_SHUFFLED and a in PUBLISHED_ACCURACY]
    if pub:
        text += t(
            " Published: {models}.",
            models=t("; ").join(
                f"{arch_name(a)} {PUBLISHED_ACCURACY[a]:.0%} → {PUBLISHED_ACCURACY_SHUFFLED[a]:.0%}"
                for a in pub
            ),
        )
    return text


# ---------------------------------------------------------------------------------------------
st.divider()
lazy_section(
    t(
        "Scramble time: which models care about order? (a permuted sequence and an ablation to "
        "train)"
    ),
    "open_m1d_scramble",
    scramble_section,
    icon=":material/shuffle:",
)


def depth_and_cost() -> None:
    """Draw the sequential-depth comparison, then the measured time per batch."""
    depth_section()
    timing_section()


lazy_section(
    t("Sequential depth: how many steps one after another, and what that costs in time"),
    "open_m1d_depth",
    depth_and_cost,
    icon=":material/timeline:",
)
