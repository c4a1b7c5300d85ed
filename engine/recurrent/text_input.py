"""How does typed text become a sequence a recurrent network can read?

Characters become vocabulary indices (`encode`), with one unknown-character symbol for everything
outside the vocabulary (emoji, CJK, accented letters...) and a length cap with a note instead of a
slow page. Short sequences for the unrolled-RNN page come from `parse_numbers` ("1, 3, 2, 5") or
`one_hot_chars` ("hello" over its own alphabet). Windows line endings are read as "\\n".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from engine.core import ExplorerError

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MAX_NUMBERS",
    "UNK",
    "EncodedText",
    "NumberParseError",
    "SequenceInput",
    "SequenceInputError",
    "TextInputError",
    "Vocabulary",
    "clean_text",
    "encode",
    "one_hot_chars",
    "parse_numbers",
    "read_sequence",
]

UNK = "\ufffd"  # "�", shown wherever a character is outside the vocabulary
DEFAULT_MAX_CHARS = 2_000  # what the gates page traces; more is cut with a note
HARD_MAX_CHARS = 10_000_000  # corpus-sized texts (training) encode fine; beyond is a mistake
MAX_NUMBERS = 64  # an unrolled graph wider than this is not readable
MAX_ABS_NUMBER = 1e6
_NUMBER_SPLIT = re.compile(r"[,;\s]+")


class SequenceInputError(ExplorerError):
    """Typed text or numbers that cannot become a sequence; the message says what to change."""


class TextInputError(SequenceInputError):
    """Text that cannot be encoded (empty, only whitespace, a bad length cap)."""


class NumberParseError(SequenceInputError):
    """A numeric sequence that cannot be read; the message names the offending entry."""


@dataclass(frozen=True)
class Vocabulary:
    """The characters a model knows, in index order; index 0 is the unknown symbol UNK."""

    chars: tuple[str, ...]  # chars[0] == UNK

    def __post_init__(self) -> None:
        if not self.chars or self.chars[0] != UNK or len(set(self.chars)) != len(self.chars):
            raise ValueError("A vocabulary starts with UNK and lists each character once.")
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("Vocabulary entries must be single characters.")
        # code point → id; UNK (U+FFFD) needs no entry: every code point not listed maps to 0
        table = np.zeros(max((ord(c) for c in self.chars[1:]), default=0) + 1, dtype=np.int64)
        table[[ord(c) for c in self.chars[1:]]] = np.arange(1, len(self.chars))
        object.__setattr__(self, "_table", table)

    @classmethod
    def from_text(cls, text: str, size: int = 96) -> Vocabulary:
        """Return UNK plus the `size` most common printable characters of text (ties: by code)."""
        counts = Counter(text)
        usable = [c for c in counts if c.isprintable() or c in "\n\t"]
        usable.sort(key=lambda c: (-counts[c], ord(c)))
        return cls((UNK, *sorted(usable[:size])))

    def __len__(self) -> int:
        return len(self.chars)

    def ids(self, text: str) -> np.ndarray:
        """Return the index of every character of text (int64, (len(text),)); unknown → 0."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        table: np.ndarray = self._table  # type: ignore[attr-defined]
        known = codes < len(table)
        return np.where(known, table[np.where(known, codes, 0)], 0)

    def decode(self, ids: Iterable[int]) -> str:
        """Return the characters of ids as text (UNK for index 0)."""
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class EncodedText:
    """Text ready for a character model, with what was changed to get there."""

    text: str  # what is actually traced: cleaned, cut to max_chars, unknown chars kept as typed
    ids: np.ndarray  # (T,) int64 vocabulary indices; 0 = UNK
    unknown_count: int  # characters of `text` mapped to UNK
    unknown_chars: tuple[str, ...]  # the distinct unknown characters, most frequent first (≤ 20)
    original_length: int  # characters typed (before line-ending cleaning and the cap)
    truncated: bool  # True when text was cut to max_chars

    @property
    def shown(self) -> str:
        """Return the text as the model sees it (unknown characters replaced by UNK)."""
        return "".join(c if i else UNK for c, i in zip(self.text, self.ids.tolist(), strict=True))

    @property
    def note(self) -> str | None:
        """Return one sentence about truncation and unknown characters, or None if neither."""
        parts = []
        if self.truncated:
            kept, typed = len(self.text), self.original_length
            parts.append(f"Only the first {kept:,} of {typed:,} characters are used.")
        if self.unknown_count:
            sample = " ".join(repr(c) for c in self.unknown_chars[:5])
            parts.append(
                f"{self.unknown_count:,} character{'s' if self.unknown_count > 1 else ''} outside "
                f"the model's vocabulary ({sample}) {'are' if self.unknown_count > 1 else 'is'} "
                f"read as the unknown symbol {UNK}."
            )
        return " ".join(parts) or None


def clean_text(text: str) -> str:
    """Return text with Windows/old-Mac line endings as "\\n"; raise TextInputError if blank."""
    if not isinstance(text, str):
        raise TextInputError(f"Expected text, got {type(text).__name__}.")
    if not text.strip():
        raise TextInputError(
            "There is no text to read: type or paste a few words or lines of code."
            if not text
            else "The text is only whitespace: type or paste some characters to read."
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def encode(text: str, vocab: Vocabulary, max_chars: int = DEFAULT_MAX_CHARS) -> EncodedText:
    """Return the EncodedText of the first max_chars characters of text; see TextInputError."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int):
        raise TextInputError(f"max_chars must be a whole number, not {max_chars!r}.")
    if not 1 <= max_chars <= HARD_MAX_CHARS:
        raise TextInputError(f"max_chars must be between 1 and {HARD_MAX_CHARS:,}.")
    if not isinstance(text, str):
        raise TextInputError(f"Expected text, got {type(text).__name__}.")
    # Clean only a prefix, so a 100 MB paste costs no more than its first max_chars characters
    # (CR LF pairs shrink to one character, hence twice the cap).
    head = text[: 2 * max_chars].replace("\r\n", "\n").replace("\r", "\n")
    kept = head[:max_chars]
    if not kept.strip():
        clean_text(text)  # raises the empty / only-whitespace message when that is the case
        raise TextInputError(
            "The first {n} characters are only whitespace: remove the leading blanks.",
            n=f"{max_chars:,}",
        )
    ids = vocab.ids(kept)
    unknown = ids == 0
    counts = Counter(c for c, u in zip(kept, unknown.tolist(), strict=True) if u)
    return EncodedText(
        text=kept,
        ids=ids,
        unknown_count=int(unknown.sum()),
        unknown_chars=tuple(c for c, _ in counts.most_common(20)),
        original_length=len(text),
        truncated=len(text) > 2 * max_chars or len(head) > max_chars,
    )


def parse_numbers(text: str, max_count: int = MAX_NUMBERS) -> np.ndarray:
    """Return the numbers in "1, 3, 2.5; -4" as float64 (T,); raise NumberParseError on junk."""
    if not isinstance(text, str) or not text.strip():
        raise NumberParseError("Type a few numbers separated by commas or spaces, like 1, 3, 2, 5.")
    tokens = [t for t in _NUMBER_SPLIT.split(text.strip()) if t]
    if len(tokens) > max_count:
        raise NumberParseError(
            "That is {n} numbers; use at most {top}.", n=len(tokens), top=max_count
        )
    values = []
    for position, token in enumerate(tokens, start=1):
        try:
            value = float(token.replace("\u2212", "-"))  # a typographic minus is still a minus
        except ValueError:
            raise NumberParseError(
                "Entry {position} ({token!r}) is not a number. Use digits, an optional sign "
                "and decimal point, separated by commas or spaces.",
                position=position,
                token=token[:20],
            ) from None
        if not np.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
            raise NumberParseError(
                "Entry {position} ({token!r}) must be a finite number between -{top} and {top}.",
                position=position,
                token=token[:20],
                top=f"{MAX_ABS_NUMBER:g}",
            )
        values.append(value)
    return np.asarray(values, dtype=np.float64)


def one_hot_chars(text: str, max_len: int = MAX_NUMBERS) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Return (x (T, A) one-hot float32, alphabet A sorted) for a short character sequence."""
    text = clean_text(text)
    if len(text) > max_len:
        raise TextInputError("That is {n} characters; use at most {top}.", n=len(text), top=max_len)
    alphabet = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(alphabet)}
    x = torch.zeros(len(text), len(alphabet))
    x[torch.arange(len(text)), torch.tensor([index[c] for c in text])] = 1.0
    return x, alphabet


@dataclass(frozen=True)
class SequenceInput:
    """A short typed sequence as network input: one vector per step, with labels to show."""

    x: torch.Tensor  # (T, d) float32: d = 1 for numbers, d = alphabet size for characters
    labels: tuple[str, ...]  # what step t shows: "2.5" or "h"
    features: tuple[str, ...]  # what each input dimension means: ("value",) or the alphabet
    kind: str  # "numbers" or "characters"


def read_sequence(text: str, mode: str = "auto", max_len: int = MAX_NUMBERS) -> SequenceInput:
    """Return text as numbers ("1, 3, 2") or one-hot characters; "auto" tries numbers first."""
    if mode not in ("auto", "numbers", "characters"):
        raise SequenceInputError("mode must be 'auto', 'numbers' or 'characters'.")
    if mode != "characters":
        try:
            values = parse_numbers(text, max_count=max_len)
        except NumberParseError:
            if mode == "numbers":
                raise
        else:
            x = torch.as_tensor(values, dtype=torch.float32)[:, None]  # (T, 1)
            return SequenceInput(x, tuple(f"{v:g}" for v in values), ("value",), "numbers")
    x, alphabet = one_hot_chars(text, max_len)
    return SequenceInput(x, tuple(clean_text(text)), alphabet, "characters")
