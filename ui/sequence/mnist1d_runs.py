"""MNIST-1D training runs for the page: a plan of (arch, steps, seed, shuffle) runs done as one Job.

Finished runs go into one dict shared by every session (st.cache_resource), keyed on all four
settings, so a revisit or a second person asking for the same run gets it at once. A run that was
stopped is kept only in the job's own result (it is shown, marked, but never cached as finished).
The job never touches Streamlit: it reports the learning curves so far as its payload. A plan is
shared while it runs (ui.jobs.shareable): a second session pressing Train on the same plan follows
the run already going instead of queueing a copy; the store above keeps what finished.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
import streamlit as st

from engine.core import N_
from engine.sequence import (
    ARCH_TITLES,
    DEFAULT_STEPS,
    FitResult,
    build_model,
    count_parameters,
    fit_mnist1d,
    load_mnist1d,
    time_per_batch,
)
from ui.i18n import DEFAULT, t, translations
from ui.jobs import Job, Line, Watch, running_jobs, shareable


@st.cache_resource(show_spinner=False)  # the page shows a translated spinner
def mnist1d_data():
    """Return the MNIST-1D dataset, generated once per server and shared by every session."""
    return load_mnist1d()


__all__ = [
    "MAX_PLAN_STEPS",
    "Curve",
    "PlanOutcome",
    "RunKey",
    "RunStore",
    "Shown",
    "arch_name",
    "label",
    "make_plan",
    "parameter_counts",
    "plan_work",
    "results_table",
    "run_store",
    "runs_for",
    "timing_store",
    "timings",
]

MAX_PLAN_STEPS = 30_000  # minibatches in one press of Train: ~2 min of GRU on a busy core
MAX_STORED = 200  # finished runs kept for everyone (a FitResult is a few kB)


class RunKey(NamedTuple):
    """Every setting that changes a run's outcome."""

    arch: str
    steps: int
    seed: int
    shuffle: bool


class Curve(NamedTuple):
    """A learning curve so far: parallel tuples, accuracies as fractions."""

    steps: tuple[int, ...]
    seconds: tuple[float, ...]
    test_acc: tuple[float, ...]


@dataclass
class RunStore:
    """Finished runs shared by all sessions, guarded by a lock (jobs write from their threads)."""

    runs: dict[RunKey, FitResult] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: RunKey) -> FitResult | None:
        with self.lock:
            return self.runs.get(key)

    def put(self, key: RunKey, result: FitResult) -> None:
        with self.lock:
            self.runs[key] = result
            while len(self.runs) > MAX_STORED:
                self.runs.pop(next(iter(self.runs)))


@dataclass(frozen=True)
class PlanOutcome:
    """What a plan's job returns: finished runs and, if stopped, the run cut short."""

    finished: dict[RunKey, FitResult]
    stopped: dict[RunKey, FitResult]


@st.cache_resource
def run_store() -> RunStore:
    """Return the one RunStore of this server."""
    return RunStore()


PROGRESS = N_("Training {model}: step {step} of {steps}, test accuracy {accuracy}")


def _say(msgid: str, lang: str | None) -> str:
    """Return msgid in lang, or in the session's language when lang is None."""
    return t(msgid) if lang is None else translations(lang).gettext(msgid)


def arch_name(arch: str, lang: str | None = None) -> str:
    """Return a short name for an architecture: 'CNN', 'GRU', 'Linear' (in lang, else the
    session's language: a job's thread has no session and passes its own)."""
    if arch == "linear":
        return _say(N_("Linear"), lang)
    return {"mlp": "MLP", "rnn": "tanh RNN"}.get(arch, arch.upper())


def label(key: RunKey, lang: str | None = None) -> str:
    """Return a short legend name for a run: 'CNN' or 'CNN, shuffled'."""
    name = arch_name(key.arch, lang)
    return _say(N_("{model}, shuffled"), lang).format(model=name) if key.shuffle else name


def make_plan(
    archs: Sequence[str], multiplier: float, seed: int, shuffles: Sequence[bool] = (False,)
) -> list[RunKey]:
    """Return the runs for archs (each at multiplier × its default steps) and each shuffle value."""
    return [
        RunKey(arch, max(1, round(DEFAULT_STEPS[arch] * multiplier)), int(seed), shuffle)
        for arch in archs
        for shuffle in shuffles
    ]


def _label_line(key: RunKey, lang: str) -> Line | str:
    """Return label(key) as a Line made in lang (each reader sees it in their language)."""
    name = Line(lang, N_("Linear")) if key.arch == "linear" else arch_name(key.arch, lang)
    return Line(lang, N_("{model}, shuffled"), model=name) if key.shuffle else name


def plan_work(plan: Sequence[RunKey], store: RunStore, lang: str = DEFAULT) -> Callable:
    """Return the job's work, shared by plan: run each missing run of plan in order, reporting
    curves so far (its progress lines made in lang: the job's thread has no session to ask)."""

    def work(report, should_stop) -> PlanOutcome:
        total = sum(k.steps for k in plan)
        finished: dict[RunKey, FitResult] = {}
        stopped: dict[RunKey, FitResult] = {}
        curves: dict[RunKey, Curve] = {}
        done = 0
        for key in plan:
            if should_stop():
                break
            cached = store.get(key)
            if cached is not None:  # someone finished it already (maybe while we queued)
                finished[key] = cached
                curves[key] = curve_of(cached)
                done += key.steps
                text = Line(lang, N_("{model}: already trained"), model=_label_line(key, lang))
                report(done / total, text, dict(curves))
                continue
            points: list[tuple[int, float, float]] = []

            def progress(step, steps, metrics, key=key, points=points, base=done) -> bool:
                points.append((step, metrics["seconds"], metrics["test_acc"]))
                curves[key] = Curve(*(tuple(c) for c in zip(*points, strict=True)))
                text = Line(
                    lang,
                    PROGRESS,
                    model=_label_line(key, lang),
                    step=f"{step:,}",
                    steps=f"{steps:,}",
                    accuracy=f"{metrics['test_acc']:.1%}",
                )
                report((base + step) / total, text, dict(curves))
                return should_stop()

            result = fit_mnist1d(key.arch, key.steps, key.seed, key.shuffle, progress)
            if result.stopped_early:
                stopped[key] = result
                break
            store.put(key, result)
            finished[key] = result
            done += key.steps
        return PlanOutcome(finished, stopped)

    return shareable(("mnist1d", tuple(plan)), work, keep=False)  # the store keeps finished runs


def curve_of(result: FitResult) -> Curve:
    """Return a finished run's learning curve."""
    h = result.history
    return Curve(
        tuple(p.step for p in h), tuple(p.seconds for p in h), tuple(p.test_acc for p in h)
    )


@st.cache_resource(show_spinner=False)
def parameter_counts() -> dict[str, int]:
    """Return {arch: trainable weights} of each MNIST-1D model (40 samples in, 10 logits out)."""
    return {arch: count_parameters(build_model(arch, 40)) for arch in ARCH_TITLES}


@st.cache_resource
def timing_store() -> dict[tuple, dict]:
    """Return the server's measured timings, keyed on (arch, lengths, batch, repeat)."""
    return {}


def timings(
    arch: str, lengths: tuple[int, ...], batch: int, repeat: int, *, fresh: bool = False
) -> tuple[dict | None, bool]:
    """Return (time_per_batch(arch, lengths, batch, repeat) or None, quiet).

    Timing beside a training run would mostly time the run: while a job runs on this server, a
    kept measurement is returned if there is one, else (None, False). A measurement is kept for
    everyone only if no job started meanwhile (quiet=True). fresh=True measures again.
    """
    store, key = timing_store(), (arch, tuple(lengths), batch, repeat)
    if not fresh and key in store:
        return store[key], True
    if running_jobs() > 0:
        return store.get(key), key in store
    measured = time_per_batch(arch, lengths, batch=batch, repeat=repeat)
    quiet = running_jobs() == 0
    if quiet:
        store[key] = measured
    return measured, quiet


class Shown(NamedTuple):
    """A run to show: its result, its curve, and whether it was stopped before the end."""

    result: FitResult
    curve: Curve
    stopped: bool


def runs_for(
    plan: Sequence[RunKey], store: RunStore, job: Job | Watch | None
) -> dict[RunKey, Shown]:
    """Return the runs of plan that exist: finished ones from the store, a stopped one from job."""
    outcome = job.state().result if job is not None else None
    stopped = outcome.stopped if isinstance(outcome, PlanOutcome) else {}
    shown = {}
    for key in plan:
        result = store.get(key)
        if result is not None:
            shown[key] = Shown(result, curve_of(result), False)
        elif key in stopped:
            shown[key] = Shown(stopped[key], curve_of(stopped[key]), True)
    return shown


def results_table(runs: dict[RunKey, Shown], counts: dict[str, int]) -> pd.DataFrame:
    """Return one row per run: weights, steps, seconds, our and the published accuracy (in %),
    unrounded (the page's table shows them to a tenth; its CSV keeps them whole)."""
    rows = []
    for key, (result, _, stopped) in runs.items():
        published = result.published_accuracy
        rows.append(
            {
                t("model"): label(key),
                t("weights"): counts[key.arch],
                t("steps"): result.steps,
                t("seconds"): result.seconds,
                t("test accuracy (%)"): 100 * result.test_accuracy,
                t("train accuracy (%)"): 100 * result.train_accuracy,
                t("published (%)"): None if published is None else 100 * published,
                t("ours − published (points)"): None
                if published is None
                else 100 * (result.test_accuracy - published),
                t("status"): t(
                    "stopped at step {step} of {steps}",
                    step=f"{result.steps:,}",
                    steps=f"{key.steps:,}",
                )
                if stopped
                else t("finished"),
            }
        )
    return pd.DataFrame(rows)
