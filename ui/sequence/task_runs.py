"""Where each one wins: the sequence page's live synthetic-task section and its Job.

Finished runs are the same for everyone with the same settings, so they go into one
`st.cache_resource` dict keyed on (task, model, steps, seed): a revisit, or another person asking
for the same run, is instant. A stopped run is shown to its person but never stored. The work
function never touches Streamlit; it reports curves so far through the Job. While it runs, a job
is shared (ui.jobs.shareable) by everyone pressing Train with the same models, steps and seed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st
import torch

from engine.core import N_
from engine.sequence import (
    MOTIF_LENGTH,
    TASK_ARCHS,
    TASK_BATCH,
    TASK_CHANCE,
    TASK_STEPS,
    TASK_TEST_SIZE,
    TASKS,
    TaskResult,
    above_chance,
    contest,
    first_reached,
    make_batch,
    synthetic_task,
)
from ui.chart import chart
from ui.i18n import DEFAULT, current_lang, t, tn
from ui.jobs import (
    Line,
    Report,
    ShouldStop,
    Work,
    get_job,
    shareable,
    shared_slot,
    show_progress,
    start_job,
)
from ui.links import linked
from ui.sequence import text_figures as tf
from ui.tables import table

__all__ = [
    "ARCH_NAMES",
    "JOB_KEY",
    "finished_runs",
    "make_work",
    "reached",
    "results_table",
    "tasks_section",
    "verdicts",
]

ARCH_NAMES = {"cnn": "CNN", "gru": "GRU", "lstm": "LSTM", "rnn": "tanh RNN"}  # names: untranslated
PROGRESS = N_("{task}: {model}, step {step} of {total}")  # a job's progress line
GOOD = 0.9  # accuracy we call "learned"
MAX_STORED = 400  # finished runs kept for everyone (each a few kB)
STEP_CHOICES = sorted({20, 50, 100, 200, 500, 1000, TASK_STEPS})
JOB_KEY = "seqb_job"
_STORE_LOCK = threading.Lock()

Pair = tuple[str, str]  # (task, arch)


@st.cache_resource
def finished_runs() -> dict[tuple[str, str, int, int], TaskResult]:
    """Return the shared dict of finished runs, keyed on (task, arch, steps, seed)."""
    return {}


def make_work(
    pairs: Sequence[Pair], steps: int, seed: int, store: dict, lang: str = DEFAULT
) -> Work:
    """Return a Job work function training each pair in turn (reusing stored runs).

    It reports {"curves": {(task, arch): ([steps], [accuracies])}} as it goes and returns
    {(task, arch): TaskResult} for every pair it finished or stopped. Its progress lines are made
    in lang (the job's thread has no session to ask) and said in each reader's language.
    """
    pairs = list(pairs)

    def work(report: Report, should_stop: ShouldStop) -> dict[Pair, TaskResult]:
        done: dict[Pair, TaskResult] = {}
        curves: dict[Pair, tuple[list[int], list[float]]] = {}
        for i, (task, arch) in enumerate(pairs):
            if should_stop():
                break
            stored = store.get((task, arch, steps, seed))
            if stored is not None:
                done[(task, arch)] = stored
                curves[(task, arch)] = _curve(stored)
                continue
            curves[(task, arch)] = ([], [])

            def progress(step: int, total: int, metrics: dict, i=i, pair=(task, arch)) -> bool:
                curves[pair][0].append(step)
                curves[pair][1].append(metrics["accuracy"])
                text = Line(
                    lang,
                    PROGRESS,
                    task=Line(lang, TASKS[pair[0]].title),
                    model=ARCH_NAMES[pair[1]],
                    step=step,
                    total=total,
                )
                snapshot = {k: (list(s), list(a)) for k, (s, a) in curves.items()}
                report((i + step / total) / len(pairs), text, {"curves": snapshot})
                return should_stop()

            result = synthetic_task(task, arch, steps, seed, progress)
            done[(task, arch)] = result
            if not result.stopped_early:
                with _STORE_LOCK:
                    store[(task, arch, steps, seed)] = result
                    while len(store) > MAX_STORED:
                        store.pop(next(iter(store)))
        return done

    share_key = ("sequence-tasks", tuple(pairs), steps, seed)
    return shareable(share_key, work, keep=False)  # the store keeps finished runs


def _curve(result: TaskResult) -> tuple[list[int], list[float]]:
    return [p.step for p in result.history], [p.accuracy for p in result.history]


def curves_by_task(
    results: Mapping[Pair, TaskResult] | Mapping[Pair, tuple[list[int], list[float]]],
) -> dict[str, dict[str, tuple[list[int], list[float]]]]:
    """Return {task: {arch: (steps, accuracies)}} for every task (empty until it has runs)."""
    out: dict[str, dict[str, tuple[list[int], list[float]]]] = {task: {} for task in TASKS}
    for (task, arch), value in results.items():
        out[task][arch] = _curve(value) if isinstance(value, TaskResult) else value
    return out


def reached(result: TaskResult, level: float = GOOD) -> int | None:
    """Return the first evaluated step with test accuracy ≥ level, or None."""
    h = result.history
    return first_reached([p.step for p in h], [p.accuracy for p in h], level)


def results_table(results: Mapping[Pair, TaskResult]) -> pd.DataFrame:
    """Return one row per run: task, model, weights, steps, test accuracy, seconds, step to 90%."""
    rows = []
    for (task, arch), r in results.items():
        at = reached(r)
        rows.append(
            {
                t("task"): t(TASKS[task].title),
                t("model"): ARCH_NAMES[arch],
                t("weights"): r.n_params,
                t("steps trained"): r.steps,
                t("test accuracy"): r.accuracy,
                t("first step ≥ {good}", good=f"{GOOD:.0%}"): t("never") if at is None else str(at),
                t("seconds"): r.seconds,
            }
        )
    return pd.DataFrame(rows)


def verdicts(results: Mapping[Pair, TaskResult], steps: int) -> list[str]:
    """Return one sentence per task: who won (if the numbers say so), by how much, how fast."""
    return [
        _task_verdict(spec, {a: r for (name, a), r in results.items() if name == task}, steps)
        for task, spec in TASKS.items()
    ]


def _task_verdict(spec, mine: dict[str, TaskResult], steps: int) -> str:
    """Return the sentence for one task's runs, its claim chosen by engine.sequence.contest."""
    cnn, recurrent = mine.get("cnn"), {a: r for a, r in mine.items() if a != "cnn"}
    if cnn is None or not recurrent:
        return t(
            "**{title}** — train the CNN and at least one recurrent model to compare.",
            title=t(spec.title),
        )
    best = max(recurrent, key=lambda a: recurrent[a].accuracy)
    rec = recurrent[best]
    stopped = any(r.stopped_early for r in mine.values())
    result = contest(
        (cnn.accuracy, rec.accuracy),
        (reached(cnn), reached(rec)),
        stopped,
        TASK_CHANCE,
        TASK_TEST_SIZE,
    )
    names = {"a": t("the CNN"), "b": t("the {model}", model=ARCH_NAMES[best])}
    lead = cnn.accuracy - rec.accuracy
    scores = dict(
        title=t(spec.title),
        cnn=f"{cnn.accuracy:.1%}",
        best=ARCH_NAMES[best],
        rec=f"{rec.accuracy:.1%}",
    )
    sentence = _contest_text(result, names, (reached(cnn), reached(rec)), lead, scores)
    if stopped:
        return sentence
    sentence += _speeds_and_chance(mine)
    kind = {"a": "cnn", "b": "rnn"}.get(result.winner or "", "")
    if kind != spec.winner:
        expected = t("the CNN") if spec.winner == "cnn" else t("a recurrent model")
        sentence += t(
            " The expected winner, {expected}, did not come out ahead with {steps} steps: try "
            "more steps or another seed.",
            expected=expected,
            steps=steps,
        )
    return sentence


def _contest_text(result, names: dict[str, str], first: tuple, gap: float, scores: dict) -> str:
    """Return the scores and the contest's outcome, or that the numbers decide nothing."""
    noise = t(
        "±{margin} points on {n} test sequences",
        margin=f"{100 * result.margin:.1f}",
        n=f"{TASK_TEST_SIZE:,}",
    )
    if result.by == "stopped":
        return t(
            "**{title}** — CNN {cnn}, best recurrent ({best}) {rec}: a run was stopped before the "
            "end, so no verdict.",
            **scores,
        )
    if result.by == "chance":
        return t(
            "**{title}** — CNN {cnn}, best recurrent ({best}) {rec}: neither is clearly above "
            "chance ({chance}), so no winner.",
            chance=f"{TASK_CHANCE:.0%}",
            **scores,
        )
    if result.by == "accuracy":
        return t(
            "**{title}** — CNN {cnn}, best recurrent ({best}) {rec}: {winner} leads by {gap} "
            "points (noise {noise}).",
            winner=names[result.winner],
            gap=f"{100 * abs(gap):.1f}",
            noise=noise,
            **scores,
        )
    if result.by == "speed":
        fast, slow = sorted(first)
        return t(
            "**{title}** — CNN {cnn}, best recurrent ({best}) {rec}: a tie on accuracy ({noise}), "
            "but {winner} reached {good} first (step {fast} against {slow}).",
            noise=noise,
            winner=names[result.winner],
            good=f"{GOOD:.0%}",
            fast=fast,
            slow=slow,
            **scores,
        )
    return t(
        "**{title}** — CNN {cnn}, best recurrent ({best}) {rec}: a tie, the gap is inside the "
        "noise ({noise}).",
        noise=noise,
        **scores,
    )


def _speeds_and_chance(mine: dict[str, TaskResult]) -> str:
    """Return who reached GOOD and when, and which models stayed near chance."""
    speeds = [
        t("{model} at step {step}", model=ARCH_NAMES[a], step=reached(r))
        for a, r in mine.items()
        if reached(r)
    ]
    good = f"{GOOD:.0%}"
    text = (
        t(" Reached {good}: {speeds}.", good=good, speeds=t(", ").join(speeds))
        if speeds
        else t(" No model reached {good}.", good=good)
    )
    low = [
        f"{ARCH_NAMES[a]} ({r.accuracy:.1%})"
        for a, r in mine.items()
        if not above_chance(r.accuracy, TASK_CHANCE, TASK_TEST_SIZE)
    ]
    if low:
        text += t(" Not clearly above chance: {models}.", models=t(", ").join(low))
    return text


def tasks_section() -> None:
    """Draw the two tasks, their settings and training button, and the results when there."""
    st.header(t("Where each one wins: two tasks, trained live"))
    st.markdown(
        t(
            "Two small tasks, each built so that one kind of network has the right structure. "
            "Every model has a few hundred weights and trains on fresh batches of {batch} with "
            "Adam; accuracy is measured on {n} held-out sequences (chance is {chance}).",
            batch=TASK_BATCH,
            n=f"{TASK_TEST_SIZE:,}",
            chance=f"{TASK_CHANCE:.0%}",
        )
    )
    _task_examples()
    archs, steps, seed = _task_settings()
    if not archs:
        st.warning(t("Choose at least one model."))
        return
    pairs = [(task, arch) for task in TASKS for arch in archs]
    store = finished_runs()
    cached = {p: store.get((*p, steps, seed)) for p in pairs}
    have = all(r is not None for r in cached.values())
    mine = st.session_state.get("seqb_job_settings") == (tuple(archs), steps, seed)
    running = _train_button(pairs, (tuple(archs), steps, seed), have, mine, store)
    job = get_job(st.session_state, JOB_KEY)
    if job is not None and (running or mine):
        state = show_progress(job, _live_curves, key="seqb_progress")
        if state.finished and state.result and mine and not have:
            _show_results(state.result, steps, stopped=state.status == "stopped")
            return
    if have:
        _show_results(cached, steps, stopped=False)


MEANINGS = {  # what each task's labels 0 and 1 mean
    "motif": (N_("decoy"), N_("motif")),
    "majority": (N_("more downs"), N_("more ups")),
}


def _task_examples() -> None:
    """Draw each task's idea and four example sequences with their labels."""
    gen = torch.Generator().manual_seed(1)
    cols = st.columns(len(TASKS))
    for col, (task, spec) in zip(cols, TASKS.items(), strict=True):
        xs, ys = make_batch(task, 4, gen)
        meaning = MEANINGS.get(task, ("0", "1"))
        with col:
            favours = t("the CNN") if spec.winner == "cnn" else t("recurrent nets")
            st.markdown(
                t(
                    "**{title}** — favours {favours}. {idea}",
                    title=t(spec.title),
                    favours=favours,
                    idea=t(spec.idea),
                )
            )
            chart(
                tf.task_examples(
                    xs.numpy(),
                    [t("label {y}: {meaning}", y=int(y), meaning=t(meaning[int(y)])) for y in ys],
                    bars=task == "majority",
                    title=t("Examples: {task}", task=t(spec.title)),
                ),
                key=f"seqb_examples_{task}",
            )


def _task_settings() -> tuple[list[str], int, int]:
    """Draw the model, steps and seed inputs; return (archs, steps, seed)."""
    c1, c2, c3 = st.columns([2, 2, 1])
    archs = linked(c1.multiselect)(
        t("Models"),
        list(TASK_ARCHS),
        list(TASK_ARCHS),
        key="seqb_archs",
        format_func=ARCH_NAMES.get,
    )
    steps = linked(c2.select_slider)(
        t("Training steps per model"), STEP_CHOICES, TASK_STEPS, key="seqb_steps"
    )
    seed = int(linked(c3.number_input)(t("Seed"), 0, 10_000, 0, key="seqb_task_seed"))
    return archs, steps, seed


def _train_button(pairs, settings, have: bool, mine: bool, store) -> bool:
    """Draw the Train button (starting the job when pressed); return whether a job is running."""
    job = get_job(st.session_state, JOB_KEY)
    running = job is not None and not job.state().finished
    label = (
        t("Already trained with these settings (shown below)")
        if have
        else t("Training…")
        if running and mine
        else t("Train")
    )
    if st.button(
        label,
        key="seqb_train",
        disabled=have or (running and mine),
        type="primary",
        icon=":material/play_arrow:",
    ):
        _, steps, seed = settings
        st.session_state["seqb_job_settings"] = settings
        work = make_work(pairs, steps, seed, store, current_lang())
        start_job(st.session_state, JOB_KEY, "sequence tasks", work)
        st.rerun()  # redraw the whole section with the run in progress
    if not have and not running:
        st.caption(
            tn(
                "{runs} runs of {steps} steps, one after the other; this server trains {n} job at "
                "a time. Finished runs are kept for everyone.",
                "{runs} runs of {steps} steps, one after the other; this server trains {n} jobs at "
                "a time. Finished runs are kept for everyone.",
                shared_slot().slots,
                runs=len(pairs),
                steps=settings[1],
            )
        )
    return running


def _live_curves(state) -> None:
    if state.finished or not state.payload:
        return
    curves = curves_by_task(state.payload["curves"])
    chart(
        tf.task_curves(curves, _titles(), ARCH_NAMES),
        key="seqb_live",
    )


def _titles() -> dict[str, str]:
    """Return each task's title in the session's language."""
    return {task: t(spec.title) for task, spec in TASKS.items()}


def _show_results(results, steps: int, stopped: bool) -> None:
    if stopped:
        st.warning(t("Stopped: these are the runs so far; only the runs that finished are kept."))
    chart(
        tf.task_curves(curves_by_task(results), _titles(), ARCH_NAMES),
        key="seqb_curves",
    )
    table(
        results_table(results),
        csv_name="task-runs",
        formats={
            t("weights"): "localized",
            t("steps trained"): "localized",
            t("test accuracy"): "percent",
            t("seconds"): "%.1f",
        },
    )
    st.markdown(t("**What to notice.** {verdicts}", verdicts=" ".join(verdicts(results, steps))))
    st.caption(
        t(
            "The CNN slides one filter over every window and max-pools, so a {motif}-sample motif "
            "is found wherever it is; but a max keeps the strongest window, not a total, so a "
            "one-step difference in a count is invisible to it. A recurrent state can add one per "
            "up and compare at the end — if its gates let it hold that count for {length} steps.",
            motif=MOTIF_LENGTH,
            length=TASKS["majority"].length,
        )
    )
