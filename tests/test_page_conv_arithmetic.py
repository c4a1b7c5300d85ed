"""Padding, stride and dilation page: the matrix check at every setting, the transposed view's
crop, dilation and colours, and each sentence on both sides of what chooses it."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from engine.conv import conv_output_size, transposed_full_size, transposed_output_size
from tests.charts import charts
from tests.test_page_conv_edges import _apply
from tests.test_pages import assert_clean, open_page

ARITH = "app_pages/conv_arithmetic.py"
CHECK = "max |M x − sliding window result|"


def _chart(at, key: str) -> dict:
    """Return the figure JSON of the plotly chart with this widget key."""
    for chart in charts(at):
        if chart.id.endswith(key):
            return json.loads(chart.spec)
    raise KeyError(key)


def _array(value) -> np.ndarray:
    """Return a figure array, whether written as nested lists or as plotly's base64 typed array."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(x) for x in shape.split(",")]) if shape else flat
    return np.array(value, dtype=np.float64)


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _page(**settings):
    at = open_page(ARITH)
    _apply(at, settings)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize(
    "n,k,p,s,d",
    [(7, 3, 0, 2, 2), (7, 3, 1, 1, 2), (9, 3, 2, 1, 3), (5, 2, 0, 1, 3), (9, 5, 4, 3, 2)],
)
def test_matrix_check_is_shown_and_zero_with_dilation(n, k, p, s, d):
    at = _page(arith_n=n, arith_k=k, arith_p=p, arith_s=s, arith_d=d)
    checks = [m for m in at.metric if m.label == CHECK]
    assert len(checks) == 1 and float(checks[0].value) == 0.0
    n_out = conv_output_size(n, k, p, s, d)
    title = _chart(at, "arith_matrix")["layout"]["title"]["text"]
    assert f"({n_out * n_out}, {n * n})" in title, title


def test_transposed_view_shows_the_dilation_it_uses():
    at = _page(arith_d=2)
    _apply(at, dict(arith_mode="transposed"))
    assert_clean(at)
    shown = [w for w in at.number_input if w.label == "Dilation d"]
    assert len(shown) == 1 and shown[0].value == 1 and shown[0].disabled
    assert any(r"1\cdot(3-1)" in latex.value for latex in at.latex)


@pytest.mark.parametrize("n,k,p,s", [(5, 3, 1, 1), (4, 3, 2, 2), (3, 2, 0, 2)])
def test_transposed_crop_border_is_drawn_where_padding_crops(n, k, p, s):
    at = _page(arith_mode="transposed")
    _apply(at, dict(arith_n=n, arith_k=k, arith_p=p, arith_s=s))
    fig = _chart(at, "arith_tanim")
    shaded = [t for t in fig["data"] if t.get("name") == "cropped"]
    full, n_out = transposed_full_size(n, k, s), transposed_output_size(n, k, p, s)
    if p == 0:
        assert not shaded
        assert "Padding 0 crops nothing." in _captions(at)
    else:
        cells = int(np.isfinite(_array(shaded[0]["z"])).sum())  # NaN: kept cells
        assert cells == full * full - n_out * n_out
        assert f"Padding {p} crops a border {p} cell" in _captions(at)


def test_output_colours_are_centred_at_zero_so_negatives_read_below_zero():
    at = _page(arith_mode="transposed")
    anim = _chart(at, "arith_tanim")
    output = anim["data"][2]  # the trace each frame replaces
    assert output["zmin"] == -output["zmax"] < 0
    assert all(f["traces"] == [2] for f in anim["frames"])
    result = _chart(at, "arith_tresult")["data"][0]
    assert result["zmin"] == -result["zmax"] < 0


@pytest.mark.parametrize(
    "settings,expected",
    [
        (dict(arith_n=5, arith_k=3, arith_p=1), "which keeps the input's size"),
        (dict(arith_n=5, arith_k=3, arith_p=0), "which is smaller than the input"),
        (dict(arith_n=3, arith_k=1, arith_p=2), "which is larger than the input"),
        (
            dict(arith_n=7, arith_k=3, arith_p=1, arith_s=2),
            "At stride 1 instead of 2 it would be 7×7",
        ),
        (
            dict(arith_n=5, arith_k=3, arith_p=1, arith_d=3),
            "Without the padding of 1 the kernel would not fit",
        ),
        (dict(arith_n=5, arith_k=3, arith_p=1, arith_d=2), "over 5×5 cells"),
    ],
)
def test_convolution_sentences_follow_the_sizes(settings, expected):
    assert expected in _captions(_page(**settings))


def test_no_reset_sentence_when_every_setting_is_neutral():
    text = _captions(_page(arith_n=5, arith_k=3, arith_p=0, arith_s=1, arith_d=1))
    assert "it would be" not in text and "would not fit" not in text and "Dilation" not in text


@pytest.mark.parametrize(
    "settings,overlap,empty",
    [
        (dict(arith_n=3, arith_k=3, arith_s=1), "up to 9 stamps", False),
        (dict(arith_n=3, arith_k=3, arith_s=3), "no two stamps overlap", False),
        (dict(arith_n=3, arith_k=2, arith_s=3), "no two stamps overlap", True),
    ],
)
def test_transposed_overlap_sentence_follows_the_stamp_counts(settings, overlap, empty):
    at = _page(arith_mode="transposed")
    _apply(at, settings)
    text = _captions(at)
    assert overlap in text
    assert ("get no stamp at all" in text) == empty


@pytest.mark.parametrize(
    "settings,sparse,shared",
    [
        (dict(arith_n=5, arith_k=3, arith_p=1), True, True),
        (dict(arith_n=2, arith_k=2, arith_p=0), False, True),  # one output reading all 4 inputs
        (dict(arith_n=2, arith_k=1, arith_p=0, arith_s=4), True, False),  # one weight, used once
    ],
)
def test_matrix_sentences_follow_the_matrix(settings, sparse, shared):
    text = _captions(_page(**settings))
    assert ("(sparse interactions)" in text) == sparse
    assert ("every output reads every input" in text) == (not sparse)
    assert ("(parameter sharing)" in text) == shared
    assert ("no weight is used twice" in text) == (not shared)
