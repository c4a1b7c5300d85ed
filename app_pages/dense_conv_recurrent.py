"""Compare: the parameter and compute arithmetic of dense, convolutional and recurrent layers."""

import numpy as np
import streamlit as st
import torch

from engine import conv as lc
from engine.conv import conv_matrix_1d, dense_matrix, growth_factor, matrix_claims, matrix_stats
from ui import diagrams, figures
from ui.chart import chart
from ui.i18n import t
from ui.links import linked
from ui.tables import table

st.title(t("Dense vs convolutional vs recurrent"))
st.markdown(
    t(
        "Three layer families, three assumptions about the input. Set the sizes and compare how "
        "many parameters each needs and how much work it does for one input."
    )
)
LAYER_NAMES = {  # engine.conv's layer kinds as a table shows them
    "dense": t("dense"),
    "locally connected": t("locally connected"),
    "convolution": t("convolution"),
}

st.subheader(t("On an image"))
a, b, c, d, e = st.columns(5)
height = linked(a.number_input)(t("Height H"), 1, 4096, 200, key="cmp_h")
width = linked(b.number_input)(t("Width W"), 1, 4096, 200, key="cmp_w")
channels = linked(c.number_input)(t("Channels C"), 1, 512, 3, key="cmp_c")
units = linked(d.number_input)(t("Output units / filters"), 1, 1024, 16, key="cmp_units")
k = linked(e.select_slider)(t("Kernel size k"), [1, 3, 5, 7, 9, 11], 3, key="cmp_k")

costs = [
    lc.dense(height * width * channels, units * height * width),
    lc.locally_connected(height, width, channels, units, k),
    lc.conv2d(height, width, channels, units, k),
]
one_neuron = lc.dense(height * width * channels, 1)
st.markdown(
    t(
        "A dense layer producing a {h}×{w}×{units} output from the {h}×{w}×{c} input connects "
        "every output to all {inputs} inputs. Even **one** dense neuron needs {weights} weights. A "
        "locally connected layer keeps only the k×k neighbourhood but gives each position its own "
        "kernel; a convolution shares one kernel bank everywhere.",
        h=height,
        w=width,
        units=units,
        c=channels,
        inputs=f"{height * width * channels:,}",
        weights=f"{one_neuron.weights:,}",
    )
)
image_counts = {
    t("weights"): [x.weights for x in costs],
    t("biases"): [x.biases for x in costs],
    t("inputs read per output"): [x.fan_in for x in costs],
    t("multiply-adds"): [x.macs for x in costs],
}
table(
    {t("layer"): [LAYER_NAMES[x.kind] for x in costs]} | image_counts,
    csv_name="image-layer-costs",
    formats=dict.fromkeys(image_counts, "localized"),
)
st.latex(
    rf"\text{{{LAYER_NAMES['dense']}: }} (HWC)\,(HWF) \qquad "
    rf"\text{{{LAYER_NAMES['locally connected']}: }} HW\,k^2 C F \qquad"
    rf"\text{{{LAYER_NAMES['convolution']}: }} k^2 C F"
)

sides = np.array([8, 16, 32, 64, 128, 256, 512])
DENSE, LOCAL, CONV = (
    t("dense (one neuron per output)"),
    LAYER_NAMES["locally connected"],
    LAYER_NAMES["convolution"],
)
sweep = {
    DENSE: [lc.dense(s * s * channels, s * s * units).parameters for s in sides],
    LOCAL: [lc.locally_connected(s, s, channels, units, k).parameters for s in sides],
    CONV: [lc.conv2d(s, s, channels, units, k).parameters for s in sides],
}
chart(
    figures.lines(
        sides,
        sweep,
        title=t("Parameters against image side (log scale)"),
        x_title=t("image side (pixels, log scale)"),
        y_title=t("parameters"),
        log_y=True,
        log_x=True,
        modes={name: "lines+markers" for name in sweep},
    ),
    key="cmp_sweep",
)
conv_growth = growth_factor(sweep[CONV])
dense_growth = growth_factor(sweep[DENSE])
conv_note = (
    t(
        "the convolution's line is flat at {n} parameters: its size does not depend on the "
        "image, which is also why one network can read images of any size",
        n=f"{sweep[CONV][0]:,}",
    )
    if conv_growth == 1
    else t("the convolution's parameters grow {growth}-fold", growth=f"{conv_growth:,.1f}")
)
st.caption(
    t(
        "What to notice: {conv_note}. From side {first} to {last} the dense layer's parameters "
        "grow {growth}-fold.",
        conv_note=conv_note,
        first=sides[0],
        last=sides[-1],
        growth=f"{dense_growth:,.0f}",
    )
)

st.subheader(t("On a sequence"))
a, b, c = st.columns(3)
steps = linked(a.number_input)(t("Sequence length T"), 1, 100_000, 50, key="cmp_t")
n_in = linked(b.number_input)(t("Features per step"), 1, 4096, 8, key="cmp_nin")
hidden = linked(c.number_input)(t("Hidden units"), 1, 4096, 32, key="cmp_hidden")
seq_costs = [
    lc.dense(steps * n_in, hidden),
    lc.rnn(n_in, hidden, steps),
    lc.unshared_recurrent(n_in, hidden, steps),
]
sequence_counts = {
    t("parameters"): [x.parameters for x in seq_costs],
    t("multiply-adds"): [x.macs for x in seq_costs],
    t("sequential steps"): [1, steps, steps],
}
table(
    {
        t("layer"): [
            t("dense over the whole sequence"),
            t("recurrent (shared over time)"),
            t("same graph, new weights each step"),
        ]
    }
    | sequence_counts,
    csv_name="sequence-layer-costs",
    formats=dict.fromkeys(sequence_counts, "localized"),
)
st.latex(r"h_t = \tanh(W h_{t-1} + U x_t + b)\qquad |W| + |U| = h^2 + h\,n")
longer = [lc.dense(2 * steps * n_in, hidden), lc.rnn(n_in, hidden, 2 * steps)]
rnn_tied = longer[1].parameters != seq_costs[1].parameters
longer_text = dict(
    steps=f"{2 * steps:,}",
    dense=f"{longer[0].parameters:,}",
    dense_now=f"{seq_costs[0].parameters:,}",
    sequential=f"{steps:,}",
)
st.caption(
    t(
        "What to notice: at twice the length ({steps} steps) the dense layer would need {dense} "
        "parameters instead of {dense_now}, so it cannot read a longer sequence with the weights "
        "it has; the recurrent layer would need {rnn}. The price: {sequential} sequential steps "
        "that cannot run in parallel.",
        rnn=f"{longer[1].parameters:,}",
        **longer_text,
    )
    if rnn_tied
    else t(
        "What to notice: at twice the length ({steps} steps) the dense layer would need {dense} "
        "parameters instead of {dense_now}, so it cannot read a longer sequence with the weights "
        "it has; the recurrent layer keeps its {rnn}. The price: {sequential} sequential steps "
        "that cannot run in parallel.",
        rnn=f"{seq_costs[1].parameters:,}",
        **longer_text,
    )
)

st.subheader(t("The connection patterns, drawn from real weight matrices"))
st.markdown(
    t(
        "Eight inputs, six outputs. Each line is one nonzero weight of the layer's matrix; each "
        "distinct number gets its own colour, so lines of the same colour are the same number."
    )
)
kernel = torch.tensor([0.5, -1.0, 1.5])
dense_w, conv_w = dense_matrix(6, 8, seed=0), conv_matrix_1d(8, kernel)
col1, col2, col3 = st.columns(3)
for column, name, m, key in (
    (col1, t("Dense"), dense_w, "cmp_dense_graph"),
    (col2, t("Convolution (k = {k})", k=kernel.numel()), conv_w, "cmp_conv_graph"),
):
    stats, claims = matrix_stats(m), matrix_claims(m)
    title = t(
        "{name}: {n} connections,<br>{distinct} distinct weights",
        name=name,
        n=stats["nonzero"],
        distinct=stats["distinct_nonzero_values"],
    )
    chart(diagrams.connection_graph(m.numpy(), title), key=key, where=column)
    column.caption(
        t(
            "{lines} lines in {colours} colours: {sharing}{sparsity}",
            lines=stats["nonzero"],
            colours=stats["distinct_nonzero_values"],
            sharing=t(
                "a weight is reused up to {uses} times (parameter sharing).",
                uses=claims["most_uses"],
            )
            if claims["shared"]
            else t("no weight is shared, every line has its own colour."),
            sparsity=t(
                " {missing} of the {entries} possible connections are missing (sparse "
                "interactions).",
                missing=stats["entries"] - stats["nonzero"],
                entries=stats["entries"],
            )
            if claims["sparse"]
            else t(" All {entries} possible connections are there.", entries=stats["entries"]),
        )
    )
with col3:
    rnn_steps = 6
    chart(
        diagrams.unrolled_rnn(
            rnn_steps,
            t("Recurrent, unrolled over {steps} steps:<br>2 weight matrices", steps=rnn_steps),
        ),
        key="cmp_rnn_graph",
    )
    st.caption(
        t(
            "{steps} green edges are the same U and {w_edges} purple edges the same W: the "
            "recurrent layer shares along time.",
            steps=rnn_steps,
            w_edges=rnn_steps - 1,
        )
    )
