"""Pooling page: what it pools (real pixels only), how it draws the maps, what it calls things."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from engine.conv import make_kernel
from engine.images import to_gray_tensor
from engine.pooling import worked_examples
from tests.charts import charts
from tests.tables import tables
from tests.test_pages import assert_clean, open_page

POOL = "app_pages/pooling.py"
SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "samples" / "shapes.png"


def _opened(*keys: str):
    """Return the pooling page with the lazy sections named by keys open."""
    at = open_page(POOL)
    for key in keys:
        at.session_state[key] = True
    return at.run()


def _metric(at, label: str) -> str:
    (value,) = [m.value for m in at.metric if m.label == label]
    return value


def _valid_conv_by_hand(side: int, feature: str) -> np.ndarray:
    """Return Σ image·kernel where the 5×5 kernel fits inside the working image (signed)."""
    img = Image.open(SAMPLE).convert("RGB")
    img.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    gray = to_gray_tensor(img).double().numpy()
    kernel = make_kernel(feature, 5, angle_deg=45.0).double().numpy()
    rows, cols = gray.shape[0] - 4, gray.shape[1] - 4
    out = np.zeros((rows, cols))
    for u in range(5):
        for v in range(5):
            out += kernel[u, v] * gray[u : u + rows, v : v + cols]
    return out


def _valid_detector_by_hand(side: int, feature: str) -> np.ndarray:
    """Return max(0, Σ image·kernel) where the 5×5 kernel fits inside the working image."""
    return np.maximum(_valid_conv_by_hand(side, feature), 0.0)


def test_global_max_and_kmax_come_from_real_pixels_not_the_padded_border():
    at = open_page(POOL)
    at.number_input(key="pool_k").set_value(5).run()
    assert_clean(at)
    reference = _valid_detector_by_hand(128, "sobel y")
    assert _metric(at, "Global max pooling") == f"{reference.max():.3f}"
    top = np.sort(reference.ravel())[::-1][:5]
    shown = sorted(
        (float(v) for v in _metric(at, "Global k-max pooling").split(", ")), reverse=True
    )
    np.testing.assert_allclose(shown, top, atol=6e-4)
    assert len(set(_metric(at, "Global k-max pooling").split(", "))) > 1  # not five tied maxima


def test_pooled_maps_use_a_colour_scale_with_a_bar():
    at = open_page(POOL)
    specs = [json.loads(c.spec) for c in charts(at)]
    maps = [s for s in specs if s["data"] and s["data"][0]["type"] == "heatmap"][:4]
    assert len(maps) == 4
    for spec in maps:
        trace = spec["data"][0]
        assert trace["showscale"] is True
        assert isinstance(trace["colorscale"], list) and trace["zmin"] == 0.0
        assert spec["layout"]["height"] >= 300


def test_invariance_charts_are_named_for_what_they_show():
    at = _opened("open_pool_stability")
    assert any("Rotation and scaling invariance" in s.value for s in at.subheader)
    titles = [json.loads(c.spec)["layout"].get("title", {}).get("text") for c in charts(at)]
    assert "Rotation invariance" in titles and "Scaling invariance" in titles


def test_dot_caption_says_which_windows_the_dot_fell_in():
    at = _opened("open_pool_hidden")
    assert _metric(at, "Pooled maps identical?") == "yes"  # column 2 → 3: one window
    assert any("both dots lie in window column 1" in c.value for c in at.caption)
    at.slider(key="pool_dot_col").set_value(3).run()
    assert _metric(at, "Pooled maps identical?") == "no"
    assert any("moves from window column 1 to 2" in c.value for c in at.caption)


def test_batch_norm_reads_the_valid_region_not_zero_padding():
    at = _opened("open_pool_layers")
    assert_clean(at)
    pre = _valid_conv_by_hand(128, "sobel x")  # what batch norm sees, before any ReLU
    h, w = pre.shape[0] // 2, pre.shape[1] // 2
    quarters = np.stack([pre[r : r + h, c : c + w] for r in (0, h) for c in (0, w)])
    assert _metric(at, "Batch mean → after (training)").startswith(f"{quarters.mean():.3f} →")
    assert _metric(at, "Batch variance → after (training)").startswith(f"{quarters.var():.3f} →")
    caption = " ".join(c.value for c in at.caption)
    assert f"→ {pre.shape[0]}×{pre.shape[1]}): no zero padding" in caption


def test_batch_norm_mismatch_sentence_follows_the_eval_variance():
    from engine.pooling import eval_variance_claim

    at = _opened("open_pool_layers")
    caption = " ".join(c.value for c in at.caption)
    pre = _valid_conv_by_hand(128, "sobel x")
    claim = "far" if "far from normalised" in caption else "close"
    assert ("close to 1 anyway" in caption) == (claim == "close")
    variance = pre.var() / (0.9 + 0.1 * pre.var() * pre.size / (pre.size - 1))
    assert eval_variance_claim(variance) == claim


LAZY = {  # each lazy section's key and the chart keys drawn inside it
    "open_pool_stability": {"pool_shift_curves", "pool_rot", "pool_scale"},
    "open_pool_hidden": {"pool_dots", *(f"pool_ex_{ex['hides']}" for ex in worked_examples())},
    "open_pool_layers": {"pool_dropout", "pool_bn"},
}


def _chart_keys(at) -> set[str]:
    """Return the user keys of the page's Plotly charts (an element id ends "-<key>")."""
    return {c.key for c in charts(at)}


def test_the_first_visit_draws_the_maps_but_none_of_the_folded_sections():
    at = open_page(POOL)
    assert_clean(at)
    assert _chart_keys(at) == {f"pool_map_{i}" for i in range(6)}  # default k = 2: six maps
    assert len(tables(at)) == 0  # the worked pairs' tables wait in their section too


def test_each_folded_section_draws_its_charts_when_opened():
    maps = {f"pool_map_{i}" for i in range(6)}
    for key, expected in LAZY.items():
        at = _opened(key)
        assert_clean(at)
        assert _chart_keys(at) == maps | expected, key
