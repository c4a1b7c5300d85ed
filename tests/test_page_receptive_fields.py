"""The receptive-fields page in AppTest: sentences follow the numbers, units keep their place."""

from __future__ import annotations

import re

import pytest

from engine.receptive_field import (
    MOST_EXTENT,
    SMALL_EXTENT,
    WIDE_SIDE,
    carry_unit,
    doubling_dilations,
    power_words,
    stack_rf,
    widths_grow,
)
from tests.charts import charts
from tests.test_pages import assert_clean, open_page
from tests.test_widget_ends import open_lazy_sections

PAGE = "app_pages/receptive_fields.py"
VISIBLE = {"rf_growth", "rf_map", "rf_image", "rf_erf"}
LAZY = {  # each lazy section's key and the charts it alone draws
    "open_rf_trained": {"rf_cnn_input", "rf_cnn_random", "rf_cnn_trained"},
    "open_rf_depth": {"rf_depth"},
    "open_rf_dilated": {"rf_dil", "rf_rates"},
}


@pytest.fixture(scope="module")
def page():
    at = open_lazy_sections(open_page(PAGE))
    assert_clean(at)
    return at


def _chart_keys(at) -> set[str]:
    """Return the keys of the Plotly charts on screen."""
    return {c.key for c in charts(at)}


def test_first_visit_draws_no_lazy_section_and_each_opens_alone():
    at = open_page(PAGE)
    assert_clean(at)
    assert _chart_keys(at) == VISIBLE
    assert set(LAZY) <= set(at.session_state.keys())
    assert not [c for c in at.caption if "fitted on log–log axes" in c.value]
    for key, expected in LAZY.items():
        at.session_state[key] = True
        at.run()
        assert_clean(at)
        assert not at.error, [e.value for e in at.error]
        assert _chart_keys(at) == VISIBLE | expected, key
        at.session_state[key] = False


def _caption(at, start: str) -> str:
    return next(c.value for c in at.caption if start in c.value)


def _expected_words(share: float) -> str:
    if share < SMALL_EXTENT:
        return "only a small central blob"
    return "part of" if share < MOST_EXTENT else "most of"


def test_effective_field_words_follow_the_measured_share_of_the_square(page):
    text = _caption(page, "of the square (")
    shares = [int(v) / 100 for v in re.findall(r"(\d+)% of the square \(", text)]
    assert len(shares) == 2  # random, trained
    words = re.search(
        r"random weights the effective field covers (.+?) the theoretical square, "
        r"after training (.+?) it;",
        text,
    )
    assert words is not None, text
    for share, part in zip(shares, words.groups(), strict=True):
        assert part.startswith(_expected_words(share))
    # the old caption called both fields "small blobs" whatever their share
    assert "small blobs" not in text
    if min(shares) >= SMALL_EXTENT:
        assert "small" not in text


def test_clicked_unit_caption_states_its_own_share(page):
    text = _caption(page, "orange square. The gradient")
    share = int(re.search(r"on (\d+)% of the square", text).group(1)) / 100
    assert _expected_words(share) in text
    assert "much smaller" not in text


def test_changing_layer_keeps_the_units_place_in_the_image():
    at = open_page(PAGE)
    names = at.selectbox(key="rf_layer").options
    at.selectbox(key="rf_layer").set_value(names[0]).run()
    first_h = int(at.number_input(key="rf_row").max) + 1  # conv1 keeps the image's size
    unit = (first_h - 3, 20)  # near the bottom, left of centre
    at.number_input(key="rf_row").set_value(unit[0]).run()
    at.number_input(key="rf_col").set_value(unit[1]).run()
    at.selectbox(key="rf_layer").set_value(names[-1]).run()
    assert_clean(at)
    got = (at.number_input(key="rf_row").value, at.number_input(key="rf_col").value)
    rows = stack_rf(DEFAULT_STACK, first_h)
    assert [r.name for r in rows] == list(names)
    assert got == carry_unit(rows[0], unit, rows[-1])
    # the old page kept the row and column numbers (clamped): a different place in the image
    last_h = rows[-1].out_shape[0]
    assert got != (min(unit[0], last_h - 1), unit[1])


DEFAULT_STACK = [
    {"kind": kind, "k": k, "s": s, "p": p, "d": 1}
    for kind, k, s, p in [("conv", 3, 1, 1)] * 2
    + [("pool", 2, 2, 0)]
    + [("conv", 3, 1, 1)] * 2
    + [("pool", 2, 2, 0)]
    + [("conv", 3, 1, 1)] * 2
]


def test_growth_caption_names_only_the_power_law_the_fit_supports(page):
    text = _caption(page, "fitted on log–log axes")
    fits = re.findall(r"the (\w+) spread grows like n\^([\d.]+) \(([^)]+)\)", text)
    assert [name for name, _, _ in fits] == ["theoretical", "effective"], text
    for _, exponent, words in fits:
        assert words == (
            f"close to {power_words(float(exponent))}"
            if power_words(float(exponent))
            else "neither n nor √n"
        )
    # the old text asserted √n before any number was measured
    assert not any("the effective one like √n" in m.value for m in page.markdown)


def test_dilation_caption_claims_wider_blobs_only_when_they_widen(page):
    text = _caption(page, "Typical width of a response blob")
    widths = [float(w) for w in re.findall(r"([\d.]+) px at d = \d+", text)]
    assert len(widths) == 4
    if widths_grow(widths):
        assert "the blobs widen with the rate" in text
    else:
        assert "do not widen steadily" in text
    assert "blobs of four sizes" not in text  # the old, unmeasured claim


def test_doubling_dilation_fields_are_listed_from_the_stack(page):
    text = _caption(page, "Field per layer with doubling dilation")
    depth = page.slider(key="rf_dil_depth").value
    sizes = [r.size for r in stack_rf(doubling_dilations(depth), WIDE_SIDE)]
    assert ", ".join(map(str, sizes)) in text
