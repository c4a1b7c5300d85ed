"""Three learners at once on one server: none sees another's text (the sessions benchmark's check).

Each learner has its own browser context (its own Streamlit session); all three stay open together.
Each types its own marker, at its own length, into the LSTM page's text; then each page must show
its own marker, the server's count of its own characters, and no other learner's marker.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_browser import _new_page, _settle_ms
from benchmarks.bench_sessions import MARK_PAGE, Learner, check_isolation, type_marker

pytestmark = pytest.mark.e2e

LEARNERS = 3


def test_three_learners_at_once_see_only_their_own_text(browser, app_url):
    learners = [Learner(i) for i in range(LEARNERS)]
    opened = [_new_page(browser) for _ in learners]
    try:
        for _, page in opened:
            page.goto(f"{app_url}/{MARK_PAGE}", wait_until="commit")
        for _, page in opened:
            _settle_ms(page, 0.0)
        for learner, (_, page) in zip(learners, opened, strict=True):
            type_marker(page, app_url, learner)
        markers = [learner.marker for learner in learners]
        for learner, (_, page) in zip(learners, opened, strict=True):
            assert check_isolation(page, learner, markers), learner.notes
    finally:
        for context, _ in opened:
            context.close()


def test_the_check_sees_a_mixed_up_session(browser, app_url):
    """The check can fail: a page holding another learner's text is caught."""
    typed, other = Learner(0), Learner(1)
    context, page = _new_page(browser)
    try:
        page.goto(f"{app_url}/{MARK_PAGE}", wait_until="commit")
        _settle_ms(page, 0.0)
        type_marker(page, app_url, typed)
        assert not check_isolation(page, other, [typed.marker, other.marker])
        assert any("other learners" in note for note in other.notes)
        assert any("not ours" in note for note in other.notes)
    finally:
        context.close()
