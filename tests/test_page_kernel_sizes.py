"""The kernel-sizes page in AppTest: defaults, widget edge values and odd images, no exception."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine import kernels as kd
from tests.charts import charts
from tests.tables import numbers, tables
from tests.test_pages import assert_clean, open_page
from tests.test_widget_ends import open_lazy_sections

PAGE = "app_pages/kernel_sizes.py"
LAZY = {  # each lazy section's key and the charts it alone draws
    "open_ks_stack": {"ks_stack_maps", "ks_stack_kernels"},
    "open_ks_widths": set(),
    "open_ks_drift": {"ks_drift"},
    "open_ks_nin": {"ks_nin_in", "ks_nin_out", "ks_nin_w"},
    "open_ks_sep": {"ks_sep_grids", "ks_sep_maps", "ks_sep_sv"},
}


def _opened() -> AppTest:
    """Return the page at its defaults with every lazy section open."""
    return open_lazy_sections(open_page(PAGE))


def _chart_keys(at) -> set[str]:
    """Return the keys of the Plotly charts on screen."""
    return {c.key for c in charts(at)}


def _png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _metric(at, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


def _table(at, column: str, which: int = 0) -> list:
    """Return that column of the on-screen tables having it (the first, or `which`-th)."""
    shown = [list(f[column]) for f in tables(at) if column in f.columns]
    assert shown, f"no table with a {column!r} column"
    return shown[which]


@pytest.fixture(scope="module")
def default_page():
    return _opened()


def test_first_visit_draws_no_lazy_section_and_each_opens_alone():
    at = open_page(PAGE)
    assert_clean(at)
    assert _chart_keys(at) == {"ks_step"}
    assert set(LAZY) <= set(at.session_state.keys())
    assert not at.metric or all(not m.label.startswith("No ReLU") for m in at.metric)
    assert not [c for c in at.caption if "centred kernels reproduce" in c.value]
    for key, expected in LAZY.items():
        at.session_state[key] = True
        at.run()
        assert_clean(at)
        assert not at.error, [e.value for e in at.error]
        assert _chart_keys(at) == {"ks_step"} | expected, key
        at.session_state[key] = False


def test_defaults_show_computed_results(default_page):
    at = default_page
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value.startswith("Kernel sizes")
    # 2·9·64² and 25·64², 3·9·64² and 49·64²: the closed forms, on screen from the modules
    assert _table(at, "weights")[:4] == ["73,728", "102,400", "110,592", "200,704"]
    assert _table(at, "receptive field")[:4] == ["5×5", "5×5", "7×7", "7×7"]
    assert float(_metric(at, "No ReLU")) < 1e-4
    assert 0.0 < float(_metric(at, "With ReLU").rstrip("%")) < 100.0
    assert _metric(at, "[-1, 0, 1]") == "+0.00 px"
    assert _metric(at, "[-1, 1]") == "-0.50 px"
    assert float(_metric(at, "max |1×1 conv")) < 1e-4
    assert _metric(at, "Parameters") == f"{8 * 4 + 4:,}"


def test_default_tables_of_the_other_sections(default_page):
    at = default_page
    errors = _table(at, "error (centred)")
    assert errors[2] == "0.0%" and errors[4] == "0.0%"  # widths 3 and 5
    assert all(float(e.rstrip("%")) > 10 for e in errors[1::2])  # widths 2, 4, 6
    ranks = dict(zip(_table(at, "kernel"), numbers(_table(at, "rank")), strict=True))
    assert ranks["gaussian"] == ranks["sobel x"] == 1 and ranks["gabor"] > 1


@pytest.mark.parametrize(
    "values",
    [
        dict(
            ks_c=1, ks_h=1, ks_w=1, ks_cin=1, ks_cmid=1, ks_cout=1, ks_bside=1, ks_fc=1, ks_fside=1
        ),
        dict(
            ks_c=8192,
            ks_h=8192,
            ks_w=8192,
            ks_cin=8192,
            ks_cmid=8192,
            ks_cout=8192,
            ks_bside=8192,
            ks_fc=8192,
            ks_fside=8192,
            ks_hidden=64,
        ),
        dict(ks_c=3, ks_h=8192, ks_w=1, ks_cin=16, ks_cmid=4096, ks_cout=1, ks_hidden=1),
    ],
)
def test_number_inputs_at_their_limits(values):
    at = _opened()
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    no_reduction = values["ks_cmid"] >= values["ks_cin"]
    assert bool(at.warning) == no_reduction  # called out, not refused


@pytest.mark.parametrize(
    "side,depth,layers,n_out,b_k,f_n,sep_n", [(32, 3, 1, 1, 1, 3, 7), (256, 2, 16, 8, 9, 15, 3)]
)
def test_sliders_and_radios_at_their_limits(side, depth, layers, n_out, b_k, f_n, sep_n):
    at = _opened()
    at.slider(key="ks_side").set_value(side)
    at.radio(key="ks_depth").set_value(depth)
    at.slider(key="ks_layers").set_value(layers)
    at.slider(key="ks_nout").set_value(n_out)
    at.select_slider(key="ks_bk").set_value(b_k)
    at.select_slider(key="ks_fn").set_value(f_n)
    at.radio(key="ks_sep_n").set_value(sep_n)
    at.run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert _table(at, "design", -1) == [f"{f_n}×{f_n}", f"1×{f_n} then {f_n}×1"]
    assert _table(at, "design", 1)[0] == f"{b_k}×{b_k} directly"


def test_every_kernel_can_be_inspected():
    at = _opened()
    for name in at.selectbox(key="ks_sep_k").options:
        at.selectbox(key="ks_sep_k").set_value(name)
        at.run()
        assert_clean(at)


@pytest.mark.parametrize(
    "size,color",
    [
        ((40, 30), (128, 128, 128)),  # flat: no edges to fit, still a centre of mass
        ((40, 30), (0, 0, 0)),  # all black: no edges and no centre of mass
        ((3, 2), (200, 30, 30)),  # smaller than every kernel stack
        ((1, 1), (10, 200, 10)),
    ],
)
def test_odd_images_explain_themselves(size, color):
    at = _opened()
    at.segmented_control(key="ks_source").set_value("Upload")
    at.run()
    at.file_uploader(key="ks_upload").upload("odd.png", _png(size, color), "image/png")
    at.run()
    assert_clean(at)
    assert at.session_state["picked_image"]["name"] == "upload: odd.png"
    assert at.error, "an image the demonstrations cannot use must be explained on screen"
    assert at.metric, "the sections that can still run do run"


def test_rank_and_width_sentences_follow_the_computed_results(default_page):
    at = default_page
    rank = next(c.value for c in at.caption if "rank 1, so the thin pair" in c.value)
    # the separability table lists each kernel's rank: the sentence names the rank-1 ones
    kernels, ranks = _table(at, "kernel"), numbers(_table(at, "rank"))
    ones = [str(n) for n, r in zip(kernels, ranks, strict=True) if r == 1]
    assert len(ones) > 1
    assert rank.startswith("What to notice: " + ", ".join(ones[:-1]) + " and " + ones[-1])
    assert "Gaussian, box blur and Sobel are rank 1" not in rank  # the old fixed sentence
    width = next(c.value for c in at.caption if "centred kernels reproduce" in c.value)
    assert "odd widths reproduce" not in width  # width 1 is odd and does not
    assert "exactly at widths 3 and 5 and never at widths 1, 2, 4 and 6" in width
    assert "Width 4 manages it only with free weights, using the taps at offsets -1, +1" in width


def _caption(at, part: str) -> str:
    return next(c.value for c in at.caption if part in c.value)


def test_cost_captions_follow_the_counted_designs(default_page):
    at = default_page
    stacks = _caption(at, "the stacks need")
    two, five, three, seven = kd.stacked_vs_single(64, 56, 56, 2) + kd.stacked_vs_single(
        64, 56, 56, 3
    )
    for small, big in ((two, five), (three, seven)):
        v = kd.design_verdict(small, big)
        assert kd.share_words(v.work_share, "work") in stacks
    assert "ReLUs instead of one" not in stacks  # the old fixed count
    assert "one more ReLU and 2 more ReLUs" in stacks
    bottleneck = _caption(at, "the bottleneck needs")
    direct, reduced = kd.bottleneck_branch(256, 32, 64, 28, 28, 5)
    v = kd.design_verdict(reduced, direct)
    assert f"{v.weight_share:.1%} of the weights" in bottleneck
    assert "the same 5×5 field and one more ReLU." in bottleneck
    pair = _caption(at, "the pair needs")
    square, thin = kd.factorised_pair(192, 17, 17, 7)
    v = kd.design_verdict(thin, square)
    assert f"{v.weight_share:.0%} of the weights (2/n = 2/7) and {v.work_share:.0%}" in pair
    assert "a second ReLU" not in pair and "one more ReLU" in pair


def test_a_widening_bottleneck_is_not_called_a_saving():
    at = open_page(PAGE)
    at.number_input(key="ks_cmid").set_value(512).run()
    assert_clean(at)
    text = _caption(at, "the bottleneck needs")
    direct, reduced = kd.bottleneck_branch(256, 512, 64, 28, 28, 5)
    share = kd.design_verdict(reduced, direct).weight_share
    assert share > 1 and f"{share:.1%} of the weights" in text


def test_rounding_and_relu_sentences_follow_their_metrics(default_page):
    at = default_page
    text = _caption(at, "the first number is")
    unexplained = float(_metric(at, "With ReLU").rstrip("%")) / 100
    assert "rounding error (under" in text  # the metric beside it is ~1e-7
    if unexplained >= kd.RELU_GAIN:
        assert f"{unexplained:.1%} of the stacked response lies outside" in text
    else:
        assert "barely cut anything" in text
    nin = _caption(at, "A 1×1 kernel has no spatial extent")
    assert float(_metric(at, "max |1×1 conv")) < 1e-4 and "is float rounding" in nin
    drift = _caption(at, "even 2×2 averages")
    assert "it adds up in a deep network" in drift and "stays put" in drift


def test_headings_state_the_computed_fields(default_page):
    r = kd.stacked_field(2)
    heading = f"1 · Two 3×3 layers see what one {r}×{r} sees"
    assert any(s.value == heading for s in default_page.subheader)


def _chart_specs(lang: str) -> list[str]:
    """Return the page's Plotly specs with every lazy section open, in language lang."""
    at = open_page(PAGE)
    at.query_params["lang"] = lang
    at.run()
    return [c.spec for c in charts(open_lazy_sections(at))]


def test_cached_figures_are_kept_per_language():
    """The page caches built figures for every session: a Chinese session must not get the
    English figures an earlier session cached (their hover text is translated), nor back."""
    chinese = re.compile(r"[\u4e00-\u9fff]|\\u[4-9][0-9a-f]{3}")  # raw or JSON-escaped
    english = _chart_specs("en")
    assert english and not any(chinese.search(s) for s in english)
    assert any(chinese.search(s) for s in _chart_specs("zh"))
    assert not any(chinese.search(s) for s in _chart_specs("en"))
