"""The real app in headless Chromium: pages render, uploads work, clicks explain a pixel."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.e2e.conftest import shot, wait_idle
from tests.pages_list import PAGES

pytestmark = pytest.mark.e2e


def _png_bytes(color=(20, 160, 60), size=(96, 64)) -> bytes:
    img = Image.new("RGB", size, (255, 255, 255))
    for x in range(size[0] // 3, 2 * size[0] // 3):
        for y in range(size[1] // 4, 3 * size[1] // 4):
            img.putpixel((x, y), color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
    dialogs = page.locator('[role="dialog"]').all_inner_texts()
    assert not any("not found" in d.lower() for d in dialogs), dialogs


def test_deep_link_is_the_first_request_after_a_server_start(page, app_url):
    # Kept first in this file: the session's server has served nothing before this request.
    page.goto(f"{app_url}/kernels")
    wait_idle(page)
    page.get_by_role("heading", name="Kernels on your image").first.wait_for(timeout=60_000)
    _no_exception(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Kernels on your image" in nav and "conv_2d" not in nav


# Pages whose first view has no Plotly figure by design, and what they show instead.
FIRST_VIEW = {
    "app_pages/home.py": "[data-testid='stPageLink']",  # the map of topics
    "app_pages/teach_classes.py": "[data-testid='stImage']",  # the examples, until it trains
    "app_pages/your_weights.py": "[data-testid='stCode']",  # how to export weights, until given
}


@pytest.mark.parametrize("path,url_path", PAGES)
def test_every_page_renders(page, app_url, path, url_path):
    page.goto(f"{app_url}/{url_path}")
    wait_idle(page)
    page.wait_for_selector("h1", timeout=60_000)
    _no_exception(page)
    page.wait_for_selector(FIRST_VIEW.get(path, ".js-plotly-plot"), timeout=60_000)
    shot(page, f"page-{url_path or 'home'}")


def _choose_upload(page, data: bytes, name: str) -> None:
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Upload", exact=True).first.click()
    wait_idle(page)
    page.locator('input[type="file"]').first.set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": data}]
    )
    wait_idle(page)


def test_upload_shows_feature_maps(page, app_url):
    page.goto(f"{app_url}/conv-layer")
    wait_idle(page)
    _choose_upload(page, _png_bytes(), "green-block.png")
    page.get_by_text("upload: green-block.png").first.wait_for(timeout=60_000)
    page.locator(".st-key-layer_conv .js-plotly-plot").first.wait_for(timeout=60_000)
    # The maps were computed from the upload: the caption under them names its working size.
    page.get_by_text(re.compile(r"4 kernels \(5×5\), each map 64×96")).first.wait_for()
    _no_exception(page)
    shot(page, "upload-feature-maps")


def test_bad_upload_gives_a_message_not_a_traceback(page, app_url):
    page.goto(f"{app_url}/kernels")
    wait_idle(page)
    _choose_upload(page, b"%PDF-1.7\n1 0 obj<<>>endobj\n", "notes.png")
    page.get_by_text("could not be used").first.wait_for(timeout=60_000)
    _no_exception(page)
    shot(page, "bad-upload")


def test_click_on_feature_map_shows_patch_arithmetic(page, app_url):
    page.goto(f"{app_url}/kernels")
    wait_idle(page)
    heading = page.get_by_text(re.compile(r"Output pixel \(\d+, \d+\)")).first
    before = heading.inner_text()
    plot = page.locator(".st-key-k2d_output .js-plotly-plot .nsewdrag").first
    box = plot.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    wait_idle(page)
    page.wait_for_function(
        "(before) => ![...document.querySelectorAll('h3')].some(h => h.innerText === before)",
        arg=before,
        timeout=30_000,
    )
    after = page.get_by_text(re.compile(r"Output pixel \(\d+, \d+\)")).first.inner_text()
    assert after != before
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    total, conv2d = float(metrics[0]), float(metrics[1])
    assert abs(total - conv2d) < 1e-4
    _no_exception(page)
    shot(page, "click-arithmetic")


def test_two_sessions_do_not_share_an_upload(browser, app_url):
    one = browser.new_context(viewport={"width": 1400, "height": 1000})
    two = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        a, b = one.new_page(), two.new_page()
        a.goto(f"{app_url}/kernels")
        b.goto(f"{app_url}/kernels")
        wait_idle(a)
        wait_idle(b)
        _choose_upload(a, _png_bytes((200, 0, 200)), "private-photo.png")
        a.get_by_text("upload: private-photo.png").first.wait_for(timeout=60_000)
        b.reload()
        wait_idle(b)
        b.get_by_text("Using").first.wait_for(timeout=60_000)
        assert "private-photo" not in b.inner_text("body")
        shot(b, "second-session")
    finally:
        one.close()
        two.close()


def test_camera_photo_becomes_the_image(browser_with_camera, app_url):
    # Chromium's fake capture device stands in for a webcam (a moving test pattern).
    context = browser_with_camera.new_context(
        viewport={"width": 1400, "height": 1000}, permissions=["camera"]
    )
    try:
        page = context.new_page()
        page.goto(f"{app_url}/kernels")
        wait_idle(page)
        page.locator('[data-testid="stButtonGroup"]').get_by_text("Camera", exact=True).click()
        wait_idle(page)
        using = page.get_by_text(re.compile(r"Using camera: ")).first
        for attempt in range(3):  # a rerun racing the shutter can drop one snapshot under load
            # Wait until the fake stream is actually playing, or the snapshot may be empty.
            page.wait_for_function(
                "() => { const v = document.querySelector("
                "'[data-testid=\"stCameraInput\"] video');"
                " return v && v.readyState >= 2 && v.videoWidth > 0; }",
                timeout=60_000,
            )
            page.get_by_role("button", name=re.compile("Take photo", re.I)).click(timeout=60_000)
            wait_idle(page)
            try:
                using.wait_for(timeout=20_000)
                break
            except Exception:
                if attempt == 2:
                    raise
                clear = page.get_by_role("button", name=re.compile("Clear photo", re.I))
                if clear.count():
                    clear.click()
                    wait_idle(page)
        _no_exception(page)
        shot(page, "camera")
    finally:
        context.close()
