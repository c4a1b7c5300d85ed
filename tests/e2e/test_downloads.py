"""Figures out (issue 16), in real Chromium: a figure downloads as a PNG named after what it
shows, and a table's numbers download as CSV from the button under it (ui/tables.py)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from PIL import Image

from tests.e2e.conftest import OUT, wait_idle
from tests.tables import number

pytestmark = pytest.mark.e2e


def _download(page, button, target):
    """Return (suggested file name, bytes) of the download a click on button starts."""
    with page.expect_download() as download:
        button.click()
    download.value.save_as(target)
    return download.value.suggested_filename, target.read_bytes()


def test_a_mosaic_downloads_as_a_png_named_after_its_title(page, app_url):
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(f"{app_url}/conv-layer?lang=en")
    wait_idle(page)
    chart = page.locator(".st-key-layer_conv .js-plotly-plot")
    chart.hover()
    button = chart.locator('.modebar-btn[data-title="Download plot as a PNG"]')
    name, png = _download(page, button, OUT / "layer_conv.png")
    words = re.findall(r"[a-z]+", name.lower())
    assert name.endswith(".png") and {"convolution", "stage", "kernel"} <= set(words), name
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and min(picture.size) > 100


def test_a_table_downloads_as_csv_with_its_numbers(page, app_url):
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(f"{app_url}/dense-conv-recurrent?lang=en")
    wait_idle(page)
    shown = page.locator('[data-testid="stMarkdownContainer"] table').first
    header = ["layer", "weights", "biases", "inputs read per output", "multiply-adds"]
    assert shown.locator("th").all_inner_texts() == header
    button = page.locator('[class*="st-key-csv_"] button').first
    name, data = _download(page, button, OUT / "table.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8's mark: Excel reads the Chinese headers
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert name.endswith(".csv")
    assert rows[0] == header and len(rows) == shown.locator("tbody tr").count() + 1
    assert all(len(r) == len(header) for r in rows[1:])
    on_screen = [row.split("\t")[1] for row in shown.locator("tbody tr").all_inner_texts()]
    weights = [int(r[1]) for r in rows[1:]]  # as computed: 76800000000
    assert weights == [number(w) for w in on_screen]  # as shown: 76,800,000,000
    assert min(weights) > 0
