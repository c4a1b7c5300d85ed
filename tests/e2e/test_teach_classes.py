"""The teach-your-classes page in real Chromium: train on the drawings and see the confusion
matrix; two sessions at once never see each other's examples."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

TITLE = "Teach it your classes"
TRAIN_LIMIT = 300_000  # ms: six short runs on a shared CPU, with room for a queued job


def _open(page, url: str) -> None:
    page.goto(f"{url}/teach-classes?lang=en")
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == TITLE


def _to_start(page, key: str) -> None:
    """Move the slider with widget key to its first value, by keyboard as a person would."""
    slider = page.locator(f".st-key-{key}").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    wait_idle(page)


def test_train_on_the_drawings_and_see_the_confusion_matrix(page, app_url):
    _open(page, app_url)
    shot(page, "teach-en-before")
    page.locator(".st-key-tc_drawings button").click()
    wait_idle(page)
    assert "3 classes · 60 examples in all" in page.inner_text("body")
    for key in ("tc_steps", "tc_blocks", "tc_filters"):
        _to_start(page, key)
    page.locator(".st-key-tc_train button").click()
    page.wait_for_selector("text=Confusion matrix", timeout=TRAIN_LIMIT)
    wait_idle(page)
    page.wait_for_selector(".st-key-tc_confusion .js-plotly-plot", timeout=60_000)
    body = page.inner_text("body")
    assert "Accuracy on unseen examples" in body and "The model says" in body
    shot(page, "teach-en-after")


def _count_line(page) -> str:
    return page.get_by_text("examples in all").first.inner_text()


def test_two_sessions_never_see_each_others_examples(browser, app_url):
    one = browser.new_context(viewport={"width": 1400, "height": 1000})
    two = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        a, b = one.new_page(), two.new_page()
        _open(a, app_url)
        _open(b, app_url)
        a.locator(".st-key-tc_new_name input").fill("secret of session one")
        a.locator(".st-key-tc_new_name input").press("Enter")
        wait_idle(a)
        a.locator(".st-key-tc_add_class button").click()
        wait_idle(a)
        assert "4 classes · 60 examples in all" in _count_line(a)
        assert "secret of session one" in a.inner_text("body")
        for p in (b, a):  # a reload keeps the session's own set, never the other's
            p.reload()
            wait_idle(p)
        assert "3 classes · 60 examples in all" in _count_line(b)
        assert "secret of session one" not in b.inner_text("body")
    finally:
        one.close()
        two.close()
