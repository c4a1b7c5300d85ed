"""RNN · Recurrence unrolled: one W and U shared by every step, and a bidirectional RNN."""

import numpy as np
import streamlit as st

from engine.core import ExplorerError
from engine.recurrent import (
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
from ui.recurrent import dynamics_figures as rf

MAX_STEPS = 12  # an unrolled graph wider than this no longer fits numbers you can read


def _shown(c: str) -> str:
    """Return a character as it is drawn: space and newline get visible symbols."""
    return "␣" if c == " " else "↵" if c == "\n" else c


st.title("Recurrence unrolled, and bidirectional")
st.markdown(
    "A recurrent layer reads a sequence one element at a time and keeps a small state vector "
    "$h_t$. Drawn over time (*unrolled*), it is a deep network whose layers all share one set of "
    "weights. Type a short sequence and follow the actual numbers."
)

c1, c2 = st.columns([1, 3])
kind = c1.radio("Read the input as", ["numbers", "characters"], key="unr_kind")
default = "1, 3, 2, 5" if kind == "numbers" else "hello"
text = c2.text_input(
    f"Your sequence (at most {MAX_STEPS} {kind})",
    value=default,
    key=f"unr_text_{kind}",
    help="Numbers separated by commas or spaces, e.g. 1, 3, 2, 5; or any characters, e.g. hello. "
    "Characters are one-hot encoded over the alphabet of what you typed.",
)
c1, c2, c3, c4 = st.columns(4)
hidden = c1.slider("Hidden size H", 2, 4, 3, key="unr_hidden")
act = c2.selectbox("Nonlinearity f", ["tanh", "relu"], key="unr_act")
scale = c3.slider("Weight scale", 0.0, 3.0, 1.0, 0.1, key="unr_scale")
seed = int(c4.number_input("Seed", 0, 9999, 0, key="unr_seed"))

try:
    if kind == "characters" and len(text) > MAX_STEPS:
        st.info(f"Only the first {MAX_STEPS} of {len(text):,} characters are used.")
    typed = text if kind == "numbers" else text[:MAX_STEPS]
    sequence = read_sequence(typed, kind, max_len=MAX_STEPS)
    x = sequence.x  # (T, 1) numbers or (T, A) one-hot characters
    labels = [_shown(c) for c in sequence.labels]
    columns = [_shown(c) for c in sequence.features]
    rnn = make_rnn(x.shape[1], hidden, act, seed=seed, scale=scale)
    trace = rnn_trace(rnn, x)
    brnn = make_rnn(x.shape[1], hidden, act, bidirectional=True, seed=seed + 1, scale=scale)
except ExplorerError as err:
    st.error(str(err))
    st.stop()

steps = x.shape[0]
W = rnn.weight_hh_l0.detach().numpy()
U = rnn.weight_ih_l0.detach().numpy()
h = trace.hidden.numpy()  # (T, H)

st.subheader("One layer, unrolled over your sequence")
st.latex(r"h_t = f\left(W\,h_{t-1} + U\,x_t + b\right), \qquad h_0 = 0")
st.markdown(
    f"Each column is one time step: the input $x_t$ at the bottom, the state $h_t$ "
    f"({hidden} numbers) above it, coloured by sign. The green arrow is always the same $U$, "
    "the purple arrow always the same $W$."
)
st.plotly_chart(rf.unrolled_values(labels, h, height=240 + 45 * hidden), key="unr_graph")
params, uses = weight_counts(rnn, steps)
g1, g2, g3 = st.columns(3)
g1.metric("Steps T", steps)
g2.metric("Distinct weights", params, help="H·H + H·I + 2H (PyTorch keeps two bias vectors)")
g3.metric(
    "Weight uses in the graph",
    f"{uses:,}",
    help="Every step uses all of U and both biases; every step after the first also uses all of "
    "W (h₀ = 0): T·(H·I + 2H) + (T − 1)·H·H.",
)
st.markdown("**The weights every step uses** (the bias shown is $b = b_{ih} + b_{hh}$):")
terms = step_terms(rnn, trace, 0)
st.plotly_chart(
    grids.annotated_grids(
        [W, U, terms.bias[:, None]],
        [
            f"W ({hidden}×{hidden}), state → state",
            f"U ({hidden}×{U.shape[1]}), input → state",
            "b",
        ],
        height=80 + 45 * hidden,
    ),
    key="unr_weights",
)
if kind == "characters":
    st.caption("Columns of U, left to right: " + "  ".join(columns) + ".")

st.markdown("**One step in numbers.** Pick a step to see its arithmetic:")
t = st.selectbox(
    "Step t",
    range(steps),
    format_func=lambda i: f"t = {i + 1} (x = {labels[i]})",
    index=steps - 1,
    key="unr_step",
)
terms = step_terms(rnn, trace, t)
wh, ux, pre, b = terms.recurrent, terms.input, terms.pre_activation, terms.bias
st.latex(
    rf"h_{{{t + 1}}} = \{act}\Big(\underbrace{{{rf.latex_matrix(wh)}}}_{{W h_{{{t}}}}} + "
    rf"\underbrace{{{rf.latex_matrix(ux)}}}_{{U x_{{{t + 1}}}}} + "
    rf"\underbrace{{{rf.latex_matrix(b)}}}_{{b}}\Big) = "
    rf"\{act}{rf.latex_matrix(pre)} = {rf.latex_matrix(h[t])}"
    if act == "tanh"
    else rf"h_{{{t + 1}}} = \max\Big(0,\; {rf.latex_matrix(wh)} + {rf.latex_matrix(ux)} + "
    rf"{rf.latex_matrix(b)}\Big) = \max(0, {rf.latex_matrix(pre)}) = "
    rf"{rf.latex_matrix(h[t])}"
)
st.caption(
    f"with $h_{{{t}}}$ = " + ", ".join(f"{v:.2f}" for v in terms.previous) + " (the state before)."
)
saturated = saturated_share(h, act)
notes = [
    f"The layer has {params} weights whether the sequence has 1 step or 1,000: the {steps} steps "
    f"above use them {uses:,} times.",
    f"Step {t + 1}'s state mixes its own input ($U x_{{{t + 1}}}$, size "
    f"{terms.input_norm:.2f}) with everything before it ($W h_{{{t}}}$, size "
    f"{terms.recurrent_norm:.2f})."
    if terms.has_past
    else f"Nothing from before reaches step {t + 1} ($W h_{{{t}}}$ = 0): only its own input "
    f"($U x_{{{t + 1}}}$, size {terms.input_norm:.2f}) and the bias set its state.",
]
if saturated > 0:
    notes.append(
        f"{saturated:.0%} of the state values are beyond ±{TANH_SATURATED:g}: tanh is saturated "
        "there, so large inputs all look alike to the layer."
    )
st.markdown("**What to notice.** " + " ".join(notes))

st.divider()
st.subheader("Bidirectional: each position sees the past and the future")
st.markdown(
    "A second RNN with its own weights reads the sequence from the end to the start. At each "
    "position the two states are concatenated, so the representation of $x_t$ depends on "
    "everything before it (forward) and everything after it (backward)."
)
st.latex(
    r"\overrightarrow{h}_t = f(\overrightarrow{W}\,\overrightarrow{h}_{t-1} + "
    r"\overrightarrow{U}x_t + \overrightarrow{b}) \quad "
    r"\overleftarrow{h}_t = f(\overleftarrow{W}\,\overleftarrow{h}_{t+1} + "
    r"\overleftarrow{U}x_t + \overleftarrow{b}) \quad "
    r"o_t = \big[\overrightarrow{h}_t \,;\, \overleftarrow{h}_t\big]"
)
c1, c2 = st.columns(2)
pos = c1.selectbox(
    "Perturb the input at step",
    range(steps),
    format_func=lambda i: f"t = {i + 1} (x = {labels[i]})",
    index=steps // 2,
    key="unr_pos",
)
delta = c2.slider("by adding δ to every entry of x_t", -3.0, 3.0, 1.0, 0.1, key="unr_delta")
response = perturbation_response(brnn, x, pos, delta)
st.plotly_chart(
    rf.bidirectional_states(
        labels,
        response.forward,
        response.backward,
        changed=response.changed,
        title=f"o_t = [forward ; backward], before the perturbation; outlined: moved after "
        f"x_{pos + 1} += {delta:g}",
        height=120 + 60 * hidden,
    ),
    key="unr_bi",
)
st.plotly_chart(
    rf.change_bars(
        labels,
        response.forward_norms,
        response.backward_norms,
        pos,
        title="How far each state moved, ‖Δh_t‖",
    ),
    key="unr_bars",
)


def _steps(mask: np.ndarray) -> str:
    """Return the 1-based steps where mask is True, as text."""
    idx = [str(i + 1) for i in np.nonzero(mask)[0]]
    return ", ".join(idx) if idx else "none"


moved_f, moved_b = response.forward_moved, response.backward_moved
either = response.moved_anywhere


def _direction_note() -> str:
    """Return which direction stayed on its own side of the change, as the response shows."""
    f_ok, b_ok = response.forward_is_causal, response.backward_is_causal
    if f_ok and b_ok:
        return (
            "As the equations promise, the forward direction moved at no step before "
            f"{pos + 1} and the backward direction at no step after it. "
        )
    broken = [n for n, ok in (("forward", f_ok), ("backward", b_ok)) if not ok]
    return f"Unexpectedly, the {' and '.join(broken)} direction moved on the wrong side. "


st.markdown(
    f"**What to notice.** Changing $x_{{{pos + 1}}}$ moved the forward state at steps "
    f"{_steps(moved_f)} and the backward state at steps {_steps(moved_b)}. "
    + _direction_note()
    + (
        "Together, the concatenation changed at **every** position: each $o_t$ depends on the "
        "whole sequence."
        if either.all()
        else f"The concatenation changed at {int(either.sum())} of {steps} positions: "
        f"{unmoved_reason(brnn, delta)}."
    )
)
