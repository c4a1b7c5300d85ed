"""RNN · Gradients through time: vanishing, exploding, clipping, the LSTM's cell path, memory."""

import numpy as np
import streamlit as st

from engine.core import ExplorerError
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
from ui.jobs import get_job, show_progress, start_job
from ui.recurrent import dynamics_figures as rf

DELAYS = [1, 2, 3, 5, 8, 10, 15, 20, 30, 40, 60, 80, 100]
NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
SHUT = -MAX_FORGET_BIAS  # the forget bias that holds the gate shut (f ≈ 0)
MEMORY_HIDDEN = 16  # small enough that one live run takes a fraction of a second
CHANCE = chance_accuracy(MEMORY_SYMBOLS)

st.title("Gradients through time")
st.markdown(
    "Training a recurrent network sends the error at the last step back through every earlier "
    "step (backpropagation through time). Each step back multiplies the gradient by the same "
    "recurrent Jacobian, so it shrinks or grows geometrically. Here the networks are random, "
    "the loss reads only the last state, and autograd measures how much gradient reaches each $t$."
)

c1, c2, c3, c4, c5 = st.columns(5)
T = c1.slider("Sequence length T", 2, MAX_STEPS, 60, key="grad_T")
radius = c2.slider(
    "Spectral radius ρ of W",
    0.0,
    MAX_RADIUS,
    CARRY_RADIUS,
    0.05,
    key="grad_rho",
    help="The largest |eigenvalue| of each recurrent weight matrix (of each gate block).",
)
act = c3.selectbox("RNN nonlinearity", ["tanh", "relu", "linear"], key="grad_act")
hidden = c4.select_slider("Hidden units", [4, 8, 16, 32, 64], 32, key="grad_hidden")
fb = c5.slider(
    "Forget bias b_f",
    -8.0,
    8.0,
    CARRY_FORGET_BIAS,
    0.5,
    key="grad_fb",
    help="The LSTM's forget-gate bias (the GRU's update-gate bias): high = keep the old state.",
)


@st.cache_data(max_entries=64, show_spinner=False)
def _flow(kind: str, T: int, hidden: int, radius: float, act: str, fb: float | None, clip):
    return gradient_flow(kind, T, hidden, radius, act, forget_bias=fb, clip=clip)


def _at_zero(v: float) -> str:
    """Return one gradient norm as text, with the engine's verdict on it."""
    verdict = norm_verdict(v)
    if verdict == "overflowed":
        return "overflowed (inf/nan in float64)"
    if verdict == "zero":
        return "exactly 0"
    return f"{v:.2e}" + (f" — {verdict}" if verdict else "")


def _factor(v: float) -> str:
    """Return a per-step factor as text (it is undefined once the norms overflow)."""
    return f"{v:.3f}" if np.isfinite(v) else "undefined (the norms overflowed)"


def _rnn_vs_radius(factor: float) -> str:
    """Return the sentence placing the RNN's per-step factor against ρ."""
    side = compare_factor(factor, radius)
    if not side:
        return ""
    if side == "matches":
        return "The RNN's factor matches ρ: on the log scale its curve runs along the guide."
    why = " (tanh' ≤ 1, less where saturated)" if act == "tanh" and side == "below" else ""
    return f"The RNN's factor lies {side} ρ{why}."


st.subheader("Vanishing and exploding")
st.latex(
    r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_{T-1}}"
    r"\prod_{k=t+1}^{T-1}\frac{\partial h_k}{\partial h_{k-1}}, \qquad "
    r"\frac{\partial h_k}{\partial h_{k-1}} = \mathrm{diag}\big(f'(a_k)\big)\,W"
)
st.latex(
    r"\Rightarrow\quad \Big\|\frac{\partial L}{\partial h_t}\Big\| \sim \rho^{\,T-1-t}"
    r"\ \text{(linear } f)"
)
st.caption(
    "Steps are numbered t = 0 … T−1 below; the loss L = u·h_{T−1} reads the last one, so the "
    f"gradient there is 1. Below {VANISHED:g} we call it vanished, above {EXPLODED:g} exploded."
)
try:
    flows = {k: _flow(k, T, hidden, radius, act, fb, None) for k in NAMES}
except ExplorerError as err:
    st.error(str(err))
    st.stop()
guide = geometric_guide(radius, T)
series = {f"{NAMES[k]}": flows[k].norms for k in NAMES}
series[f"ρ^(T−1−t), ρ = {radius:g}"] = guide
st.plotly_chart(
    rf.gradient_curves(series, dashed=[list(series)[-1]], title="‖∂L/∂h_t‖ (log scale)"),
    key="grad_curves",
)
first = {k: float(flows[k].norms[0]) for k in NAMES}
per_step = {k: per_step_factor(flows[k].norms) for k in NAMES}
st.markdown(
    f"**What to notice.** After {T - 1} steps back, the gradient at t = 0 is: "
    + "; ".join(f"{NAMES[k]} {_at_zero(v)}" for k, v in first.items())
    + ". Per step that is a factor of "
    + ", ".join(f"{per_step[k]:.3f} ({NAMES[k]})" for k in NAMES if np.isfinite(per_step[k]))
    + f", against ρ = {radius:g}. "
    + _rnn_vs_radius(per_step["rnn"])
)

st.markdown("**Gradient clipping** rescales the whole parameter gradient when its norm is too big.")
st.latex(r"g \leftarrow g \cdot \min\Big(1, \frac{\tau}{\|g\|}\Big)")
c1, c2 = st.columns([1, 2])
use_clip = c1.toggle("Clip", value=True, key="grad_clip_on")
tau = c2.slider("Threshold τ", 0.1, 10.0, 1.0, 0.1, key="grad_tau", disabled=not use_clip)
clipped = {k: _flow(k, T, hidden, radius, act, fb, tau if use_clip else None) for k in NAMES}
st.dataframe(
    {
        "network": [NAMES[k] for k in NAMES],
        "‖∇θ L‖ before": [f"{clipped[k].weight_grad_norm:.3g}" for k in NAMES],
        "factor applied": [f"{clipped[k].clip_scale:.3g}" for k in NAMES],
        "‖∇θ L‖ after": [f"{clipped[k].clipped_weight_grad_norm:.3g}" for k in NAMES],
    },
    hide_index=True,
)
rnn_c = clipped["rnn"]
st.plotly_chart(
    rf.gradient_curves(
        {"RNN, raw": rnn_c.norms, "RNN, after clipping": rnn_c.clipped_norms},
        dashed=["RNN, after clipping"],
        title="Clipping moves the whole RNN curve by one factor",
        height=300,
    ),
    key="grad_clip_fig",
)


def _clip_note(flow) -> str:
    """Return what clipping did to the RNN's gradient, chosen by the scale it applied."""
    if not use_clip:
        return "Clipping is off."
    effect = clip_effect(flow.clip_scale)
    if effect == "overflowed":
        return "The RNN's gradient could not be rescaled: it overflowed."
    norm = f"The RNN's parameter gradient had norm {flow.weight_grad_norm:.3g}"
    if effect == "unchanged":
        return f"{norm}, not above τ = {tau:g}: clipping left it unchanged (the curves coincide)."
    return (
        f"{norm}, above τ = {tau:g}; clipping multiplied it by {flow.clip_scale:.3g}, the same "
        "factor at every t. The shape of the curve, and so the ratio between early and late "
        "steps, is unchanged: clipping stops one huge update from throwing the weights away, but "
        "it cannot bring back a gradient that vanished."
    )


st.markdown("**What to notice.** " + _clip_note(rnn_c))

st.divider()
st.subheader("Why the LSTM helps, and why it is not a full cure")
st.markdown(
    "The LSTM's cell state is updated by a multiplication with the forget gate and an addition, "
    "with no squashing function in between. Along that path the gradient is multiplied by the "
    "forget gates only, so a forget gate near 1 carries it across many steps, and one near 0 "
    "cuts it."
)
st.latex(
    r"c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad f_t = \sigma(W_f h_{t-1} + U_f x_t + b_f)"
)
st.latex(
    r"\frac{\partial c_t}{\partial c_{t-1}}\Big|_{\text{direct}} = \mathrm{diag}(f_t)"
    r"\ \Rightarrow\ \prod_{k=t+1}^{T-1} f_k \approx \sigma(b_f)^{T-1-t}"
)
sig = resting_gate(fb)
st.metric("σ(b_f), the resting forget gate (set b_f at the top)", f"{sig:.4f}")
lstm = {b: _flow("lstm", T, hidden, radius, act, b, None) for b in (fb, 0.0, SHUT)}
guide = "direct path alone, ∝ σ(b_f)^(T−1−t)"
left = {
    "cell ‖∂L/∂c_t‖": lstm[fb].cell_norms,
    "hidden ‖∂L/∂h_t‖": lstm[fb].norms,
    guide: geometric_guide(sig, T, end=lstm[fb].cell_norms[-1]),
    "vanilla RNN ‖∂L/∂h_t‖": flows["rnn"].norms,
}
right = {
    f"cell, b_f = {fb:g}": lstm[fb].cell_norms,
    "cell, b_f = 0": lstm[0.0].cell_norms,
    f"cell, b_f = {SHUT:g} (f ≈ 0)": lstm[SHUT].cell_norms,
}
st.markdown(
    f"Left: the LSTM at your forget bias b_f = {fb:g} against the direct path and the vanilla "
    "RNN. Right: the same cell gradient with the forget gate half open (b_f = 0) and shut "
    f"(b_f = {SHUT:g}). Both at ρ = {radius:g}, T = {T}."
)
l1, l2 = st.columns(2)
l1.plotly_chart(
    rf.gradient_curves(
        left,
        dashed=[guide],
        y_title="gradient norm",
        title=f"LSTM at b_f = {fb:g}",
        height=440,
        legend_rows=len(left),  # one entry per row in half a page
    ),
    key="grad_lstm",
)
l2.plotly_chart(
    rf.gradient_curves(
        right,
        y_title="‖∂L/∂c_t‖",
        title="The forget gate decides",
        height=440,
        legend_rows=len(left),  # the same top margin: the two plots line up
    ),
    key="grad_lstm_cut",
)
cell0 = {b: float(f.cell_norms[0]) for b, f in lstm.items()}
cut_step = per_step_factor(lstm[SHUT].cell_norms)
own_step = per_step_factor(lstm[fb].cell_norms)
CARRY_NOTES = {
    "carries": f"within 1 ± {CARRY_BAND:g}: the cell path carries the gradient, it neither "
    "vanishes nor explodes",
    "shrinks": f"below 1 − {CARRY_BAND:g}: the cell gradient shrinks at every step back",
    "grows": f"above 1 + {CARRY_BAND:g}: the cell gradient grows at every step back, so the "
    "LSTM explodes here",
}
PATH_NOTES = {
    "matches": "close to σ(b_f) = {sig:.3f}, so it follows the direct path (the dashed line). ",
    "above": "above σ(b_f) = {sig:.3f}: besides the direct path, gradient also flows from $c_t$ "
    "through $h_{{t-1}}$ and the gates back to $c_{{t-1}}$ (at ρ = 0 only the direct path is "
    "left). ",
    "below": "below σ(b_f) = {sig:.3f}, the direct path alone. ",
}


def _path_note(factor: float) -> str:
    """Return the sentence on the cell gradient's per-step factor, chosen by the engine."""
    verdict = carry_verdict(factor)
    if not verdict:
        return ""
    side = PATH_NOTES[compare_factor(factor, sig)].format(sig=sig)
    return (
        f"Per step back the cell gradient changes by a factor of {factor:.3f}, "
        f"{CARRY_NOTES[verdict]}; the factor is {side}"
    )


path_note = _path_note(own_step)
st.markdown(
    f"**What to notice.** {path_note}At t = 0 the cell-state gradient is "
    f"{_at_zero(cell0[fb])} with b_f = {fb:g} (σ = {sig:.3f}), {_at_zero(cell0[0.0])} with "
    "b_f = 0 and "
    f"{_at_zero(cell0[SHUT])} with the forget gate shut (b_f = {SHUT:g}). With f ≈ 0 the direct "
    f"path is cut; what still arrives goes through h and the squashing gates, multiplied by "
    f"{_factor(cut_step)} per step on average (the vanilla RNN at the same ρ: "
    f"{_factor(per_step['rnn'])} per step). "
)

st.divider()
st.subheader("A memory task, learned live")
st.markdown(
    f"Each training sequence starts with a marked symbol (one of {MEMORY_SYMBOLS}), followed by D "
    "random distractors; after the last one the network must name the first symbol. It can only "
    f"learn this if a gradient survives D steps back. Chance is {CHANCE:.0%}."
)
st.latex(
    r"x_0 = (\text{symbol}, \text{flag}),\ x_1 \dots x_D = \text{distractors} \quad\to\quad "
    r"\hat y = \mathrm{softmax}(V h_D) \approx \text{symbol}"
)
c1, c2, c3 = st.columns([3, 1, 1])
delays = c1.multiselect("Delays D", DELAYS, [2, 5, 10, 20, 40], key="mem_delays")
steps = c2.select_slider("Training steps", [20, 50, 100, 150, 300, 600], 150, key="mem_steps")
mem_fb = c3.slider("LSTM forget bias", 0.0, 5.0, MEMORY_FORGET_BIAS, 0.5, key="mem_fb")
with_gru = st.checkbox("Also train a GRU", key="mem_gru")
kinds = ["rnn", "lstm"] + (["gru"] if with_gru else [])
delays = sorted(delays)
work = memory_work(kinds, delays, steps)
st.caption(
    f"{len(kinds) * len(delays)} runs of {steps} Adam steps (batch {MEMORY_BATCH}, "
    f"{MEMORY_HIDDEN} hidden units, one thread). Work (training steps × sequence steps × "
    f"networks): {work:,} of at most {MEMORY_WORK_CAP:,}."
)


@st.cache_resource
def _memory_results() -> dict:
    """Finished curves, shared by all sessions, keyed on every setting of a run."""
    return {}


def _memory_work(key: tuple, results: dict):
    """Return the job's work: train every (network, delay), report the curves as they fill."""
    kinds_, delays_, steps_, fb_ = key

    def train(report, should_stop):
        curves = memory_curve(
            kinds_,
            delays_,
            steps_,
            seed=0,
            hidden=MEMORY_HIDDEN,
            forget_bias=fb_,
            progress=lambda f, label, so_far: report(f, f"Trained {label}", so_far),
            should_stop=should_stop,
        )
        if not should_stop():
            results[key] = curves  # only complete curves are shared
            while len(results) > 32:
                results.pop(next(iter(results)))
        return curves

    return train


def _memory_figure(curves: dict, fig_key: str) -> None:
    st.plotly_chart(
        rf.memory_accuracy(delays, {NAMES[k]: v for k, v in curves.items()}, CHANCE), key=fig_key
    )


def _live_memory(state) -> None:
    """Draw the curves while the job trains (the finished page draws the stored result)."""
    if not state.finished and state.payload:
        _memory_figure(state.payload, "mem_fig_live")


def _longest(acc: np.ndarray) -> str:
    """Return the longest delay this network learned, as text."""
    longest = longest_learned(delays, acc)
    return "no delay tried" if longest is None else f"D = {longest}"


key = (tuple(kinds), tuple(delays), steps, mem_fb)
results = _memory_results()
job_key = "mem_job"
if st.button("Train the networks", key="mem_train", type="primary", icon=":material/play_arrow:"):
    if not delays:
        st.warning("Choose at least one delay D.")
    elif work > MEMORY_WORK_CAP:
        st.warning(
            f"That is {work:,} units of work, over the cap of {MEMORY_WORK_CAP:,}: choose fewer or "
            "shorter delays, fewer training steps or no GRU."
        )
    elif key in results:
        st.info("These settings are already trained (on this server): the result is below.")
    else:
        st.session_state["mem_job_key"] = key
        start_job(st.session_state, job_key, "memory-task", _memory_work(key, results))
job = get_job(st.session_state, job_key)
running = job is not None and not job.state().finished
if job is not None and st.session_state.get("mem_job_key") == key:
    show_progress(job, _live_memory, key="mem_panel")
elif running:
    st.info("A run with other settings is training; change the settings back to follow it.")
curves = results.get(key)
stopped = None
if curves is None and job is not None and st.session_state.get("mem_job_key") == key:
    s = job.state()
    if s.status == "stopped" and s.result is not None:
        stopped = s.result
if curves is not None or stopped is not None:
    shown = curves if curves is not None else stopped
    _memory_figure(shown, "mem_fig")
    notice = (
        f"**What to notice.** Accuracy of at least {MEMORY_LEARNED:.0%} up to: "
        + "; ".join(f"{NAMES[k]} {_longest(v)}" for k, v in shown.items())
        + f". At the longest delay (D = {delays[-1]}): "
        + "; ".join(
            f"{NAMES[k]} {v[-1]:.0%}" if np.isfinite(v[-1]) else f"{NAMES[k]} not trained"
            for k, v in shown.items()
        )
        + f" (chance {CHANCE:.0%})."
    )
    if stopped is not None:
        notice += " The run was stopped: gaps are runs that did not finish."
    st.markdown(notice)
elif not running:
    st.caption(
        "Press **Train the networks** to train; a bar shows the progress. Results are kept for "
        "everyone on this server."
    )
