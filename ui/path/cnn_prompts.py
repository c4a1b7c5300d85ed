"""Predict-then-check prompts of the convolution pages, each answered by the engine."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from engine.architectures import ARCHITECTURES, parameter_total
from engine.cnn import CNNConfig, map_sides, parameter_count
from engine.conv import (
    NOTICEABLE,
    SHOWN_KERNEL_ANGLE,
    SHOWN_KERNEL_SIDE,
    age_kernel,
    conv_output_size,
    dense,
    flip_change,
    is_flip_symmetric,
    make_kernel,
    samples_that_count,
    shared_1d,
    shift_verdict,
    sparse_1d,
    transposed_output_size,
)
from engine.conv import translation_equivariance as equivariance_check
from engine.core import N_
from engine.kernels import stacked_vs_single
from engine.pooling import shift_stability, steadiest
from engine.receptive_field import VGG_LIKE_STACK, stack_rf
from ui.cnn.models import available_models
from ui.i18n import t
from ui.inputs import current_image, working_tensor
from ui.links import edited_rows, kept_start
from ui.path.prompts import Posed, Prompt

MILLION = 1_000_000
SHIFT = 1  # px: the smallest shift, the one pooling is meant to absorb


def smoothing_weights(s: Mapping) -> Posed:
    """How many of the window's samples carry a noticeable weight?"""
    kind, width, length = s["c1d_kind"], float(s["c1d_width"]), int(s["c1d_length"])
    w = age_kernel(kind, width, length)
    count = samples_that_count(w)
    return Posed(
        t(
            "The **{kind}** weighting, width {width}, over {length} samples: how many samples "
            "get at least {share} of the newest sample's weight?",
            kind=t(kind),
            width=f"{width:g}",
            length=length,
            share=f"{NOTICEABLE:.0%}",
        ),
        count,
        t(
            "The newest sample weighs {newest}; {count} of the {length} weights are at least "
            "{floor}.",
            newest=f"{w[0]:.3f}",
            count=count,
            length=length,
            floor=f"{NOTICEABLE * w[0]:.3f}",
        ),
    )


def flip(s: Mapping) -> Posed:
    """Do convolution and cross-correlation agree for this kernel?"""
    name, size = s["k2d_name"], int(s["k2d_size"])
    kernel = make_kernel(name, size, float(s["k2d_angle"]))
    same, change = is_flip_symmetric(kernel), flip_change(kernel)
    explanation = (
        t(
            "Turned 180°, the kernel changes by at most {change}: it is its own flip, so both "
            "operations add up the same products.",
            change=f"{change:.2g}",
        )
        if same
        else t(
            "Turned 180°, some weight changes by {change}: convolution uses the turned kernel, "
            "so the two maps differ.",
            change=f"{change:.3g}",
        )
    )
    return Posed(
        t(
            "Take the **{name}** kernel at {size}×{size}, as built (before any edit). Will "
            "convolution and cross-correlation give the same map?",
            name=t(name),
            size=size,
        ),
        "same" if same else "different",
        explanation,
        {"same": t("the same map"), "different": t("different maps")},
    )


def sparse_weights(s: Mapping) -> Posed:
    """How many weights does a sparsely connected layer have?"""
    m, n, k = int(s["why_m"]), int(s["why_n"]), int(s["why_k"])
    sparse = sparse_1d(m, n, k).weights
    return Posed(
        t(
            "A layer from {m} inputs to {n} outputs where each output reads only {k} inputs: "
            "how many weights does it have?",
            m=f"{m:,}",
            n=f"{n:,}",
            k=f"{k:,}",
        ),
        sparse,
        t(
            "{n} outputs × {k} connections = {sparse} weights, against {dense} for a dense "
            "layer; sharing one kernel leaves {shared}.",
            n=f"{n:,}",
            k=f"{k:,}",
            sparse=f"{sparse:,}",
            dense=f"{dense(m, n).weights:,}",
            shared=f"{shared_1d(m, n, k).weights:,}",
        ),
    )


def _equivariance_choices() -> dict[str, str]:
    """Return the three things a shift check can show, as choices."""
    return {
        "exact": t("they agree everywhere"),
        "border only": t("they agree except in a band along the borders"),
        "broken": t("they differ inside the image too"),
    }


@st.cache_data(max_entries=16, show_spinner=False)
def _shift_check(sha: str, side: int, name: str, dy: int, dx: int, mode: str) -> tuple:
    """Return (verdict, largest difference, largest inside) of the page's shift check."""
    kernel = make_kernel(name, SHOWN_KERNEL_SIDE, angle_deg=SHOWN_KERNEL_ANGLE)
    check = equivariance_check(working_tensor(current_image(), side), kernel, dy, dx, mode)
    return shift_verdict(check), check.max_error, check.interior_max_error


def shift_commutes(s: Mapping) -> Posed:
    """Where do conv(shift(x)) and shift(conv(x)) agree on the page's picture?"""
    name, mode = s["eq_kernel"], s["eq_pad"]
    dy, dx, side = int(s["eq_dy"]), int(s["eq_dx"]), int(s["eq_side"])
    verdict, everywhere, inside = _shift_check(current_image().sha, side, name, dy, dx, mode)
    return Posed(
        t(
            "Shift your picture {dy} px down and {dx} px right, filling with **{mode}**, and "
            "filter it with **{name}**. Where will conv(shift(x)) and shift(conv(x)) agree?",
            dy=dy,
            dx=dx,
            mode=t(mode),
            name=t(name),
        ),
        verdict,
        t(
            "The largest difference is {all} over the whole map and {inside} away from the "
            "borders.",
            all=f"{everywhere:.3g}",
            inside=f"{inside:.3g}",
        ),
        _equivariance_choices(),
    )


def pooled_size(s: Mapping) -> Posed:
    """How many pooled values along the detector map's longest side?"""
    side, size, stride = (
        int(s["layer_side"]),
        int(s["layer_pool_size"]),
        int(s["layer_pool_stride"]),
    )
    out = conv_output_size(side, size, 0, stride)
    return Posed(
        t(
            "The detector map is {side} px along its longest side. Pooled with a window of "
            "{size} and stride {stride}, how many values remain along that side?",
            side=side,
            size=size,
            stride=stride,
        ),
        out,
        t(
            "⌊({side} − {size}) / {stride}⌋ + 1 = {out}: the window moves {stride} px at a time "
            "and the last one must fit.",
            side=side,
            size=size,
            stride=stride,
            out=out,
        ),
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _one_pixel_shift(sha: str, side: int) -> dict:
    """Return the shift-stability curves of the picked picture for shifts 0 to SHIFT px."""
    return shift_stability(working_tensor(current_image(), side), SHIFT)


def steadiest_pooling(s: Mapping) -> Posed:
    """Which way of halving the resolution keeps the most after a 1-px shift?"""
    side = int(s["pool_side"])
    curves = _one_pixel_shift(current_image().sha, side)
    shares = ", ".join(f"{t(m)} {float(c[SHIFT]):.0%}" for m, c in curves.items())
    return Posed(
        t(
            "Shift your picture {shift} px to the right. Which way of halving the resolution "
            "keeps the largest share of its outputs?",
            shift=SHIFT,
        ),
        steadiest(curves, SHIFT),
        t("Share of outputs kept after a {shift}-px shift: {shares}.", shift=SHIFT, shares=shares),
        {m: t(m) for m in curves},
    )


def stacked_weights(s: Mapping) -> Posed:
    """How many weights do two stacked small convolutions have?"""
    c = int(s["ks_c"])
    stacked, single = stacked_vs_single(c, int(s["ks_h"]), int(s["ks_w"]))
    k, r = stacked.layers[0].kernel[0], single.receptive_field[0]
    return Posed(
        t(
            "{depth} stacked {k}×{k} convolutions with C = {c} channels in and out see a "
            "{r}×{r} field. How many weights do they hold together (biases aside)?",
            depth=len(stacked.layers),
            k=k,
            c=c,
            r=r,
        ),
        stacked.weights,
        t(
            "{stacked} weights for the stack, against {single} for one {r}×{r} convolution "
            "with the same field.",
            stacked=f"{stacked.weights:,}",
            single=f"{single.weights:,}",
            r=r,
        ),
    )


def _arithmetic(s: Mapping, transposed: bool) -> Posed | None:
    """Return the output-size question for the mode the page shows (None for the other)."""
    if (s["arith_mode"] == "transposed") != transposed:
        return None
    n, k, p, stride = (int(s[key]) for key in ("arith_n", "arith_k", "arith_p", "arith_s"))
    d = int(s["arith_d_transposed" if transposed else "arith_d"])
    size = transposed_output_size if transposed else conv_output_size
    out = size(n, k, p, stride, d)
    span = d * (k - 1)  # how far apart the first and last taps sit
    formula = (
        f"(n − 1)·s − 2p + d(k − 1) + 1 = ({n} − 1)·{stride} − {2 * p} + {span} + 1"
        if transposed
        else f"⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊({n} + {2 * p} − {span} − 1) / {stride}⌋ + 1"
    )
    return Posed(
        t(
            "n = {n}, k = {k}, p = {p}, s = {s}, d = {d}: how long is each side of the output?",
            n=n,
            k=k,
            p=p,
            s=stride,
            d=d,
        ),
        out,
        t("{formula} = {out}.", formula=formula, out=out),
    )


def conv_size(s: Mapping) -> Posed | None:
    """Output size of the convolution the page steps through."""
    return _arithmetic(s, transposed=False)


def transposed_size(s: Mapping) -> Posed | None:
    """Output size of the transposed convolution the page stamps."""
    return _arithmetic(s, transposed=True)


def _stack(s: Mapping) -> list[dict] | None:
    """Return the page's layer table as the learner edited it (None while a row is incomplete)."""
    start = kept_start(s, "rf_stack", "rf_stack", [dict(layer) for layer in VGG_LIKE_STACK])
    rows = edited_rows(start, s["rf_stack"])
    rows = [row for row in rows if any(v is not None for v in row.values())]
    if any(row.get(col) is None for row in rows for col in ("kind", "k", "s", "p", "d")):
        return None  # the page asks to fill the row in
    return [{**row, **{c: int(row[c]) for c in ("k", "s", "p", "d")}} for row in rows]


def unit_field(s: Mapping) -> Posed | None:
    """How many input pixels does one unit of the chosen layer see?"""
    layer, layers = s["rf_layer"], _stack(s)
    if not layers:
        return None
    rows = {row.name: row for row in stack_rf(layers, int(s["rf_side"]))}
    if layer not in rows:
        return None
    row = rows[layer]
    return Posed(
        t(
            "In your stack, how many input pixels wide is the receptive field of one unit of "
            "**{layer}**?",
            layer=layer,
        ),
        row.size,
        t(
            "Each layer widens the field by (k − 1) × the jump of its input; at {layer} the "
            "jump is {jump} px and the field {size} px.",
            layer=layer,
            jump=f"{row.jump:g}",
            size=row.size,
        ),
    )


@st.cache_data(show_spinner=False)
def _millions(name: str) -> int:
    """Return the architecture's parameter count (cached: counting builds the network)."""
    return parameter_total(name)


def _parameters(name: str, question: str) -> Posed:
    """Return a "how many million parameters" question about an architecture."""
    count = _millions(name)
    title = ARCHITECTURES[name].title
    return Posed(
        t(question, title=title),
        round(count / MILLION),
        t(
            "{title} has {count} trainable numbers: {millions} million.",
            title=title,
            count=f"{count:,}",
            millions=f"{count / MILLION:.1f}",
        ),
    )


def architecture_parameters(s: Mapping) -> Posed:
    """How many million parameters does the network being inspected have?"""
    return _parameters(
        s["arch_pick"],
        N_("How many million parameters does **{title}** have (to the nearest million)?"),
    )


def weights_numbers(s: Mapping) -> Posed:
    """How many numbers must a weights file for this architecture hold?"""
    return _parameters(
        s["yw_arch"],
        N_("A weights file for **{title}** holds how many million numbers (nearest million)?"),
    )


def _config_words(config: CNNConfig) -> dict:
    """Return the parameters a question names: blocks, filters, kernel and classes."""
    return dict(
        blocks=config.depth_blocks,
        filters=config.filters,
        k=config.kernel,
        classes=len(config.classes),
    )


def trained_parameters(s: Mapping) -> Posed:
    """How many parameters does the network the page shows have?"""
    models = available_models(s)  # the shipped one, then any trained this session
    config = models.get(s.get("tc_model"), next(iter(models.values())))[0].config
    count = parameter_count(config)
    return Posed(
        t(
            "The network on this page has {blocks} block(s) of {filters} filters of {k}×{k} "
            "and {classes} classes. How many trainable parameters (weights and biases) does it "
            "have?",
            **_config_words(config),
        ),
        count,
        t("{count} parameters, counted on the network itself.", count=f"{count:,}"),
    )


def your_cnn_parameters(s: Mapping) -> Posed:
    """How many parameters will the CNN the learner configured have?"""
    config = CNNConfig(
        classes=tuple(s["ct_classes"]),
        depth_blocks=int(s["ct_depth"]),
        filters=int(s["ct_filters"]),
        kernel=int(s["ct_kernel"]),
        pool=bool(s["ct_pool"]),
        relu=bool(s["ct_relu"]),
    )
    count = parameter_count(config)
    sides = map_sides(config)
    return Posed(
        t(
            "Your network: {blocks} block(s) of {filters} filters of {k}×{k}, {classes} "
            "classes. How many trainable parameters will it have?",
            **_config_words(config),
        ),
        count,
        t(
            "{count} parameters; the last maps are {side}×{side}×{filters} before the dense layer.",
            count=f"{count:,}",
            side=sides[-1],
            filters=config.filters,
        ),
    )


def teach_map_side(s: Mapping) -> Posed:
    """What side do the examples reach after the chosen number of blocks?"""
    config = CNNConfig(depth_blocks=int(s["tc_blocks"]), filters=int(s["tc_filters"]))
    sides = map_sides(config)
    return Posed(
        t(
            "Your examples enter the network at {side}×{side}. After {blocks} block(s), each "
            "ending in max pooling, how wide are the feature maps?",
            side=sides[0],
            blocks=config.depth_blocks,
        ),
        sides[-1],
        t("Sides after each block: {sides}.", sides=" → ".join(str(x) for x in sides)),
    )


PROMPTS: dict[str, tuple[Prompt, ...]] = {
    "conv-1d": (Prompt("c1d", ("c1d_kind", "c1d_width", "c1d_length"), smoothing_weights),),
    "kernels": (Prompt("k2d", ("k2d_name", "k2d_size", "k2d_angle"), flip),),
    "why-convolution": (Prompt("why", ("why_m", "why_n", "why_k"), sparse_weights),),
    "equivariance": (
        Prompt("eq", ("eq_kernel", "eq_dy", "eq_dx", "eq_pad", "eq_side"), shift_commutes),
    ),
    "conv-layer": (
        Prompt("layer", ("layer_side", "layer_pool_size", "layer_pool_stride"), pooled_size),
    ),
    "pooling": (Prompt("pool", ("pool_side",), steadiest_pooling),),
    "kernel-sizes": (Prompt("ks", ("ks_c", "ks_h", "ks_w"), stacked_weights),),
    "conv-arithmetic": (
        Prompt(
            "arith",
            ("arith_mode", "arith_n", "arith_k", "arith_p", "arith_s", "arith_d"),
            conv_size,
        ),
        Prompt(
            "arith_t",
            ("arith_mode", "arith_n", "arith_k", "arith_p", "arith_s", "arith_d_transposed"),
            transposed_size,
        ),
    ),
    "receptive-fields": (Prompt("rf", ("rf_stack", "rf_side", "rf_layer"), unit_field),),
    "architectures": (Prompt("arch", ("arch_pick",), architecture_parameters),),
    "your-weights": (Prompt("yw", ("yw_arch",), weights_numbers),),
    "trained-cnn": (Prompt("tcnn", (), trained_parameters, optional=("tc_model",)),),
    "train-cnn": (
        Prompt(
            "ct",
            ("ct_classes", "ct_depth", "ct_filters", "ct_kernel", "ct_pool", "ct_relu"),
            your_cnn_parameters,
        ),
    ),
    "teach-classes": (Prompt("teach", ("tc_blocks", "tc_filters"), teach_map_side),),
}
