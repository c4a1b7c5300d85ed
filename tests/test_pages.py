"""Every page in AppTest: default inputs and edge values of its widgets, never an exception."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.charts import charts
from tests.pages_list import PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 60


def open_page(path: str, lang: str | None = None) -> AppTest:
    """Return the app opened on path (in lang, "en" or "zh", when given: ?lang= in the URL)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    if path != "app_pages/home.py":
        at.switch_page(path).run()
    return at


def open_script(page: str, lang: str = "zh", **state: object) -> AppTest:
    """Return one page script (app_pages/<page>) run once in lang, with session state (widget
    values, open sections) preset. Preset, not typed: on a rerun AppTest reads a radio through
    str() of its value, which translated option labels (a format_func) do not match."""
    at = AppTest.from_file(str(Path(APP).parent / "app_pages" / page), default_timeout=180)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Return the captions, markdown, errors and infos a page shows, joined by spaces."""
    parts = [c.value for c in at.caption] + [m.value for m in at.markdown]
    return " ".join(parts + [e.value for e in at.error] + [i.value for i in at.info])


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_every_page_is_registered_in_the_navigation():
    on_disk = sorted(p.name for p in (Path(APP).parent / "app_pages").glob("*.py"))
    assert sorted(Path(p).name for p, _ in PAGES) == on_disk
    assert len({url for _, url in PAGES}) == len(PAGES), "URL paths must be unique"


@pytest.mark.parametrize("path", [p for p, _ in PAGES])
def test_page_renders_with_defaults(path):
    at = open_page(path)
    assert_clean(at)
    assert at.title, "every page starts with a title"
    assert not at.error, [e.value for e in at.error]


def test_home_numbers_are_the_computed_ones():
    at = open_page("app_pages/home.py")
    values = [m.value for m in at.metric]
    assert "120,000 weights" in values
    assert "27 weights" in values


def test_compare_page_at_extreme_sizes():
    at = open_page("app_pages/dense_conv_recurrent.py")
    for key, value in {
        "cmp_h": 4096,
        "cmp_w": 4096,
        "cmp_c": 512,
        "cmp_units": 1024,
        "cmp_t": 100_000,
        "cmp_nin": 4096,
        "cmp_hidden": 4096,
    }.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_clean(at)
    for key in ["cmp_h", "cmp_w", "cmp_c", "cmp_units", "cmp_t", "cmp_nin", "cmp_hidden"]:
        at.number_input(key=key).set_value(1)
    at.select_slider(key="cmp_k").set_value(11)
    at.run()
    assert_clean(at)


@pytest.mark.parametrize("kind", ["exponential", "half-gaussian", "uniform"])
def test_conv_1d_edges(kind):
    at = open_page("app_pages/conv_1d.py")
    at.selectbox(key="c1d_kind").set_value(kind)
    at.slider(key="c1d_noise").set_value(0.0)
    at.slider(key="c1d_width").set_value(0.5)
    at.slider(key="c1d_length").set_value(1)
    at.run()
    assert_clean(at)
    at.slider(key="c1d_width").set_value(20.0)
    at.slider(key="c1d_length").set_value(60)
    at.slider(key="c1d_noise").set_value(3.0)
    at.run()
    assert_clean(at)


@pytest.mark.parametrize("size", [3, 5, 7])
def test_conv_2d_every_kernel_and_size(size):
    at = open_page("app_pages/conv_2d.py")
    at.session_state["open_k2d_flip"] = True  # the flip maps too, for every kernel
    for name in at.selectbox(key="k2d_name").options:
        at.selectbox(key="k2d_name").set_value(name)
        at.radio(key="k2d_size").set_value(size)
        at.run()
        assert_clean(at)
        assert not at.error


def test_conv_2d_click_corner_pixels_and_smallest_working_size():
    at = open_page("app_pages/conv_2d.py")
    at.slider(key="k2d_side").set_value(32)
    at.run()
    row_max = at.number_input(key="k2d_row").max
    col_max = at.number_input(key="k2d_col").max
    for r, c in [(0, 0), (row_max, col_max)]:
        at.number_input(key="k2d_row").set_value(r)
        at.number_input(key="k2d_col").set_value(c)
        at.run()
        assert_clean(at)
        total, conv2d = at.metric[0].value, at.metric[1].value
        assert abs(float(total) - float(conv2d)) < 1e-4
    # A remembered click outside a smaller map is clamped, not an error.
    at.slider(key="k2d_side").set_value(256)
    at.run()
    at.number_input(key="k2d_row").set_value(at.number_input(key="k2d_row").max)
    at.run()
    at.slider(key="k2d_side").set_value(32)
    at.run()
    assert_clean(at)


def test_conv_2d_empty_kernel_cell_gives_a_message():
    at = open_page("app_pages/conv_2d.py")
    editor_key = at.data_editor[0].key
    at.session_state[editor_key] = {
        "edited_rows": {1: {"1": None}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert_clean(at)
    assert any("needs a number" in e.value for e in at.error)


@pytest.mark.parametrize(
    "settings",
    [
        dict(arith_n=2, arith_k=5, arith_p=0),  # kernel larger than the input: refused
        dict(arith_n=9, arith_k=5, arith_p=4, arith_s=4, arith_d=3),
        dict(arith_n=3, arith_k=3, arith_p=0, arith_d=3),  # dilated kernel too wide
        dict(arith_n=9, arith_k=1, arith_p=0, arith_s=1),
    ],
)
def test_conv_arithmetic_edges(settings):
    at = open_page("app_pages/conv_arithmetic.py")
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_clean(at)


@pytest.mark.parametrize(
    "settings",
    [
        dict(arith_n=2, arith_k=1, arith_p=0, arith_s=4),
        dict(arith_n=9, arith_k=5, arith_p=4),
        dict(arith_n=2, arith_k=1, arith_p=2),
    ],
)
def test_transposed_convolution_edges(settings):
    at = open_page("app_pages/conv_arithmetic.py")
    at.radio(key="arith_mode").set_value("transposed")
    at.run()
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_clean(at)


def test_conv_arithmetic_impossible_setting_explains_itself():
    at = open_page("app_pages/conv_arithmetic.py")
    for key, value in dict(arith_n=2, arith_k=5, arith_p=0).items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert at.error, "a kernel wider than the padded input must be explained on screen"


def test_conv_layer_edges():
    at = open_page("app_pages/conv_layer.py")
    at.multiselect(key="layer_kernels").set_value([])
    at.run()
    assert_clean(at)
    assert at.warning
    at.multiselect(key="layer_kernels").set_value(
        list(at.multiselect(key="layer_kernels").options)[:8]
    )
    at.run()
    at.number_input(key="layer_pool_size").set_value(8)
    at.number_input(key="layer_pool_stride").set_value(8)
    at.slider(key="layer_side").set_value(32)
    at.multiselect(key="layer_scales").set_value([0.25, 0.5, 0.75, 1.0, 1.5])
    for nonlin in at.selectbox(key="layer_nonlin").options:
        at.selectbox(key="layer_nonlin").set_value(nonlin)
        at.selectbox(key="layer_pool").set_value("average")
        at.run()
        assert_clean(at)
    at.multiselect(key="layer_scales").set_value([])
    at.run()
    assert_clean(at)


def _png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_is_used_and_a_bad_upload_is_refused_with_a_message():
    at = open_page("app_pages/conv_2d.py")
    at.segmented_control(key="conv2d_source").set_value("Upload")
    at.run()
    at.file_uploader(key="conv2d_upload").upload("red.png", _png(), "image/png")
    at.run()
    assert_clean(at)
    assert at.session_state["picked_image"]["name"] == "upload: red.png"
    at.file_uploader(key="conv2d_upload").upload("evil.png", b"<svg onload=alert(1)>", "image/png")
    at.run()
    assert_clean(at)
    assert any("could not be used" in e.value for e in at.error)
    # The previous, good image is still in use.
    assert at.session_state["picked_image"]["name"] == "upload: red.png"


def test_picked_image_follows_to_another_page():
    at = open_page("app_pages/conv_2d.py")
    at.segmented_control(key="conv2d_source").set_value("Upload")
    at.run()
    at.file_uploader(key="conv2d_upload").upload("tiny.png", _png((3, 2)), "image/png")
    at.run()
    at.switch_page("app_pages/conv_layer.py").run()
    assert_clean(at)
    assert at.session_state["picked_image"]["name"] == "upload: tiny.png"


def test_no_pages_folder_beside_the_entry_point():
    # A pages/ folder next to app.py makes Streamlit run a deep-linked page on its own (no
    # page config, no menu) for the first request after a server start.
    assert not (Path(APP).parent / "pages").exists()


@pytest.mark.parametrize(
    "settings",
    [
        dict(pool_size=16, pool_stride=16, pool_k=16),  # k larger than the window: refused
        dict(pool_size=1, pool_stride=1, pool_k=1),
        dict(pool_size=16, pool_stride=1, pool_k=3),
    ],
)
def test_pooling_window_edges(settings):
    at = open_page("app_pages/pooling.py")
    at.slider(key="pool_side").set_value(32)
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_clean(at)


def test_pooling_refuses_k_beyond_the_window_with_a_message():
    at = open_page("app_pages/pooling.py")
    at.number_input(key="pool_size").set_value(2)
    at.number_input(key="pool_k").set_value(5)
    at.run()
    assert_clean(at)
    assert at.error


def test_pooling_stability_controls_and_tiny_image():
    at = open_page("app_pages/pooling.py")
    for section in ("open_pool_stability", "open_pool_hidden", "open_pool_layers"):
        at.session_state[section] = True  # the controls below live in these lazy sections
    at.run()
    for direction in at.selectbox(key="pool_dir").options:
        at.selectbox(key="pool_dir").set_value(direction)
        at.selectbox(key="pool_cmp").set_value("in place")
        at.slider(key="pool_max_shift").set_value(8)
        at.slider(key="pool_dot_col").set_value(6)
        at.slider(key="pool_p").set_value(0.9)
        at.run()
        assert_clean(at)
    at.segmented_control(key="pool_source").set_value("Upload")
    at.run()
    at.file_uploader(key="pool_upload").upload("tiny.png", _png((5, 4)), "image/png")
    at.run()
    assert_clean(at)


def test_why_convolution_edges_and_measurement():
    at = open_page("app_pages/why_convolution.py")
    at.number_input(key="why_m").set_value(2)
    at.number_input(key="why_k").set_value(3)  # more taps than inputs: explained, not raised
    at.run()
    assert_clean(at)
    assert at.error
    at.number_input(key="why_m").set_value(10_000_000)
    at.number_input(key="why_n").set_value(10_000_000)
    at.number_input(key="why_k").set_value(1)
    at.run()
    assert_clean(at)
    for key, value in dict(why_units=5, why_kw=7, why_depth=6, why_unit=4).items():
        at.slider(key=key).set_value(value)
    at.run()
    assert_clean(at)
    at.toggle(key="why_time").set_value(True)
    at.run()
    assert_clean(at)
    assert len(charts(at)) >= 6


@pytest.mark.parametrize("padding", ["circular", "zeros"])
def test_equivariance_edges(padding):
    at = open_page("app_pages/equivariance.py")
    at.selectbox(key="eq_pad").set_value(padding)
    at.slider(key="eq_side").set_value(32)
    at.number_input(key="eq_dy").set_value(-40)  # more than the working image is tall
    at.number_input(key="eq_dx").set_value(40)
    at.run()
    assert_clean(at)
    assert at.error  # a 40 px shift of a 32 px image is explained, not raised
    at.number_input(key="eq_dy").set_value(0)
    at.number_input(key="eq_dx").set_value(0)
    at.run()
    at.multiselect(key="eq_kernels").set_value([])
    at.run()
    assert_clean(at)
    assert at.info


def test_equivariance_circular_error_is_rounding_only():
    at = open_page("app_pages/equivariance.py")
    at.selectbox(key="eq_pad").set_value("circular")
    at.run()
    assert float(at.metric[0].value) < 1e-4  # max |f(g(x)) - g(f(x))|


def test_receptive_fields_defaults_click_and_every_layer():
    at = open_page("app_pages/receptive_fields.py")
    for key in ("open_rf_trained", "open_rf_depth", "open_rf_dilated"):  # its lazy sections
        at.session_state[key] = True
    at.run()
    assert_clean(at)
    # The shipped trained network's effective field is on the page, beside the random one.
    assert any("after training" in c.value for c in at.caption)
    for layer in at.selectbox(key="rf_layer").options:
        at.selectbox(key="rf_layer").set_value(layer)
        at.run()
        assert_clean(at)
    at.number_input(key="rf_row").set_value(0)
    at.number_input(key="rf_col").set_value(0)
    at.slider(key="rf_dil_depth").set_value(8)
    at.slider(key="rf_side").set_value(32)
    at.run()
    assert_clean(at)


@pytest.mark.parametrize(
    "edit,explained",
    [
        ({"edited_rows": {0: {"k": 15, "p": 0}, 1: {"k": 15}}}, True),  # nothing left: refused
        ({"edited_rows": {2: {"p": 2}}}, True),  # a 2x2 pool padded by 2: refused
        ({"edited_rows": {0: {"k": None}}}, True),  # an empty cell
        ({"deleted_rows": list(range(8))}, True),  # no layers at all
        ({"added_rows": [{"kind": "avgpool", "k": 3, "s": 1, "p": 1, "d": 1}]}, False),
    ],
)
def test_receptive_fields_stack_edits_never_crash(edit, explained):
    at = open_page("app_pages/receptive_fields.py")
    at.slider(key="rf_side").set_value(32)
    at.run()
    state = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    state.update(edit)
    at.session_state["rf_stack"] = state
    at.run()
    assert_clean(at)
    assert bool(at.error or at.warning) == explained
