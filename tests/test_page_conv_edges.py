"""Convolution and pooling pages with every widget at its ends: messages, never an exception."""

from __future__ import annotations

import pytest

from tests.charts import charts
from tests.test_pages import assert_clean, open_page
from tests.test_widget_ends import open_lazy_sections

ARITH = "app_pages/conv_arithmetic.py"
EQUI = "app_pages/equivariance.py"
POOL = "app_pages/pooling.py"


def _widget(at, key: str):
    """Return the widget with this key among sliders, number inputs, selects and toggles."""
    kinds = ("slider", "select_slider", "number_input", "selectbox", "multiselect", "radio")
    for kind in (*kinds, "toggle"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def _apply(at, settings: dict | tuple[dict, ...]) -> None:
    """Set each keyed widget to its value, then run the page; a tuple: one run per dict."""
    for stage in settings if isinstance(settings, tuple) else (settings,):
        for key, value in stage.items():
            _widget(at, key).set_value(value)
        at.run()


def test_equivariance_curves_at_the_smallest_working_size_adapt_with_a_message():
    at = open_page(EQUI)
    _apply(at, dict(eq_side=32))
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info] + [w.value for w in at.warning]
    assert any("left out" in n for n in notes), notes


def test_largest_dilation_shows_a_single_step_without_a_slider():
    at = open_page(ARITH)
    _apply(at, dict(arith_n=5, arith_k=3, arith_p=1, arith_d=3))  # one output cell
    assert_clean(at)
    assert not any(s.key == "arith_step" for s in at.slider)
    assert any("only one step" in c.value for c in at.caption), [c.value for c in at.caption]


PAGE_ENDS = {
    EQUI: [
        dict(eq_side=32, eq_dy=-40, eq_dx=40),
        dict(eq_side=32, eq_dy=40, eq_dx=-40, eq_pad="zeros"),
        dict(eq_side=256, eq_dy=0, eq_dx=0),
        dict(eq_kernels=[]),
    ],
    ARITH: [
        dict(arith_n=2, arith_k=1, arith_p=0, arith_s=4, arith_d=3),
        dict(arith_n=2, arith_k=2, arith_p=0, arith_s=1, arith_d=1),  # one step
        dict(arith_n=9, arith_k=5, arith_p=0, arith_s=4, arith_d=2),
        dict(arith_n=9, arith_k=1, arith_p=4, arith_s=1, arith_d=3),
    ],
    POOL: [
        dict(pool_side=32, pool_max_shift=8, pool_dot_col=0, pool_p=0.0),
        dict(pool_side=256, pool_max_shift=1, pool_dot_col=6, pool_p=0.9),
        dict(pool_side=32, pool_size=16, pool_stride=16, pool_k=1),
    ],
    "app_pages/conv_1d.py": [
        dict(c1d_noise=0.0, c1d_width=0.5, c1d_length=1),
        dict(c1d_noise=3.0, c1d_width=20.0, c1d_length=60),
    ],
    "app_pages/why_convolution.py": [
        dict(why_units=5, why_kw=7, why_depth=6, why_unit=0),
        dict(why_units=25, why_kw=1, why_depth=1, why_unit=24),
        dict(why_m=1, why_n=1, why_k=10_000, why_h=1, why_w=1, why_c=1, why_kk=11),
        dict(why_m=10_000_000, why_n=10_000_000, why_k=1, why_h=4096, why_w=4096, why_c=64),
    ],
    "app_pages/conv_layer.py": [
        dict(layer_side=32, layer_pool_size=8, layer_pool_stride=1),
        dict(layer_side=256, layer_pool_size=1, layer_pool_stride=8),
    ],
    "app_pages/conv_2d.py": [
        (dict(k2d_name="gabor"), dict(k2d_side=32, k2d_size=7, k2d_angle=180)),
        (dict(k2d_name="gabor"), dict(k2d_side=256, k2d_size=3, k2d_angle=0)),
    ],
    "app_pages/dense_conv_recurrent.py": [
        dict(cmp_h=1, cmp_w=1, cmp_c=1, cmp_units=1, cmp_k=11, cmp_t=1, cmp_nin=1, cmp_hidden=1),
    ],
}


@pytest.mark.parametrize(
    ("path", "settings"),
    [(path, s) for path, cases in PAGE_ENDS.items() for s in cases],
    ids=lambda v: v.split("/")[-1] if isinstance(v, str) else None,
)
def test_widgets_at_their_ends_never_raise(path, settings):
    at = open_lazy_sections(open_page(path))  # some widgets sit in folded sections
    _apply(at, settings)
    assert_clean(at)


def test_pooling_text_quotes_the_engine_tolerance_and_momentum():
    from engine.pooling import BN_MOMENTUM, STABILITY_TOL

    at = open_lazy_sections(open_page(POOL))  # the stability and batch-norm sections
    assert_clean(at)
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any(f"less than {STABILITY_TOL:.0%} of that map" in t for t in texts)
    assert any(f"momentum {BN_MOMENTUM:g} have moved only {BN_MOMENTUM:.0%}" in t for t in texts)


def test_layer_caption_calls_maps_sparse_only_when_most_values_are_zero():
    at = open_page("app_pages/conv_layer.py")
    caption = " ".join(c.value for c in at.caption)
    zero = [m.value for m in at.metric if m.label == "Detector outputs exactly zero"][0]
    assert f"relu left {zero} of the values exactly zero" in caption
    assert ("so the maps are sparse" in caption) == (int(zero.rstrip("%")) >= 50)
    _apply(at, dict(layer_nonlin="tanh", layer_pool="average"))
    caption = " ".join(c.value for c in at.caption)
    assert "tanh left 0% of the values exactly zero" in caption and "sparse" not in caption
    assert "average pooling keeps one value per window, the mean response" in caption


def _chart_keys(at) -> set[str]:
    """Return the keys of the Plotly charts on screen."""
    return {c.key for c in charts(at)}


def test_flip_maps_are_drawn_only_once_opened():
    at = open_page("app_pages/conv_2d.py")
    assert not any("the two outputs" in c.value for c in at.caption)
    assert not [m for m in at.metric if m.label.startswith("max |convolution")]
    assert _chart_keys(at) == {"k2d_input", "k2d_output", "k2d_kernel", "k2d_arith"}
    at.session_state["open_k2d_flip"] = True
    at.run()
    assert_clean(at)
    assert {"k2d_xcorr", "k2d_true", "k2d_diff"} <= _chart_keys(at)
    assert any(m.label.startswith("max |convolution") for m in at.metric)


def test_flip_caption_follows_the_kernels_symmetry():
    at = open_page("app_pages/conv_2d.py")
    at.session_state["open_k2d_flip"] = True
    at.run()
    assert any("the two outputs differ by up to" in c.value for c in at.caption)
    _apply(at, dict(k2d_name="gaussian"))
    captions = " ".join(c.value for c in at.caption)
    assert "the two outputs are identical" in captions and "differ by up to" not in captions
