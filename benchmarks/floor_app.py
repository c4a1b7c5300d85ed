"""The stack's floor for the browser benchmark: the least a page can cost in Streamlit + Plotly.

Two pages with the app's own config and theme: "bare" (a title, a paragraph and a slider) and
"chart" (the same with one small Plotly line chart, which makes the browser load and evaluate
plotly.js). No page of the app can open faster than these on the same machine.
"""

import plotly.graph_objects as go
import streamlit as st


def bare() -> None:
    st.title("Bare page")
    st.markdown("A paragraph of text. " * 20)
    value = st.slider("Value", 0, 10, 3, key="floor_value")
    st.write(f"Value {value}")


def chart() -> None:
    st.title("One chart")
    st.markdown("A paragraph of text. " * 20)
    value = st.slider("Value", 0, 10, 3, key="floor_value")
    st.plotly_chart(go.Figure(go.Scatter(y=[1, 2, value, 2, 1])), key="floor_chart")


st.navigation(
    [st.Page(bare, title="Bare", url_path="bare", default=True), st.Page(chart, url_path="chart")]
).run()
