"""Which character comes next? Small character-level language models (LSTM, GRU, vanilla RNN).

A model is embedding → one recurrent layer → linear readout over the vocabulary, in the spirit of
Karpathy's char-rnn ("The Unreasonable Effectiveness of Recurrent Neural Networks", 2015). The
shipped weights (assets/char_{lstm,gru,rnn}.safetensors, each with a JSON card) are trained by
scripts/train_char_models.py on the Python standard library's own source, read from the running
interpreter (`stdlib_corpus`). `trace_text` runs a person's text through a model with the gate
traces of engine/recurrent/traces.py and the next-character distribution after every character.
"""

from __future__ import annotations

import json
import math
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from engine.core import ExplorerError, one_thread, seeded
from engine.recurrent.text_input import DEFAULT_MAX_CHARS, EncodedText, Vocabulary, encode
from engine.recurrent.traces import GRUTrace, LSTMTrace, RNNTrace, gru_trace, lstm_trace, rnn_trace

__all__ = [
    "ASSETS",
    "CHAR_MODELS",
    "CharModelError",
    "CharRNN",
    "TextTrace",
    "best_model",
    "bits_per_char",
    "build",
    "gated_beat_vanilla",
    "load",
    "next_char_topk",
    "probability_of",
    "save",
    "stdlib_corpus",
    "surprise",
    "surprise_extremes",
    "top_next",
    "trace_text",
    "uniform_bits",
]

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CHAR_MODELS = ("lstm", "gru", "rnn")
_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
MIN_PROBABILITY = 1e-12  # a probability floor, so a character given P = 0 costs finite bits
VALIDATION_EVERY = 10  # every 10th stdlib file (sorted by name) is held out for validation


class CharModelError(ExplorerError):
    """A model name or file that cannot be loaded; the message says how to fix it."""


class CharRNN(nn.Module):
    """A character language model: Embedding(V, E) → one-layer LSTM/GRU/RNN(E, H) → Linear(H, V)."""

    def __init__(self, kind: str, vocab: Vocabulary, embed: int = 32, hidden: int = 128) -> None:
        super().__init__()
        if kind not in _MODULES:
            raise CharModelError(f"Unknown model kind {kind!r}: use one of {', '.join(_MODULES)}.")
        self.kind, self.vocab = kind, vocab
        self.embed = nn.Embedding(len(vocab), embed)
        self.rnn = _MODULES[kind](embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, len(vocab))

    def forward(self, ids: Tensor, state: object = None) -> tuple[Tensor, object]:
        """Return (logits (B, T, V), final state) for ids (B, T), starting from state (or zeros)."""
        out, state = self.rnn(self.embed(ids), state)  # (B, T, H)
        return self.head(out), state


@dataclass(frozen=True)
class TextTrace:
    """A text read by a character model: gate traces and next-character predictions per char."""

    model: str  # "lstm", "gru" or "rnn"
    encoded: EncodedText  # the traced text, ids, unknown characters, truncation
    trace: LSTMTrace | GRUTrace | RNNTrace  # each field (T, H)
    probs: Tensor  # (T, V): P(next character | text[: t + 1])
    vocab: Vocabulary

    def topk(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """Return the k likeliest next characters after position t, as (char, probability)."""
        values, index = self.probs[t].topk(min(k, self.probs.shape[1]))
        return [
            (self.vocab.chars[i], float(v)) for v, i in zip(values, index.tolist(), strict=True)
        ]

    def surprise_bits(self) -> np.ndarray:
        """Return -log2 P(char t+1 | chars ≤ t) for t = 0..T-2 ((T-1,) float64)."""
        ids = torch.as_tensor(self.encoded.ids[1:])
        chosen = self.probs[:-1].gather(1, ids[:, None])[:, 0].double()
        return (-torch.log2(chosen)).numpy()


def build(
    kind: str, vocab: Vocabulary, embed: int = 32, hidden: int = 128, seed: int = 0
) -> CharRNN:
    """Return a CharRNN with seeded weights (PyTorch's default ranges; LSTM forget bias 1)."""
    model = CharRNN(kind, vocab, embed, hidden)
    generator = seeded(seed)
    with torch.no_grad():
        model.embed.weight.normal_(generator=generator)
        for p in [*model.rnn.parameters(), *model.head.parameters()]:
            p.uniform_(-(hidden**-0.5), hidden**-0.5, generator=generator)
        if kind == "lstm":  # Jozefowicz et al. 2015: start by remembering
            model.rnn.bias_ih_l0[hidden : 2 * hidden] = 1.0
            model.rnn.bias_hh_l0[hidden : 2 * hidden] = 0.0
    return model


def save(model: CharRNN, card: dict, directory: Path = ASSETS) -> tuple[Path, Path]:
    """Return the (weights, card) paths written as char_<kind>.safetensors / .json."""
    card = {**card, "kind": model.kind, "vocabulary": list(model.vocab.chars)}
    card["architecture"] = {
        "embed": model.embed.embedding_dim,
        "hidden": model.rnn.hidden_size,
        "vocab_size": len(model.vocab),
        "layers": 1,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    weights, card_path = (
        directory / f"char_{model.kind}.safetensors",
        directory / f"char_{model.kind}.json",
    )
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(weights), metadata={"card": card_path.name})
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return weights, card_path


def load(name: str, directory: Path = ASSETS) -> tuple[CharRNN, dict]:
    """Return (model in eval mode, card) for "lstm"/"gru"/"rnn" (or "char_lstm"...). Read-only."""
    kind = str(name).removeprefix("char_")
    if kind not in CHAR_MODELS:
        raise CharModelError(f"Unknown model {name!r}: choose one of {', '.join(CHAR_MODELS)}.")
    model, card_text = _load_cached(kind, str(directory))
    return model, json.loads(card_text)


@lru_cache(maxsize=8)
def _load_cached(kind: str, directory: str) -> tuple[CharRNN, str]:
    weights, card_path = (
        Path(directory) / f"char_{kind}.safetensors",
        Path(directory) / f"char_{kind}.json",
    )
    if not weights.is_file() or not card_path.is_file():
        raise CharModelError(
            f"{weights.name} or its card is missing in {directory}: "
            "run `python scripts/train_char_models.py` to train and save the models."
        )
    card_text = card_path.read_text(encoding="utf-8")
    card = json.loads(card_text)
    arch = card["architecture"]
    model = CharRNN(kind, Vocabulary(tuple(card["vocabulary"])), arch["embed"], arch["hidden"])
    model.load_state_dict(load_file(str(weights)), strict=True)
    for p in model.parameters():
        p.requires_grad_(False)  # shared by every page session: nobody trains the loaded copy
    return model.eval(), card_text


def _model(name_or_model: str | CharRNN) -> CharRNN:
    # a name is a str; anything else is taken as a model (a class check would fail on a model
    # cached before a dev server re-imported this module)
    return load(name_or_model)[0] if isinstance(name_or_model, str) else name_or_model


def trace_text(
    name_or_model: str | CharRNN, text: str, max_chars: int = DEFAULT_MAX_CHARS
) -> TextTrace:
    """Return the TextTrace of the first max_chars characters of text (TextInputError if blank)."""
    model = _model(name_or_model)
    encoded = encode(text, model.vocab, max_chars)
    tracer = {"lstm": lstm_trace, "gru": gru_trace, "rnn": rnn_trace}[model.kind]
    with torch.inference_mode(), one_thread():  # (T, 128)-sized ops stalled ~0.1 s on 2 threads
        x = model.embed(torch.as_tensor(encoded.ids))  # (T, E)
        trace = tracer(model.rnn, x)
        probs = F.softmax(model.head(trace.hidden), dim=-1)  # (T, V)
    return TextTrace(model.kind, encoded, trace, probs, model.vocab)


def next_char_topk(
    name_or_model: str | CharRNN, text: str, k: int = 5, max_chars: int = DEFAULT_MAX_CHARS
) -> list[tuple[str, float]]:
    """Return the k likeliest characters after text (its last max_chars chars) as (char, prob)."""
    model = _model(name_or_model)
    if isinstance(text, str) and len(text) > max_chars:
        text = text[-max_chars:]
    encoded = encode(text, model.vocab, max_chars)
    with torch.inference_mode(), one_thread():  # batch-1 steps: a second thread only waits
        logits, _ = model(torch.as_tensor(encoded.ids)[None])  # (1, T, V)
        probs = F.softmax(logits[0, -1], dim=-1)
    values, index = probs.topk(max(1, min(int(k), len(model.vocab))))
    return [(model.vocab.chars[i], float(v)) for v, i in zip(values, index.tolist(), strict=True)]


def bits_per_char(name_or_model: str | CharRNN, text: str, streams: int = 1) -> float:
    """Return the mean -log2 P(next char) over text cut into `streams` pieces read side by side."""
    model = _model(name_or_model)
    ids = torch.as_tensor(model.vocab.ids(text))
    length = len(ids) // streams
    if length < 2:
        raise CharModelError("The text is too short to measure: give at least two characters.")
    batch = ids[: streams * length].reshape(streams, length)  # (S, L), each row contiguous
    with torch.inference_mode(), one_thread():
        logits, _ = model(batch[:, :-1])
        nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
    return float(nats) / math.log(2)


def stdlib_corpus() -> tuple[list[Path], list[Path]]:
    """Return (training files, validation files): the stdlib's top-level *.py, sorted by name."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(root.glob("*.py"), key=lambda p: p.name)
    if not files:
        raise CharModelError(f"No Python source files found in {root}.")
    held = [f for i, f in enumerate(files) if i % VALIDATION_EVERY == VALIDATION_EVERY - 1]
    return [f for f in files if f not in held], held


def uniform_bits(symbols: int) -> float:
    """Return the bits per character of a uniform guess over `symbols` characters."""
    return math.log2(symbols)


def surprise(probability: float) -> float:
    """Return −log₂ probability in bits (probability floored at MIN_PROBABILITY)."""
    return -math.log2(max(float(probability), MIN_PROBABILITY))


def probability_of(bits: float) -> float:
    """Return the probability whose surprise is `bits`: 2^−bits."""
    return 2.0 ** -float(bits)


def top_next(probs: np.ndarray, chars: tuple[str, ...], k: int = 5) -> list[tuple[str, float]]:
    """Return the k likeliest (char, probability) of one next-character distribution (V,)."""
    order = np.argsort(-np.asarray(probs), kind="stable")[:k]
    return [(chars[i], float(probs[i])) for i in order]


def surprise_extremes(bits: np.ndarray) -> tuple[int, int, float]:
    """Return (step of least surprise, step of most surprise, share of steps under one bit)."""
    bits = np.asarray(bits, dtype=np.float64)
    return int(np.argmin(bits)), int(np.argmax(bits)), float(np.mean(bits < 1))


def best_model(bpcs: dict[str, float | None]) -> str | None:
    """Return the name with the lowest bits per character, ignoring None; None if all are None."""
    known = {name: v for name, v in bpcs.items() if v is not None}
    return min(known, key=known.get) if known else None


def gated_beat_vanilla(bpcs: dict[str, float | None]) -> bool:
    """Return True when every known gated model ("gru", "lstm") has lower bpc than the "rnn"."""
    vanilla = bpcs.get("rnn")
    gated = [bpcs[n] for n in ("gru", "lstm") if bpcs.get(n) is not None]
    return vanilla is not None and bool(gated) and all(v < vanilla for v in gated)
