"""Links that reopen a view: a page opened with query parameters shows the view they name, and a
parameter it cannot use falls back to the default with a notice naming it."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.conv import make_kernel
from engine.receptive_field import stack_rf
from tests.charts import charts
from tests.tables import tables
from tests.test_pages import APP, assert_clean
from ui.links import (
    SHOWN_VALUE,
    STACK_FIELDS,
    TEXT_IN_LINK,
    _fits,
    _shown,
    decode_grid,
    decode_stack,
    encode_grid,
    encode_stack,
)

KINDS = ["conv", "pool", "avgpool"]
LIMITS = {"k": (1, 15), "s": (1, 8), "p": (0, 8), "d": (1, 8)}


def open_link(path: str, **params: str) -> AppTest:
    """Return the app opened on path by a URL carrying params (English unless lang= is given)."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = params.pop("lang", "en")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(path).run()
    assert_clean(at)
    return at


def toasts(at: AppTest) -> list[str]:
    return [toast.value for toast in at.toast]


def chart(at: AppTest, key: str) -> dict:
    """Return the Plotly figure drawn under key, as its JSON spec."""
    return json.loads(next(c for c in charts(at) if c.id.endswith(key)).spec)


def grid_values(at: AppTest, key: str) -> np.ndarray:
    """Return the numbers of the first heatmap drawn under key (Plotly ships them as base64)."""
    z = chart(at, key)["data"][0]["z"]
    if isinstance(z, dict):
        shape = [int(n) for n in str(z["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z, dtype=np.float64)


# --- the encodings a link uses, against the values they were made from ------------------------


def test_a_kernel_survives_the_link_and_back():
    kernel = make_kernel("gabor", 5, angle_deg=30.0).numpy().astype("float64").round(4).tolist()
    assert decode_grid(encode_grid(kernel), (5, 5)) == kernel
    assert encode_grid([[1.0, 0.0, -1.0], [2.5, 0.0, -2.5]]) == "1,0,-1;2.5,0,-2.5"


@pytest.mark.parametrize(
    "text",
    [
        "1,2,x;4,5,6;7,8,9",
        "1,2;3,4",
        "1,2,3;4,5,6",
        "",
        "nan,1,1;1,1,1;1,1,1",
        "inf,1,1;1,1,1;1,1,1",
    ],
)
def test_a_malformed_kernel_is_refused(text):
    assert decode_grid(text, (3, 3)) is None


def test_a_stack_survives_the_link_and_back():
    layers = [
        dict(kind="conv", k=5, s=1, p=2, d=1),
        dict(kind="pool", k=2, s=2, p=0, d=1),
        dict(kind="avgpool", k=3, s=1, p=1, d=1),
        dict(kind="conv", k=3, s=1, p=4, d=4),
    ]
    text = encode_stack(layers)
    assert text == "conv-5-1-2-1_pool-2-2-0-1_avgpool-3-1-1-1_conv-3-1-4-4"
    assert decode_stack(text, KINDS, LIMITS) == layers


@pytest.mark.parametrize(
    "text",
    [
        "deconv-3-1-1-1",  # unknown kind
        "conv-3-1-1",  # a number missing
        "conv-3-1-1-1-1",  # one too many
        "conv-16-1-1-1",  # k above its limit
        "conv-3-0-1-1",  # s below its limit
        "conv-3-1--1-1",  # a negative number
        "conv-3-1-x-1",
        "",
    ],
)
def test_a_malformed_stack_is_refused(text):
    assert decode_stack(text, KINDS, LIMITS) is None


def test_a_stack_at_its_limits_is_accepted():
    low = "_".join(["conv-" + "-".join(str(LIMITS[f][0]) for f in STACK_FIELDS)])
    high = "_".join(["pool-" + "-".join(str(LIMITS[f][1]) for f in STACK_FIELDS)])
    assert decode_stack(low, KINDS, LIMITS) == [dict(kind="conv", k=1, s=1, p=0, d=1)]
    assert decode_stack(high, KINDS, LIMITS) == [dict(kind="pool", k=15, s=8, p=8, d=8)]


# --- a page opened by a link shows the view the link names ------------------------------------


def test_kernels_page_opens_the_kernel_size_and_picture_of_the_link():
    at = open_link("app_pages/conv_2d.py", k2d_name="laplacian", k2d_size="5", img="house")
    assert at.selectbox(key="k2d_name").value == "laplacian"
    assert at.radio(key="k2d_size").value == 5
    assert any("House" in c.value for c in at.caption)
    title = chart(at, "k2d_output")["layout"]["title"]["text"]
    assert "laplacian 5×5" in title
    shown = grid_values(at, "k2d_kernel")
    # the editor holds the bank's values to 4 decimals
    np.testing.assert_allclose(shown, make_kernel("laplacian", 5).numpy(), atol=5e-5)
    assert not toasts(at)


def test_kernels_page_opens_the_edited_kernel_of_the_link():
    edited = [[1.0, 2.0, 3.0], [0.0, -1.5, 0.0], [-3.0, -2.0, -1.0]]
    at = open_link("app_pages/conv_2d.py", k2d_size="3", k2d_kernel=encode_grid(edited))
    shown = grid_values(at, "k2d_kernel")
    np.testing.assert_allclose(shown, edited)
    assert at.query_params["k2d_kernel"] == encode_grid(edited)  # kept for the next copy


def test_receptive_field_page_opens_the_stack_of_the_link():
    layers = [dict(kind="conv", k=7, s=2, p=3, d=1), dict(kind="pool", k=3, s=2, p=1, d=1)]
    at = open_link("app_pages/receptive_fields.py", rf_stack=encode_stack(layers), rf_side="64")
    table = next(d for d in tables(at) if "r" in d.columns)  # the editor is no table
    expected = stack_rf(layers, 64)
    assert list(table["r"]) == [str(row.size) for row in expected]
    assert at.slider(key="rf_side").value == 64


@pytest.mark.parametrize(
    ("path", "widgets"),
    [
        (
            "app_pages/pooling.py",
            {("number_input", "pool_size"): 3, ("number_input", "pool_stride"): 1},
        ),
        ("app_pages/pooling.py", {("slider", "pool_side"): 64}),
        (  # the teach page's settings travel; its examples never do
            "app_pages/teach_classes.py",
            {
                ("slider", "tc_blocks"): 1,
                ("slider", "tc_filters"): 3,
                ("number_input", "tc_seed"): 42,
            },
        ),
    ],
)
def test_a_page_opens_the_numbers_of_the_link(path, widgets):
    at = open_link(path, **{key: str(value) for (_, key), value in widgets.items()})
    for (kind, key), value in widgets.items():
        assert getattr(at, kind)(key=key).value == value
    assert not toasts(at)


def test_lstm_page_opens_the_typed_text_of_the_link():
    at = open_link("app_pages/lstm_gates.py", lstm_text="for i in range(3):\n    x = i\n")
    assert at.text_area(key="lstm_text").value == "for i in range(3):\n    x = i\n"
    assert any(f"first {TEXT_IN_LINK:,} characters" in c.value for c in at.caption)


def test_a_link_in_chinese_opens_in_chinese_with_its_settings():
    at = open_link("app_pages/pooling.py", lang="zh", pool_size="3")
    assert at.number_input(key="pool_size").value == 3
    assert any("池化" in t.value for t in at.title)


# --- a parameter the page cannot use falls back to the default, with a notice -----------------


@pytest.mark.parametrize(
    ("param", "value"),
    [("pool_side", "999"), ("pool_side", "big"), ("pool_feature", "no such feature")],
)
def test_a_bad_widget_value_falls_back_with_a_notice(param, value):
    fresh = open_link("app_pages/pooling.py")
    at = open_link("app_pages/pooling.py", **{param: value})
    widget = at.slider(key=param) if param == "pool_side" else at.selectbox(key=param)
    default = fresh.slider(key=param) if param == "pool_side" else fresh.selectbox(key=param)
    assert widget.value == default.value
    notices = toasts(at)
    assert len(notices) == 1 and f"{param}={value}" in notices[0]
    assert param not in at.query_params


def test_an_unknown_sample_falls_back_to_the_first_with_a_notice():
    at = open_link("app_pages/pooling.py", img="cat")
    assert any("Shapes" in c.value for c in at.caption)
    assert any("img=cat" in n for n in toasts(at))
    assert "img" not in at.query_params


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("app_pages/conv_2d.py", "k2d_kernel", "1,2,x;1,1,1;1,1,1"),
        ("app_pages/conv_2d.py", "k2d_kernel", "1,2;3,4"),  # a 2×2 grid for a 3×3 kernel
        ("app_pages/receptive_fields.py", "rf_stack", "conv-3-1"),
    ],
)
def test_a_malformed_editor_value_falls_back_with_a_notice(path, param, value):
    fresh = open_link(path)
    at = open_link(path, **{param: value})
    assert any(f"{param}={value}" in n for n in toasts(at))
    assert param not in at.query_params
    key = "k2d_kernel" if param == "k2d_kernel" else "rf_growth"
    assert chart(at, key)["data"] == chart(fresh, key)["data"]


def test_a_text_longer_than_a_link_carries_is_cut_with_a_notice():
    long = "x = 1\n" * (TEXT_IN_LINK // 6 + 10)
    assert len(long) > TEXT_IN_LINK
    at = open_link("app_pages/lstm_gates.py", lstm_text=long)
    assert at.text_area(key="lstm_text").value == long[:TEXT_IN_LINK]
    assert any("lstm_text=" in n and "is used instead" in n for n in toasts(at))


def test_a_text_that_fits_is_kept_whole():
    text = "y" * TEXT_IN_LINK
    at = open_link("app_pages/lstm_gates.py", lstm_text=text)
    assert at.text_area(key="lstm_text").value == text
    assert not toasts(at)


def test_a_valid_value_after_the_first_run_raises_no_notice():
    at = open_link("app_pages/pooling.py", pool_side="999")
    assert len(toasts(at)) == 1
    at.slider(key="pool_side").set_value(64).run()
    assert_clean(at)
    assert not toasts(at)


# --- what cannot travel is said where it matters ----------------------------------------------


def test_an_upload_says_the_link_reopens_a_sample():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, format="PNG")
    data = buffer.getvalue()
    at = open_link("app_pages/pooling.py", img="house")
    assert not any("cannot travel" in c.value for c in at.caption)
    at.session_state["picked_image"] = {
        "sha": hashlib.sha256(data).hexdigest(),
        "name": "upload: red.png",
        "source": "upload",
        "title": "red.png",
        "data": data,
    }
    at.run()
    assert_clean(at)
    assert any("cannot travel" in c.value and "Shapes" in c.value for c in at.caption)
    assert "img" not in at.query_params  # the link reopens the first sample


def test_shown_values_in_a_notice_are_cut():
    assert _shown(["a" * 10]) == "a" * 10
    cut = _shown(["b" * (SHOWN_VALUE + 5)])
    assert len(cut) == SHOWN_VALUE and cut.endswith("…")
    assert _shown(["c" * SHOWN_VALUE]) == "c" * SHOWN_VALUE


# --- a remembered value outside a widget's new range is forgotten, not drawn ------------------


@pytest.mark.parametrize(
    ("kind", "value", "args", "kwargs", "fits"),
    [
        ("slider", 40, ("pos", 0, 40, 0), {}, True),  # at the top end
        ("slider", 41, ("pos", 0, 40, 0), {}, False),  # one above
        ("slider", 0, ("pos", 0, 40, 0), {}, True),
        ("slider", -1, ("pos", 0, 40, 0), {}, False),
        ("number_input", 2.5, ("x",), {"min_value": -3.0, "max_value": 3.0}, True),
        ("number_input", 3.5, ("x",), {"min_value": -3.0, "max_value": 3.0}, False),
        ("selectbox", "b", ("k", ["a", "b"]), {}, True),
        ("selectbox", "c", ("k", ["a", "b"]), {}, False),
        ("selectbox", None, ("k", ["a", "b"]), {}, True),  # no choice yet
        ("multiselect", ["a"], ("k", ["a", "b"]), {}, True),
        ("multiselect", ["a", "z"], ("k", ["a", "b"]), {}, False),
        ("toggle", True, ("on",), {}, True),
    ],
)
def test_a_remembered_value_fits_only_inside_the_widget(kind, value, args, kwargs, fits):
    assert _fits(kind, value, args, kwargs) is fits


def test_a_shorter_text_shrinks_the_position_slider_without_an_error():
    at = open_link("app_pages/lstm_gates.py")
    at.slider(key="lstm_pos").set_value(40).run()
    at.text_area(key="lstm_text").set_value("ab").run()
    assert_clean(at)
    assert at.slider(key="lstm_pos").max == 1
    assert not toasts(at)


def test_a_translated_choice_is_relabelled_in_the_link_after_a_language_switch():
    at = open_link("app_pages/conv_1d.py", c1d_kind="half-gaussian")
    assert at.query_params["c1d_kind"] == "half-gaussian"
    at.query_params["lang"] = "zh"
    at.session_state["lang"] = "zh"  # what the sidebar switch does
    at.run()
    assert_clean(at)
    assert at.selectbox(key="c1d_kind").value == "half-gaussian"
    relabelled = at.query_params["c1d_kind"]
    assert relabelled != "half-gaussian"  # the label a reader of Chinese sees
    reopened = open_link("app_pages/conv_1d.py", lang="zh", c1d_kind=relabelled)
    assert reopened.selectbox(key="c1d_kind").value == "half-gaussian"
    assert not toasts(reopened)


def test_trained_cnn_page_opens_the_drawn_class_and_scale_of_the_link():
    at = open_link("app_pages/cnn_overview.py", tc_render_class="circle", tc_shared="true")
    assert at.toggle(key="tc_shared").value is True
    assert any("a drawn circle" in c.value for c in at.caption), [c.value for c in at.caption]
    assert not toasts(at)


def test_trained_cnn_page_notices_a_class_it_cannot_draw():
    at = open_link("app_pages/cnn_overview.py", tc_render_class="unicorn")
    assert any("tc_render_class" in text for text in toasts(at)), toasts(at)
    assert any("a drawn star" in c.value for c in at.caption)  # the page's own default


def test_a_folded_section_named_by_the_link_opens():
    at = open_link("app_pages/cnn_overview.py", open_tc_patches="true")
    assert any(c.id.endswith("-tc_top") for c in charts(at))
    assert not toasts(at)
    closed = open_link("app_pages/cnn_overview.py")
    assert not any(c.id.endswith("-tc_top") for c in charts(closed))
