"""Text and number input for the recurrent pages: encoding against a dict lookup, every edge input.

References: a plain Python dict lookup per character, hand-written expectations for the notes, and
Python's float() for numbers.
"""

import numpy as np
import pytest
import torch

from engine.recurrent import (
    UNK,
    NumberParseError,
    SequenceInputError,
    TextInputError,
    Vocabulary,
    encode,
    one_hot_chars,
    parse_numbers,
    read_sequence,
)

VOCAB = Vocabulary((UNK, "\n", " ", "(", ")", "a", "b", "c", "d", "e", "=", "'"))


def test_ids_match_a_dict_lookup() -> None:
    text = "abc (d) = 'e'\nZ😀你 a\tb"
    lookup = {c: i for i, c in enumerate(VOCAB.chars)}
    expected = [lookup.get(c, 0) for c in text]
    assert VOCAB.ids(text).tolist() == expected
    assert VOCAB.decode(expected) == "".join(c if c in lookup else UNK for c in text)


def test_unknown_characters_are_counted_and_named() -> None:
    encoded = encode("a😀b你好a你", VOCAB)
    assert encoded.unknown_count == 4
    assert encoded.unknown_chars == ("你", "😀", "好")
    assert encoded.shown == f"a{UNK}b{UNK}{UNK}a{UNK}"
    assert not encoded.truncated and "4 characters outside" in encoded.note
    assert encode("abc", VOCAB).note is None


class _WatchedText(str):
    """A str that records every whole-text operation a cleaner or encoder could run on it."""

    calls: list[str]

    def replace(self, *args, **kwargs):  # type: ignore[override]
        self.calls.append("replace")
        return str.replace(self, *args, **kwargs)

    def encode(self, *args, **kwargs):  # type: ignore[override]
        self.calls.append("encode")
        return str.encode(self, *args, **kwargs)

    def strip(self, *args, **kwargs):  # type: ignore[override]
        self.calls.append("strip")
        return str.strip(self, *args, **kwargs)

    def __iter__(self):
        self.calls.append("iter")
        return str.__iter__(self)


def test_long_text_is_cut_before_any_whole_text_work_and_noted(monkeypatch) -> None:
    text = _WatchedText(("abc de\r\n" * 20_000)[:100_000] + "😀" * 1_000_000)
    text.calls = []
    seen: list[int] = []
    ids = Vocabulary.ids
    monkeypatch.setattr(Vocabulary, "ids", lambda self, t: seen.append(len(t)) or ids(self, t))
    encoded = encode(text, VOCAB, max_chars=2_000)
    assert text.calls == []  # the 1.1M characters are sliced first, never cleaned or scanned
    assert seen == [2_000]  # the vocabulary looks up only what is kept
    assert len(encoded.text) == 2_000 and len(encoded.ids) == 2_000
    assert "\r" not in encoded.text and encoded.truncated
    assert encoded.original_length == 1_100_000
    assert "first 2,000 of 1,100,000 characters" in encoded.note


def test_exactly_the_cap_is_not_truncated() -> None:
    assert not encode("a" * 50, VOCAB, max_chars=50).truncated
    assert encode("a" * 51, VOCAB, max_chars=50).truncated
    assert not encode("ab\r\n" * 25, VOCAB, max_chars=75).truncated  # 100 typed, 75 after CR LF


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "no text"), ("   \n\t ", "only whitespace"), (" " * 5000 + "abc", "leading blanks")],
)
def test_blank_text_is_refused_with_a_message(text: str, fragment: str) -> None:
    with pytest.raises(TextInputError, match=fragment):
        encode(text, VOCAB, max_chars=2_000)


def test_bad_arguments_are_person_errors() -> None:
    for bad in (0, -3, 1.5, True):
        with pytest.raises(TextInputError):
            encode("abc", VOCAB, max_chars=bad)
    with pytest.raises(TextInputError, match="Expected text"):
        encode(None, VOCAB)  # type: ignore[arg-type]
    assert issubclass(TextInputError, SequenceInputError) and issubclass(
        SequenceInputError, ValueError
    )


def test_vocabulary_from_text_keeps_the_most_common_printable() -> None:
    vocab = Vocabulary.from_text("aaaabbbccd\x00\x00\x00\x00\x00\n\n", size=3)
    assert vocab.chars == (UNK, "\n", "a", "b")  # \x00 is not printable; ties broken by code
    with pytest.raises(ValueError):
        Vocabulary(("a", "b"))


def test_parse_numbers() -> None:
    np.testing.assert_array_equal(parse_numbers("1, 3, 2, 5"), [1, 3, 2, 5])
    np.testing.assert_array_equal(parse_numbers(" -1.5;2e1\n\u22123 "), [-1.5, 20, -3])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Type a few numbers"),
        ("1, two, 3", "Entry 2 \\('two'\\)"),
        ("1, nan", "finite"),
        ("inf", "finite"),
        ("1e9", "between"),
        (", ".join(["1"] * 65), "at most 64"),
    ],
)
def test_parse_numbers_refuses_junk(text: str, fragment: str) -> None:
    with pytest.raises(NumberParseError, match=fragment):
        parse_numbers(text)


def test_one_hot_chars() -> None:
    x, alphabet = one_hot_chars("hello")
    assert alphabet == ("e", "h", "l", "o")
    assert x.shape == (5, 4) and torch.equal(x.sum(1), torch.ones(5))
    assert x[2, 2] == 1 and x[3, 2] == 1  # both l's
    with pytest.raises(TextInputError):
        one_hot_chars(" ")
    with pytest.raises(TextInputError, match="at most"):
        one_hot_chars("x" * 100)


def test_read_sequence_numbers_or_characters() -> None:
    numbers = read_sequence("1, 3, 2.5")
    assert numbers.kind == "numbers" and numbers.labels == ("1", "3", "2.5")
    assert numbers.x.shape == (3, 1) and numbers.features == ("value",)
    chars = read_sequence("abca")
    assert chars.kind == "characters" and chars.labels == ("a", "b", "c", "a")
    assert chars.x.shape == (4, 3) and chars.features == ("a", "b", "c")
    assert read_sequence("1 2", mode="characters").features == (" ", "1", "2")
    with pytest.raises(NumberParseError, match="Entry 2"):
        read_sequence("1, x", mode="numbers")
    with pytest.raises(TextInputError):
        read_sequence("   ")
    with pytest.raises(SequenceInputError):
        read_sequence("1", mode="words")
