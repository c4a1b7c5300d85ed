"""The stack's floor for the browser benchmark: the least a page can cost in Streamlit + Plotly.

Three pages with the app's own config and theme: "bare" (a title, a paragraph and a slider),
"chart" (the same with one small Plotly line chart drawn as the app draws every figure, by
ui/chart.py's component with plotly.js's cartesian build) and "stchart" (the same chart through
st.plotly_chart, whose 4.7 MB plotly.js the app no longer loads: the baseline). No page of the app
can open faster than "chart" on the same machine.
"""

import plotly.graph_objects as go
import streamlit as st

from ui.chart import chart


def _top() -> int:
    st.markdown("A paragraph of text. " * 20)
    return st.slider("Value", 0, 10, 3, key="floor_value")


def bare() -> None:
    st.title("Bare page")
    value = _top()
    st.write(f"Value {value}")


def ours() -> None:
    st.title("One chart")
    value = _top()
    chart(go.Figure(go.Scatter(y=[1, 2, value, 2, 1])), key="floor_chart")


def streamlits() -> None:
    st.title("One chart, st.plotly_chart")
    value = _top()
    st.plotly_chart(go.Figure(go.Scatter(y=[1, 2, value, 2, 1])), key="floor_chart")


st.navigation(
    [
        st.Page(bare, title="Bare", url_path="bare", default=True),
        st.Page(ours, title="Chart", url_path="chart"),
        st.Page(streamlits, title="st.plotly_chart", url_path="stchart"),
    ]
).run()
