"""The differentiable-programming page in AppTest, checked against torch run by hand in the test."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.charts import charts
from tests.tables import number, tables

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "autodiff.py")
NAMES = ("w1", "b1", "w2", "b2")
TWELVE = 5.01e-13  # a number shown to 12 decimals is off by at most half its last digit


def _open(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    _clean(at)
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _set(at: AppTest, **values: float) -> AppTest:
    for key, value in values.items():
        at.number_input(key=f"ad_{key}").set_value(value)
    at.run()
    _clean(at)
    return at


def _settings(at: AppTest) -> tuple[dict[str, float], list[float], list[float]]:
    """What the widgets on the page hold."""
    n = int(at.number_input(key="ad_n").value)
    params = {k: at.number_input(key=f"ad_{k}").value for k in NAMES}
    x = [at.number_input(key=f"ad_x{i}").value for i in range(n)]
    t = [at.number_input(key=f"ad_t{i}").value for i in range(n)]
    return params, x, t


def _by_hand(params, x, t):
    """The model written out in torch; return (loss, tensors by name, parameter gradients)."""
    leaf = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xs, ts = torch.tensor(x, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
    u = leaf["w1"] * xs
    z = u + leaf["b1"]
    a = torch.tanh(z)
    v = leaf["w2"] * a
    y = v + leaf["b2"]
    r = y - ts
    s = r**2
    loss = s.mean()
    values = dict(u=u, z=z, a=a, v=v, y=y, r=r, s=s, L=loss)
    grads = torch.autograd.grad(loss, [leaf[k] for k in NAMES] + list(values.values()))
    named = dict(zip([*NAMES, *values], grads, strict=True))
    return loss, named


def _grad_fn_names(loss: torch.Tensor) -> Counter:
    names, stack, seen = Counter(), [loss.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names[type(fn).__name__] += 1
        stack += [child for child, _ in fn.next_functions]
    return names


def _figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(charts(at)[index].spec)


def _array(data) -> np.ndarray:
    """A Plotly array from its JSON: a list, or a typed array {"dtype", "bdata"}."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data, dtype=np.float64)


def _hover_grads(at: AppTest) -> dict[str, float]:
    """∂L/∂· for every node whose gradient the drawn graph shows (full precision, from hover)."""
    found = {}
    for trace in _figure(at)["data"]:
        for text in trace.get("hovertext") or []:
            m = re.search(r"∂L/∂(\w+): ([-0-9.e, ]+)$", text)
            if m:
                found[m.group(1)] = [float(v) for v in m.group(2).split(",")]
    return found


def _table(at: AppTest) -> dict[str, dict[str, float]]:
    """Return the three-ways table: parameter → column → the number shown."""
    df = next(f for f in tables(at) if "parameter" in f.columns)
    return {
        row["parameter"]: {c: number(v) for c, v in row.items() if c != "parameter"}
        for _, row in df.iterrows()
    }


def _assert_gradients_shown(at: AppTest) -> None:
    _, grads = _by_hand(*_settings(at))
    table = _table(at)
    for k in NAMES:
        expected = float(grads[k])
        row = table[k]
        assert row["automatic (reverse mode)"] == pytest.approx(expected, rel=1e-12, abs=TWELVE)
        assert row["symbolic (formula)"] == pytest.approx(expected, rel=1e-10, abs=TWELVE)
        numerical = [c for c in row if c.startswith("numerical")][0]
        assert row[numerical] == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_defaults_render_with_the_gradients_torch_gives():
    at = _open()
    assert at.title[0].value == "Differentiable programming"
    assert not at.warning
    _assert_gradients_shown(at)
    assert len(charts(at)) == 2  # the graph and the error-vs-h chart


def test_graph_shows_the_real_grad_fn_chain_with_its_numbers():
    at = _open()
    params, x, t = _settings(at)
    loss, grads = _by_hand(params, x, t)
    expected = _grad_fn_names(loss)  # includes one AccumulateGrad per parameter
    boxes = [a["text"] for a in _figure(at)["layout"]["annotations"] if a.get("text")]
    drawn = Counter(
        m.group(1) for b in boxes for m in [re.search(r"(\w+Backward\d|AccumulateGrad)", b)] if m
    )
    assert drawn == expected
    assert expected["AccumulateGrad"] == 4 and expected["TanhBackward0"] == 1
    shown = _hover_grads(at)  # default step is the last: every gradient is on the graph
    for name, grad in grads.items():
        np.testing.assert_allclose(shown[name], grad.reshape(-1).numpy(), rtol=1e-9, atol=1e-12)
    assert any(f"{loss.item():.3g}" in b for b in boxes if "MeanBackward0" in b)


def test_stepping_forward_then_back_to_the_final_gradients():
    at = _open()
    params, x, t = _settings(at)
    _, grads = _by_hand(params, x, t)
    at.select_slider(key="ad_step").set_value(1).run()
    _clean(at)
    assert any(m.value.startswith("**Step 1 of 20 · forward.**") for m in at.markdown)
    assert _hover_grads(at) == {}  # no gradient yet
    total = len(at.select_slider(key="ad_step").options)
    seen_backward = 0
    for _ in range(total - 1):
        at.button(key="ad_next").click().run()
        _clean(at)
        intro = next(m.value for m in at.markdown if m.value.startswith("**Step "))
        if "· backward." in intro:
            seen_backward += 1
            assert len(_hover_grads(at)) == seen_backward  # one more gradient per step
    assert at.select_slider(key="ad_step").value == total
    assert seen_backward == 12  # L, s, r, y, v, a, z, u and the four parameters
    last = at.latex[1].value  # the step's formula (the model is latex[0])
    assert r"\partial w_1" in last and last.strip().rstrip("$").strip().endswith(
        f"{float(grads['w1']):.4g}"
    )
    shown = _hover_grads(at)
    for k in NAMES:
        assert shown[k][0] == pytest.approx(float(grads[k]), rel=1e-9)
    at.button(key="ad_next").click().run()  # past the end: stays on the last step
    assert at.select_slider(key="ad_step").value == total


def test_a_backward_step_is_upstream_times_local():
    at = _open()
    at.select_slider(key="ad_step").set_value(len(at.select_slider(key="ad_step").options) - 3)
    at.run()
    _clean(at)
    params, x, t = _settings(at)
    _, grads = _by_hand(params, x, t)
    intro = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    assert "TanhBackward0" in intro  # ∂L/∂z comes from a = tanh z
    a = np.tanh(params["w1"] * np.array(x) + params["b1"])
    formula = at.latex[1].value
    for value in (*grads["a"].numpy(), *(1 - a**2), *grads["z"].numpy()):
        assert f"{value:.4g}" in formula


def test_changing_parameters_and_examples_updates_the_numbers():
    at = _open()
    before = _table(at)["w1"]["automatic (reverse mode)"]
    at.number_input(key="ad_n").set_value(3)
    at.run()
    _set(at, w1=-1.2, b1=0.4, w2=-0.6, b2=2.0, x2=1.5, t2=-0.75)
    assert len(_settings(at)[1]) == 3
    _assert_gradients_shown(at)
    assert _table(at)["w1"]["automatic (reverse mode)"] != pytest.approx(before)
    at.number_input(key="ad_n").set_value(1)
    at.run()
    _clean(at)
    _assert_gradients_shown(at)


@pytest.mark.parametrize(
    "query",
    [
        {"w1": "1e9"},
        {"x": "nan,1"},
        {"w2": "abc"},
        {"x": "1,2,3,4,5", "t": "0,0,0,0,0"},
        {"x": "1,2", "t": "0.5"},
        {"b2": "inf"},
    ],
)
def test_bad_values_in_a_link_give_a_message_and_the_defaults(query):
    at = _open(**query)
    assert at.warning and "not used" in at.warning[0].value
    _assert_gradients_shown(at)  # the defaults, computed


def test_a_good_link_sets_the_widgets():
    at = _open(w1="-2", x="0.25,1,-3", t="1,0,1")
    assert not at.warning
    params, x, t = _settings(at)
    assert params["w1"] == -2 and x == [0.25, 1, -3] and t == [1, 0, 1]
    _assert_gradients_shown(at)


def test_saturated_tanh_still_renders_with_vanishing_gradients():
    at = _open()
    _set(at, w1=100.0, x0=100.0, x1=-100.0)
    _assert_gradients_shown(at)
    assert any("saturated" in i.value for i in at.info)
    table = _table(at)
    assert abs(table["w1"]["automatic (reverse mode)"]) < 1e-12
    assert abs(table["w2"]["automatic (reverse mode)"]) > 1e-3  # the output layer still learns
    assert any("no error to plot" in i.value for i in at.info)  # w1's sweep is all exact zeros
    at.segmented_control(key="ad_fd_param").set_value("w2").run()
    _clean(at)
    assert len(charts(at)) == 2


def test_everything_zero_and_the_largest_values_render():
    at = _open()
    zeros = {k: 0.0 for k in NAMES} | {"x0": 0.0, "x1": 0.0, "t0": 0.0, "t1": 0.0}
    _set(at, **zeros)
    assert any("L = 0" in i.value for i in at.info)
    _assert_gradients_shown(at)
    _set(at, **{k: 100.0 for k in zeros} | {"t0": -100.0, "t1": -100.0})
    _assert_gradients_shown(at)


def test_error_vs_h_chart_is_the_central_difference_error():
    at = _open()
    params, x, t = _settings(at)
    _, grads = _by_hand(params, x, t)
    trace = next(d for d in _figure(at, 1)["data"] if d["name"] == "measured error")
    h, shown = _array(trace["x"]), _array(trace["y"])
    xs, ts = np.array(x), np.array(t)

    def loss(w1):
        return np.mean((params["w2"] * np.tanh(w1 * xs + params["b1"]) + params["b2"] - ts) ** 2)

    large = h >= 1e-4  # truncation dominates: reproducible to many digits
    w1 = params["w1"]
    central = np.array([(loss(w1 + d) - loss(w1 - d)) / (2 * d) for d in h[large]])
    np.testing.assert_allclose(shown[large], np.abs(central - float(grads["w1"])), rtol=1e-3)
    best = int(np.argmin(shown))
    assert 1e-8 < h[best] < 1e-4  # the bottom of the V
    assert shown[0] > 1e3 * shown[best] and shown[-1] > 1e3 * shown[best]
    notice = next(m.value for m in at.markdown if "The smallest error" in m.value)
    assert "falls like h²" in notice


def test_static_and_dynamic_graphs_section_lists_the_traced_ops():
    from engine.autodiff import static_graph
    from tests.test_pages import open_page as open_any

    at = open_any("app_pages/autodiff.py")
    assert any("Static and dynamic graphs" in h.value for h in at.subheader)
    frame = next(f for f in tables(at) if "torch.fx (static, traced ahead)" in f)
    static = static_graph()
    assert list(frame["value"]) == [n.id for n in static]
    assert list(frame["autograd (dynamic, recorded while running)"])[0] == "MulBackward0"
    caption = next(c.value for c in at.caption if "the trace lists" in c.value)
    assert f"lists {len(static)} operations" in caption
    assert "same operations on the same inputs in the same order" in caption
