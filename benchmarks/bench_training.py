"""The four default training runs, timed through the pages' own job functions (issue 13 targets).

Each run is what a learner starts with one press of Train at the page's defaults: the train-a-CNN
run, the five ablations, the MNIST-1D set of four models and the sequence-task pair. The work
functions are the ones the pages hand to ui.jobs (same threads, precision and progress reports);
rendering the shapes once per class set is timed apart, as the page caches it for every session.
The baseline column is the issue's time budget, so a ratio ≤ 1 meets the target. Each row also
names the lesson's figure, so a faster run that stopped teaching would show here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.common import Row
from engine.cnn import CLASSES, DEFAULT_LR, DEFAULT_STEPS, CNNConfig, bf16_supported
from engine.sequence import TASK_ARCHS, TASK_STEPS, TASKS
from ui.cnn.ablation_view import DEFAULT_ABLATION_STEPS
from ui.cnn.train_runs import (
    AblationSettings,
    DataStore,
    RunSettings,
    ablation_work,
    training_work,
)
from ui.sequence.mnist1d_runs import RunStore, make_plan, plan_work
from ui.sequence.task_runs import make_work

MNIST1D_DEFAULT_ARCHS = ("linear", "mlp", "cnn", "gru")  # the page's default selection
TASK_DEFAULT_ARCHS = TASK_ARCHS  # the page starts with every model chosen
BUDGET_S = {"cnn": 30.0, "ablations": 120.0, "mnist1d": 40.0, "tasks": 60.0}  # issue 13


def _timed(work: Callable) -> tuple[float, object]:
    """Return (seconds, result) of one job function run to the end, as a job thread would."""
    t0 = time.perf_counter()
    result = work(lambda fraction, text, payload=None: None, lambda: False)
    return time.perf_counter() - t0, result


def _cnn_rows(store: DataStore) -> list[Row]:
    t0 = time.perf_counter()
    store.get(CLASSES)
    render = time.perf_counter() - t0
    settings = RunSettings(CNNConfig(), DEFAULT_STEPS, DEFAULT_LR, 0, bf16_supported())
    seconds, outcome = _timed(training_work(settings, store))
    rows = [
        Row(
            f"train-a-CNN default run ({outcome.result.val_acc:.0%} held out; render "
            f"{render:.1f} s once)",
            seconds,
            "target",
            BUDGET_S["cnn"],
            "ratio <= 1",
        )
    ]
    abl = AblationSettings(CLASSES, DEFAULT_ABLATION_STEPS, DEFAULT_LR, 0, bf16_supported())
    seconds, table = _timed(ablation_work(abl, store, {}))
    accs = ", ".join(f"{r.name} {r.val_acc:.0%}" for r in table)
    rows.append(Row(f"five ablations ({accs})", seconds, "target", BUDGET_S["ablations"], "<= 1"))
    return rows


def _sequence_rows() -> list[Row]:
    plan = make_plan(MNIST1D_DEFAULT_ARCHS, 1.0, 0)
    seconds, outcome = _timed(plan_work(plan, RunStore()))
    accs = ", ".join(f"{k.arch} {r.test_accuracy:.0%}" for k, r in outcome.finished.items())
    rows = [Row(f"MNIST-1D four models ({accs})", seconds, "target", BUDGET_S["mnist1d"], "<= 1")]
    pairs = [(task, arch) for task in TASKS for arch in TASK_DEFAULT_ARCHS]
    seconds, results = _timed(make_work(pairs, TASK_STEPS, 0, {}))
    best = {t: max(TASK_DEFAULT_ARCHS, key=lambda a: results[(t, a)].accuracy) for t in TASKS}
    rows.append(
        Row(f"sequence-task pair (best: {best})", seconds, "target", BUDGET_S["tasks"], "<= 1")
    )
    return rows


def run() -> list[Row]:
    """Return one row per default training run: its seconds against the issue's budget."""
    return _cnn_rows(DataStore()) + _sequence_rows()
