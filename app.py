"""Entry point: page config, the grouped navigation, and the shared sidebar."""

import streamlit as st

from runtime_tuning import limit_torch_threads, tune_allocator
from ui import warmup
from ui.i18n import language_switch, t
from ui.links import copy_link_box
from ui.navigation import GROUPS
from ui.path import page_end
from ui.tables import style as table_style

tune_allocator()  # once per run is cheap; see runtime_tuning.py for why
limit_torch_threads()  # one intra-op thread per request: sessions and jobs share two cores
warmup.maybe_start()  # once per server: shared models and tables load before a learner asks

st.set_page_config(
    page_title=t("CNN & RNN Visual Explorer"),
    page_icon=":material/blur_on:",
    layout="wide",
    initial_sidebar_state="expanded",
)

language_switch()  # before the menu: its titles are in the session's language
table_style()  # wide tables scroll sideways (ui/tables.py)
pages = {
    t(group): [
        st.Page(
            topic.path,
            title=t(topic.title),
            icon=topic.icon,
            url_path=topic.url or None,
            default=not topic.url,
        )
        for topic in topics
    ]
    for group, topics in GROUPS.items()
    if topics
}
page = st.navigation(pages, expanded=True)

with st.sidebar:
    copy_link_box()
    st.caption(
        t(
            "Every number on these pages is computed live by PyTorch on your own input. "
            "Nothing is downloaded; the app runs offline."
        )
    )

with warmup.request(), page_end(page.url_path):  # after the page: its prompts, prev/next
    page.run()
