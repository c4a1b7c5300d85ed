"""The look of every figure: the app's Plotly template, "explorer", made the default on import.

Streamlit's own chart element themes a figure in the browser: its Python template holds
placeholder colours (#000001, …) that its frontend swaps for the theme's. Our figures are drawn by
ui/chart.py's component with plain plotly.js, which swaps nothing, so the template here holds the
real colours: the ones Streamlit's element resolved for this app's light theme
(.streamlit/config.toml), read from a drawn chart. Figures keep looking as they did.
"""

import plotly.graph_objects as go
import plotly.io as pio
import streamlit  # noqa: F401  (importing streamlit sets its own default template; ours goes after)

FONT = '"Source Sans", sans-serif'
TEXT = "#808495"  # axis, tick and colour-bar text
HEADING = "#0f172a"  # the theme's text colour, for titles
GRID = "#e6eaf1"
BACKGROUND = "#ffffff"
TICK_SIZE = 12  # axis, colour-bar and legend text
TITLE_SIZE = 14  # axis titles
STANDOFF = {"x": 20, "y": 24}  # an axis title's distance from its tick labels
PAD = 8  # between the plot and its axes' labels
COLORBAR_THICKNESS = 16
COLORBAR_XPAD = 24
CATEGORICAL = [
    "#0068c9",
    "#83c9ff",
    "#ff2b2b",
    "#ffabab",
    "#29b09d",
    "#7defa1",
    "#ff8700",
    "#ffd16a",
    "#6d3fc0",
    "#d5dae5",
]
SEQUENTIAL = [
    "#e4f5ff",
    "#c7ebff",
    "#a6dcff",
    "#83c9ff",
    "#60b4ff",
    "#3d9df3",
    "#1c83e1",
    "#0068c9",
    "#0054a3",
    "#004280",
]
DIVERGING = [
    "#7d353b",
    "#bd4043",
    "#ff4b4b",
    "#ff8c8c",
    "#ffc7c7",
    "#a6dcff",
    "#60b4ff",
    "#1c83e1",
    "#0054a3",
    "#004280",
]


def _scale(colors: list[str]) -> list[list]:
    """Return a Plotly colour scale spreading colors evenly over [0, 1]."""
    return [[i / (len(colors) - 1), c] for i, c in enumerate(colors)]


def _axis(letter: str) -> dict:
    """Return the axis look: light grid and ticks, grey labels."""
    return dict(
        zerolinecolor=GRID,
        gridcolor=GRID,
        tickcolor=GRID,
        tickfont=dict(color=TEXT, size=TICK_SIZE),
        title=dict(font=dict(color=TEXT, size=TITLE_SIZE), standoff=STANDOFF[letter]),
        minor=dict(gridcolor=GRID),
        automargin=True,
    )


def _layout() -> dict:
    """Return the template's layout: fonts, colours, axes, legend, hover label, colour bar."""
    sequential = _scale(SEQUENTIAL)
    return dict(
        colorway=CATEGORICAL,
        colorscale=dict(
            sequential=sequential, sequentialminus=sequential, diverging=_scale(DIVERGING)
        ),
        coloraxis=dict(
            colorscale=sequential,
            colorbar=dict(
                thickness=COLORBAR_THICKNESS,
                xpad=COLORBAR_XPAD,
                ticklabelposition="outside",
                outlinecolor="rgba(0,0,0,0)",
                outlinewidth=8,
                len=0.75,
                y=0.5745,
                title=dict(font=dict(color=TEXT, size=TITLE_SIZE)),
                tickfont=dict(color=TEXT, size=TICK_SIZE),
            ),
        ),
        font=dict(color=TEXT, family=FONT, size=12, weight=400),
        title=dict(
            font=dict(family=FONT, size=16, color=HEADING), pad=dict(l=4), xanchor="left", x=0
        ),
        legend=dict(
            title=dict(font=dict(size=12, color=TEXT), side="top"),
            valign="top",
            bordercolor="rgba(0,0,0,0)",
            borderwidth=0,
            font=dict(size=12, color="#262730"),
        ),
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=BACKGROUND,
        xaxis=_axis("x") | dict(showgrid=False, zeroline=False),
        yaxis=_axis("y") | dict(ticklabelposition="outside"),
        margin=dict(pad=PAD, r=0, l=0),
        hoverlabel=dict(
            bgcolor=BACKGROUND,
            bordercolor="rgba(15, 23, 42, 0.2)",
            font=dict(color=TEXT, family=FONT, size=12),
        ),
    )


def _data() -> dict:
    """Return the template's per-trace defaults: sequential scales, scatter markers unoutlined."""
    sequential = _scale(SEQUENTIAL)
    return dict(
        heatmap=[dict(colorscale=sequential)],
        contour=[dict(colorscale=sequential)],
        histogram2d=[dict(colorscale=sequential)],
        scatter=[dict(marker=dict(line=dict(width=0)))],
    )


pio.templates["explorer"] = go.layout.Template(layout=_layout(), data=_data())
pio.templates.default = "explorer"
