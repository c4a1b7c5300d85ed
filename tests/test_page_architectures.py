"""The architectures page in AppTest: defaults, every network, edge sizes and images, training."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.architectures import (
    DILATION_RATES,
    arch_stats,
    dense_part,
    depth_verdict,
    design_constants,
    flops_ratio,
    gradient_trend,
    layer_rows,
    parameter_ratio,
)
from engine.cnn import gradient_norms
from engine.kernels import stacked_vs_single
from engine.receptive_field import widths_grow
from tests.charts import charts
from tests.tables import numbers, tables
from tests.test_widget_ends import open_lazy_sections
from ui.jobs import Job, shared_slot

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/architectures.py"


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


LAZY = {  # each lazy section's key and the charts it alone draws
    "open_arch_incep": {"arch_incep"},
    "open_arch_dil": {"arch_dil"},
    "open_arch_degradation": {"deg_data", "deg_grad"},
}


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = open_lazy_sections(open_page())
    assert_clean(at)
    return at


def _chart_keys(at) -> set[str]:
    """Return the keys of the Plotly charts on screen."""
    return {c.key for c in charts(at)}


def test_first_visit_draws_no_lazy_section_and_each_opens_alone():
    at = open_page()
    assert_clean(at)
    assert _chart_keys(at) == {"arch_rf"}
    assert set(LAZY) <= set(at.session_state.keys())
    assert not at.toggle and not [c for c in at.caption if "Typical width" in c.value]
    for key, expected in LAZY.items():
        at.session_state[key] = True
        at.run()
        assert_clean(at)
        assert not at.error, [e.value for e in at.error]
        assert _chart_keys(at) == {"arch_rf"} | expected, key
        at.session_state[key] = False


def _png(size, color=(30, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def test_defaults_show_the_computed_table_without_training(page):
    assert not page.error, [e.value for e in page.error]
    assert page.title[0].value.startswith("Classic architectures")
    table = tables(page)[0]
    assert len(table) == 9
    row = table[table["network"] == "ResNet-50"].iloc[0]
    stats = arch_stats("resnet50")
    assert row["depth"] == str(stats.depth)
    assert row["parameters (M)"] == f"{stats.params / 1e6:.2f}"
    assert row["GFLOPs"] == f"{stats.flops / 1e9:.2f}"
    assert row["field r (px)"] == str(stats.rf_size)
    assert page.toggle(key="deg_train").value is False
    assert "Train" in page.toggle(key="deg_train").label


def test_stories_state_ratios_measured_from_the_networks(page):
    table = [arch_stats(n) for n in ("densenet121", "resnet50", "se_resnet50")]
    dense = parameter_ratio(table, "densenet121", "resnet50")
    extra = parameter_ratio(table, "se_resnet50", "resnet50") - 1
    texts = " ".join(m.value for m in page.markdown)
    assert f"({dense:.0%} of ResNet-50's parameters)" in texts
    assert f"for {extra:.0%} more parameters than ResNet-50" in texts
    assert f"{arch_stats('alexnet').weight_layers} weight layers" in texts
    assert "a third" not in texts and "a tenth" not in texts


def test_table_depths_are_the_numbers_in_the_names(page):
    table = tables(page)[0]
    for title, depth in zip(table["network"], table["depth"], strict=True):
        match = re.search(r"-(\d+)", title)
        if match:
            assert depth == match.group(1), title  # SE-ResNet-50 once showed 82
    se = table[table["network"] == "SE-ResNet-50"].iloc[0]
    assert se["bottleneck strides on"] == "1×1"
    assert table[table["network"] == "ResNet-50"].iloc[0]["bottleneck strides on"] == "3×3"


def test_cheaper_se_resnet_is_explained_by_its_stride_layout(page):
    caption = next(c.value for c in page.caption if "depth went from" in c.value)
    se, r50 = arch_stats("se_resnet50"), arch_stats("resnet50")
    assert se.flops < r50.flops
    assert f"SE-ResNet-50 needs fewer GFLOPs ({se.flops / 1e9:.2f})" in caption
    assert "ResNet v1)" in caption and "ResNet v1.5)" in caption


def test_story_constants_come_from_the_built_models(page):
    texts = " ".join(m.value for m in page.markdown)
    got = design_constants()
    assert f"{got['resnext_groups']} parallel paths of {got['resnext_width']} channels" in texts
    assert f"adds only {got['densenet_growth']} channels (the growth rate)" in texts


def test_gradient_caption_follows_the_measured_trend(page):
    caption = next(c.value for c in page.caption if "toward the input, plain-" in c.value)
    deep = page.selectbox(key="deg_shallow").value, page.selectbox(key="deg_deep").value
    seed = int(page.number_input(key="deg_seed").value)
    trend = gradient_trend(gradient_norms(deep[1], False, seed))
    assert f"plain-{deep[1]}'s gradient {trend.words} " in caption
    assert trend.words == "grows"
    assert "exploding gradient, not a vanishing one" in caption


def test_drill_down_rows_sum_to_the_tables_flops(page):
    drill = tables(page)[1]  # the default network, ResNet-50, at 224
    rows = layer_rows("resnet50", 224)
    assert sum(r.flops for r in rows) == pytest.approx(arch_stats("resnet50").flops, rel=1e-9)
    # the table shows those rows, each to 0.1 MFLOPs
    assert numbers(drill["MFLOPs"]) == pytest.approx([r.flops / 1e6 for r in rows], abs=0.05)
    assert drill.iloc[0]["layer"] == "conv1"


@pytest.mark.parametrize("name", ["alexnet", "googlenet", "inception_v3", "densenet121"])
def test_every_kind_of_network_drills_down(page, name):
    page.selectbox(key="arch_pick").set_value(name).run()
    assert_clean(page)
    assert not page.error
    assert page.query_params["arch"] == [name] or page.query_params["arch"] == name


def test_deep_link_picks_the_network_and_bad_links_fall_back():
    at = open_page({"arch": "se_resnet50"})
    assert_clean(at)
    assert at.selectbox(key="arch_pick").value == "se_resnet50"
    at = open_page({"arch": "<script>"})
    assert_clean(at)
    assert at.selectbox(key="arch_pick").value == "resnet50"


def test_input_sides_too_small_or_large_are_messages_not_tracebacks():
    at = open_page({"arch": "inception_v3"})
    at.number_input(key="arch_side_inception_v3").set_value(32).run()
    assert_clean(at)
    assert any("larger" in e.value for e in at.error), [e.value for e in at.error]
    at.selectbox(key="arch_pick").set_value("vgg16").run()
    at.number_input(key="arch_side_vgg16").set_value(1024).run()
    assert_clean(at)
    assert not at.error


def test_working_sizes_kernels_and_a_thin_upload():
    at = open_lazy_sections(open_page())
    for side in (48, 256):
        at.slider(key="arch_work").set_value(side)
        for kernel in at.selectbox(key="arch_dil_kernel").options:
            at.selectbox(key="arch_dil_kernel").set_value(kernel).run()
            assert_clean(at)
            assert not at.error
    at.segmented_control(key="arch_source").set_value("Upload").run()
    at.file_uploader(key="arch_upload").upload("thin.png", _png((400, 3)), "image/png").run()
    assert_clean(at)
    assert at.session_state["picked_image"]["name"] == "upload: thin.png"
    assert any("too small" in e.value or "at least" in e.value for e in at.error)
    assert at.header[-1].value.startswith("4")  # the rest of the page still renders


def _tiny_training(seed: int = 9999) -> AppTest:
    """Return the page with tiny training settings chosen, before the toggle is switched on."""
    at = open_lazy_sections(open_page())
    at.selectbox(key="deg_shallow").set_value(8)
    at.selectbox(key="deg_deep").set_value(32)
    at.select_slider(key="deg_steps").set_value(50)
    at.number_input(key="deg_seed").set_value(seed)
    return at


def _trained(at: AppTest) -> AppTest:
    """Wait for the session's training run to finish, then rerun the page to draw its result."""
    assert at.session_state["deg_job"].join(120), "the training run did not finish"
    at.run()
    assert_clean(at)
    return at


def test_training_with_tiny_settings_shows_four_runs_then_two_for_one_depth():
    at = _tiny_training()
    at.toggle(key="deg_train").set_value(True).run()
    assert_clean(at)
    results = tables(_trained(at))[-1]
    assert list(results["network"]) == ["plain-8", "residual-8", "plain-32", "residual-32"]
    curves = at.session_state["deg_job"].state().result  # the run's losses, unrounded
    finals = [curves.final_loss[n] for n in curves.labels]
    assert numbers(results["final training loss"]) == pytest.approx(finals, abs=5e-4)  # "%.3f"
    assert all(x > 0 for x in finals)
    loss = dict(zip(results["network"], finals, strict=True))
    verdict = depth_verdict(
        (loss["plain-8"], loss["plain-32"]), (loss["residual-8"], loss["residual-32"])
    )
    caption = next(c.value for c in at.caption if "*training* losses" in c.value)
    plain_worse = f"the deeper plain stack ends {verdict.plain_gap:.2f} nats worse"
    assert (plain_worse in caption) is verdict.plain_degrades
    assert ("the deeper residual one keeps up" in caption) is verdict.residual_keeps_up
    at.selectbox(key="deg_shallow").set_value(32).run()
    assert list(tables(_trained(at))[-1]["network"]) == ["plain-32", "residual-32"]


def test_training_waits_for_the_servers_run_slots_and_identical_settings_share_one_run():
    # Every run slot is taken by other work (as by other learners' training): the page's run
    # queues like any training on the server, and says its place.
    gate = threading.Event()
    holders = [Job("other learner", _held_until(gate)) for _ in range(shared_slot().slots)]
    for job in holders:
        job.start()
    first = _tiny_training(seed=4242)
    first.toggle(key="deg_train").set_value(True).run()
    assert_clean(first)
    assert any("in the queue" in i.value for i in first.info)
    second = _tiny_training(seed=4242)
    second.toggle(key="deg_train").set_value(True).run()
    assert second.session_state["deg_job"].job is first.session_state["deg_job"].job
    gate.set()
    assert all(job.join(30) for job in holders)
    ours = tables(_trained(first))[-1]
    theirs = tables(_trained(second))[-1]
    assert ours.equals(theirs)
    first.toggle(key="deg_train").set_value(False).run()
    assert "deg_job" not in first.session_state  # switched off: the session leaves the run


def _held_until(gate: threading.Event):
    """Return work that holds its run slot until gate is set."""

    def work(report, should_stop):
        while not gate.wait(0.01):
            if should_stop():
                return None
        return "done"

    return work


def test_story_numbers_are_computed_from_the_built_models(page):
    texts = " ".join(m.value for m in page.markdown)
    two, five = stacked_vs_single(1, 1, 1, 2)
    three, seven = stacked_vs_single(1, 1, 1, 3)
    assert (
        f"with {two.weights}C² or {three.weights}C² weights instead of {five.weights}C² or "
        f"{seven.weights}C²" in texts
    )
    count, share = dense_part(layer_rows("vgg16"), arch_stats("vgg16").params)
    assert f"{share:.0%} of its parameters sit in the {count} dense layers" in texts
    assert f"(n = {design_constants()['inception_n']})" in texts
    table = [arch_stats(n) for n in ("resnet18", "resnet50", "resnext50_32x4d")]
    assert f"for {flops_ratio(table, 'resnet50', 'resnet18'):.1f} times its FLOPs" in texts
    assert f"at {flops_ratio(table, 'resnext50_32x4d', 'resnet50'):.2f} times ResNet-50's" in texts
    assert "ResNet-34" not in texts  # not built here: nothing on the page could support it


def test_bottleneck_stride_column_sits_next_to_gflops(page):
    columns = list(tables(page)[0].columns)
    assert columns.index("bottleneck strides on") == columns.index("GFLOPs") + 1


def test_dilation_caption_claims_wider_structure_only_when_widths_grow(page):
    text = next(c.value for c in page.caption if "Typical width of a response blob" in c.value)
    widths = [float(w) for w in re.findall(r"([\d.]+) px at dilation \d+", text)]
    assert len(widths) == len(DILATION_RATES)
    if widths_grow(widths):
        assert "answer to ever wider structure" in text
    else:
        assert "do not widen steadily" in text
    assert "grid pattern" not in text  # the old, unmeasured claim


def test_inception_caption_calls_the_5x5_wider_only_when_measured_wider(page):
    text = next(c.value for c in page.caption if "Response half-width, 3×3 → 5×5" in c.value)
    pairs = re.findall(r"([\d.]+) → ([\d.]+) px", text)
    assert len(pairs) == 3  # one per edge filter
    wider = all(float(b) > float(a) for a, b in pairs)
    assert ("every 5×5 edge response is wider" in text) == wider
    assert "thicker and smoother" not in text  # the old, unmeasured claim
