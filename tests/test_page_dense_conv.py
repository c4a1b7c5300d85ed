"""Dense vs convolutional vs recurrent page: the diagrams' colours tell the truth about sharing,
titles wrap, and each sentence follows its numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.conv import conv_matrix_1d, dense_matrix, layer_costs
from tests.charts import charts
from tests.test_pages import assert_clean, open_page
from ui import diagrams

PAGE = "app_pages/dense_conv_recurrent.py"
N_IN, N_OUT = 8, 6


def _chart(at, key: str) -> dict:
    for chart in charts(at):
        if chart.id.endswith(key):
            return json.loads(chart.spec)
    raise KeyError(key)


def _edges_by_colour(fig: dict, n_in: int, n_out: int) -> dict[str, list[tuple[int, int]]]:
    """Return {line colour: [(output, input), ...]} read back from the drawn line coordinates."""
    edges: dict[str, list[tuple[int, int]]] = {}
    for trace in fig["data"]:
        if trace.get("mode") != "lines":
            continue
        xs = [x for x in trace["x"] if x is not None]
        pairs = [
            (round(xs[j + 1] * (n_out - 1)), round(xs[j] * (n_in - 1)))
            for j in range(0, len(xs), 2)
        ]
        edges.setdefault(trace["line"]["color"], []).extend(pairs)
    return edges


def _assert_colours_match_weights(fig: dict, w: np.ndarray) -> None:
    """Same colour ⇔ same weight, one line per nonzero weight."""
    edges = _edges_by_colour(fig, w.shape[1], w.shape[0])
    drawn = sorted(e for group in edges.values() for e in group)
    assert drawn == sorted(zip(*np.nonzero(w), strict=True))
    values_per_colour = [{float(w[o, i]) for o, i in group} for group in edges.values()]
    assert all(len(v) == 1 for v in values_per_colour), "one colour, several numbers"
    assert len({next(iter(v)) for v in values_per_colour}) == len(edges), "one number, two colours"
    assert len(edges) == len(np.unique(w[w != 0]))


@pytest.fixture(scope="module")
def page():
    at = open_page(PAGE)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    return at


def test_dense_and_conv_diagram_colours_are_the_weight_sharing(page):
    kernel = torch.tensor([0.5, -1.0, 1.5])
    _assert_colours_match_weights(
        _chart(page, "cmp_dense_graph"), dense_matrix(N_OUT, N_IN, seed=0).numpy()
    )
    _assert_colours_match_weights(
        _chart(page, "cmp_conv_graph"), conv_matrix_1d(N_IN, kernel).numpy()
    )


@pytest.mark.parametrize("distinct", [1, 7, 8, 48, 300])
def test_edge_colours_give_every_distinct_weight_its_own_colour(distinct):
    w = np.arange(1, distinct + 1, dtype=np.float64).reshape(1, -1)
    colours = diagrams.edge_colours(np.concatenate([w, -w, np.zeros_like(w)]))
    assert len(colours) == 2 * distinct and 0.0 not in colours
    assert len(set(colours.values())) == 2 * distinct


def test_diagram_titles_wrap_and_get_room(page):
    for key in ("cmp_dense_graph", "cmp_conv_graph", "cmp_rnn_graph"):
        layout = _chart(page, key)["layout"]
        lines = layout["title"]["text"].split("<br>")
        assert len(lines) == 2 and max(map(len, lines)) <= 36, lines
        assert layout["margin"]["t"] >= 22 + 18 * len(lines)


def test_sharing_sentences_follow_each_matrix(page):
    captions = [c.value for c in page.caption]
    dense = next(c for c in captions if c.startswith(f"{N_IN * N_OUT} lines in {N_IN * N_OUT}"))
    assert "no weight is shared" in dense and f"All {N_IN * N_OUT} possible" in dense
    conv_lines = (N_IN - 3 + 1) * 3
    conv = next(c for c in captions if c.startswith(f"{conv_lines} lines in 3 colours"))
    assert f"reused up to {N_IN - 3 + 1} times" in conv
    assert f"{N_IN * (N_IN - 3 + 1) - conv_lines} of the {N_IN * (N_IN - 3 + 1)}" in conv


def test_growth_and_length_sentences_are_the_computed_counts(page):
    text = " ".join(c.value for c in page.caption)
    flat = layer_costs.conv2d(8, 8, 3, 16, 3).parameters
    assert f"flat at {flat:,} parameters" in text
    dense8, dense512 = (layer_costs.dense(s * s * 3, s * s * 16).parameters for s in (8, 512))
    assert f"grow {dense512 / dense8:,.0f}-fold" in text
    assert f"instead of {layer_costs.dense(50 * 8, 32).parameters:,}" in text
    assert f"keeps its {layer_costs.rnn(8, 32, 50).parameters:,}" in text
