"""The recurrent engine's short explanations (why a state did not move, why a property is not
scored) in the session's language.

The engine returns them as English sentences; the fixed ones are marked message ids (N_), and the
few with numbers in them are matched here and refilled from a template, so the English stays
exactly the engine's text.
"""

from __future__ import annotations

import re

from engine.recurrent import MOVED, UNK
from ui.i18n import t, tn

_CHANGES = re.compile(r"changes only (\d+) times? in this text")
_TIME = re.compile(
    r"(rises|falls) with time \(r = (\S+) with the position in the text\): any cell that drifts "
    r"would match it"
)


def unmoved_text(reason: str) -> str:
    """Return engine.recurrent.unmoved_reason's sentence in the session's language."""
    if reason == f"where tanh is saturated it flattens the change below {MOVED:g}":
        return t("where tanh is saturated it flattens the change below {moved}", moved=f"{MOVED:g}")
    return t(reason)


def unscored_text(reason: str) -> str:
    """Return engine.recurrent.unscorable_reason's sentence in the session's language."""
    if match := _CHANGES.fullmatch(reason):
        n = int(match[1])
        return tn("changes only {n} time in this text", "changes only {n} times in this text", n)
    if (match := _TIME.fullmatch(reason)) and match[1] == "rises":
        return t(
            "rises with time (r = {r} with the position in the text): any cell that drifts would "
            "match it",
            r=match[2],
        )
    if match:
        return t(
            "falls with time (r = {r} with the position in the text): any cell that drifts would "
            "match it",
            r=match[2],
        )
    return t(reason)


def input_note(encoded) -> str | None:
    """Return engine.recurrent.encode(...).note (cut text, unknown characters) in the session's
    language, or None when there is nothing to say."""
    parts = []
    if encoded.truncated:
        parts.append(
            t(
                "Only the first {kept} of {typed} characters are used.",
                kept=f"{len(encoded.text):,}",
                typed=f"{encoded.original_length:,}",
            )
        )
    if encoded.unknown_count:
        parts.append(
            tn(
                "{count} character outside the model's vocabulary ({sample}) is read as the "
                "unknown symbol {unk}.",
                "{count} characters outside the model's vocabulary ({sample}) are read as the "
                "unknown symbol {unk}.",
                encoded.unknown_count,
                count=f"{encoded.unknown_count:,}",
                sample=" ".join(repr(c) for c in encoded.unknown_chars[:5]),
                unk=UNK,
            )
        )
    return " ".join(parts) or None
