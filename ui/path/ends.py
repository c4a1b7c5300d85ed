"""The end of every page on the learning path: its prompts, then links to the neighbours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from ui.i18n import t
from ui.navigation import Topic, all_topics
from ui.path import cnn_prompts, compare_prompts, rnn_prompts
from ui.path.prompts import Prompt, ask, pose

PROMPTS: dict[str, tuple[Prompt, ...]] = {
    **cnn_prompts.PROMPTS,
    **rnn_prompts.PROMPTS,
    **compare_prompts.PROMPTS,
}


def neighbours(url: str) -> tuple[Topic | None, Topic | None]:
    """Return the topics before and after url in menu order (None at either end)."""
    topics = all_topics()
    at = [topic.url for topic in topics].index(url)
    before = topics[at - 1] if at > 0 else None
    after = topics[at + 1] if at + 1 < len(topics) else None
    return before, after


def draw_prompts(url: str) -> None:
    """Draw the page's predict-then-check prompts that have something to ask on this view."""
    posed = [(p.id, q) for p in PROMPTS.get(url, ()) if (q := pose(p, st.session_state))]
    if not posed:
        return
    st.divider()
    st.subheader(t("Predict, then check"))
    for prompt_id, question in posed:
        ask(prompt_id, question)


def draw_links(url: str) -> None:
    """Draw "Previous" and "Next" links to the neighbouring pages (the home page: only "Next")."""
    before, after = neighbours(url)
    st.divider()
    left, right = st.columns(2)
    if before is not None and url:
        left.page_link(
            before.path, label=t("Previous: {title}", title=t(before.title)), icon=before.icon
        )
    if after is not None:
        right.page_link(after.path, label=t("Next: {title}", title=t(after.title)), icon=after.icon)


@contextmanager
def page_end(url: str) -> Iterator[None]:
    """Run the page inside the body; then draw its prompts, and below them the neighbour links.

    The links are drawn before the page runs, into a container placed after it: a page that stops
    early (st.stop: no weights yet, an input to fix) still links on. The prompts need the page's
    widget values, so they are drawn after it, and only when it ran to the end.
    """
    body, prompts, links = st.container(), st.container(), st.container()
    with links:
        draw_links(url)
    with body:
        yield
    with prompts:
        draw_prompts(url)
