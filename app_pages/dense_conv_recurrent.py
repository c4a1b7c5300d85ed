"""Compare: the parameter and compute arithmetic of dense, convolutional and recurrent layers."""

import numpy as np
import streamlit as st
import torch

from engine import conv as lc
from engine.conv import conv_matrix_1d, dense_matrix, growth_factor, matrix_claims, matrix_stats
from ui import diagrams, figures

st.title("Dense vs convolutional vs recurrent")
st.markdown(
    "Three layer families, three assumptions about the input. Set the sizes and compare how many "
    "parameters each needs and how much work it does for one input."
)

st.subheader("On an image")
a, b, c, d, e = st.columns(5)
height = a.number_input("Height H", 1, 4096, 200, key="cmp_h")
width = b.number_input("Width W", 1, 4096, 200, key="cmp_w")
channels = c.number_input("Channels C", 1, 512, 3, key="cmp_c")
units = d.number_input("Output units / filters", 1, 1024, 16, key="cmp_units")
k = e.select_slider("Kernel size k", [1, 3, 5, 7, 9, 11], 3, key="cmp_k")

costs = [
    lc.dense(height * width * channels, units * height * width),
    lc.locally_connected(height, width, channels, units, k),
    lc.conv2d(height, width, channels, units, k),
]
one_neuron = lc.dense(height * width * channels, 1)
st.markdown(
    f"A dense layer producing a {height}×{width}×{units} output from the {height}×{width}×"
    f"{channels} input connects every output to all {height * width * channels:,} inputs. "
    f"Even **one** dense neuron needs {one_neuron.weights:,} weights. A locally connected layer "
    f"keeps only the k×k neighbourhood but gives each position its own kernel; a convolution "
    f"shares one kernel bank everywhere."
)
st.dataframe(
    {
        "layer": [x.kind for x in costs],
        "weights": [f"{x.weights:,}" for x in costs],
        "biases": [f"{x.biases:,}" for x in costs],
        "inputs read per output": [f"{x.fan_in:,}" for x in costs],
        "multiply-adds": [f"{x.macs:,}" for x in costs],
    },
    hide_index=True,
    width="stretch",
)
st.latex(
    r"\text{dense: } (HWC)\,(HWF) \qquad \text{locally connected: } HW\,k^2 C F \qquad"
    r"\text{convolution: } k^2 C F"
)

sides = np.array([8, 16, 32, 64, 128, 256, 512])
sweep = {
    "dense (one neuron per output)": [
        lc.dense(s * s * channels, s * s * units).parameters for s in sides
    ],
    "locally connected": [lc.locally_connected(s, s, channels, units, k).parameters for s in sides],
    "convolution": [lc.conv2d(s, s, channels, units, k).parameters for s in sides],
}
st.plotly_chart(
    figures.lines(
        sides,
        sweep,
        title="Parameters against image side (log scale)",
        x_title="image side (pixels, log scale)",
        y_title="parameters",
        log_y=True,
        log_x=True,
        modes={name: "lines+markers" for name in sweep},
    ),
    key="cmp_sweep",
)
conv_growth = growth_factor(sweep["convolution"])
dense_growth = growth_factor(sweep["dense (one neuron per output)"])
conv_note = (
    f"the convolution's line is flat at {sweep['convolution'][0]:,} parameters: its size does "
    "not depend on the image, which is also why one network can read images of any size"
    if conv_growth == 1
    else f"the convolution's parameters grow {conv_growth:,.1f}-fold"
)
st.caption(
    f"What to notice: {conv_note}. From side {sides[0]} to {sides[-1]} the dense layer's "
    f"parameters grow {dense_growth:,.0f}-fold."
)

st.subheader("On a sequence")
a, b, c = st.columns(3)
steps = a.number_input("Sequence length T", 1, 100_000, 50, key="cmp_t")
n_in = b.number_input("Features per step", 1, 4096, 8, key="cmp_nin")
hidden = c.number_input("Hidden units", 1, 4096, 32, key="cmp_hidden")
seq_costs = [
    lc.dense(steps * n_in, hidden),
    lc.rnn(n_in, hidden, steps),
    lc.unshared_recurrent(n_in, hidden, steps),
]
st.dataframe(
    {
        "layer": [
            "dense over the whole sequence",
            "recurrent (shared over time)",
            "same graph, new weights each step",
        ],
        "parameters": [f"{x.parameters:,}" for x in seq_costs],
        "multiply-adds": [f"{x.macs:,}" for x in seq_costs],
        "sequential steps": ["1", f"{steps:,}", f"{steps:,}"],
    },
    hide_index=True,
    width="stretch",
)
st.latex(r"h_t = \tanh(W h_{t-1} + U x_t + b)\qquad |W| + |U| = h^2 + h\,n")
longer = [lc.dense(2 * steps * n_in, hidden), lc.rnn(n_in, hidden, 2 * steps)]
rnn_tied = longer[1].parameters != seq_costs[1].parameters
st.caption(
    f"What to notice: at twice the length ({2 * steps:,} steps) the dense layer would need "
    f"{longer[0].parameters:,} parameters instead of {seq_costs[0].parameters:,}, so it cannot "
    "read a longer sequence with the weights it has; the recurrent layer "
    + (
        f"would need {longer[1].parameters:,}."
        if rnn_tied
        else f"keeps its {seq_costs[1].parameters:,}."
    )
    + f" The price: {steps:,} sequential steps that cannot run in parallel."
)

st.subheader("The connection patterns, drawn from real weight matrices")
st.markdown(
    "Eight inputs, six outputs. Each line is one nonzero weight of the layer's matrix; each "
    "distinct number gets its own colour, so lines of the same colour are the same number."
)
kernel = torch.tensor([0.5, -1.0, 1.5])
dense_w, conv_w = dense_matrix(6, 8, seed=0), conv_matrix_1d(8, kernel)
col1, col2, col3 = st.columns(3)
for column, name, m, key in (
    (col1, "Dense", dense_w, "cmp_dense_graph"),
    (col2, f"Convolution (k = {kernel.numel()})", conv_w, "cmp_conv_graph"),
):
    stats, claims = matrix_stats(m), matrix_claims(m)
    title = (
        f"{name}: {stats['nonzero']} connections,<br>"
        f"{stats['distinct_nonzero_values']} distinct weights"
    )
    column.plotly_chart(diagrams.connection_graph(m.numpy(), title), key=key)
    column.caption(
        f"{stats['nonzero']} lines in {stats['distinct_nonzero_values']} colours: "
        + (
            f"a weight is reused up to {claims['most_uses']} times (parameter sharing)."
            if claims["shared"]
            else "no weight is shared, every line has its own colour."
        )
        + (
            f" {stats['entries'] - stats['nonzero']} of the {stats['entries']} possible "
            "connections are missing (sparse interactions)."
            if claims["sparse"]
            else f" All {stats['entries']} possible connections are there."
        )
    )
with col3:
    rnn_steps = 6
    st.plotly_chart(
        diagrams.unrolled_rnn(
            rnn_steps, f"Recurrent, unrolled over {rnn_steps} steps:<br>2 weight matrices"
        ),
        key="cmp_rnn_graph",
    )
    st.caption(
        f"{rnn_steps} green edges are the same U and {rnn_steps - 1} purple edges the same W: "
        "the recurrent layer shares along time."
    )
