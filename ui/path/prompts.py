"""What a "predict, then check" prompt is, how it is asked in a form, and how a guess is judged.

A prompt reads the page's widgets from st.session_state (after the page ran, so every widget it
reads holds its current value) and poses a question whose answer the engine computes. The answer
stays hidden until the learner submits a prediction with "Check".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import streamlit as st

from engine.core import ExplorerError
from ui.i18n import t


@dataclass(frozen=True)
class Posed:
    """A question with its computed answer (a number, or a choice id) and why it holds."""

    question: str  # translated
    answer: int | str | tuple[str, ...]  # a tuple: every tied choice is right
    explanation: str  # translated; its claim is chosen by the numbers it quotes
    choices: dict[str, str] | None = None  # choice id → translated label; None: type a number


@dataclass(frozen=True)
class Prompt:
    """One prompt of a page: its id, the widget keys it reads, and how it poses its question."""

    id: str
    reads: tuple[str, ...]  # session_state keys; each is a widget key on the page
    pose: Callable[[Mapping], Posed | None]  # None: nothing to ask on this view
    optional: tuple[str, ...] = ()  # widget keys read when drawn (a choice shown only sometimes)


def pose(prompt: Prompt, state: Mapping) -> Posed | None:
    """Return the prompt posed on state, or None when a widget it reads was not drawn this run."""
    if any(key not in state for key in prompt.reads):
        return None  # e.g. the page stopped early: there is nothing on screen to ask about
    try:
        return prompt.pose(state)
    except ExplorerError:
        return None  # the page shows that error itself


def is_right(posed: Posed, guess: object) -> bool:
    """Return True when guess is the answer (a whole number typed, or the choice picked)."""
    if isinstance(posed.answer, tuple):
        return guess in posed.answer
    if posed.choices is not None:
        return guess == posed.answer
    try:
        return round(float(guess)) == posed.answer
    except (TypeError, ValueError):
        return False


def shown_answer(posed: Posed) -> str:
    """Return the answer as the learner reads it: a choice's label or a number with separators."""
    if isinstance(posed.answer, tuple):
        return " / ".join(posed.choices[a] for a in posed.answer)
    if posed.choices is not None:
        return posed.choices[str(posed.answer)]
    return f"{posed.answer:,}"


def verdict_text(posed: Posed, guess: object) -> str:
    """Return "Right" or "Not quite", with the computed answer."""
    if is_right(posed, guess):
        return t("Right: {answer}.", answer=shown_answer(posed))
    return t("Not quite: the answer is {answer}.", answer=shown_answer(posed))


def _guess_widget(prompt_id: str, posed: Posed) -> object:
    """Draw the prediction input (a radio or a number box) and return its value."""
    key = f"path_{prompt_id}_guess"
    if posed.choices is not None:
        choices = posed.choices
        return st.radio(
            t("Your prediction"), list(choices), index=None, format_func=choices.get, key=key
        )
    return st.number_input(t("Your prediction"), value=None, step=1, format="%d", key=key)


def _submit(prompt_id: str, posed: Posed) -> None:
    """Draw the question and the prediction input in a form; on "Check", remember the guess."""
    shown_key = f"path_{prompt_id}_shown"
    seen = st.session_state.get(shown_key, posed.question)  # what the learner read last time
    with st.form(f"path_{prompt_id}"):
        st.markdown(posed.question)
        guess = _guess_widget(prompt_id, posed)
        if st.form_submit_button(t("Check"), key=f"path_{prompt_id}_check"):
            # Remember the guess with its question: the verdict stays until the settings change.
            # A part of the page that reran alone (a fragment) can change the settings under a
            # question drawn earlier: a guess made for that older question is not judged.
            stale = seen != posed.question
            st.session_state[f"path_{prompt_id}_checked"] = (posed.question, guess, stale)
    st.session_state[shown_key] = posed.question


def ask(prompt_id: str, posed: Posed) -> None:
    """Draw the question in a form; after "Check", show the verdict and the explanation."""
    _submit(prompt_id, posed)
    question, checked, stale = st.session_state.get(f"path_{prompt_id}_checked", (None,) * 3)
    if question != posed.question:
        return
    if stale:
        st.info(t("The settings changed since this question was drawn: read it again, then check."))
    elif checked is None:
        st.info(t("Type or choose a prediction first, then press Check."))
    elif is_right(posed, checked):
        st.success(verdict_text(posed, checked))
        st.caption(posed.explanation)
    else:
        st.warning(verdict_text(posed, checked))
        st.caption(posed.explanation)
