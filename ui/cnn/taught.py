"""The taught model on the trained-CNN page: loading its file, and the learner's own examples.

The examples of "Teach it your classes" live only in the learner's session (issue 15's privacy
rule: gone when the session ends, never seen by another). So whatever is computed from them here
(a forward pass on one of them, the top patches scanned over them) is kept in the session too,
in a small memo, never in st.cache_data, which every session shares and which outlives sessions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import streamlit as st
import torch

from engine.cnn import MAX_MODEL_BYTES, ExampleSet, SmallCNN, load_model
from engine.core import ExplorerError
from ui.cnn.models import TAUGHT, TAUGHT_KEY
from ui.i18n import error_text, t

__all__ = [
    "MEMO_ENTRIES",
    "examples_digest",
    "model_loader",
    "scan_set",
    "session_memo",
    "your_examples",
]

EXAMPLES_KEY = "teach_examples"  # the teach page's ExampleSet (app_pages/teach_classes.py)
MEMO_KEY = "tc_private_memo"
DIGEST_KEY = "tc_examples_digest"  # (the ExampleSet, its digest)
MEMO_ENTRIES = 8  # results from the learner's examples kept at once (oldest dropped first)
_LOAD_KEY, _LOAD_ERROR = "tc_overview_load", "tc_overview_load_error"


def your_examples(model: SmallCNN) -> ExampleSet | None:
    """Return this session's examples if their classes are the model's (same names, in order)."""
    examples = st.session_state.get(EXAMPLES_KEY)
    if not isinstance(examples, ExampleSet) or examples.total == 0:
        return None
    return examples if examples.names == tuple(model.config.classes) else None


def examples_digest(examples: ExampleSet) -> str:
    """Return a hash of the names and pixels: equal digests mean equal example sets.

    Sets are immutable, so the digest of the one in use is kept in the session: a rerun does not
    hash its (up to 4.9 MB of) pixels again."""
    known = st.session_state.get(DIGEST_KEY)
    if known is None or known[0] is not examples:
        known = (examples, _digest(examples))
        st.session_state[DIGEST_KEY] = known
    return known[1]


def _digest(examples: ExampleSet) -> str:
    """Return the hash of examples' names and pixels (uncached)."""
    h = hashlib.blake2b(digest_size=12)
    for name, group in zip(examples.names, examples.examples, strict=True):
        h.update(name.encode())
        h.update(len(group).to_bytes(4, "little"))
        for array in group:
            h.update(array.tobytes())
    return h.hexdigest()


def session_memo(key: Hashable, compute: Callable[[], Any]) -> Any:
    """Return compute(), remembered under key in this session only (at most MEMO_ENTRIES)."""
    memo: dict = st.session_state.setdefault(MEMO_KEY, {})
    if key in memo:
        memo[key] = memo.pop(key)  # most recently used goes last
    else:
        memo[key] = compute()
        while len(memo) > MEMO_ENTRIES:
            memo.pop(next(iter(memo)))
    return memo[key]


def scan_set(examples: ExampleSet, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images (N, 3, 64, 64) uint8, labels (N,)): the first per_class examples of each
    class, the pictures a top-patch scan goes through."""
    images, labels = examples.tensors()
    keep = np.concatenate(
        [np.flatnonzero(labels.numpy() == c)[:per_class] for c in range(len(examples.names))]
    )
    index = torch.from_numpy(keep)
    return images[index], labels[index]


def _load() -> None:
    """Load the uploaded file as the taught model and choose it (a callback; refusals kept)."""
    upload = st.session_state.get(_LOAD_KEY)
    if upload is None:
        return
    try:
        st.session_state[TAUGHT_KEY] = load_model(upload.getvalue())
    except ExplorerError as err:
        st.session_state[_LOAD_ERROR] = error_text(err)
        return
    st.session_state["tc_model"] = TAUGHT


def model_loader() -> None:
    """Draw the uploader for a model file saved from the teach page, and what came of a load."""
    with st.expander(t("Load a model saved from “Teach it your classes”")):
        st.file_uploader(
            t("A .safetensors file from that page (at most {mb:.1f} MB)", mb=MAX_MODEL_BYTES / 1e6),
            type=["safetensors"],
            key=_LOAD_KEY,
            on_change=_load,
            help=t(
                "The file is read as tensors and a JSON card, never unpickled; anything else is "
                "refused with the reason."
            ),
        )
    error = st.session_state.pop(_LOAD_ERROR, None)
    if error:
        st.error(error)
