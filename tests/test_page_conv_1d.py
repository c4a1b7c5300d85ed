"""Convolution in 1D page: the renormalised start named, one s(t) term by term against the
engine, distinct colours, and the error sentence on each side."""

from __future__ import annotations

import json

import pytest

from engine.conv import (
    age_kernel,
    causal_smooth,
    renormalised_until,
    smoothing_terms,
    spacecraft_track,
)
from tests.charts import charts
from tests.tables import numbers, tables
from tests.test_page_conv_edges import _apply
from tests.test_pages import assert_clean, open_page

PAGE = "app_pages/conv_1d.py"


def _page(**settings):
    at = open_page(PAGE)
    _apply(at, settings)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    return at


def _text(at) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(
    "kind,width,length",
    [("exponential", 4.0, 20), ("uniform", 4.0, 20), ("uniform", 0.5, 20), ("exponential", 4.0, 1)],
)
def test_renormalised_steps_are_named_from_the_kernel(kind, width, length):
    at = _page(c1d_kind=kind, c1d_width=width, c1d_length=length)
    until = renormalised_until(age_kernel(kind, width, length))
    if until:
        assert f"Shaded: t = 0 … {until - 1}." in _text(at)
        assert f"From t = {until} on, s is the plain convolution." in _text(at)
    else:
        assert "no time step needs renormalising" in _text(at)
    assert ("uniform", 4.0) != (kind, width) or until == 3  # ages 0..3 weighted, not 0..19


@pytest.mark.parametrize("pick", [0, 2, 3, 19, 150])
def test_picked_step_is_written_term_by_term_and_matches_the_engine(pick):
    at = _page(c1d_kind="uniform", c1d_width=4.0, c1d_t=pick)
    _, noisy = spacecraft_track(n=200, noise=0.8, seed=0)
    w = age_kernel("uniform", 4.0, 20)
    terms = smoothing_terms(noisy, w, pick)
    table = tables(at)[0]
    assert numbers(table["time a"]) == [a for a, *_ in terms]
    assert numbers(table["x(a) × weight"]) == pytest.approx(
        [x * wa for _, x, wa in terms], abs=5e-5
    )
    metrics = {m.label: float(m.value) for m in at.metric}
    expected = causal_smooth(noisy, w)[pick]
    assert metrics["Sum of the terms"] == pytest.approx(expected, abs=1e-6)
    assert metrics["s(t) from the engine"] == pytest.approx(expected, abs=1e-6)
    renormalised = f"t = {pick} is renormalised" in _text(at)
    assert renormalised == (pick < renormalised_until(w))


def test_measurements_truth_and_estimate_have_distinct_colours():
    at = _page()
    fig = json.loads(charts(at)[0].spec)
    colours = {}
    for trace in fig["data"]:
        colours[trace["name"]] = trace.get("marker", {}).get("color") or trace["line"]["color"]
    assert len(set(colours.values())) == 3, colours


@pytest.mark.parametrize(
    "settings,expected",
    [
        (dict(c1d_noise=0.8, c1d_width=4.0), "smoothing lowers the error"),
        (dict(c1d_noise=0.0, c1d_width=4.0), "smoothing raises the error"),
        (dict(c1d_noise=0.8, c1d_length=1), "smoothing leaves the error at"),
    ],
)
def test_error_sentence_follows_the_two_errors(settings, expected):
    text = _text(_page(**settings))
    assert expected in text
    assert ("with σ = 0 the readings are already exact" in text) == (settings["c1d_noise"] == 0)


@pytest.mark.parametrize(
    ("noise", "kind", "width", "length", "phrase"),
    [
        (2.0, "uniform", 1.0, 20, "so here wider wins"),
        (0.8, "exponential", 4.0, 20, "here the lag costs more: wider loses"),
        (0.8, "uniform", 4.0, 20, "the two about cancel"),
        (0.0, "exponential", 4.0, 20, "there is no trade-off to weigh"),
        (0.8, "exponential", 4.0, 1, "gives the very same weights here"),
    ],
)
def test_wider_kernel_sentence_follows_the_measured_noise_and_lag(
    noise, kind, width, length, phrase
):
    from engine.conv import WIDER, width_tradeoff

    at = _page(c1d_noise=noise, c1d_kind=kind, c1d_width=width, c1d_length=length)
    assert phrase in _text(at), _text(at)
    assert "Try a wider kernel" not in _text(at)  # no advice the numbers have not checked
    (table,) = [d for d in tables(at) if "lag error (RMSE)" in d.columns]
    true, noisy = spacecraft_track(n=200, noise=noise, seed=0)
    tradeoff = width_tradeoff(true, noisy, kind, width, length)
    assert list(table["lag error (RMSE)"]) == [
        f"{tradeoff.current.lag:.3f}",
        f"{tradeoff.wider.lag:.3f}",
    ]
    assert table["kernel"][1] == f"width {width * WIDER:g} ({WIDER:g}× as wide)"
