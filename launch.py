"""Start the explorer: `streamlit run launch.py` serves app.py (the pages) with its start-up work
done as the server starts (issue 13).

Before the server answers anyone, every page's modules are imported (torch, the engine, plotly:
~1.5 s here), and the background warm-up starts on the shared models and tables (ui/warmup.py). A
learner who arrives right after the start then pays for neither. `streamlit run app.py` serves the
same app, but does both on its first visit: that first page took ~2.8 s here instead of ~1.9 s.

How: a script that assigns `app = st.App(...)` is served by Streamlit as an ASGI app, whose
lifespan runs once, at start, after Streamlit's own runtime has started.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def _start_up(_app: st.App) -> AsyncIterator[None]:
    started = time.perf_counter()
    from ui.warmup import before_serving  # torch comes with it

    before_serving(started)
    yield


app = st.App("app.py", lifespan=_start_up)
