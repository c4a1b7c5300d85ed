"""The your-weights page in real Chromium: random ResNet-18 and VGG-16 files in torchvision's
layout, placed in the operator's folder (EXPLORER_WEIGHTS_DIR), each picked in turn, show their
top five classes, every stage's maps and the two CAMs."""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import save_file

from engine.architectures import ARCHITECTURES, WEIGHTS_DIR_ENV, build, load_weights, stage_maps
from tests.e2e.conftest import OUT, serve_app, shot, wait_idle

pytestmark = pytest.mark.e2e

NETWORKS = ("resnet18", "vgg16")
LOG = OUT / "streamlit-weights.log"


def write_weights(folder, names) -> None:
    """Save each named registry network, randomly initialised (seed 1), as <name>.safetensors."""
    for name in names:
        state = {k: v.contiguous() for k, v in build(name, seed=1).state_dict().items()}
        save_file(state, folder / f"{name}.safetensors")


@pytest.fixture(scope="module")
def weights_url(tmp_path_factory):
    """A server of its own whose weights folder holds random ResNet-18 and VGG-16 files."""
    folder = tmp_path_factory.mktemp("weights")
    write_weights(folder, NETWORKS)
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, WEIGHTS_DIR_ENV: str(folder)}
    with serve_app(LOG, env) as url:
        yield url, folder


def pick_architecture(page, name: str) -> None:
    """Choose the architecture by its title in the page's select box. The warm-up may still be
    running: its imports and FLOP counting must not disturb the page (they once did: see
    engine/flops.py and ui/warmup.py)."""
    page.locator(".st-key-yw_arch [role='combobox']").click()
    page.get_by_role("option", name=ARCHITECTURES[name].title, exact=True).click()
    wait_idle(page, timeout=180_000)


@pytest.mark.parametrize("name", NETWORKS)
def test_each_network_shows_its_top_five_and_maps(page, weights_url, name):
    weights_url, folder = weights_url
    page.goto(f"{weights_url}/your-weights")
    wait_idle(page)
    pick_architecture(page, name)
    page.wait_for_selector(".st-key-yw_cams .js-plotly-plot", timeout=120_000)
    main = page.locator('[data-testid="stMain"]')
    assert f"holds {name}.safetensors" in main.inner_text()
    bars = page.locator(".st-key-yw_top .js-plotly-plot .bars .point")
    assert bars.count() == 5
    model = load_weights(name, folder / f"{name}.safetensors").model
    shapes = stage_maps(model, name, torch.zeros(3, 64, 64))[0]
    for i, stage in enumerate(shapes):
        c, h, w = stage.maps.shape
        assert f"{stage.name} · {c} channels of {h}×{w}" in main.inner_text()
        assert page.locator(f".st-key-yw_stage_{i} .js-plotly-plot").count() == 1
    assert not page.locator('[data-testid="stException"]').count()
    shot(page, f"your-weights-{name}")
