"""Home: what the explorer is, the map of topics, and dense vs conv vs recurrent at a glance."""

import streamlit as st

from engine import conv as lc
from ui.navigation import GROUPS

st.title("CNN & RNN Visual Explorer")
st.markdown(
    "Push **your own picture** or **your own sequence** through real PyTorch computations and "
    "watch what convolutional and recurrent networks do with it: one multiply-add, one gate, one "
    "gradient at a time. Everything runs on this machine, offline; every number is computed "
    "live."
)

HEADINGS = {
    "CNN": "Convolutional networks",
    "RNN": "Recurrent networks",
    "Compare": "Side by side",
    "Frameworks": "Under the hood",
}
st.subheader("Topics")
columns = st.columns(3)
for i, (group, topics) in enumerate(list(GROUPS.items())[1:]):  # groups past the third stack
    with columns[min(i, len(columns) - 1)]:
        st.markdown(f"**{HEADINGS.get(group, group)}**")
        for topic in topics:
            st.page_link(topic.path, label=topic.title, icon=topic.icon, help=topic.blurb)
            st.caption(topic.blurb)

st.subheader("Three ways to connect neurons")
st.markdown(
    "A **dense** layer (the general deep network, DNN) connects every input to every output. "
    "A **convolutional** layer assumes *spatial locality*: each output looks at a small "
    "neighbourhood, and the same small kernel is reused at every position. A **recurrent** layer "
    "assumes *temporal locality*: it reads one step at a time and carries a memory (the hidden "
    "state) forward, reusing the same weights at every step."
)

H, W, C = 200, 200, 3
dense_one = lc.dense(H * W * C, 1)
conv_one = lc.conv2d(H, W, C, 1, 3)
rnn_one = lc.rnn(n_in=C, hidden=1, steps=H * W)
d, c, r = st.columns(3)
with d:
    st.metric("Dense: one neuron over a 200×200×3 image", f"{dense_one.weights:,} weights")
    st.caption("One weight per input value, for every single output unit.")
with c:
    st.metric("Convolution: one 3×3 filter on the same image", f"{conv_one.weights:,} weights")
    st.caption(
        f"The same {conv_one.weights} numbers are applied at all {H * W:,} positions: "
        f"{conv_one.macs:,} multiply-adds from {conv_one.weights} parameters."
    )
with r:
    st.metric("Recurrent: one hidden unit reading pixels in order", f"{rnn_one.weights:,} weights")
    st.caption(
        f"U (1×{C}) and W (1×1) are reused at each of the {H * W:,} steps; the count does not grow "
        "with the length of the sequence."
    )
# Plain text, not st.latex: the home page is the one page that would load KaTeX for one line.
st.markdown(
    f"**Dense, per neuron:** H·W·C = {H}·{W}·{C} = {dense_one.weights:,}"
    f"\u2003·\u2003**Conv, per filter:** k²·C = 3²·{C} = {conv_one.weights:,}"
)
st.caption(
    "Try other sizes on the Compare page; the counts there are checked against the "
    "parameter counts of real torch modules in the test suite."
)
