"""RNN · Gradients through time: vanishing, exploding, clipping, the LSTM's cell path, memory."""

import numpy as np
import streamlit as st

from engine.core import N_, ExplorerError
from engine.recurrent import (
    CARRY_BAND,
    CARRY_FORGET_BIAS,
    CARRY_RADIUS,
    EXPLODED,
    MAX_FORGET_BIAS,
    MAX_RADIUS,
    MAX_STEPS,
    MEMORY_BATCH,
    MEMORY_FORGET_BIAS,
    MEMORY_LEARNED,
    MEMORY_SYMBOLS,
    MEMORY_WORK_CAP,
    VANISHED,
    carry_verdict,
    chance_accuracy,
    clip_effect,
    compare_factor,
    geometric_guide,
    gradient_flow,
    longest_learned,
    memory_curve,
    memory_work,
    norm_verdict,
    per_step_factor,
    resting_gate,
)
from ui.chart import chart
from ui.i18n import error_text, t
from ui.jobs import get_job, shareable, show_progress, start_job
from ui.links import linked
from ui.recurrent import dynamics_figures as rf
from ui.tables import table

DELAYS = [1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 60, 80, 100]
NAMES = {"rnn": t("vanilla RNN"), "lstm": "LSTM", "gru": "GRU"}
SHUT = -MAX_FORGET_BIAS  # the forget bias that holds the gate shut (f ≈ 0)
MEMORY_HIDDEN = 16  # small enough that one live run takes a fraction of a second
CHANCE = chance_accuracy(MEMORY_SYMBOLS)
VERDICTS = {"vanished": N_("vanished"), "exploded": N_("exploded")}  # engine.norm_verdict's words

st.title(t("Gradients through time"))
st.markdown(
    t(
        "Training a recurrent network sends the error at the last step back through every earlier "
        "step (backpropagation through time). Each step back multiplies the gradient by the same "
        "recurrent Jacobian, so it shrinks or grows geometrically. Here the networks are random, "
        "the loss reads only the last state, and autograd measures how much gradient reaches "
        "each $t$."
    )
)

c1, c2, c3, c4, c5 = st.columns(5)
T = linked(c1.slider)(t("Sequence length T"), 2, MAX_STEPS, 60, key="grad_T")
radius = linked(c2.slider)(
    t("Spectral radius ρ of W"),
    0.0,
    MAX_RADIUS,
    CARRY_RADIUS,
    0.05,
    key="grad_rho",
    help=t("The largest |eigenvalue| of each recurrent weight matrix (of each gate block)."),
)
ACTS = {"tanh": "tanh", "relu": "relu", "linear": N_("linear")}
act = linked(c3.selectbox)(
    t("RNN nonlinearity"), list(ACTS), format_func=lambda a: t(ACTS[a]), key="grad_act"
)
hidden = linked(c4.select_slider)(t("Hidden units"), [4, 8, 16, 32, 64], 32, key="grad_hidden")
fb = linked(c5.slider)(
    t("Forget bias b_f"),
    -8.0,
    8.0,
    CARRY_FORGET_BIAS,
    0.5,
    key="grad_fb",
    help=t("The LSTM's forget-gate bias (the GRU's update-gate bias): high = keep the old state."),
)


@st.cache_data(max_entries=64, show_spinner=False)
def _flow(kind: str, T: int, hidden: int, radius: float, act: str, fb: float | None, clip):
    return gradient_flow(kind, T, hidden, radius, act, forget_bias=fb, clip=clip)


def _norm_cell(v: float) -> float | str:
    """Return a number for the clipping table; NaN (float64 overflowed) as "nan", not a blank."""
    return "nan" if np.isnan(v) else v


def _at_zero(v: float) -> str:
    """Return one gradient norm as text, with the engine's verdict on it."""
    verdict = norm_verdict(v)
    if verdict == "overflowed":
        return t("overflowed (inf/nan in float64)")
    if verdict == "zero":
        return t("exactly 0")
    return (
        t("{value} — {verdict}", value=f"{v:.2e}", verdict=t(VERDICTS[verdict]))
        if verdict
        else f"{v:.2e}"
    )


def _factor(v: float) -> str:
    """Return a per-step factor as text (it is undefined once the norms overflow)."""
    return f"{v:.3f}" if np.isfinite(v) else t("undefined (the norms overflowed)")


def _rnn_vs_radius(factor: float) -> str:
    """Return the sentence placing the RNN's per-step factor against ρ."""
    side = compare_factor(factor, radius)
    if not side:
        return ""
    if side == "matches":
        return t("The RNN's factor matches ρ: on the log scale its curve runs along the guide.")
    if side == "above":
        return t("The RNN's factor lies above ρ.")
    if act == "tanh":
        return t("The RNN's factor lies below ρ (tanh' ≤ 1, less where saturated).")
    return t("The RNN's factor lies below ρ.")


st.subheader(t("Vanishing and exploding"))
st.latex(
    r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_{T-1}}"
    r"\prod_{k=t+1}^{T-1}\frac{\partial h_k}{\partial h_{k-1}}, \qquad "
    r"\frac{\partial h_k}{\partial h_{k-1}} = \mathrm{diag}\big(f'(a_k)\big)\,W"
)
st.latex(
    r"\Rightarrow\quad \Big\|\frac{\partial L}{\partial h_t}\Big\| \sim \rho^{\,T-1-t}"
    rf"\ \text{{({t('linear')} }} f)"
)
st.caption(
    t(
        "Steps are numbered t = 0 … T−1 below; the loss L = u·h_{{T−1}} reads the last one, so the "
        "gradient there is 1. Below {vanished} we call it vanished, above {exploded} exploded.",
        vanished=f"{VANISHED:g}",
        exploded=f"{EXPLODED:g}",
    )
)
try:
    flows = {k: _flow(k, T, hidden, radius, act, fb, None) for k in NAMES}
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
guide = geometric_guide(radius, T)
series = {f"{NAMES[k]}": flows[k].norms for k in NAMES}
series[f"ρ^(T−1−t), ρ = {radius:g}"] = guide
chart(
    rf.gradient_curves(series, dashed=[list(series)[-1]], title=t("‖∂L/∂h_t‖ (log scale)")),
    key="grad_curves",
)
first = {k: float(flows[k].norms[0]) for k in NAMES}
per_step = {k: per_step_factor(flows[k].norms) for k in NAMES}
st.markdown(
    t(
        "**What to notice.** After {back} steps back, the gradient at t = 0 is: {at_zero}. Per "
        "step that is a factor of {factors}, against ρ = {radius}. {versus}",
        back=T - 1,
        at_zero="; ".join(f"{NAMES[k]} {_at_zero(v)}" for k, v in first.items()),
        factors=", ".join(
            f"{per_step[k]:.3f} ({NAMES[k]})" for k in NAMES if np.isfinite(per_step[k])
        ),
        radius=f"{radius:g}",
        versus=_rnn_vs_radius(per_step["rnn"]),
    )
)

st.markdown(
    t("**Gradient clipping** rescales the whole parameter gradient when its norm is too big.")
)
st.latex(r"g \leftarrow g \cdot \min\Big(1, \frac{\tau}{\|g\|}\Big)")
c1, c2 = st.columns([1, 2])
use_clip = linked(c1.toggle)(t("Clip"), value=True, key="grad_clip_on")
tau = linked(c2.slider)(
    t("Threshold τ"), 0.1, 10.0, 1.0, 0.1, key="grad_tau", disabled=not use_clip
)
clipped = {k: _flow(k, T, hidden, radius, act, fb, tau if use_clip else None) for k in NAMES}
three = "%.3g"
table(
    {
        t("network"): [NAMES[k] for k in NAMES],
        t("‖∇θ L‖ before"): [_norm_cell(clipped[k].weight_grad_norm) for k in NAMES],
        t("factor applied"): [_norm_cell(clipped[k].clip_scale) for k in NAMES],
        t("‖∇θ L‖ after"): [_norm_cell(clipped[k].clipped_weight_grad_norm) for k in NAMES],
    },
    csv_name="gradient-clipping",
    formats={
        t("‖∇θ L‖ before"): three,
        t("factor applied"): three,
        t("‖∇θ L‖ after"): three,
    },
)
rnn_c = clipped["rnn"]
chart(
    rf.gradient_curves(
        {t("RNN, raw"): rnn_c.norms, t("RNN, after clipping"): rnn_c.clipped_norms},
        dashed=[t("RNN, after clipping")],
        title=t("Clipping moves the whole RNN curve by one factor"),
        height=300,
    ),
    key="grad_clip_fig",
)


def _clip_note(flow) -> str:
    """Return what clipping did to the RNN's gradient, chosen by the scale it applied."""
    if not use_clip:
        return t("Clipping is off.")
    effect = clip_effect(flow.clip_scale)
    if effect == "overflowed":
        return t("The RNN's gradient could not be rescaled: it overflowed.")
    norm = f"{flow.weight_grad_norm:.3g}"
    if effect == "unchanged":
        return t(
            "The RNN's parameter gradient had norm {norm}, not above τ = {tau}: clipping left it "
            "unchanged (the curves coincide).",
            norm=norm,
            tau=f"{tau:g}",
        )
    return t(
        "The RNN's parameter gradient had norm {norm}, above τ = {tau}; clipping multiplied it by "
        "{scale}, the same factor at every t. The shape of the curve, and so the ratio between "
        "early and late steps, is unchanged: clipping stops one huge update from throwing the "
        "weights away, but it cannot bring back a gradient that vanished.",
        norm=norm,
        tau=f"{tau:g}",
        scale=f"{flow.clip_scale:.3g}",
    )


st.markdown(t("**What to notice.** {notes}", notes=_clip_note(rnn_c)))

st.divider()
st.subheader(t("Why the LSTM helps, and why it is not a full cure"))
st.markdown(
    t(
        "The LSTM's cell state is updated by a multiplication with the forget gate and an "
        "addition, with no squashing function in between. Along that path the gradient is "
        "multiplied by the forget gates only, so a forget gate near 1 carries it across many "
        "steps, and one near 0 cuts it."
    )
)
st.latex(
    r"c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad f_t = \sigma(W_f h_{t-1} + U_f x_t + b_f)"
)
st.latex(
    r"\frac{\partial c_t}{\partial c_{t-1}}\Big|_{\text{" + t("direct") + r"}} = \mathrm{diag}(f_t)"
    r"\ \Rightarrow\ \prod_{k=t+1}^{T-1} f_k \approx \sigma(b_f)^{T-1-t}"
)
sig = resting_gate(fb)
st.metric(t("σ(b_f), the resting forget gate (set b_f at the top)"), f"{sig:.4f}")
lstm = {b: _flow("lstm", T, hidden, radius, act, b, None) for b in (fb, 0.0, SHUT)}
guide = t("direct path alone, ∝ σ(b_f)^(T−1−t)")
left = {
    t("cell ‖∂L/∂c_t‖"): lstm[fb].cell_norms,
    t("hidden ‖∂L/∂h_t‖"): lstm[fb].norms,
    guide: geometric_guide(sig, T, end=lstm[fb].cell_norms[-1]),
    t("vanilla RNN ‖∂L/∂h_t‖"): flows["rnn"].norms,
}
right = {
    t("cell, b_f = {bias}", bias=f"{fb:g}"): lstm[fb].cell_norms,
    t("cell, b_f = 0"): lstm[0.0].cell_norms,
    t("cell, b_f = {bias} (f ≈ 0)", bias=f"{SHUT:g}"): lstm[SHUT].cell_norms,
}
st.markdown(
    t(
        "Left: the LSTM at your forget bias b_f = {bias} against the direct path and the vanilla "
        "RNN. Right: the same cell gradient with the forget gate half open (b_f = 0) and shut "
        "(b_f = {shut}). Both at ρ = {radius}, T = {steps}.",
        bias=f"{fb:g}",
        shut=f"{SHUT:g}",
        radius=f"{radius:g}",
        steps=T,
    )
)
l1, l2 = st.columns(2)
chart(
    rf.gradient_curves(
        left,
        dashed=[guide],
        y_title=t("gradient norm"),
        title=t("LSTM at b_f = {bias}", bias=f"{fb:g}"),
        height=440,
        legend_rows=len(left),  # one entry per row in half a page
    ),
    key="grad_lstm",
    where=l1,
)
chart(
    rf.gradient_curves(
        right,
        y_title="‖∂L/∂c_t‖",
        title=t("The forget gate decides"),
        height=440,
        legend_rows=len(left),  # the same top margin: the two plots line up
    ),
    key="grad_lstm_cut",
    where=l2,
)
cell0 = {b: float(f.cell_norms[0]) for b, f in lstm.items()}
cut_step = per_step_factor(lstm[SHUT].cell_norms)
own_step = per_step_factor(lstm[fb].cell_norms)
band = f"{CARRY_BAND:g}"
CARRY_NOTES = {
    "carries": t(
        "within 1 ± {band}: the cell path carries the gradient, it neither vanishes nor explodes",
        band=band,
    ),
    "shrinks": t("below 1 − {band}: the cell gradient shrinks at every step back", band=band),
    "grows": t(
        "above 1 + {band}: the cell gradient grows at every step back, so the LSTM explodes here",
        band=band,
    ),
}
PATH_NOTES = {
    "matches": t(
        "close to σ(b_f) = {sig}, so it follows the direct path (the dashed line). ",
        sig=f"{sig:.3f}",
    ),
    "above": t(
        "above σ(b_f) = {sig}: besides the direct path, gradient also flows from $c_t$ through "
        "$h_{{t-1}}$ and the gates back to $c_{{t-1}}$ (at ρ = 0 only the direct path is left). ",
        sig=f"{sig:.3f}",
    ),
    "below": t("below σ(b_f) = {sig}, the direct path alone. ", sig=f"{sig:.3f}"),
}


def _path_note(factor: float) -> str:
    """Return the sentence on the cell gradient's per-step factor, chosen by the engine."""
    verdict = carry_verdict(factor)
    if not verdict:
        return ""
    return t(
        "Per step back the cell gradient changes by a factor of {factor}, {carry}; the factor is "
        "{side}",
        factor=f"{factor:.3f}",
        carry=CARRY_NOTES[verdict],
        side=PATH_NOTES[compare_factor(factor, sig)],
    )


path_note = _path_note(own_step)
st.markdown(
    t(
        "**What to notice.** {path_note}At t = 0 the cell-state gradient is {own} with b_f = "
        "{bias} (σ = {sig}), {half} with b_f = 0 and {shut} with the forget gate shut (b_f = "
        "{shut_bias}). With f ≈ 0 the direct path is cut; what still arrives goes through h and "
        "the squashing gates, multiplied by {cut} per step on average (the vanilla RNN at the same "
        "ρ: {rnn} per step). ",
        path_note=path_note,
        own=_at_zero(cell0[fb]),
        bias=f"{fb:g}",
        sig=f"{sig:.3f}",
        half=_at_zero(cell0[0.0]),
        shut=_at_zero(cell0[SHUT]),
        shut_bias=f"{SHUT:g}",
        cut=_factor(cut_step),
        rnn=_factor(per_step["rnn"]),
    )
)

st.divider()
st.subheader(t("A memory task, learned live"))
st.markdown(
    t(
        "Each training sequence starts with a marked symbol (one of {symbols}), followed by D "
        "random distractors; after the last one the network must name the first symbol. It can "
        "only learn this if a gradient survives D steps back. Chance is {chance}.",
        symbols=MEMORY_SYMBOLS,
        chance=f"{CHANCE:.0%}",
    )
)
SYMBOL, FLAG, DISTRACTORS = t("symbol"), t("flag"), t("distractors")  # i18n: words in a formula
st.latex(
    rf"x_0 = (\text{{{SYMBOL}}}, \text{{{FLAG}}}),\ x_1 \dots x_D = \text{{{DISTRACTORS}}} "
    rf"\quad\to\quad \hat y = \mathrm{{softmax}}(V h_D) \approx \text{{{SYMBOL}}}"
)
c1, c2, c3 = st.columns([3, 1, 1])
delays = linked(c1.multiselect)(t("Delays D"), DELAYS, [2, 5, 10, 20, 40], key="mem_delays")
steps = linked(c2.select_slider)(
    t("Training steps"), [20, 50, 100, 150, 300, 600], 150, key="mem_steps"
)
mem_fb = linked(c3.slider)(t("LSTM forget bias"), 0.0, 5.0, MEMORY_FORGET_BIAS, 0.5, key="mem_fb")
with_gru = linked(st.checkbox)(t("Also train a GRU"), key="mem_gru")
kinds = ["rnn", "lstm"] + (["gru"] if with_gru else [])
delays = sorted(delays)
work = memory_work(kinds, delays, steps)
st.caption(
    t(
        "{runs} runs of {steps} Adam steps (batch {batch}, {hidden} hidden units, one thread). "
        "Work (training steps × sequence steps × networks): {work} of at most {cap}.",
        runs=len(kinds) * len(delays),
        steps=steps,
        batch=MEMORY_BATCH,
        hidden=MEMORY_HIDDEN,
        work=f"{work:,}",
        cap=f"{MEMORY_WORK_CAP:,}",
    )
)


@st.cache_resource
def _memory_results() -> dict:
    """Finished curves, shared by all sessions, keyed on every setting of a run."""
    return {}


def _memory_work(key: tuple, results: dict):
    """Return the job's work: train every (network, delay), report the curves as they fill."""
    kinds_, delays_, steps_, fb_ = key
    trained = t("Trained {label}")  # in the page's language: the job thread has no session

    def train(report, should_stop):
        curves = memory_curve(
            kinds_,
            delays_,
            steps_,
            seed=0,
            hidden=MEMORY_HIDDEN,
            forget_bias=fb_,
            progress=lambda f, label, so_far: report(f, trained.format(label=label), so_far),
            should_stop=should_stop,
        )
        if not should_stop():
            results[key] = curves  # only complete curves are shared
            while len(results) > 32:
                results.pop(next(iter(results)))
        return curves

    return train


def _memory_figure(curves: dict, fig_key: str) -> None:
    chart(rf.memory_accuracy(delays, {NAMES[k]: v for k, v in curves.items()}, CHANCE), key=fig_key)


def _live_memory(state) -> None:
    """Draw the curves while the job trains (the finished page draws the stored result)."""
    if not state.finished and state.payload:
        _memory_figure(state.payload, "mem_fig_live")


def _longest(acc: np.ndarray) -> str:
    """Return the longest delay this network learned, as text."""
    longest = longest_learned(delays, acc)
    return t("no delay tried") if longest is None else f"D = {longest}"


key = (tuple(kinds), tuple(delays), steps, mem_fb)
results = _memory_results()
job_key = "mem_job"
if st.button(
    t("Train the networks"), key="mem_train", type="primary", icon=":material/play_arrow:"
):
    if not delays:
        st.warning(t("Choose at least one delay D."))
    elif work > MEMORY_WORK_CAP:
        st.warning(
            t(
                "That is {work} units of work, over the cap of {cap}: choose fewer or shorter "
                "delays, fewer training steps or no GRU.",
                work=f"{work:,}",
                cap=f"{MEMORY_WORK_CAP:,}",
            )
        )
    elif key in results:
        st.info(t("These settings are already trained (on this server): the result is below."))
    else:
        st.session_state["mem_job_key"] = key
        work = shareable(("memory-task", key), _memory_work(key, results), keep=False)
        start_job(st.session_state, job_key, "memory-task", work)
job = get_job(st.session_state, job_key)
running = job is not None and not job.state().finished
if job is not None and st.session_state.get("mem_job_key") == key:
    show_progress(job, _live_memory, key="mem_panel")
elif running:
    st.info(t("A run with other settings is training; change the settings back to follow it."))
curves = results.get(key)
stopped = None
if curves is None and job is not None and st.session_state.get("mem_job_key") == key:
    s = job.state()
    if s.status == "stopped" and s.result is not None:
        stopped = s.result
if curves is not None or stopped is not None:
    shown = curves if curves is not None else stopped
    _memory_figure(shown, "mem_fig")
    last = [
        f"{NAMES[k]} {v[-1]:.0%}"
        if np.isfinite(v[-1])
        else t("{model} not trained", model=NAMES[k])
        for k, v in shown.items()
    ]
    notice = t(
        "**What to notice.** Accuracy of at least {learned} up to: {longest}. At the longest delay "
        "(D = {delay}): {last} (chance {chance}).",
        learned=f"{MEMORY_LEARNED:.0%}",
        longest="; ".join(f"{NAMES[k]} {_longest(v)}" for k, v in shown.items()),
        delay=delays[-1],
        last="; ".join(last),
        chance=f"{CHANCE:.0%}",
    )
    if stopped is not None:
        notice += t(" The run was stopped: gaps are runs that did not finish.")
    st.markdown(notice)
elif not running:
    st.caption(
        t(
            "Press **Train the networks** to train; a bar shows the progress. Results are kept for "
            "everyone on this server."
        )
    )
