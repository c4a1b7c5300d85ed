"""The app's words in the learner's language: English (the message ids) or 简体中文 (the catalog).

One module for every translated string. Write `t("Output size {size}", size=5)` around any text a
learner reads, `tn("{n} step", "{n} steps", n)` where English has plurals, and
`error_text(err)` for an engine error. English is the msgid itself; Chinese comes from
locales/zh/LC_MESSAGES/explorer.mo (see README, "Translations", for extract/update/compile).

The language is chosen per browser session, never per process: `?lang=zh|en` in the URL, else the
session's earlier choice, else the browser's locale, else English. Outside a Streamlit session
(a bare import, an engine test, a job's thread) everything is English.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

import streamlit as st

from engine.core import ExplorerError, Msg, Phrase
from ui.jobs import runtime_view

DOMAIN = "explorer"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGS = {"en": "English", "zh": "中文"}  # code → the name a reader of it recognises
DEFAULT = "en"
STATE_KEY = "lang"  # st.session_state key of the session's language
SWITCH_KEY = "lang_switch"  # widget key of the sidebar switch


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """Return the catalog of lang, loaded once per process (English: none, ids as they are)."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def choose_lang(url: str | None, earlier: str | None, locale: str | None) -> str:
    """Return "en" or "zh": the URL's choice, else the session's earlier one, else the locale's."""
    for choice in (url, earlier):
        if choice in LANGS:
            return choice
    if locale and locale.lower().startswith("zh"):
        return "zh"
    return DEFAULT


def current_lang() -> str:
    """Return the running session's language ("en" or "zh"); "en" outside a session."""
    if runtime_view().session_id is None:
        return DEFAULT
    earlier = st.session_state.get(STATE_KEY)
    lang = choose_lang(st.query_params.get(STATE_KEY), earlier, st.context.locale)
    if lang != earlier:
        st.session_state[STATE_KEY] = lang
    return lang


def t(msgid: str, **params: object) -> str:
    """Return msgid in the session's language, with its {named} placeholders filled from params.

    Without params the text is returned as it is (so a message may hold literal braces).
    """
    text = translations(current_lang()).gettext(msgid)
    return text.format(**params) if params else text


def tn(singular: str, plural: str, n: int, **params: object) -> str:
    """Return the singular or plural form for n in the session's language, filled ({n} too)."""
    text = translations(current_lang()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def error_text(err: ExplorerError) -> str:
    """Return an engine error's message in the session's language, its parameters filled in.

    Parameters marked as message ids (engine.core.N_, such as a setting's name) are translated
    too; numbers and other values are shown as they are.
    """
    params = {k: _param_text(v) for k, v in err.params.items()}
    return t(err.template, **params)


def phrase_text(phrase: Phrase) -> str:
    """Return an engine phrase in the session's language (its plural form chosen by its n), its
    message-id parameters translated too."""
    params = {k: _param_text(v) for k, v in phrase.params.items()}
    if phrase.plural is None:
        return t(phrase.template, **params)
    n = params.pop("n")
    return tn(phrase.template, phrase.plural, n, **params)


def _param_text(value: object) -> object:
    """Return an error parameter as shown: a message id or a nested engine error translated."""
    if isinstance(value, Msg):
        return t(value)
    return error_text(value) if isinstance(value, ExplorerError) else value


def keep_lang_in_url() -> str:
    """Return the session's language after writing it into the URL (?lang=…), if missing there.

    Moving between pages clears the query string (st.navigation keeps no parameters), so the app
    puts it back on every run: a link copied from any page opens in the language it shows.
    """
    lang = current_lang()
    if st.query_params.get(STATE_KEY) != lang:
        st.query_params[STATE_KEY] = lang
    return lang


def _on_switch() -> None:
    """Make the switch's choice the session's language, in session state and in the URL."""
    lang = st.session_state.get(SWITCH_KEY) or DEFAULT
    st.session_state[STATE_KEY] = lang
    st.query_params[STATE_KEY] = lang


def language_switch() -> str:
    """Draw the sidebar's English / 中文 switch and return the session's language.

    Widgets keep their values across a switch because every widget on the pages has a key.
    """
    lang = keep_lang_in_url()
    st.session_state[SWITCH_KEY] = lang  # the switch always shows the language in use
    st.sidebar.segmented_control(
        "Language · 语言",
        list(LANGS),
        format_func=LANGS.__getitem__,
        key=SWITCH_KEY,
        required=True,
        on_change=_on_switch,
        label_visibility="collapsed",
    )
    return lang
