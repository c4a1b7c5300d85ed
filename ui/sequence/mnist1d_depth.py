"""The MNIST-1D page's last question: how many steps must each model take one after another, and
what does that cost in time? Two page sections (widgets, table, figures, text) drawn in order."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.core import N_, ExplorerError
from engine.sequence import (
    ARCHS,
    CNN_LAYERS_SPEC,
    MAX_DEPTH_LENGTH,
    PLAIN_KERNEL,
    PROPORTIONAL_BAND,
    SEQ_LEN,
    SequentialDepth,
    growth_claim,
    growth_exponent,
    sequential_steps,
)
from ui.chart import chart
from ui.i18n import error_text, t
from ui.links import linked
from ui.sequence import mnist1d_figures as mf
from ui.sequence.mnist1d_runs import arch_name, timings
from ui.tables import table

__all__ = [
    "DEPTH_NAMES",
    "depth_section",
    "depth_table",
    "timing_formats",
    "timing_section",
    "timing_table",
]

DEPTH_NAMES = {  # English names (see depth_name for the shown ones)
    "rnn": "RNN / GRU / LSTM (one step per sample)",
    "cnn": "strided CNN (the one above, made deeper)",
    "cnn_plain": f"CNN, {PLAIN_KERNEL}-wide, stride 1",
    "tcn": "TCN, dilations 1, 2, 4, …",
}


def depth_name(arch: str) -> str:
    """Return the depth table's name of arch in the session's language."""
    if arch == "cnn_plain":
        return t("CNN, {k}-wide, stride 1", k=PLAIN_KERNEL)
    return t(_DEPTH_IDS[arch])


_DEPTH_IDS = {
    "rnn": N_("RNN / GRU / LSTM (one step per sample)"),
    "cnn": N_("strided CNN (the one above, made deeper)"),
    "tcn": N_("TCN, dilations 1, 2, 4, …"),
}
TIMING_LENGTHS = [40, 100, 400, 1000, 2000, 4000, 10000]
TIMING_BATCH, TIMING_REPEAT = 32, 5


@st.cache_data(max_entries=16, show_spinner=False)
def _depths(length: int) -> dict[str, SequentialDepth]:
    return {arch: sequential_steps(arch, length) for arch in DEPTH_NAMES}


def _fields_text(depth: SequentialDepth, shown: int = 6) -> str:
    if not depth.parallel_over_time:
        return t("1, 2, 3, …, {n} (one more sample per step)", n=f"{depth.length:,}")
    fields = [f"{f:,}" for f in depth.fields]
    return ", ".join(fields if len(fields) <= shown else [*fields[:shown], "…", fields[-1]])


def depth_table(depths: dict[str, SequentialDepth]) -> pd.DataFrame:
    """Return one row per model: sequential steps, parallel over time, samples seen per step."""
    return pd.DataFrame(
        {
            t("model"): [depth_name(a) for a in depths],
            t("sequential steps"): [d.steps for d in depths.values()],
            t("each step computes all positions at once"): [
                t("yes") if d.parallel_over_time else t("no") for d in depths.values()
            ],
            t("samples one unit has seen after each step"): [
                _fields_text(d) for d in depths.values()
            ],
        }
    )


def depth_section() -> None:
    """Draw the sequential-depth section: length input, formulas, table, coverage figure, notice."""
    st.subheader(t("Sequential depth: how many steps before a unit has seen everything?"))
    st.markdown(
        t(
            "A recurrent network folds in one sample per step, and step t cannot start before "
            "step t − 1 has finished. A convolution layer computes every position at once; what "
            "has to wait is the next *layer*. So the question is how many layers a unit needs "
            "before its receptive field covers the whole sequence."
        )
    )
    st.latex(
        r"\text{RNN: } h_t = f(h_{t-1}, x_t) \Rightarrow T \text{" + t(" steps") + "}"
        r"\qquad \text{conv: } r_\ell = r_{\ell-1} + (k_\ell - 1)\,d_\ell\,j_{\ell-1},\ "
        r"j_\ell = j_{\ell-1} s_\ell"
    )
    st.caption(
        t(
            "r: samples one unit sees, k: kernel width, d: dilation, s: stride, j: spacing "
            "between neighbouring units measured in input samples."
        )
    )
    length = int(
        linked(st.number_input)(
            t("Sequence length T"),
            1,
            MAX_DEPTH_LENGTH,
            SEQ_LEN,
            key="m1d_T",
            help=t("Any whole number from 1 to {most}.", most=f"{MAX_DEPTH_LENGTH:,}"),
        )
    )
    try:
        depths = _depths(length)
    except ExplorerError as err:
        st.error(error_text(err))
        return
    table(
        depth_table(depths),
        csv_name="sequential-depth",
        formats={t("sequential steps"): "localized"},
    )
    _coverage(depths, length)
    st.markdown(_depth_notice(depths, length))


def _coverage(depths: dict[str, SequentialDepth], length: int) -> None:
    """Draw how much of the sequence one unit of each model has seen after each step."""
    names = {a: depth_name(a) for a in depths}
    chart(
        mf.coverage(
            {names[a]: d.fields for a, d in depths.items()},
            length,
            {names[a]: mf.ARCH_COLORS[a] for a in depths},
            widths={names["cnn"]: 6.0},  # the TCN often takes the very same path
            title=t(
                "How much of a sequence of {length} samples one unit has seen",
                length=f"{length:,}",
            ),
        ),
        key="m1d_coverage",
    )


def _depth_notice(depths: dict[str, SequentialDepth], length: int) -> str:
    """Return the what-to-notice paragraph of the sequential depths."""
    rnn, cnn, plain, tcn = (depths[a] for a in ("rnn", "cnn", "cnn_plain", "tcn"))
    trained = sequential_steps("cnn", SEQ_LEN).layers[len(CNN_LAYERS_SPEC) - 1].field
    return t(
        "**What to notice.** For T = {length} the recurrent models need {rnn} dependent steps; "
        "the strided CNN {cnn}, the dilated TCN {tcn} and a plain {k}-wide CNN {plain} layers. "
        "Strides and dilations double the field per layer, so their depth grows like log₂ T; an "
        "RNN's grows like T. The CNN trained above stops after {layers} conv layers, whose units "
        "see {trained} of the {samples} samples; its linear readout then combines all positions "
        "in one more step.",
        length=f"{length:,}",
        rnn=f"{rnn.steps:,}",
        cnn=cnn.steps,
        tcn=tcn.steps,
        k=PLAIN_KERNEL,
        plain=f"{plain.steps:,}",
        layers=len(CNN_LAYERS_SPEC),
        trained=trained,
        samples=SEQ_LEN,
    )


def timing_section() -> None:
    """Draw the measured time per batch against sequence length, with the ratios explained."""
    st.subheader(t("What that costs: time per batch as sequences grow"))
    st.markdown(
        t(
            "Each model is rebuilt for sequences of T samples (its readout grows with T) and one "
            "forward pass of a batch of {batch} random sequences is timed (median of {repeat} "
            "after a warm-up, one CPU thread, no gradients). A measurement taken while no "
            "training runs on this server is kept for everyone.",
            batch=TIMING_BATCH,
            repeat=TIMING_REPEAT,
        )
    )
    chosen, lengths = _timing_choices()
    if not chosen or not lengths:
        st.info(t("Choose at least one model and one sequence length to time."))
        return
    measured = _measure(chosen, lengths)
    if measured is None:
        return
    chart(
        mf.time_per_batch(
            {arch_name(a): (m["lengths"], m["seconds"]) for a, m in measured.items()},
            {arch_name(a): mf.ARCH_COLORS[a] for a in measured},
            batch=TIMING_BATCH,
            title=t("Forward time per batch against sequence length"),
        ),
        key="m1d_timing",
    )
    base = "cnn" if "cnn" in measured else chosen[0]
    table(
        timing_table(measured, lengths, base),
        csv_name="time-per-batch",
        formats=timing_formats(measured, base),
    )
    st.markdown(_timing_notice(measured, lengths, base))


def _timing_choices() -> tuple[list[str], list[int]]:
    """Draw the model and length pickers; return the chosen archs and the lengths, sorted."""
    c1, c2 = st.columns(2)
    chosen = linked(c1.multiselect)(
        t("Models"), ARCHS, ["cnn", "gru"], format_func=arch_name, key="m1d_time_archs"
    )
    lengths = linked(c2.multiselect)(
        t("Sequence lengths T"),
        TIMING_LENGTHS,
        [40, 100, 400, 1000, 4000],
        key="m1d_time_lengths",
        format_func=lambda n: f"{n:,}",
    )
    return chosen, sorted(lengths)


def _measure(chosen: list[str], lengths: list[int]) -> dict[str, dict] | None:
    """Return {arch: time_per_batch result}, or None after saying why there is nothing to show."""
    fresh = st.button(t("Measure again"), key="m1d_time_again", icon=":material/refresh:")
    try:
        with st.spinner(t("Timing forward passes on one thread…")):
            pairs = {
                a: timings(a, tuple(lengths), TIMING_BATCH, TIMING_REPEAT, fresh=fresh)
                for a in chosen
            }
    except ExplorerError as err:
        st.error(error_text(err))
        return None
    if any(m is None for m, _ in pairs.values()):
        st.info(
            t(
                "A training run is using this server's CPU; timing beside it would mostly time "
                "the run. The measurement waits until it has finished: come back or press "
                "**Measure again** then."
            )
        )
        return None
    if not all(quiet for _, quiet in pairs.values()):
        st.warning(
            t(
                "A training run started while these were measured, so they may be noisy and are "
                "not kept; press **Measure again** once it has finished."
            )
        )
    return {a: m for a, (m, _) in pairs.items()}


def timing_table(measured: dict[str, dict], lengths: list[int], base: str) -> pd.DataFrame:
    """Return one row per T: each model's milliseconds, then each other model ÷ base."""
    columns = {"T": lengths}
    for a, m in measured.items():
        columns[_ms_column(a)] = [1000 * s for s in m["seconds"]]
    for a, m in measured.items():
        if a != base:
            columns[_ratio_column(a, base)] = [
                s / b for s, b in zip(m["seconds"], measured[base]["seconds"], strict=True)
            ]
    return pd.DataFrame(columns)


def timing_formats(measured: dict[str, dict], base: str) -> dict[str, str]:
    """Return how timing_table's columns are shown: ms to 0.001, ratios to 0.1."""
    ms = dict.fromkeys(map(_ms_column, measured), "%.3f")
    return {"T": "localized"} | ms | {_ratio_column(a, base): "%.1f" for a in measured if a != base}


def _ms_column(arch: str) -> str:
    return t("{model} (ms)", model=arch_name(arch))


def _ratio_column(arch: str, base: str) -> str:
    return f"{arch_name(arch)} ÷ {arch_name(base)}"


GROWTH_TEXT = {  # the fitted exponent's claim → its sentence about one model
    "slower": N_("the {model}'s time grew more slowly than T (∝ T^{exponent})"),
    "proportional": N_("the {model}'s time grew about in proportion to T (∝ T^{exponent})"),
    "faster": N_("the {model}'s time grew faster than T (∝ T^{exponent})"),
}


def _growth_text(measured: dict[str, dict]) -> str:
    """Return how each model's measured time grew with T, from its fitted exponent."""
    parts = []
    for a, m in measured.items():
        exponent = growth_exponent(m["lengths"], m["seconds"])
        if exponent is not None:
            shown = round(exponent, 2)  # the claim follows the printed number, also at a boundary
            template = GROWTH_TEXT[growth_claim(shown)]
            parts.append(t(template, model=arch_name(a), exponent=f"{shown:.2f}"))
    if not parts:
        return ""
    return t(
        "Fitted on a log-log scale, {parts}. An exponent within 1 ± {band} counts as in "
        "proportion. ",
        parts=t("; ").join(parts),
        band=f"{PROPORTIONAL_BAND:g}",
    )


def _timing_note(a: str, m: dict, measured: dict[str, dict], lengths: list[int], base: str) -> str:
    """Return one model's growth over the lengths (and its ratio to base's time, if not base)."""
    growth = f"{m['seconds'][-1] / m['seconds'][0]:.1f}"
    if a == base:
        return t("{model} {growth}×", model=arch_name(a), growth=growth)
    return t(
        "{model} {growth}× (and {first}× the {base}'s time at T = {short}, {last}× at T = {long})",
        model=arch_name(a),
        growth=growth,
        first=f"{m['seconds'][0] / measured[base]['seconds'][0]:.1f}",
        base=arch_name(base),
        short=f"{lengths[0]:,}",
        last=f"{m['seconds'][-1] / measured[base]['seconds'][-1]:.1f}",
        long=f"{lengths[-1]:,}",
    )


def _timing_notice(measured: dict[str, dict], lengths: list[int], base: str) -> str:
    """Return the what-to-notice paragraph: each model's growth and its ratio to base."""
    notes = [_timing_note(a, m, measured, lengths, base) for a, m in measured.items()]
    return t(
        "**What to notice.** From T = {short} to T = {long} ({times}× longer) the time per batch "
        "changes: {notes}. {growth}The difference is how the work is organised: a conv layer is "
        "a few large operations over every position at once, which vectorise well and could be "
        "spread over as many cores as there are positions; a recurrent layer is T small matrix "
        "products that must run one after another. Hardware that runs thousands of operations at "
        "once (a GPU) can give a conv layer all of them, while the RNN still cannot start step t "
        "before step t − 1.",
        short=f"{lengths[0]:,}",
        long=f"{lengths[-1]:,}",
        times=f"{lengths[-1] / lengths[0]:.0f}",
        notes=t("; ").join(notes),
        growth=_growth_text(measured),
    )
