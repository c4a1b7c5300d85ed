"""The trained-CNN page's unit view: one unit's formula, written out with the network's own numbers.

`show_unit_section` draws the choice of layer, channel and unit (a big clickable map) and the
formula. Each `show_*` takes a Formula from engine.cnn.explain.unit_formula and writes its
arithmetic (grids, st.latex with the numbers, the recomputed value next to the network's) and
offers a button that follows the unit's biggest input one layer down; `follow` is their callback.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.cnn import (
    ConvFormula,
    FlattenFormula,
    OutputFormula,
    PoolFormula,
    ReluFormula,
    unit_formula,
)
from engine.core import ExplorerError
from ui import figures, grids
from ui.chart import chart
from ui.cnn.detail_figures import contribution_figure, conv_unit_figure
from ui.cnn.names import class_name
from ui.cnn.overview_inputs import Run, ensure_choice
from ui.grids import value_scale
from ui.i18n import error_text, t
from ui.inputs import pick_cell_on_click
from ui.tables import table

SPATIAL = ("conv", "relu", "pool")

TOLERANCE = 1e-5  # the recomputed value and the network's agree within this
NUMBERS_UP_TO = 700  # cells of the conv figure that get their numbers written in


def follow(layer: str, channel: int, row: int = 0, col: int = 0, side: int = 0) -> None:
    """Callback: make (layer, channel, row, col) the unit on show (side: that layer's map side)."""
    st.session_state.update(tc_layer=layer, tc_channel=channel, tc_row=row, tc_col=col)
    st.session_state["tc_side"] = side
    if layer in ("logits", "softmax"):
        st.session_state["tc_out_class"] = channel
    elif layer == "flatten":
        st.session_state["tc_unit"] = channel


def show_unit_section(run: Run) -> None:
    """Draw the layer/channel/unit choice, the chosen map (click a unit) and the unit's formula."""
    names = run.names
    ensure_choice("tc_layer", names, names[0])
    pick_l, pick_r = st.columns([2, 3])
    layer = pick_l.selectbox(t("Layer"), names, key="tc_layer", format_func=run.label)
    kind = run.kinds[layer]
    model, x, classes = run.chosen.model, run.picture.x, run.classes
    below = names[names.index(layer) - 1] if names.index(layer) else "input"
    below_arr = run.arrays[below]
    try:
        if kind in SPATIAL:
            channel, row, col = _pick_unit(run, layer, pick_r)
            formula = unit_formula(model, x, layer, channel, row, col, acts=run.acts)
            st.subheader(
                t(
                    "{layer}, channel {channel}, unit ({row}, {col})",
                    layer=layer,
                    channel=channel,
                    row=row,
                    col=col,
                )
            )
            below_side = below_arr.shape[-1] if below_arr.ndim == 3 else 0
            if kind == "conv":
                below_names = (
                    ["R", "G", "B"]
                    if below == "input"
                    else [t("ch {i}", i=i) for i in range(below_arr.shape[0])]
                )
                show_conv(formula, below_names, below_side)
            elif kind == "relu":
                show_relu(formula, run.arrays[layer].shape[1])
            else:
                show_pool(formula, below_side)
        elif kind == "flatten":
            flat = run.arrays["flatten"]
            if not 0 <= st.session_state.get("tc_unit", -1) < len(flat):
                st.session_state["tc_unit"] = int(np.abs(flat).argmax())
            unit = pick_r.number_input(t("Entry of the vector"), 0, len(flat) - 1, key="tc_unit")
            formula = unit_formula(model, x, layer, unit, acts=run.acts)
            st.subheader(t("flatten, entry {unit}", unit=unit))
            show_flatten(formula, below_arr[formula.source[0]])
        else:
            ensure_choice("tc_out_class", list(range(len(classes))), run.best)
            k = pick_r.selectbox(
                t("Class"),
                range(len(classes)),
                key="tc_out_class",
                format_func=lambda i: class_name(classes[i]),
            )
            formula = unit_formula(model, x, layer, k, acts=run.acts)
            st.subheader(t("{layer} of “{name}”", layer=layer, name=class_name(classes[k])))
            last = next(n for n in reversed(names) if run.kinds[n] in SPATIAL)
            show_output(formula, run.arrays[last].shape, classes)
    except ExplorerError as err:
        st.error(error_text(err))


def _pick_unit(run: Run, layer: str, pick_col) -> tuple[int, int, int]:
    """Draw the channel input, the chosen map to click and row/column inputs; return the unit."""
    maps = run.arrays[layer]  # (C, H, W)
    n_ch, side = maps.shape[0], maps.shape[1]
    m = side // 16  # away from the border, where the zero padding makes its own edges
    inner = maps[:, m : side - m, m : side - m]
    if not 0 <= st.session_state.get("tc_channel", -1) < n_ch:  # the liveliest filter
        st.session_state["tc_channel"] = int(np.abs(inner).reshape(n_ch, -1).max(1).argmax())
    old_side = st.session_state.get("tc_side") or side
    if old_side != side and "tc_row" in st.session_state:  # the same place at another resolution
        for key in ("tc_row", "tc_col"):
            st.session_state[key] = int(st.session_state[key] * side / old_side)
    st.session_state["tc_side"] = side
    channel = pick_col.number_input(t("Channel (filter)"), 0, n_ch - 1, key="tc_channel")
    chmap = maps[channel]
    r0, c0 = divmod(int(np.abs(inner[channel]).argmax()), inner.shape[2])
    strongest = (r0 + m, c0 + m)
    for key, default in (("tc_row", strongest[0]), ("tc_col", strongest[1])):
        st.session_state[key] = min(max(int(st.session_state.get(key, default)), 0), side - 1)
    big, side_col = st.columns([3, 1])
    with side_col:
        row = st.number_input(t("Row"), 0, side - 1, key="tc_row")
        col = st.number_input(t("Column"), 0, side - 1, key="tc_col")
        st.button(
            t("Jump to the strongest unit"),
            key="tc_strongest",
            on_click=follow,
            args=(layer, channel, *strongest, side),
        )
        st.caption(t("Value here: **{value}**", value=f"{chmap[row, col]:.4f}"))
    with big:
        scale, zmin, zmax = value_scale(chmap)
        chart(
            figures.heatmap(
                chmap,
                t("{layer}, channel {channel}: click a unit", layer=layer, channel=channel),
                pickable=True,
                selected=(row, col),
                colorscale=scale,
                zmin=zmin,
                zmax=zmax,
                height=420,
            ),
            key="tc_map",
            on_click=pick_cell_on_click("tc_row", "tc_col"),
        )
    return channel, row, col


def _n(value: float, digits: int = 4) -> str:
    """Return value for LaTeX: fixed digits, a real minus sign, no '-0.0000'."""
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "{-}")


def _agreement(total: float, value: float, what: str) -> None:
    """Show the recomputed number, the network's, their difference, and say whether they agree."""
    diff = abs(total - value)
    a, b, c = st.columns(3)
    a.metric(t("{what} (recomputed here)", what=what), f"{total:.6f}")
    b.metric(t("The network's value (forward_all)"), f"{value:.6f}")
    c.metric(t("Difference"), f"{diff:.1e}")
    if diff <= TOLERANCE:
        st.caption(
            t(
                "The two agree to {tol}: the difference, {diff}, is float32 rounding (the network "
                "adds the same terms in another order).",
                tol=f"{TOLERANCE:g}",
                diff=f"{diff:.1e}",
            )
        )
    else:
        st.warning(
            t(
                "The two differ by {diff}, more than {tol}.",
                diff=f"{diff:.2e}",
                tol=f"{TOLERANCE:g}",
            )
        )


def show_conv(f: ConvFormula, below_names: list[str], below_side: int) -> None:
    """Write a conv unit: patches × kernels over every input channel, plus the bias."""
    sums = f.products.double().sum((1, 2)).numpy()  # (C_in,)
    _conv_intro(f)
    _conv_figure(f, below_names)
    _conv_sum(f, sums, below_names)
    _agreement(f.total, f.value, t("Σ products + bias"))
    if f.input_layer != "input":
        top = int(np.abs(sums).argmax())
        st.button(
            t(
                "Follow the biggest contributor: {name} of {layer} at ({row}, {col})",
                name=below_names[top],
                layer=f.input_layer,
                row=f.row,
                col=f.col,
            ),
            on_click=follow,
            args=(f.input_layer, top, f.row, f.col, below_side),
            key="tc_follow",
        )


def _conv_intro(f: ConvFormula) -> None:
    """Say what the unit computes, with its padding, and write the formula."""
    c_in, k, _ = f.patches.shape
    outside = int((~f.inside).sum())
    text = t(
        "Unit ({row}, {col}) of channel {channel} looks at the {k}×{k} window of **all {c_in} "
        "maps of {layer}** around the same position, multiplies every value by its weight in "
        "kernel {channel}, and adds the {products} products and a bias.",
        row=f.row,
        col=f.col,
        channel=f.channel,
        k=k,
        c_in=c_in,
        layer=f.input_layer,
        products=c_in * k * k,
    )
    if outside:
        text += t(
            " {outside} of the {positions} positions lie in the zero padding (grey).",
            outside=outside,
            positions=k * k,
        )
    st.markdown(text)
    st.latex(
        r"z_{c}(i,j) = b_c + \sum_{c'=1}^{C_{in}} \sum_{m,n} a_{c'}(i+m,\,j+n)\; w_{c,c'}(m,n)"
    )


def _conv_figure(f: ConvFormula, below_names: list[str]) -> None:
    """Draw patches, kernels and products, with numbers in the cells when they fit."""
    c_in, k, _ = f.patches.shape
    numbers = 3 * c_in * k * k <= NUMBERS_UP_TO
    chart(
        conv_unit_figure(
            f.patches.numpy(),
            f.kernels.numpy(),
            f.products.numpy(),
            f.inside.numpy(),
            below_names,
            numbers=numbers,
        ),
        key="tc_conv_fig",
    )
    if not numbers:
        st.caption(t("Too many cells to write every number: hover over a cell to read it."))


def _conv_sum(f: ConvFormula, sums: np.ndarray, below_names: list[str]) -> None:
    """Write the per-channel sums plus the bias; list them in a table when there are many."""
    c_in = len(sums)
    terms = " + ".join(f"({_n(s)})" for s in sums) if c_in <= 6 else r"\textstyle\sum_{c'}"
    product_sum = float(sums.sum())
    st.latex(
        rf"z = {terms} + ({_n(f.bias)}) = {_n(product_sum)} + ({_n(f.bias)}) = {_n(f.total, 6)}"
    )
    if c_in > 6:
        with st.expander(t("The {n} per-channel sums", n=c_in)):
            summed = t("Σ patch × kernel")
            table(
                {t("input channel"): below_names, summed: sums},
                csv_name="channel-sums",
                formats={summed: "%.5f"},
                scroll_after=10,
            )


def show_relu(f: ReluFormula, side: int) -> None:
    """Write a ReLU unit: max(0, x)."""
    params = dict(layer=f.input_layer, x=f"{f.x:.4f}")
    st.markdown(
        t(
            "A ReLU unit copies the conv output below it when that is positive and outputs 0 "
            "otherwise. Here {layer} gave {x}, so the unit is **switched off**.",
            **params,
        )
        if f.x <= 0
        else t(
            "A ReLU unit copies the conv output below it when that is positive and outputs 0 "
            "otherwise. Here {layer} gave {x}, so the unit is **passed through** unchanged.",
            **params,
        )
    )
    st.latex(rf"a = \max(0,\, z) = \max(0,\, {_n(f.x)}) = {_n(f.total)}")
    _agreement(f.total, f.value, "max(0, x)")
    st.button(
        t(
            "Explain the conv unit below: {layer}, channel {channel} at ({row}, {col})",
            layer=f.input_layer,
            channel=f.channel,
            row=f.row,
            col=f.col,
        ),
        on_click=follow,
        args=(f.input_layer, f.channel, f.row, f.col, side),
        key="tc_follow",
    )


def show_pool(f: PoolFormula, below_side: int) -> None:
    """Write a max-pool unit: the 2×2 window and its largest value."""
    (top, left), (ar, ac) = f.top_left, f.argmax
    st.markdown(
        t(
            "A 2×2 max-pool unit keeps the largest of four neighbours of {layer} (rows "
            "{top}–{bottom}, columns {left}–{right}); the other three are dropped.",
            layer=f.input_layer,
            top=top,
            bottom=top + 1,
            left=left,
            right=left + 1,
        )
    )
    w = f.window.numpy()
    scale_signed = value_scale(w)[0] != grids.SEQUENTIAL
    left_col, right_col = st.columns([1, 2])
    with left_col:
        chart(
            grids.annotated_grid(
                w,
                t("{layer}, channel {channel}", layer=f.input_layer, channel=f.channel),
                fmt=".4f",
                highlight=[(ar, ac)],
                signed=scale_signed,
                height=230,
            ),
            key="tc_pool_fig",
        )
    with right_col:
        values = ",\\;".join(_n(v) for v in w.ravel())
        st.latex(rf"p = \max({values}) = {_n(f.total)}")
        st.caption(
            t(
                "The winner (outlined) is at ({row}, {col}) of {layer}.",
                row=top + ar,
                col=left + ac,
                layer=f.input_layer,
            )
        )
    _agreement(f.total, f.value, t("max of the window"))
    st.button(
        t(
            "Explain the winner: {layer}, channel {channel} at ({row}, {col})",
            layer=f.input_layer,
            channel=f.channel,
            row=top + ar,
            col=left + ac,
        ),
        on_click=follow,
        args=(f.input_layer, f.channel, top + ar, left + ac, below_side),
        key="tc_follow",
    )


def show_flatten(f: FlattenFormula, source_map: np.ndarray) -> None:
    """Write a flattened entry: the copy of one unit of the last feature maps."""
    c, r, q = f.source
    h, w = source_map.shape
    st.markdown(
        t(
            "Flattening only lays the {layer} maps end to end (channel by channel, row by row), so "
            "entry {index} is a copy of one unit: channel {c}, row {r}, column {q}.",
            layer=f.input_layer,
            index=f.index,
            c=c,
            r=r,
            q=q,
        )
    )
    st.latex(
        rf"v_{{{f.index}}} = a_{{{c}}}({r}, {q}), \quad {f.index} = {c}\cdot{h}\cdot{w} + "
        rf"{r}\cdot{w} + {q}, \quad v_{{{f.index}}} = {_n(f.total)}"
    )
    scale, zmin, zmax = value_scale(source_map)
    chart(
        figures.heatmap(
            source_map,
            t("{layer}, channel {c}: the copied unit outlined", layer=f.input_layer, c=c),
            selected=(r, q),
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            height=320,
        ),
        key="tc_flat_fig",
    )
    _agreement(f.total, f.value, f"{f.input_layer}[{c}, {r}, {q}]")
    st.button(
        t(
            "Explain that unit: {layer}, channel {c} at ({r}, {q})",
            layer=f.input_layer,
            c=c,
            r=r,
            q=q,
        ),
        on_click=follow,
        args=(f.input_layer, c, r, q, h),
        key="tc_follow",
    )


def show_output(f: OutputFormula, maps_shape: tuple[int, int, int], classes: list[str]) -> None:
    """Write a class score: logit = w·x + b over the flattened vector, then the softmax."""
    if f.layer == "logits":
        _show_logit(f, maps_shape)
    else:
        _show_softmax(f, classes)


def _show_logit(f: OutputFormula, maps_shape: tuple[int, int, int]) -> None:
    """Write a logit as w·x + b, and lay its products back out as the maps they came from."""
    products = f.products.numpy()
    dot = float(f.products.double().sum())
    name = class_name(f.class_name)
    st.markdown(
        t(
            "The logit of **{name}** weighs every one of the {n} flattened numbers by its own "
            "weight and adds them up, with a bias.",
            name=name,
            n=f"{len(products):,}",
        )
    )
    st.latex(
        rf"z_{{\text{{{name}}}}} = \sum_i w_i x_i + b = {_n(dot)} + ({_n(f.bias)}) "
        rf"= {_n(f.logit, 6)}"
    )
    _agreement(f.logit, f.value, "w·x + b")
    c, h, w = maps_shape
    st.markdown(
        t(
            "**Where the evidence came from**: the products w_i·x_i laid back out as the {c} maps "
            "they were flattened from (red pushes “{name}” up, blue down).",
            c=c,
            name=name,
        )
    )
    chart(
        contribution_figure(
            products.reshape(c, h, w), [t("channel {i}", i=i) for i in range(c)], cols=min(c, 8)
        ),
        key="tc_contrib_fig",
    )
    top = int(np.abs(products).argmax())
    st.button(
        t("Explain the biggest contribution: flattened entry {top}", top=top),
        on_click=follow,
        args=("flatten", top),
        key="tc_follow",
    )


def _show_softmax(f: OutputFormula, classes: list[str]) -> None:
    """Write the softmax of every logit, step by step, for one class and as a table."""
    k = f.class_index
    logits = f.logits.numpy().astype(np.float64)
    m = float(logits.max())
    exps = np.exp(logits - m)
    probs = exps / exps.sum()
    st.markdown(
        t(
            "The softmax turns the logits into probabilities: exponentiate, then divide by the "
            "sum. Subtracting the largest logit first changes nothing in the ratio and keeps e^z "
            "finite."
        )
    )
    st.latex(
        r"p_k = \frac{e^{z_k}}{\sum_j e^{z_j}} = \frac{e^{z_k - m}}{\sum_j e^{z_j - m}},"
        r"\quad m = \max_j z_j"
    )
    st.latex(
        r"\mathbf{z} = (" + ",\\; ".join(_n(z, 3) for z in logits) + rf"), \quad m = {_n(m, 3)}"
    )
    name = class_name(f.class_name)
    st.latex(
        rf"p_{{\text{{{name}}}}} = \frac{{e^{{{_n(logits[k], 3)} - {_n(m, 3)}}}}}"
        rf"{{{_n(exps.sum())}}} = \frac{{{_n(exps[k])}}}{{{_n(exps.sum())}}} = {_n(probs[k], 6)}"
    )
    logit, probability = t("logit z"), t("probability")
    table(
        {
            t("class"): [class_name(c) for c in classes],
            logit: logits,
            "e^(z − m)": exps,
            probability: probs,
        },
        csv_name="softmax",
        formats={logit: "%.4f", "e^(z − m)": "%.6f", probability: "%.6f"},
    )
    a, b = st.columns(2)
    a.metric(t("Sum of the probabilities"), f"{probs.sum():.6f}")
    b.metric(t("p({name}), the network's softmax", name=name), f"{f.value:.6f}")
    st.button(
        t("Explain the logit of {name}", name=name),
        on_click=follow,
        args=("logits", k),
        key="tc_follow",
    )
