"""The classroom benchmark's headless learner: the messages it builds, what it reads from the
server's messages, its isolation verdict, and one real visit of the app."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.proto.AppPage_pb2 import AppPage
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.bench_classroom import by_page, first_metric, marker_notes, spread
from benchmarks.bench_sessions import MARK_KEY, MARK_PAGE, Learner
from benchmarks.protocol_learner import (
    ProtocolLearner,
    Widget,
    client_state,
    media_urls,
    rerun_message,
    stepped,
    url_values,
    widget_of,
    widget_state,
    with_param,
)
from tests.e2e.conftest import serve_app

SLIDER_ID = "$$ID-0123abcd-rf_side"


def _slider(default, step, data_type=Slider.INT, value=None) -> Element:
    element = Element()
    element.slider.id = SLIDER_ID
    element.slider.default[:] = default
    element.slider.step = step
    element.slider.data_type = data_type
    if value is not None:
        element.slider.value[:] = value
        element.slider.set_value = True
    return element


def _choice(kind: str, options: list[str], default: int, raw: str | None = None) -> Element:
    element = Element()
    proto = getattr(element, kind)
    proto.id = f"$$ID-77-{kind}_key"
    proto.options[:] = options
    proto.default = default
    if raw is not None:
        proto.raw_value, proto.set_value = raw, True
    return element


# ---- widgets read from elements, and their next value


def test_an_int_slider_steps_its_first_thumb_and_sends_a_double_array():
    widget = widget_of(_slider([160], 4), "frag")
    assert (widget.kind, widget.value, widget.fragment_id) == ("slider", [160.0], "frag")
    assert widget.key() == "rf_side"
    widget.value = stepped(widget)
    expected = WidgetState(id=SLIDER_ID)
    expected.double_array_value.data[:] = [164.0]
    assert widget_state(widget) == expected


def test_a_slider_the_server_set_shows_its_value_and_a_range_moves_only_its_first_thumb():
    widget = widget_of(_slider([0.0, 1.0], 0.25, Slider.FLOAT, value=[0.5, 0.75]))
    assert (widget.value, widget.default) == ([0.5, 0.75], [0.0, 1.0])
    assert stepped(widget) == [0.75, 0.75]


def test_a_number_input_steps_up_and_sends_a_double():
    element = Element()
    element.number_input.id, element.number_input.default = "$$ID-9-ks_c", 3
    element.number_input.step = 2
    widget = widget_of(element)
    widget.value = stepped(widget)
    assert widget_state(widget) == WidgetState(id="$$ID-9-ks_c", double_value=5.0)


@pytest.mark.parametrize("kind", ["radio", "selectbox"])
def test_a_choice_sends_the_next_options_label_and_wraps_at_the_end(kind):
    widget = widget_of(_choice(kind, ["3", "5", "7"], 0))
    assert widget.value == "3"
    widget.value = stepped(widget)
    assert widget_state(widget) == WidgetState(id=f"$$ID-77-{kind}_key", string_value="5")
    last = widget_of(_choice(kind, ["3", "5", "7"], 0, raw="7"))
    assert stepped(last) == "3"


def test_a_text_area_sends_its_text_and_has_no_next_value():
    element = Element()
    element.text_area.id, element.text_area.default = "$$ID-1-lstm_text", "import os"
    widget = widget_of(element)
    assert widget_state(widget) == WidgetState(id="$$ID-1-lstm_text", string_value="import os")
    with pytest.raises(ValueError):
        stepped(widget)


def test_an_element_that_is_no_driven_widget_is_none():
    element = Element()
    element.markdown.body = "hello"
    assert widget_of(element) is None


def test_a_bound_widget_names_its_url_parameter_and_default():
    element = _slider([120], 10)
    element.slider.query_param_key = "lstm_window"
    widget = widget_of(element)
    assert (widget.param, widget.default) == ("lstm_window", [120.0])
    assert widget_of(_choice("radio", ["a", "b"], 1)).default == "b"


# ---- the URL the frontend keeps for bound widgets


def test_url_values_write_whole_numbers_without_a_point():
    assert url_values(Widget("i", "slider", [130.0, 0.25])) == ["130", "0.25"]
    assert url_values(Widget("i", "number_input", 3.0)) == ["3"]
    assert url_values(Widget("i", "radio", "5×5")) == ["5×5"]


def test_with_param_replaces_or_removes_one_parameter_and_keeps_the_others():
    assert with_param("lang=en&w=120", "w", ["130"]) == "lang=en&w=130"
    assert with_param("lang=en", "r", ["1", "2"]) == "lang=en&r=1&r=2"
    assert with_param("lang=en&w=130", "w", None) == "lang=en"
    assert with_param("", "t", ["a b&c"]) == "t=a+b%26c"


# ---- the messages sent


def test_a_rerun_holds_every_widget_state_the_page_and_the_cached_hashes():
    widgets = [
        Widget("$$ID-1-a", "slider", [2.0]),
        Widget("$$ID-2-b", "radio", "x", options=("x", "y")),
    ]
    sent = BackMsg.FromString(
        rerun_message(
            client_state(widgets, "lang=en", ["h1"], page_script_hash="p", fragment_id="f")
        )
    )
    state = sent.rerun_script
    assert [w.id for w in state.widget_states.widgets] == ["$$ID-1-a", "$$ID-2-b"]
    assert list(state.widget_states.widgets[0].double_array_value.data) == [2.0]
    assert state.widget_states.widgets[1].string_value == "x"
    assert (state.query_string, state.page_script_hash, state.fragment_id) == ("lang=en", "p", "f")
    assert list(state.cached_message_hashes) == ["h1"]
    assert state.page_name == ""


def test_a_cold_load_names_the_page_by_its_url_path():
    state = client_state([], page_name="lstm-gates")
    assert (state.page_name, state.page_script_hash, len(state.widget_states.widgets)) == (
        "lstm-gates",
        "",
        0,
    )


# ---- what the learner reads from the server's messages


def test_media_urls_are_the_servers_own_images_only():
    element = Element()
    element.imgs.imgs.add(url="/media/abc.png")
    element.imgs.imgs.add(url="https://example.org/x.png")  # not ours: the browser's business
    assert media_urls(element) == ["/media/abc.png"]
    assert media_urls(_slider([1], 1)) == []


def _delta(element: Element, fragment_id: str = "") -> ForwardMsg:
    msg = ForwardMsg()
    msg.delta.new_element.CopyFrom(element)
    msg.delta.fragment_id = fragment_id
    return msg


def _session(page_hash: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.new_session.page_script_hash = page_hash
    msg.new_session.app_pages.extend(
        [
            AppPage(page_script_hash="h0", url_pathname=""),
            AppPage(page_script_hash="h1", url_pathname="kernels"),
        ]
    )
    return msg


def test_the_learner_folds_sessions_deltas_and_the_end_of_a_run():
    tab = ProtocolLearner("http://127.0.0.1:1")
    images = Element()
    images.imgs.imgs.add(url="/media/one.png")
    tab._take(_session("h1"))
    tab._take(_delta(_slider([8], 1), "frag"))
    tab._take(_delta(images))
    tab._take(ForwardMsg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY))
    assert (tab.pages, tab.page_hash) == ({"": "h0", "kernels": "h1"}, "h1")
    assert tab.widget("rf_side").fragment_id == "frag"
    assert tab.last.media == ["/media/one.png"]
    assert tab.last.status == ForwardMsg.FINISHED_SUCCESSFULLY
    assert len(tab.received) == len(tab.last.deltas) == 2
    with pytest.raises(KeyError):
        tab.widget("absent")


def test_the_learner_keeps_its_own_value_unless_the_server_sets_one():
    tab = ProtocolLearner("http://127.0.0.1:1")
    tab._take(_delta(_slider([8], 1)))
    tab.widget("rf_side").value = [9.0]
    tab._take(_delta(_slider([8], 1)))  # the next run draws it with its default again
    assert tab.widget("rf_side").value == [9.0]
    tab._take(_delta(_slider([8], 1, value=[3])))  # session state set it
    assert tab.widget("rf_side").value == [3.0]


def test_a_reference_to_a_cached_message_is_answered_from_the_kept_copy():
    tab = ProtocolLearner("http://127.0.0.1:1")
    first = _delta(_slider([8], 1))
    first.hash, first.metadata.cacheable = "abc", True
    tab._take(first)
    assert tab._hashes() == ["abc"]
    tab.widgets.clear()
    tab._take(ForwardMsg(ref_hash="abc"))
    assert tab.widget("rf_side").value == [8.0]
    assert len(tab.received) == 2


# ---- the isolation verdict and the lines


def _metric_delta(body: str) -> bytes:
    delta = Delta()
    delta.new_element.metric.body = body
    return delta.SerializeToString()


def _text_delta(text: str) -> bytes:
    delta = Delta()
    delta.new_element.markdown.body = text
    return delta.SerializeToString()


def test_first_metric_is_the_first_metrics_value():
    assert first_metric([_text_delta("x"), _metric_delta("17"), _metric_delta("4")]) == "17"
    assert first_metric([_text_delta("x")]) is None


def test_a_learner_that_sees_its_marker_its_count_and_no_other_is_isolated():
    me, other = Learner(1), Learner(2)
    run = [_metric_delta(f"{len(me.text):,}"), _text_delta(me.text)]
    markers = [me.marker, other.marker]
    assert marker_notes(me, run, run, markers) == []


def test_each_kind_of_mix_up_is_named():
    me, other = Learner(1), Learner(2)
    markers = [me.marker, other.marker]
    wrong_count = [_metric_delta(f"{len(other.text):,}"), _text_delta(me.text)]
    assert marker_notes(me, wrong_count, wrong_count, markers) == [
        f"the server traced {len(other.text)} characters, not ours"
    ]
    no_marker = [_metric_delta(f"{len(me.text):,}")]
    assert marker_notes(me, no_marker, no_marker, markers) == ["own marker missing after the rerun"]
    run = [_metric_delta(f"{len(me.text):,}"), _text_delta(me.text)]
    leaked = [*run, _text_delta(other.text)]
    assert marker_notes(me, run, leaked, markers) == [
        f"received other learners' markers: {other.marker}"
    ]


def test_spread_reports_the_percentiles_of_its_values():
    line = spread("x", [1.0, 2.0, 3.0, 4.0, 5.0])
    assert "p50   3.00 s" in line and "p95   4.80 s" in line and "max   5.00 s" in line
    assert "(5)" in line
    assert spread("x", []).endswith("—")


def test_by_page_lists_each_pages_median_slowest_first():
    line = by_page({"kernels": [1.0, 3.0, 2.0], "": [4.0], "pooling": []})
    assert line == "home 4.00 s, kernels 2.00 s"
    assert by_page({}) == "—"


# ---- one real visit


async def _fragment_runs(tab: ProtocolLearner, start: list[float]) -> list[list[bytes]]:
    """Return the deltas of three runs of a fragment's slider: one step on, back, on again."""
    runs = []
    for value in (None, start, [start[0] + tab.widget("lstm_pos").step]):
        await tab.change("lstm_pos", value)
        runs.append(list(tab.last.deltas))
    return runs


async def _two_learners(base: str, text: str) -> dict:
    """Return what two learners saw: one typed text into the marker page, the other did not."""
    async with ProtocolLearner(base) as typist, ProtocolLearner(base) as other:
        await typist.open(MARK_PAGE)
        start = typist.widget("lstm_pos").value  # a slider in a fragment: only that reruns
        moved = await _fragment_runs(typist, start)  # on the sample text, long enough to move
        fragment_status = typist.last.status
        await typist.change(MARK_KEY, text)
        typed = list(typist.last.deltas)
        await other.open(MARK_PAGE)
        await other.rerun()
        await typist.open("receptive-fields")  # by the menu, with images
        return {
            "typed": typed,
            "moved": moved,
            "fragment": fragment_status,
            "other": list(other.received),
            "other_count": first_metric(other.last.deltas),
            "media": list(typist.last.media),
            "page": typist.page_hash == typist.pages["receptive-fields"],
        }


@pytest.mark.e2e
def test_a_protocol_learner_types_its_marker_and_another_never_sees_it(tmp_path):
    marker = f"classroomqz{os.getpid()}"
    text = f"print('{marker}')"
    env = {**os.environ, "EXPLORER_WARMUP": "0"}
    with serve_app(tmp_path / "streamlit.log", env) as base:
        with ThreadPoolExecutor(1) as pool:  # its own thread: Playwright's sync API may own ours
            seen = pool.submit(asyncio.run, _two_learners(base, text)).result()
    assert any(marker.encode() in delta for delta in seen["typed"])
    assert first_metric(seen["typed"]) == f"{len(text):,}"
    moved, back, again = seen["moved"]  # the server drew the value it read from our state
    assert moved != back and moved == again
    assert seen["fragment"] == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    assert not any(marker.encode() in delta for delta in seen["other"])
    assert seen["other_count"] != f"{len(text):,}"  # the sample text, not ours
    assert seen["media"] and seen["page"]
