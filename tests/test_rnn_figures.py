"""Figure helpers of the recurrent pages: safe character labels, clicked units, stacked layouts."""

from __future__ import annotations

import numpy as np

from ui.recurrent import figures as rf


def test_char_code_keeps_markdown_and_html_inert():
    assert rf.char_code(" ") == "`␣`" and rf.char_code("\n") == "`↵`"
    assert rf.char_code("*") == "`*`" and rf.char_code("<") == "`<`"
    assert rf.char_code("`") == "`` ` ``"


def test_clicked_index_reads_a_clicked_point():
    assert rf.clicked_index({"customdata": 7}, 128) == 7
    assert rf.clicked_index({"customdata": [3, 0.5]}, 128) == 3  # a bar's (unit, value) row
    assert rf.clicked_index({"customdata": 127.0}, 128) == 127
    bad = [{"customdata": 128}, {"customdata": -1}, {"customdata": True}, {"customdata": "5"}]
    assert [rf.clicked_index(point, 128) for point in bad] == [None] * 4
    for nothing in (None, {}, {"x": 1}, {"customdata": []}, "junk"):
        assert rf.clicked_index(nothing, 128) is None


def test_stacked_heatmaps_share_time_and_label_only_the_bottom_axis():
    panels = {"a": np.zeros((5, 3)), "b": np.ones((5, 3)), "c": np.full((5, 3), -2.0)}
    fig = rf.state_heatmaps(panels, list("hello"), 10, bounded={"a": (0.0, 1.0), "b": (-1.0, 1.0)})
    layout = fig.layout
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]
    assert layout.xaxis2.matches == "x" and layout.xaxis3.matches == "x"
    assert [layout[f"xaxis{s}"].showticklabels for s in ("", "2", "3")] == [False, False, True]
    assert layout.xaxis3.title.text == "character read at time t"
    domains = [layout[f"yaxis{s}"].domain for s in ("", "2", "3")]
    assert domains[0][1] == 1 and domains[2][0] == 0  # rows fill the figure top to bottom
    below, above = domains[1:], domains[:-1]
    assert all(hi <= lo for (_, hi), (lo, _) in zip(below, above, strict=True))
    assert list(fig.data[0].x) == [10, 11, 12, 13, 14]
    assert fig.data[2].zmin == -2.0 and fig.data[2].zmax == 2.0  # unbounded: symmetric scale
    assert [a.text for a in layout.annotations] == ["a", "b", "c"]


def test_unrolled_values_draws_every_cell_arrow_and_label():
    from ui.recurrent import dynamics_figures as df

    hidden = np.array([[0.5, -1.25, 0.0], [0.1, 0.2, -0.3]])  # T = 2 steps, H = 3 units
    fig = df.unrolled_values(["a", "b"], hidden)
    cells, inputs = fig.data
    assert list(cells.text) == ["0.50", "-1.25", "0.00", "0.10", "0.20", "-0.30"]
    assert cells.marker.cmin == -1.25 and cells.marker.cmax == 1.25  # symmetric around 0
    assert list(inputs.text) == ["a", "b"]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert [a.arrowcolor for a in arrows].count(df.U_COLOR) == 2  # one U per step
    assert [a.arrowcolor for a in arrows].count(df.W_COLOR) == 1  # one W between the steps
    texts = {a.text for a in fig.layout.annotations if not a.showarrow}
    assert {"h<sub>1</sub>", "h<sub>2</sub>", "x<sub>1</sub>", "x<sub>2</sub>"} <= texts
