"""Compare · Your sequence through both: a CNN's windows, an RNN's state, n-grams, two tasks."""

import hashlib

import numpy as np
import streamlit as st

from engine.core import N_, ExplorerError
from engine.sequence import (
    CNN_FILTERS,
    CNN_LAYERS,
    KMAX_K,
    MAX_NGRAM,
    RATIO_FACTOR,
    RNN_UNITS,
    TAPS,
    busiest_filter,
    firing_at,
    kmax_answer,
    kmax_coverage,
    kmax_seen,
    loudest_step,
    ngram_filters,
    swap_sensitivity,
    swap_summary,
    through_both,
    token_strength,
    top_windows,
)
from ui.chart import chart
from ui.i18n import error_text, t
from ui.links import keep_text, linked, linked_text
from ui.recurrent.figures import SHOWN
from ui.sections import lazy_section
from ui.sequence import figures as sf
from ui.sequence import text_figures as tf
from ui.sequence.inputs import sequence_box, text_for_ngrams
from ui.sequence.task_runs import tasks_section
from ui.tables import table

LAYER1 = {  # the designed first layer (engine.sequence.compare): the sum, then with numbers put in
    "rise": (r"x_{t+1} - x_{t-1}", r"%(c)s - %(a)s"),
    "fall": (r"x_{t-1} - x_{t+1}", r"%(a)s - %(c)s"),
    "peak": (r"2x_t - x_{t-1} - x_{t+1}", r"2 \cdot %(b)s - %(a)s - %(c)s"),
    "level": (r"\tfrac{1}{3}(x_{t-1} + x_t + x_{t+1})", r"\tfrac{1}{3}(%(a)s + %(b)s + %(c)s)"),
}
VIEW = 120  # time steps drawn at once in the side-by-side charts

st.title(t("Your sequence through both"))
st.markdown(
    t(
        "Type a sequence and watch two networks read it. A 1D CNN slides small filters along it, "
        "every position at once, and each layer sees a wider window; an RNN reads it one step at "
        "a time and carries everything it has seen in one state vector. Below: both on your "
        "sequence, a text CNN's n-gram filters, and two small tasks on which each one wins."
    )
)
reading = sequence_box()


@st.cache_data(max_entries=64, show_spinner=False)
def _both(sha: str, seed: int, k: int, hidden: int, _values: np.ndarray):
    return through_both(_values, seed=seed, k=k, hidden=hidden)


@st.cache_data(max_entries=32, show_spinner=False)
def _order(sha: str, seed: int, k: int, hidden: int, _values: np.ndarray):
    return swap_sensitivity(_values, seed=seed, k=k, hidden=hidden)


def _pick_time(point: dict) -> None:
    """Make the clicked cell's time step the chosen step t."""
    if isinstance(point.get("x"), int | float):
        st.session_state["seqb_t"] = int(round(point["x"]))


def _num(v: float) -> str:
    return f"({v:.3f})" if v < 0 else f"{v:.3f}"


def _visible(text: str) -> str:
    return "".join(SHOWN.get(ch, ch) for ch in text)


def _span(a: int, b: int) -> str:
    return f"t {a}" if a == b else f"t {a}–{b}"  # a formula, the same in every language


def through_both_section(values: np.ndarray, labels: list[str] | None) -> None:
    st.header(t("One sequence, two readers"))
    seed, k, hidden = _reader_settings()
    sha = hashlib.sha256(values.tobytes()).hexdigest()
    out = _both(sha, seed, k, hidden, values)
    names = [
        list(out["cnn_filter_names"]),
        [t("mix {i}", i=c + 1) for c in range(out["cnn_maps"][-1].shape[0])],
    ]
    step = _choose_step(out, len(values))
    _side_by_side(out, names, step, labels, _view_around(step, len(values)))
    _layer1_at(out, names, step)
    _step_notice(out, names, step, len(values))
    lazy_section(
        t("What the CNN hands on: k-max pooling over time, both final vectors and a swap test"),
        "open_seqb_summary",
        lambda: _summaries(out, names[1], values, (seed, k, hidden, sha), labels),
        icon=":material/compress:",
    )


def _summaries(out, channel_names, values, settings, labels) -> None:
    """Draw k-max pooling over time, then the two final representations and the swap test."""
    seed, k, hidden, sha = settings
    _kmax_section(out, channel_names, labels, len(values))
    final_section(out, channel_names, values, seed, k, hidden, sha, labels)


def _reader_settings() -> tuple[int, int, int]:
    """Explain both readers and return the chosen (seed, k, hidden)."""
    st.markdown(
        t(
            "The sequence is standardised (mean 0, standard deviation 1) and fed to both "
            "networks. The CNN has {layers} layers of {taps}-tap filters with ReLU; the first "
            "layer's {filters} filters are designed so you can read them, the second mixes them "
            "with random weights. The RNN is a plain tanh RNN with random weights.",
            layers=CNN_LAYERS,
            taps=TAPS,
            filters=len(CNN_FILTERS),
        )
    )
    st.latex(
        r"\text{CNN: } a^{(\ell)}_{c,t} = \mathrm{ReLU}\Big(b_c + \sum_{c'}"
        rf"\sum_{{j=-{TAPS // 2}}}^{{{TAPS // 2}}}"
        r"w_{c,c',j}\,a^{(\ell-1)}_{c',t+j}\Big) \qquad "
        r"\text{RNN: } h_t = \tanh\big(W_{x} x_t + W_{h} h_{t-1} + b\big),\ h_{-1} = 0"
    )
    c1, c2, c3 = st.columns(3)
    seed = int(
        linked(c1.number_input)(t("Seed of the random weights"), 0, 10_000, 0, key="seqb_seed")
    )
    k = linked(c2.slider)(t("k of k-max pooling"), 1, 5, KMAX_K, key="seqb_k")
    hidden = linked(c3.select_slider)(
        t("RNN hidden units"), [2, 4, 8, 16], RNN_UNITS, key="seqb_hidden"
    )
    return seed, k, hidden


def _choose_step(out, length: int) -> int:
    """Draw the time-step slider (kept inside the sequence) and return the chosen t."""
    if "seqb_t" not in st.session_state:  # start where the first layer fires hardest
        st.session_state["seqb_t"] = loudest_step(out["cnn_maps"][0])
    st.session_state["seqb_t"] = min(max(int(st.session_state["seqb_t"]), 0), length - 1)
    if length > 1:
        linked(st.slider)(
            t("Time step t (or click a cell in either chart)"),
            0,
            length - 1,
            key="seqb_t",
            help=t("Highlights the window of the input that the units at t see, layer by layer."),
        )
    return int(st.session_state["seqb_t"])


def _view_around(step: int, length: int) -> tuple[int, int] | None:
    """Return the VIEW steps drawn around t for a long sequence (and say so), else None."""
    if length <= VIEW:
        return None
    lo = min(max(step - VIEW // 2, 0), length - VIEW)  # hundreds of steps are unreadable: follow t
    st.caption(
        t(
            "The two charts below show steps {lo}–{hi} of {length}, around t; move t to scroll. "
            "The k-max and swap charts further down show the whole sequence.",
            lo=lo,
            hi=lo + VIEW - 1,
            length=length,
        )
    )
    return lo, lo + VIEW


def _side_by_side(out, names, step: int, labels, view) -> None:
    """Draw the CNN's maps and the RNN's states next to each other, t marked in both."""
    left, right = st.columns(2)
    with left:
        st.subheader(t("CNN: feature maps over time"))
        st.caption(
            t(
                "Orange on the input: the dark band is what layer 1's unit at t sees, the light "
                "band what layer 2's unit at t sees. Red rings: the positions k-max pooling keeps."
            )
        )
        chart(
            sf.cnn_tower(
                out["x"],
                out["cnn_maps"],
                [[_filter_name(n) for n in names[0]], names[1]],
                out["cnn_windows"],
                step,
                out["kmax_positions"],
                labels,
                view=view,
            ),
            key="seqb_cnn",
            on_click=_pick_time,
        )
    with right:
        st.subheader(t("RNN: hidden state per step"))
        st.caption(
            t(
                "Each column is the state h_t after reading x_0 … x_t; the orange box is step t. "
                "Nothing is computed for step t + 1 until h_t is ready."
            )
        )
        chart(
            sf.rnn_states(out["rnn_hidden"], step, labels, view=view),
            key="seqb_rnn",
            on_click=_pick_time,
        )


def _layer1_at(out, names, step: int) -> None:
    """Write layer 1's sums at t with the numbers put in, and both layers' values at t."""
    maps, windows = out["cnn_maps"], out["cnn_windows"]
    st.markdown(
        t(
            "**The layer-1 units at t = {t}**, each a weighted sum over its window ({span}), then "
            "ReLU; zeros stand in outside the sequence.",
            t=step,
            span=_span(*windows[0][step]),
        )
    )
    padded = np.pad(out["x"], 1)  # the zero padding the convolution uses at both ends
    seen = {k: _num(v) for k, v in zip("abc", padded[step : step + TAPS], strict=True)}
    st.latex(
        r"\begin{aligned}"
        + r"\\ ".join(
            rf"\text{{{_filter_name(n)}}}_t &= \mathrm{{ReLU}}\big({LAYER1[n][0]}\big) = "
            rf"\mathrm{{ReLU}}\big({LAYER1[n][1] % seen}\big) = {maps[0][i, step]:.3f}"
            for i, n in enumerate(names[0])
            if n in LAYER1
        )
        + r"\end{aligned}"
    )
    value1 = t("value at t")
    value2 = t("layer-2 value at t (sees {span})", span=_span(*windows[1][step]))
    table(
        {
            t("layer-1 filter"): [_filter_name(n) for n in names[0]],
            value1: maps[0][:, step],
            t("layer-2 channel"): names[1],
            value2: maps[1][:, step],
        },
        csv_name="values-at-step",
        formats={value1: "%.4f", value2: "%.4f"},
    )


FILTER_NAMES = {"rise": N_("rise"), "fall": N_("fall"), "peak": N_("peak"), "level": N_("level")}


def _filter_name(name: str) -> str:
    """Return a designed layer-1 filter's name in the session's language (others as they are)."""
    return t(FILTER_NAMES[name]) if name in FILTER_NAMES else name


def _step_notice(out, names, step: int, length: int) -> None:
    """Write what to notice at t: field sizes, the strongest filter, sequential steps."""
    maps, fields, steps = out["cnn_maps"], out["cnn_fields"], out["sequential_steps"]
    strongest, _ = firing_at(maps[0], step)
    _, firing = firing_at(maps[-1], step)
    common = dict(
        grow=fields[1] - fields[0],
        f1=fields[0],
        f2=fields[1],
        t=step,
        firing=firing,
        channels=maps[-1].shape[0],
        length=length,
        cnn_steps=steps["cnn"],
        rnn_steps=steps["rnn"],
        read=step + 1,
    )
    if strongest is None:
        text = t(
            "**What to notice.** The window grows by {grow} per layer: layer 1 sees {f1} samples, "
            "layer 2 sees {f2} (cut at the ends of the sequence). At t = {t} no layer-1 filter "
            "fires and {firing} of {channels} layer-2 channels fire. The CNN computed all "
            "{length} positions of a layer at once, {cnn_steps} layers one after the other; the "
            "RNN needed {rnn_steps} steps in a row, and its state at t = {t} has read {read} of "
            "the {length} samples.",
            **common,
        )
    else:
        text = t(
            "**What to notice.** The window grows by {grow} per layer: layer 1 sees {f1} samples, "
            "layer 2 sees {f2} (cut at the ends of the sequence). At t = {t} the strongest "
            "layer-1 filter is “{name}” ({value}) and {firing} of {channels} layer-2 channels "
            "fire. The CNN computed all {length} positions of a layer at once, {cnn_steps} layers "
            "one after the other; the RNN needed {rnn_steps} steps in a row, and its state at "
            "t = {t} has read {read} of the {length} samples.",
            name=_filter_name(names[0][strongest]),
            value=f"{maps[0][strongest, step]:.3f}",
            **common,
        )
    st.markdown(text)


def _kmax_section(out, channel_names, labels, length: int) -> None:
    """Draw k-max pooling over time: formula, figure, kept table and what to notice."""
    st.subheader(t("k-max pooling over time"))
    st.markdown(
        t(
            "To get a fixed-size summary, each channel of the last layer keeps its {k} largest "
            "values, in their time order, and forgets where they were. Whatever the length of the "
            "sequence, the CNN hands on the same number of values.",
            k=out["kmax_k"],
        )
    )
    st.latex(
        r"\text{k-max}(a_{c,\cdot}) = \big(a_{c,t_1}, \dots, a_{c,t_k}\big),\quad "
        r"t_1 < \dots < t_k"
        + t(r"\text{{ the positions of the }} {k} \text{{ largest }} {a}", k="k", a="a_{c,t}")
    )
    kept, kept_values, last = out["kmax_positions"], out["kmax_values"], out["cnn_maps"][-1]
    chart(
        sf.kmax_figure(out["x"], last, channel_names, kept, out["cnn_windows"][-1], labels),
        key="seqb_kmax",
    )
    table(
        {
            t("channel"): channel_names,
            t("kept positions"): [", ".join(map(str, row)) for row in kept],
            t("kept values"): [", ".join(f"{v:.3f}" for v in row) for row in kept_values],
        },
        csv_name="k-max-kept",
    )
    cover = kmax_coverage(kept, kept_values, out["cnn_windows"][-1])
    top = (cover.top_channel, cover.top_rank)
    answer = kmax_answer(last, kept, kept_values, cover.top_channel)
    name = channel_names[cover.top_channel]
    st.markdown(_kmax_question(answer, name, kmax_seen(kept_values), length))
    params = dict(
        numbers=kept.size,
        channels=kept.shape[0],
        k=kept.shape[1],
        last=last.size,
        covered=cover.covered,
        length=length,
        share=f"{cover.covered / length:.0%}",
        value=f"{kept_values[top]:.3f}",
        name=channel_names[cover.top_channel],
        t=kept[top],
    )
    if cover.covered == length:
        text = t(
            "**What to notice.** {numbers} numbers leave the CNN ({channels} channels × {k}) out "
            "of {last} in its last layer. Their windows cover {covered} of the {length} input "
            "samples ({share}): every input sample reaches the summary through at least one kept "
            "window. The largest kept value is {value}, “{name}” at t = {t}.",
            **params,
        )
    else:
        text = t(
            "**What to notice.** {numbers} numbers leave the CNN ({channels} channels × {k}) out "
            "of {last} in its last layer. Their windows cover {covered} of the {length} input "
            "samples ({share}): the rest of the sequence does not reach the summary at all. The "
            "largest kept value is {value}, “{name}” at t = {t}.",
            **params,
        )
    st.markdown(text)


def _kmax_question(answer, name: str, seen, length: int) -> str:
    """Return k-max's question and the answer of the channel holding the largest kept value."""
    k, at = answer.k, ", ".join(map(str, answer.seen_at))
    common = dict(k=k, name=name, fired=answer.fired, length=length, at=at)
    if not answer.seen_at:
        text = t(
            "**Did you see this feature up to {k} times?** That is what k-max pooling asks each "
            "channel, with k = {k}. “{name}” fired at {fired} of its {length} positions and "
            "answers “no”: all {k} kept values are 0 (a ReLU unit that never fired).",
            **common,
        )
    elif len(answer.seen_at) < k:
        text = t(
            "**Did you see this feature up to {k} times?** That is what k-max pooling asks each "
            "channel, with k = {k}. “{name}” fired at {fired} of its {length} positions and "
            "answers “only {times} times, at t {at}”: its other kept values are 0, which means "
            "not seen.",
            times=len(answer.seen_at),
            **common,
        )
    elif answer.fired > k:
        text = t(
            "**Did you see this feature up to {k} times?** That is what k-max pooling asks each "
            "channel, with k = {k}. “{name}” fired at {fired} of its {length} positions and "
            "answers “yes, at t {at}” (its {k} strongest; the other {other} go unreported).",
            other=answer.fired - k,
            **common,
        )
    else:
        text = t(
            "**Did you see this feature up to {k} times?** That is what k-max pooling asks each "
            "channel, with k = {k}. “{name}” fired at {fired} of its {length} positions and "
            "answers “yes, at t {at}”.",
            **common,
        )
    full, never = int((seen == k).sum()), int((seen == 0).sum())
    return text + t(
        " Over all {channels} channels, {full} saw their feature {k} or more times and {never} "
        "never saw it.",
        channels=len(seen),
        full=full,
        k=k,
        never=never,
    )


def final_section(out, channel_names, values, seed, k, hidden, sha, labels) -> None:
    st.subheader(t("The final representations, side by side"))
    st.markdown(
        t(
            "This is what each network would hand to a classifier: the CNN's k-max values and the "
            "RNN's state after the last step."
        )
    )
    _final_vectors(out, channel_names)
    st.markdown(
        t(
            "**The difference.** The CNN's vector is an order-free summary of local detections: "
            "which patterns fired and how strongly, keeping only the order among the kept values "
            "— not where they happened, nor anything outside their windows. The RNN's last state "
            "is the end of a chain through all the steps, so every sample can shape it, but each "
            "step squashes and mixes the older state, which tends to make recent samples count "
            "most — the swap test below checks whether it does on your sequence."
        )
    )
    st.markdown(
        t(
            "**Test it: swap two neighbours.** Swapping a pair keeps the mean and the spread, so "
            "only the order changes. Below, each point is one swap and how far it moves each "
            "final vector."
        )
    )
    with st.spinner(t("Swapping neighbours, one pair at a time…")):  # cached spinners: English
        order = _order(sha, seed, k, hidden, values)
    if order.positions.size == 0:
        st.info(t("No two neighbours differ (or there is one number): no swap changes the order."))
        return
    chart(
        sf.order_sensitivity(
            order.positions, order.cnn_change, order.rnn_change, len(values), labels
        ),
        key="seqb_order",
    )
    kept_windows = out["cnn_windows"][-1][np.unique(out["kmax_positions"])]
    st.markdown(_swap_notice(order, swap_summary(order, kept_windows, len(values))))


def _final_vectors(out, channel_names) -> None:
    """Draw the CNN's k-max vector and the RNN's last state as bars and as tables."""
    kept = out["kmax_positions"]
    cnn_labels = [f"{channel_names[c]} @t{p}" for c in range(kept.shape[0]) for p in kept[c]]
    cnn_channel = [c for c in range(kept.shape[0]) for _ in kept[c]]
    chart(
        sf.final_vectors(out["cnn_final"], cnn_labels, cnn_channel, out["rnn_final"]),
        key="seqb_final",
    )
    _vector_table(t("CNN k-max vector"), cnn_labels, out["cnn_final"], "cnn-k-max-vector")
    rnn_labels = [t("unit {u}", u=u) for u in range(len(out["rnn_final"]))]
    _vector_table(t("RNN last state h_T"), rnn_labels, out["rnn_final"], "rnn-last-state")


def _vector_table(name: str, labels: list[str], values, csv_name: str) -> None:
    """Draw one vector as a one-row table: its name, then one column per entry."""
    table(
        {t("vector"): [name]} | {label: [v] for label, v in zip(labels, values, strict=True)},
        csv_name=csv_name,
        formats=dict.fromkeys(labels, "%.4f"),
    )


def _swap_notice(order, summary) -> str:
    """Return the what-to-notice paragraph of the swaps, every verdict from summary."""
    if order.candidates > summary.swaps:
        text = t(
            "**What to notice.** {swaps} swaps ({swaps} of {candidates} possible swaps, evenly "
            "spread). The CNN's vector did not move for {still}",
            swaps=summary.swaps,
            candidates=order.candidates,
            still=summary.still,
        )
    else:
        text = t(
            "**What to notice.** {swaps} swaps. The CNN's vector did not move for {still}",
            swaps=summary.swaps,
            still=summary.still,
        )
    other = summary.moved - summary.touching
    if summary.moved and other:
        text += t(
            "; of the {moved} that moved it, {touching} touch a window kept by k-max pooling, "
            "wherever it lies in time (the other {other} change which positions win).",
            moved=summary.moved,
            touching=summary.touching,
            other=other,
        )
    elif summary.moved:
        text += t(
            "; of the {moved} that moved it, {touching} touch a window kept by k-max pooling, "
            "wherever it lies in time.",
            moved=summary.moved,
            touching=summary.touching,
        )
    else:
        text += t(".")
    return text + _rnn_notice(summary, order.rnn_norm)


def _rnn_notice(summary, rnn_norm: float) -> str:
    """Return the sentence on early against late swaps' effect on h_T ('' if a quarter is empty)."""
    trend = summary.rnn_trend
    if trend is None:
        return ""
    e, m, floor = summary.early, summary.late, summary.rnn_floor
    params = dict(
        early=f"{e:.2e}",
        late=f"{m:.2e}",
        norm=f"{rnn_norm:.3f}",
        floor=f"{floor:.1e}",
        factor=f"{RATIO_FACTOR:g}",
    )
    return t(_RNN_VERDICTS[_verdict(trend, e, m, floor)], **params, **_ratios(e, m))


def _verdict(trend: str, early: float, late: float, floor: float) -> str:
    """Return the key of the sentence for this trend (a quarter below the floor has its own)."""
    if trend == "later" and early < floor:
        return "later_floor"
    if trend == "earlier" and late < floor:
        return "earlier_floor"
    return trend


def _ratios(early: float, late: float) -> dict[str, str]:
    """Return late/early and early/late as text (where the divisor is not zero)."""
    return {
        "more": f"{late / early:.3g}" if early else "",
        "less": f"{early / late:.3g}" if late else "",
    }


_RNN_VERDICTS = {
    "none": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): both below the rounding level ({floor}), "
        "so neither moved it."
    ),
    "similar": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): within {factor}× of each other, so here "
        "early and late swaps count about the same."
    ),
    "later": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): {more}× more — the later the swap, the "
        "more it counts."
    ),
    "later_floor": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): early swaps stayed below the rounding "
        "level ({floor}) — the later the swap, the more it counts."
    ),
    "earlier": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): {less}× less — on this sequence early "
        "swaps count more, not the recent ones."
    ),
    "earlier_floor": N_(
        " The RNN's state moved by {early} on average for swaps in the first quarter and by "
        "{late} in the last quarter (‖h_T‖ = {norm}): late swaps stayed below the rounding "
        "level ({floor}) — on this sequence early swaps count more, not the recent ones."
    ),
}


def text_cnn_section(text: str, own: bool) -> None:
    st.header(t("A CNN for text: n-gram filters"))
    st.markdown(
        t(
            "Text CNNs model context windows: every character (or word) is a one-hot vector, and "
            "a filter of width n slides over n of them at a time, like an n-gram detector. Here a "
            "designed filter puts weight 1 on its own n-gram's tokens and has bias −(n − 1), so "
            "it outputs 1 exactly where the window matches and 0 elsewhere. Max pooling over time "
            "then keeps one number per filter: did it fire anywhere?"
        )
    )
    st.latex(
        r"a_{f,i} = \mathrm{ReLU}\Big(b_f + \sum_{j=0}^{n-1} w_{f,j}\cdot"
        r"\mathrm{onehot}(\text{" + t("token") + r"}_{i+j})\Big), \qquad p_f = \max_i a_{f,i}"
    )
    if not own:
        st.caption(
            t(
                "Reading the last text from the box at the top (the example until you change "
                "it): switch the box to “text” to type your own."
            )
        )
    settings = _filter_settings()
    try:
        res = ngram_filters(text, seed=0, **settings)
    except ExplorerError as err:
        st.error(error_text(err))
        return
    chart(tf.ngram_heatmap(res.activations, res.filter_names, res.windows), key="seqb_ngram")
    _coloured_text(res)
    _filter_table(res)
    _filter_notice(res)


UNITS = {"char": N_("characters"), "word": N_("words")}
SOURCES = {
    "frequent": N_("most frequent n-grams"),
    "mine": N_("my n-grams"),
    "random": N_("random"),
}


def _filter_settings() -> dict:
    """Draw the token, width, filter-source and count inputs; return ngram_filters' arguments."""
    c1, c2, c3, c4 = st.columns([1.2, 1, 1.4, 1])
    unit = linked(c1.radio)(
        t("Tokens"),
        ["char", "word"],
        horizontal=True,
        key="seqb_unit",
        format_func=lambda u: t(UNITS[u]),
    )
    n = linked(c2.slider)(
        t("Width n"), 1, MAX_NGRAM, 3 if unit == "char" else 2, key=f"seqb_n_{unit}"
    )
    source = linked(c3.radio)(
        t("Filters"),
        ["frequent", "mine", "random"],
        horizontal=True,
        key="seqb_source",
        format_func=lambda s: t(SOURCES[s]),
    )
    count = linked(c4.slider)(t("How many filters"), 1, 8, 4, key="seqb_nfilters")
    targets = _typed_targets(unit, n) if source == "mine" else None
    return dict(n=n, unit=unit, targets=targets, n_filters=count, random_filters=source == "random")


def _typed_targets(unit: str, n: int) -> tuple[str, ...] | None:
    """Draw the n-gram box; return the typed n-grams, or None (with a warning) if there are none."""
    label = (
        t("n-grams to detect, separated by “|” (each exactly {n} chars)", n=n)
        if unit == "char"
        else t("n-grams to detect, separated by “|” (each exactly {n} words)", n=n)
    )
    key, default = f"seqb_targets_{unit}_{n}", "the| sa|at " if unit == "char" and n == 3 else ""
    linked_text(key, default)
    typed = st.text_input(label, key=key)
    keep_text(key, typed, default)
    targets = tuple(g for g in typed.split("|") if g) or None
    if targets is None:
        st.warning(t("Type at least one n-gram; until then the most frequent ones are used."))
    return targets


def _coloured_text(res) -> None:
    """Draw the filter picker and the text coloured by the picked filter's strongest window."""
    pick = st.selectbox(
        t("Colour the text by one filter (the text is read in lower case)"),
        range(len(res.filter_names)),
        key=f"seqb_filter_{'|'.join(res.filter_names)}",  # a new filter set starts at its first
        format_func=lambda i: f"“{_visible(_ngram_name(res.filter_names[i]))}”",
    )
    pick = min(pick or 0, len(res.filter_names) - 1)
    chart(
        tf.token_strip(
            res.tokens, token_strength(res, pick), columns=60 if res.unit == "char" else 12
        ),
        key="seqb_strip",
    )


def _ngram_name(name: str) -> str:
    """Return a filter's name: its n-gram as it is, "random 3" in the session's language."""
    prefix, _, number = name.rpartition(" ")
    return t("random {i}", i=number) if prefix == "random" and number.isdigit() else name


def _filter_table(res) -> None:
    """Draw one row per filter: windows fired on, its top windows, the max-pooled value."""
    pooled = t("max-pooled")
    table(
        {
            t("filter"): [_visible(_ngram_name(n)) for n in res.filter_names],
            t("fires on (windows)"): [len(f) for f in res.fires],
            t("windows in all"): [len(res.windows)] * len(res.filter_names),
            t("top windows (position: activation)"): [
                "; ".join(f"“{_visible(res.windows[i])}” @{i}: {row[i]:.2f}" for i in idx)
                for row, idx in zip(res.activations, top_windows(res, 3), strict=True)
            ],
            pooled: res.pooled,
            t("at window"): res.pooled_at,
        },
        csv_name="ngram-filters",
        formats={pooled: "%.3f"},
    )


def _filter_notice(res) -> None:
    """Write what to notice: the busiest filter hands on one number, and which never fire."""
    busiest, silent = busiest_filter(res)
    text = t(
        "**What to notice.** “{name}” fires on {fires} of {windows} windows, yet after max "
        "pooling it hands on one number, {value}, taken at window {at} — how often and where are "
        "gone, only “it occurred” remains.",
        name=_visible(_ngram_name(res.filter_names[busiest])),
        fires=len(res.fires[busiest]),
        windows=len(res.windows),
        value=f"{res.pooled[busiest]:.2f}",
        at=res.pooled_at[busiest],
    )
    if silent:
        text += t(" {n} filter(s) never fire on this text.", n=silent)
    st.markdown(text)


if reading is not None:
    labels = list(reading.text) if reading.mode == "text" else None
    through_both_section(reading.values, labels)
st.divider()
is_text = reading is not None and reading.mode == "text"
lazy_section(
    t("A CNN for text: n-gram filters on your text (or an example), and what max pooling keeps"),
    "open_seqb_ngrams",
    lambda: text_cnn_section(reading.text if is_text else text_for_ngrams(), own=is_text),
    icon=":material/text_fields:",
)
lazy_section(
    t("Where each one wins: two small tasks, trained live"),
    "open_seqb_tasks",
    tasks_section,
    icon=":material/model_training:",
)
