"""The training page's "ablations in one click" section: what do pooling, ReLU and depth buy?

Five runs (engine.cnn.training.ABLATIONS) train as one background job; a finished set is kept
in a server-wide dict keyed on every setting, so the same settings show at once for anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from engine.cnn import ABLATIONS, CNNConfig
from ui.cnn import train_figures as tf
from ui.cnn.train_runs import (
    MAX_SHIFT,
    ROBUST_PER_CLASS,
    AblationRow,
    AblationSettings,
    DataStore,
    ablation_work,
    conv_macs,
    session_job,
)
from ui.jobs import show_progress, start_job

__all__ = ["ABLATION_STEPS", "DEFAULT_ABLATION_STEPS", "ablation_section"]

ABLATION_STEPS = [20, 50, 100, 200, 300, 500, 1000]
DEFAULT_ABLATION_STEPS = 300  # all five: ~95 s here (one torch thread, ten classes; measured)
JOB_KEY = "ct_ablation_job"
SHOWN_SHIFT = 4  # pixels, for the bar chart
CHANGES = {
    "baseline": "2 blocks, pooling, ReLU",
    "no pooling": "maps stay 64×64",
    "no ReLU": "only the max pool is nonlinear",
    "1 block": "one block, 32×32 maps",
    "4 blocks": "four blocks, 4×4 maps",
}


@st.cache_resource
def _results() -> dict:
    """Finished ablation sets, shared by all sessions: AblationSettings → rows."""
    return {}


def _table(rows: tuple[AblationRow, ...]) -> pd.DataFrame:
    """Return one row per variant; accuracies and shares in percent."""
    return pd.DataFrame(
        {
            "variant": [r.name for r in rows],
            "what changes": [CHANGES.get(r.name, "") for r in rows],
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


def _than(a: float, b: float, tol: float = 0.005) -> str:
    return "about the same as" if abs(a - b) < tol else "above" if a > b else "below"


def _explain(rows: dict[str, AblationRow], k: int) -> None:
    b = rows.get("baseline")
    if b is None:
        return
    e = MAX_SHIFT

    def acc(name: str) -> str:
        return f"{rows[name].val_acc:.1%}"

    def kept(name: str) -> str:
        return f"{rows[name].robust['edge'][e]:.0%}"

    parts = []
    if "no pooling" in rows:
        p = rows["no pooling"]
        parts.append(
            "**Pooling.** A 2×2 max pool reports the strongest response in each window, so a "
            "feature that moves inside the window changes nothing downstream; it also shrinks "
            "the maps, so later 3×3 filters see a wider area. The classifier here is a flatten "
            "followed by a linear layer, which gives every position its own weights: without "
            f"pooling it reads {p.config.flat_features:,} numbers instead of "
            f"{b.config.flat_features:,} ({p.parameters:,} weights against {b.parameters:,}), "
            f"and a feature that moves lands on other weights. Measured: validation accuracy "
            f"{acc('no pooling')} against the baseline's {acc('baseline')}; after an {e}-px "
            f"shift it keeps {kept('no pooling')} of its predictions, "
            f"{_than(p.robust['edge'][e], b.robust['edge'][e])} the baseline's {kept('baseline')}."
        )
    if "no ReLU" in rows:
        r = rows["no ReLU"]
        parts.append(
            "**ReLU.** Without it, a convolution after a convolution is just one bigger "
            "convolution (a 3×3 after a 3×3 is a single 5×5), so depth adds nothing the first "
            "layer could not do alone. Only the max pools keep the network from being linear; "
            "with pooling off too, every logit would be a weighted sum of the pixels: a linear "
            "classifier that separates two classes by one flat cut through pixel space and "
            "cannot build “edge here *and* no fill inside” from its parts. Measured: "
            f"{acc('no ReLU')} against {acc('baseline')} with ReLU, and it keeps "
            f"{kept('no ReLU')} of its predictions after an {e}-px shift "
            f"(chance accuracy {1 / k:.1%})."
            + (
                f" On its own training batches it scores only {r.train_acc:.1%} (the baseline "
                f"{b.train_acc:.1%}): it is not memorising, it fits the training pictures less "
                "well too."
                if r.train_acc < b.train_acc - 0.02
                else ""
            )
        )
    if "1 block" in rows and "4 blocks" in rows:
        one, four = rows["1 block"], rows["4 blocks"]
        parts.append(
            f"**Depth.** One block: its last units see {one.field}×{one.field} px and the "
            f"classifier reads {one.config.flat_features:,} numbers; four blocks: "
            f"{four.field}-px fields (wider than the 64-px picture), 4×4 maps, "
            f"{four.config.flat_features:,} numbers. Validation accuracy: 1 block "
            f"{acc('1 block')}, 2 blocks {acc('baseline')}, 4 blocks {acc('4 blocks')}; "
            f"predictions kept after an {e}-px shift: {kept('1 block')}, {kept('baseline')}, "
            f"{kept('4 blocks')}. Each extra pooling adds tolerance to shifts, and each extra "
            "block lets a unit combine a wider part of the picture. Depth is not paid for in "
            f"weights here: the classifier shrinks so much that the 4-block network has "
            f"{four.parameters:,} weights in all, the 1-block one {one.parameters:,}."
        )
    st.markdown("\n\n".join(parts))


def _show(rows: tuple[AblationRow, ...], settings: AblationSettings) -> None:
    k = len(settings.classes)
    n_probe = k * ROBUST_PER_CLASS
    st.dataframe(_table(rows), hide_index=True, key="ct_abl_table", column_config=_column_config())
    st.caption(
        f"{settings.steps:,} steps each, η = {settings.lr:g}, seed {settings.seed}, {k} classes. "
        f"Validation and training: accuracy. “Kept”: share of {n_probe} validation pictures "
        f"({ROBUST_PER_CLASS} per class) whose predicted class stays the same when the picture "
        "moves that far (mean of right, left, down and up; border pixels repeated)."
    )
    st.markdown(
        "Left: how often each variant is right on pictures it never saw. Right: how often its "
        f"answer survives moving the picture {SHOWN_SHIFT} px, with the picture wrapped around "
        "(circular) or its border pixels repeated into the gap (edge, no new edge appears)."
    )
    names = [r.name for r in rows]
    st.plotly_chart(
        tf.ablation_bars(
            names,
            [r.val_acc for r in rows],
            {m: [float(r.robust[m][SHOWN_SHIFT]) for r in rows] for m in ("circular", "edge")},
            shift=SHOWN_SHIFT,
            chance=1 / k,
        ),
        key="ct_abl_bars",
    )
    st.markdown("The whole curve, from no shift (every prediction kept) to 8 px:")
    st.plotly_chart(
        tf.robustness_curves(np.arange(MAX_SHIFT + 1), {r.name: r.robust for r in rows}),
        key="ct_abl_curves",
    )
    best = max(rows, key=lambda r: r.val_acc)
    steady = max(rows, key=lambda r: r.robust["edge"][MAX_SHIFT])
    gaps = [float(r.robust["circular"][MAX_SHIFT] - r.robust["edge"][MAX_SHIFT]) for r in rows]
    widest = max(gaps, key=abs)
    st.markdown(
        f"**What to notice.** The most accurate variant is {best.name} ({best.val_acc:.1%}); the "
        f"one whose answers move least under an {MAX_SHIFT}-px edge shift is {steady.name} "
        f"({steady.robust['edge'][MAX_SHIFT]:.0%} kept). Wrapping the picture around "
        f"(circular) instead of repeating its border (edge) changes the share kept at "
        f"{MAX_SHIFT} px by at most {abs(widest):.0%} "
        + (
            "here: what changes the answers is the move itself, not the new border."
            if abs(widest) < 0.05
            else f"here ({'more' if widest > 0 else 'fewer'} answers kept when wrapped)."
        )
    )
    _explain({r.name: r for r in rows}, k)


def ablation_section(
    classes: tuple[str, ...], lr: float, seed: int, bf16: bool, store: DataStore
) -> None:
    """Draw the ablation controls, the progress of a run, and the results."""
    st.subheader("Ablations in one click")
    st.markdown(
        "An ablation removes one part and measures what is lost. Five networks train on the "
        "classes, learning rate and seed chosen above, all from the default architecture (2 "
        "blocks of 10 filters, 3×3) with one change each, on the same pictures for the same "
        "number of steps. Each is then tested for accuracy and for how stable its answers are "
        "when the picture moves."
    )
    steps = st.columns(3)[0].select_slider(
        "Steps per variant", ABLATION_STEPS, DEFAULT_ABLATION_STEPS, key="ct_abl_steps"
    )
    problems = []
    if len(classes) < 2:
        problems.append("Choose at least two classes above to run the ablations.")
    if not lr > 0:
        problems.append("Set a learning rate above 0 above to run the ablations.")
    if problems:
        for p in problems:
            st.warning(p)
        return
    settings = AblationSettings(classes, steps, lr, seed, bf16)
    base = CNNConfig(classes=classes)
    cost = sum(
        conv_macs(CNNConfig(classes=classes, **change)) for change in ABLATIONS.values()
    ) / conv_macs(base)
    results = _results()
    cached = results.get(settings)
    job = session_job(st.session_state, JOB_KEY)
    if cached is None:
        st.caption(
            f"The five runs cost about {cost:.1f}× one baseline run of {steps:,} steps, "
            "plus the shift tests."
        )
        if st.button("Run the five ablations", icon=":material/science:", key="ct_abl_run"):
            job = start_job(
                st.session_state, JOB_KEY, "ablations", ablation_work(settings, store, results)
            )
            st.session_state["ct_abl_settings"] = settings
    if job is not None and (cached is None or not job.state().finished):
        state = show_progress(job, lambda s: None, key="ct_abl_panel")
        ran = st.session_state.get("ct_abl_settings")
        if cached is None and state.status == "stopped" and state.result == ():
            st.info("Stopped before the first variant finished: nothing to compare yet.")
        if cached is None and state.finished and state.result:
            if ran != settings:
                st.caption(
                    "These results are for the settings of your last run, not the current ones."
                )
            if len(state.result) < len(ABLATIONS):
                st.info(f"Stopped: {len(state.result)} of {len(ABLATIONS)} variants finished.")
            _show(state.result, ran)
    if cached is not None:
        mine = job is not None and st.session_state.get("ct_abl_settings") == settings
        st.caption(
            "Your run, kept on this server: anyone choosing the same settings sees it at once."
            if mine
            else "Computed before on this server with these settings: shown at once."
        )
        _show(cached, settings)
