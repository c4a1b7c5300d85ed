"""RNN · LSTM gates on your text: every gate and state of a trained character LSTM, char by char."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine.core import N_, ExplorerError
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
from ui.chart import chart
from ui.i18n import error_text, t, tn
from ui.links import keep_text, linked, linked_text, text_note
from ui.plain_code import plain_code
from ui.recurrent import figures as rf
from ui.recurrent.models import char_model
from ui.recurrent.reasons import input_note, unscored_text
from ui.recurrent.samples import SAMPLE_CODE
from ui.sections import lazy_section
from ui.tables import table

KEPT_GATE, KEPT_STEPS = 0.99, 100  # the worked example of how much a near-1 forget gate keeps


CELLS = char_model("lstm")[0].rnn.hidden_size

st.title(t("LSTM gates on your text"))
st.markdown(
    t(
        "A character-level LSTM ({cells} cells) trained on the Python standard library's own "
        "source reads your text one character at a time. Below is every gate it opens and closes, "
        "its memory, and what it expects next — computed live from the model's weights.",
        cells=CELLS,
    )
)


@st.cache_data(max_entries=24, show_spinner=False)
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


@st.cache_data(max_entries=24, show_spinner=False)
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


linked_text("lstm_text", SAMPLE_CODE)
text = st.text_area(
    t("Your text (Python reads best: the model learned from Python source)"),
    height=260,
    key="lstm_text",
    help=t(
        "Up to {n} characters are traced; longer text is cut with a note.",
        n=f"{DEFAULT_MAX_CHARS:,}",
    ),
)
st.caption(text_note())
keep_text("lstm_text", text, SAMPLE_CODE)
try:
    card = char_model("lstm")[1]
    encoded = encode(text, char_model("lstm")[0].vocab, DEFAULT_MAX_CHARS)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
except ValueError:  # e.g. a lone surrogate pasted from a broken clipboard
    st.error(t("The text holds characters that cannot be read; retype or paste it again."))
    st.stop()
if encoded.note:
    st.warning(input_note(encoded))
if encoded.unknown_count == len(encoded.ids):
    st.warning(
        t(
            "Every character is outside the vocabulary, so the model sees only {unk} repeated: "
            "the gates below show how it reacts to one unknown symbol, not to your text. Try some "
            "code.",
            unk=UNK,
        )
    )
elif not encoded.unknown_count:
    st.caption(
        t(
            "Every character of your text is in the model's vocabulary: none is read as the "
            "unknown symbol {unk}.",
            unk=UNK,
        )
    )
body = encoded.text
sha = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
chars = list(encoded.shown)
steps = len(chars)
with st.spinner(t("Reading your text…")):  # cached functions' own spinners cannot translate
    runs = {"lstm": _read(sha, "lstm", body)}  # the RNN and GRU join when their section opens
lstm = runs["lstm"]["fields"]
with st.spinner(t("Ranking units…")):
    info = _analyse(sha, "lstm", body, lstm)

m = st.columns(4)
m[0].metric(t("Characters traced"), f"{steps:,}")
bpc = runs["lstm"]["bpc"]
m[1].metric(t("LSTM bits per character"), "—" if bpc is None else f"{bpc:.2f}")
m[2].metric(t("Held-out bpc (model card)"), f"{card['validation']['bpc']:.2f}")
m[3].metric(t("Unknown characters"), f"{encoded.unknown_count:,}")
symbols = len(runs["lstm"]["vocab"])
st.caption(
    t(
        "Bits per character: the average of −log₂ P(next character) over your text; lower means "
        "the text looked more like what the model learned. A uniform guess over the {symbols} "
        "symbols the model knows costs {bits} bits.",
        symbols=symbols,
        bits=f"{uniform_bits(symbols):.1f}",
    )
)

st.header(t("The gates, character by character"))
st.markdown(
    t(
        "At every step the LSTM computes three gates between 0 and 1 and a candidate between −1 "
        "and 1 from the current character $x_t$ and its previous output $h_{t-1}$. The forget "
        "gate decides how much of the old memory $c_{t-1}$ to keep, the input gate how much of "
        "the candidate to write, the output gate how much of the memory to show."
    )
)
st.latex(
    r"\begin{aligned} i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i) & "
    r"f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\ o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o) & "
    r"g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\ c_t &= f_t \odot c_{t-1} + i_t \odot g_t & "
    r"h_t &= o_t \odot \tanh(c_t) \end{aligned}"
)


def _window(width_key: str, start_key: str) -> tuple[int, int]:
    """Draw the window's width and start sliders; return (start, stop) within the text."""
    w1, w2 = st.columns([1, 3])
    width = min(linked(w1.slider)(t("Window (characters)"), 20, 300, 120, 10, key=width_key), steps)
    start = 0
    if steps > width:
        start = linked(w2.slider)(
            t("Window starts at character"), 0, steps - width, 0, key=start_key
        )
    else:
        w2.caption(t("The whole text ({steps} characters) fits in the window.", steps=steps))
    return start, start + width


NAMES = {
    t("input gate i_t"): "input_gate",
    t("forget gate f_t"): "forget_gate",
    t("output gate o_t"): "output_gate",
    t("candidate g_t"): "candidate",
    t("cell state c_t"): "cell",
    t("hidden state h_t"): "hidden",
}
RANGES = {"candidate": (-1.0, 1.0), "hidden": (-1.0, 1.0), "cell": None}  # gates: (0, 1)


@st.fragment
def _gates_over_time() -> None:
    """Draw the window sliders, the six heatmaps and the chosen units (a fragment: moving the
    window reruns this section alone)."""
    start, stop = _window("lstm_window", "lstm_start")
    window = chars[start:stop]
    panels = {label: lstm[field][start:stop] for label, field in NAMES.items()}
    bounds = {label: RANGES.get(field, (0.0, 1.0)) for label, field in NAMES.items()}
    bounds = {label: span for label, span in bounds.items() if span is not None}
    chart(rf.state_heatmaps(panels, window, start, bounded=bounds), key="lstm_heat")
    _gates_notice()
    st.subheader(t("Chosen units over time"))
    _chosen_units(panels, window, start)


SWITCH_NOTES = {
    "switches": t(
        " — more than half sit at an end, so here the gates work more like switches than dials."
    ),
    "dials": t(" — most sit in between, so here the gates work more like dials than switches."),
    None: t("."),
}


def _gates_notice() -> None:
    """Draw what to notice in the gates over the whole text (the window does not change it)."""
    share, switched = info["shares"], info["switched"]
    st.markdown(
        t(
            "**What to notice:** over your whole text, {forget_open} of forget-gate values are "
            "above {open} (memory kept), {input_shut} of input-gate values are below {shut} "
            "(nothing written) and {candidates} of candidates are beyond ±{saturated}. Of all "
            "input, forget and output gate values, {switched} are below {shut} or above "
            "{open}{switch_note} The cell state has no bound: {cell_beyond} of its values lie "
            "beyond ±{cell_bound} (its colours are clipped at the 98th percentile), where $h_t$, "
            "within (−1, 1), can never go.",
            forget_open=f"{share['forget_open']:.0%}",
            open=f"{GATE_OPEN:g}",
            input_shut=f"{share['input_shut']:.0%}",
            shut=f"{GATE_SHUT:g}",
            candidates=f"{share['candidate_saturated']:.0%}",
            saturated=f"{CANDIDATE_SATURATED:g}",
            switched=f"{switched:.0%}",
            switch_note=SWITCH_NOTES[switch_claim(switched)],
            cell_beyond=f"{share['cell_beyond']:.0%}",
            cell_bound=f"{CELL_BOUND:g}",
        )
    )


rank = {s: ranked for s, (ranked, _) in info["rank"].items()}
unscored = {s: reasons for s, (_, reasons) in info["rank"].items()}
picks = [p for p in ("inside quotes", "position in line") if p in rank["cell"]]


def _units_label() -> str:
    """Return the unit picker's label, naming the properties whose best cells are the defaults."""
    if not picks:
        return t(
            "Units (0–{last}); the defaults are the best cells for no property (none scores here)",
            last=CELLS - 1,
        )
    if len(picks) == 1:
        return t(
            "Units (0–{last}); the defaults are the best cells for '{a}'",
            last=CELLS - 1,
            a=t(picks[0]),
        )
    return t(
        "Units (0–{last}); the defaults are the best cells for '{a}' and '{b}'",
        last=CELLS - 1,
        a=t(picks[0]),
        b=t(picks[1]),
    )


@st.fragment
def _chosen_units(panels: dict, window: list[str], start: int) -> None:
    """Draw the unit picker and the chosen units' traces (a fragment: reruns alone)."""
    units = linked(st.multiselect)(
        _units_label(),
        list(range(lstm["hidden"].shape[1])),
        default=list(dict.fromkeys(rank["cell"][p][0][0] for p in picks)),
        max_selections=6,
        key="lstm_units",
    )
    if units:
        chart(rf.unit_traces(panels, units, window, start), key="lstm_traces")
        st.markdown(
            t(
                "**What to notice:** when $f_t$ stays near 1 and $i_t$ near 0 the cell holds its "
                "value (flat $c_t$); a jump in $c_t$ needs both a forget gate dip or an open input "
                "gate *and* a strong candidate. $h_t$ follows $\\tanh(c_t)$ only where the output "
                "gate is open."
            )
        )
    else:
        st.info(t("Pick at least one unit to draw its gates and states."))


_gates_over_time()

st.header(t("What comes next?"))
st.markdown(
    t(
        "The hidden state is read out by a linear layer and a softmax into a probability for each "
        "of the {symbols} symbols: the model's guess of the next character.",
        symbols=symbols,
    )
)
st.latex(r"P(x_{t+1} = k \mid x_{\le t}) = \operatorname{softmax}(W_y h_t + b_y)_k")


@st.fragment
def _next_character() -> None:
    """Draw the next-character slider, its context and the top-5 bars (a fragment: reruns alone)."""
    pos = 0
    if steps > 1:
        pos = linked(st.slider)(
            t("After reading character number"), 0, steps - 1, min(40, steps - 1), key="lstm_pos"
        )
    probs = runs["lstm"]["probs"][pos]
    vocab = runs["lstm"]["vocab"]
    actual = chars[pos + 1] if pos + 1 < steps else None
    p1, p2 = st.columns([2, 3])
    with p1:
        plain_code(body[max(0, pos - 60) : pos + 1] + "▌")
        if actual is None:
            st.caption(t("This is the last character: nothing follows to compare with."))
        else:
            p_actual = float(probs[vocab.index(actual)]) if actual in vocab else 0.0
            st.caption(
                t(
                    "Actually next: '{char}', given probability {p} ({bits} bits of surprise).",
                    char=rf.char_label(actual),
                    p=f"{p_actual:.1%}",
                    bits=f"{surprise(p_actual):.2f}",
                )
            )
    chart(rf.topk_bars(top_next(probs, vocab), actual), key="lstm_topk", where=p2)


_next_character()


def _prob(bits_: float) -> str:
    """Return the probability of a surprise in bits, as text."""
    p = probability_of(bits_)
    return f"{p:.1%}" if p >= 0.001 else f"{p:.1e}"


bits = runs["lstm"]["bits"]
if bits.size:
    easy, hard, under_one_bit = surprise_extremes(bits)
    st.markdown(
        t(
            "**What to notice:** on your text the model was surest of {easy_char} after character "
            "{easy} ({easy_bits} bits, P = {easy_p}) and most surprised by {hard_char} after "
            "character {hard} ({hard_bits} bits, P = {hard_p}); set the slider to either to see "
            "the context. {cheap} of your characters cost less than one bit.",
            easy_char=rf.char_code(chars[easy + 1]),
            easy=easy,
            easy_bits=f"{bits[easy]:.3f}",
            easy_p=_prob(bits[easy]),
            hard_char=rf.char_code(chars[hard + 1]),
            hard=hard,
            hard_bits=f"{bits[hard]:.1f}",
            hard_p=_prob(bits[hard]),
            cheap=f"{under_one_bit:.0%}",
        )
    )
st.header(t("Interpretable cells"))
st.markdown(
    t(
        "Some cells learn to track a property of the text nobody told them about (Karpathy, "
        "Johnson & Fei-Fei, 2015). We compute {n} simple properties after every character and "
        "rank cells by Pearson correlation $r$ between the property and the cell's activation "
        "over your text.",
        n=len(PROPERTIES),
    )
)
st.latex(
    r"r = \frac{\sum_t (a_t - \bar a)(p_t - \bar p)}{\sqrt{\sum_t (a_t - \bar a)^2}"
    r"\sqrt{\sum_t (p_t - \bar p)^2}}"
)
STATES = {"cell": N_("cell state c_t"), "hidden": N_("hidden h_t")}
STATE_WORDS = {"cell": N_("cell"), "hidden": N_("hidden")}  # in a figure title


def _row(prop: str, state: str) -> tuple[str, str, str, str]:
    """Return one table row: the best unit, its r and the runners-up, or why none is scored."""
    best = rank[state].get(prop)
    if best is None or not best[0][1]:
        why = unscored[state].get(prop)
        why = unscored_text(why) if why else t("no unit varies on this text")
        return t(prop), "—", "—", t("not scored: {why}", why=why)
    return (
        t(prop),
        str(best[0][0]),
        f"{best[0][1]:+.2f}",
        ", ".join(f"{u} ({r:+.2f})" for u, r in best[1:4]),
    )


def _ranking_table(state: str) -> None:
    """Draw the best unit per property as a table."""
    columns = [t("property"), t("best unit"), "r", t("runners-up (or why not)")]
    table(
        pd.DataFrame([_row(p, state) for p in PROPERTIES], columns=columns),
        csv_name=f"best-unit-per-property-{state}",
    )


def _property_text(prop: str, state: str, is_open: bool) -> None:
    """Draw why a property is not scored, or (open tab only) the text coloured by its best unit."""
    best = rank[state].get(prop)
    if best is None or not best[0][1]:
        why = unscored[state].get(prop)
        st.info(
            t(
                "'{prop}' is not scored: it {why}. Paste text where it varies on its own.",
                prop=t(prop),
                why=unscored_text(why),
            )
            if why
            else t(
                "'{prop}' is not scored: no unit varies on this text. Paste text where it varies "
                "on its own.",
                prop=t(prop),
            )
        )
        return
    if not is_open:  # a closed tab's text map would be sent and drawn unseen
        return
    unit, r = best[0]
    chart(
        rf.text_colored(
            encoded.shown,
            lstm[state][:, unit],
            title=t(
                "unit {unit} ({state}), r = {r} with {prop}",
                unit=unit,
                state=t(STATE_WORDS[state]),
                r=f"{r:+.2f}",
                prop=t(prop),
            ),
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
        else t(
            "; the least clear of the {n} scored is '{prop}' (best r = {r})",
            n=len(rank[state]),
            prop=t(faintest[0]),
            r=f"{faintest[2]:+.2f}",
        )
    )
    st.markdown(
        t(
            "On your text the clearest match is unit {unit} with '{prop}' (r = {r}){least}. A "
            "negative r is as good as a positive one: the cell simply runs the other way.",
            unit=unit_c,
            prop=t(prop_c),
            r=f"{r_c:+.2f}",
            least=least,
        )
    )


@st.fragment
def _interpretable_cells() -> None:
    """Draw the activation choice, ranking table, property tabs and clearest match (a fragment)."""
    state = linked(st.radio)(
        t("Activation"),
        list(STATES),
        horizontal=True,
        key="lstm_state",
        format_func=lambda s: t(STATES[s]),
    )
    _ranking_table(state)
    tabs = st.tabs([t(p) for p in PROPERTIES], key="lstm_prop_tab", on_change="rerun")
    for tab, prop in zip(tabs, PROPERTIES, strict=True):
        with tab:
            _property_text(prop, state, bool(tab.open))
    _clearest_sentence(state)


_interpretable_cells()
st.markdown(
    t(
        "**What to notice:** a good quote cell turns one colour the moment a string opens and back "
        "when it closes; a line-position cell fades along each line and resets at ↵. A property "
        "is not scored when it changes fewer than {min_changes} times or moves with time (|r| ≥ "
        "{locked} with the character's position in the text, as '{in_line}' does on a single "
        "line): any cell that slowly drifts would match it. With a few hundred characters, a high "
        "r can still be chance.",
        min_changes=MIN_CHANGES,
        locked=f"{TIME_LOCKED:g}",
        in_line=t("position in line"),
    )
)

st.header(t("Gate saturation and long-term memory"))
st.markdown(
    t(
        "A gate at {shut} or below is practically shut, at {open} or above practically open. For "
        "each unit we count the share of steps spent at each end; a unit near the top-left corner "
        "is almost always open, near the bottom-right almost always shut, on the dotted diagonal "
        "it switches between the two and seldom sits in between.",
        shut=f"{GATE_SHUT:g}",
        open=f"{GATE_OPEN:g}",
    )
)
LEFT, RIGHT = t("left"), t("right")  # i18n: the two ends of a gate's range, in a formula
st.latex(
    rf"\text{{{LEFT}}}(u) = \tfrac{{1}}{{T}}\,\#\{{t : g_{{t,u}} < {GATE_SHUT:g}\}},\qquad"
    rf"\text{{{RIGHT}}}(u) = \tfrac{{1}}{{T}}\,\#\{{t : g_{{t,u}} > {GATE_OPEN:g}\}}"
)


def _add_clicked_unit(point: dict) -> None:
    """Add the unit of a clicked point or bar to the traced units (the six most recent)."""
    clicked = rf.clicked_index(point, lstm["hidden"].shape[1])
    if clicked is not None:
        chosen = list(st.session_state.get("lstm_units", [])) + [clicked]
        st.session_state["lstm_units"] = list(dict.fromkeys(reversed(chosen)))[:6][::-1]


st.caption(
    t("Click a point or a bar to add that unit to the traces under *Chosen units over time*.")
)
s1, s2 = st.columns([3, 2])
chart(
    rf.saturation_scatter(info["saturation"], title=t("LSTM gates")),
    key="lstm_sat",
    on_click=_add_clicked_unit,
    where=s1,
)
with s2:
    chart(
        rf.sorted_means(
            info["mean_keep"],
            INTEGRATOR,
            title=t("Mean forget gate per cell"),
            y_title=t("mean f_t"),
        ),
        key="lstm_forget_means",
        on_click=_add_clicked_unit,
    )
    ints = info["integrators"]
    listed = [t("unit {u} ({f})", u=u, f=f"{f:.3f}") for u, f in ints[:12]]
    st.markdown(
        tn(
            "**{n} long-term integrator** (mean $f_t \\ge$ {threshold}): {units}",
            "**{n} long-term integrators** (mean $f_t \\ge$ {threshold}): {units}",
            len(ints),
            threshold=INTEGRATOR,
            units=", ".join(listed) or t("none on this text."),
        )
    )
right = info["open_share"]
FORGET_NOTE = t(
    "Here forget gates sit open more often than the other two: where $f_t \\approx 1$ the cell "
    "path $c_t = c_{t-1} + i_t g_t$ only adds, so memory and gradients survive many steps. "
)
st.markdown(
    t(
        "On average a unit's gate sits above {open} for {forget} of the steps (forget), {input} "
        "(input) and {output} (output). **What to notice:** {forget_note}A cell whose forget gate "
        "stays near 1 carries information far: f = {gate} still keeps {gate}^{steps} ≈ {kept} "
        "after {steps} characters.",
        open=f"{GATE_OPEN:g}",
        forget=f"{right['forget']:.0%}",
        input=f"{right['input']:.0%}",
        output=f"{right['output']:.0%}",
        forget_note=FORGET_NOTE if forget_open_claim(right) else "",
        gate=f"{KEPT_GATE:g}",
        steps=KEPT_STEPS,
        kept=f"{kept_after(KEPT_GATE, KEPT_STEPS):.0%}",
    )
)

st.header(t("The same text through a vanilla RNN and a GRU"))
st.markdown(
    t(
        "Two cousins with the same {cells} units, trained the same way on the same corpus: the "
        "vanilla RNN has no gates at all, the GRU merges forget and input into one update gate "
        "$z_t$ and has no separate cell.",
        cells=CELLS,
    )
)
st.latex(r"\text{RNN: } h_t = \tanh(W x_t + U h_{t-1} + b)")
st.latex(
    r"\text{GRU: } h_t = (1 - z_t)\odot n_t + z_t \odot h_{t-1},\quad "
    r"n_t = \tanh(W_n x_t + r_t \odot (U_n h_{t-1} + b_n) + b'_n)"
)


def _read_all() -> dict:
    """Return the three models' traces of the text (the LSTM's read above, the others now)."""
    with st.spinner(t("Reading your text…")):
        return {"rnn": _read(sha, "rnn", body), "gru": _read(sha, "gru", body), **runs}


def _bpc_metrics(all_runs: dict) -> None:
    """Draw each model's bits per character on the text."""
    for col, name in zip(st.columns(3), ("rnn", "gru", "lstm"), strict=True):
        value = all_runs[name]["bpc"]
        col.metric(
            t("{model} bits per character", model=name.upper()),
            "—" if value is None else f"{value:.2f}",
        )


def _compared_fields(all_runs: dict) -> dict:
    """Return the comparison's panels: label → (values over the whole text, colour range)."""
    gru, rnn = all_runs["gru"]["fields"], all_runs["rnn"]["fields"]
    return {
        t("RNN hidden h_t"): (rnn["hidden"], (-1.0, 1.0)),
        t("GRU hidden h_t"): (gru["hidden"], (-1.0, 1.0)),
        t("LSTM hidden h_t"): (lstm["hidden"], (-1.0, 1.0)),
        t("GRU update gate z_t (1 = keep the old state)"): (gru["update"], (0.0, 1.0)),
        t("LSTM forget gate f_t"): (lstm["forget_gate"], (0.0, 1.0)),
    }


@st.fragment
def _compared_over_time(compare: dict) -> None:
    """Draw this section's own window sliders and the three models' states over that window (a
    fragment: moving the window reruns this chart alone)."""
    start, stop = _window("lstm_cmp_window", "lstm_cmp_start")
    chart(
        rf.state_heatmaps(
            {k: v[start:stop] for k, (v, _) in compare.items()},
            chars[start:stop],
            start,
            bounded={k: span for k, (_, span) in compare.items()},
            row_height=150,
        ),
        key="cmp_heat",
    )


def _moved_note(all_runs: dict) -> str:
    """Return how far a hidden unit moves per character in each model, and which moves most."""
    if steps <= 1:
        return ""
    moves = {n: mean_step_change(all_runs[n]["fields"]["hidden"]) for n in all_runs}
    order = sorted(moves, key=moves.get, reverse=True)
    most = most_changing(moves)
    shown = ", ".join(f"{moves[n]:.2f} ({n.upper()})" for n in order)
    if most is None:
        return t(
            "from one character to the next a hidden unit moves by {moves} on average. ",
            moves=shown,
        )
    if most == "rnn":
        return t(
            "from one character to the next a hidden unit moves by {moves} on average: the "
            "{model}'s state changes most, since without gates every step rewrites it. ",
            moves=shown,
            model=most.upper(),
        )
    return t(
        "from one character to the next a hidden unit moves by {moves} on average: the "
        "{model}'s state changes most. ",
        moves=shown,
        model=most.upper(),
    )


def _held_note(all_runs: dict) -> str:
    """Return the held-out bits per character of the three models, and the best on this text."""
    cards = {n: char_model(n)[1]["validation"]["bpc"] for n in all_runs}
    held = "(" + ", ".join(f"{n.upper()} {bpc:.2f}" for n, bpc in cards.items()) + ")"
    best = best_model({n: all_runs[n]["bpc"] for n in all_runs})
    gated = gated_beat_vanilla(cards)
    if best is None:
        return (
            t("On held-out stdlib files the gated models predict better {held}.", held=held)
            if gated
            else t("Bits per character on held-out stdlib files {held}.", held=held)
        )
    if gated:
        return t(
            "On held-out stdlib files the gated models predict better {held}; on your text the "
            "best is the {best}.",
            held=held,
            best=best.upper(),
        )
    return t(
        "Bits per character on held-out stdlib files {held}; on your text the best is the {best}.",
        held=held,
        best=best.upper(),
    )


def _comparison_section() -> None:
    """Draw the three models' bits per character, their states over a window, the GRU's gates
    and what to notice."""
    all_runs = _read_all()
    _bpc_metrics(all_runs)
    _compared_over_time(_compared_fields(all_runs))
    with st.spinner(t("Ranking units…")):
        gru_info = _analyse(sha, "gru", body, all_runs["gru"]["fields"])
    chart(
        rf.saturation_scatter(gru_info["saturation"], title=t("GRU gates"), height=340),
        key="gru_sat",
    )
    st.markdown(
        t(
            "**What to notice:** {moved}The GRU's update gate plays the LSTM forget gate's role "
            "(near 1 = keep): here it averages {gru}, the forget gate {lstm}. {held}",
            moved=_moved_note(all_runs),
            gru=f"{gru_info['average_keep']:.2f}",
            lstm=f"{info['average_keep']:.2f}",
            held=_held_note(all_runs),
        )
    )


lazy_section(
    t("The three models side by side on your text (charts, your text)"),
    "open_lstm_compare",
    _comparison_section,
)
