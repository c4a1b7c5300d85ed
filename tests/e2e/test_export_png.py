"""A figure downloaded as PNG from a Chinese page carries its Chinese title (name and pixels).

Plotly's own "Download plot as a PNG" button renders the figure in the browser with the installed
fonts (CI installs fonts-noto-cjk) and names the file after the figure's title.
"""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import OUT, wait_idle

pytestmark = pytest.mark.e2e

CJK = range(0x4E00, 0xA000)


def _download_first_chart(page, url: str, target):
    """Return (suggested file name, PNG bytes) of the page's first chart, via the modebar."""
    page.goto(url)
    wait_idle(page)
    page.locator(".js-plotly-plot").first.hover()
    button = page.locator('.js-plotly-plot .modebar-btn[data-title="Download plot as a PNG"]')
    with page.expect_download() as download:
        button.first.click()
    download.value.save_as(target)
    return download.value.suggested_filename, target.read_bytes()


def _title_ink(png: bytes) -> int:
    """Return the dark pixels in the top-left title band (where Plotly writes the title)."""
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)
    return int((grey[:22, :220] < 110).sum())


def test_a_chinese_figure_exports_with_its_chinese_title(page, app_url):
    OUT.mkdir(parents=True, exist_ok=True)
    zh_name, zh_png = _download_first_chart(page, f"{app_url}/conv-1d?lang=zh", OUT / "zh.png")
    assert any(ord(ch) in CJK for ch in zh_name), zh_name
    assert zh_name.endswith(".png")
    en_name, en_png = _download_first_chart(page, f"{app_url}/conv-1d?lang=en", OUT / "en.png")
    assert not any(ord(ch) in CJK for ch in en_name), en_name
    # The title is drawn (ink where it sits), with a CJK font the browser can use: without one,
    # Chromium draws empty boxes ("tofu"), which is what .ci/run installs fonts-noto-cjk against.
    assert _title_ink(zh_png) > 0.5 * _title_ink(en_png) > 0
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no Chinese font installed: apt-get install -y fonts-noto-cjk"
