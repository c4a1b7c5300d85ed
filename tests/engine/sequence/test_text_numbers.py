"""The alphabet rule for text on the "through both" page, against a hand-written table."""

from __future__ import annotations

import string
import unicodedata

from engine.sequence import letter_number, text_to_numbers


def _by_hand(ch: str) -> int:
    plain = unicodedata.normalize("NFKD", ch)[0].lower()
    return string.ascii_lowercase.index(plain) + 1 if plain in string.ascii_lowercase else 0


def test_letters_map_to_their_place_and_everything_else_to_zero():
    text = "AbZ éç ñ 中文 2024, 😀\n"
    assert [letter_number(c) for c in text] == [_by_hand(c) for c in text]
    out = text_to_numbers(text)
    assert out.values.tolist() == [_by_hand(c) for c in text]
    assert out.mapped == sum(1 for c in text if _by_hand(c)) == 6  # A b Z é ç ñ
    assert out.zeros == {
        "space": 6,  # five blanks and the line break
        "digit": 4,
        "letter of another script": 2,
        "punctuation mark": 1,
        "other symbol (emoji…)": 1,
    }
    assert out.mapped + sum(out.zeros.values()) == len(text)


def test_all_chinese_maps_nothing():
    out = text_to_numbers("我爱机器学习")
    assert out.mapped == 0 and not out.values.any()
    assert out.zeros == {"letter of another script": 6}
    plain = text_to_numbers("abc")
    assert plain.mapped == 3 and plain.zeros == {} and plain.values.tolist() == [1, 2, 3]
