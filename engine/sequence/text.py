"""What does a person's typed sequence become, and what does a text CNN's n-gram filter see?

`parse_sequence` reads "1, 3, 2, 5" (commas, semicolons, spaces or new lines between numbers) into
an array, refusing anything it cannot read with a message that says what to fix. `ngram_filters`
slides n-gram filters over a text's characters or words as a Conv1d over one-hot vectors: the
context-window modelling of text CNNs (Kim, "Convolutional Neural Networks for Sentence
Classification", 2014), where a filter of width n fires on the windows that match its pattern and
max pooling over time keeps its best window.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.core import N_, ExplorerError, seeded

__all__ = [
    "MAX_FILTERS",
    "MAX_LENGTH",
    "MAX_MAGNITUDE",
    "MAX_NGRAM",
    "MAX_TEXT",
    "NgramResult",
    "SequenceError",
    "TextNumbers",
    "busiest_filter",
    "ngram_filters",
    "letter_number",
    "parse_sequence",
    "text_to_numbers",
    "token_strength",
    "top_windows",
]

MAX_LENGTH = 1_000  # numbers in one typed sequence: more cannot be drawn or read on a page
MAX_TEXT = 5_000  # characters of text for ngram_filters
MAX_NGRAM = 8  # widest n-gram filter
MAX_FILTERS = 16  # filters (or typed n-grams) in one call
MAX_MAGNITUDE = 1e12
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SEPARATORS = re.compile(r"[\s,;]+")


class SequenceError(ExplorerError):
    """A typed sequence or sequence setting that cannot be used; the message says what to change."""


def parse_sequence(text: str) -> np.ndarray:
    """Return the numbers in text as a (T,) float64 array, 1 ≤ T ≤ MAX_LENGTH.

    Numbers are separated by commas, semicolons, spaces or new lines (so "1,5" is two numbers);
    "−" (the typographic minus) counts as "-". NaN, infinity, words and symbols are refused.
    """
    if not isinstance(text, str):
        raise SequenceError("Type the sequence as text, e.g. 1, 3, 2, 5.")
    tokens = [t for t in _SEPARATORS.split(text.replace("\u2212", "-")) if t]
    if not tokens:
        raise SequenceError("The sequence is empty; type numbers such as 1, 3, 2, 5.")
    if len(tokens) > MAX_LENGTH:
        raise SequenceError(
            "That is {n:,} items; the limit is {cap:,}. Paste a shorter piece.",
            n=len(tokens),
            cap=MAX_LENGTH,
        )
    bad = [(i, t) for i, t in enumerate(tokens, 1) if not _NUMBER.fullmatch(t)]
    if bad:
        _not_a_number(bad)
    values = np.array([float(t) for t in tokens])
    if not np.isfinite(values).all() or np.abs(values).max() > MAX_MAGNITUDE:
        raise SequenceError("Keep every number between −{most:g} and {most:g}.", most=MAX_MAGNITUDE)
    return values


_NOT_A_NUMBER = {  # (NaN or infinity?, more bad items?) → the message
    (False, False): N_(
        "Item {i}, “{shown}”, is not a number: use digits only, separated by commas, spaces or "
        "semicolons."
    ),
    (False, True): N_(
        "Item {i}, “{shown}”, is not a number (and {more} more): use digits only, separated by "
        "commas, spaces or semicolons."
    ),
    (True, False): N_(
        "Item {i}, “{shown}”, is not a number: NaN and infinity are not numbers we can draw."
    ),
    (True, True): N_(
        "Item {i}, “{shown}”, is not a number (and {more} more): NaN and infinity are not numbers "
        "we can draw."
    ),
}


def _not_a_number(bad: list[tuple[int, str]]) -> None:
    """Raise SequenceError naming the first item that is not a number (and how many more)."""
    i, token = bad[0]
    shown = token if len(token) <= 20 else token[:20] + "…"
    infinite = token.lower().lstrip("+-") in ("nan", "inf", "infinity")
    raise SequenceError(
        _NOT_A_NUMBER[(infinite, len(bad) > 1)], i=i, shown=shown, more=len(bad) - 1
    )


def letter_number(ch: str) -> int:
    """Return a letter's place in the alphabet (a = 1 … z = 26, accents dropped), else 0."""
    base = unicodedata.normalize("NFKD", ch)[:1].lower()
    return ord(base) - 96 if "a" <= base <= "z" else 0


_KINDS = {"Z": "space", "N": "digit", "P": "punctuation mark", "L": "letter of another script"}


@dataclass(frozen=True)
class TextNumbers:
    """A text read by the alphabet rule: the numbers, and what happened to each character."""

    values: np.ndarray  # (L,) float64: a letter's place a = 1 … z = 26, every other character 0
    mapped: int  # characters that are a letter a–z (after dropping accents): values 1 … 26
    zeros: dict[str, int]  # the rest by kind ("space", "digit", …) -> count; each became 0


def text_to_numbers(text: str) -> TextNumbers:
    """Return the TextNumbers of text: letters a–z (any case, accents dropped) as 1 … 26, else 0.

    The characters that became 0 are counted by Unicode category: spaces (and line breaks),
    digits, punctuation, letters of other scripts (e.g. Chinese), and "other symbols" (emoji…).
    """
    values = np.array([letter_number(ch) for ch in text], dtype=np.float64)
    zeros: Counter[str] = Counter()
    for ch, v in zip(text, values, strict=True):
        if v == 0:
            kind = "space" if ch.isspace() else _KINDS.get(unicodedata.category(ch)[0])
            zeros[kind or "other symbol (emoji…)"] += 1
    return TextNumbers(values, int((values > 0).sum()), dict(zeros.most_common()))


@dataclass(frozen=True)
class NgramResult:
    """n-gram filters slid over a text: what each window is and how strongly each filter fires."""

    unit: str  # "char" or "word"
    n: int
    tokens: tuple[str, ...]  # the text as characters or words (lower-cased)
    windows: tuple[str, ...]  # the W = len(tokens) − n + 1 n-grams the filters see, in order
    filter_names: tuple[str, ...]  # the n-gram each designed filter detects, or "random i"
    matches: np.ndarray  # (F, W) filter·window before bias: tokens in place (designed) or score
    activations: np.ndarray  # (F, W) ReLU(filter·window + bias): > 0 where the filter fires
    fires: tuple[tuple[int, ...], ...]  # per filter, the window indices where it fires
    pooled: np.ndarray  # (F,) max over time: the filter's strongest window
    pooled_at: np.ndarray  # (F,) int that window's index (the earliest on ties)


def _tokens(text: str, unit: str) -> list[str]:
    text = text.lower()
    if unit == "char":
        return list(text)
    return re.findall(r"\w+|[^\w\s]", text)


def ngram_filters(
    text: str,
    n: int = 3,
    unit: str = "char",
    targets: tuple[str, ...] | None = None,
    n_filters: int = 4,
    random_filters: bool = False,
    seed: int = 0,
) -> NgramResult:
    """Return an NgramResult: n-gram filters run as a Conv1d over the text's one-hot tokens.

    Designed filters (the default) put weight 1 on one token at each of the n offsets and bias
    −(n − 1), so they fire (activation 1) exactly on their n-gram and `matches` counts how many
    tokens of each window agree. Their n-grams are `targets` (for words: n words separated by
    spaces) or else the text's n_filters most frequent n-grams. random_filters=True draws n_filters
    Gaussian filters from `seed` with zero bias: they fire on whatever windows happen to align.
    """
    _check_ngram_args(text, n, unit, n_filters)
    tokens = _tokens(text, unit)
    if len(tokens) < n:
        raise SequenceError(_TOO_SHORT[unit], count=len(tokens), n=n)
    glue = "" if unit == "char" else " "
    windows = [glue.join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    index = {tok: i for i, tok in enumerate(sorted(set(tokens)))}
    if random_filters:
        names = [f"random {i + 1}" for i in range(n_filters)]
        weight = torch.randn(n_filters, len(index), n, generator=seeded(seed))
        bias = torch.zeros(n_filters)
    else:
        grams = _designed_targets(targets, windows, tokens, n, unit, n_filters)
        names = [glue.join(g) for g in grams]
        weight, bias = _designed_filters(grams, index, n)
    matches = F.conv1d(_onehot(tokens, index), weight)[0]  # (F, W)
    activations = F.relu(matches + bias[:, None])
    return _ngram_result(unit, n, tokens, windows, names, matches, activations)


_TOO_SHORT = {
    "char": N_("The text has {count} chars; a width-{n} filter needs {n}."),
    "word": N_("The text has {count} words; a width-{n} filter needs {n}."),
}
_TARGET_LENGTH = {
    "char": N_("“{target}” is {length} chars long; every target needs {n}."),
    "word": N_("“{target}” is {length} words long; every target needs {n}."),
}


def _check_ngram_args(text: str, n: int, unit: str, n_filters: int) -> None:
    """Raise SequenceError naming the first setting ngram_filters cannot use."""
    if unit not in ("char", "word"):
        raise SequenceError("unit must be 'char' or 'word', got {unit!r}.", unit=unit)
    if not isinstance(text, str) or not text.strip():
        raise SequenceError("The text is empty; type a sentence.")
    if len(text) > MAX_TEXT:
        raise SequenceError(
            "The text has {n:,} characters; the limit is {cap:,}.", n=len(text), cap=MAX_TEXT
        )
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NGRAM:
        raise SequenceError(
            "The filter width n must be a whole number from 1 to {most}, got {n!r}.",
            most=MAX_NGRAM,
            n=n,
        )
    if not 1 <= n_filters <= MAX_FILTERS:
        raise SequenceError("Use between 1 and {most} filters.", most=MAX_FILTERS)


def _onehot(tokens: list[str], index: dict[str, int]) -> torch.Tensor:
    """Return the tokens as one-hot columns, (1, V, L)."""
    onehot = torch.zeros(1, len(index), len(tokens))
    onehot[0, [index[t] for t in tokens], torch.arange(len(tokens))] = 1.0
    return onehot


def _designed_filters(
    grams: list[tuple[str, ...]], index: dict[str, int], n: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (weight (F, V, n), bias (F,)): weight 1 on each gram's token per offset, −(n − 1)."""
    weight = torch.zeros(len(grams), len(index), n)
    for f, gram in enumerate(grams):
        for offset, tok in enumerate(gram):
            if tok in index:  # a token absent from the text can never match
                weight[f, index[tok], offset] = 1.0
    return weight, torch.full((len(grams),), -(n - 1.0))


def _ngram_result(
    unit: str,
    n: int,
    tokens: list[str],
    windows: list[str],
    names: list[str],
    matches: torch.Tensor,
    activations: torch.Tensor,
) -> NgramResult:
    """Return the NgramResult of the filters' matches and activations, (F, W) each."""
    act = activations.numpy().astype(np.float64)
    return NgramResult(
        unit=unit,
        n=n,
        tokens=tuple(tokens),
        windows=tuple(windows),
        filter_names=tuple(names),
        matches=matches.numpy().astype(np.float64),
        activations=act,
        fires=tuple(tuple(np.flatnonzero(row > 1e-9).tolist()) for row in act),
        pooled=act.max(axis=1),
        pooled_at=act.argmax(axis=1),
    )


def token_strength(result: NgramResult, f: int) -> np.ndarray:
    """Return (L,): for each token, filter f's strongest activation over the windows holding it."""
    strength = np.zeros(len(result.tokens))
    for i, a in enumerate(result.activations[f]):
        strength[i : i + result.n] = np.maximum(strength[i : i + result.n], a)
    return strength


def top_windows(result: NgramResult, count: int = 3) -> list[np.ndarray]:
    """Return per filter the indices of its count strongest windows, earliest first on ties."""
    return [np.argsort(-row, kind="stable")[:count] for row in result.activations]


def busiest_filter(result: NgramResult) -> tuple[int, int]:
    """Return (the filter firing on most windows, earliest on ties; how many filters never fire)."""
    counts = [len(f) for f in result.fires]
    return int(np.argmax(counts)), sum(1 for c in counts if c == 0)


def _designed_targets(
    targets: tuple[str, ...] | None,
    windows: list[str],
    tokens: list[str],
    n: int,
    unit: str,
    n_filters: int,
) -> list[tuple[str, ...]]:
    if targets is None:
        grams = [tuple(tokens[i : i + n]) for i in range(len(windows))]
        return [g for g, _ in Counter(grams).most_common(n_filters)]  # ties: first seen first
    if not 1 <= len(targets) <= MAX_FILTERS:
        raise SequenceError("Give between 1 and {most} n-grams to detect.", most=MAX_FILTERS)
    out = []
    for target in targets:
        gram = tuple(target.lower()) if unit == "char" else tuple(_tokens(target, "word"))
        if len(gram) != n:
            raise SequenceError(_TARGET_LENGTH[unit], target=target, length=len(gram), n=n)
        out.append(gram)
    return out
