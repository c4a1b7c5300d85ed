"""Equivariance page: every sentence sides with the errors measured beside it."""

from __future__ import annotations

from engine.conv import NEAR_EQUIVARIANT
from tests.test_pages import assert_clean, open_page

EQUI = "app_pages/equivariance.py"


def _lines(at, kind: str) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(f"**{kind}**")]


def test_no_heading_claims_symmetric_kernels_survive_scaling():
    at = open_page(EQUI)
    assert_clean(at)
    assert not any("unless the kernel is symmetric" in s.value for s in at.subheader)


def test_the_symmetric_laplacian_is_listed_beyond_the_tolerance_for_scaling():
    at = open_page(EQUI)
    at.multiselect(key="eq_kernels").set_value(["gaussian", "laplacian"]).run()
    assert_clean(at)
    (scaling,) = _lines(at, "Scaling")
    within, beyond = scaling.split(f"beyond {NEAR_EQUIVARIANT:.0%}")
    assert "gaussian" in within and "laplacian" not in within
    assert "laplacian" in beyond and "at ×0.5" in beyond


def test_only_kernels_within_the_tolerance_are_called_close():
    at = open_page(EQUI)
    at.multiselect(key="eq_kernels").set_value(["gaussian"]).run()
    (rotation,) = _lines(at, "Rotation")
    assert f"within {NEAR_EQUIVARIANT:.0%} everywhere: gaussian" in rotation
    assert "beyond" not in rotation
    at.multiselect(key="eq_kernels").set_value(["sobel x"]).run()
    (rotation,) = _lines(at, "Rotation")
    assert "within" not in rotation and "beyond" in rotation and "sobel x" in rotation


def test_shift_caption_follows_the_padding_measured():
    at = open_page(EQUI)
    captions = " ".join(c.value for c in at.caption)
    assert "float rounding" in captions and "only a band" not in captions
    at.selectbox(key="eq_pad").set_value("zeros").run()
    captions = " ".join(c.value for c in at.caption)
    assert "only a band" in captions and "float rounding" not in captions
