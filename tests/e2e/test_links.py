"""A link copied from any page reopens the same view in a new browser: change one setting that
shapes the view, take the address the "Copy link to this view" box shows, open it in a fresh
browser context, and find the same setting and the same computed titles and numbers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.conftest import wait_idle
from tests.pages_list import PAGES

pytestmark = pytest.mark.e2e

BOX = '[data-testid="stSidebar"] iframe'  # the copy-link box (ui/links.py)


@dataclass(frozen=True)
class Change:
    """One setting a test changes on a page: how (kind), which widget (key), to what (value)."""

    kind: str  # "number", "slider", "text", "select", "sample" or "lang"
    key: str  # widget key (the URL parameter), or the parameter of a sample / language
    value: str = ""  # a number or text typed, a sample's title, or "left"/"right" for a slider


# One change per page, on a setting each page's first view shows.
CHANGES = {
    "": Change("lang", "lang", "中文"),
    "conv-1d": Change("slider", "c1d_length", "left"),
    "kernels": Change("sample", "img", "House"),
    "conv-arithmetic": Change("number", "arith_p", "2"),
    "conv-layer": Change("number", "layer_pool_size", "3"),
    "why-convolution": Change("number", "why_k", "5"),
    "equivariance": Change("number", "eq_dy", "7"),
    "pooling": Change("number", "pool_size", "3"),
    "receptive-fields": Change("slider", "rf_side", "left"),
    "kernel-sizes": Change("slider", "ks_side", "left"),
    "architectures": Change("slider", "arch_work", "left"),
    "your-weights": Change("select", "yw_arch"),
    "trained-cnn": Change("lang", "lang", "中文"),  # its inputs are the lead's (cnn_overview)
    "train-cnn": Change("slider", "ct_filters", "left"),
    "teach-classes": Change("lang", "lang", "中文"),
    "rnn-unrolled": Change("number", "unr_seed", "5"),
    "lstm-gates": Change("text", "lstm_text", "def f(x):\n    return x + 1\n"),
    "rnn-gradients": Change("slider", "grad_T", "left"),
    "dense-conv-recurrent": Change("number", "cmp_h", "64"),
    "mnist-1d": Change("slider", "m1d_k", "left"),
    "sequence-both": Change("text", "seqb_numbers", "3, 1, 4, 1, 5, 9, 2, 6"),
    "autodiff": Change("number", "ad_n", "3"),
}


def _widget(page, key: str):
    return page.locator(f".st-key-{key}").first


def make_change(page, change: Change) -> None:
    """Change the setting in the browser, as a learner would, and wait for the page to settle."""
    box = _widget(page, change.key)
    if change.kind == "number":
        box.locator("input").fill(change.value)
        box.locator("input").press("Enter")
    elif change.kind == "slider":
        box.get_by_role("slider").focus()
        arrow = "ArrowLeft" if change.value == "left" else "ArrowRight"
        for _ in range(2):
            page.keyboard.press(arrow)
    elif change.kind == "text":
        box.locator("textarea").fill(change.value)
        box.locator("textarea").press("Control+Enter")
    elif change.kind == "select":
        box.get_by_role("combobox").click()
        page.get_by_role("option").nth(1).click()
    elif change.kind == "sample":
        page.get_by_role("button", name=change.value, exact=True).first.click()
    else:
        page.locator('[data-testid="stSidebar"]').get_by_text(change.value, exact=True).click()
    wait_idle(page)


def setting(page, change: Change) -> str:
    """Return the changed setting as the page shows it."""
    box = _widget(page, change.key)
    if change.kind == "number":
        return box.locator("input").input_value()
    if change.kind == "slider":
        return box.locator('[data-testid="stSliderThumbValue"]').inner_text().strip()
    if change.kind == "text":
        return box.locator("textarea").input_value()
    if change.kind == "select":
        return box.get_by_role("combobox").input_value()  # the chosen option's label
    if change.kind == "sample":
        return page.locator(
            '[data-testid="stCaptionContainer"]', has_text="Using"
        ).first.inner_text()
    return page.locator("h1").first.inner_text()


def computed(page) -> list[str]:
    """Return the figure titles and metric values on screen, in page order."""
    page.wait_for_timeout(500)  # let Plotly finish writing titles it drew after the last run
    titles = page.locator(".js-plotly-plot .gtitle, .js-plotly-plot .annotation-text")
    metrics = page.locator('[data-testid="stMetricValue"]')
    return titles.all_inner_texts() + metrics.all_inner_texts()


def settled(read, expected, page, limit_ms: int = 30_000):
    """Return read() once it equals expected, or its last value after limit_ms: a reopened page
    may first draw a widget at its default and its URL value a moment later."""
    value = read()
    for _ in range(limit_ms // 250):
        if value == expected:
            break
        page.wait_for_timeout(250)
        value = read()
    return value


def link_in_box(page, param: str, value: str = "") -> str:
    """Return the address the copy-link box shows, once it names param (with value, if given: a
    slider moved twice reruns twice, and the box may still show the first step's address)."""
    address = page.frame_locator(BOX).locator("#url")
    wanted = f"{param}={value}"
    for _ in range(50):
        url = address.input_value()
        if wanted in url and (not value or not url.split(wanted, 1)[1][:1].isalnum()):
            return url
        page.wait_for_timeout(200)
    raise AssertionError(f"the link never named {wanted}: {address.input_value()}")


def _first_view(page) -> None:
    page.wait_for_selector("h1", timeout=90_000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]


@pytest.mark.parametrize("url_path", [url for _, url in PAGES])
def test_a_copied_link_reopens_the_same_view(browser, app_url, url_path):
    change = CHANGES[url_path]
    first = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = first.new_page()
    page.goto(f"{app_url}/{url_path}?lang=en")
    wait_idle(page)
    _first_view(page)
    before = setting(page, change)
    make_change(page, change)
    _first_view(page)
    shown, numbers = setting(page, change), computed(page)
    assert shown != before, f"the change did not take: {shown!r}"
    exact = shown if change.kind in ("slider", "number") else ""  # shown as the URL holds it
    url = link_in_box(page, "lang" if change.kind == "lang" else change.key, exact)
    first.close()

    second = browser.new_context(viewport={"width": 1400, "height": 1000})
    again = second.new_page()
    again.goto(url)
    wait_idle(again)
    _first_view(again)
    assert settled(lambda: setting(again, change), shown, again) == shown
    assert settled(lambda: computed(again), numbers, again) == numbers
    second.close()


def test_the_copy_button_puts_the_address_on_the_clipboard(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page = context.new_page()
    page.goto(f"{app_url}/pooling?lang=en")
    wait_idle(page)
    make_change(page, CHANGES["pooling"])
    url = link_in_box(page, "pool_size")
    box = page.frame_locator(BOX)
    box.get_by_role("button", name="Copy link to this view").click()
    box.get_by_text("Copied").wait_for(timeout=10_000)
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert "pool_size=3" in url and "lang=en" in url
    context.close()
