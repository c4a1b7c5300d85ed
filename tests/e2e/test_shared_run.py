"""Two browsers, one training run: a second person pressing Train with identical settings follows
the run already going (one job on the server, shown in both), and their Stop leaves the run to the
first person instead of ending it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

STEPS = 3000  # long enough that both Stops come before the end
SHARED = "Shared run: 1 other session follows it"


def _start_training(page, app_url: str) -> None:
    """Open the training page, ask for STEPS steps and press Train."""
    page.goto(f"{app_url}/train-cnn")
    wait_idle(page)
    box = page.get_by_label("Training steps", exact=True)
    box.fill(str(STEPS))
    box.press("Enter")
    wait_idle(page)
    page.locator(".st-key-ct_train button").click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=120_000)


def test_a_second_session_follows_the_same_run_and_its_stop_leaves_it(browser, app_url):
    first, second = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in "ab")
    try:
        a, b = first.new_page(), second.new_page()
        _start_training(a, app_url)
        _start_training(b, app_url)
        b.get_by_text(SHARED).wait_for(timeout=60_000)  # attached, not queued behind a copy
        assert b.get_by_text("in the queue").count() == 0
        a.get_by_text(SHARED).wait_for(timeout=60_000)  # the first sees the second follow
        shot(b, "shared-run-second-session")
        b.locator(".st-key-ct_panel__stop button").click()
        b.get_by_text("You left this run").wait_for(timeout=60_000)
        assert a.locator(".st-key-ct_panel__stop button").count() == 1  # still running for a
        a.get_by_text(SHARED).wait_for(state="detached", timeout=60_000)
        a.locator(".st-key-ct_panel__stop button").click()  # the last one following it: it stops
        a.get_by_text(re.compile(r"^Stopped (after|before the first step)")).wait_for(
            timeout=120_000
        )
        shot(a, "shared-run-first-session-stopped")
        for page in (a, b):
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        first.close()
        second.close()
