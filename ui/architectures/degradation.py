"""The architectures page's fourth part: the degradation problem (He et al.), live.

Plain and residual stacks of dense layers on the interleaved spirals: their gradient norms at
initialisation, then, on the server's run queue, training all four and comparing their final
training losses. The page draws it with section().
"""

from __future__ import annotations

import streamlit as st

from engine import architectures as arch
from engine import cnn as deg
from engine.core import N_
from ui.architectures import figures as arch_figures
from ui.chart import chart
from ui.i18n import current_lang, t
from ui.jobs import Line, get_job, show_progress, start_shared_job
from ui.links import linked
from ui.sections import lazy_section
from ui.tables import table


def section() -> None:
    """Draw the part's heading, its story and formula, and its folded experiment."""
    st.header(t("4 · The degradation problem, live"))
    st.markdown(
        t(
            "He et al. trained plain networks of 20 and 56 layers and found the deeper one "
            "worse *on the training data*. Here are small copies: stacks of {width}-unit dense "
            "layers with batch norm (CIFAR ResNets' shape, 2 + 2n weight layers) learning to tell "
            "{arms} interleaved spirals apart. The residual versions add each block's input back:",
            width=deg.WIDTH,
            arms=deg.ARMS,
        )
    )
    st.latex(
        t(  # one message: the formula's words are translated with it
            r"x_{\ell+1} = \mathrm{ReLU}\big(F(x_\ell) + x_\ell\big), \qquad "
            r"\frac{\partial x_{\ell+1}}{\partial x_\ell} = I + \frac{\partial F}{\partial x_\ell}"
            r"\;\;\text{(on the units the ReLU passes)}"
        )
    )
    lazy_section(
        t(
            "The experiment: gradients at initialisation of plain and residual stacks, then "
            "training them (charts, your settings)"
        ),
        "open_arch_degradation",
        _degradation_section,
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _norms(depth: int, residual: bool, seed: int):
    return deg.gradient_norms(depth, residual, seed)


def _stack_name(name: str) -> str:
    """Return a stack's label ("plain-20", "residual-56") in the session's language."""
    kind, depth = name.rsplit("-", 1)
    if kind == "residual":
        return t("residual-{depth}", depth=depth)
    return t("plain-{depth}", depth=depth)


_PLAIN_TREND = {  # the plain stack's trend toward the input, and what it is called
    "grows": N_(
        "What to notice: toward the input, plain-{deep}'s gradient grows (the first hidden layer's "
        "norm is {ratio} times the last's): an exploding gradient, not a vanishing one."
    ),
    "shrinks": N_(
        "What to notice: toward the input, plain-{deep}'s gradient shrinks (the first hidden "
        "layer's norm is {ratio} times the last's): a vanishing gradient."
    ),
    "stays": N_(
        "What to notice: toward the input, plain-{deep}'s gradient stays within a factor of "
        "{factor:g} (the first hidden layer's norm is {ratio} times the last's): neither vanishing "
        "nor exploding."
    ),
}
_RESIDUAL_TREND = {  # the residual stack's trend, and what the shortcuts do to the spread
    "grows": N_(
        "Residual-{deep}'s grows ({ratio} times) and spans a factor of {spread}: the shortcuts "
        "{effect}."
    ),
    "shrinks": N_(
        "Residual-{deep}'s shrinks ({ratio} times) and spans a factor of {spread}: the shortcuts "
        "{effect}."
    ),
    "stays": N_(
        "Residual-{deep}'s stays within a factor of {factor:g} ({ratio} times) and spans a "
        "factor of {spread}: the shortcuts {effect}."
    ),
}
_SHORTCUTS = {
    "narrow": N_("narrow the spread"),
    "keep": N_("leave the spread about as it is"),
    "widen": N_("widen the spread"),
}


def _times(ratio: float) -> str:
    """Return a ratio as "29,206" (large) or "0.42" (small)."""
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def _gradient_words(plain: arch.GradientTrend, residual: arch.GradientTrend, deep: int) -> str:
    """Return the what-to-notice caption on both stacks' gradient trends and spreads."""
    effect = t(_SHORTCUTS[arch.shortcut_effect(plain, residual)])
    first = t(
        _PLAIN_TREND[plain.words.split()[0]],
        deep=deep,
        ratio=_times(plain.ratio),
        factor=plain.factor,
    )
    spread = t(
        "Across its layers the norms span a factor of {spread}, so no one step size suits them "
        "all.",
        spread=_times(plain.spread),
    )
    second = t(
        _RESIDUAL_TREND[residual.words.split()[0]],
        deep=deep,
        ratio=_times(residual.ratio),
        spread=_times(residual.spread),
        factor=residual.factor,
        effect=effect,
    )
    level = t("Differences within a factor of {factor:g} count as level.", factor=arch.TREND_FACTOR)
    return f"{first} {spread} {second} {level}"


def _gradients(depths: tuple[int, int], seed: int) -> None:
    """Draw the spiral task and every stack's gradient norms at initialisation, with a caption."""
    deep = depths[1]
    norms = {
        deg.label(d, r): _norms(d, r, seed) for d in dict.fromkeys(depths) for r in (False, True)
    }
    left, right = st.columns([1, 2])
    xy, arm = deg.spirals(deg.POINTS, seed)  # 2048 points: cheaper to draw again than to cache
    chart(
        arch_figures.points_by_class(xy.numpy(), arm.numpy(), title=t("The task: which arm?")),
        key="deg_data",
        where=left,
    )
    hidden = {k: v[:-1] for k, v in norms.items()}  # the output layer starts small: its own scale
    chart(
        arch_figures.gradient_profile(
            hidden,
            title=t("Gradient norm per hidden layer at initialisation"),
            shown=_stack_name,
        ),
        key="deg_grad",
        where=right,
    )
    trend = {r: arch.gradient_trend(norms[deg.label(deep, r)]) for r in (False, True)}
    st.caption(_gradient_words(trend[False], trend[True], deep))


DEG_JOB = "deg_job"  # session key of this session's watch of a shared training run


def _progress_line(line: str, lang: str) -> Line:
    """Return the trainer's progress line ("plain-20: step 25/200" or "done") as a Line."""
    if line == "done":
        return Line(lang, N_("done"))
    name, _, count = line.partition(": step ")
    kind, depth = name.rsplit("-", 1)
    stack = N_("residual-{depth}") if kind == "residual" else N_("plain-{depth}")
    return Line(
        lang, N_("{stack}: step {count}"), stack=Line(lang, stack, depth=depth), count=count
    )


def _training_work(settings: tuple, lang: str):
    """Return the job function that trains the four stacks for settings (depths, steps, lr,
    seed), reporting progress lines made in lang (the job's thread has no session to ask)."""
    depths, steps, lr, seed = settings

    def work(report, should_stop):
        return deg.train_curves(
            depths,
            steps,
            seed,
            lr=lr,
            progress=lambda f, m: report(f, _progress_line(m, lang)),
            should_stop=should_stop,
        )

    return work


def _training_run(settings: tuple):
    """Return this session's watch of the shared run for settings: the run going on for the same
    settings (joined), a finished one (kept per setting on the server), or a new one, queued for
    one of the server's run slots like every other training."""
    job = get_job(st.session_state, DEG_JOB)
    if job is None or st.session_state.get("deg_job_settings") != settings:
        job = start_shared_job(
            st.session_state,
            DEG_JOB,
            "degradation",
            ("degradation", settings),
            _training_work(settings, current_lang()),
        )
        st.session_state["deg_job_settings"] = settings
    return job


def _leave_training() -> None:
    """Leave this session's run (it stops unless another session follows it)."""
    job = get_job(st.session_state, DEG_JOB)
    if job is not None:
        job.stop()
    st.session_state.pop(DEG_JOB, None)
    st.session_state.pop("deg_job_settings", None)


def _training_words(curves, shallow: int, deep: int) -> str:
    """Return the what-to-notice sentence on the four final training losses."""
    end = {n: f"{curves.final_loss[n]:.2f}" for n in curves.labels}
    verdict = arch.depth_verdict(
        (curves.final_loss[deg.label(shallow, False)], curves.final_loss[deg.label(deep, False)]),
        (curves.final_loss[deg.label(shallow, True)], curves.final_loss[deg.label(deep, True)]),
    )
    plain_says = (
        t("the deeper plain stack ends {gap:.2f} nats worse", gap=verdict.plain_gap)
        if verdict.plain_degrades
        else t("this time the deeper plain stack does not end worse (try more layers or steps)")
    )
    residual_says = (
        t(
            "the deeper residual one keeps up, because its extra blocks can stay close to the "
            "identity"
        )
        if verdict.residual_keeps_up
        else t("the deeper residual one also ends {gap:.2f} nats worse", gap=verdict.residual_gap)
    )
    return t(
        "What to notice: these are *training* losses, so a gap is not overfitting. Here "
        "plain-{deep} ends at {plain_deep} against plain-{shallow}'s {plain_shallow}, and "
        "residual-{deep} at {residual_deep} against residual-{shallow}'s {residual_shallow}: "
        "{plain_says}, while {residual_says}. Gaps under {tolerance} nats count as level.",
        deep=deep,
        shallow=shallow,
        plain_deep=end[deg.label(deep, False)],
        plain_shallow=end[deg.label(shallow, False)],
        residual_deep=end[deg.label(deep, True)],
        residual_shallow=end[deg.label(shallow, True)],
        plain_says=plain_says,
        residual_says=residual_says,
        tolerance=verdict.tolerance,
    )


def _final_table(curves) -> None:
    """Draw each stack's final training loss, accuracy and seconds."""
    loss, accuracy, seconds = (
        t("final training loss"),
        t("training accuracy (%)"),
        t("seconds"),
    )
    table(
        {
            t("network"): [_stack_name(n) for n in curves.labels],
            loss: [curves.final_loss[n] for n in curves.labels],
            accuracy: [100 * curves.accuracy[n] for n in curves.labels],
            seconds: [curves.seconds[n] for n in curves.labels],
        },
        csv_name="final-training-results",
        formats={loss: "%.3f", accuracy: "%.1f", seconds: "%.1f"},
    )


def _training(depths: tuple[int, int], steps: int, lr: float, seed: int) -> None:
    """Draw the run's progress, then the four stacks' loss curves, final numbers and notice."""
    state = show_progress(_training_run((depths, steps, lr, seed)), lambda s: None, key="deg_panel")
    curves = state.result if state.status == "done" else None
    if curves is None:
        return
    window = arch.smoothing_steps(deg.EMA_DECAY)
    chart(
        arch_figures.loss_curves(
            curves.smooth,
            deg.CHANCE,
            title=t("Training loss (moving average over ~{window:.0f} steps)", window=window),
            shown=_stack_name,
        ),
        key="deg_loss",
    )
    _final_table(curves)
    st.caption(_training_words(curves, *depths))


def _degradation_section() -> None:
    """Draw the depth controls, the gradients at initialisation and, when asked, the training."""
    c1, c2, c3, c4, c5 = st.columns(5)
    shallow = linked(c1.selectbox)(t("Shallow depth"), [8, 14, 20, 32], 2, key="deg_shallow")
    deep = linked(c2.selectbox)(t("Deep depth"), [32, 44, 56, 110], 2, key="deg_deep")
    steps = linked(c3.select_slider)(
        t("Steps"), [50, 100, 200, 300, 500, 1000], 200, key="deg_steps"
    )
    lr = linked(c4.select_slider)(
        t("Learning rate"), [0.005, 0.01, 0.02, 0.05, 0.1], 0.02, key="deg_lr"
    )
    seed = int(linked(c5.number_input)(t("Seed"), 0, 9999, 0, key="deg_seed"))
    depths = (shallow, deep)
    _gradients(depths, seed)
    if st.toggle(t("Train the four stacks (on this server's run queue)"), key="deg_train"):
        _training(depths, steps, lr, seed)
    else:
        _leave_training()
        st.caption(
            t("Switch on to train all four stacks on this server; results are kept per setting.")
        )
