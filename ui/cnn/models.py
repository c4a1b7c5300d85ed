"""Which trained CNNs a person can explore: the shipped one, and those they trained this session.

The shipped model is loaded once per server (st.cache_resource: shared by every session, so it is
never mutated). Models trained on the "train it yourself" page live in the person's own session
state and appear on the overview page's model choice; the newest is offered first. The model of
"Teach it your classes" (trained there, or loaded from a file there or on the overview page) lives
under TAUGHT_KEY and comes before them all.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from engine.cnn import CNNConfig, SmallCNN, load
from engine.core import N_
from ui.i18n import t

__all__ = [
    "SHIPPED",
    "SHIPPED_PATH",
    "TAUGHT",
    "TAUGHT_KEY",
    "available_models",
    "model_label",
    "overview_link",
    "remember_model",
    "shipped_model",
    "trained_name",
]

SHIPPED = N_("Shipped model (assets/small_cnn.safetensors)")  # a key: translated where shown
SHIPPED_PATH = Path(__file__).resolve().parents[2] / "assets" / "small_cnn.safetensors"
TAUGHT = N_("Your model from “Teach it your classes”")  # a key: translated where shown
TAUGHT_KEY = "teach_model"  # session state: (SmallCNN, card), set by the teach page or a load
_SESSION_KEY = "cnn_trained_models"
MAX_SESSION_MODELS = 5  # a trained model is ~100 kB, but keep the list readable


@st.cache_resource(show_spinner=False)  # callers show a spinner in their session's language
def shipped_model() -> tuple[SmallCNN, dict]:
    """Return the shipped (model, card); frozen and in eval mode."""
    return load(SHIPPED_PATH)


def model_label(name: str) -> str:
    """Return a model's name as shown: the shipped and taught ones in the session's language,
    others as named (a trained model is named in the language of the session that trained it)."""
    return t(name) if name in (SHIPPED, TAUGHT) else name


def trained_name(config: CNNConfig, steps: int) -> str:
    """Return the name of a model trained here, in the session's language."""
    return t(
        "Trained here: {blocks} block(s) × {filters} filters {k}×{k}, {classes} classes, {steps} "
        "steps",
        blocks=config.depth_blocks,
        filters=config.filters,
        k=config.kernel,
        classes=len(config.classes),
        steps=f"{steps:,}",
    )


def remember_model(state: MutableMapping, name: str, model: SmallCNN, card: dict) -> str:
    """Store a model trained in this session under a unique display name; return that name."""
    models: dict = state.setdefault(_SESSION_KEY, {})
    label, n = name, 2
    while label in models or label in (SHIPPED, TAUGHT):
        label, n = f"{name} ({n})", n + 1
    models[label] = (model, card)
    while len(models) > MAX_SESSION_MODELS:
        models.pop(next(iter(models)))
    return label


def available_models(state: MutableMapping) -> dict[str, tuple[SmallCNN, dict]]:
    """Return {display name: (model, card)}: the taught model, this session's trained models
    (newest first), then the shipped one."""
    mine = dict(reversed(list(state.get(_SESSION_KEY, {}).items())))
    if state.get(TAUGHT_KEY) is not None:
        mine = {TAUGHT: state[TAUGHT_KEY], **mine}
    with st.spinner(t("Loading the trained network…")):  # once per server; a cached one: English
        shipped = shipped_model()
    return {**mine, SHIPPED: shipped}


OVERVIEW_PAGE = "app_pages/cnn_overview.py"


def overview_link(label: str) -> None:
    """Draw a link to the trained-CNN page (nothing when the page runs alone, as in tests)."""
    try:
        st.page_link(OVERVIEW_PAGE, label=label, icon=":material/neurology:")
    except (StreamlitAPIException, KeyError):  # a page run without the app has no navigation
        pass
