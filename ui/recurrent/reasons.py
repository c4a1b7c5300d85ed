"""The recurrent engine's short explanations (why a state did not move, why a property is not
scored, what happened to the typed text) in the session's language.

The reasons come from the engine as Phrases (a message id and its parameters), so the English is
exactly the engine's text and the Chinese is the catalog's, with the same numbers.
"""

from __future__ import annotations

from engine.core import Phrase
from engine.recurrent import UNK
from ui.i18n import phrase_text, t, tn


def unmoved_text(reason: Phrase) -> str:
    """Return engine.recurrent.unmoved_reason's sentence in the session's language."""
    return phrase_text(reason)


def unscored_text(reason: Phrase) -> str:
    """Return engine.recurrent.unscorable_reason's sentence in the session's language."""
    return phrase_text(reason)


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
