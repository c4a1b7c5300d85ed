"""The shipped character models: they load, their cards' numbers are reproduced, traces agree.

References: each card's validation excerpt bpc (recomputed from the interpreter's own stdlib file),
the fused nn.LSTM/GRU/RNN forward pass against the step-by-step traces, and probability axioms.
"""

import hashlib
import json
import platform

import numpy as np
import pytest
import torch

from engine.recurrent import (
    ASSETS,
    CHAR_MODELS,
    CharModelError,
    GRUTrace,
    LSTMTrace,
    RNNTrace,
    TextInputError,
    Vocabulary,
    best_model,
    bits_per_char,
    build,
    gated_beat_vanilla,
    load,
    next_char_topk,
    probability_of,
    save,
    stdlib_corpus,
    surprise,
    surprise_extremes,
    top_next,
    trace_text,
    uniform_bits,
)

SAMPLE = 'def greet(name):\n    # say hello\n    return f"Hello, {name}!"  # 你好 😀\n'


@pytest.mark.parametrize("kind", CHAR_MODELS)
def test_shipped_model_loads_with_a_complete_card(kind: str) -> None:
    model, card = load(kind)
    assert model.kind == kind and not model.training
    assert card["architecture"]["hidden"] == model.rnn.hidden_size == 128
    assert len(card["vocabulary"]) == len(model.vocab) == 97
    assert card["training"]["steps"] > 0 and card["command"].startswith("python scripts/")
    assert 1.0 < card["validation"]["bpc"] < 4.0
    assert (ASSETS / f"char_{kind}.safetensors").stat().st_size < 2_000_000
    assert load(f"char_{kind}")[0] is model  # cached, and the file-style name works too


@pytest.mark.parametrize("kind", CHAR_MODELS)
def test_card_bpc_is_reproduced_on_the_held_out_excerpt(kind: str) -> None:
    _, card = load(kind)
    excerpt_card = card["validation"]["excerpt"]
    held_out = stdlib_corpus()[1]
    path = held_out[0].parent / excerpt_card["file"]
    if card["corpus"]["python"] == platform.python_version():
        assert held_out[0] == path, "the held-out rule no longer picks the card's file"
    elif not path.is_file():
        pytest.skip(f"this Python's standard library has no {path.name}")
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    text = text[: excerpt_card["chars"]]
    bpc = bits_per_char(kind, text)
    if hashlib.sha256(text.encode()).hexdigest() == excerpt_card["sha256"]:
        assert bpc == pytest.approx(excerpt_card["bpc"], abs=2e-3)
    else:  # another Python version's stdlib: same kind of text, so a similar score
        assert bpc == pytest.approx(excerpt_card["bpc"], abs=0.4)
    assert bpc < 4.0  # far better than a uniform guess over 97 characters (6.6 bits)


@pytest.mark.parametrize("kind", CHAR_MODELS)
def test_trace_text_matches_the_fused_module(kind: str) -> None:
    model, _ = load(kind)
    result = trace_text(kind, SAMPLE)
    expected_type = {"lstm": LSTMTrace, "gru": GRUTrace, "rnn": RNNTrace}[kind]
    assert isinstance(result.trace, expected_type)
    ids = torch.as_tensor(result.encoded.ids)[None]
    with torch.inference_mode():
        logits, _ = model(ids)
        out, _ = model.rnn(model.embed(ids))
    torch.testing.assert_close(result.trace.hidden, out[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(result.probs, logits[0].softmax(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(result.probs.sum(1), torch.ones(len(SAMPLE)))
    assert result.encoded.unknown_count == 3 and "unknown symbol" in result.encoded.note
    top = result.topk(3, k=5)
    assert len(top) == 5 and top[0][1] >= top[-1][1]
    assert result.surprise_bits().shape == (len(SAMPLE) - 1,)


def test_lstm_has_learned_python() -> None:
    after_def = dict(next_char_topk("lstm", "import os\n\n\nde", k=3))
    assert "f" in after_def  # "def"
    top = next_char_topk("lstm", "    return sel", k=1)
    assert top[0][0] == "f" and 0 < top[0][1] <= 1
    probs = next_char_topk("lstm", "x = (", k=97)
    assert sum(p for _, p in probs) == pytest.approx(1.0, abs=1e-5)


def test_long_and_blank_texts() -> None:
    result = trace_text("rnn", "x = 1\n" * 20_000, max_chars=2_000)
    assert result.trace.steps == 2_000 and result.encoded.truncated
    with pytest.raises(TextInputError):
        trace_text("lstm", "  \n ")
    assert len(next_char_topk("gru", "é" * 50_000)) == 5  # all unknown, still a distribution


def test_unknown_names_and_missing_files_are_person_errors(tmp_path) -> None:
    with pytest.raises(CharModelError, match="choose one of lstm, gru, rnn"):
        load("transformer")
    with pytest.raises(CharModelError, match="train_char_models.py"):
        load("lstm", directory=tmp_path)


def test_save_then_load_round_trips(tmp_path) -> None:
    vocab = Vocabulary.from_text("hello world\n", size=10)
    model = build("gru", vocab, embed=4, hidden=6, seed=3)
    save(model, {"note": "tiny"}, tmp_path)
    loaded, card = load("gru", directory=tmp_path)
    assert card["note"] == "tiny" and card["architecture"]["hidden"] == 6
    assert json.loads((tmp_path / "char_gru.json").read_text())["vocabulary"][0] == "\ufffd"
    for (name, a), (_, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    again = build("gru", vocab, embed=4, hidden=6, seed=3).state_dict()
    assert all(torch.equal(again[k], v) for k, v in model.state_dict().items())  # seeded


def test_surprise_helpers_against_their_definitions() -> None:
    chars = tuple("abcdefgh")
    uniform = np.full(8, 1 / 8)
    entropy = -sum(p * np.log2(p) for p in uniform)  # a uniform guess costs its entropy
    assert uniform_bits(len(chars)) == pytest.approx(entropy, rel=1e-12)
    assert surprise(0.25) == pytest.approx(2.0) and probability_of(surprise(0.3)) == 0.3
    assert np.isfinite(surprise(0.0)) and surprise(0.0) > 30  # floored, never infinite


def test_top_next_matches_torch_topk() -> None:
    model, _ = load("lstm")
    traced = trace_text(model, SAMPLE)
    probs = traced.probs.numpy()
    for t in (0, 5, len(probs) - 1):
        ours = top_next(probs[t], model.vocab.chars)
        reference = traced.topk(t)
        assert [c for c, _ in ours] == [c for c, _ in reference]
        np.testing.assert_allclose([p for _, p in ours], [p for _, p in reference], rtol=1e-6)


def test_surprise_extremes_and_best_model() -> None:
    bits = np.array([2.0, 0.5, 7.0, 0.9, 1.0])
    assert surprise_extremes(bits) == (1, 2, 2 / 5)  # 1.0 is not under one bit
    assert best_model({"lstm": 2.1, "gru": 1.9, "rnn": None}) == "gru"
    assert best_model({"lstm": None}) is None


def test_gated_beat_vanilla_only_when_every_gated_model_is_lower() -> None:
    assert gated_beat_vanilla({"rnn": 2.0, "gru": 1.9, "lstm": 1.8})
    assert not gated_beat_vanilla({"rnn": 2.0, "gru": 2.1, "lstm": 1.8})  # one gated is worse
    assert not gated_beat_vanilla({"rnn": 2.0, "gru": 2.0, "lstm": 1.8})  # a tie is not better
    assert not gated_beat_vanilla({"rnn": None, "gru": 1.0, "lstm": 1.0})
    assert gated_beat_vanilla({"rnn": 2.0, "gru": None, "lstm": 1.8})
    assert not gated_beat_vanilla({"rnn": 2.0, "gru": None, "lstm": None})
