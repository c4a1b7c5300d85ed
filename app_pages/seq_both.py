"""Compare · Your sequence through both: a CNN's windows, an RNN's state, n-grams, two tasks."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from engine.core import ExplorerError
from engine.sequence import ngram_filters, swap_sensitivity, through_both
from ui.recurrent.figures import SHOWN
from ui.sequence import figures as sf
from ui.sequence import text_figures as tf
from ui.sequence.inputs import sequence_box, text_for_ngrams
from ui.sequence.task_runs import tasks_section

LAYER1 = {  # the designed first layer (engine.sequence.compare): the sum, then with numbers put in
    "rise": (r"x_{t+1} - x_{t-1}", r"%(c)s - %(a)s"),
    "fall": (r"x_{t-1} - x_{t+1}", r"%(a)s - %(c)s"),
    "peak": (r"2x_t - x_{t-1} - x_{t+1}", r"2 \cdot %(b)s - %(a)s - %(c)s"),
    "level": (r"\tfrac{1}{3}(x_{t-1} + x_t + x_{t+1})", r"\tfrac{1}{3}(%(a)s + %(b)s + %(c)s)"),
}
VIEW = 120  # time steps drawn at once in the side-by-side charts

st.title("Your sequence through both")
st.markdown(
    "Type a sequence and watch two networks read it. A 1D CNN slides small filters along it, "
    "every position at once, and each layer sees a wider window; an RNN reads it one step at a "
    "time and carries everything it has seen in one state vector. Below: both on your "
    "sequence, a text CNN's n-gram filters, and two small tasks on which each one wins."
)
reading = sequence_box()


@st.cache_data(max_entries=64, show_spinner=False)
def _both(sha: str, seed: int, k: int, hidden: int, _values: np.ndarray):
    return through_both(_values, seed=seed, k=k, hidden=hidden)


@st.cache_data(max_entries=32, show_spinner="Swapping neighbours, one pair at a time…")
def _order(sha: str, seed: int, k: int, hidden: int, _values: np.ndarray):
    return swap_sensitivity(_values, seed=seed, k=k, hidden=hidden)


def _pick_time(chart_key: str):
    def _on_select() -> None:
        points = ((st.session_state.get(chart_key) or {}).get("selection") or {}).get("points")
        if points:
            st.session_state["seqb_t"] = int(round(points[0]["x"]))

    return _on_select


def _num(v: float) -> str:
    return f"({v:.3f})" if v < 0 else f"{v:.3f}"


def _visible(text: str) -> str:
    return "".join(SHOWN.get(ch, ch) for ch in text)


def _span(a: int, b: int) -> str:
    return f"t {a}" if a == b else f"t {a}–{b}"


def through_both_section(values: np.ndarray, labels: list[str] | None) -> None:
    st.header("One sequence, two readers")
    st.markdown(
        "The sequence is standardised (mean 0, standard deviation 1) and fed to both networks. "
        "The CNN has two layers of 3-tap filters with ReLU; the first layer's four filters are "
        "designed so you can read them, the second mixes them with random weights. The RNN is a "
        "plain tanh RNN with random weights."
    )
    st.latex(
        r"\text{CNN: } a^{(\ell)}_{c,t} = \mathrm{ReLU}\Big(b_c + \sum_{c'}\sum_{j=-1}^{1}"
        r"w_{c,c',j}\,a^{(\ell-1)}_{c',t+j}\Big) \qquad "
        r"\text{RNN: } h_t = \tanh\big(W_{x} x_t + W_{h} h_{t-1} + b\big),\ h_{-1} = 0"
    )
    c1, c2, c3 = st.columns(3)
    seed = int(c1.number_input("Seed of the random weights", 0, 10_000, 0, key="seqb_seed"))
    k = c2.slider("k of k-max pooling", 1, 5, 3, key="seqb_k")
    hidden = c3.select_slider("RNN hidden units", [2, 4, 8, 16], 4, key="seqb_hidden")
    sha = hashlib.sha256(values.tobytes()).hexdigest()
    out = _both(sha, seed, k, hidden, values)
    length = len(values)
    maps, windows, x = out["cnn_maps"], out["cnn_windows"], out["x"]
    names = [list(out["cnn_filter_names"]), [f"mix {c + 1}" for c in range(maps[-1].shape[0])]]
    if "seqb_t" not in st.session_state:  # start where the first layer fires hardest
        st.session_state["seqb_t"] = int(np.argmax(maps[0].max(axis=0)))
    st.session_state["seqb_t"] = min(max(int(st.session_state["seqb_t"]), 0), length - 1)
    if length > 1:
        st.slider(
            "Time step t (or click a cell in either chart)",
            0,
            length - 1,
            key="seqb_t",
            help="Highlights the window of the input that the units at t see, layer by layer.",
        )
    t = int(st.session_state["seqb_t"])
    view = None
    if length > VIEW:  # a few hundred steps are unreadable side by side: follow t instead
        lo = min(max(t - VIEW // 2, 0), length - VIEW)
        view = (lo, lo + VIEW)
        st.caption(
            f"The two charts below show steps {lo}–{lo + VIEW - 1} of {length}, around t; move "
            "t to scroll. The k-max and swap charts further down show the whole sequence."
        )

    left, right = st.columns(2)
    with left:
        st.subheader("CNN: feature maps over time")
        st.caption(
            "Orange on the input: the dark band is what layer 1's unit at t sees, the light band "
            "what layer 2's unit at t sees. Red rings: the positions k-max pooling keeps."
        )
        st.plotly_chart(
            sf.cnn_tower(x, maps, names, windows, t, out["kmax_positions"], labels, view=view),
            key="seqb_cnn",
            on_select=_pick_time("seqb_cnn"),
            selection_mode="points",
        )
    with right:
        st.subheader("RNN: hidden state per step")
        st.caption(
            "Each column is the state h_t after reading x_0 … x_t; the orange box is step t. "
            "Nothing is computed for step t + 1 until h_t is ready."
        )
        st.plotly_chart(
            sf.rnn_states(out["rnn_hidden"], t, labels, view=view),
            key="seqb_rnn",
            on_select=_pick_time("seqb_rnn"),
            selection_mode="points",
        )

    padded = np.pad(x, 1)  # the zero padding the convolution uses at both ends
    st.markdown(
        f"**The layer-1 units at t = {t}**, each a weighted sum over its window "
        f"({_span(*windows[0][t])}), then ReLU; zeros stand in outside the sequence."
    )
    seen = {k: _num(v) for k, v in zip("abc", padded[t : t + 3], strict=True)}
    st.latex(
        r"\begin{aligned}"
        + r"\\ ".join(
            rf"\text{{{n}}}_t &= \mathrm{{ReLU}}\big({LAYER1[n][0]}\big) = "
            rf"\mathrm{{ReLU}}\big({LAYER1[n][1] % seen}\big) = {maps[0][i, t]:.3f}"
            for i, n in enumerate(names[0])
            if n in LAYER1
        )
        + r"\end{aligned}"
    )
    value2 = f"layer-2 value at t (sees {_span(*windows[1][t])})"
    st.dataframe(
        {
            "layer-1 filter": names[0],
            "value at t": maps[0][:, t],
            "layer-2 channel": names[1],
            value2: maps[1][:, t],
        },
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="%.4f") for c in ("value at t", value2)
        },
    )
    strongest = int(np.argmax(maps[0][:, t]))
    firing = int((maps[-1][:, t] > 0).sum())
    steps = out["sequential_steps"]
    st.markdown(
        f"**What to notice.** The window grows by 2 per layer: layer 1 sees "
        f"{out['cnn_fields'][0]} samples, layer 2 sees {out['cnn_fields'][1]} (cut at the ends "
        f"of the sequence). At t = {t} "
        + (
            f"the strongest layer-1 filter is “{names[0][strongest]}” ({maps[0][strongest, t]:.3f})"
            if maps[0][strongest, t] > 0
            else "no layer-1 filter fires"
        )
        + f" and {firing} of {maps[-1].shape[0]} layer-2 channels fire. The CNN computed all "
        f"{length} positions of a layer at once, {steps['cnn']} "
        f"layers one after the other; the RNN needed {steps['rnn']} steps in a row, and its "
        f"state at t = {t} has read {t + 1} of the {length} samples."
    )

    st.subheader("k-max pooling over time")
    st.markdown(
        f"To get a fixed-size summary, each channel of the last layer keeps its {out['kmax_k']} "
        "largest values, in their time order, and forgets where they were. Whatever the length "
        "of the sequence, the CNN hands on the same number of values."
    )
    st.latex(
        r"\text{k-max}(a_{c,\cdot}) = \big(a_{c,t_1}, \dots, a_{c,t_k}\big),\quad "
        r"t_1 < \dots < t_k \text{ the positions of the } k \text{ largest } a_{c,t}"
    )
    kept, kept_values = out["kmax_positions"], out["kmax_values"]
    st.plotly_chart(
        sf.kmax_figure(x, maps[-1], names[1], kept, windows[-1], labels), key="seqb_kmax"
    )
    st.dataframe(
        {
            "channel": names[1],
            "kept positions": [", ".join(map(str, row)) for row in kept],
            "kept values": [", ".join(f"{v:.3f}" for v in row) for row in kept_values],
        },
        hide_index=True,
    )
    covered = np.zeros(length, bool)
    for p in np.unique(kept):
        covered[windows[-1][p][0] : windows[-1][p][1] + 1] = True
    top_c, top_i = np.unravel_index(int(np.argmax(kept_values)), kept_values.shape)
    st.markdown(
        f"**What to notice.** {kept.size} numbers leave the CNN ({kept.shape[0]} channels × "
        f"{kept.shape[1]}) out of {maps[-1].size} in its last layer. Their windows cover "
        f"{covered.sum()} of the {length} input samples ({covered.mean():.0%}); the rest of the "
        f"sequence does not reach the summary at all. The largest kept value is "
        f"{kept_values[top_c, top_i]:.3f}, “{names[1][top_c]}” at t = {kept[top_c, top_i]}."
    )

    final_section(out, names[1], values, seed, k, hidden, sha, labels)


def final_section(out, channel_names, values, seed, k, hidden, sha, labels) -> None:
    st.subheader("The final representations, side by side")
    st.markdown(
        "This is what each network would hand to a classifier: the CNN's k-max values and the "
        "RNN's state after the last step."
    )
    kept = out["kmax_positions"]
    cnn_labels = [f"{channel_names[c]} @t{p}" for c in range(kept.shape[0]) for p in kept[c]]
    cnn_channel = [c for c in range(kept.shape[0]) for _ in kept[c]]
    st.plotly_chart(
        sf.final_vectors(out["cnn_final"], cnn_labels, cnn_channel, out["rnn_final"]),
        key="seqb_final",
    )
    fmt = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(
        pd.DataFrame([out["cnn_final"]], columns=cnn_labels, index=["CNN k-max vector"]),
        column_config={c: fmt for c in cnn_labels},
    )
    rnn_labels = [f"unit {u}" for u in range(len(out["rnn_final"]))]
    st.dataframe(
        pd.DataFrame([out["rnn_final"]], columns=rnn_labels, index=["RNN last state h_T"]),
        column_config={c: fmt for c in rnn_labels},
    )
    st.markdown(
        "**The difference.** The CNN's vector is an order-free summary of local detections: "
        "which patterns fired and how strongly, keeping only the order among the kept values — "
        "not where they happened, nor anything outside their windows. The RNN's last state is "
        "the end of a chain through all the steps, so every sample can shape it, but each step "
        "squashes and mixes the older state, so the recent samples count most."
    )
    st.markdown(
        "**Test it: swap two neighbours.** Swapping a pair keeps the mean and the spread, so only "
        "the order changes. Below, each point is one swap and how far it moves each final vector."
    )
    order = _order(sha, seed, k, hidden, values)
    if order.positions.size == 0:
        st.info("No two neighbours differ (or there is one number): no swap changes the order.")
        return
    st.plotly_chart(
        sf.order_sensitivity(
            order.positions, order.cnn_change, order.rnn_change, len(values), labels
        ),
        key="seqb_order",
    )
    tiny = 1e-6 * (1 + order.cnn_norm)
    still = int((order.cnn_change <= tiny).sum())
    moved = order.positions[order.cnn_change > tiny]
    n = order.positions.size
    sampled = (
        f" ({n} of {order.candidates} possible swaps, evenly spread)"
        if order.candidates > n
        else ""
    )
    windows = out["cnn_windows"][-1][np.unique(kept)]  # (m, 2) input spans of the kept units
    touches = np.array([((windows[:, 0] <= s + 1) & (windows[:, 1] >= s)).any() for s in moved])
    text = f"**What to notice.** {n} swaps{sampled}. The CNN's vector did not move for {still}"
    if moved.size:
        text += (
            f"; of the {moved.size} that moved it, {int(touches.sum())} touch a window kept by "
            "k-max pooling, wherever it lies in time"
            + (
                f" (the other {int((~touches).sum())} change which positions win)."
                if (~touches).any()
                else "."
            )
        )
    else:
        text += "."
    quarter = len(values) / 4
    early = order.rnn_change[order.positions < quarter]
    late = order.rnn_change[order.positions >= 3 * quarter]
    if early.size and late.size:
        e, m = early.mean(), late.mean()
        text += (
            f" The RNN's state moved by {e:.2e} on average for swaps in the first quarter and by "
            f"{m:.2e} in the last quarter (‖h_T‖ = {order.rnn_norm:.3f})"
        )
        if m > e:
            more = "early swaps left no trace at all" if e == 0 else f"{m / e:.3g}× more"
            text += f": {more} — the later the swap, the more it counts."
        else:
            text += ": here early swaps count as much as late ones."
    st.markdown(text)


def text_cnn_section(text: str, own: bool) -> None:
    st.header("A CNN for text: n-gram filters")
    st.markdown(
        "Text CNNs model context windows: every character (or word) is a one-hot vector, and a "
        "filter of width n slides over n of them at a time, like an n-gram detector. Here a "
        "designed filter puts weight 1 on its own n-gram's tokens and has bias −(n − 1), so it "
        "outputs 1 exactly where the window matches and 0 elsewhere. Max pooling over time "
        "then keeps one number per filter: did it fire anywhere?"
    )
    st.latex(
        r"a_{f,i} = \mathrm{ReLU}\Big(b_f + \sum_{j=0}^{n-1} w_{f,j}\cdot"
        r"\mathrm{onehot}(\text{token}_{i+j})\Big), \qquad p_f = \max_i a_{f,i}"
    )
    if not own:
        st.caption(
            "Reading the last text from the box at the top (the example until you change it): "
            "switch the box to “text” to type your own."
        )
    c1, c2, c3, c4 = st.columns([1.2, 1, 1.4, 1])
    unit = c1.radio(
        "Tokens",
        ["char", "word"],
        horizontal=True,
        key="seqb_unit",
        format_func={"char": "characters", "word": "words"}.get,
    )
    n = c2.slider("Width n", 1, 8, 3 if unit == "char" else 2, key=f"seqb_n_{unit}")
    source = c3.radio(
        "Filters",
        ["frequent", "mine", "random"],
        horizontal=True,
        key="seqb_source",
        format_func={
            "frequent": "most frequent n-grams",
            "mine": "my n-grams",
            "random": "random",
        }.get,
    )
    count = c4.slider("How many filters", 1, 8, 4, key="seqb_nfilters")
    targets = None
    if source == "mine":
        typed = st.text_input(
            f"n-grams to detect, separated by “|” (each exactly {n} {unit}s)",
            "the| sa|at " if unit == "char" and n == 3 else "",
            key=f"seqb_targets_{unit}_{n}",
        )
        targets = tuple(t for t in typed.split("|") if t) or None
        if targets is None:
            st.warning("Type at least one n-gram; until then the most frequent ones are used.")
    try:
        res = ngram_filters(
            text,
            n=n,
            unit=unit,
            targets=targets,
            n_filters=count,
            random_filters=source == "random",
            seed=0,
        )
    except ExplorerError as err:
        st.error(str(err))
        return
    st.plotly_chart(
        tf.ngram_heatmap(res.activations, res.filter_names, res.windows), key="seqb_ngram"
    )
    pick = st.selectbox(
        "Colour the text by one filter (the text is read in lower case)",
        range(len(res.filter_names)),
        key=f"seqb_filter_{'|'.join(res.filter_names)}",  # a new filter set starts at its first
        format_func=lambda i: f"“{_visible(res.filter_names[i])}”",
    )
    pick = min(pick or 0, len(res.filter_names) - 1)
    covering = np.zeros(len(res.tokens))  # each token: the strongest window over it
    for i, a in enumerate(res.activations[pick]):
        covering[i : i + n] = np.maximum(covering[i : i + n], a)
    st.plotly_chart(
        tf.token_strip(res.tokens, covering, columns=60 if unit == "char" else 12),
        key="seqb_strip",
    )
    top = [np.argsort(-row, kind="stable")[:3] for row in res.activations]
    shown = [_visible(n) for n in res.filter_names]
    st.dataframe(
        {
            "filter": shown,
            "fires on (windows)": [len(f) for f in res.fires],
            "of": [len(res.windows)] * len(res.filter_names),
            "top windows (position: activation)": [
                "; ".join(f"“{_visible(res.windows[i])}” @{i}: {row[i]:.2f}" for i in idx)
                for row, idx in zip(res.activations, top, strict=True)
            ],
            "max-pooled": res.pooled,
            "at window": res.pooled_at,
        },
        hide_index=True,
        column_config={"max-pooled": st.column_config.NumberColumn(format="%.3f")},
    )
    busiest = int(np.argmax([len(f) for f in res.fires]))
    silent = sum(1 for f in res.fires if not f)
    st.markdown(
        f"**What to notice.** “{shown[busiest]}” fires on "
        f"{len(res.fires[busiest])} of {len(res.windows)} windows, yet after max pooling it "
        f"hands on one number, {res.pooled[busiest]:.2f}, taken at window {res.pooled_at[busiest]}"
        " — how often and where are gone, only “it occurred” remains."
        + (f" {silent} filter(s) never fire on this text." if silent else "")
    )


if reading is not None:
    labels = list(reading.text) if reading.mode == "text" else None
    through_both_section(reading.values, labels)
st.divider()
is_text = reading is not None and reading.mode == "text"
text_cnn_section(reading.text if is_text else text_for_ngrams(), own=is_text)
st.divider()
tasks_section()
