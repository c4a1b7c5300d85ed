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
from ui.cnn import train_figures as tf
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
from ui.jobs import JobState, show_progress, start_job

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
    maps = f"{c.final_side}×{c.final_side} maps"
    blocks = f"{c.depth_blocks} block{'s' * (c.depth_blocks != 1)}"
    return {
        "baseline": f"{blocks}, pooling, ReLU",
        "no pooling": f"maps stay {c.final_side}×{c.final_side}",
        "no ReLU": "only the max pool is nonlinear",
        "1 block": f"{blocks}, {maps}",
        "4 blocks": f"{blocks}, {maps}",
    }.get(name, "")


@st.cache_resource
def finished_sets() -> dict:
    """Finished ablation sets, shared by all sessions: AblationSettings → rows."""
    return {}


def _table(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> pd.DataFrame:
    """Return one row per variant; accuracies and shares in percent."""
    return pd.DataFrame(
        {
            "variant": [r.name for r in rows],
            "learned": [learned[r.name] for r in rows],
            "what changes": [_what_changes(r.name, r.config) for r in rows],
            "parameters": [r.parameters for r in rows],
            "last maps": [f"{r.config.final_side}×{r.config.final_side}" for r in rows],
            "field (px)": [r.field for r in rows],
            "validation": [100 * r.val_acc for r in rows],
            "training": [100 * r.train_acc for r in rows],
            f"kept at {SHOWN_SHIFT} px": [100 * float(r.robust["edge"][SHOWN_SHIFT]) for r in rows],
            f"kept at {MAX_SHIFT} px": [100 * float(r.robust["edge"][MAX_SHIFT]) for r in rows],
            "seconds": [r.seconds for r in rows],
        }
    )


def _column_config() -> dict:
    kept = "Edge shift: % of the shifted pictures whose predicted class did not change"
    pct = "%.1f%%"
    return {
        "parameters": st.column_config.NumberColumn(format="localized"),
        "learned": st.column_config.CheckboxColumn(
            help=f"Validation accuracy clearly above chance: by more than {CHANCE_Z:g} binomial "
            "standard errors of a uniform guesser's accuracy"
        ),
        "field (px)": st.column_config.NumberColumn(
            help="Receptive field of the last conv/pool layer: the input square one unit sees"
        ),
        "validation": st.column_config.NumberColumn(
            "validation", format=pct, help="Accuracy on the held-out pictures"
        ),
        "training": st.column_config.NumberColumn(
            "training", format=pct, help="Accuracy on the last training batches"
        ),
        f"kept at {SHOWN_SHIFT} px": st.column_config.NumberColumn(format=pct, help=kept),
        f"kept at {MAX_SHIFT} px": st.column_config.NumberColumn(format=pct, help=kept),
        "seconds": st.column_config.NumberColumn(format="%.1f", help="Training time"),
    }


_THAN = {"same": "about the same as", "above": "above", "below": "below"}


def _than(a: float, b: float) -> str:
    """Return how share a compares with share b, in words chosen by engine.cnn.compare."""
    return _THAN[compare(a, b)]


def _than_picture(row: AblationRow) -> str:
    """Return how a variant's receptive field compares with its input picture, in words."""
    side = row.config.input_size
    word = "wider than" if row.field > side else "as wide as" if row.field == side else "within"
    return f"{word} the {side}-px picture"


def _acc(row: AblationRow) -> str:
    return f"{row.val_acc:.1%}"


def _kept(row: AblationRow) -> str:
    return f"{row.robust['edge'][MAX_SHIFT]:.0%}"


def _stability(row: AblationRow, b: AblationRow, learned: dict[str, bool]) -> str:
    """Return how row's shift stability compares with the baseline's, or why it is not compared."""
    e = MAX_SHIFT
    if not learned[row.name]:
        return (
            f"it did not learn (its accuracy is within chance's margin), so its "
            f"{_kept(row)} of predictions kept after an {e}-px shift says nothing: a network "
            "that gives (almost) the same answer to everything keeps it under any shift"
        )
    if not learned[b.name]:
        return f"it keeps {_kept(row)} of its predictions after an {e}-px shift"
    return (
        f"after an {e}-px shift it keeps {_kept(row)} of its predictions, "
        f"{_than(row.robust['edge'][e], b.robust['edge'][e])} the baseline's {_kept(b)}"
    )


def _pooling_part(p: AblationRow, b: AblationRow, learned: dict[str, bool]) -> str:
    """Return the paragraph on what pooling buys, from the no-pooling and baseline rows."""
    return (
        "**Pooling.** A 2×2 max pool reports the strongest response in each window, so a "
        "feature that moves inside the window changes nothing downstream; it also shrinks "
        f"the maps, so later {b.config.kernel}×{b.config.kernel} filters see a wider area. "
        "The classifier here is a flatten followed by a linear layer, which gives every "
        f"position its own weights: without pooling it reads {p.config.flat_features:,} numbers "
        f"instead of {b.config.flat_features:,} ({p.parameters:,} weights against "
        f"{b.parameters:,}), and a feature that moves lands on other weights. Measured: "
        f"validation accuracy {_acc(p)} against the baseline's {_acc(b)}; "
        f"{_stability(p, b, learned)}."
    )


def _relu_part(r: AblationRow, b: AblationRow, learned: dict[str, bool], k: int) -> str:
    """Return the paragraph on what ReLU buys, from the no-ReLU and baseline rows."""
    k_ = r.config.kernel
    return (
        "**ReLU.** Without it, a convolution after a convolution is just one bigger "
        f"convolution (a {k_}×{k_} after a {k_}×{k_} is a single {2 * k_ - 1}×{2 * k_ - 1}), "
        "so depth adds nothing the first layer could not do alone. Only the max pools keep the "
        "network from being linear; with pooling off too, every logit would be a weighted sum "
        "of the pixels: a linear classifier that separates two classes by one flat cut through "
        "pixel space and cannot build “edge here *and* no fill inside” from its parts. "
        f"Measured: {_acc(r)} against {_acc(b)} with ReLU (chance accuracy {1 / k:.1%}); "
        f"{_stability(r, b, learned)}."
        + (
            f" On its own training batches it scores only {r.train_acc:.1%} (the baseline "
            f"{b.train_acc:.1%}): it is not memorising, it fits the training pictures less "
            "well too."
            if fits_less(r.train_acc, b.train_acc)
            else ""
        )
    )


def depth_paragraph(
    one: AblationRow, four: AblationRow, b: AblationRow, learned: dict[str, bool]
) -> str:
    """Return the paragraph on what depth buys, from the 1-block, baseline and 4-block rows."""
    return (
        f"**Depth.** One block: its last units see {one.field}×{one.field} px and the "
        f"classifier reads {one.config.flat_features:,} numbers; four blocks: "
        f"{four.field}-px fields ({_than_picture(four)}), "
        f"{four.config.final_side}×{four.config.final_side} maps, "
        f"{four.config.flat_features:,} numbers. Validation accuracy: 1 block {_acc(one)}, "
        f"{b.config.depth_blocks} blocks {_acc(b)}, 4 blocks {_acc(four)}; predictions kept "
        f"after an {MAX_SHIFT}-px shift: {_kept(one)}, {_kept(b)}, {_kept(four)}. "
        + _depth_trend((one, b, four), learned)
        + "Each extra block lets a unit combine a wider part of the picture. Depth is not paid "
        "for in weights here: the classifier shrinks so much that the 4-block network has "
        f"{four.parameters:,} weights in all, the 1-block one {one.parameters:,}."
    )


_TREND = {
    "rises": "Each extra pooling added tolerance to shifts here: the share kept rises with "
    "depth by more than {by:.0%} a step. ",
    "falls": "Pooling is meant to add tolerance to shifts, yet here the share kept falls with "
    "depth, by more than {by:.0%} a step. ",
    None: "Pooling is meant to add tolerance to shifts, but the share kept does not move one way "
    "with depth here (by more than {by:.0%} a step), so these runs do not show it. ",
}


def _depth_trend(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> str:
    """Return whether shift tolerance grows with depth, when every depth learned, else ''."""
    if not all(learned[r.name] for r in rows):
        return ""  # a network at chance keeps its answers under any shift: nothing to compare
    return _TREND[trend([float(r.robust["edge"][MAX_SHIFT]) for r in rows])].format(by=TREND_BY)


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
    st.dataframe(
        _table(rows, learned), hide_index=True, key="ct_abl_table", column_config=_column_config()
    )
    _table_caption(settings, k)
    _charts(rows, k)
    _chance_notice(rows, learned, k)
    st.markdown(_notice(rows, learned))
    _explain({r.name: r for r in rows}, k, learned)


def _table_caption(settings: AblationSettings, k: int) -> None:
    st.caption(
        f"{settings.steps:,} steps each, η = {settings.lr:g}, seed {settings.seed}, {k} classes. "
        f"Validation and training: accuracy. “Kept”: share of {k * ROBUST_PER_CLASS} validation "
        f"pictures ({ROBUST_PER_CLASS} per class) whose predicted class stays the same when the "
        "picture moves that far (mean of right, left, down and up; border pixels repeated)."
    )


def _charts(rows: tuple[AblationRow, ...], k: int) -> None:
    """Draw accuracy and stability bars, then the stability curves."""
    st.markdown(
        "Left: how often each variant is right on pictures it never saw. Right: how often its "
        f"answer survives moving the picture {SHOWN_SHIFT} px, with the picture wrapped around "
        "(circular) or its border pixels repeated into the gap (edge, no new edge appears)."
    )
    st.plotly_chart(
        tf.ablation_bars(
            [r.name for r in rows],
            [r.val_acc for r in rows],
            {m: [float(r.robust[m][SHOWN_SHIFT]) for r in rows] for m in ("circular", "edge")},
            shift=SHOWN_SHIFT,
            chance=1 / k,
        ),
        key="ct_abl_bars",
    )
    st.markdown(f"The whole curve, from no shift (every prediction kept) to {MAX_SHIFT} px:")
    st.plotly_chart(
        tf.robustness_curves(np.arange(MAX_SHIFT + 1), {r.name: r.robust for r in rows}),
        key="ct_abl_curves",
    )


def _chance_notice(rows: tuple[AblationRow, ...], learned: dict[str, bool], k: int) -> None:
    """Warn about variants whose accuracy is within chance's margin (their stability is moot)."""
    idle = [r for r in rows if not learned[r.name]]
    if not idle:
        return
    n = k * N_VAL_PER_CLASS
    st.warning(
        "**Not learned:** "
        + ", ".join(f"{r.name} ({r.val_acc:.1%})" for r in idle)
        + f". Chance is {1 / k:.1%} and a guesser on {n:,} validation pictures lands within "
        f"±{chance_margin(n, k):.1%} of it, so these are no better than guessing. A network that "
        "gives (almost) the same answer to every picture keeps it under any shift: their "
        "“kept” shares are not compared below. More steps may help.",
        icon=":material/warning:",
    )


def _notice(rows: tuple[AblationRow, ...], learned: dict[str, bool]) -> str:
    """Return the "what to notice" of the set: most accurate, steadiest learner, border effect."""
    best = max(rows, key=lambda r: r.val_acc)
    kept = [float(r.robust["edge"][MAX_SHIFT]) for r in rows]
    steady = steadiest([r.name for r in rows], kept, [learned[r.name] for r in rows])
    gaps = [float(r.robust["circular"][MAX_SHIFT] - r.robust["edge"][MAX_SHIFT]) for r in rows]
    widest = max(gaps, key=abs)
    text = f"**What to notice.** The most accurate variant is {best.name} ({best.val_acc:.1%}); "
    if steady is None:
        text += "none learned, so there is no stability to compare. "
    else:
        share = kept[[r.name for r in rows].index(steady)]
        text += (
            f"of those that learned, the one whose answers move least under an {MAX_SHIFT}-px "
            f"edge shift is {steady} ({share:.0%} kept). "
        )
    effect = border_effect(widest)
    return text + (
        f"Wrapping the picture around (circular) instead of repeating its border (edge) changes "
        f"the share kept at {MAX_SHIFT} px by at most {abs(widest):.0%} "
        + (
            f"here (within {BORDER_SAME:.0%}): what changes the answers is the move itself, "
            "not the new border."
            if effect is None
            else f"here ({effect} answers kept when wrapped)."
        )
    )


def ablation_section(
    classes: tuple[str, ...], lr: float, seed: int, bf16: bool, store: DataStore
) -> None:
    """Draw the ablation controls, the progress of a run, and the results."""
    _intro()
    steps = st.columns(3)[0].select_slider(
        "Steps per variant", ABLATION_STEPS, DEFAULT_ABLATION_STEPS, key="ct_abl_steps"
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
    st.subheader("Ablations in one click")
    st.markdown(
        "An ablation removes one part and measures what is lost. Here "
        f"{len(ABLATIONS)} networks train on the classes, learning rate and seed chosen above, "
        "all from the default "
        f"architecture ({base.depth_blocks} blocks of {base.filters} filters, "
        f"{base.kernel}×{base.kernel}) with one change each, on the same pictures for the same "
        "number of steps. Each is then tested for accuracy and for how stable its answers are "
        "when the picture moves."
    )


def _problems(classes: tuple[str, ...], lr: float) -> list[str]:
    """Return why the ablations cannot run with these settings (empty if they can)."""
    problems = []
    if len(classes) < 2:
        problems.append("Choose at least two classes above to run the ablations.")
    if not lr > 0:
        problems.append("Set a learning rate above 0 above to run the ablations.")
    return problems


def _offer_run(settings: AblationSettings, store: DataStore, results: dict):
    """Draw the cost and the Run button; return the job it started, or None."""
    st.caption(
        f"The {len(ABLATIONS)} runs cost about {ablation_cost(settings.classes):.1f}× one "
        f"baseline run of {settings.steps:,} steps, plus the shift tests."
    )
    if not st.button(
        f"Run the {len(ABLATIONS)} ablations", icon=":material/science:", key="ct_abl_run"
    ):
        return None
    job = start_job(st.session_state, JOB_KEY, "ablations", ablation_work(settings, store, results))
    st.session_state["ct_abl_settings"] = settings
    return job


def _show_finished(state: JobState, settings: AblationSettings) -> None:
    """Draw this session's finished (or stopped) run, which may be for older settings."""
    ran = st.session_state.get("ct_abl_settings")
    if state.status == "stopped" and state.result == ():
        st.info("Stopped before the first variant finished: nothing to compare yet.")
    if not (state.finished and state.result):
        return
    if ran != settings:
        st.caption("These results are for the settings of your last run, not the current ones.")
    if len(state.result) < len(ABLATIONS):
        st.info(f"Stopped: {len(state.result)} of {len(ABLATIONS)} variants finished.")
    _show(state.result, ran)


def _show_cached(rows: tuple[AblationRow, ...], settings: AblationSettings, mine: bool) -> None:
    """Draw a set finished on this server for these settings, saying whose it was."""
    mine = mine and st.session_state.get("ct_abl_settings") == settings
    st.caption(
        "Your run, kept on this server: anyone choosing the same settings sees it at once."
        if mine
        else "Computed before on this server with these settings: shown at once."
    )
    _show(rows, settings)
