"""RNN · LSTM gates on your text: every gate and state of a trained character LSTM, char by char."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine.core import ExplorerError
from engine.recurrent import (
    CANDIDATE_SATURATED,
    CELL_BOUND,
    DEFAULT_MAX_CHARS,
    GATE_OPEN,
    GATE_SHUT,
    INTEGRATOR,
    MIN_CHANGES,
    PROPERTIES,
    TIME_LOCKED,
    UNK,
    GRUTrace,
    LSTMTrace,
    average_keep,
    best_model,
    clearest_and_faintest,
    encode,
    forget_open_claim,
    gate_saturation,
    gate_shares,
    gated_beat_vanilla,
    integrator_cells,
    kept_after,
    mean_keep,
    mean_open_share,
    mean_step_change,
    most_changing,
    probability_of,
    saturated_gate_share,
    scorable_ranking,
    surprise,
    surprise_extremes,
    switch_claim,
    text_properties,
    top_next,
    trace_text,
    uniform_bits,
)
from ui.recurrent import figures as rf
from ui.recurrent.models import char_model
from ui.recurrent.samples import SAMPLE_CODE

KEPT_GATE, KEPT_STEPS = 0.99, 100  # the worked example of how much a near-1 forget gate keeps


CELLS = char_model("lstm")[0].rnn.hidden_size

st.title("LSTM gates on your text")
st.markdown(
    f"A character-level LSTM ({CELLS} cells) trained on the Python standard library's own source "
    "reads your text one character at a time. Below is every gate it opens and closes, its memory, "
    "and what it expects next — computed live from the model's weights."
)


@st.cache_data(max_entries=24, show_spinner="Reading your text…")
def _read(sha: str, name: str, _text: str) -> dict:
    """Return the trace of one model on the text as compact numpy arrays, plus surprise bits."""
    traced = trace_text(char_model(name)[0], _text, max_chars=DEFAULT_MAX_CHARS)
    fields = {k: v.numpy().astype(np.float32) for k, v in traced.trace.as_dict().items()}
    bits = traced.surprise_bits()
    return {
        "fields": fields,
        "probs": traced.probs.numpy().astype(np.float32),
        "bits": bits.astype(np.float32),  # (T-1,): surprise at each next character
        "bpc": float(bits.mean()) if bits.size else None,
        "vocab": traced.vocab.chars,
    }


@st.cache_data(max_entries=24, show_spinner="Ranking units…")
def _analyse(sha: str, name: str, _text: str, _fields: dict) -> dict:
    """Return unit rankings (cell and hidden) with unscorable properties, gate statistics and
    integrator cells."""
    tensors = {k: torch.from_numpy(v) for k, v in _fields.items()}
    trace = (LSTMTrace if name == "lstm" else GRUTrace)(**tensors)
    props = text_properties(_text)
    out = {"saturation": gate_saturation(trace), "integrators": integrator_cells(trace, INTEGRATOR)}
    out["mean_keep"] = mean_keep(trace)
    out["average_keep"] = average_keep(trace)
    out["open_share"] = mean_open_share(out["saturation"])
    if name == "lstm":
        out["shares"] = gate_shares(trace)
        out["switched"] = saturated_gate_share(trace)
        out["rank"] = {s: scorable_ranking(tensors[s], props, top=5) for s in ("cell", "hidden")}
    return out


text = st.text_area(
    "Your text (Python reads best: the model learned from Python source)",
    SAMPLE_CODE,
    height=260,
    key="lstm_text",
    help=f"Up to {DEFAULT_MAX_CHARS:,} characters are traced; longer text is cut with a note.",
)
try:
    card = char_model("lstm")[1]
    encoded = encode(text, char_model("lstm")[0].vocab, DEFAULT_MAX_CHARS)
except ExplorerError as err:
    st.error(str(err))
    st.stop()
except ValueError:  # e.g. a lone surrogate pasted from a broken clipboard
    st.error("The text holds characters that cannot be read; retype or paste it again.")
    st.stop()
if encoded.note:
    st.warning(encoded.note)
if encoded.unknown_count == len(encoded.ids):
    st.warning(
        f"Every character is outside the vocabulary, so the model sees only {UNK} repeated: the "
        "gates below show how it reacts to one unknown symbol, not to your text. Try some code."
    )
body = encoded.text
sha = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
chars = list(encoded.shown)
steps = len(chars)
runs = {name: _read(sha, name, body) for name in ("lstm", "gru", "rnn")}
lstm = runs["lstm"]["fields"]
info = _analyse(sha, "lstm", body, lstm)

m = st.columns(4)
m[0].metric("Characters traced", f"{steps:,}")
bpc = runs["lstm"]["bpc"]
m[1].metric("LSTM bits per character", "—" if bpc is None else f"{bpc:.2f}")
m[2].metric("Held-out bpc (model card)", f"{card['validation']['bpc']:.2f}")
m[3].metric("Unknown characters", f"{encoded.unknown_count:,}")
symbols = len(runs["lstm"]["vocab"])
st.caption(
    "Bits per character: the average of −log₂ P(next character) over your text; lower means the "
    f"text looked more like what the model learned. A uniform guess over the {symbols} symbols "
    f"the model knows costs {uniform_bits(symbols):.1f} bits."
)

st.header("The gates, character by character")
st.markdown(
    "At every step the LSTM computes three gates between 0 and 1 and a candidate between −1 and "
    "1 from the current character $x_t$ and its previous output $h_{t-1}$. The forget gate decides "
    "how much of the old memory $c_{t-1}$ to keep, the input gate how much of the candidate to "
    "write, the output gate how much of the memory to show."
)
st.latex(
    r"\begin{aligned} i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i) & "
    r"f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\ o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o) & "
    r"g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\ c_t &= f_t \odot c_{t-1} + i_t \odot g_t & "
    r"h_t &= o_t \odot \tanh(c_t) \end{aligned}"
)
w1, w2 = st.columns([1, 3])
width = w1.slider("Window (characters)", 20, 300, 120, 10, key="lstm_window")
width = min(width, steps)
start = 0
if steps > width:
    start = w2.slider("Window starts at character", 0, steps - width, 0, key="lstm_start")
else:
    w2.caption(f"The whole text ({steps} characters) fits in the window.")
stop = start + width
window = chars[start:stop]
names = {
    "input gate i_t": "input_gate",
    "forget gate f_t": "forget_gate",
    "output gate o_t": "output_gate",
    "candidate g_t": "candidate",
    "cell state c_t": "cell",
    "hidden state h_t": "hidden",
}
panels = {label: lstm[field][start:stop] for label, field in names.items()}
bounds = dict.fromkeys(list(names)[:3], (0.0, 1.0))
bounds.update({"candidate g_t": (-1.0, 1.0), "hidden state h_t": (-1.0, 1.0)})
st.plotly_chart(rf.state_heatmaps(panels, window, start, bounded=bounds), key="lstm_heat")
share = info["shares"]
switched = info["switched"]
SWITCH_NOTES = {
    "switches": " — more than half sit at an end, so here the gates work more like switches than "
    "dials.",
    "dials": " — most sit in between, so here the gates work more like dials than switches.",
    None: ".",
}
st.markdown(
    f"**What to notice:** over your whole text, {share['forget_open']:.0%} of forget-gate values "
    f"are above {GATE_OPEN:g} (memory kept), {share['input_shut']:.0%} of input-gate values are "
    f"below {GATE_SHUT:g} (nothing written) and {share['candidate_saturated']:.0%} of candidates "
    f"are beyond ±{CANDIDATE_SATURATED:g}. Of all input, forget and output gate values, "
    f"{switched:.0%} are below {GATE_SHUT:g} or above {GATE_OPEN:g}"
    + SWITCH_NOTES[switch_claim(switched)]
    + f" The cell state has no bound: {share['cell_beyond']:.0%} of its values lie beyond "
    f"±{CELL_BOUND:g} (its colours are clipped at the 98th percentile), where $h_t$, within "
    "(−1, 1), can never go."
)

st.subheader("Chosen units over time")
rank = {s: ranked for s, (ranked, _) in info["rank"].items()}
unscored = {s: reasons for s, (_, reasons) in info["rank"].items()}
picks = [p for p in ("inside quotes", "position in line") if p in rank["cell"]]


@st.fragment
def _chosen_units() -> None:
    """Draw the unit picker and the chosen units' traces (a fragment: reruns alone)."""
    units = st.multiselect(
        f"Units (0–{CELLS - 1}); the defaults are the best cells for "
        + (" and ".join(f"'{p}'" for p in picks) if picks else "no property (none scores here)"),
        list(range(lstm["hidden"].shape[1])),
        default=list(dict.fromkeys(rank["cell"][p][0][0] for p in picks)),
        max_selections=6,
        key="lstm_units",
    )
    if units:
        st.plotly_chart(rf.unit_traces(panels, units, window, start), key="lstm_traces")
        st.markdown(
            "**What to notice:** when $f_t$ stays near 1 and $i_t$ near 0 the cell holds its "
            "value (flat $c_t$); a jump in $c_t$ needs both a forget gate dip or an open input "
            "gate *and* a strong candidate. $h_t$ follows $\\tanh(c_t)$ only where the output "
            "gate is open."
        )
    else:
        st.info("Pick at least one unit to draw its gates and states.")


_chosen_units()

st.header("What comes next?")
st.markdown(
    "The hidden state is read out by a linear layer and a softmax into a probability for each of "
    f"the {symbols} symbols: the model's guess of the next character."
)
st.latex(r"P(x_{t+1} = k \mid x_{\le t}) = \operatorname{softmax}(W_y h_t + b_y)_k")


@st.fragment
def _next_character() -> None:
    """Draw the next-character slider, its context and the top-5 bars (a fragment: reruns alone)."""
    pos = 0
    if steps > 1:
        pos = st.slider(
            "After reading character number", 0, steps - 1, min(40, steps - 1), key="lstm_pos"
        )
    probs = runs["lstm"]["probs"][pos]
    vocab = runs["lstm"]["vocab"]
    actual = chars[pos + 1] if pos + 1 < steps else None
    p1, p2 = st.columns([2, 3])
    with p1:
        st.code(body[max(0, pos - 60) : pos + 1] + "▌", language=None)
        if actual is None:
            st.caption("This is the last character: nothing follows to compare with.")
        else:
            p_actual = float(probs[vocab.index(actual)]) if actual in vocab else 0.0
            st.caption(
                f"Actually next: '{rf.char_label(actual)}', given probability {p_actual:.1%} "
                f"({surprise(p_actual):.2f} bits of surprise)."
            )
    p2.plotly_chart(rf.topk_bars(top_next(probs, vocab), actual), key="lstm_topk")


_next_character()


def _prob(bits_: float) -> str:
    """Return the probability of a surprise in bits, as text."""
    p = probability_of(bits_)
    return f"{p:.1%}" if p >= 0.001 else f"{p:.1e}"


bits = runs["lstm"]["bits"]
if bits.size:
    easy, hard, under_one_bit = surprise_extremes(bits)
    st.markdown(
        f"**What to notice:** on your text the model was surest of {rf.char_code(chars[easy + 1])} "
        f"after character {easy} ({bits[easy]:.3f} bits, P = {_prob(bits[easy])}) and "
        f"most surprised by {rf.char_code(chars[hard + 1])} after character {hard} "
        f"({bits[hard]:.1f} bits, P = {_prob(bits[hard])}); set the slider to either to see "
        f"the context. {under_one_bit:.0%} of your characters cost less than one bit."
    )
st.header("Interpretable cells")
st.markdown(
    "Some cells learn to track a property of the text nobody told them about (Karpathy, Johnson & "
    f"Fei-Fei, 2015). We compute {len(PROPERTIES)} simple properties after every character and "
    "rank cells by Pearson correlation $r$ between the property and the cell's activation over "
    "your text."
)
st.latex(
    r"r = \frac{\sum_t (a_t - \bar a)(p_t - \bar p)}{\sqrt{\sum_t (a_t - \bar a)^2}"
    r"\sqrt{\sum_t (p_t - \bar p)^2}}"
)
STATES = {"cell": "cell state c_t", "hidden": "hidden h_t"}


def _row(prop: str, state: str) -> tuple[str, str, str, str]:
    """Return one table row: the best unit, its r and the runners-up, or why none is scored."""
    best = rank[state].get(prop)
    if best is None or not best[0][1]:
        why = unscored[state].get(prop, "no unit varies on this text")
        return prop, "—", "—", f"not scored: {why}"
    return (
        prop,
        str(best[0][0]),
        f"{best[0][1]:+.2f}",
        ", ".join(f"{u} ({r:+.2f})" for u, r in best[1:4]),
    )


def _ranking_table(state: str) -> None:
    """Draw the best unit per property as a table."""
    table = pd.DataFrame(
        [_row(p, state) for p in PROPERTIES], columns=["property", "best unit", "r", "runners-up"]
    )
    widths = {"property": 130, "best unit": 80, "r": 60}  # px: the reasons need the room
    narrow = {name: st.column_config.TextColumn(width=px) for name, px in widths.items()}
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            **narrow,
            "runners-up": st.column_config.TextColumn("runners-up (or why not)", width=560),
        },
    )


def _property_text(prop: str, state: str, is_open: bool) -> None:
    """Draw why a property is not scored, or (open tab only) the text coloured by its best unit."""
    best = rank[state].get(prop)
    if best is None or not best[0][1]:
        why = unscored[state].get(prop)
        st.info(
            f"'{prop}' is not scored: "
            + (f"it {why}" if why else "no unit varies on this text")
            + ". Paste text where it varies on its own."
        )
        return
    if not is_open:  # a closed tab's text map would be sent and drawn unseen
        return
    unit, r = best[0]
    st.plotly_chart(
        rf.text_colored(
            encoded.shown,
            lstm[state][:, unit],
            title=f"unit {unit} ({state}), r = {r:+.2f} with {prop}",
        ),
        key=f"lstm_txt_{prop}",
    )


def _clearest_sentence(state: str) -> None:
    """Write which property the clearest unit matches and which is least clear."""
    extremes = clearest_and_faintest(rank[state])
    if extremes is None:
        return
    (prop_c, unit_c, r_c), faintest = extremes
    least = (
        ""
        if faintest is None
        else f"; the least clear of the {len(rank[state])} scored is '{faintest[0]}' "
        f"(best r = {faintest[2]:+.2f})"
    )
    st.markdown(
        f"On your text the clearest match is unit {unit_c} with '{prop_c}' (r = {r_c:+.2f})"
        f"{least}. A negative r is as good as a positive one: the cell simply runs the other way."
    )


@st.fragment
def _interpretable_cells() -> None:
    """Draw the activation choice, ranking table, property tabs and clearest match (a fragment)."""
    state = st.radio(
        "Activation", list(STATES), horizontal=True, key="lstm_state", format_func=STATES.get
    )
    _ranking_table(state)
    tabs = st.tabs(list(PROPERTIES), key="lstm_prop_tab", on_change="rerun")
    for tab, prop in zip(tabs, PROPERTIES, strict=True):
        with tab:
            _property_text(prop, state, bool(tab.open))
    _clearest_sentence(state)


_interpretable_cells()
st.markdown(
    "**What to notice:** a good quote cell turns one colour the moment a string opens and back "
    "when it closes; a line-position cell fades along each line and resets at ↵. A property is "
    f"not scored when it changes fewer than {MIN_CHANGES} times or moves with time "
    f"(|r| ≥ {TIME_LOCKED:g} with the character's position in the text, as 'position in line' "
    "does on a single line): any cell that slowly drifts would match it. With a few hundred "
    "characters, a high r can still be chance."
)

st.header("Gate saturation and long-term memory")
st.markdown(
    f"A gate at {GATE_SHUT:g} or below is practically shut, at {GATE_OPEN:g} or above practically "
    "open. For each "
    "unit we count the share of steps spent at each end; a unit near the top-left corner is "
    "almost always open, near the bottom-right almost always shut, on the dotted diagonal it "
    "switches between the two and seldom sits in between."
)
st.latex(
    rf"\text{{left}}(u) = \tfrac{{1}}{{T}}\,\#\{{t : g_{{t,u}} < {GATE_SHUT:g}\}},\qquad"
    rf"\text{{right}}(u) = \tfrac{{1}}{{T}}\,\#\{{t : g_{{t,u}} > {GATE_OPEN:g}\}}"
)


def _add_clicked_unit(chart_key: str) -> None:
    """Add the unit of a clicked point or bar to the traced units (the six most recent)."""
    clicked = rf.clicked_indices(st.session_state.get(chart_key), lstm["hidden"].shape[1])
    if clicked:
        chosen = list(st.session_state.get("lstm_units", [])) + clicked
        st.session_state["lstm_units"] = list(dict.fromkeys(reversed(chosen)))[:6][::-1]


st.caption("Click a point or a bar to add that unit to the traces under *Chosen units over time*.")
s1, s2 = st.columns([3, 2])
s1.plotly_chart(
    rf.saturation_scatter(info["saturation"], title="LSTM gates"),
    key="lstm_sat",
    on_select=lambda: _add_clicked_unit("lstm_sat"),
    selection_mode="points",
)
with s2:
    st.plotly_chart(
        rf.sorted_means(
            info["mean_keep"], INTEGRATOR, title="Mean forget gate per cell", y_title="mean f_t"
        ),
        key="lstm_forget_means",
        on_select=lambda: _add_clicked_unit("lstm_forget_means"),
        selection_mode="points",
    )
    ints = info["integrators"]
    st.markdown(
        f"**{len(ints)} long-term integrator{'s' if len(ints) != 1 else ''}** (mean $f_t \\ge$ "
        f"{INTEGRATOR}): "
        + (", ".join(f"unit {u} ({f:.3f})" for u, f in ints[:12]) or "none on this text.")
    )
right = info["open_share"]
FORGET_NOTE = (
    "Here forget gates sit open more often than the other two: where $f_t \\approx 1$ the cell "
    "path $c_t = c_{t-1} + i_t g_t$ only adds, so memory and gradients survive many steps. "
)
st.markdown(
    f"On average a unit's gate sits above {GATE_OPEN:g} for {right['forget']:.0%} of the steps "
    f"(forget), {right['input']:.0%} (input) and {right['output']:.0%} (output). "
    "**What to notice:** "
    + (FORGET_NOTE if forget_open_claim(right) else "")
    + "A cell whose forget gate stays near 1 carries information far: f = "
    f"{KEPT_GATE:g} still keeps {KEPT_GATE:g}^{KEPT_STEPS} "
    f"≈ {kept_after(KEPT_GATE, KEPT_STEPS):.0%} after {KEPT_STEPS} characters."
)

st.header("The same text through a vanilla RNN and a GRU")
st.markdown(
    f"Two cousins with the same {CELLS} units, trained the same way on the same corpus: the "
    "vanilla RNN has no gates at all, the GRU merges forget and input into one update gate $z_t$ "
    "and has no separate cell."
)
st.latex(r"\text{RNN: } h_t = \tanh(W x_t + U h_{t-1} + b)")
st.latex(
    r"\text{GRU: } h_t = (1 - z_t)\odot n_t + z_t \odot h_{t-1},\quad "
    r"n_t = \tanh(W_n x_t + r_t \odot (U_n h_{t-1} + b_n) + b'_n)"
)
c = st.columns(3)
for col, name in zip(c, ("rnn", "gru", "lstm"), strict=True):
    value = runs[name]["bpc"]
    col.metric(f"{name.upper()} bits per character", "—" if value is None else f"{value:.2f}")
gru, rnn = runs["gru"]["fields"], runs["rnn"]["fields"]
held = (
    "(" + ", ".join(f"{n.upper()} {char_model(n)[1]['validation']['bpc']:.2f}" for n in runs) + ")"
)
best = best_model({n: runs[n]["bpc"] for n in runs})
compare = {
    "RNN hidden h_t": rnn["hidden"][start:stop],
    "GRU hidden h_t": gru["hidden"][start:stop],
    "LSTM hidden h_t": lstm["hidden"][start:stop],
    "GRU update gate z_t (1 = keep the old state)": gru["update"][start:stop],
    "LSTM forget gate f_t": lstm["forget_gate"][start:stop],
}
bounds = {k: (0.0, 1.0) if "gate" in k else (-1.0, 1.0) for k in compare}
st.plotly_chart(
    rf.state_heatmaps(compare, window, start, bounded=bounds, row_height=150), key="cmp_heat"
)
gru_info = _analyse(sha, "gru", body, gru)
st.plotly_chart(
    rf.saturation_scatter(gru_info["saturation"], title="GRU gates", height=340), key="gru_sat"
)
keep = (gru_info["average_keep"], info["average_keep"])
moved = ""
if steps > 1:
    moves = {n: mean_step_change(runs[n]["fields"]["hidden"]) for n in runs}
    order = sorted(moves, key=moves.get, reverse=True)
    most = most_changing(moves)
    moved = (
        "from one character to the next a hidden unit moves by "
        + ", ".join(f"{moves[n]:.2f} ({n.upper()})" for n in order)
        + " on average"
        + ("" if most is None else f": the {most.upper()}'s state changes most")
        + (", since without gates every step rewrites it. " if most == "rnn" else ". ")
    )
cards = {n: char_model(n)[1]["validation"]["bpc"] for n in runs}
st.markdown(
    f"**What to notice:** {moved}The GRU's update gate plays the LSTM forget gate's role "
    f"(near 1 = keep): here it averages {keep[0]:.2f}, the forget gate {keep[1]:.2f}. "
    + (
        "On held-out stdlib files the gated models predict better "
        if gated_beat_vanilla(cards)
        else "Bits per character on held-out stdlib files "
    )
    + held
    + ("" if best is None else f"; on your text the best is the {best.upper()}")
    + "."
)
