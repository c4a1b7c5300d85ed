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
from engine.core import ExplorerError
from ui import diagrams, grids

st.title("Padding, stride and dilation")
st.markdown(
    "A small grid of whole numbers, so every output can be checked by hand. Pick the settings, "
    "press play, and watch which input cells each output reads."
)

c = st.columns(6)
mode = c[0].radio(
    "Operation",
    ["convolution", "transposed"],
    key="arith_mode",
    help="Transposed convolution runs the pattern backwards: each input cell "
    "stamps a scaled copy of the kernel into a larger output.",
)
n = c[1].number_input("Input size n", 2, 9, 5, key="arith_n")
k = c[2].number_input("Kernel size k", 1, 5, 3, key="arith_k")
p = c[3].number_input("Padding p", 0, 4, 1 if mode == "convolution" else 0, key="arith_p")
s = c[4].number_input("Stride s", 1, 4, 1, key="arith_s")
if mode == "convolution":
    d = c[5].number_input(
        "Dilation d", 1, 3, 1, key="arith_d", help="Gaps between the kernel's taps."
    )
else:  # the transposed view here stamps dense kernels: show the dilation it really uses
    d = c[5].number_input(
        "Dilation d",
        1,
        1,
        1,
        key="arith_d_transposed",
        disabled=True,
        help="The transposed view here always uses dilation 1.",
    )

SIZE_WORDS = {
    "keeps": "keeps the input's size",
    "shrinks": "is smaller than the input",
    "grows": "is larger than the input",
}
grid = small_grid(n, seed=0)
kernel = small_kernel(k, seed=1)

if mode == "convolution":
    try:
        n_out = conv_output_size(n, k, p, s, d)
        steps = conv_steps(grid, kernel, padding=p, stride=s, dilation=d)
    except ExplorerError as err:
        st.error(f"{err} Try more padding, a smaller kernel or less dilation.")
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
        titles=(f"input {n}×{n}, padded by {p} (grey)", f"output {n_out}×{n_out}"),
        padding_mask=mask,
    )
    left, right = st.columns([4, 1])
    left.plotly_chart(fig, key="arith_anim")
    right.plotly_chart(
        grids.annotated_grid(kernel.numpy(), f"kernel {k}×{k}", fmt="g", height=220),
        key="arith_kernel",
    )
    if len(steps) > 1:
        pick = st.slider("Explain step", 1, len(steps), 1, key="arith_step")
    else:  # a slider needs two ends: with one output cell there is nothing to choose
        pick = 1
        st.caption("These settings leave only one step, the one explained here.")
    step = steps[pick - 1]
    terms = " + ".join(
        f"{a:g}\\cdot{b:g}" if b >= 0 else f"{a:g}\\cdot({b:g})"
        for a, b in step_products(step, padded, kernel)
    )
    st.latex(rf"y_{{{step.out_row},{step.out_col}}} = {terms} = {step.value:g}")
    reset_words = {
        "padding": f"Without the padding of {p}",
        "stride": f"At stride 1 instead of {s}",
        "dilation": f"At dilation 1 instead of {d}",
    }
    notes = [
        f"here the {n}×{n} input gives a {n_out}×{n_out} output, which "
        f"{SIZE_WORDS[size_change(n, n_out)]}."
    ]
    for name, size in knob_sizes(n, k, p, s, d).items():
        notes.append(
            f"{reset_words[name]} it would be {size}×{size}."
            if size is not None
            else f"{reset_words[name]} the kernel would not fit."
        )
    if d > 1:
        span = d * (k - 1) + 1
        notes.append(
            f"Dilation {d} spreads the {k}×{k} taps over {span}×{span} cells with the same "
            f"{k * k} weights."
        )
    st.caption("What to notice: " + " ".join(notes))
else:
    try:
        n_out = transposed_output_size(n, k, p, s)
        tsteps = transposed_steps(grid, kernel, stride=s, padding=p)
        result = transposed_conv2d(grid, kernel, stride=s, padding=p)
    except ExplorerError as err:
        st.error(f"{err} Try less padding or a larger kernel.")
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
        [[(t.in_row, t.in_col)] for t in tsteps],
        [t.out_cells for t in tsteps],
        titles=(
            f"input {n}×{n}",
            f"output {full}×{full}; shaded: cropped by p = {p} → {n_out}×{n_out}",
        ),
    )
    if p > 0:
        diagrams.mark_cropped(fig, crop)
    left, right = st.columns([4, 1])
    left.plotly_chart(fig, key="arith_tanim")
    right.plotly_chart(
        grids.annotated_grid(kernel.numpy(), f"kernel {k}×{k}", fmt="g", height=220),
        key="arith_tkernel",
    )
    st.plotly_chart(
        grids.annotated_grid(result.numpy(), f"Cropped result {n_out}×{n_out}", fmt="g"),
        key="arith_tresult",
    )
    counts = stamp_counts(tsteps, (full, full))
    most, empty = int(counts.max()), int((counts == 0).sum())
    if most > 1:
        overlap = (
            f"Stride {s} is shorter than the kernel ({k}), so stamps overlap and their values "
            f"add: up to {most} stamps land on one cell."
        )
    else:
        overlap = f"Stride {s} is not shorter than the kernel ({k}), so no two stamps overlap."
    if empty:
        overlap += f" {empty} of the {full * full} cells get no stamp at all and stay 0."
    crop_note = (
        f"Padding {p} crops a border {p} cell{'s' if p > 1 else ''} wide (shaded) off the "
        f"{full}×{full} stamped output."
        if p > 0
        else "Padding 0 crops nothing."
    )
    st.caption(
        f"What to notice: {overlap} {crop_note} The {n}×{n} input becomes {n_out}×{n_out}, "
        f"which {SIZE_WORDS[size_change(n, n_out)]}."
    )

st.divider()
st.subheader("The same convolution as one matrix multiplication")
st.markdown(
    "Flatten the input into a vector x. The convolution is then y = M x for a matrix M with one "
    "row per output cell: it holds the kernel's weights at the input cells that output reads "
    "(d columns apart when dilated, none for taps on the padding) and zeros elsewhere."
)
if mode == "convolution":
    try:
        m = conv_matrix_2d(n, n, kernel, padding=p, stride=s, dilation=d)
    except ExplorerError as err:
        st.error(str(err))
        st.stop()
    dense = dense_matrix(m.shape[0], m.shape[1], seed=0)
    left, right = st.columns(2)
    conv_stats, dense_stats = matrix_stats(m), matrix_stats(dense)
    with left:
        st.plotly_chart(
            diagrams.matrix_pattern(m.numpy(), f"Convolution: {tuple(m.shape)}"),
            key="arith_matrix",
        )
        st.caption(
            f"{conv_stats['nonzero']} of {conv_stats['entries']} entries are nonzero "
            f"({conv_stats['sparsity']:.0%} zeros), and every one is a copy of one of the "
            f"kernel's {k * k} weights."
        )
    with right:
        st.plotly_chart(
            diagrams.matrix_pattern(dense.numpy(), f"Dense layer: {tuple(dense.shape)}"),
            key="arith_dense",
        )
        st.caption(
            f"A dense layer of the same shape: {dense_stats['nonzero']} nonzero entries, "
            f"{dense_stats['distinct_nonzero_values']} distinct values."
        )
    st.metric("max |M x − sliding window result|", f"{matrix_step_error(m, grid, steps):.1e}")
    claims = matrix_claims(m)
    sparse_note = (
        f"each output reads only some inputs: {conv_stats['entries'] - conv_stats['nonzero']} "
        "zeros (sparse interactions)"
        if claims["sparse"]
        else "no zeros: with these settings every output reads every input"
    )
    shared_note = (
        f"the same colours repeat from row to row, one weight filling up to "
        f"{claims['most_uses']} entries (parameter sharing)"
        if claims["shared"]
        else "no weight is used twice"
    )
    st.caption(f"What to notice: {sparse_note}; {shared_note}.")
else:
    st.info(
        "Switch the operation to convolution to see its matrix. (The transposed convolution "
        "multiplies by the transpose of that matrix, hence the name.)"
    )
