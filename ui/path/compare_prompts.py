"""Predict-then-check prompts of the comparison and framework pages, answered by the engine."""

from __future__ import annotations

from collections.abc import Mapping

from engine import conv as lc
from engine.autodiff import PARAMETERS, gradient_sign, gradient_table
from engine.receptive_field import stack_rf
from engine.sequence import CNN_LAYERS, SEQ_LEN, TAPS, sequential_steps
from ui.i18n import t
from ui.path.prompts import Posed, Prompt


def cnn_steps(s: Mapping) -> Posed:
    """How many sequential layers does the plain CNN need to see a whole digit?"""
    cnn, rnn = sequential_steps("cnn", SEQ_LEN), sequential_steps("rnn", SEQ_LEN)
    return Posed(
        t(
            "A digit here is {length} samples long. How many layers, one after another, does "
            "the plain CNN need before one unit has seen all of it?",
            length=SEQ_LEN,
        ),
        cnn.steps,
        t(
            "Samples seen after each layer: {fields}; the RNN needs {rnn} steps, one per sample.",
            fields=" → ".join(str(f) for f in cnn.fields),
            rnn=rnn.steps,
        ),
    )


def cnn_window(s: Mapping) -> Posed:
    """How many input steps does one unit of the CNN's last layer see?"""
    same = dict(kind="conv", k=TAPS, s=1, p=TAPS // 2, d=1)  # 'same' padding, as through_both
    field = stack_rf([same] * CNN_LAYERS, SEQ_LEN)[-1].size
    return Posed(
        t(
            "The CNN here has {layers} layers of filters {taps} steps wide. How many input "
            "steps does one unit of its last layer see?",
            layers=CNN_LAYERS,
            taps=TAPS,
        ),
        field,
        t(
            "Each layer adds {taps} − 1 steps to the window: 1 + {layers} × {added} = {field}.",
            taps=TAPS,
            layers=CNN_LAYERS,
            added=TAPS - 1,
            field=field,
        ),
    )


def _autodiff_inputs(s: Mapping) -> tuple[dict, tuple, tuple]:
    """Return the parameters, inputs and targets the page's number boxes hold."""
    n = int(s["ad_n"])
    params = {k: float(s[f"ad_{k}"]) for k in PARAMETERS}
    x = tuple(float(s[f"ad_x{i}"]) for i in range(n) if f"ad_x{i}" in s)
    targets = tuple(float(s[f"ad_t{i}"]) for i in range(n) if f"ad_t{i}" in s)
    return params, x, targets


def first_gradient(s: Mapping) -> Posed | None:
    """Which way will the gradient of the first parameter point?"""
    params, x, targets = _autodiff_inputs(s)
    if len(x) != int(s["ad_n"]) or len(targets) != len(x):
        return None
    name = PARAMETERS[0]
    row = next(r for r in gradient_table(params, x, targets) if r.parameter == name)
    return Posed(
        t(
            "With the numbers above, will ∂L/∂{name} be positive, negative or zero?",
            name=name,
        ),
        gradient_sign(row.autodiff),
        t(
            "Autodiff gives ∂L/∂{name} = {value}; central finite differences give {fd}.",
            name=name,
            value=f"{row.autodiff:.4g}",
            fd=f"{row.finite_difference:.4g}",
        ),
        {"positive": t("positive"), "negative": t("negative"), "zero": t("zero")},
    )


def conv_weights(s: Mapping) -> Posed:
    """How many weights does the convolutional layer have?"""
    h, w, c = int(s["cmp_h"]), int(s["cmp_w"]), int(s["cmp_c"])
    units, k = int(s["cmp_units"]), int(s["cmp_k"])
    conv = lc.conv2d(h, w, c, units, k).weights
    return Posed(
        t(
            "{units} filters of {k}×{k} over a {h}×{w} image with {c} channels: how many "
            "weights does the convolutional layer have?",
            units=units,
            k=k,
            h=h,
            w=w,
            c=c,
        ),
        conv,
        t(
            "k² × C × filters = {conv}, whatever the image size; the dense layer with the same "
            "outputs needs {dense}.",
            conv=f"{conv:,}",
            dense=f"{lc.dense(h * w * c, units * h * w).weights:,}",
        ),
    )


PROMPTS: dict[str, tuple[Prompt, ...]] = {
    "mnist-1d": (Prompt("m1d", (), cnn_steps),),
    "sequence-both": (Prompt("seqb", (), cnn_window),),
    "autodiff": (Prompt("ad", ("ad_n", *(f"ad_{k}" for k in PARAMETERS)), first_gradient),),
    "dense-conv-recurrent": (
        Prompt("cmp", ("cmp_h", "cmp_w", "cmp_c", "cmp_units", "cmp_k"), conv_weights),
    ),
}
