"""Train the shipped character-level LSTM, GRU and vanilla RNN on the Python standard library.

    python scripts/train_char_models.py               # all three → assets/char_*.safetensors, .json
    python scripts/train_char_models.py --kinds lstm  # one of them

The text is the running interpreter's own standard library (engine.recurrent.stdlib_corpus: the
top-level *.py files sorted by name; every 10th is held out for validation). It is read at training
time and never copied into the repository. All three models are trained the same way: the same
vocabulary, seed, batches, steps and schedule; truncated backpropagation through time over
`batch` contiguous streams, carrying the state from one chunk to the next so the models learn to
read long texts. Deterministic for a given machine, Python version and thread count.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.recurrent import (
    ASSETS,
    CHAR_MODELS,
    CharRNN,
    Vocabulary,
    bits_per_char,
    build,
    save,
    stdlib_corpus,
)

SEED = 0
EMBED, HIDDEN = 32, 128
BATCH, SEQ_LEN = 32, 128  # 32 streams, 128 characters per truncated-BPTT chunk
STEPS = 2400
THREADS = 1  # one thread: the same arithmetic on every machine, and no stalls on shared cores
LR, LR_FINAL, CLIP = 3e-3, 3e-4, 1.0  # Adam, cosine decay to LR_FINAL, gradient norm clip
EXCERPT_CHARS = 4000  # the cheap check the tests repeat: bpc of the first validation file's start
VALIDATION_STREAMS = 16


def read(files: list[Path]) -> str:
    """Return the files' text joined by newlines, CR LF read as LF."""
    return "\n".join(f.read_text(encoding="utf-8").replace("\r\n", "\n") for f in files)


def train(kind: str, vocab: Vocabulary, ids: torch.Tensor, steps: int) -> tuple[CharRNN, float]:
    """Return (trained model, seconds) after `steps` chunks of BATCH × SEQ_LEN characters."""
    model = build(kind, vocab, EMBED, HIDDEN, seed=SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    length = len(ids) // BATCH
    streams = ids[: BATCH * length].reshape(BATCH, length)  # (B, L): contiguous text per row
    chunks = (length - 1) // SEQ_LEN
    state = None
    start = time.perf_counter()
    for step in range(steps):
        lr = LR_FINAL + 0.5 * (LR - LR_FINAL) * (1 + math.cos(math.pi * step / steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        at = (step % chunks) * SEQ_LEN
        if at == 0:
            state = None  # a new pass over the streams starts from zeros
        x, y = streams[:, at : at + SEQ_LEN], streams[:, at + 1 : at + SEQ_LEN + 1]
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        if step % 200 == 0 or step == steps - 1:
            bpc = loss.item() / math.log(2)
            seconds = time.perf_counter() - start
            print(f"  {kind} step {step:5d}  train bpc {bpc:.3f}  {seconds:6.1f} s", flush=True)
    return model.eval(), time.perf_counter() - start


def run_one(kind: str, steps: int, out: Path, jobs: int) -> str:
    """Train, validate and save one model; return its summary line (runs in a worker too)."""
    torch.set_num_threads(THREADS)
    train_files, val_files = stdlib_corpus()
    train_text, val_text = read(train_files), read(val_files)
    vocab = Vocabulary.from_text(train_text, size=96)
    ids = torch.as_tensor(vocab.ids(train_text))
    excerpt = val_files[0].read_text(encoding="utf-8").replace("\r\n", "\n")[:EXCERPT_CHARS]
    command = "python scripts/train_char_models.py" + (
        f" --steps {steps}" if steps != STEPS else ""
    )
    model, seconds = train(kind, vocab, ids, steps)
    val_bpc = bits_per_char(model, val_text, streams=VALIDATION_STREAMS)
    excerpt_bpc = bits_per_char(model, excerpt)
    card = {
        "name": f"char_{kind}",
        "description": f"1-layer character-level {kind.upper()} language model over Python "
        "source (embedding → recurrent layer → linear readout)",
        "corpus": {
            "description": "the Python standard library's own source, read at training time "
            "from the running interpreter (not copied into the repository)",
            "rule": "sysconfig.get_paths()['stdlib'] / '*.py' (top level only), sorted by "
            "file name; every 10th file (index 9, 19, ...) is held out for validation; "
            "files are joined with '\\n'",
            "python": platform.python_version(),
            "training_files": len(train_files),
            "training_chars": len(train_text),
            "training_sha256": hashlib.sha256(train_text.encode()).hexdigest(),
            "validation_files": [f.name for f in val_files],
            "validation_chars": len(val_text),
            "validation_sha256": hashlib.sha256(val_text.encode()).hexdigest(),
        },
        "vocabulary_rule": "the 96 most common printable characters (and newline) of the "
        "training text, sorted by code point, after index 0 = unknown symbol U+FFFD",
        "training": {
            "steps": steps,
            "batch_streams": BATCH,
            "seq_len": SEQ_LEN,
            "characters_seen": steps * BATCH * SEQ_LEN,
            "optimizer": f"Adam, lr {LR} cosine-decayed to {LR_FINAL}",
            "gradient_clip_norm": CLIP,
            "truncated_bptt": "state carried across consecutive chunks of each stream",
            "seed": SEED,
            "seconds": round(seconds, 1),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "parallel_jobs": jobs,  # models trained side by side; the weights do not depend on it
        },
        "validation": {
            "bpc": round(val_bpc, 4),
            "how": f"held-out files cut into {VALIDATION_STREAMS} contiguous streams read "
            "from a zero state; mean -log2 P(next char)",
            "excerpt": {
                "file": val_files[0].name,
                "chars": len(excerpt),
                "sha256": hashlib.sha256(excerpt.encode()).hexdigest(),
                "bpc": round(excerpt_bpc, 5),
            },
        },
        "command": command,
    }
    paths = save(model, card, out)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1024:.0f} KB" for p in paths)
    return f"{kind}: {seconds:.0f} s, val bpc {val_bpc:.3f}, excerpt {excerpt_bpc:.4f} ({sizes})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kinds", nargs="+", default=list(CHAR_MODELS), choices=CHAR_MODELS)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", type=Path, default=ASSETS)
    parser.add_argument("--jobs", type=int, default=2, help="models trained side by side")
    args = parser.parse_args()
    train_files, val_files = stdlib_corpus()
    print(
        f"corpus: {len(train_files)} training files, {len(val_files)} validation files; "
        f"{len(args.kinds)} model(s), {args.steps} steps each, {args.jobs} job(s)",
        flush=True,
    )
    start = time.perf_counter()
    # The slowest first (GRU, then LSTM), so two workers finish at about the same time.
    kinds = sorted(args.kinds, key=["gru", "lstm", "rnn"].index)
    jobs = min(args.jobs, len(kinds))
    if jobs > 1:
        context = multiprocessing.get_context("spawn")  # no OpenMP state inherited through fork
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = [pool.submit(run_one, k, args.steps, args.out, jobs) for k in kinds]
            lines = [f.result() for f in futures]
    else:
        lines = [run_one(k, args.steps, args.out, 1) for k in kinds]
    print("\n".join(lines))
    print(f"all done in {time.perf_counter() - start:.0f} s wall-clock")


if __name__ == "__main__":
    main()
