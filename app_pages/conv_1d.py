"""CNN · Convolution in 1D: smoothing a noisy spacecraft track with a weighted average."""

import numpy as np
import streamlit as st

from engine.conv import (
    AGE_KERNELS,
    WIDER,
    age_kernel,
    causal_smooth,
    error_change,
    renormalised_until,
    rmse,
    smoothing_terms,
    spacecraft_track,
    tradeoff_verdict,
    width_tradeoff,
)
from engine.core import ExplorerError
from ui import figures

SHOWN_TERMS = 6  # terms written out in the formula; the table lists them all
COLOURS = {"measurements x(t)": "#94a3b8", "true position": "#16a34a", "smoothed s(t)": "#dc2626"}

st.title("Convolution in one dimension")
st.markdown(
    "A laser tracks a spacecraft, but every reading x(a) is noisy. Averaging several readings "
    "helps, and recent readings should count more than old ones. A weighting function w of the "
    "measurement's **age** does exactly that; the smoothed estimate is a convolution."
)
st.latex(r"s(t) = \sum_{a} x(a)\, w(t-a) = (x * w)(t)")

c1, c2, c3, c4 = st.columns(4)
noise = c1.slider("Measurement noise (σ)", 0.0, 3.0, 0.8, 0.1, key="c1d_noise")
kind = c2.selectbox("Weighting w(age)", AGE_KERNELS, key="c1d_kind")
width = c3.slider("Width (how far back it looks)", 0.5, 20.0, 4.0, 0.5, key="c1d_width")
length = c4.slider("Kernel length (samples)", 1, 60, 20, key="c1d_length")

try:
    true, noisy = spacecraft_track(n=200, noise=noise, seed=0)
    w = age_kernel(kind, width, length)
    smooth = causal_smooth(noisy, w)
    until = renormalised_until(w)
except ExplorerError as err:
    st.error(str(err))
    st.stop()
t = np.arange(len(true))


@st.fragment
def explain_step() -> None:
    """Draw the track with step t marked and s(t) term by term; its slider reruns only this."""
    pick = st.slider("Explain time step t", 0, len(t) - 1, min(2, len(t) - 1), key="c1d_t")

    fig = figures.lines(
        t,
        {"measurements x(t)": noisy, "true position": true, "smoothed s(t)": smooth},
        title="Position over time",
        x_title="time step t",
        y_title="position",
        modes={"measurements x(t)": "markers"},
    )
    for name, colour in COLOURS.items():  # measurements and truth must never share a colour
        fig.update_traces(marker_color=colour, line_color=colour, selector=dict(name=name))
    fig.add_vline(x=pick, line=dict(color="#f59e0b", dash="dot"))
    if until:
        fig.add_vrect(x0=-0.5, x1=until - 0.5, fillcolor="#f59e0b", opacity=0.12, line_width=0)
    st.plotly_chart(fig, key="c1d_track")
    if until:
        st.caption(
            f"Shaded: t = 0 … {until - 1}. The oldest weighted age is {until}, so before "
            f"t = {until} some of w's weight falls on measurements that do not exist yet; the "
            "weights of those that do are scaled up to sum to 1 (renormalised). From t = "
            f"{until} on, s is the plain convolution."
        )
    else:
        st.caption("w has a single weight (age 0), so no time step needs renormalising.")

    st.subheader(f"s({pick}), term by term")
    terms = smoothing_terms(noisy, w, pick)
    written = " + ".join(
        f"{x:.2f}\\cdot{wa:.3f}" if x >= 0 else f"({x:.2f})\\cdot{wa:.3f}"
        for _, x, wa in terms[:SHOWN_TERMS]
    )
    more = (
        rf" + \dots\ ({len(terms) - SHOWN_TERMS}\text{{ more}})" if len(terms) > SHOWN_TERMS else ""
    )
    total = sum(x * wa for _, x, wa in terms)
    st.latex(rf"s({pick}) = {written}{more} = {total:.4f}")
    left, right = st.columns([2, 1])
    left.dataframe(
        {
            "time a": [a for a, _, _ in terms],
            "age t − a": [pick - a for a, _, _ in terms],
            "x(a)": [round(x, 4) for _, x, _ in terms],
            "weight used": [round(wa, 4) for *_, wa in terms],
            "x(a) × weight": [round(x * wa, 4) for _, x, wa in terms],
        },
        hide_index=True,
        height=220,
    )
    right.metric("Sum of the terms", f"{total:.6f}")
    right.metric("s(t) from the engine", f"{smooth[pick]:.6f}")
    right.caption(
        f"Weights used sum to {sum(wa for *_, wa in terms):.6f}; "
        + (
            f"t = {pick} is renormalised: each w(t − a) is scaled by the same factor."
            if pick < until
            else f"t = {pick} uses w as it is."
        )
    )


explain_step()

left, right = st.columns([1, 2])
with left:
    st.plotly_chart(
        figures.stem(w, title=f"w(age): weights sum to {float(w.sum()):.6f}", x_title="age t − a"),
        key="c1d_kernel",
    )
with right:
    rmse_noisy, rmse_smooth = rmse(noisy, true), rmse(smooth, true)
    a, b = st.columns(2)
    a.metric("Error of raw readings (RMSE)", f"{rmse_noisy:.3f}")
    b.metric(
        "Error after smoothing (RMSE)",
        f"{rmse_smooth:.3f}",
        delta=f"{rmse_smooth - rmse_noisy:+.3f}",
        delta_color="inverse",
    )
    st.markdown(
        "For s to be a weighted average, w must be a probability density: non-negative and "
        "summing to one. It is zero for negative ages, so the estimate never uses the future. "
        "In convolutional-network terms, x is the **input**, w the **kernel** and s the "
        "**feature map**."
    )
verdict = {
    "lower": f"smoothing lowers the error from {rmse_noisy:.3f} to {rmse_smooth:.3f}",
    "higher": f"smoothing raises the error from {rmse_noisy:.3f} to {rmse_smooth:.3f}",
    "equal": f"smoothing leaves the error at {rmse_noisy:.3f}",
}[error_change(rmse_noisy, rmse_smooth)]
reason = (
    ": with σ = 0 the readings are already exact, and averaging can only blur them."
    if noise == 0 and rmse_smooth > 0
    else "."
)
st.caption(f"What to notice: here {verdict}{reason}")

st.subheader("A wider kernel: less noise, more lag?")
st.markdown(
    "Because smoothing is linear, s splits into the smoothed truth and the smoothed noise. "
    "**Leftover noise** is the RMSE of the smoothed noise alone; **lag error** the RMSE of "
    "smoothing the noise-free track against the truth; **mean delay** the weights' average age."
)
st.latex(r"\bar a = \sum_a a\, w(a)")
tradeoff = width_tradeoff(true, noisy, kind, width, length)
now, wide = tradeoff.current, tradeoff.wider
st.dataframe(
    {
        "kernel": [f"width {now.width:g} (chosen)", f"width {wide.width:g} ({WIDER:g}× as wide)"],
        "leftover noise (RMSE)": [round(now.noise, 3), round(wide.noise, 3)],
        "lag error (RMSE)": [round(now.lag, 3), round(wide.lag, 3)],
        "mean delay (samples)": [round(now.delay, 2), round(wide.delay, 2)],
        "total error (RMSE)": [round(now.total, 3), round(wide.total, 3)],
    },
    hide_index=True,
    key="c1d_wider",
)
WIDER_TEXT = {
    "averaging": "it averages away more noise than its extra lag costs, so here wider wins.",
    "lag": "it averages away some noise, but lags further behind the craft's course changes, "
    "and here the lag costs more: wider loses.",
    "balance": "it averages away some noise and lags further behind, and the two about cancel.",
}
claim = tradeoff_verdict(tradeoff)
if tradeoff.same_kernel:
    st.caption(
        f"Width {wide.width:g} gives the very same weights here: the kernel length of {length} "
        "samples (or a single weight) caps how far back it can look."
    )
elif claim is None:
    st.caption(
        f"Total error {now.total:.3f} → {wide.total:.3f}. Here the wider kernel does not both "
        "remove noise and add lag, so there is no trade-off to weigh."
    )
else:
    st.caption(
        f"With the kernel {WIDER:g}× as wide, leftover noise goes {now.noise:.3f} → "
        f"{wide.noise:.3f}, lag error {now.lag:.3f} → {wide.lag:.3f} and the total "
        f"{now.total:.3f} → {wide.total:.3f}: {WIDER_TEXT[claim]}"
    )
