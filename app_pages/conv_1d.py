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
from ui.chart import chart
from ui.i18n import error_text, t
from ui.links import linked
from ui.tables import table

SHOWN_TERMS = 6  # terms written out in the formula; the table lists them all
NOISY, TRUE, SMOOTH = t("measurements x(t)"), t("true position"), t("smoothed s(t)")
COLOURS = {NOISY: "#94a3b8", TRUE: "#16a34a", SMOOTH: "#dc2626"}

st.title(t("Convolution in one dimension"))
st.markdown(
    t(
        "A laser tracks a spacecraft, but every reading x(a) is noisy. Averaging several "
        "readings helps, and recent readings should count more than old ones. A weighting "
        "function w of the measurement's **age** does exactly that; the smoothed estimate is a "
        "convolution."
    )
)
st.latex(r"s(t) = \sum_{a} x(a)\, w(t-a) = (x * w)(t)")

c1, c2, c3, c4 = st.columns(4)
noise = linked(c1.slider)(t("Measurement noise (σ)"), 0.0, 3.0, 0.8, 0.1, key="c1d_noise")
kind = linked(c2.selectbox)(t("Weighting w(age)"), AGE_KERNELS, format_func=t, key="c1d_kind")
width = linked(c3.slider)(t("Width (how far back it looks)"), 0.5, 20.0, 4.0, 0.5, key="c1d_width")
length = linked(c4.slider)(t("Kernel length (samples)"), 1, 60, 20, key="c1d_length")

try:
    true, noisy = spacecraft_track(n=200, noise=noise, seed=0)
    w = age_kernel(kind, width, length)
    smooth = causal_smooth(noisy, w)
    until = renormalised_until(w)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
steps = np.arange(len(true))


@st.fragment
def explain_step() -> None:
    """Draw the track with step t marked and s(t) term by term; its slider reruns only this."""
    last = len(steps) - 1
    pick = linked(st.slider)(t("Explain time step t"), 0, last, min(2, last), key="c1d_t")

    fig = figures.lines(
        steps,
        {NOISY: noisy, TRUE: true, SMOOTH: smooth},
        title=t("Position over time"),
        x_title=t("time step t"),
        y_title=t("position"),
        modes={NOISY: "markers"},
    )
    for name, colour in COLOURS.items():  # measurements and truth must never share a colour
        fig.update_traces(marker_color=colour, line_color=colour, selector=dict(name=name))
    fig.add_vline(x=pick, line=dict(color="#f59e0b", dash="dot"))
    if until:
        fig.add_vrect(x0=-0.5, x1=until - 0.5, fillcolor="#f59e0b", opacity=0.12, line_width=0)
    chart(fig, key="c1d_track")
    if until:
        st.caption(
            t(
                "Shaded: t = 0 … {last}. The oldest weighted age is {until}, so before "
                "t = {until} some of w's weight falls on measurements that do not exist yet; the "
                "weights of those that do are scaled up to sum to 1 (renormalised). From t = "
                "{until} on, s is the plain convolution.",
                last=until - 1,
                until=until,
            )
        )
    else:
        st.caption(t("w has a single weight (age 0), so no time step needs renormalising."))

    st.subheader(t("s({pick}), term by term", pick=pick))
    terms = smoothing_terms(noisy, w, pick)
    written = " + ".join(
        f"{x:.2f}\\cdot{wa:.3f}" if x >= 0 else f"({x:.2f})\\cdot{wa:.3f}"
        for _, x, wa in terms[:SHOWN_TERMS]
    )
    # i18n: after a count of terms the formula leaves out, as in "(14 more)"
    more_word = t("more")
    more = (
        rf" + \dots\ ({len(terms) - SHOWN_TERMS}\text{{ {more_word}}})"
        if len(terms) > SHOWN_TERMS
        else ""
    )
    total = sum(x * wa for _, x, wa in terms)
    st.latex(rf"s({pick}) = {written}{more} = {total:.4f}")
    left, right = st.columns([2, 1])
    four = "%.4f"
    table(
        {
            t("time a"): [a for a, _, _ in terms],
            t("age t − a"): [pick - a for a, _, _ in terms],
            "x(a)": [x for _, x, _ in terms],
            t("weight used"): [wa for *_, wa in terms],
            t("x(a) × weight"): [x * wa for _, x, wa in terms],
        },
        csv_name="weighted-sum-terms",
        formats={"x(a)": four, t("weight used"): four, t("x(a) × weight"): four},
        scroll_after=5,
        where=left,
    )
    right.metric(t("Sum of the terms"), f"{total:.6f}")
    right.metric(t("s(t) from the engine"), f"{smooth[pick]:.6f}")
    right.caption(
        t("Weights used sum to {total}; ", total=f"{sum(wa for *_, wa in terms):.6f}")
        + (
            t("t = {pick} is renormalised: each w(t − a) is scaled by the same factor.", pick=pick)
            if pick < until
            else t("t = {pick} uses w as it is.", pick=pick)
        )
    )


explain_step()

left, right = st.columns([1, 2])
with left:
    chart(
        figures.stem(
            w,
            title=t("w(age): weights sum to {total}", total=f"{float(w.sum()):.6f}"),
            x_title=t("age t − a"),
        ),
        key="c1d_kernel",
    )
with right:
    rmse_noisy, rmse_smooth = rmse(noisy, true), rmse(smooth, true)
    a, b = st.columns(2)
    a.metric(t("Error of raw readings (RMSE)"), f"{rmse_noisy:.3f}")
    b.metric(
        t("Error after smoothing (RMSE)"),
        f"{rmse_smooth:.3f}",
        delta=f"{rmse_smooth - rmse_noisy:+.3f}",
        delta_color="inverse",
    )
    st.markdown(
        t(
            "For s to be a weighted average, w must be a probability density: non-negative and "
            "summing to one. It is zero for negative ages, so the estimate never uses the "
            "future. In convolutional-network terms, x is the **input**, w the **kernel** and s "
            "the **feature map**."
        )
    )
before, after = f"{rmse_noisy:.3f}", f"{rmse_smooth:.3f}"
verdict = {
    "lower": t("smoothing lowers the error from {before} to {after}", before=before, after=after),
    "higher": t("smoothing raises the error from {before} to {after}", before=before, after=after),
    "equal": t("smoothing leaves the error at {before}", before=before),
}[error_change(rmse_noisy, rmse_smooth)]
reason = (
    t(": with σ = 0 the readings are already exact, and averaging can only blur them.")
    if noise == 0 and rmse_smooth > 0
    else t(".")
)
st.caption(t("What to notice: here {verdict}{reason}", verdict=verdict, reason=reason))

st.subheader(t("A wider kernel: less noise, more lag?"))
st.markdown(
    t(
        "Because smoothing is linear, s splits into the smoothed truth and the smoothed noise. "
        "**Leftover noise** is the RMSE of the smoothed noise alone; **lag error** the RMSE of "
        "smoothing the noise-free track against the truth; **mean delay** the weights' average "
        "age."
    )
)
st.latex(r"\bar a = \sum_a a\, w(a)")
tradeoff = width_tradeoff(true, noisy, kind, width, length)
now, wide = tradeoff.current, tradeoff.wider
three = "%.3f"
table(
    {
        t("kernel"): [
            t("width {width} (chosen)", width=f"{now.width:g}"),
            t("width {width} ({factor}× as wide)", width=f"{wide.width:g}", factor=f"{WIDER:g}"),
        ],
        t("leftover noise (RMSE)"): [now.noise, wide.noise],
        t("lag error (RMSE)"): [now.lag, wide.lag],
        t("mean delay (samples)"): [now.delay, wide.delay],
        t("total error (RMSE)"): [now.total, wide.total],
    },
    csv_name="kernel-width-tradeoff",
    formats={
        t("leftover noise (RMSE)"): three,
        t("lag error (RMSE)"): three,
        t("mean delay (samples)"): "%.2f",
        t("total error (RMSE)"): three,
    },
)
WIDER_TEXT = {
    "averaging": t("it averages away more noise than its extra lag costs, so here wider wins."),
    "lag": t(
        "it averages away some noise, but lags further behind the craft's course changes, "
        "and here the lag costs more: wider loses."
    ),
    "balance": t("it averages away some noise and lags further behind, and the two about cancel."),
}
claim = tradeoff_verdict(tradeoff)
if tradeoff.same_kernel:
    st.caption(
        t(
            "Width {width} gives the very same weights here: the kernel length of {length} "
            "samples (or a single weight) caps how far back it can look.",
            width=f"{wide.width:g}",
            length=length,
        )
    )
elif claim is None:
    st.caption(
        t(
            "Total error {before} → {after}. Here the wider kernel does not both remove noise "
            "and add lag, so there is no trade-off to weigh.",
            before=f"{now.total:.3f}",
            after=f"{wide.total:.3f}",
        )
    )
else:
    st.caption(
        t(
            "With the kernel {factor}× as wide, leftover noise goes {noise_before} → "
            "{noise_after}, lag error {lag_before} → {lag_after} and the total {total_before} → "
            "{total_after}: {verdict}",
            factor=f"{WIDER:g}",
            noise_before=f"{now.noise:.3f}",
            noise_after=f"{wide.noise:.3f}",
            lag_before=f"{now.lag:.3f}",
            lag_after=f"{wide.lag:.3f}",
            total_before=f"{now.total:.3f}",
            total_after=f"{wide.total:.3f}",
            verdict=WIDER_TEXT[claim],
        )
    )
