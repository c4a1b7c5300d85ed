"""The training page's background work: shared data, one training run, the five ablations.

Each `*_work` function returns a `work(report, should_stop)` for ui/jobs.py: it calls the engine,
reports plain values (curves so far, copies of the first-layer filters) and returns a frozen
result. Nothing here touches Streamlit widgets, so a job thread can run it; the shared stores are
plain dicts behind locks, handed over by the page from st.cache_resource. A run's settings decide
its result, so each work is marked `shareable` on all of them: sessions asking for identical
settings follow one run (ui.jobs), and its progress lines are `Line`s each reader sees in their
own language.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from engine.cnn import (
    ABLATIONS,
    DEFAULT_BATCH,
    TRAIN_PER_CLASS,
    VAL_PER_CLASS,
    CNNConfig,
    SmallCNN,
    TrainingData,
    TrainPoint,
    TrainResult,
    ablation_config,
    first_layer_filters,
    last_field,
    make_training_data,
    parameter_count,
    shift_robustness,
    train,
)
from engine.core import N_
from runtime_tuning import training_threads
from ui.cnn.names import VARIANT_NAMES
from ui.i18n import DEFAULT
from ui.jobs import Line, shareable

__all__ = [
    "AblationRow",
    "AblationSettings",
    "Live",
    "RunOutcome",
    "RunSettings",
    "DataStore",
    "ablation_work",
    "make_card",
    "of_kind",
    "session_job",
    "training_work",
]

BATCH = DEFAULT_BATCH
N_PER_CLASS = TRAIN_PER_CLASS  # rendered once per class set, then shared
N_VAL_PER_CLASS = VAL_PER_CLASS  # drawn from another seed: never trained on
DATA_SEED = 0  # the images are the same for everyone; the seed widget sets weights and batches
REPORTS = 20  # curve points (and filter snapshots) per run
# A job's progress lines (translated in the job's thread, into the language it was given)
RENDERING = N_("Rendering {n} images of {classes} classes (once per class set)…")
STEP = N_("Step {step} of {steps}: loss {loss}, validation accuracy {accuracy}")
VARIANT_STEP = N_("{name} ({i} of {n}): step {step} of {steps}, validation accuracy {accuracy}")
SHIFTING = N_("{name}: shifting the validation images…")
MAX_SHIFT = 8  # pixels, for the shift-robustness curves
ROBUST_PER_CLASS = 10  # validation images per class used for shift robustness (cost: 64 passes)


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides one training run."""

    config: CNNConfig
    steps: int
    lr: float
    seed: int
    bf16: bool
    batch: int = BATCH


@dataclass(frozen=True)
class Live:
    """What a running job reports: the curves and filter copies so far."""

    settings: RunSettings
    history: tuple[TrainPoint, ...]
    snapshots: tuple[tuple[int, torch.Tensor], ...]  # (step, first-layer weights (F, 3, k, k))
    seconds: float  # training time so far (data rendering excluded)


@dataclass(frozen=True)
class RunOutcome:
    """A finished (or stopped) run: the engine's result plus the filter snapshots."""

    settings: RunSettings
    result: TrainResult
    snapshots: tuple[tuple[int, torch.Tensor], ...]


class AblationSettings(NamedTuple):
    """Everything that decides the five ablation runs: the cache key (a plain tuple)."""

    classes: tuple[str, ...]
    steps: int
    lr: float
    seed: int
    bf16: bool


@dataclass(frozen=True)
class AblationRow:
    """One ablation variant after training: size, accuracy and shift robustness."""

    name: str
    config: CNNConfig
    parameters: int
    field: int  # receptive field side (px) of the last spatial layer
    val_acc: float
    train_acc: float  # over the last report interval's minibatches
    seconds: float
    history: tuple[TrainPoint, ...]
    robust: dict[str, np.ndarray]  # mode → (MAX_SHIFT + 1,) fraction of predictions unchanged


class DataStore:
    """Rendered TrainingData per class set, shared by all sessions (a few kept, oldest dropped)."""

    def __init__(self, max_entries: int = 3) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, ...], TrainingData] = OrderedDict()
        self._max = max_entries

    def get(self, classes: tuple[str, ...]) -> TrainingData:
        """Return the training data for classes, rendering it on first use (~0.4 ms an image)."""
        with self._lock:  # one rendering at a time; a second asker waits and reuses it
            if classes not in self._entries:
                self._entries[classes] = make_training_data(
                    classes, N_PER_CLASS, N_VAL_PER_CLASS, DATA_SEED
                )
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(classes)
            return self._entries[classes]


def of_kind(value: Any, cls: type) -> Any:
    """Return value if it is a cls, matched by class name, else None.

    Streamlit's development server re-imports every local module when any source file changes;
    a job started before that holds objects of the old classes, which isinstance would reject.
    """
    return value if type(value).__name__ == cls.__name__ else None


def session_job(state, key: str) -> Any:
    """Return the job stored under state[key] (any object with state() and stop()), or None."""
    job = state.get(key) if hasattr(state, "get") else None
    return job if hasattr(job, "state") and hasattr(job, "stop") else None


def _every(steps: int) -> int:
    return max(1, steps // REPORTS)


def training_work(settings: RunSettings, data_store: DataStore, lang: str = DEFAULT):
    """Return a job function, shared by settings, that trains settings.config and reports Live
    snapshots (its progress lines made in lang: the job's thread has no session to ask)."""

    def work(report, should_stop) -> RunOutcome:
        config = settings.config
        n = len(config.classes) * (N_PER_CLASS + N_VAL_PER_CLASS)
        report(0.0, Line(lang, RENDERING, n=f"{n:,}", classes=len(config.classes)), None)
        data = data_store.get(config.classes)
        init = first_layer_filters(SmallCNN(config, seed=settings.seed))  # train's own start
        snapshots: list[tuple[int, torch.Tensor]] = [(0, init)]
        history: list[TrainPoint] = []
        start = time.perf_counter()

        def progress(step: int, steps: int, point: TrainPoint, model: SmallCNN) -> None:
            history.append(point)
            if snapshots[-1][0] != step:
                snapshots.append((step, first_layer_filters(model)))
            text = Line(
                lang,
                STEP,
                step=f"{step:,}",
                steps=f"{steps:,}",
                loss=f"{point.loss:.3f}",
                accuracy=f"{point.val_acc:.1%}",
            )
            live = Live(settings, tuple(history), tuple(snapshots), time.perf_counter() - start)
            report(step / steps, text, live)

        result = train(
            config,
            settings.steps,
            settings.lr,
            settings.batch,
            settings.seed,
            data,
            progress,
            should_stop,
            progress_every=_every(settings.steps),
            bf16=settings.bf16,
            threads=training_threads(),
        )
        return RunOutcome(settings, result, tuple(snapshots))

    return shareable(("cnn-train", settings), work)


def make_card(outcome: RunOutcome) -> dict:
    """Return the JSON-ready card of a trained model, shaped like assets/small_cnn.json."""
    s, r = outcome.settings, outcome.result
    c = s.config
    return {
        "name": "trained on the training page",
        "classes": list(c.classes),
        "config": c.to_dict(),
        "held_out_accuracy": r.val_acc,
        "n_held_out": len(c.classes) * N_VAL_PER_CLASS,
        "parameters": parameter_count(c),
        "training": {
            "steps": r.steps_done,
            "steps_asked": s.steps,
            "lr": s.lr,
            "batch": s.batch,
            "seed": s.seed,
            "seconds": round(r.seconds, 2),
            "stopped": r.stopped,
            "bf16_autocast": s.bf16,
            "optimizer": "Adam",
            "images_per_class": N_PER_CLASS,
            "validation_per_class": N_VAL_PER_CLASS,
        },
        "description": (
            f"VGG-style CNN ({c.depth_blocks} block(s) of conv-{'ReLU-' if c.relu else ''}conv"
            f"{'-ReLU' if c.relu else ''}{'-maxpool' if c.pool else ''}, {c.filters} filters of "
            f"{c.kernel}×{c.kernel}) trained in this session for {r.steps_done} steps."
        ),
    }


def ablation_work(
    settings: AblationSettings, data_store: DataStore, results: dict, lang: str = DEFAULT
):
    """Return a job function, shared by settings, training every ABLATIONS variant; complete
    sets go into results (its progress lines made in lang)."""

    def work(report, should_stop) -> tuple[AblationRow, ...]:
        if settings in results:  # another session finished the same set while this one queued
            return results[settings]
        report(0.0, Line(lang, N_("Rendering the images…")), None)
        data = data_store.get(settings.classes)
        probe = data.val_images[: len(settings.classes) * ROBUST_PER_CLASS]  # interleaved
        rows: list[AblationRow] = []
        for i, name in enumerate(ABLATIONS):
            row = _ablation_row(settings, data, probe, (i, name, lang), report, should_stop)
            if row is None:
                return tuple(rows)
            rows.append(row)
            if should_stop():
                return tuple(rows)
        _keep(results, settings, tuple(rows))
        return tuple(rows)

    return shareable(("cnn-ablations", settings), work, keep=False)  # results keeps them


def _ablation_row(settings, data, probe, variant: tuple, report, should_stop):
    """Return variant (i, name, lang)'s AblationRow (trained, then shifted), or None if it was
    stopped; its progress lines are made in lang."""
    i, name, lang = variant
    n = len(ABLATIONS)
    config = ablation_config(name, CNNConfig(classes=settings.classes))
    shown = Line(lang, VARIANT_NAMES[name])

    def progress(step, steps, point, model):
        text = Line(
            lang,
            VARIANT_STEP,
            name=shown,
            i=i + 1,
            n=n,
            step=f"{step:,}",
            steps=f"{steps:,}",
            accuracy=f"{point.val_acc:.1%}",
        )
        report((i + 0.9 * step / steps) / n, text, None)

    r = train(
        config,
        settings.steps,
        settings.lr,
        BATCH,
        settings.seed,
        data,
        progress,
        should_stop,
        progress_every=_every(settings.steps),
        bf16=settings.bf16,
        threads=training_threads(),
    )
    if r.stopped:
        return None
    report((i + 0.9) / n, Line(lang, SHIFTING, name=shown), None)
    robust = {m: shift_robustness(r.model, probe, MAX_SHIFT, m) for m in ("circular", "edge")}
    return AblationRow(
        name,
        config,
        parameter_count(config),
        last_field(config),
        r.val_acc,
        r.history[-1].train_acc,
        r.seconds,
        tuple(r.history),
        robust,
    )


def _keep(results: dict, settings: AblationSettings, rows: tuple[AblationRow, ...]) -> None:
    """Store a complete set under its settings, keeping the 16 newest."""
    results[settings] = rows
    while len(results) > 16:
        results.pop(next(iter(results)))
