"""The training page's "ablations in one click" section: what do pooling, ReLU and depth buy?

The runs of engine.cnn.training.ABLATIONS train as one background job; a finished set is kept
in a server-wide dict keyed on every setting, so the same settings show at once for anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from engine.cnn import (
    ABLATIONS,
    BORDER_SAME,
    CHANCE_Z,
    TREND_BY,
    CNNConfig,
    ablation_cost,
    above_chance,
    border_effect,
    chance_margin,
    compare,
    fits_less,
    steadiest,
    trend,
)
from engine.core import N_
from ui.chart import chart
from ui.cnn import train_figures as tf
from ui.cnn.names import variant_name
from ui.cnn.train_runs import (
    MAX_SHIFT,
    N_VAL_PER_CLASS,
    ROBUST_PER_CLASS,
    AblationRow,
    AblationSettings,
    DataStore,
    ablation_work,
    session_job,
)
from ui.i18n import current_lang, t, tn
from ui.jobs import JobState, show_progress, start_job
from ui.links import linked
from ui.tables import table

__all__ = [
    "ABLATION_STEPS",
    "DEFAULT_ABLATION_STEPS",
    "ablation_section",
    "depth_paragraph",
    "finished_sets",
]

ABLATION_STEPS = [20, 50, 100, 200, 300, 500, 1000]
DEFAULT_ABLATION_STEPS = 300  # all five: ~95 s here (one torch thread, ten classes; measured)
JOB_KEY = "ct_ablation_job"
SHOWN_SHIFT = 4  # pixels, for the bar chart


def _what_changes(name: str, c: CNNConfig) -> str:
    """Return what a variant's config changes, in words built from the config."""
    side, blocks = c.final_side, c.depth_blocks
    if name == "baseline":
        return tn("{n} block, pooling, ReLU", "{n} blocks, pooling, ReLU", blocks)
    if name == "no pooling":
        return t("maps stay {side}×{side}", side=side)
    if name == "no ReLU":
        return t("only the max pool is nonlinear")
    if name in ("1 block", "4 blocks"):
        return tn(
            "{n} block, {side}×{side} maps", "{n} blocks, {side}×{side} maps", blocks, side=side
        )
    return ""


@st.cache_resource
def finished_sets() -> dict:
    """Finished ablation sets, shared by all sessions: AblationSettings → rows."""
    return {}


def _table(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> pd.DataFrame:
    """Return one row per variant; accuracies and shares as fractions (shown as percent)."""
    return pd.DataFrame(
        {
            t("variant"): [variant_name(r.name) for r in rows],
            t("learned"): [learned[r.name] for r in rows],
            t("what changes"): [_what_changes(r.name, r.config) for r in rows],
            t("parameters"): [r.parameters for r in rows],
            t("last maps"): [f"{r.config.final_side}×{r.config.final_side}" for r in rows],
            t("field (px)"): [r.field for r in rows],
            t("validation"): [r.val_acc for r in rows],
            t("training"): [r.train_acc for r in rows],
            _kept_at(SHOWN_SHIFT): [float(r.robust["edge"][SHOWN_SHIFT]) for r in rows],
            _kept_at(MAX_SHIFT): [float(r.robust["edge"][MAX_SHIFT]) for r in rows],
            t("seconds"): [r.seconds for r in rows],
        }
    )


def _kept_at(shift: int) -> str:
    """Return the name of the column of predictions kept after a shift of that many pixels."""
    return t("kept at {shift} px", shift=shift)


def _formats() -> dict[str, str]:
    """Return the table's number formats: accuracies and shares in percent."""
    shares = (t("validation"), t("training"), _kept_at(SHOWN_SHIFT), _kept_at(MAX_SHIFT))
    return {t("parameters"): "localized", t("seconds"): "%.1f"} | dict.fromkeys(shares, "percent")


def _column_notes() -> str:
    """Return what the table's less obvious columns hold, in one line (the old column tooltips)."""
    notes = {
        t("learned"): t(
            "Validation accuracy clearly above chance: by more than {z} binomial standard "
            "errors of a uniform guesser's accuracy",
            z=f"{CHANCE_Z:g}",
        ),
        t("field (px)"): t(
            "Receptive field of the last conv/pool layer: the input square one unit sees"
        ),
        t("validation"): t("Accuracy on the held-out pictures"),
        t("training"): t("Accuracy on the last training batches"),
        f"{_kept_at(SHOWN_SHIFT)}, {_kept_at(MAX_SHIFT)}": t(
            "Edge shift: % of the shifted pictures whose predicted class did not change"
        ),
        t("seconds"): t("Training time"),
    }
    return " · ".join(f"**{name}**: {note}" for name, note in notes.items())


_THAN = {"same": N_("about the same as"), "above": N_("above"), "below": N_("below")}


def _than(a: float, b: float) -> str:
    """Return how share a compares with share b, in words chosen by engine.cnn.compare."""
    return t(_THAN[compare(a, b)])


def _than_picture(row: AblationRow) -> str:
    """Return how a variant's receptive field compares with its input picture, in words."""
    side = row.config.input_size
    if row.field > side:
        return t("wider than the {side}-px picture", side=side)
    if row.field == side:
        return t("as wide as the {side}-px picture", side=side)
    return t("within the {side}-px picture", side=side)


def _acc(row: AblationRow) -> str:
    return f"{row.val_acc:.1%}"


def _kept(row: AblationRow) -> str:
    return f"{row.robust['edge'][MAX_SHIFT]:.0%}"


def _stability(row: AblationRow, b: AblationRow, learned: dict[str, bool]) -> str:
    """Return how row's shift stability compares with the baseline's, or why it is not compared."""
    e = MAX_SHIFT
    if not learned[row.name]:
        return t(
            "it did not learn (its accuracy is within chance's margin), so its {kept} of "
            "predictions kept after an {e}-px shift says nothing: a network that gives (almost) "
            "the same answer to everything keeps it under any shift",
            kept=_kept(row),
            e=e,
        )
    if not learned[b.name]:
        return t("it keeps {kept} of its predictions after an {e}-px shift", kept=_kept(row), e=e)
    return t(
        "after an {e}-px shift it keeps {kept} of its predictions, {than} the baseline's {base}",
        e=e,
        kept=_kept(row),
        than=_than(row.robust["edge"][e], b.robust["edge"][e]),
        base=_kept(b),
    )


def _pooling_part(p: AblationRow, b: AblationRow, learned: dict[str, bool]) -> str:
    """Return the paragraph on what pooling buys, from the no-pooling and baseline rows."""
    return t(
        "**Pooling.** A 2×2 max pool reports the strongest response in each window, so a feature "
        "that moves inside the window changes nothing downstream; it also shrinks the maps, so "
        "later {k}×{k} filters see a wider area. The classifier here is a flatten followed by a "
        "linear layer, which gives every position its own weights: without pooling it reads "
        "{flat} numbers instead of {base_flat} ({weights} weights against {base_weights}), and a "
        "feature that moves lands on other weights. Measured: validation accuracy {acc} against "
        "the baseline's {base_acc}; {stability}.",
        k=b.config.kernel,
        flat=f"{p.config.flat_features:,}",
        base_flat=f"{b.config.flat_features:,}",
        weights=f"{p.parameters:,}",
        base_weights=f"{b.parameters:,}",
        acc=_acc(p),
        base_acc=_acc(b),
        stability=_stability(p, b, learned),
    )


def _relu_part(r: AblationRow, b: AblationRow, learned: dict[str, bool], k: int) -> str:
    """Return the paragraph on what ReLU buys, from the no-ReLU and baseline rows."""
    k_ = r.config.kernel
    text = t(
        "**ReLU.** Without it, a convolution after a convolution is just one bigger convolution "
        "(a {k}×{k} after a {k}×{k} is a single {both}×{both}), so depth adds nothing the first "
        "layer could not do alone. Only the max pools keep the network from being linear; with "
        "pooling off too, every logit would be a weighted sum of the pixels: a linear classifier "
        "that separates two classes by one flat cut through pixel space and cannot build “edge "
        "here *and* no fill inside” from its parts. Measured: {acc} against {base_acc} with ReLU "
        "(chance accuracy {chance}); {stability}.",
        k=k_,
        both=2 * k_ - 1,
        acc=_acc(r),
        base_acc=_acc(b),
        chance=f"{1 / k:.1%}",
        stability=_stability(r, b, learned),
    )
    if not fits_less(r.train_acc, b.train_acc):
        return text
    return text + t(
        " On its own training batches it scores only {train} (the baseline {base}): it is not "
        "memorising, it fits the training pictures less well too.",
        train=f"{r.train_acc:.1%}",
        base=f"{b.train_acc:.1%}",
    )


def depth_paragraph(
    one: AblationRow, four: AblationRow, b: AblationRow, learned: dict[str, bool]
) -> str:
    """Return the paragraph on what depth buys, from the 1-block, baseline and 4-block rows."""
    return t(
        "**Depth.** One block: its last units see {field}×{field} px and the classifier reads "
        "{flat} numbers; four blocks: {four_field}-px fields ({than}), {side}×{side} maps, "
        "{four_flat} numbers. Validation accuracy: 1 block {acc}, {blocks} blocks {base_acc}, 4 "
        "blocks {four_acc}; predictions kept after an {e}-px shift: {kept}, {base_kept}, "
        "{four_kept}. {trend}Each extra block lets a unit combine a wider part of the picture. "
        "Depth is not paid for in weights here: the classifier shrinks so much that the 4-block "
        "network has {four_weights} weights in all, the 1-block one {weights}.",
        field=one.field,
        flat=f"{one.config.flat_features:,}",
        four_field=four.field,
        than=_than_picture(four),
        side=four.config.final_side,
        four_flat=f"{four.config.flat_features:,}",
        acc=_acc(one),
        blocks=b.config.depth_blocks,
        base_acc=_acc(b),
        four_acc=_acc(four),
        e=MAX_SHIFT,
        kept=_kept(one),
        base_kept=_kept(b),
        four_kept=_kept(four),
        trend=_depth_trend((one, b, four), learned),
        four_weights=f"{four.parameters:,}",
        weights=f"{one.parameters:,}",
    )


_TREND = {
    "rises": N_(
        "Each extra pooling added tolerance to shifts here: the share kept rises with depth by "
        "more than {by} a step. "
    ),
    "falls": N_(
        "Pooling is meant to add tolerance to shifts, yet here the share kept falls with depth, "
        "by more than {by} a step. "
    ),
    None: N_(
        "Pooling is meant to add tolerance to shifts, but the share kept does not move one way "
        "with depth here (by more than {by} a step), so these runs do not show it. "
    ),
}


def _depth_trend(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> str:
    """Return whether shift tolerance grows with depth, when every depth learned, else ''."""
    if not all(learned[r.name] for r in rows):
        return ""  # a network at chance keeps its answers under any shift: nothing to compare
    claim = trend([float(r.robust["edge"][MAX_SHIFT]) for r in rows])
    return t(_TREND[claim], by=f"{TREND_BY:.0%}")


def _explain(rows: dict[str, AblationRow], k: int, learned: dict[str, bool]) -> None:
    """Draw one paragraph per ablation, each from its measured rows."""
    b = rows.get("baseline")
    if b is None:
        return
    parts = []
    if "no pooling" in rows:
        parts.append(_pooling_part(rows["no pooling"], b, learned))
    if "no ReLU" in rows:
        parts.append(_relu_part(rows["no ReLU"], b, learned, k))
    if "1 block" in rows and "4 blocks" in rows:
        parts.append(depth_paragraph(rows["1 block"], rows["4 blocks"], b, learned))
    st.markdown("\n\n".join(parts))


def _learned(rows: tuple[AblationRow, ...], k: int) -> dict[str, bool]:
    """Return, per variant, whether its validation accuracy is clearly above chance."""
    n = k * N_VAL_PER_CLASS
    return {r.name: above_chance(r.val_acc, n, k) for r in rows}


def _show(rows: tuple[AblationRow, ...], settings: AblationSettings) -> None:
    """Draw the table, the two charts and the computed findings of a finished set."""
    k = len(settings.classes)
    learned = _learned(rows, k)
    table(_table(rows, learned), csv_name="ablation-results", formats=_formats())
    st.caption(_column_notes())
    _table_caption(settings, k)
    _charts(rows, k)
    _chance_notice(rows, learned, k)
    st.markdown(_notice(rows, learned))
    _explain({r.name: r for r in rows}, k, learned)


def _table_caption(settings: AblationSettings, k: int) -> None:
    st.caption(
        t(
            "{steps} steps each, η = {lr}, seed {seed}, {k} classes. Validation and training: "
            "accuracy. “Kept”: share of {n} validation pictures ({per} per class) whose predicted "
            "class stays the same when the picture moves that far (mean of right, left, down and "
            "up; border pixels repeated).",
            steps=f"{settings.steps:,}",
            lr=f"{settings.lr:g}",
            seed=settings.seed,
            k=k,
            n=k * ROBUST_PER_CLASS,
            per=ROBUST_PER_CLASS,
        )
    )


def _charts(rows: tuple[AblationRow, ...], k: int) -> None:
    """Draw accuracy and stability bars, then the stability curves."""
    st.markdown(
        t(
            "Left: how often each variant is right on pictures it never saw. Right: how often its "
            "answer survives moving the picture {shift} px, with the picture wrapped around "
            "(circular) or its border pixels repeated into the gap (edge, no new edge appears).",
            shift=SHOWN_SHIFT,
        )
    )
    chart(
        tf.ablation_bars(
            [variant_name(r.name) for r in rows],
            [r.val_acc for r in rows],
            {m: [float(r.robust[m][SHOWN_SHIFT]) for r in rows] for m in ("circular", "edge")},
            shift=SHOWN_SHIFT,
            chance=1 / k,
        ),
        key="ct_abl_bars",
    )
    st.markdown(
        t(
            "The whole curve, from no shift (every prediction kept) to {shift} px:",
            shift=MAX_SHIFT,
        )
    )
    chart(
        tf.robustness_curves(
            np.arange(MAX_SHIFT + 1), {variant_name(r.name): r.robust for r in rows}
        ),
        key="ct_abl_curves",
    )


def _chance_notice(rows: tuple[AblationRow, ...], learned: dict[str, bool], k: int) -> None:
    """Warn about variants whose accuracy is within chance's margin (their stability is moot)."""
    idle = [r for r in rows if not learned[r.name]]
    if not idle:
        return
    n = k * N_VAL_PER_CLASS
    st.warning(
        t(
            "**Not learned:** {idle}. Chance is {chance} and a guesser on {n} validation pictures "
            "lands within ±{margin} of it, so these are no better than guessing. A network that "
            "gives (almost) the same answer to every picture keeps it under any shift: their "
            "“kept” shares are not compared below. More steps may help.",
            idle=t(", ").join(f"{variant_name(r.name)} ({r.val_acc:.1%})" for r in idle),
            chance=f"{1 / k:.1%}",
            n=f"{n:,}",
            margin=f"{chance_margin(n, k):.1%}",
        ),
        icon=":material/warning:",
    )


def _notice(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> str:
    """Return the "what to notice" of the set: most accurate, steadiest learner, border effect."""
    best = max(rows, key=lambda r: r.val_acc)
    kept = [float(r.robust["edge"][MAX_SHIFT]) for r in rows]
    steady = steadiest([r.name for r in rows], kept, [learned[r.name] for r in rows])
    gaps = [float(r.robust["circular"][MAX_SHIFT] - r.robust["edge"][MAX_SHIFT]) for r in rows]
    widest = max(gaps, key=abs)
    text = t(
        "**What to notice.** The most accurate variant is {best} ({acc}); ",
        best=variant_name(best.name),
        acc=f"{best.val_acc:.1%}",
    )
    if steady is None:
        text += t("none learned, so there is no stability to compare. ")
    else:
        share = kept[[r.name for r in rows].index(steady)]
        text += t(
            "of those that learned, the one whose answers move least under an {e}-px edge shift "
            "is {steady} ({share} kept). ",
            e=MAX_SHIFT,
            steady=variant_name(steady),
            share=f"{share:.0%}",
        )
    return text + _border_text(widest)


_BORDER = {  # border_effect's claim → the sentence on wrapping against repeating the border
    None: N_(
        "Wrapping the picture around (circular) instead of repeating its border (edge) changes "
        "the share kept at {e} px by at most {gap} here (within {same}): what changes the "
        "answers is the move itself, not the new border."
    ),
    "more": N_(
        "Wrapping the picture around (circular) instead of repeating its border (edge) changes "
        "the share kept at {e} px by at most {gap} here (more answers kept when wrapped)."
    ),
    "fewer": N_(
        "Wrapping the picture around (circular) instead of repeating its border (edge) changes "
        "the share kept at {e} px by at most {gap} here (fewer answers kept when wrapped)."
    ),
}


def _border_text(widest: float) -> str:
    """Return whether wrapping the picture rather than repeating its border changed answers."""
    return t(
        _BORDER[border_effect(widest)],
        e=MAX_SHIFT,
        gap=f"{abs(widest):.0%}",
        same=f"{BORDER_SAME:.0%}",
    )


def ablation_section(
    classes: tuple[str, ...], lr: float, seed: int, bf16: bool, store: DataStore
) -> None:
    """Draw the ablation controls, the progress of a run, and the results."""
    _intro()
    steps = linked(st.columns(3)[0].select_slider)(
        t("Steps per variant"), ABLATION_STEPS, DEFAULT_ABLATION_STEPS, key="ct_abl_steps"
    )
    problems = _problems(classes, lr)
    for p in problems:
        st.warning(p)
    if problems:
        return
    settings = AblationSettings(classes, steps, lr, seed, bf16)
    results = finished_sets()
    cached = results.get(settings)
    job = session_job(st.session_state, JOB_KEY)
    if cached is None:
        started = _offer_run(settings, store, results)
        job = started if started is not None else job
    if job is not None and (cached is None or not job.state().finished):
        state = show_progress(job, lambda s: None, key="ct_abl_panel")
        if cached is None:
            _show_finished(state, settings)
    if cached is not None:
        _show_cached(cached, settings, mine=job is not None)


def _intro() -> None:
    """Draw the section's title and what an ablation is."""
    base = CNNConfig()
    st.subheader(t("Ablations in one click"))
    st.markdown(
        t(
            "An ablation removes one part and measures what is lost. Here {n} networks train on "
            "the classes, learning rate and seed chosen above, all from the default architecture "
            "({blocks} blocks of {filters} filters, {k}×{k}) with one change each, on the same "
            "pictures for the same number of steps. Each is then tested for accuracy and for how "
            "stable its answers are when the picture moves.",
            n=len(ABLATIONS),
            blocks=base.depth_blocks,
            filters=base.filters,
            k=base.kernel,
        )
    )


def _problems(classes: tuple[str, ...], lr: float) -> list[str]:
    """Return why the ablations cannot run with these settings (empty if they can)."""
    problems = []
    if len(classes) < 2:
        problems.append(t("Choose at least two classes above to run the ablations."))
    if not lr > 0:
        problems.append(t("Set a learning rate above 0 above to run the ablations."))
    return problems


def _offer_run(settings: AblationSettings, store: DataStore, results: dict):
    """Draw the cost and the Run button; return the job it started, or None."""
    st.caption(
        t(
            "The {n} runs cost about {cost}× one baseline run of {steps} steps, plus the shift "
            "tests.",
            n=len(ABLATIONS),
            cost=f"{ablation_cost(settings.classes):.1f}",
            steps=f"{settings.steps:,}",
        )
    )
    if not st.button(
        t("Run the {n} ablations", n=len(ABLATIONS)), icon=":material/science:", key="ct_abl_run"
    ):
        return None
    work = ablation_work(settings, store, results, current_lang())
    job = start_job(st.session_state, JOB_KEY, "ablations", work)
    st.session_state["ct_abl_settings"] = settings
    return job


def _show_finished(state: JobState, settings: AblationSettings) -> None:
    """Draw this session's finished (or stopped) run, which may be for older settings."""
    ran = st.session_state.get("ct_abl_settings")
    if state.status == "stopped" and state.result == ():
        st.info(t("Stopped before the first variant finished: nothing to compare yet."))
    if not (state.finished and state.result):
        return
    if ran != settings:
        st.caption(t("These results are for the settings of your last run, not the current ones."))
    if len(state.result) < len(ABLATIONS):
        st.info(
            t(
                "Stopped: {done} of {n} variants finished.",
                done=len(state.result),
                n=len(ABLATIONS),
            )
        )
    _show(state.result, ran)


def _show_cached(rows: tuple[AblationRow, ...], settings: AblationSettings, mine: bool) -> None:
    """Draw a set finished on this server for these settings, saying whose it was."""
    mine = mine and st.session_state.get("ct_abl_settings") == settings
    st.caption(
        t("Your run, kept on this server: anyone choosing the same settings sees it at once.")
        if mine
        else t("Computed before on this server with these settings: shown at once.")
    )
    _show(rows, settings)
