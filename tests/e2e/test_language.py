"""中文 and English in real Chromium: the URL picks the language and keeps it across pages, two
sessions never mix, switching keeps a moved slider, and a Chinese page shows no English sentence."""

from __future__ import annotations

import re

import pytest

from engine.architectures import ARCHITECTURES
from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

HOME_ZH, HOME_EN = "CNN 与 RNN 可视化探索", "CNN & RNN Visual Explorer"
CONV_ZH, CONV_EN = "一维卷积", "Convolution in one dimension"
# Pages already translated; later sessions add theirs (url path, Chinese title)
TRANSLATED = [("", HOME_ZH), ("conv-1d", CONV_ZH)]
TRANSLATED += [
    ("conv-arithmetic", "填充、步幅与膨胀"),
    ("conv-layer", "卷积层，一级一级来看"),
    ("why-convolution", "为什么用卷积：稀疏交互与权重共享"),
    ("equivariance", "等变：平移图像，特征随之平移"),
    ("kernels", "你的图像上的卷积核"),
    ("pooling", "池化与不变性"),
    ("receptive-fields", "感受野"),
    ("kernel-sizes", "卷积核尺寸：3×3、奇数、1×1 与 1×n"),
    ("architectures", "经典网络结构：各自解决了什么"),
]
# Names and terms a Chinese page keeps in Latin letters (each counts as no English word)
PROPER = ["PyTorch", "Plotly", "Streamlit", "MNIST-1D", "AlexNet", "ResNet", "SENet", "LSTM"]
PROPER += ["CNN", "RNN", "DNN", "ReLU", "RMSE"]
PROPER += ["GoogLeNet", "Inception", "DenseNet", "ResNeXt", "VGG", "ImageNet", "CIFAR", "FLOPs"]
# Papers are cited as published (authors, title, venue), in Chinese notes too; first, whole
PROPER = [info.paper for info in ARCHITECTURES.values()] + PROPER
WORD = r"[A-Za-z]{2,}(?:['’-][A-Za-z]+)*"
SENTENCE = re.compile(rf"{WORD}(?:[\s,;:]+{WORD}){{3,}}")  # 4+ English words in a row

VISIBLE_TEXT = """() => [...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stSidebar"]')].map(area => {
    const copy = area.cloneNode(true);  // formulas (KaTeX's MathML copy, TeX source) and code
    copy.querySelectorAll('.katex-mathml, annotation, code, pre').forEach(e => e.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}).join('\\n')"""


def _open(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)


def _title(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def _nav(page) -> str:
    return page.locator('[data-testid="stSidebarNav"]').inner_text()


def _open_sections(page) -> None:
    """Open every folded section (lazy sections compute on opening), one rerun at a time."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(12):  # a page has a handful; the bound only stops a section that never opens
        if closed.count() == 0:
            return
        closed.first.click()
        wait_idle(page)


def _english_sentences(text: str) -> list[str]:
    for name in PROPER:
        text = text.replace(name, " ")
    return SENTENCE.findall(text)


def test_url_language_is_kept_when_moving_between_pages(page, app_url):
    _open(page, f"{app_url}/?lang=zh")
    assert _title(page) == HOME_ZH
    assert CONV_ZH in _nav(page) and "首页" in _nav(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(CONV_ZH, exact=True).click()
    page.wait_for_url(re.compile(r"/conv-1d\?(.*&)?lang=zh"), timeout=60_000)
    wait_idle(page)
    assert _title(page) == CONV_ZH
    assert "lang=zh" in page.url


def test_two_sessions_in_two_languages_never_mix(browser, app_url):
    zh = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    en = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        zh_page, en_page = zh.new_page(), en.new_page()
        _open(zh_page, f"{app_url}/conv-1d?lang=zh")  # the URL beats the browser's language
        _open(en_page, f"{app_url}/conv-1d?lang=en")
        for _ in range(2):
            for p, title, other in [(zh_page, CONV_ZH, CONV_EN), (en_page, CONV_EN, CONV_ZH)]:
                p.reload()
                wait_idle(p)
                assert _title(p) == title
                assert other not in p.inner_text("body")
    finally:
        zh.close()
        en.close()


def test_browser_language_is_the_default(browser, app_url):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        p = context.new_page()
        _open(p, f"{app_url}/conv-1d")
        assert _title(p) == CONV_ZH
        p.wait_for_url(re.compile(r"lang=zh"), timeout=30_000)
    finally:
        context.close()


def _slider(page, key: str):
    return page.locator(f".st-key-{key}").get_by_role("slider")


def _slider_value(page, key: str) -> str:
    return page.locator(f'.st-key-{key} [data-testid="stSliderThumbValue"]').inner_text().strip()


def _switch(page, label: str) -> None:
    page.locator(".st-key-lang_switch").get_by_text(label, exact=True).click()
    wait_idle(page)


def test_switching_language_keeps_a_moved_slider(page, app_url):
    _open(page, f"{app_url}/conv-1d?lang=en")
    slider = _slider(page, "c1d_length")
    slider.focus()
    slider.press("End")  # 20 → 60 samples
    wait_idle(page)
    assert _slider_value(page, "c1d_length") == "60"
    _switch(page, "中文")
    assert _title(page) == CONV_ZH
    assert "lang=zh" in page.url
    assert _slider_value(page, "c1d_length") == "60"
    _switch(page, "English")
    assert _title(page) == CONV_EN
    assert "lang=en" in page.url
    assert _slider_value(page, "c1d_length") == "60"


def test_sentence_scan_catches_english_and_allows_names():
    assert _english_sentences("平滑 smoothing lowers the error 误差")
    assert not _english_sentences("PyTorch 在 CNN 与 RNN 上 s = x * w，RMSE 0.412")
    assert not _english_sentences("Grad-CAM 与 MNIST-1D 对比 (F, 3, k, k)")


@pytest.mark.parametrize("url_path,title", TRANSLATED)
def test_chinese_pages_show_no_english_sentence(page, app_url, url_path, title):
    _open(page, f"{app_url}/{url_path}?lang=zh")
    assert _title(page) == title
    if url_path:
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _open_sections(page)
    shot(page, f"lang-zh-{url_path or 'home'}")
    found = _english_sentences(page.evaluate(VISIBLE_TEXT))
    assert not found, found[:10]


# One page of each group is enough to see English unchanged (url path, English title)
ENGLISH = [("", HOME_EN), ("conv-1d", CONV_EN)]
ENGLISH += [("equivariance", "Equivariance: shift the image, shift the features")]
ENGLISH += [("pooling", "Pooling and invariance")]
ENGLISH += [("trained-cnn", "A trained CNN on your image")]
ENGLISH += [("rnn-unrolled", "Recurrence unrolled, and bidirectional")]


@pytest.mark.parametrize("url_path,title", ENGLISH)
def test_english_pages_are_english(page, app_url, url_path, title):
    _open(page, f"{app_url}/{url_path}?lang=en")
    assert _title(page) == title
    if url_path:
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    shot(page, f"lang-en-{url_path or 'home'}")
