"""RNN · Recurrence unrolled: one W and U shared by every step, and a bidirectional RNN."""

import numpy as np
import streamlit as st

from engine.core import ExplorerError
from engine.recurrent import (
    MAX_UNROLLED_STEPS,
    TANH_SATURATED,
    make_rnn,
    perturbation_response,
    read_sequence,
    rnn_trace,
    saturated_share,
    step_terms,
    unmoved_reason,
    weight_counts,
)
from ui import grids
from ui.chart import chart
from ui.i18n import error_text, t
from ui.links import keep_param, keep_text, linked, linked_text
from ui.recurrent import dynamics_figures as rf
from ui.recurrent.reasons import unmoved_text


def _shown(c: str) -> str:
    """Return a character as it is drawn: space and newline get visible symbols."""
    return "␣" if c == " " else "↵" if c == "\n" else c


st.title(t("Recurrence unrolled, and bidirectional"))
st.markdown(
    t(
        "A recurrent layer reads a sequence one element at a time and keeps a small state vector "
        "$h_t$. Drawn over time (*unrolled*), it is a deep network whose layers all share one set "
        "of weights. Type a short sequence and follow the actual numbers."
    )
)
KINDS = {"numbers": t("numbers"), "characters": t("characters")}

c1, c2 = st.columns([1, 3])
kind = linked(c1.radio)(t("Read the input as"), list(KINDS), format_func=KINDS.get, key="unr_kind")
default = "1, 3, 2, 5" if kind == "numbers" else "hello"
linked_text(f"unr_text_{kind}", default)
text = c2.text_input(
    t("Your sequence (at most {n} numbers)", n=MAX_UNROLLED_STEPS)
    if kind == "numbers"
    else t("Your sequence (at most {n} characters)", n=MAX_UNROLLED_STEPS),
    key=f"unr_text_{kind}",
    help=t(
        "Numbers separated by commas or spaces, e.g. 1, 3, 2, 5; or any characters, e.g. hello. "
        "Characters are one-hot encoded over the alphabet of what you typed."
    ),
)
keep_text(f"unr_text_{kind}", text, default)
keep_param(f"unr_text_{'characters' if kind == 'numbers' else 'numbers'}", None)  # one sequence
c1, c2, c3, c4 = st.columns(4)
hidden = linked(c1.slider)(t("Hidden size H"), 2, 4, 3, key="unr_hidden")
act = linked(c2.selectbox)(t("Nonlinearity f"), ["tanh", "relu"], key="unr_act")
scale = linked(c3.slider)(t("Weight scale"), 0.0, 3.0, 1.0, 0.1, key="unr_scale")
seed = int(linked(c4.number_input)(t("Seed"), 0, 9999, 0, key="unr_seed"))

try:
    if kind == "characters" and len(text) > MAX_UNROLLED_STEPS:
        st.info(
            t(
                "Only the first {kept} of {typed} characters are used.",
                kept=MAX_UNROLLED_STEPS,
                typed=f"{len(text):,}",
            )
        )
    typed = text if kind == "numbers" else text[:MAX_UNROLLED_STEPS]
    sequence = read_sequence(typed, kind, max_len=MAX_UNROLLED_STEPS)
    x = sequence.x  # (T, 1) numbers or (T, A) one-hot characters
    labels = [_shown(c) for c in sequence.labels]
    columns = [_shown(c) for c in sequence.features]
    rnn = make_rnn(x.shape[1], hidden, act, seed=seed, scale=scale)
    trace = rnn_trace(rnn, x)
    brnn = make_rnn(x.shape[1], hidden, act, bidirectional=True, seed=seed + 1, scale=scale)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()

steps = x.shape[0]
W = rnn.weight_hh_l0.detach().numpy()
U = rnn.weight_ih_l0.detach().numpy()
h = trace.hidden.numpy()  # (T, H)

st.subheader(t("One layer, unrolled over your sequence"))
st.latex(r"h_t = f\left(W\,h_{t-1} + U\,x_t + b\right), \qquad h_0 = 0")
st.markdown(
    t(
        "Each column is one time step: the input $x_t$ at the bottom, the state $h_t$ "
        "({hidden} numbers) above it, coloured by sign. The green arrow is always the same $U$, "
        "the purple arrow always the same $W$.",
        hidden=hidden,
    )
)
chart(rf.unrolled_values(labels, h, height=240 + 45 * hidden), key="unr_graph")
params, uses = weight_counts(rnn, steps)
g1, g2, g3 = st.columns(3)
g1.metric(t("Steps T"), steps)
g2.metric(t("Distinct weights"), params, help=t("H·H + H·I + 2H (PyTorch keeps two bias vectors)"))
g3.metric(
    t("Weight uses in the graph"),
    f"{uses:,}",
    help=t(
        "Every step uses all of U and both biases; every step after the first also uses all of "
        "W (h₀ = 0): T·(H·I + 2H) + (T − 1)·H·H."
    ),
)
st.markdown(t("**The weights every step uses** (the bias shown is $b = b_{ih} + b_{hh}$):"))
terms = step_terms(rnn, trace, 0)
chart(
    grids.annotated_grids(
        [W, U, terms.bias[:, None]],
        [
            t("W ({rows}×{cols}), state → state", rows=hidden, cols=hidden),
            t("U ({rows}×{cols}), input → state", rows=hidden, cols=U.shape[1]),
            "b",
        ],
        height=80 + 45 * hidden,
        title=t("The weights every step uses"),
    ),
    key="unr_weights",
)
if kind == "characters":
    st.caption(t("Columns of U, left to right: {columns}.", columns="  ".join(columns)))

st.markdown(t("**One step in numbers.** Pick a step to see its arithmetic:"))
step = linked(st.selectbox)(
    t("Step t"),
    range(steps),
    format_func=lambda i: f"t = {i + 1} (x = {labels[i]})",
    index=steps - 1,
    key="unr_step",
)
terms = step_terms(rnn, trace, step)
wh, ux, pre, b = terms.recurrent, terms.input, terms.pre_activation, terms.bias
st.latex(
    rf"h_{{{step + 1}}} = \{act}\Big(\underbrace{{{rf.latex_matrix(wh)}}}_{{W h_{{{step}}}}} + "
    rf"\underbrace{{{rf.latex_matrix(ux)}}}_{{U x_{{{step + 1}}}}} + "
    rf"\underbrace{{{rf.latex_matrix(b)}}}_{{b}}\Big) = "
    rf"\{act}{rf.latex_matrix(pre)} = {rf.latex_matrix(h[step])}"
    if act == "tanh"
    else rf"h_{{{step + 1}}} = \max\Big(0,\; {rf.latex_matrix(wh)} + {rf.latex_matrix(ux)} + "
    rf"{rf.latex_matrix(b)}\Big) = \max(0, {rf.latex_matrix(pre)}) = "
    rf"{rf.latex_matrix(h[step])}"
)
st.caption(
    t(
        "with $h_{{{step}}}$ = {values} (the state before).",
        step=step,
        values=", ".join(f"{v:.2f}" for v in terms.previous),
    )
)
saturated = saturated_share(h, act)
notes = [
    t(
        "The layer has {params} weights whether the sequence has 1 step or 1,000: the {steps} "
        "steps above use them {uses} times.",
        params=params,
        steps=steps,
        uses=f"{uses:,}",
    ),
    t(
        "Step {now}'s state mixes its own input ($U x_{{{now}}}$, size {input}) with everything "
        "before it ($W h_{{{before}}}$, size {recurrent}).",
        now=step + 1,
        before=step,
        input=f"{terms.input_norm:.2f}",
        recurrent=f"{terms.recurrent_norm:.2f}",
    )
    if terms.has_past
    else t(
        "Nothing from before reaches step {now} ($W h_{{{before}}}$ = 0): only its own input "
        "($U x_{{{now}}}$, size {input}) and the bias set its state.",
        now=step + 1,
        before=step,
        input=f"{terms.input_norm:.2f}",
    ),
]
if saturated > 0:
    notes.append(
        t(
            "{share} of the state values are beyond ±{bound}: tanh is saturated there, so large "
            "inputs all look alike to the layer.",
            share=f"{saturated:.0%}",
            bound=f"{TANH_SATURATED:g}",
        )
    )
st.markdown(t("**What to notice.** {notes}", notes=" ".join(notes)))

st.divider()
st.subheader(t("Bidirectional: each position sees the past and the future"))
st.markdown(
    t(
        "A second RNN with its own weights reads the sequence from the end to the start. At each "
        "position the two states are concatenated, so the representation of $x_t$ depends on "
        "everything before it (forward) and everything after it (backward)."
    )
)
st.latex(
    r"\overrightarrow{h}_t = f(\overrightarrow{W}\,\overrightarrow{h}_{t-1} + "
    r"\overrightarrow{U}x_t + \overrightarrow{b}) \quad "
    r"\overleftarrow{h}_t = f(\overleftarrow{W}\,\overleftarrow{h}_{t+1} + "
    r"\overleftarrow{U}x_t + \overleftarrow{b}) \quad "
    r"o_t = \big[\overrightarrow{h}_t \,;\, \overleftarrow{h}_t\big]"
)
c1, c2 = st.columns(2)
pos = linked(c1.selectbox)(
    t("Perturb the input at step"),
    range(steps),
    format_func=lambda i: f"t = {i + 1} (x = {labels[i]})",
    index=steps // 2,
    key="unr_pos",
)
delta = linked(c2.slider)(
    t("by adding δ to every entry of x_t"), -3.0, 3.0, 1.0, 0.1, key="unr_delta"
)
response = perturbation_response(brnn, x, pos, delta)
chart(
    rf.bidirectional_states(
        labels,
        response.forward,
        response.backward,
        changed=response.changed,
        title=t(
            "o_t = [forward ; backward], before the perturbation; outlined: moved after "
            "x_{pos} += {delta}",
            pos=pos + 1,
            delta=f"{delta:g}",
        ),
        height=120 + 60 * hidden,
    ),
    key="unr_bi",
)
chart(
    rf.change_bars(
        labels,
        response.forward_norms,
        response.backward_norms,
        pos,
        title=t("How far each state moved, ‖Δh_t‖"),
    ),
    key="unr_bars",
)


def _steps(mask: np.ndarray) -> str:
    """Return the 1-based steps where mask is True, as text."""
    idx = [str(i + 1) for i in np.nonzero(mask)[0]]
    return ", ".join(idx) if idx else t("none")


moved_f, moved_b = response.forward_moved, response.backward_moved
either = response.moved_anywhere


def _direction_note() -> str:
    """Return which direction stayed on its own side of the change, as the response shows."""
    f_ok, b_ok = response.forward_is_causal, response.backward_is_causal
    if f_ok and b_ok:
        return t(
            "As the equations promise, the forward direction moved at no step before {pos} and "
            "the backward direction at no step after it. ",
            pos=pos + 1,
        )
    if not f_ok and not b_ok:
        return t("Unexpectedly, the forward and backward direction moved on the wrong side. ")
    if not f_ok:
        return t("Unexpectedly, the forward direction moved on the wrong side. ")
    return t("Unexpectedly, the backward direction moved on the wrong side. ")


def _together_note() -> str:
    """Return where the concatenation changed, and why it stayed put elsewhere."""
    if either.all():
        return t(
            "Together, the concatenation changed at **every** position: each $o_t$ depends on "
            "the whole sequence."
        )
    return t(
        "The concatenation changed at {moved} of {steps} positions: {reason}.",
        moved=int(either.sum()),
        steps=steps,
        reason=unmoved_text(unmoved_reason(brnn, delta)),
    )


st.markdown(
    t(
        "**What to notice.** Changing $x_{{{pos}}}$ moved the forward state at steps {forward} "
        "and the backward state at steps {backward}. {direction}{together}",
        pos=pos + 1,
        forward=_steps(moved_f),
        backward=_steps(moved_b),
        direction=_direction_note(),
        together=_together_note(),
    )
)
