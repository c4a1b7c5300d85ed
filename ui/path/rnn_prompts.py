"""Predict-then-check prompts of the recurrent pages, each answered by the engine."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from engine.recurrent import (
    DEFAULT_MAX_CHARS,
    KEEP_HALF,
    MAX_UNROLLED_STEPS,
    average_keep,
    earliest_vs_latest,
    gradient_norms,
    make_rnn,
    per_step_factor,
    read_sequence,
    trace_text,
    weight_counts,
)
from ui.i18n import t
from ui.path.prompts import Posed, Prompt
from ui.recurrent.models import char_model


def _unrolled(s: Mapping, kind: str) -> Posed | None:
    """Return the question for the input kind the page reads (None for the other kind)."""
    if s["unr_kind"] != kind:
        return None
    limit = MAX_UNROLLED_STEPS
    text = s[f"unr_text_{kind}"]
    x = read_sequence(text if kind == "numbers" else text[:limit], kind, max_len=limit).x
    steps, hidden = x.shape[0], int(s["unr_hidden"])
    rnn = make_rnn(x.shape[1], hidden, s["unr_act"])
    distinct, uses = weight_counts(rnn, steps)
    longer, longer_uses = weight_counts(rnn, 2 * steps)
    return Posed(
        t(
            "Your sequence has T = {steps} steps and the RNN has {distinct} distinct weights. "
            "Feed it a sequence twice as long ({longer_steps} steps): how many distinct weights "
            "will it have?",
            steps=steps,
            distinct=distinct,
            longer_steps=2 * steps,
        ),
        longer,
        t(
            "{longer}: the same W, U and biases serve every step; only their uses in the "
            "unrolled graph grow, from {uses} to {longer_uses}.",
            longer=longer,
            uses=f"{uses:,}",
            longer_uses=f"{longer_uses:,}",
        ),
    )


def unrolled_numbers(s: Mapping) -> Posed | None:
    """Distinct weights for a longer sequence of numbers."""
    return _unrolled(s, "numbers")


def unrolled_characters(s: Mapping) -> Posed | None:
    """Distinct weights for a longer sequence of characters."""
    return _unrolled(s, "characters")


@st.cache_data(max_entries=16, show_spinner=False)
def _forget_mean(text: str) -> tuple[float, int, int]:
    """Return the LSTM's mean forget gate over text, with the characters and units traced."""
    trace = trace_text(char_model("lstm")[0], text, max_chars=DEFAULT_MAX_CHARS).trace
    steps, units = trace.forget_gate.shape
    return average_keep(trace), steps, units


def forget_gate(s: Mapping) -> Posed:
    """Will the LSTM's forget gates average above one half on the learner's text?"""
    mean, steps, units = _forget_mean(s["lstm_text"])
    return Posed(
        t(
            "Over your text, will the LSTM's forget gates average above {half}?",
            half=f"{KEEP_HALF:g}",
        ),
        "above" if mean > KEEP_HALF else "not above",
        t(
            "Their mean over {steps} characters and {units} units is {mean}.",
            steps=f"{steps:,}",
            units=units,
            mean=f"{mean:.3f}",
        ),
        {
            "above": t("above {half}: they keep most of the old cell", half=f"{KEEP_HALF:g}"),
            "not above": t("not above {half}", half=f"{KEEP_HALF:g}"),
        },
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _norms(steps: int, hidden: int, rho: float, act: str):
    """Return the plain RNN's gradient norms at every step (cached: up to tens of ms)."""
    return gradient_norms("rnn", steps, hidden, rho, act)


def first_step_gradient(s: Mapping) -> Posed:
    """Will the gradient reaching step 1 be smaller than the one at step T?"""
    steps, hidden = int(s["grad_T"]), int(s["grad_hidden"])
    rho, act = float(s["grad_rho"]), s["grad_act"]
    norms = _norms(steps, hidden, rho, act)
    return Posed(
        t(
            "In the plain RNN (ρ = {rho}, {act}, {hidden} units, T = {steps}): compared with "
            "the gradient at step T, will the one that reaches step 1 be smaller, larger or "
            "equal?",
            rho=f"{rho:g}",
            act=t(act),
            hidden=hidden,
            steps=steps,
        ),
        earliest_vs_latest(norms),
        t(
            "‖∂L/∂h‖ is {first} at step 1 and {last} at step {steps}: a factor of {factor} per "
            "step back.",
            first=f"{norms[0]:.3g}",
            last=f"{norms[-1]:.3g}",
            steps=steps,
            factor=f"{per_step_factor(norms):.3g}",
        ),
        {"smaller": t("smaller"), "larger": t("larger"), "equal": t("equal")},
    )


PROMPTS: dict[str, tuple[Prompt, ...]] = {
    "rnn-unrolled": (
        Prompt(
            "unr_numbers",
            ("unr_kind", "unr_hidden", "unr_act", "unr_text_numbers"),
            unrolled_numbers,
        ),
        Prompt(
            "unr_characters",
            ("unr_kind", "unr_hidden", "unr_act", "unr_text_characters"),
            unrolled_characters,
        ),
    ),
    "lstm-gates": (Prompt("lstm", ("lstm_text",), forget_gate),),
    "rnn-gradients": (
        Prompt("grad", ("grad_T", "grad_rho", "grad_act", "grad_hidden"), first_step_gradient),
    ),
}
