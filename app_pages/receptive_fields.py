"""CNN · Receptive fields: how much of the image one unit sees, in theory and in effect."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine.cnn import CLASSES, CNNConfig, SmallCNN, preprocess
from engine.conv import feature_maps, make_kernel
from engine.core import N_, ExplorerError
from engine.receptive_field import (
    ERF_LEVEL,
    POWER_TOLERANCE,
    VGG_LIKE_STACK,
    WIDE_SIDE,
    WIDER_FACTOR,
    carry_unit,
    centre_crop,
    doubling_dilations,
    effective_receptive_field,
    erf_change_words,
    erf_extent,
    erf_extent_words,
    erf_growth,
    erf_share,
    growth_exponent,
    layer_output,
    layers_beyond_image,
    middle_spans,
    middle_unit,
    power_words,
    receptive_field,
    response_width,
    sqrt_guide,
    stack_model,
    stack_rf,
    unit_box,
    widths_grow,
)
from ui import diagrams, figures, grids
from ui.chart import chart
from ui.cnn.models import SHIPPED_PATH, shipped_model
from ui.i18n import error_text, t
from ui.inputs import clamp_state, image_picker, pick_cell_on_click, working_tensor
from ui.links import STACK_FIELDS, decode_stack, encode_stack, keep_param, linked, linked_start
from ui.sections import lazy_section
from ui.tables import table

st.title(t("Receptive fields"))
st.markdown(
    t(
        "The **receptive field** of a unit is the patch of the input it can possibly see. Each "
        "layer widens it by (k − 1) times the spacing of its input units, and every stride "
        "multiplies that spacing (the *jump*). So fields grow linearly with depth and fast after "
        "pooling."
    )
)
st.latex(
    r"r_\ell = r_{\ell-1} + (k_\ell^{\text{eff}} - 1)\, j_{\ell-1},\quad "
    r"j_\ell = j_{\ell-1}\, s_\ell,\quad "
    r"\text{start}_\ell = \text{start}_{\ell-1} + \left(\tfrac{k_\ell^{\text{eff}}-1}{2} - p_\ell"
    r"\right) j_{\ell-1},\quad k^{\text{eff}} = d\,(k-1) + 1"
)

DEFAULT = [dict(layer) for layer in VGG_LIKE_STACK]  # the editor's rows: plain dicts
KINDS = ["conv", "pool", "avgpool"]
LIMITS = {"k": (1, 15), "s": (1, 8), "p": (0, 8), "d": (1, 8)}  # what the table's columns accept
LABELS = {"k": N_("kernel k"), "s": N_("stride s"), "p": N_("padding p"), "d": N_("dilation d")}
st.subheader(t("Build a stack"))
start = linked_start("rf_stack", "rf_stack", lambda raw: decode_stack(raw, KINDS, LIMITS), DEFAULT)
edited = st.data_editor(
    pd.DataFrame(start, columns=["kind", *STACK_FIELDS]),
    num_rows="dynamic",
    key="rf_stack",
    column_config={
        "kind": st.column_config.SelectboxColumn(
            t("kind"), options=KINDS, required=True, width="small"
        ),
        **{
            col: st.column_config.NumberColumn(
                t(LABELS[col]), min_value=low, max_value=high, step=1, width="small"
            )
            for col, (low, high) in LIMITS.items()
        },
    },
    hide_index=True,
    width="stretch",
)
side = linked(st.slider)(t("Input size (px, square)"), 32, 256, 128, 16, key="rf_side")
clean = edited.dropna(how="all")
if clean.empty:
    st.warning(t("Add at least one layer."))
    st.stop()
if clean.isna().any().any():
    st.error(t("Every layer needs a kind, k, s, p and d; fill in or delete the incomplete row."))
    st.stop()
layers = [
    dict(kind=str(r.kind), k=int(r.k), s=int(r.s), p=int(r.p), d=int(r.d))
    for r in clean.itertuples()
]
keep_param("rf_stack", None if layers == DEFAULT else encode_stack(layers))
try:
    rows = stack_rf(layers, side)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
left, right = st.columns([2, 3])
table(
    {
        t("layer"): [r.name for r in rows],
        t("output"): [f"{r.out_shape[0]}×{r.out_shape[1]}" for r in rows],
        "r": [r.size for r in rows],
        t("jump"): [r.jump for r in rows],
        t("start"): [r.start for r in rows],
    },
    csv_name="stack-fields",
    formats={t("jump"): "%g", t("start"): "%g"},
    where=left,
)
lows, highs = middle_spans(rows)
chart(
    diagrams.field_growth(
        [t("input")] + [r.name for r in rows],
        [0] + lows,
        [side - 1] + highs,
        side,
        title=t("What the middle unit of each layer sees"),
        height=120 + 34 * len(rows),
    ),
    key="rf_growth",
    where=right,
)
beyond = layers_beyond_image(rows, side)
st.caption(
    t(
        "What to notice: each layer adds (k_eff − 1)·jump pixels to the field and each stride "
        "multiplies the jump, so layers after a pool widen the field faster. "
    )
    + (
        t(
            "From {layer} on, the middle unit's field runs past the grey band: it covers "
            "padding, not image.",
            layer=beyond[0],
        )
        if beyond
        else t("Every field here stays inside the image (the grey band).")
    )
)

st.divider()
st.subheader(t("On your image: click a unit"))
picked = image_picker("rf")
img = working_tensor(picked, side)
square = centre_crop(img)
n = square.shape[0]
try:
    rows_img = stack_rf(layers, n)
except ExplorerError as err:
    st.error(
        t(
            "{error} (your image is {n}×{n} after cropping to a square)",
            error=error_text(err),
            n=n,
        )
    )
    st.stop()
names = [r.name for r in rows_img]
layer = linked(st.selectbox)(t("Layer"), names, index=len(names) - 1, key="rf_layer")
info = rows_img[names.index(layer)]
before = st.session_state.get("rf_shown_layer")
if before in names and before != layer and "rf_row" in st.session_state:
    # keep the unit's place in the image, not its row and column numbers
    old_unit = (int(st.session_state["rf_row"]), int(st.session_state["rf_col"]))
    old_h, old_w = rows_img[names.index(before)].out_shape[-2:]
    old_unit = (min(old_unit[0], old_h - 1), min(old_unit[1], old_w - 1))
    carried = carry_unit(rows_img[names.index(before)], old_unit, info)
    st.session_state["rf_row"], st.session_state["rf_col"] = carried
st.session_state["rf_shown_layer"] = layer
model = stack_model(layers, in_channels=1)
fmap = layer_output(model, square, layer)  # (C, h, w)
h, w = fmap.shape[-2:]
row = clamp_state("rf_row", 0, h - 1, h // 2)
col = clamp_state("rf_col", 0, w - 1, w // 2)
box = (*unit_box(info, (row, col)), "#f59e0b")


@st.cache_data(max_entries=64, show_spinner=False)
def _erf(sha: str, stack: tuple, n: int, layer: str, unit: tuple[int, int], _img: torch.Tensor):
    return effective_receptive_field(
        [dict(x) for x in stack], unit, n, layer=layer, image=_img
    ).numpy()


with st.spinner(t("One backward pass…")):
    erf = _erf(
        picked.sha, tuple(tuple(sorted(x.items())) for x in layers), n, layer, (row, col), square
    )
a, b, c = st.columns(3)
chart(
    figures.heatmap(
        fmap.abs().mean(0).numpy(),
        t("{layer}: mean |activation| — click a unit", layer=layer),
        pickable=True,
        selected=(row, col),
        colorbar=False,
        height=320,
    ),
    key="rf_map",
    on_click=pick_cell_on_click("rf_row", "rf_col"),
    where=a,
)
chart(
    figures.heatmap(
        square.numpy(),
        t("theoretical field: r = {r}", r=info.size),
        boxes=[box],
        colorbar=False,
        height=320,
    ),
    key="rf_image",
    where=b,
)
chart(
    figures.heatmap(
        erf / (erf.max() or 1.0),
        t("effective field |∂unit/∂input|"),
        boxes=[box],
        colorbar=False,
        height=320,
        colorscale="Hot",
    ),
    key="rf_erf",
    where=c,
)
r1, r2 = st.columns(2)
r1.number_input(t("Unit row"), 0, h - 1, key="rf_row")
r2.number_input(t("Unit column"), 0, w - 1, key="rf_col")
extent = erf_extent(erf, box[:4])
st.caption(
    t(
        "What to notice: the unit's output can only depend on pixels inside the orange square. "
        "The gradient (one backward pass through this randomly initialised stack) is above "
        "{level} of its peak on {extent} of the square's pixels in the image: the effective "
        "field covers {words} the theoretical square. Below, the same comparison for a trained "
        "network.",
        level=f"{ERF_LEVEL:.0%}",
        extent=f"{extent:.0%}",
        words=t(erf_extent_words(extent)),
    )
)


def _trained_cnn():
    return shipped_model() if SHIPPED_PATH.exists() else None


cnn_side = _trained_cnn()[0].config.input_size if _trained_cnn() else CNNConfig().input_size
st.subheader(t("Random weights against trained weights"))
st.markdown(
    t(
        "The same small VGG-style network (two blocks of conv-ReLU-conv-ReLU-pool, "
        "{side}×{side} input), once freshly initialised and once as trained on the app's "
        "{classes} shape classes. Both maps are the gradient of the centre unit of the last "
        "conv layer with respect to your image.",
        side=cnn_side,
        classes=len(CLASSES),
    )
)


@st.cache_data(max_entries=32, show_spinner=False)
def _trained_vs_random(sha: str, _x: torch.Tensor) -> dict:
    trained, _ = _trained_cnn()
    fresh = SmallCNN(trained.config, seed=0)
    layer = "convs." + [n for n, k in trained.config.layers() if k == "conv"][-1]
    side = _x.shape[-1]
    row = {r.name: r for r in receptive_field(trained, side)}[layer]
    unit = middle_unit(row)
    out = {"layer": layer, "unit": unit, "r": row.size, "box": unit_box(row, unit)}
    for name, model in (("trained", trained), ("random", fresh)):
        out[name] = effective_receptive_field(model, unit, side, layer=layer, image=_x).numpy()
    return out


def _trained_section() -> None:
    """Draw the input and both effective fields, random and trained, with their caption."""
    if _trained_cnn() is None:
        st.info(
            t("The trained network (assets/small_cnn.safetensors) is not in this checkout yet.")
        )
    else:
        x = preprocess(picked.image, cnn_side)  # (3, side, side), as the trained network sees it
        with st.spinner(t("Two backward passes…")):
            cmp = _trained_vs_random(picked.sha, x)
        field_box = [(*cmp["box"], "#f59e0b")]
        t1, t2, t3 = st.columns(3)
        chart(
            figures.rgb_image(
                (x.permute(1, 2, 0).numpy() * 255).astype("uint8"),
                t("what the network sees ({side}×{side})", side=cnn_side),
                height=300,
            ),
            key="rf_cnn_input",
            where=t1,
        )
        for col, name in ((t2, N_("random")), (t3, N_("trained"))):
            m = cmp[name]
            chart(
                figures.heatmap(
                    m / (m.max() or 1.0),
                    t(
                        "{weights} weights: {layer} unit {unit}",
                        weights=t(name),
                        layer=cmp["layer"],
                        unit=cmp["unit"],
                    ),
                    boxes=field_box,
                    colorbar=False,
                    height=300,
                    colorscale="Hot",
                ),
                key=f"rf_cnn_{name}",
                where=col,
            )
        share = {k: erf_share(cmp[k]) for k in ("random", "trained")}
        fill = {k: erf_extent(cmp[k], cmp["box"]) for k in ("random", "trained")}
        st.caption(
            t(
                "The orange square is the theoretical field (r = {r}, {pixels} pixels). Pixels "
                "carrying more than {level} of the peak gradient: {fill_random} of the square "
                "({share_random} of the image) with random weights, {fill_trained} of the "
                "square ({share_trained} of the image) after training. What to notice: with "
                "random weights the effective field covers {words_random} the theoretical "
                "square, after training {words_trained} it; training made it {change}. Neither "
                "can reach past the square: training changes which pixels the unit leans on, not "
                "how far it can see.",
                r=cmp["r"],
                pixels=cmp["r"] ** 2,
                level=f"{ERF_LEVEL:.0%}",
                fill_random=f"{fill['random']:.0%}",
                share_random=f"{share['random']:.1%}",
                fill_trained=f"{fill['trained']:.0%}",
                share_trained=f"{share['trained']:.1%}",
                words_random=t(erf_extent_words(fill["random"])),
                words_trained=t(erf_extent_words(fill["trained"])),
                change=t(erf_change_words(fill["random"], fill["trained"])),
            )
        )


lazy_section(
    t("Both effective fields on your image, random and trained weights (3 maps, shares)"),
    "open_rf_trained",
    _trained_section,
)

st.subheader(t("Effective field against depth"))
st.markdown(
    t(
        "Stacks of 3×3 conv + ReLU, random He initialisation, averaged over a few inputs. Luo et "
        "al. (2016) found the effective field's spread grows like √n in a stack of n layers, "
        "while the theoretical field grows like n. Here is the measurement."
    )
)


@st.cache_data(show_spinner=False)
def _growth(depths: tuple[int, ...]) -> dict:
    return erf_growth(list(depths))


_GROWTH = {  # (theoretical?, close to n or √n?) → the clause on how that spread grows
    (True, True): N_("the theoretical spread grows like n^{e} (close to {like})"),
    (True, False): N_("the theoretical spread grows like n^{e} (neither n nor √n)"),
    (False, True): N_("the effective spread grows like n^{e} (close to {like})"),
    (False, False): N_("the effective spread grows like n^{e} (neither n nor √n)"),
}


def _growth_words(g: dict, theoretical: bool, spreads: list[float]) -> str:
    """Return "the <label> spread grows like n^e (close to √n)" from the fitted exponent."""
    e = growth_exponent(g["depth"], spreads)
    like = power_words(e)
    return t(_GROWTH[theoretical, like is not None], e=f"{e:.2f}", like=like)


def _depth_section() -> None:
    """Draw the measured spread of random stacks' effective fields against depth."""
    with st.spinner(t("Measuring effective fields…")):
        g = _growth((1, 2, 4, 8, 12, 16))
    theory, measured, guide = (
        t("theoretical field (uniform spread)"),
        t("effective field (measured spread)"),
        t("√depth, scaled"),
    )
    d = np.array(g["depth"], dtype=float)
    chart(
        figures.lines(
            d,
            {
                theory: np.array(g["uniform_std"]),
                measured: np.array(g["erf_std"]),
                guide: sqrt_guide(d, g["erf_std"], anchor=2),
            },
            x_title=t("depth (layers)"),
            y_title=t("spread of the field (std, px)"),
            modes={theory: "lines+markers", measured: "lines+markers", guide: "lines"},
            title=t("How the field spreads with depth"),
        ),
        key="rf_depth",
    )
    ratio = g["erf_std"][-1] / g["uniform_std"][-1]
    st.caption(
        t(
            "What to notice: fitted on log–log axes, {theoretical} and {effective}; exponents "
            "within {tol} of 1 or ½ count as n or √n. At depth {depth} the effective spread is "
            "{ratio} of the theoretical one.",
            theoretical=_growth_words(g, True, g["uniform_std"]),
            effective=_growth_words(g, False, g["erf_std"]),
            tol=f"{POWER_TOLERANCE:g}",
            depth=g["depth"][-1],
            ratio=f"{ratio:.0%}",
        )
    )


lazy_section(
    t("The measurement: field spread at depths 1 to 16 (chart, fitted exponents)"),
    "open_rf_depth",
    _depth_section,
)

st.divider()
st.subheader(t("Dilated convolution: exponential growth without losing resolution"))
st.markdown(
    t(
        "Dilation spreads a kernel's taps d pixels apart. Doubling d at each layer makes the "
        "field grow exponentially with depth, with no pooling and no extra weights."
    )
)


def _dilated_section() -> None:
    """Draw the field per layer with and without doubling dilation, and one kernel at 4 rates."""
    depth_d = linked(st.slider)(t("Layers"), 1, 8, 5, key="rf_dil_depth")
    plain = stack_rf(doubling_dilations(depth_d)[:1] * depth_d, WIDE_SIDE)  # dilation 1 throughout
    dilated = stack_rf(doubling_dilations(depth_d), WIDE_SIDE)
    st.caption(
        t(
            "Field per layer with doubling dilation: {dilated}; with dilation 1: {plain}.",
            dilated=", ".join(str(r.size) for r in dilated),
            plain=", ".join(str(r.size) for r in plain),
        )
    )
    x = np.arange(1, depth_d + 1)
    one, doubling = t("3×3, dilation 1"), t("3×3, dilation 1, 2, 4, …")
    chart(
        figures.lines(
            x,
            {
                one: np.array([r.size for r in plain]),
                doubling: np.array([r.size for r in dilated]),
            },
            x_title=t("layer"),
            y_title=t("receptive field r (px)"),
            modes={one: "lines+markers", doubling: "lines+markers"},
            title=t("Receptive field per layer, with and without dilation"),
        ),
        key="rf_dil",
    )
    st.latex(
        rf"r = 2^{{L+1}} - 1 = {dilated[-1].size} \quad\text{{vs}}\quad 2L + 1 = {plain[-1].size}"
    )
    kernel = make_kernel("laplacian", 3)
    rates = [1, 2, 4, 8]
    try:
        maps = torch.stack([feature_maps(img, kernel, dilation=r)[0] for r in rates])
        chart(
            grids.map_mosaic(
                maps.abs().numpy(),
                [t("same 3×3 Laplacian, d = {d}", d=r) for r in rates],
                cols=4,
                signed=False,
                title=t("One 3×3 Laplacian at four dilation rates"),
            ),
            key="rf_rates",
        )
        widths = [response_width(m) for m in maps]
        verdict = (
            t(
                "the blobs widen with the rate, so one shared kernel sees the same pattern at "
                "several scales."
            )
            if widths_grow(widths)
            else t(
                "on this image the blobs do not widen steadily (by {factor}× from first to "
                "last), so the rates do not separate scales cleanly here.",
                factor=f"{WIDER_FACTOR:g}",
            )
        )
        st.caption(
            t(
                "The same {weights} weights at {count} rates. Typical width of a response blob "
                "(half-width of each map's autocorrelation): {widths}. What to notice: {verdict}",
                weights=kernel.numel(),
                count=len(rates),
                widths=", ".join(
                    t("{width} px at d = {d}", width=f"{w:.1f}", d=r)
                    for w, r in zip(widths, rates, strict=True)
                ),
                verdict=verdict,
            )
        )
    except ExplorerError as err:
        st.error(t("{error} Increase the input size.", error=error_text(err)))


lazy_section(
    t(
        "Field per layer with doubling dilation, and one Laplacian at four rates on your image "
        "(chart, 4 maps)"
    ),
    "open_rf_dilated",
    _dilated_section,
)
