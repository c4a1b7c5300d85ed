"""Home: what the explorer is, the map of topics, and dense vs conv vs recurrent at a glance."""

import streamlit as st

from engine import conv as lc
from ui.chart import preload
from ui.i18n import t, tn
from ui.navigation import GROUPS

st.title(t("CNN & RNN Visual Explorer"))
st.markdown(
    t(
        "Push **your own picture** or **your own sequence** through real PyTorch computations "
        "and watch what convolutional and recurrent networks do with it: one multiply-add, one "
        "gate, one gradient at a time. Everything runs on this machine, offline; every number is "
        "computed live."
    )
)

HEADINGS = {
    "CNN": t("Convolutional networks"),
    "RNN": t("Recurrent networks"),
    "Compare": t("Side by side"),
    "Frameworks": t("Under the hood"),
}
st.subheader(t("Topics"))
columns = st.columns(3)
for i, (group, topics) in enumerate(list(GROUPS.items())[1:]):  # groups past the third stack
    with columns[min(i, len(columns) - 1)]:
        st.markdown(f"**{HEADINGS.get(group) or t(group)}**")
        for topic in topics:
            blurb = t(topic.blurb)
            st.page_link(topic.path, label=t(topic.title), icon=topic.icon, help=blurb)
            st.caption(blurb)

st.subheader(t("Three ways to connect neurons"))
st.markdown(
    t(
        "A **dense** layer (the general deep network, DNN) connects every input to every output. "
        "A **convolutional** layer assumes *spatial locality*: each output looks at a small "
        "neighbourhood, and the same small kernel is reused at every position. A **recurrent** "
        "layer assumes *temporal locality*: it reads one step at a time and carries a memory (the "
        "hidden state) forward, reusing the same weights at every step."
    )
)

H, W, C, K = 200, 200, 3, 3
dense_one = lc.dense(H * W * C, 1)
conv_one = lc.conv2d(H, W, C, 1, K)
rnn_one = lc.rnn(n_in=C, hidden=1, steps=H * W)
d, c, r = st.columns(3)
with d:
    st.metric(
        t("Dense: one neuron over a {h}×{w}×{c} image", h=H, w=W, c=C),
        tn("{count} weight", "{count} weights", dense_one.weights, count=f"{dense_one.weights:,}"),
    )
    st.caption(t("One weight per input value, for every single output unit."))
with c:
    st.metric(
        t("Convolution: one {k}×{k} filter on the same image", k=K),
        tn("{count} weight", "{count} weights", conv_one.weights, count=f"{conv_one.weights:,}"),
    )
    st.caption(
        t(
            "The same {weights} numbers are applied at all {positions} positions: "
            "{macs} multiply-adds from {weights} parameters.",
            weights=conv_one.weights,
            positions=f"{H * W:,}",
            macs=f"{conv_one.macs:,}",
        )
    )
with r:
    st.metric(
        t("Recurrent: one hidden unit reading pixels in order"),
        tn("{count} weight", "{count} weights", rnn_one.weights, count=f"{rnn_one.weights:,}"),
    )
    st.caption(
        t(
            "U (1×{c}) and W (1×1) are reused at each of the {steps} steps; the count does not "
            "grow with the length of the sequence.",
            c=C,
            steps=f"{H * W:,}",
        )
    )
# Plain text, not st.latex: the home page is the one page that would load KaTeX for one line.
st.markdown(
    t(
        "**Dense, per neuron:** H·W·C = {h}·{w}·{c} = {dense}"
        "\u2003·\u2003**Conv, per filter:** k²·C = {k}²·{c} = {conv}",
        h=H,
        w=W,
        c=C,
        k=K,
        dense=f"{dense_one.weights:,}",
        conv=f"{conv_one.weights:,}",
    )
)
st.caption(
    t(
        "Try other sizes on the page “{page}”; the counts there are checked against the "
        "parameter counts of real torch modules in the test suite.",
        page=t("Dense vs convolutional vs recurrent"),
    )
)

with st.sidebar:  # the home page has no chart; the topic a learner opens next has
    preload()
