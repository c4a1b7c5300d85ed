"""Train the shipped small CNN on the procedural shapes and write its weights and card.

    python scripts/train_small_cnn.py     # → assets/small_cnn.safetensors, assets/small_cnn.json

The default network (engine.cnn.small_cnn.CNNConfig()) learns from N_PER_CLASS rendered images per
class (engine.cnn.shapes_data, seed SEED) with random flips, Adam and a cosine learning-rate decay,
then is scored on a FRESH held-out set rendered from HELD_OUT_SEED, which training never saw. The
card holds no date or timing, so a rerun on the same machine, Python, torch and thread count
writes the same bytes.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.cnn import (
    DEFAULT_BATCH,
    DEFAULT_LR,
    CNNConfig,
    TrainingData,
    TrainResult,
    accuracy,
    make_dataset_uint8,
    make_training_data,
    predict,
    save,
    train,
)

OUT = Path(__file__).resolve().parents[1] / "assets" / "small_cnn.safetensors"
SEED = 0
N_PER_CLASS, N_VAL_PER_CLASS = 2000, 50
STEPS, LR, BATCH = 6000, DEFAULT_LR, DEFAULT_BATCH
HELD_OUT_SEED, HELD_OUT_PER_CLASS = 2024, 200
THREADS = 1  # one thread: the same arithmetic on every machine, and no stalls on shared cores


def main() -> None:
    args = _arguments()
    torch.set_num_threads(args.threads)
    config = CNNConfig()
    data, held_x, held_y = _render(config)
    result = train(
        config, args.steps, LR, BATCH, SEED, data, _report, progress_every=250, cosine=True
    )
    held_acc = accuracy(result.model, held_x, held_y)
    card = _card(config, result, (held_x, held_y, held_acc), args.threads)
    save(result.model, card, args.out)
    ms = result.seconds / max(result.steps_done, 1) * 1e3
    print(
        f"trained {result.steps_done} steps in {result.seconds:.0f} s ({ms:.0f} ms/step, "
        f"{args.threads} thread(s)); held-out accuracy {held_acc:.4f}"
    )
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {args.out.with_suffix('.json')}")


def _arguments() -> argparse.Namespace:
    """Return the command line's --steps, --threads and --out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


def _render(config: CNNConfig) -> tuple[TrainingData, torch.Tensor, torch.Tensor]:
    """Return (training data, held-out images, held-out labels), saying how long they took."""
    t0 = time.perf_counter()
    data = make_training_data(config.classes, N_PER_CLASS, N_VAL_PER_CLASS, seed=SEED)
    held_x, held_y = make_dataset_uint8(HELD_OUT_PER_CLASS, HELD_OUT_SEED, config.classes)
    print(
        f"rendered {len(data.train_images) + len(held_x)} images in "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return data, held_x, held_y


def _report(step: int, total: int, point, _model) -> None:
    """Print one progress line of the training run."""
    print(
        f"step {step:5d}/{total}  loss {point.loss:.3f}  train {point.train_acc:.3f}  "
        f"val {point.val_acc:.3f}",
        flush=True,
    )


def _card(config: CNNConfig, result: TrainResult, held: tuple, threads: int) -> dict:
    """Return the JSON card of the trained model: how it was trained and how it scores.

    held: (held-out images, their labels, the model's accuracy on them).
    """
    model = result.model
    held_x, held_y, held_acc = held
    pred = predict(model, held_x)
    per_class = {
        name: round(float((pred[held_y == k] == k).float().mean()), 4)
        for k, name in enumerate(config.classes)
    }
    command = "python scripts/train_small_cnn.py" + "".join(
        f" {shlex.quote(a)}" for a in sys.argv[1:]
    )
    side = config.input_size
    return {
        "name": "small_cnn",
        "description": f"VGG-style CNN ({config.depth_blocks} blocks of "
        f"conv-ReLU-conv-ReLU-maxpool, {config.filters} filters, "
        "then flatten → linear → softmax) trained on engine.cnn.shapes_data's procedural shapes.",
        "classes": list(config.classes),
        "input_size": side,
        "input": f"RGB in [0, 1], {side}×{side}: engine.cnn.shapes_data.preprocess "
        "(centre square, Lanczos)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {
            "steps": result.steps_done,
            "batch": BATCH,
            "optimizer": "Adam",
            "lr": LR,
            "lr_schedule": "cosine decay to 0",
            "augmentation": "random mirrors: left-right, up-down, diagonal (stripes relabelled)",
            "seed": SEED,
            "images_per_class": N_PER_CLASS,
            "validation_per_class": N_VAL_PER_CLASS,
            "final_validation_accuracy": round(result.val_acc, 4),
            "threads": threads,
            "torch": torch.__version__,
        },
        "held_out_seed": HELD_OUT_SEED,
        "n_held_out": len(held_x),
        "held_out_accuracy": round(held_acc, 4),
        "held_out_per_class": per_class,
        "command": command,
    }


if __name__ == "__main__":
    main()
