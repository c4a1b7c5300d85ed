"""The sequence box of the "your sequence through both" page: numbers or text, read by stated rules.

Numbers go through engine.sequence.parse_sequence (its messages say what to fix). Text keeps its
first TEXT_CAP characters (with a note), and becomes numbers by one documented rule for the
CNN/RNN comparison: a letter is its place in the alphabet (a = 1 … z = 26, case and accents
ignored), every other character (space, digit, punctuation, emoji) is 0. The text CNN section
reads the text itself, as one-hot characters or words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from engine.core import N_, ExplorerError
from engine.sequence import (
    MAX_LENGTH,
    MAX_MAGNITUDE,
    SequenceError,
    TextNumbers,
    parse_sequence,
    text_to_numbers,
)
from ui.i18n import DEFAULT, current_lang, error_text, t, tn
from ui.links import keep_param, keep_text, linked, linked_text, text_note

__all__ = [
    "EXAMPLES",
    "MODES",
    "TEXT_CAP",
    "SequenceInput",
    "mapping_note",
    "read_sequence",
    "sequence_box",
    "text_for_ngrams",
]

MODES = ("numbers", "text")
TEXT_CAP = MAX_LENGTH  # characters of text used, so the text fits through both networks
EXAMPLES = {  # name (translated where shown, see EXAMPLE_NAMES) → the text put in the box
    "numbers": {
        "ramp, flat, spike, zigzag": (
            "0, 1, 2, 3, 4, 3, 2, 1, 0, 0, 0, 0, 5, 0, 0, 0, 1, 2, 1, 2, 1, 2, 6, 2, 0, 0"
        ),
        "slow wave": ", ".join(f"{np.sin(i / 3):.2f}" for i in range(40)),
        "steps": "1, 1, 1, 1, 4, 4, 4, 4, 2, 2, 2, 2, 7, 7, 7, 7, 0, 0, 0, 0",
    },
    "text": {
        "the cat sat": "the cat sat on the mat. the dog sat on the log.",
        "to be": "to be, or not to be, that is the question",
    },
}
EXAMPLE_NAMES = {  # an example's name → the message id of its name in another language
    "ramp, flat, spike, zigzag": N_("ramp, flat, spike, zigzag"),
    "slow wave": N_("slow wave"),
    "steps": N_("staircase"),  # not "steps": that id is the training steps of other tables
    "the cat sat": N_("the cat sat"),
    "to be": N_("to be"),
}
MODE_NAMES = {"numbers": N_("numbers"), "text": N_("text")}
PLURAL = {
    "space": "spaces",
    "digit": "digits",
    "punctuation mark": "punctuation marks",
    "letter of another script": "letters of other scripts",
    "other symbol (emoji…)": "other symbols (emoji…)",
}
COUNTED = {  # each kind as "3 spaces" in the session's language (English: as PLURAL says)
    "space": lambda n, c: tn("{count} space", "{count} spaces", n, count=c),
    "digit": lambda n, c: tn("{count} digit", "{count} digits", n, count=c),
    "punctuation mark": lambda n, c: tn(
        "{count} punctuation mark", "{count} punctuation marks", n, count=c
    ),
    "letter of another script": lambda n, c: tn(
        "{count} letter of another script", "{count} letters of other scripts", n, count=c
    ),
    "other symbol (emoji…)": lambda n, c: tn(
        "{count} other symbol (emoji…)", "{count} other symbols (emoji…)", n, count=c
    ),
}
_KEYS = {"numbers": "seqb_numbers", "text": "seqb_text"}


@dataclass(frozen=True)
class SequenceInput:
    """What the person typed, ready for the networks."""

    mode: str  # "numbers" or "text"
    values: np.ndarray  # (T,) float64: the numbers, or the letters' places in the alphabet
    text: str  # the text used (after the cap); "" for numbers
    notes: tuple[str, ...]  # things the person should know (cut text, no letters...)
    mapping: TextNumbers | None = None  # text only: what the alphabet rule did to each character


def mapping_note(mapping: TextNumbers) -> str:
    """Return the sentence saying how many characters the alphabet rule mapped, and the rest."""
    total = len(mapping.values)
    if not mapping.zeros:
        return t(
            "Of the {total} characters used, {mapped} are letters a–z and became 1–26.",
            total=f"{total:,}",
            mapped=f"{mapping.mapped:,}",
        )
    # i18n: the separator between counted kinds ("3 spaces, 2 digits")
    rest = t(", ").join(_counted(kind, n) for kind, n in mapping.zeros.items())
    return t(
        "Of the {total} characters used, {mapped} are letters a–z and became 1–26; the other "
        "{other} became 0 ({rest}).",
        total=f"{total:,}",
        mapped=f"{mapping.mapped:,}",
        other=f"{total - mapping.mapped:,}",
        rest=rest,
    )


def _counted(kind: str, n: int) -> str:
    """Return "3 spaces" (a count of one kind of character) in the session's language."""
    return COUNTED[kind](n, f"{n:,}")


def read_sequence(mode: str, raw: str) -> SequenceInput:
    """Return the typed sequence as numbers; raise SequenceError (with a message) if unusable."""
    if mode not in MODES:
        raise SequenceError("Choose numbers or text, not {mode!r}.", mode=mode)
    if mode == "numbers":
        return SequenceInput("numbers", parse_sequence(raw), "", ())
    # a lone surrogate (a broken paste) cannot be drawn or sent to the browser: make it "?"
    text = raw.encode("utf-8", "replace").decode("utf-8")
    if not text.strip():
        raise SequenceError("The text is empty; type a sentence.")
    notes = []
    if len(text) > TEXT_CAP:
        notes.append(
            t(
                "Your text has {n} characters; the first {cap} are used (more cannot be read on "
                "one screen).",
                n=f"{len(text):,}",
                cap=f"{TEXT_CAP:,}",
            )
        )
        text = text[:TEXT_CAP]
    mapping = text_to_numbers(text)
    if not mapping.mapped:
        notes.append(
            t(
                "No letter a–z in the text: every character maps to 0, so both networks see a "
                "flat line. The text CNN below still reads every character."
            )
        )
    return SequenceInput("text", mapping.values, text, tuple(notes), mapping)


def _example_label(name: str) -> str:
    """Return an example's name as shown: itself in English, else its translation."""
    if current_lang() == DEFAULT or name not in EXAMPLE_NAMES:
        return name
    return t(EXAMPLE_NAMES[name])


def _saved() -> dict[str, str]:
    """Return this session's last text per mode (kept while the other mode's box is hidden)."""
    return st.session_state.setdefault(
        "seqb_saved", {m: next(iter(EXAMPLES[m].values())) for m in MODES}
    )


def _load_example(mode: str) -> None:
    name = st.session_state.get(f"seqb_example_{mode}")
    if name in EXAMPLES[mode]:
        st.session_state[_KEYS[mode]] = EXAMPLES[mode][name]


def text_for_ngrams() -> str:
    """Return the text last typed in text mode (capped), or the first text example if unusable."""
    try:
        return read_sequence("text", _saved()["text"]).text
    except ExplorerError:
        return next(iter(EXAMPLES["text"].values()))


def _keep_in_link(mode: str, raw: str) -> None:
    """Write the shown box's text into the URL (unless it is the first example) and drop the
    hidden box's, so a link names one sequence."""
    keep_text(_KEYS[mode], raw, next(iter(EXAMPLES[mode].values())))
    for other in MODES:
        if other != mode:
            keep_param(_KEYS[other], None)


def sequence_box() -> SequenceInput | None:
    """Draw the mode switch, examples and text box; return the reading, or None after an error."""
    with st.container(border=True):
        left, right = st.columns([1, 2], vertical_alignment="bottom")
        mode = linked(left.radio)(
            t("Your sequence is"),
            MODES,
            horizontal=True,
            key="seqb_mode",
            format_func=lambda m: t(MODE_NAMES[m]),
            help=t(
                "Text is turned into numbers by a stated rule (below); the text CNN section "
                "reads the characters or words themselves."
            ),
        )
        right.selectbox(
            t("Load an example"),
            list(EXAMPLES[mode]),
            index=None,
            key=f"seqb_example_{mode}",
            format_func=_example_label,
            placeholder=t("Pick one to replace the box…"),
            on_change=_load_example,
            args=(mode,),
        )
        key = _KEYS[mode]
        # A first visit starts from the link's text; a box hidden by the other mode is restored
        linked_text(key, _saved()[mode])
        if mode == "numbers":
            raw = st.text_area(
                t("Numbers, separated by commas, spaces or semicolons"),
                key=key,
                height=90,
                help=t(
                    "Up to {n} numbers, each between −{most} and {most}.",
                    n=f"{MAX_LENGTH:,}",
                    most=f"{MAX_MAGNITUDE:g}",
                ),
            )
        else:
            raw = st.text_area(
                t("Text"),
                key=key,
                height=90,
                help=t("The first {cap} characters are used.", cap=f"{TEXT_CAP:,}"),
            )
            st.caption(
                t(
                    "**How text becomes numbers here:** each letter is its place in the alphabet "
                    "(a = 1, b = 2 … z = 26; capitals and accents count as the plain letter); any "
                    "other character (space, digit, punctuation, emoji, a letter of another "
                    "script such as Chinese) is 0. This only lets you watch the mechanics on text "
                    "— rises and falls in alphabet position mean nothing. The text CNN section "
                    "further down reads text the way text CNNs really do: one position per "
                    "character or word."
                )
            )
        st.caption(text_note())
        _saved()[mode] = raw
        _keep_in_link(mode, raw)
        try:
            reading = read_sequence(mode, raw)
        except ExplorerError as err:
            st.error(error_text(err))
            return None
        if reading.mapping is not None:
            st.caption(mapping_note(reading.mapping))
        for note in reading.notes:
            st.warning(note)
        return reading
