"""Train a CNN in the browser, stop it, and explore the model on the overview page: the background
job, its progress fragment, Stop, and the model passing between pages in one session."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def test_train_stop_and_use_the_model_on_the_overview_page(page, app_url):
    page.goto(f"{app_url}/train-cnn")
    wait_idle(page)
    _set_number(page, "Training steps", 3000)  # long enough that Stop comes first
    page.locator(".st-key-ct_train button").click()
    progress = page.locator('[data-testid="stProgress"]').first
    progress.wait_for(timeout=120_000)  # the job runs and the fragment redraws it
    page.wait_for_function(  # a few reports in, so there is a model to keep
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
              .some(m => /Steps done/.test(m.innerText) && /[1-9]/.test(
                  m.querySelector('[data-testid="stMetricValue"]').innerText))""",
        timeout=180_000,
    )
    page.locator(".st-key-ct_panel__stop button").click()
    page.get_by_text("Stopped after").wait_for(timeout=120_000)
    wait_idle(page)
    assert page.get_by_text("is now available on the page").count() == 1
    shot(page, "train-cnn-stopped")

    page.get_by_role("link", name="Open it there").click()  # same session, so the model is here
    wait_idle(page)
    assert page.locator("h1").first.inner_text() == "A trained CNN on your image"
    using = page.locator('[data-testid="stAlert"]', has_text="Using").first.inner_text()
    assert "Using Trained here: 2 block(s) × 10 filters" in using, using
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "trained-cnn-own-model")
