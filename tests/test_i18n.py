"""Words in two languages (issue 14): the catalog is complete and compiled, t/tn/error_text fill
and translate, the language is chosen per session (URL, earlier choice, browser locale), and
switching it keeps a page's settings."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import string

import pytest
from babel.messages.mofile import read_mo
from streamlit.testing.v1 import AppTest

import engine
from engine.conv import ConvConfigError, age_kernel, spacecraft_track
from engine.core import ExplorerError, check_int
from scripts import i18n as catalog_tool
from tests.charts import charts
from tests.test_pages import APP, TIMEOUT, assert_clean
from ui import i18n
from ui.i18n import choose_lang, error_text, t, tn

FIX = "run `python scripts/i18n.py update`, translate the new entries, then `... compile`"


LITERAL = [("<not a format string>", None, None)]


def _fields(text: str) -> list[tuple[str, str | None, str | None]]:
    """Return the {placeholders} of a format string with their conversion and spec, sorted.

    A message that is no format string (a LaTeX formula's braces) is only ever shown as it is
    (t without parameters), so its translation must be no format string either: LITERAL. So is a
    whole LaTeX formula (st.latex; no `$` of inline maths) whose braces are single
    (`\\text{vs}`): a formula filled with numbers is a template and doubles them (`\\text{{vs}}`).
    """
    if "\\" in text and "$" not in text and "{{" not in text:
        return LITERAL
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return LITERAL
    found = {(f, conv, spec) for _, f, spec, conv in parsed if f is not None}
    return sorted(found, key=repr)


def _ids(catalog) -> dict:
    return {m.id: m for m in catalog if m.id}


@pytest.fixture(scope="module")
def zh_po():
    return catalog_tool.read_catalog(catalog_tool.po_path("zh"), "zh")


# --- the catalog ---


def test_every_msgid_in_the_sources_has_a_chinese_translation(zh_po):
    extracted = set(_ids(catalog_tool.extract()))
    translated = _ids(zh_po)
    missing = sorted(map(str, extracted - set(translated)))
    assert not missing, f"not in the .po ({FIX}): {missing[:10]}"
    empty = [
        m.id for m in translated.values() if not all(m.string if m.pluralizable else [m.string])
    ]
    assert not empty, f"empty msgstr: {empty[:10]}"
    obsolete = sorted(map(str, set(translated) - extracted)) + list(zh_po.obsolete)
    assert not obsolete, f"in the .po but no longer in the sources ({FIX}): {obsolete[:10]}"
    assert not [m.id for m in translated.values() if m.fuzzy], "fuzzy entries: review them"


def test_placeholders_are_the_same_in_both_languages(zh_po):
    bad = []
    for m in _ids(zh_po).values():
        ids = m.id if m.pluralizable else (m.id,)
        strings = m.string if m.pluralizable else (m.string,)
        expected = _fields(ids[-1])
        assert all(_fields(i) == expected for i in ids), f"singular/plural differ: {m.id}"
        bad += [(m.id, s) for s in strings if _fields(s) != expected]
    assert not bad, bad[:5]


def _mo_entries(data: bytes) -> dict:
    """Return {msgid: msgstr} of compiled catalog bytes (plural ids and strings as tuples)."""
    entries = read_mo(io.BytesIO(data))
    return {_frozen(m.id): _frozen(m.string) for m in entries if m.id}


def _frozen(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_is_current():
    committed = _mo_entries(catalog_tool.mo_path("zh").read_bytes())
    fresh = _mo_entries(catalog_tool.compiled("zh"))
    assert committed == fresh, "explorer.mo is stale: run `python scripts/i18n.py compile`"


def _engine_errors() -> set[str]:
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        importlib.import_module(info.name)
    seen, todo = set(), [ExplorerError]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo += [c for c in cls.__subclasses__() if c not in seen]
    in_engine = [c for c in seen if inspect.getmodule(c).__name__.startswith("engine")]
    return {c.__name__ for c in in_engine}


def test_every_engine_error_class_is_an_extraction_keyword():
    missing = sorted(_engine_errors() - set(catalog_tool.KEYWORDS))
    assert not missing, f"add to scripts/i18n.py ERROR_CLASSES: {missing}"


def test_an_f_string_raise_is_not_extracted_as_a_fragment():
    source = b'ConvConfigError(f"{n} is too big; " "try less")\nConvConfigError("whole {n}", n=1)\n'
    found = list(
        catalog_tool.extract_literal_calls(io.BytesIO(source), {"ConvConfigError"}, (), {})
    )
    assert [msg for _, _, msg, _ in found] == ["whole {n}"]


def test_an_engine_plural_pair_is_extracted_as_one_plural_message():
    source = (
        b'Phrase.counted("{n} step", "{n} steps", n)\n'
        b'Phrase.counted("{n} step", f"{n} steps", n)\n'  # not literal: not a message
    )
    found = list(catalog_tool.extract_literal_calls(io.BytesIO(source), {"counted"}, (), {}))
    assert [msg for _, _, msg, _ in found] == [("{n} step", "{n} steps")]


# --- t, tn, error_text ---


def test_t_outside_a_session_is_english_with_named_placeholders():
    assert t("Output size {size}", size=5) == "Output size 5"
    assert t("no {braces} filled without params") == "no {braces} filled without params"
    assert tn("{n} step", "{n} steps", 1) == "1 step"
    assert tn("{n} step", "{n} steps", 2) == "2 steps"
    assert tn("{count} weight", "{count} weights", 27, count="27") == "27 weights"


def test_chinese_catalog_translates_and_has_one_plural_form():
    zh = i18n.translations("zh")
    assert zh.gettext("Convolution in 1D") == "一维卷积"
    assert zh.ngettext("{count} weight", "{count} weights", 1) == "{count} 个权重"
    assert zh.ngettext("{count} weight", "{count} weights", 5) == "{count} 个权重"
    assert zh.gettext("not in the catalog") == "not in the catalog"


def test_error_keeps_template_and_params_and_reads_as_before_in_english():
    with pytest.raises(ConvConfigError) as info:
        age_kernel("triangle", 4.0, 20)
    err = info.value
    assert str(err) == (
        "Unknown age kernel 'triangle'; choose one of: exponential, half-gaussian, uniform."
    )
    assert err.template == "Unknown age kernel {kind!r}; choose one of: {choices}."
    assert err.params["kind"] == "triangle"
    plain = ExplorerError("A {plain} message.")
    assert str(plain) == "A {plain} message." and plain.params == {}


def test_error_text_translates_the_template_and_the_named_setting(monkeypatch):
    with pytest.raises(ConvConfigError) as info:
        spacecraft_track(n=1)
    assert (
        error_text(info.value) == str(info.value) == "number of samples must be at least 2, got 1."
    )
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")
    assert error_text(info.value) == "样本数至少为 2，收到的是 1。"
    with pytest.raises(ExplorerError) as other:  # a name not marked N_ is shown as it is
        check_int("depth", 0, 1)
    assert error_text(other.value) == "depth至少为 1，收到的是 0。"


# --- choosing the language ---


@pytest.mark.parametrize(
    "url,earlier,locale,expected",
    [
        ("zh", "en", "en-US", "zh"),  # the URL wins
        ("en", "zh", "zh-CN", "en"),
        (None, "zh", "en-US", "zh"),  # then the session's earlier choice
        ("fr", "en", "zh-CN", "en"),  # an unknown URL value is ignored
        (None, None, "zh-TW", "zh"),  # then the browser
        (None, None, "ZH", "zh"),
        (None, None, "en-GB", "en"),
        (None, None, None, "en"),  # else English
    ],
)
def test_choose_lang_order(url, earlier, locale, expected):
    assert choose_lang(url, earlier, locale) == expected


def _open(path: str, lang: str | None = None, locale: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    if locale:
        at.context["locale"] = locale
    at.run()
    if path != "app_pages/home.py":
        at.switch_page(path).run()
    assert_clean(at)
    return at


@pytest.mark.parametrize(
    "path,english,chinese",
    [
        ("app_pages/home.py", "CNN & RNN Visual Explorer", "CNN 与 RNN 可视化探索"),
        ("app_pages/conv_1d.py", "Convolution in one dimension", "一维卷积"),
    ],
)
def test_pages_in_chinese_by_url_and_by_browser_locale(path, english, chinese):
    assert _open(path).title[0].value == english
    assert _open(path, locale="en-US").title[0].value == english
    assert _open(path, lang="zh").title[0].value == chinese
    assert _open(path, locale="zh-CN").title[0].value == chinese
    assert _open(path, lang="en", locale="zh-CN").title[0].value == english


def test_home_map_and_numbers_in_chinese():
    at = _open("app_pages/home.py", lang="zh")
    assert [m.value for m in at.metric][:2] == ["120,000 个权重", "27 个权重"]
    assert "卷积网络" in [md.value.strip("*") for md in at.markdown]
    assert at.query_params["lang"] == "zh"


def test_the_url_carries_the_language_after_moving_between_pages():
    at = _open("app_pages/conv_1d.py", locale="zh-CN")
    assert at.query_params["lang"] == "zh"  # put back after switch_page cleared it


def _conv_1d_with(**sliders) -> AppTest:
    at = _open("app_pages/conv_1d.py")
    for key, value in sliders.items():
        at.slider(key=key).set_value(value)
    at.run()
    return at


def test_switching_language_keeps_the_page_settings():
    # one way only: back in English, AppTest would look the kept kernel up among the Chinese
    # option labels it read last; tests/e2e/test_language.py switches both ways in Chromium
    at = _conv_1d_with(c1d_noise=1.5, c1d_length=33)
    at.segmented_control(key=i18n.SWITCH_KEY).set_value("zh").run()
    assert_clean(at)
    assert at.title[0].value == "一维卷积"
    assert at.query_params["lang"] == "zh"
    assert at.slider(key="c1d_noise").value == 1.5
    assert at.slider(key="c1d_length").value == 33


def test_switching_language_keeps_the_chosen_kernel():
    at = _conv_1d_with()
    at.selectbox(key="c1d_kind").set_value("uniform").run()
    at.segmented_control(key=i18n.SWITCH_KEY).set_value("zh").run()
    assert_clean(at)
    # AppTest reads a selectbox through str(), not the page's format_func: check the state
    assert at.session_state["c1d_kind"] == "uniform"
    assert at.selectbox(key="c1d_kind").options == ["指数", "半高斯", "均匀"]


def test_conv_1d_sentences_and_figure_in_chinese():
    at = _open("app_pages/conv_1d.py", lang="zh")
    captions = " ".join(c.value for c in at.caption)
    assert "值得注意：这里平滑把误差从" in captions
    assert "卷积核加宽到 2 倍后" in captions
    figure = charts(at)[0].spec
    assert "位置随时间的变化" in figure and "测量值 x(t)" in figure


def test_the_catalog_is_where_the_app_reads_it():
    assert catalog_tool.mo_path("zh").is_relative_to(i18n.LOCALE_DIR)


def test_upload_refusals_carry_a_template_that_reads_in_chinese():
    from engine.images import ImageLoadError, load_image

    with pytest.raises(ImageLoadError) as caught:
        load_image(b"%PDF-1.7 not an image")
    err = caught.value
    assert str(err) == err.template.format(**err.params)  # English: the message as before
    assert "PDF document" in str(err)
    chinese = i18n.translations("zh").gettext(err.template).format(**err.params)
    assert "PDF 文档" in chinese and "PNG, JPEG" in chinese  # the formats stay as named
