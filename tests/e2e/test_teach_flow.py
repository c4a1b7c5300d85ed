"""Issue 15's whole path in real Chromium: three classes (from the drawings, and from uploaded
files), train, predict, open the new model on the trained-CNN page, download it and load it back
in a fresh session; a hostile model file is refused there."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

TRAIN_LIMIT = 300_000  # ms: a short fit on a shared CPU, with room for a queued job
TAUGHT = "Your model from “Teach it your classes”"
HOSTILE = (10**9).to_bytes(8, "little") + b'{"__metadata__": {}}'
COLOURS = {"tomato": (220, 40, 30), "grass": (40, 180, 50), "sky": (40, 90, 230)}


def _png(colour: tuple[int, int, int], seed: int) -> bytes:
    """Return a 96×72 photo-like PNG: the colour with noise (each seed a different picture)."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 25, (72, 96, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _files(name: str, n: int, start: int = 0) -> list[dict]:
    """Return n PNG uploads of class name, as Playwright's set_input_files takes them."""
    return [
        {"name": f"{name}-{i}.png", "mimeType": "image/png", "buffer": _png(COLOURS[name], i)}
        for i in range(start, start + n)
    ]


def _open_teach(page, url: str) -> None:
    page.goto(f"{url}/teach-classes?lang=en")
    wait_idle(page)


def _click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").first.click()
    wait_idle(page)


def _smallest_run(page) -> None:
    """Move the steps, blocks and filters sliders to their first values, by keyboard."""
    for key in ("tc_steps", "tc_blocks", "tc_filters"):
        slider = page.locator(f".st-key-{key}").get_by_role("slider")
        slider.focus()
        slider.press("Home")
        wait_idle(page)


def _train(page) -> None:
    _smallest_run(page)
    _click(page, "tc_train")
    page.wait_for_selector("text=Confusion matrix", timeout=TRAIN_LIMIT)
    wait_idle(page)
    assert "Accuracy on unseen examples" in page.inner_text("body")


def _choose(page, key: str, option: str) -> None:
    """Pick option in the selectbox with widget key."""
    page.locator(f".st-key-{key}").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def _segment(page, key: str, label: str) -> None:
    page.locator(f".st-key-{key}").get_by_text(label, exact=True).click()
    wait_idle(page)


def _classes_from_uploads(page) -> None:
    """Remove the starting classes, then make COLOURS' classes from uploaded files."""
    for _ in range(3):
        page.locator("[class*='st-key-tc_drop_class_'] button").first.click()
        wait_idle(page)
    for name in COLOURS:
        page.locator(".st-key-tc_new_name input").fill(name)
        page.locator(".st-key-tc_new_name input").press("Enter")
        wait_idle(page)
        _click(page, "tc_add_class")
    _segment(page, "tc_source", "Upload files")
    for name in COLOURS:
        _choose(page, "tc_target", name)
        uploader = page.locator("[class*='st-key-tc_upload_'] input[type=file]")
        uploader.set_input_files(_files(name, 8))
        wait_idle(page)
    assert "3 classes · 24 examples in all" in page.inner_text("body")


def _predict_an_upload(page) -> None:
    """Predict a new upload of the first class; the answer is one of the classes."""
    _segment(page, "tc_predict_source", "Upload")
    picture = _files("tomato", 1, start=500)
    page.locator(".st-key-tc_predict_upload input[type=file]").set_input_files(picture)
    wait_idle(page)
    assert "The model says" in page.inner_text("body")


def _open_on_the_trained_cnn_page(page, names) -> None:
    """Follow the teach page's link; the trained-CNN page shows the taught model on an example."""
    page.get_by_role("link", name="Open every layer of this model", exact=False).click()
    wait_idle(page)
    page.wait_for_selector(".st-key-tc_overview_0 .js-plotly-plot", timeout=60_000)
    body = page.inner_text("body")
    assert f"Using {TAUGHT}" in body  # the model line names the model in use
    assert "Using your example 1 of" in body
    predicted = page.locator("[data-testid=stMetricValue]").first.inner_text().strip()
    assert predicted in names


def _download(page, target) -> None:
    """Go back to the teach page by the menu (a new page load would be a new session) and save
    its model download to target."""
    page.locator("[data-testid=stSidebarNav]").get_by_role(
        "link", name="Teach it your classes"
    ).click()
    wait_idle(page)
    with page.expect_download() as download:
        page.locator(".st-key-tc_download button").click()
    assert download.value.suggested_filename.endswith(".safetensors")
    download.value.save_as(target)


def _load_in_a_new_session(browser, url: str, data: bytes, name: str):
    """Return the text of the trained-CNN page after loading data in a new session."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/trained-cnn?lang=en")
        wait_idle(page)
        page.get_by_text("Load a model saved from").click()
        upload = {"name": name, "mimeType": "application/octet-stream", "buffer": data}
        page.locator(".st-key-tc_overview_load input[type=file]").set_input_files(upload)
        wait_idle(page)
        page.wait_for_selector(".st-key-tc_overview_0 .js-plotly-plot", timeout=60_000)
        shot(page, f"trained-cnn-loaded-{name.split('.')[0]}")
        return page.inner_text("body")
    finally:
        context.close()


def _round_trip(page, browser, url: str, tmp_path, names) -> None:
    """Download the model, load it in a fresh session, and see it chosen there."""
    target = tmp_path / "model.safetensors"
    _download(page, target)
    body = _load_in_a_new_session(browser, url, target.read_bytes(), target.name)
    assert f"Using {TAUGHT}" in body
    assert all(name in body for name in names)  # the card's classes, on the model line


def test_three_drawn_classes_train_predict_explore_and_round_trip(page, browser, app_url, tmp_path):
    _open_teach(page, app_url)
    _click(page, "tc_drawings")
    assert "3 classes · 60 examples in all" in page.inner_text("body")
    _train(page)
    assert "The model says" in page.inner_text("body")  # a new drawing, by default
    names = ["horizontal stripes", "vertical stripes", "checkerboard"]
    _open_on_the_trained_cnn_page(page, names)
    shot(page, "trained-cnn-taught-drawings")
    _round_trip(page, browser, app_url, tmp_path, names)


def test_three_uploaded_classes_train_predict_explore_and_round_trip(
    page, browser, app_url, tmp_path
):
    _open_teach(page, app_url)
    try:
        _classes_from_uploads(page)
    finally:
        shot(page, "teach-uploads-classes")
    _train(page)
    _predict_an_upload(page)
    shot(page, "teach-uploads-after")
    _open_on_the_trained_cnn_page(page, list(COLOURS))
    _round_trip(page, browser, app_url, tmp_path, list(COLOURS))


def test_a_hostile_model_file_is_refused_on_the_trained_cnn_page(page, app_url):
    page.goto(f"{app_url}/trained-cnn?lang=en")
    wait_idle(page)
    page.get_by_text("Load a model saved from").click()
    upload = {"name": "evil.safetensors", "mimeType": "application/octet-stream", "buffer": HOSTILE}
    page.locator(".st-key-tc_overview_load input[type=file]").set_input_files(upload)
    wait_idle(page)
    alert = page.locator("[data-testid=stAlertContentError]").first
    alert.wait_for(timeout=30_000)
    assert "model file" in alert.inner_text()
    assert "Traceback" not in page.inner_text("body")
    assert TAUGHT not in page.inner_text("body")
