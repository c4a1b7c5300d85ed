"""The learning path in Chromium: "Next" from home through every page, and one prompt checked."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from tests.e2e.conftest import shot, wait_idle
from ui.navigation import all_topics

pytestmark = pytest.mark.e2e


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]


def test_next_walks_from_home_through_every_page(page, app_url):
    topics = all_topics()
    page.goto(app_url)
    wait_idle(page)
    for topic in topics[1:]:
        page.get_by_role("link", name=f"Next: {topic.title}").click()
        address = re.compile(rf"/{re.escape(topic.url)}(\?.*)?$")  # ?lang= may follow
        page.wait_for_url(address, wait_until="commit", timeout=60_000)
        wait_idle(page)
        page.get_by_role("link", name="Previous: ").last.wait_for(timeout=60_000)
        _no_exception(page)
    assert page.get_by_role("link", name=re.compile("^Next: ")).count() == 0
    shot(page, "path-last-page")


def _output_size(question: str) -> int:
    """Return the output size of the question's n, k, p, s, d, computed by torch itself."""
    v = {name: int(value) for name, value in re.findall(r"\b([nkpsd]) = (\d+)", question)}
    out = F.conv2d(
        torch.zeros(1, 1, v["n"], v["n"]),
        torch.zeros(1, 1, v["k"], v["k"]),
        padding=v["p"],
        stride=v["s"],
        dilation=v["d"],
    )
    return out.shape[-1]


def _check(page, form, guess: int) -> None:
    """Type a guess into the prompt's number box, press Check and wait for the verdict."""
    box = form.locator("input[type='number']")
    box.fill(str(guess))
    box.press("Tab")
    form.get_by_role("button", name="Check").click()
    wait_idle(page)


def test_a_prompt_says_not_quite_then_right(page, app_url):
    page.goto(f"{app_url}/conv-arithmetic")
    wait_idle(page)
    form = page.locator('[data-testid="stForm"]').filter(has_text="how long is each side")
    form.wait_for(timeout=60_000)
    answer = _output_size(form.inner_text())
    assert page.get_by_text("Not quite").count() == 0, "the answer stays hidden before Check"
    _check(page, form, answer + 1)
    page.get_by_text(f"Not quite: the answer is {answer}.").wait_for(timeout=30_000)
    _check(page, form, answer)
    page.get_by_text(f"Right: {answer}.").wait_for(timeout=30_000)
    _no_exception(page)
    shot(page, "path-prompt-right")
