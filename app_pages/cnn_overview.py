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
from ui.chart import chart
from ui.cnn import detail_figures as details
from ui.cnn import formula_view as unit_view
from ui.cnn import overview_figures as cnn_figures
from ui.cnn import overview_inputs as cnn_page
from ui.cnn.names import class_name, kernel_name
from ui.cnn.overview_inputs import ensure_choice
from ui.cnn.taught import your_examples
from ui.i18n import error_text, t, tn
from ui.links import linked
from ui.sections import lazy_section

SPATIAL = ("conv", "relu", "pool")

st.title(t("A trained CNN on your image"))
st.markdown(
    t(
        "A small VGG-style network looks at a picture: the shipped one, trained here on {n} "
        "kinds of drawn shapes and textures, or one you trained or taught this session. Below: "
        "**everything it computes** on the way to its answer, the arithmetic of **any single "
        "unit**, **which pixels** decided, and **what its filters learned**.",
        n=len(CLASSES),
    )
)

chosen = cnn_page.choose_model()
model, cfg = chosen.model, chosen.model.config
st.info(cnn_page.describe(chosen), icon=":material/neurology:")
picture = cnn_page.choose_input(model)
yours = your_examples(model)  # the learner's examples, when they are this model's classes
run = cnn_page.forward(chosen, picture)
classes, probs, best = run.classes, run.probs, run.best

# The unit on show goes back to the strongest one when the model or the picture changes.
if st.session_state.get("tc_context") != (chosen.key, picture.key):
    st.session_state["tc_context"] = (chosen.key, picture.key)
    for stale in ("tc_row", "tc_col", "tc_side", "tc_out_class", "tc_unit", "tc_explain"):
        st.session_state.pop(stale, None)

# --- 1 · the overview
st.header(t("1 · The whole network on this picture"))
second = runner_up(probs)
m1, m2, m3 = st.columns(3)
m1.metric(t("Predicted class"), class_name(classes[best]))
m2.metric(t("Its probability"), f"{probs[best]:.2%}")
m3.metric(t("Runner-up: {name}", name=class_name(classes[second])), f"{probs[second]:.2%}")
with st.spinner(t("Scoring a fixed set of drawings…")):
    drawings = cnn_page.drawings_of(tuple(classes), cfg.input_size)
if drawings is not None:
    seen = familiarity(picture.x, drawings)
    cnn_page.show_familiarity(seen, drawings, classes[best], probs[best], len(classes))
st.markdown(
    t(
        "Left to right, every step of the forward pass: the picture, each layer's feature maps "
        "(one small map per filter, stacked in a column), the flattened vector and the class "
        "probabilities. Red/blue maps are signed (a convolution's output: blue below zero); "
        "black-to-yellow maps are never negative (after a ReLU or a max pool). **Click a map** "
        "(or a class bar) to open its arithmetic in section 2."
    )
)
shared = linked(st.toggle)(
    t("One colour scale for every layer"),
    key="tc_shared",
    help=t(
        "Off: each layer is scaled to its own largest value, so every map is readable. On: all "
        "layers share one magnitude, so you can see activations grow or fade with depth."
    ),
)


def _open_clicked(point: dict) -> None:
    """Open the clicked map (or class bar) in section 2."""
    data = point.get("customdata")  # (column index, channel or class)
    if isinstance(data, dict):  # a row of a typed array may arrive as {"0": …, "1": …}
        data = [data[str(i)] for i in range(len(data))]
    if isinstance(data, list) and len(data) == 2:
        name, unit = columns[int(data[0])].name, int(data[1])
        if name == "softmax":
            st.session_state.update(tc_layer="softmax", tc_out_class=unit)
        else:
            st.session_state.update(tc_layer=name, tc_channel=unit)


columns = [cnn_figures.Column("input", "input", picture.rgb)]
columns += [
    cnn_figures.Column(n, run.kinds[n], run.arrays[n]) for n in run.names if run.kinds[n] in SPATIAL
]
columns += [
    cnn_figures.Column("flatten", "flatten", run.arrays["flatten"]),
    cnn_figures.Column("softmax", "softmax", probs, tuple(class_name(c) for c in classes)),
]
for i, fig in enumerate(cnn_figures.overview_figures(columns, shared=shared)):
    chart(
        fig,
        key=f"tc_overview_{i}",
        on_click=_open_clicked,
    )
loudest, loudest_value = loudest_layer({c.name: c.data for c in columns if c.kind in SPATIAL})
shrunk = any(cnn_figures.shrink_factor(c.data.shape) > 1 for c in columns if c.kind in SPATIAL)
size_params = dict(
    size=cfg.input_size,
    side=cfg.final_side,
    loudest=loudest,
    value=f"{loudest_value:.2f}",
    flat=f"{cfg.flat_features:,}",
)
overview_note = (
    t(
        "What to notice: the maps shrink from {size} to {side} px while their patterns get more "
        "specific to the classes; the largest magnitude is in {loudest} ({value}), and {flat} "
        "numbers reach the classifier.",
        **size_params,
    )
    if cfg.pool
    else t(
        "What to notice: without pooling the maps stay {size} px while their patterns get more "
        "specific to the classes; the largest magnitude is in {loudest} ({value}), and {flat} "
        "numbers reach the classifier.",
        **size_params,
    )
)
if shrunk:
    overview_note += t(
        " Layers with many large maps are drawn block-averaged (1:f after their name); section 2 "
        "shows any map at full resolution."
    )
st.caption(overview_note)

# --- 2 · one unit
st.header(t("2 · Click any unit: its arithmetic"))
unit_view.show_unit_section(run)

# --- 3 · attribution
st.header(t("3 · What made the decision"))


@st.fragment
def attribution_section() -> None:
    """Draw the three attribution maps of the chosen class and their sums; the class picker
    reruns only this section."""
    ensure_choice("tc_explain", list(range(len(classes))), best)
    target = st.selectbox(
        t("Explain the score of"),
        range(len(classes)),
        key="tc_explain",
        format_func=lambda i: (
            t("{name} (predicted)", name=class_name(classes[i]))
            if i == best
            else class_name(classes[i])
        ),
    )
    sal, cam, hires = cnn_page.attribution_maps(chosen, picture, target)
    _attribution_maps(target, sal, cam, hires)
    ev = _hirescam_sum(target, hires)
    _grad_cam(target, cam, ev)


def _attribution_maps(target: int, sal, cam, hires) -> None:
    """Draw saliency, HiResCAM and Grad-CAM over the picture, with the first two's formulas."""
    name = class_name(classes[target])
    st.markdown(
        t(
            "Three answers to “which part of the picture made this score?”: the gradient at every "
            "pixel (saliency), and two maps of the last feature maps ({layer}) — HiResCAM and "
            "Grad-CAM — drawn over the picture.",
            layer=model.cam_layer,
        )
    )
    lit = st.toggle(
        t("Saliency lighting the image"), key="tc_lit", help=t("Dim the pixels that matter least.")
    )
    chart(
        cnn_figures.attribution_figure(picture.rgb, sal, cam, hires, name, lit=lit),
        key="tc_attr",
    )
    left, right = st.columns(2)
    with left:
        _saliency_text(target, sal)
    with right:
        st.markdown(
            t(
                "**HiResCAM** (Draelos & Carin, 2020) multiplies each map A_c of the last conv "
                "layer ({layer}) by its gradient position by position and adds over the channels "
                "— no averaging, no ReLU. Red is evidence *for* “{name}”, blue evidence *against* "
                "it, in units of its logit.",
                layer=model.cam_layer,
                name=name,
            )
        )
        st.latex(
            r"L(i,j) = \sum_c \frac{\partial z_k}{\partial A_c(i,j)}\,A_c(i,j),\qquad "
            r"\sum_{i,j} L(i,j) = z_k - b_k"
        )


def _saliency_text(target: int, sal) -> None:
    """Write what saliency is, its formula, and what this picture's saliency says."""
    st.markdown(
        t(
            "**Saliency** (Simonyan et al., 2014): how much the class score z would change if one "
            "pixel changed a little — the gradient, one backward pass to the input. Bright pixels "
            "are those the score is most sensitive to, whether they push it up or down."
        )
    )
    st.latex(
        r"S(i,j) = \max_{c \in \{R,G,B\}} "
        r"\left|\frac{\partial z_k}{\partial x_{c,i,j}}\right|"
    )
    if float(sal.max()) == 0:
        st.info(
            t(
                "The gradient is exactly zero at every pixel: no small change of this picture "
                "moves the score of “{name}” (every path to it is switched off).",
                name=class_name(classes[target]),
            )
        )
    elif not cfg.relu and not cfg.pool:
        st.caption(
            t(
                "This model has neither ReLU nor pooling, so it is linear: its saliency is the "
                "same map for every picture (the weights decide it, not the picture)."
            )
        )


def _hirescam_sum(target: int, hires):
    """Show that the HiResCAM map adds up to the logit minus its bias; return its evidence."""
    st.subheader(t("HiResCAM is exact here: the map adds up to the score"))
    logit = float(run.arrays["logits"][target])
    bias = float(model.fc.bias[target])
    ev = evidence(hires)
    total = ev.total
    name = class_name(classes[target])
    st.markdown(
        t(
            "After {layer} come only max pooling, flattening and the linear layer, which are "
            "piecewise linear and scale with their input (f(λA) = λ f(A) for λ > 0), so by "
            "Euler's theorem the map adds up to the logit minus its bias — every bit of the score "
            "is placed somewhere.",
            layer=model.cam_layer,
        )
        if cfg.pool
        else t(
            "After {layer} come only flattening and the linear layer, which are piecewise linear "
            "and scale with their input (f(λA) = λ f(A) for λ > 0), so by Euler's theorem the map "
            "adds up to the logit minus its bias — every bit of the score is placed somewhere.",
            layer=model.cam_layer,
        )
    )
    h1, h2, h3 = st.columns(3)
    h1.metric(t("Σ L(i, j), the whole map"), f"{total:.4f}")
    h2.metric(
        t("logit − bias of “{name}”", name=name),
        f"{logit - bias:.4f}",
        help=t(
            "z = {z}, b = {b}: the network's logit and its classifier bias.",
            z=f"{logit:.4f}",
            b=f"{bias:.4f}",
        ),
    )
    h3.metric(t("Difference"), f"{abs(total - (logit - bias)):.1e}")
    st.caption(
        t(
            "**What to notice.** The evidence for “{name}” adds up to {for_} and the evidence "
            "against to {against}: net {net}. The strongest position is unit {unit} of {layer} "
            "({value}). Pick a class the network did *not* predict to see the evidence against "
            "it.",
            name=name,
            for_=f"{ev.for_:+.3f}",
            against=f"{ev.against:+.3f}",
            net=f"{ev.total:+.3f}",
            unit=ev.strongest,
            layer=model.cam_layer,
            value=f"{ev.strongest_value:+.3f}",
        )
    )
    return ev


def _grad_cam(target: int, cam, ev) -> None:
    """Explain Grad-CAM, say what its map shows here, and offer the per-channel evidence."""
    st.subheader(t("Grad-CAM: one weight per map"))
    st.markdown(
        t(
            "**Grad-CAM** (Selvaraju et al., 2017) weighs each map A_c of {layer} by the *average* "
            "of its gradients, adds them and keeps the positive part. The linear layer gives "
            "every position its own weight, so positive weights in one place and negative ones "
            "elsewhere average out: α_c can be near zero or negative for a map that matters.",
            layer=model.cam_layer,
        )
    )
    st.latex(
        r"\alpha_c = \frac{1}{hw}\sum_{i,j}\frac{\partial z_k}{\partial A_c(i,j)},\quad "
        r"L = \frac{\mathrm{ReLU}\left(\sum_c \alpha_c A_c\right)}{\max}"
    )
    st.markdown(
        cnn_page.grad_cam_notice(cam_is_blank(cam), cam, ev, classes[target], model.cam_layer)
    )
    if st.button(
        t(
            "The same products per channel: the evidence maps of “{name}” in section 2",
            name=class_name(classes[target]),
        ),
        on_click=unit_view.follow,
        args=("logits", target),
        key="tc_cam_follow",
    ):
        st.rerun()  # section 2 lies outside this fragment: the whole page shows the new unit


attribution_section()


# --- 4 · top activating patches
def patches_section() -> None:
    """Draw the chosen filter's strongest patches over the learner's examples or a fixed
    held-out set, and their sources."""
    spatial = [n for n in run.names if run.kinds[n] in SPATIAL]
    ensure_choice("tc_top_layer", spatial, model.cam_layer)
    ensure_choice("tc_top_channel", list(range(cfg.filters)), 0)
    c1, c2, c3 = st.columns([2, 1, 1])
    top_layer = c1.selectbox(t("Layer"), spatial, key="tc_top_layer", format_func=run.label)
    top_channel = c2.number_input(t("Filter"), 0, cfg.filters - 1, key="tc_top_channel")
    in_context = c3.toggle(t("Show them in their pictures"), key="tc_top_context")
    if yours is None and not all(c in CLASSES for c in classes):
        st.info(
            t(
                "This model's classes are not the drawn ones, and this session holds no examples "
                "of them (they live on “{page}”), so there is no picture set to scan.",
                page=t("Teach it your classes"),
            )
        )
        return
    _patches(top_layer, int(top_channel), in_context, yours)


def _patches(top_layer: str, top_channel: int, in_context: bool, yours) -> None:
    """Draw the strongest patches of one filter and where they come from."""
    per_class = scan_per_class(cfg, top_layer)
    with st.spinner(t("Scanning the example images…")):
        images, _ = cnn_page.scanned_images(model, per_class, yours)
        k_top = min(TOP_PATCHES, len(images))
        pics, values, positions, sources = cnn_page.top_patches(
            chosen, top_layer, top_channel, k_top, per_class, yours
        )
    r, jump, start = model.receptive_fields()[top_layer]
    if yours is not None:
        _your_scan_text(len(images), top_channel, top_layer, k_top, r)
    else:
        _drawn_scan_text(per_class, top_channel, top_layer, k_top, r)
    if in_context:
        pics = details.outlined_sources(images, positions, r, jump, start)
    titles = [f"{v:.2f} · {class_name(s)}" for v, s in zip(values, sources, strict=True)]
    top_title = (
        t("Your examples that excite this unit most")
        if yours is not None
        else t("The held-out pictures that excite this unit most")
    )
    chart(details.picture_tiles(pics, titles, cols=6, title=top_title), key="tc_top")
    st.caption(_sources_note(sources, k_top))


def _your_scan_text(total: int, channel: int, layer: str, k_top: int, r: int) -> None:
    """Say which of the learner's examples the scan went through."""
    st.markdown(
        t(
            "{total} of your own examples from “{page}” go through the network, and each gives "
            "its strongest unit of filter {channel} in {layer}. The {k} strongest are shown as "
            "the {r}×{r} input patch that unit sees (its receptive field).",
            total=total,
            page=t("Teach it your classes"),
            channel=channel,
            layer=layer,
            k=k_top,
            r=r,
        )
    )


def _drawn_scan_text(per_class: int, channel: int, layer: str, k_top: int, r: int) -> None:
    """Say which drawn pictures the scan went through, and when it had to take fewer."""
    st.markdown(
        t(
            "Every picture of a fixed set ({per_class} per class, {total} in all, drawn with seed "
            "{seed}, never used in training) goes through the network and gives its strongest "
            "unit of filter {channel} in {layer}. The {k} strongest are shown as the {r}×{r} input "
            "patch that unit sees (its receptive field).",
            per_class=per_class,
            total=per_class * len(classes),
            seed=TOP_PATCHES_SEED,
            channel=channel,
            layer=layer,
            k=k_top,
            r=r,
        )
    )
    if per_class < TOP_PATCHES_PER_CLASS:
        st.caption(
            tn(
                "This model is large, so the scan uses only {n} picture per class (of {most}), to "
                "stay within {budget} multiply-adds.",
                "This model is large, so the scan uses only {n} pictures per class (of {most}), "
                "to stay within {budget} multiply-adds.",
                per_class,
                most=TOP_PATCHES_PER_CLASS,
                budget=f"{SCAN_BUDGET:,.0f}",
            )
        )


def _sources_note(sources: list[str], k_top: int) -> str:
    """Return where the strongest patches come from, class by class, and how to read them."""
    counts = {c: sources.count(c) for c in dict.fromkeys(sources)}
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return t(
        "Where the top {k} come from: {summary}. Titles: the unit's value · the picture's class; "
        "black borders are where a field overhangs the picture. Early layers answer to small "
        "edges and colours anywhere, deep layers to parts of particular shapes.",
        k=k_top,
        summary=t(", ").join(f"{class_name(c)} ×{n}" for c, n in ranked),
    )


# --- 5 · first-layer filters
def filters_section() -> None:
    """Draw the first layer's filters, hand-made kernels of the same size and how alike they are."""
    training = chosen.card.get("training") if isinstance(chosen.card.get("training"), dict) else {}
    pictures = details.as_uint8(filter_images(first_layer_filters(model)).numpy())
    filter_names = [t("filter {i}", i=i) for i in range(len(pictures))]
    sheet_cols = 10 if cfg.filters <= 10 else 16
    sheet_titles = filter_names if cfg.filters <= 10 else [str(i) for i in range(cfg.filters)]
    st.markdown(
        t(
            "Each of the {n} first-layer filters is a {k}×{k}×3 block of weights, drawn as a "
            "colour picture: grey is weight 0, bright means positive, dark negative, and a colour "
            "tint means the filter weighs that colour channel more.",
            n=cfg.filters,
            k=cfg.kernel,
        )
    )
    chart(
        details.picture_tiles(
            pictures, sheet_titles, cols=sheet_cols, title=t("The first-layer filters")
        ),
        key="tc_filters",
    )
    try:
        comparison = cnn_page.filter_comparison(chosen.key, int(training.get("seed", 0)), model)
    except ExplorerError as err:
        st.info(
            t(
                "{error} With 1×1 kernels each filter only mixes the three colours of one pixel.",
                error=error_text(err),
            )
        )
        return
    _kernel_sheets(comparison, filter_names, sheet_titles, sheet_cols)
    _likeness(comparison)


def _kernel_sheets(comparison, filter_names, sheet_titles, sheet_cols: int) -> None:
    """Draw the grey filters, the hand-made kernels and their similarity matrix."""
    st.markdown(t("The same filters averaged over their three colours (what is compared below):"))
    chart(
        details.kernel_tiles(
            comparison.grey.numpy(),
            sheet_titles,
            cols=sheet_cols,
            title=t("The first-layer filters, averaged over colour"),
        ),
        key="tc_filters_grey",
    )
    st.markdown(t("Classic hand-made kernels of the same size (engine/conv/kernel_bank.py):"))
    chart(
        details.kernel_tiles(
            comparison.kernels.numpy(),
            [kernel_name(n) for n in comparison.names],
            cols=10,
            title=t("Hand-made kernels of the same size"),
        ),
        key="tc_handmade",
    )
    st.markdown(
        t(
            "How alike are they? For each learned filter averaged over colour, the absolute "
            "cosine similarity with each hand-made kernel (1: the same pattern up to scale and "
            "sign; each filter's best match is outlined):"
        )
    )
    st.latex(r"\text{sim}(a, b) = \frac{|\langle a, b\rangle|}{\lVert a\rVert\,\lVert b\rVert}")
    chart(
        details.similarity_figure(
            comparison.similarity.numpy(), filter_names, [kernel_name(n) for n in comparison.names]
        ),
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
        t("Median best match, trained"),
        f"{now:.2f}",
        t("{change} vs before training", change=f"{now - before:+.2f}")
        if classic_likeness(before, now)
        else None,
    )
    c2.metric(t("Median best match, before training"), f"{before:.2f}")
    c3.metric(
        t("Weight in colour differences"),
        f"{colour_now:.0%}",
        t(
            "{change} points vs before training",
            change=f"{100 * (colour_now - colour_start):+.0f}",
        )
        if colour_shift(colour_start, colour_now)
        else None,
        delta_color="off",
    )
    st.markdown(cnn_page.training_summary(comparison))
    st.caption(
        t(
            "Random {k}×{k} patterns already resemble some kernel of a bank of {n} by chance, "
            "which is why the same numbers are shown for the untrained filters: only the "
            "difference is training's work.",
            k=cfg.kernel,
            n=len(comparison.names),
        )
    )


st.header(t("4 · What the filters learned"))
lazy_section(
    t("What excites a filter: its strongest patches among your examples")
    if yours is not None
    else t("What excites a filter: its strongest patches among held-out pictures"),
    "open_tc_patches",
    patches_section,
    icon=":material/grid_view:",
)
lazy_section(
    t("The first layer's filters next to hand-made edge detectors, and how alike they are"),
    "open_tc_filters",
    filters_section,
    icon=":material/filter_alt:",
)
