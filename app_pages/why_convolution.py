"""CNN · Why convolution: sparse interactions and parameter sharing, counted and timed."""

import threading

import numpy as np
import streamlit as st

from engine import conv as lc
from engine.conv import (
    NOT_BUILT_NOTE,
    WEIGHT_BUDGET,
    TimingRow,
    affected_outputs_1d,
    growth_exponent,
    influence_1d,
    time_layers,
)
from engine.core import ExplorerError
from ui import diagrams, figures
from ui.chart import chart
from ui.i18n import error_text, t
from ui.inputs import samples
from ui.links import linked
from ui.tables import table

st.title(t("Why convolution: sparse interactions and shared weights"))
st.markdown(
    t(
        "A convolutional layer differs from a dense one in two ways. Each output reads only a few "
        "neighbouring inputs (**sparse interactions**), and every position reuses the same few "
        "weights (**parameter sharing**). Both cut the number of weights and the work; sharing is "
        "also what makes the layer find the same pattern anywhere."
    )
)

st.subheader(t("The arithmetic"))
a, b, c = st.columns(3)
m = linked(a.number_input)(t("Inputs m"), 1, 10_000_000, 1000, key="why_m")
n = linked(b.number_input)(t("Outputs n"), 1, 10_000_000, 1000, key="why_n")
k = linked(c.number_input)(t("Connections per output k"), 1, 10_000, 3, key="why_k")
try:
    rows = [lc.dense(m, n), lc.sparse_1d(m, n, k), lc.shared_1d(m, n, k)]
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
WEIGHTS, MACS = t("weights"), t("multiply-adds per pass")
table(
    {
        t("layer"): [
            t("dense (every output reads every input)"),
            t("sparse (k inputs per output)"),
            t("sparse + shared (convolution)"),
        ],
        WEIGHTS: [r.weights for r in rows],
        MACS: [r.macs for r in rows],
        t("runtime"): ["O(m × n)", "O(k × n)", "O(k × n)"],
    },
    csv_name="layer-costs",
    formats={WEIGHTS: "localized", MACS: "localized"},
)


def _tex(number: int) -> str:
    return f"{number:,}".replace(",", "{,}")  # thousands separators that LaTeX keeps tight


st.latex(
    rf"m\,n = {_tex(m)}\cdot{_tex(n)} = {_tex(rows[0].weights)} \qquad "
    rf"k\,n = {_tex(rows[1].weights)} \qquad k = {k}"
)
st.caption(
    t(
        "Sharing saves memory, not time: the sparse layer and the convolution do the same "
        "number of multiply-adds; only the number of distinct weights drops to k."
    )
)

st.markdown(t("**On an image.** One output unit of each kind of layer looking at an H×W×C image:"))
a, b, c, d = st.columns(4)
h = linked(a.number_input)("H", 1, 4096, 200, key="why_h")
w = linked(b.number_input)("W", 1, 4096, 200, key="why_w")
ch = linked(c.number_input)("C", 1, 64, 3, key="why_c")
kk = linked(d.select_slider)(t("kernel k×k"), [1, 3, 5, 7, 11], 3, key="why_kk")
dense = lc.dense(h * w * ch, 1)
local = lc.locally_connected(h, w, ch, 1, kk)
conv = lc.conv2d(h, w, ch, 1, kk)
x, y, z = st.columns(3)
x.metric(t("Dense neuron"), t("{count} weights", count=f"{dense.weights:,}"))
y.metric(
    t("Locally connected map"),
    t("{count} weights", count=f"{local.weights:,}"),
    help=t("k×k×C weights per position, none shared: sparse but not shared."),
)
z.metric(t("Convolution map"), t("{count} weights", count=f"{conv.weights:,}"))
portrait = next((s for s in samples() if "ortrait" in s.title), None)
left, right = st.columns([1, 3])
if portrait:
    left.image(str(portrait.path), caption=t("A centred face"), width="stretch")
right.markdown(
    t(
        "**When not to share.** If every image is a face cropped and centred the same way, eyes "
        "are always near the top and the mouth near the bottom. A locally connected layer can "
        "then learn an eye detector only where eyes occur and a mouth detector only where mouths "
        "occur, instead of one kernel that must work everywhere. It costs many more weights (the "
        "middle number above) but matches data where *position itself* carries meaning."
    )
)

st.divider()
st.subheader(t("Which inputs affect an output, and which outputs an input reaches"))
a, b, c, d = st.columns(4)
units = linked(a.slider)(t("Units per layer"), 5, 25, 13, key="why_units")
width = linked(b.slider)(t("Kernel width k"), 1, 7, 3, key="why_kw")
depth = linked(c.slider)(t("Layers"), 1, 6, 3, key="why_depth")
unit = linked(d.slider)(t("Chosen unit"), 0, units - 1, units // 2, key="why_unit")
win = ((width - 1) // 2, width // 2)  # taps to the left and right, as torch's 'same' padding
sparse_mask = influence_1d(units, width, depth, unit)
dense_mask = influence_1d(units, width, depth, unit, dense=True)
l1, r1 = st.columns(2)
chart(
    diagrams.unit_layers(
        sparse_mask, dense=False, window=win, title=t("Convolution: what the top unit sees")
    ),
    key="why_sparse_up",
    where=l1,
)
chart(
    diagrams.unit_layers(dense_mask, dense=True, title=t("Dense layers: what the top unit sees")),
    key="why_dense_up",
    where=r1,
)
field = int(sparse_mask[0].sum())
st.latex(
    rf"r = 1 + L\,(k-1) = 1 + {depth}\cdot({width}-1) = {1 + depth * (width - 1)}"
    + (
        r"\;\;\text{" + t("(here {field}, clipped at the border)", field=field) + "}"
        if field != 1 + depth * (width - 1)
        else ""
    )
)
one_hot = np.zeros(units, dtype=bool)
one_hot[unit] = True
reach = np.stack([one_hot, affected_outputs_1d(units, width, unit)])
reach_dense = np.stack([one_hot, affected_outputs_1d(units, width, unit, dense=True)])
l2, r2 = st.columns(2)
chart(
    diagrams.unit_layers(
        reach,
        dense=False,
        window=win,
        height=200,
        color="#2563eb",
        title=t(
            "Convolution: input {unit} reaches {count} outputs",
            unit=unit,
            count=int(reach[1].sum()),
        ),
    ),
    key="why_sparse_down",
    where=l2,
)
chart(
    diagrams.unit_layers(
        reach_dense,
        dense=True,
        height=200,
        color="#2563eb",
        title=t("Dense: input {unit} reaches all {units} outputs", unit=unit, units=units),
    ),
    key="why_dense_down",
    where=r2,
)
st.caption(
    t(
        "What to notice: one convolutional layer connects a unit to only k inputs, but stacking "
        "layers widens the field by k − 1 per layer, so deep units still depend on most of the "
        "input, indirectly. A dense layer connects everything in one step."
    )
)

st.divider()
st.subheader(t("Measured on this machine"))
TIMED = dict(c_in=3, c_out=8, k=3, repeat=5)  # what _measure passes to time_layers
st.markdown(
    t(
        "The same input image ({c_in} channels) through a dense layer, a locally connected layer "
        "and a {k}×{k} convolution producing {c_out} maps of the same size. Times are medians of "
        "{repeat} forward passes.",
        **TIMED,
    )
)


@st.cache_resource
def _timing_lock() -> threading.Lock:
    """One lock for the whole server: timing runs share two cores, so never two at once."""
    return threading.Lock()


@st.cache_data(max_entries=4, show_spinner=False)
def _measure(sizes: tuple[int, ...]) -> list[dict]:
    with _timing_lock():
        return [vars(row) for row in time_layers(list(sizes), **TIMED)]


def _growth_text(rows: list, kinds: tuple[str, ...]) -> str:
    """Return the measured growth of time and weights with the pixel count, kind by kind."""
    parts = []
    for kind in kinds:
        time_exp = growth_exponent(rows, kind)
        weight_exp = growth_exponent(rows, kind, "parameters")
        if time_exp is None or weight_exp is None:
            parts.append(t("{kind}: too few sizes built to fit", kind=t(kind)))
            continue
        parts.append(
            t(
                "{kind}: time ∝ pixels^{time_exp}, weights ∝ pixels^{weight_exp}",
                kind=t(kind),
                time_exp=f"{time_exp:.2f}",
                weight_exp=f"{weight_exp:.2f}",
            )
        )
    return t(
        "Measured growth with the number of pixels (a in value ∝ pixels^a, fitted over the "
        "sizes built): {parts}.",
        parts="; ".join(parts),
    )


SIZES = (8, 16, 32, 64, 128)
if st.toggle(t("Measure on this server"), key="why_time"):
    with st.spinner(t("Timing the three layers…")):
        rows = _measure(SIZES)
    kinds = ("dense", "locally connected", "convolution")
    secs = {
        kd: np.array(
            [r["seconds"] if r["seconds"] is not None else np.nan for r in rows if r["kind"] == kd]
        )
        * 1e3
        for kd in kinds
    }
    params = {kd: np.array([r["parameters"] for r in rows if r["kind"] == kd]) for kd in kinds}
    # the legend shows each kind's name in the reader's language
    secs = {t(kd): v for kd, v in secs.items()}
    params = {t(kd): v for kd, v in params.items()}
    shown = [t(kd) for kd in kinds]
    t1, t2 = st.columns(2)
    chart(
        figures.lines(
            np.array(SIZES),
            secs,
            title=t("Forward time (ms, log)"),
            x_title=t("image side (px)"),
            log_y=True,
            log_x=True,
            modes=dict.fromkeys(shown, "lines+markers"),
        ),
        key="why_t",
        where=t1,
    )
    chart(
        figures.lines(
            np.array(SIZES),
            params,
            title=t("Parameters (log)"),
            x_title=t("image side (px)"),
            log_y=True,
            log_x=True,
            modes=dict.fromkeys(shown, "lines+markers"),
        ),
        key="why_p",
        where=t2,
    )
    skipped = [
        t(
            "{kind} at {size}×{size}: {note}",
            kind=label,
            size=r["size"],
            note=t(NOT_BUILT_NOTE, gb=r["note_gb"]),
        )
        for r, label in zip(rows, map(t, (r["kind"] for r in rows)), strict=True)
        if r["note"]
    ]
    if skipped:
        st.caption(
            t(
                "Not built (over a {budget} MB budget): {skipped}.",
                budget=f"{WEIGHT_BUDGET / 1e6:g}",
                skipped="; ".join(skipped),
            )
        )
    st.caption(_growth_text([TimingRow(**r) for r in rows], kinds))
