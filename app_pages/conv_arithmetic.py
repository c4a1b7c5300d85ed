"""CNN · Padding, stride, dilation: the window stepping over a small grid, and the matrix view."""

import streamlit as st

from engine.conv import (
    accumulated_outputs,
    accumulated_stamps,
    conv_matrix_2d,
    conv_output_size,
    conv_steps,
    dense_matrix,
    knob_sizes,
    matrix_claims,
    matrix_stats,
    matrix_step_error,
    padded_grid,
    size_change,
    small_grid,
    small_kernel,
    stamp_counts,
    step_products,
    transposed_conv2d,
    transposed_crop_mask,
    transposed_full_size,
    transposed_output_size,
    transposed_steps,
)
from engine.core import N_, ExplorerError
from ui import diagrams, grids
from ui.chart import chart
from ui.i18n import error_text, t, tn
from ui.links import linked

st.title(t("Padding, stride and dilation"))
st.markdown(
    t(
        "A small grid of whole numbers, so every output can be checked by hand. Pick the "
        "settings, press play, and watch which input cells each output reads."
    )
)

c = st.columns(6)
MODES = {"convolution": t("convolution"), "transposed": t("transposed")}
mode = linked(c[0].radio)(
    t("Operation"),
    list(MODES),
    format_func=MODES.__getitem__,
    key="arith_mode",
    help=t(
        "Transposed convolution runs the pattern backwards: each input cell "
        "stamps a scaled copy of the kernel into a larger output."
    ),
)
n = linked(c[1].number_input)(t("Input size n"), 2, 9, 5, key="arith_n")
k = linked(c[2].number_input)(t("Kernel size k"), 1, 5, 3, key="arith_k")
p = linked(c[3].number_input)(
    t("Padding p"), 0, 4, 1 if mode == "convolution" else 0, key="arith_p"
)
s = linked(c[4].number_input)(t("Stride s"), 1, 4, 1, key="arith_s")
if mode == "convolution":
    d = linked(c[5].number_input)(
        t("Dilation d"), 1, 3, 1, key="arith_d", help=t("Gaps between the kernel's taps.")
    )
else:  # the transposed view here stamps dense kernels: show the dilation it really uses
    d = linked(c[5].number_input)(
        t("Dilation d"),
        1,
        1,
        1,
        key="arith_d_transposed",
        disabled=True,
        help=t("The transposed view here always uses dilation 1."),
    )

SIZE_WORDS = {
    "keeps": t("keeps the input's size"),
    "shrinks": t("is smaller than the input"),
    "grows": t("is larger than the input"),
}
# what each setting reset to its neutral value would give ({size}: the output side then)
RESET_FITS = {
    "padding": N_("Without the padding of {p} it would be {size}×{size}."),
    "stride": N_("At stride 1 instead of {s} it would be {size}×{size}."),
    "dilation": N_("At dilation 1 instead of {d} it would be {size}×{size}."),
}
RESET_UNFIT = {
    "padding": N_("Without the padding of {p} the kernel would not fit."),
    "stride": N_("At stride 1 instead of {s} the kernel would not fit."),
    "dilation": N_("At dilation 1 instead of {d} the kernel would not fit."),
}
grid = small_grid(n, seed=0)
kernel = small_kernel(k, seed=1)

if mode == "convolution":
    try:
        n_out = conv_output_size(n, k, p, s, d)
        steps = conv_steps(grid, kernel, padding=p, stride=s, dilation=d)
    except ExplorerError as err:
        st.error(
            t(
                "{error} Try more padding, a smaller kernel or less dilation.",
                error=error_text(err),
            )
        )
        st.stop()
    st.latex(
        r"n_\text{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1 = "
        rf"\left\lfloor \frac{{{n} + 2\cdot{p} - {d}({k}-1) - 1}}{{{s}}} \right\rfloor + 1 = "
        rf"{n_out}"
    )
    padded, mask = padded_grid(grid, p)
    frames = accumulated_outputs(steps, (n_out, n_out))
    fig = grids.sliding_animation(
        padded,
        frames,
        [st_.taps for st_ in steps],
        [[(x.out_row, x.out_col)] for x in steps],
        titles=(
            t("input {n}×{n}, padded by {p} (grey)", n=n, p=p),
            t("output {n}×{n}", n=n_out),
        ),
        padding_mask=mask,
        title=t("Convolution, one step at a time"),
    )
    left, right = st.columns([4, 1])
    chart(fig, key="arith_anim", where=left)
    chart(
        grids.annotated_grid(kernel.numpy(), t("kernel {k}×{k}", k=k), fmt="g", height=220),
        key="arith_kernel",
        where=right,
    )
    if len(steps) > 1:
        pick = linked(st.slider)(t("Explain step"), 1, len(steps), 1, key="arith_step")
    else:  # a slider needs two ends: with one output cell there is nothing to choose
        pick = 1
        st.caption(t("These settings leave only one step, the one explained here."))
    step = steps[pick - 1]
    terms = " + ".join(
        f"{a:g}\\cdot{b:g}" if b >= 0 else f"{a:g}\\cdot({b:g})"
        for a, b in step_products(step, padded, kernel)
    )
    st.latex(rf"y_{{{step.out_row},{step.out_col}}} = {terms} = {step.value:g}")
    notes = [
        t(
            "here the {n}×{n} input gives a {n_out}×{n_out} output, which {size_words}.",
            n=n,
            n_out=n_out,
            size_words=SIZE_WORDS[size_change(n, n_out)],
        )
    ]
    for name, size in knob_sizes(n, k, p, s, d).items():
        note = RESET_FITS[name] if size is not None else RESET_UNFIT[name]
        notes.append(t(note, p=p, s=s, d=d, size=size))
    if d > 1:
        span = d * (k - 1) + 1
        notes.append(
            t(
                "Dilation {d} spreads the {k}×{k} taps over {span}×{span} cells with the same "
                "{weights} weights.",
                d=d,
                k=k,
                span=span,
                weights=k * k,
            )
        )
    st.caption(t("What to notice: {notes}", notes=" ".join(notes)))
else:
    try:
        n_out = transposed_output_size(n, k, p, s)
        tsteps = transposed_steps(grid, kernel, stride=s, padding=p)
        result = transposed_conv2d(grid, kernel, stride=s, padding=p)
    except ExplorerError as err:
        st.error(t("{error} Try less padding or a larger kernel.", error=error_text(err)))
        st.stop()
    st.latex(
        r"n_\text{out} = (n-1)s - 2p + d(k-1) + 1 = "
        rf"({n}-1)\cdot{s} - 2\cdot{p} + {d}\cdot({k}-1) + 1 = {n_out}"
    )
    full = transposed_full_size(n, k, s)
    frames = accumulated_stamps(tsteps, (full, full))
    crop = transposed_crop_mask(full, p)
    fig = grids.sliding_animation(
        grid.numpy(),
        frames,
        [[(ts.in_row, ts.in_col)] for ts in tsteps],
        [ts.out_cells for ts in tsteps],
        titles=(
            t("input {n}×{n}", n=n),
            t(
                "output {full}×{full}; shaded: cropped by p = {p} → {n_out}×{n_out}",
                full=full,
                p=p,
                n_out=n_out,
            ),
        ),
        title=t("Transposed convolution, one step at a time"),
    )
    if p > 0:
        diagrams.mark_cropped(fig, crop)
    left, right = st.columns([4, 1])
    chart(fig, key="arith_tanim", where=left)
    chart(
        grids.annotated_grid(kernel.numpy(), t("kernel {k}×{k}", k=k), fmt="g", height=220),
        key="arith_tkernel",
        where=right,
    )
    chart(
        grids.annotated_grid(result.numpy(), t("Cropped result {n}×{n}", n=n_out), fmt="g"),
        key="arith_tresult",
    )
    counts = stamp_counts(tsteps, (full, full))
    most, empty = int(counts.max()), int((counts == 0).sum())
    if most > 1:
        overlap = t(
            "Stride {s} is shorter than the kernel ({k}), so stamps overlap and their values "
            "add: up to {most} stamps land on one cell.",
            s=s,
            k=k,
            most=most,
        )
    else:
        overlap = t(
            "Stride {s} is not shorter than the kernel ({k}), so no two stamps overlap.", s=s, k=k
        )
    if empty:
        overlap += " " + t(
            "{empty} of the {cells} cells get no stamp at all and stay 0.",
            empty=empty,
            cells=full * full,
        )
    crop_note = (
        tn(
            "Padding {p} crops a border {n} cell wide (shaded) off the {full}×{full} stamped "
            "output.",
            "Padding {p} crops a border {n} cells wide (shaded) off the {full}×{full} stamped "
            "output.",
            p,
            p=p,
            full=full,
        )
        if p > 0
        else t("Padding 0 crops nothing.")
    )
    st.caption(
        t(
            "What to notice: {overlap} {crop_note} The {n}×{n} input becomes {n_out}×{n_out}, "
            "which {size_words}.",
            overlap=overlap,
            crop_note=crop_note,
            n=n,
            n_out=n_out,
            size_words=SIZE_WORDS[size_change(n, n_out)],
        )
    )

st.divider()
st.subheader(t("The same convolution as one matrix multiplication"))
st.markdown(
    t(
        "Flatten the input into a vector x. The convolution is then y = M x for a matrix M with "
        "one row per output cell: it holds the kernel's weights at the input cells that output "
        "reads (d columns apart when dilated, none for taps on the padding) and zeros elsewhere."
    )
)
if mode == "convolution":
    try:
        m = conv_matrix_2d(n, n, kernel, padding=p, stride=s, dilation=d)
    except ExplorerError as err:
        st.error(error_text(err))
        st.stop()
    dense = dense_matrix(m.shape[0], m.shape[1], seed=0)
    left, right = st.columns(2)
    conv_stats, dense_stats = matrix_stats(m), matrix_stats(dense)
    with left:
        chart(
            diagrams.matrix_pattern(m.numpy(), t("Convolution: {shape}", shape=tuple(m.shape))),
            key="arith_matrix",
        )
        st.caption(
            t(
                "{nonzero} of {entries} entries are nonzero ({sparsity} zeros), and every one "
                "is a copy of one of the kernel's {weights} weights.",
                nonzero=conv_stats["nonzero"],
                entries=conv_stats["entries"],
                sparsity=f"{conv_stats['sparsity']:.0%}",
                weights=k * k,
            )
        )
    with right:
        chart(
            diagrams.matrix_pattern(
                dense.numpy(), t("Dense layer: {shape}", shape=tuple(dense.shape))
            ),
            key="arith_dense",
        )
        st.caption(
            t(
                "A dense layer of the same shape: {nonzero} nonzero entries, {distinct} distinct "
                "values.",
                nonzero=dense_stats["nonzero"],
                distinct=dense_stats["distinct_nonzero_values"],
            )
        )
    st.metric(t("max |M x − sliding window result|"), f"{matrix_step_error(m, grid, steps):.1e}")
    claims = matrix_claims(m)
    sparse_note = (
        t(
            "each output reads only some inputs: {zeros} zeros (sparse interactions)",
            zeros=conv_stats["entries"] - conv_stats["nonzero"],
        )
        if claims["sparse"]
        else t("no zeros: with these settings every output reads every input")
    )
    shared_note = (
        t(
            "the same colours repeat from row to row, one weight filling up to {uses} entries "
            "(parameter sharing)",
            uses=claims["most_uses"],
        )
        if claims["shared"]
        else t("no weight is used twice")
    )
    st.caption(
        t(
            "What to notice: {sparse_note}; {shared_note}.",
            sparse_note=sparse_note,
            shared_note=shared_note,
        )
    )
else:
    st.info(
        t(
            "Switch the operation to convolution to see its matrix. (The transposed convolution "
            "multiplies by the transpose of that matrix, hence the name.)"
        )
    )
