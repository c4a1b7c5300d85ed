"""CNN · Convolution in 1D: smoothing a noisy spacecraft track with a weighted average."""

import numpy as np
import streamlit as st

from engine.conv import AGE_KERNELS, age_kernel, causal_smooth, spacecraft_track
from ui import figures

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

true, noisy = spacecraft_track(n=200, noise=noise, seed=0)
w = age_kernel(kind, width, length)
smooth = causal_smooth(noisy, w)
t = np.arange(len(true))

st.plotly_chart(
    figures.lines(
        t,
        {"measurements x(t)": noisy, "true position": true, "smoothed s(t)": smooth},
        title="Position over time",
        x_title="time step t",
        y_title="position",
        modes={"measurements x(t)": "markers"},
    ),
    key="c1d_track",
)
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(
        figures.stem(w, title="w(age): weights sum to 1", x_title="age t − a"), key="c1d_kernel"
    )
with right:
    rmse_noisy = float(np.sqrt(np.mean((noisy - true) ** 2)))
    rmse_smooth = float(np.sqrt(np.mean((smooth - true) ** 2)))
    a, b, c = st.columns(3)
    a.metric("Error of raw readings (RMSE)", f"{rmse_noisy:.3f}")
    b.metric(
        "Error after smoothing (RMSE)",
        f"{rmse_smooth:.3f}",
        delta=f"{rmse_smooth - rmse_noisy:+.3f}",
        delta_color="inverse",
    )
    c.metric("Weights sum to", f"{float(w.sum()):.6f}")
    st.markdown(
        "For s to be a weighted average, w must be a probability density: non-negative and "
        "summing to one. It is zero for negative ages, so the estimate never uses the future. "
        "In convolutional-network terms, x is the **input**, w the **kernel** and s the "
        "**feature map**."
    )
st.caption(
    "What to notice: a wider kernel averages away more noise but lags behind when the craft "
    "changes course, because old readings still weigh in. With σ = 0 smoothing can only hurt."
)
