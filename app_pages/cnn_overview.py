"""CNN · A trained CNN on your image: every layer, any unit's arithmetic, what made the decision."""

import streamlit as st

from engine.cnn import (
    CLASSES,
    SCAN_BUDGET,
    TOP_PATCHES,
    TOP_PATCHES_PER_CLASS,
    TOP_PATCHES_SEED,
    cam_is_blank,
    classic_likeness,
    colour_shift,
    evidence,
    familiarity,
    filter_images,
    first_layer_filters,
    loudest_layer,
    runner_up,
    scan_per_class,
)
from engine.core import ExplorerError
from ui.cnn import detail_figures as details
from ui.cnn import formula_view as unit_view
from ui.cnn import overview_figures as cnn_figures
from ui.cnn import overview_inputs as cnn_page
from ui.cnn.overview_inputs import ensure_choice
from ui.sections import lazy_section

SPATIAL = ("conv", "relu", "pool")

st.title("A trained CNN on your image")
st.markdown(
    f"A small VGG-style network, trained here on {len(CLASSES)} kinds of drawn shapes and "
    "textures, looks at a picture. Below: **everything it computes** on the way to its answer, "
    "the arithmetic of **any single unit**, **which pixels** decided, and **what its filters "
    "learned**."
)

chosen = cnn_page.choose_model()
model, cfg = chosen.model, chosen.model.config
st.info(cnn_page.describe(chosen), icon=":material/neurology:")
picture = cnn_page.choose_input(model)
run = cnn_page.forward(chosen, picture)
classes, probs, best = run.classes, run.probs, run.best

# The unit on show goes back to the strongest one when the model or the picture changes.
if st.session_state.get("tc_context") != (chosen.key, picture.key):
    st.session_state["tc_context"] = (chosen.key, picture.key)
    for stale in ("tc_row", "tc_col", "tc_side", "tc_out_class", "tc_unit", "tc_explain"):
        st.session_state.pop(stale, None)

# --- 1 · the overview
st.header("1 · The whole network on this picture")
second = runner_up(probs)
m1, m2, m3 = st.columns(3)
m1.metric("Predicted class", classes[best])
m2.metric("Its probability", f"{probs[best]:.2%}")
m3.metric(f"Runner-up: {classes[second]}", f"{probs[second]:.2%}")
drawings = cnn_page.drawings_of(tuple(classes), cfg.input_size)
if drawings is not None:
    seen = familiarity(picture.x, drawings)
    cnn_page.show_familiarity(seen, drawings, classes[best], probs[best], len(classes))
st.markdown(
    "Left to right, every step of the forward pass: the picture, each layer's feature maps (one "
    "small map per filter, stacked in a column), the flattened vector and the class "
    "probabilities. Red/blue maps are signed (a convolution's output: blue below zero); "
    "black-to-yellow maps are never negative (after a ReLU or a max pool). "
    "**Click a map** (or a class bar) to open its arithmetic in section 2."
)
shared = st.toggle(
    "One colour scale for every layer",
    key="tc_shared",
    help="Off: each layer is scaled to its own largest value, so every map is readable. "
    "On: all layers share one magnitude, so you can see activations grow or fade with depth.",
)


def _open_clicked(chart_key: str):
    """Return an on_select callback that opens the clicked map (or class bar) in section 2."""

    def _on_select() -> None:
        points = ((st.session_state.get(chart_key) or {}).get("selection") or {}).get("points")
        data = (points or [{}])[0].get("customdata")  # (column index, channel or class)
        if isinstance(data, dict):  # a row of a typed array arrives as {"0": …, "1": …}
            data = [data[str(i)] for i in range(len(data))]
        if data:
            name, unit = columns[int(data[0])].name, int(data[1])
            if name == "softmax":
                st.session_state.update(tc_layer="softmax", tc_out_class=unit)
            else:
                st.session_state.update(tc_layer=name, tc_channel=unit)

    return _on_select


columns = [cnn_figures.Column("input", "input", picture.rgb)]
columns += [
    cnn_figures.Column(n, run.kinds[n], run.arrays[n]) for n in run.names if run.kinds[n] in SPATIAL
]
columns += [
    cnn_figures.Column("flatten", "flatten", run.arrays["flatten"]),
    cnn_figures.Column("softmax", "softmax", probs, tuple(classes)),
]
for i, fig in enumerate(cnn_figures.overview_figures(columns, shared=shared)):
    st.plotly_chart(
        fig,
        key=f"tc_overview_{i}",
        on_select=_open_clicked(f"tc_overview_{i}"),
        selection_mode="points",
    )
loudest, loudest_value = loudest_layer({c.name: c.data for c in columns if c.kind in SPATIAL})
shrunk = any(cnn_figures.shrink_factor(c.data.shape) > 1 for c in columns if c.kind in SPATIAL)
size_note = (
    f"the maps shrink from {cfg.input_size} to {cfg.final_side} px"
    if cfg.pool
    else f"without pooling the maps stay {cfg.input_size} px"
)
st.caption(
    f"What to notice: {size_note} while their patterns get more specific to the shapes; the "
    f"largest magnitude is in {loudest} ({loudest_value:.2f}), and {cfg.flat_features:,} "
    "numbers reach the classifier."
    + (
        " Layers with many large maps are drawn block-averaged (1:f after their name); section 2 "
        "shows any map at full resolution."
        if shrunk
        else ""
    )
)

# --- 2 · one unit
st.header("2 · Click any unit: its arithmetic")
unit_view.show_unit_section(run)

# --- 3 · attribution
st.header("3 · What made the decision")


@st.fragment
def attribution_section() -> None:
    """Draw the three attribution maps of the chosen class and their sums; the class picker
    reruns only this section."""
    ensure_choice("tc_explain", list(range(len(classes))), best)
    target = st.selectbox(
        "Explain the score of",
        range(len(classes)),
        key="tc_explain",
        format_func=lambda i: classes[i] + (" (predicted)" if i == best else ""),
    )
    sal, cam, hires = cnn_page.attributions(chosen.key, picture.key, target, model, picture.x)
    _attribution_maps(target, sal, cam, hires)
    ev = _hirescam_sum(target, hires)
    _grad_cam(target, cam, ev)


def _attribution_maps(target: int, sal, cam, hires) -> None:
    """Draw saliency, HiResCAM and Grad-CAM over the picture, with the first two's formulas."""
    st.markdown(
        "Three answers to “which part of the picture made this score?”: the gradient at every "
        f"pixel (saliency), and two maps of the last feature maps ({model.cam_layer}) — HiResCAM "
        "and Grad-CAM — drawn over the picture."
    )
    lit = st.toggle(
        "Saliency lighting the image", key="tc_lit", help="Dim the pixels that matter least."
    )
    st.plotly_chart(
        cnn_figures.attribution_figure(picture.rgb, sal, cam, hires, classes[target], lit=lit),
        key="tc_attr",
    )
    left, right = st.columns(2)
    with left:
        _saliency_text(target, sal)
    with right:
        st.markdown(
            "**HiResCAM** (Draelos & Carin, 2020) multiplies each map A_c of the last conv layer "
            f"({model.cam_layer}) by its gradient position by position and adds over the "
            f"channels — no averaging, no ReLU. Red is evidence *for* “{classes[target]}”, blue "
            "evidence *against* it, in units of its logit."
        )
        st.latex(
            r"L(i,j) = \sum_c \frac{\partial z_k}{\partial A_c(i,j)}\,A_c(i,j),\qquad "
            r"\sum_{i,j} L(i,j) = z_k - b_k"
        )


def _saliency_text(target: int, sal) -> None:
    """Write what saliency is, its formula, and what this picture's saliency says."""
    st.markdown(
        "**Saliency** (Simonyan et al., 2014): how much the class score z would change if one "
        "pixel changed a little — the gradient, one backward pass to the input. Bright pixels "
        "are those the score is most sensitive to, whether they push it up or down."
    )
    st.latex(
        r"S(i,j) = \max_{c \in \{R,G,B\}} "
        r"\left|\frac{\partial z_k}{\partial x_{c,i,j}}\right|"
    )
    if float(sal.max()) == 0:
        st.info(
            "The gradient is exactly zero at every pixel: no small change of this picture "
            f"moves the score of “{classes[target]}” (every path to it is switched off)."
        )
    elif not cfg.relu and not cfg.pool:
        st.caption(
            "This model has neither ReLU nor pooling, so it is linear: its saliency is "
            "the same map for every picture (the weights decide it, not the picture)."
        )


def _hirescam_sum(target: int, hires):
    """Show that the HiResCAM map adds up to the logit minus its bias; return its evidence."""
    st.subheader("HiResCAM is exact here: the map adds up to the score")
    logit = float(run.arrays["logits"][target])
    bias = float(model.fc.bias[target])
    ev = evidence(hires)
    total = ev.total
    st.markdown(
        f"After {model.cam_layer} come only "
        + ("max pooling, " if cfg.pool else "")
        + "flattening and the linear layer, which are piecewise linear and scale with their input "
        "(f(λA) = λ f(A) for λ > 0), so by Euler's theorem the map adds up to the logit minus "
        "its bias — every bit of the score is placed somewhere."
    )
    h1, h2, h3 = st.columns(3)
    h1.metric("Σ L(i, j), the whole map", f"{total:.4f}")
    h2.metric(
        f"logit − bias of “{classes[target]}”",
        f"{logit - bias:.4f}",
        help=(f"z = {logit:.4f}, b = {bias:.4f}: the network's logit and its classifier bias."),
    )
    h3.metric("Difference", f"{abs(total - (logit - bias)):.1e}")
    st.caption(
        f"**What to notice.** The evidence for “{classes[target]}” adds up to {ev.for_:+.3f} and "
        f"the evidence against to {ev.against:+.3f}: net {ev.total:+.3f}. The strongest position "
        f"is unit {ev.strongest} of {model.cam_layer} ({ev.strongest_value:+.3f}). Pick a class "
        "the network did *not* predict to see the evidence against it."
    )
    return ev


def _grad_cam(target: int, cam, ev) -> None:
    """Explain Grad-CAM, say what its map shows here, and offer the per-channel evidence."""
    st.subheader("Grad-CAM: one weight per map")
    st.markdown(
        f"**Grad-CAM** (Selvaraju et al., 2017) weighs each map A_c of {model.cam_layer} by the "
        "*average* of its gradients, adds them and keeps the positive part. The linear layer gives "
        "every position its own weight, so positive weights in one place and negative ones "
        "elsewhere average out: α_c can be near zero or negative for a map that matters."
    )
    st.latex(
        r"\alpha_c = \frac{1}{hw}\sum_{i,j}\frac{\partial z_k}{\partial A_c(i,j)},\quad "
        r"L = \frac{\mathrm{ReLU}\left(\sum_c \alpha_c A_c\right)}{\max}"
    )
    st.markdown(
        cnn_page.grad_cam_notice(cam_is_blank(cam), cam, ev, classes[target], model.cam_layer)
    )
    if st.button(
        f"The same products per channel: the evidence maps of “{classes[target]}” in section 2",
        on_click=unit_view.follow,
        args=("logits", target),
        key="tc_cam_follow",
    ):
        st.rerun()  # section 2 lies outside this fragment: the whole page shows the new unit


attribution_section()


# --- 4 · top activating patches
def patches_section() -> None:
    """Draw the chosen filter's strongest patches over a fixed held-out set, and their sources."""
    spatial = [n for n in run.names if run.kinds[n] in SPATIAL]
    ensure_choice("tc_top_layer", spatial, model.cam_layer)
    ensure_choice("tc_top_channel", list(range(cfg.filters)), 0)
    t1, t2, t3 = st.columns([2, 1, 1])
    top_layer = t1.selectbox("Layer", spatial, key="tc_top_layer", format_func=run.label)
    top_channel = t2.number_input("Filter", 0, cfg.filters - 1, key="tc_top_channel")
    in_context = t3.toggle("Show them in their pictures", key="tc_top_context")
    if not all(c in CLASSES for c in classes):
        st.info("This model's classes are not the drawn ones, so there is no example set to scan.")
        return
    _patches(top_layer, int(top_channel), in_context)


def _patches(top_layer: str, top_channel: int, in_context: bool) -> None:
    """Draw the strongest patches of one filter and where they come from."""
    per_class = scan_per_class(cfg, top_layer)
    k_top = min(TOP_PATCHES, per_class * len(classes))
    pics, values, positions, sources = cnn_page.top_patches(
        chosen.key, top_layer, top_channel, k_top, per_class, model
    )
    r, jump, start = model.receptive_fields()[top_layer]
    st.markdown(
        f"Every picture of a fixed set ({per_class} per class, {per_class * len(classes)} in all, "
        f"drawn with seed {TOP_PATCHES_SEED}, never used in training) goes through the "
        f"network and gives its strongest unit of filter {top_channel} in {top_layer}. The "
        f"{k_top} strongest are shown as the {r}×{r} input patch that unit sees (its receptive "
        "field)."
    )
    if per_class < TOP_PATCHES_PER_CLASS:
        st.caption(
            f"This model is large, so the scan uses only {per_class} "
            f"picture{'s' * (per_class > 1)} per class (of {TOP_PATCHES_PER_CLASS}), to stay "
            f"within {SCAN_BUDGET:,.0f} multiply-adds."
        )
    if in_context:
        images, _ = cnn_page.held_out_images(tuple(classes), cfg.input_size, per_class)
        pics = details.outlined_sources(images, positions, r, jump, start)
    titles = [f"{v:.2f} · {s}" for v, s in zip(values, sources, strict=True)]
    st.plotly_chart(details.picture_tiles(pics, titles, cols=6), key="tc_top")
    counts = {c: sources.count(c) for c in dict.fromkeys(sources)}
    summary = ", ".join(f"{c} ×{n}" for c, n in sorted(counts.items(), key=lambda t: -t[1]))
    st.caption(
        f"Where the top {k_top} come from: {summary}. Titles: the unit's value · the picture's "
        "class; black borders are where a field overhangs the picture. Early layers answer to "
        "small edges and colours anywhere, deep layers to parts of particular shapes."
    )


# --- 5 · first-layer filters
def filters_section() -> None:
    """Draw the first layer's filters, hand-made kernels of the same size and how alike they are."""
    training = chosen.card.get("training") if isinstance(chosen.card.get("training"), dict) else {}
    pictures = details.as_uint8(filter_images(first_layer_filters(model)).numpy())
    filter_names = [f"filter {i}" for i in range(len(pictures))]
    sheet_cols = 10 if cfg.filters <= 10 else 16
    sheet_titles = filter_names if cfg.filters <= 10 else [str(i) for i in range(cfg.filters)]
    st.markdown(
        f"Each of the {cfg.filters} first-layer filters is a {cfg.kernel}×{cfg.kernel}×3 block of "
        "weights, drawn as a colour picture: grey is weight 0, bright means positive, dark "
        "negative, and a colour tint means the filter weighs that colour channel more."
    )
    st.plotly_chart(
        details.picture_tiles(pictures, sheet_titles, cols=sheet_cols), key="tc_filters"
    )
    try:
        comparison = cnn_page.filter_comparison(chosen.key, int(training.get("seed", 0)), model)
    except ExplorerError as err:
        st.info(f"{err} With 1×1 kernels each filter only mixes the three colours of one pixel.")
        return
    _kernel_sheets(comparison, filter_names, sheet_titles, sheet_cols)
    _likeness(comparison)


def _kernel_sheets(comparison, filter_names, sheet_titles, sheet_cols: int) -> None:
    """Draw the grey filters, the hand-made kernels and their similarity matrix."""
    st.markdown("The same filters averaged over their three colours (what is compared below):")
    st.plotly_chart(
        details.kernel_tiles(comparison.grey.numpy(), sheet_titles, cols=sheet_cols),
        key="tc_filters_grey",
    )
    st.markdown("Classic hand-made kernels of the same size (engine/conv/kernel_bank.py):")
    st.plotly_chart(
        details.kernel_tiles(comparison.kernels.numpy(), comparison.names, cols=10),
        key="tc_handmade",
    )
    st.markdown(
        "How alike are they? For each learned filter averaged over colour, the absolute cosine "
        "similarity with each hand-made kernel (1: the same pattern up to scale and sign; each "
        "filter's best match is outlined):"
    )
    st.latex(r"\text{sim}(a, b) = \frac{|\langle a, b\rangle|}{\lVert a\rVert\,\lVert b\rVert}")
    st.plotly_chart(
        details.similarity_figure(comparison.similarity.numpy(), filter_names, comparison.names),
        key="tc_similarity",
    )


def _likeness(comparison) -> None:
    """Show how much the filters resemble the hand-made kernels, trained against untrained."""
    now, before = comparison.median_best, comparison.median_start_best
    colour_now = float(comparison.colour.mean())
    colour_start = float(comparison.start_colour.mean())
    c1, c2, c3 = st.columns(3)
    # an arrow only where the summary below names a change: "+0.00" is no change
    c1.metric(
        "Median best match, trained",
        f"{now:.2f}",
        f"{now - before:+.2f} vs before training" if classic_likeness(before, now) else None,
    )
    c2.metric("Median best match, before training", f"{before:.2f}")
    c3.metric(
        "Weight in colour differences",
        f"{colour_now:.0%}",
        f"{100 * (colour_now - colour_start):+.0f} points vs before training"
        if colour_shift(colour_start, colour_now)
        else None,
        delta_color="off",
    )
    st.markdown(cnn_page.training_summary(comparison))
    st.caption(
        f"Random {cfg.kernel}×{cfg.kernel} patterns already resemble some kernel of a bank of "
        f"{len(comparison.names)} by chance, which is why the same numbers are shown for the "
        "untrained filters: only the difference is training's work."
    )


st.header("4 · What the filters learned")
lazy_section(
    "What excites a filter: its strongest patches among held-out pictures",
    "open_tc_patches",
    patches_section,
    icon=":material/grid_view:",
)
lazy_section(
    "The first layer's filters next to hand-made edge detectors, and how alike they are",
    "open_tc_filters",
    filters_section,
    icon=":material/filter_alt:",
)
