"""CNN · Padding, stride, dilation: the window stepping over a small grid, and the matrix view."""

import streamlit as st

from engine.conv import (
    accumulated_outputs,
    accumulated_stamps,
    conv_matrix_2d,
    conv_output_size,
    conv_steps,
    dense_matrix,
    matrix_stats,
    matrix_step_error,
    padded_grid,
    small_grid,
    small_kernel,
    step_products,
    transposed_conv2d,
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
d = c[5].number_input(
    "Dilation d",
    1,
    3,
    1,
    key="arith_d",
    disabled=mode == "transposed",
    help="Gaps between the kernel's taps (convolution only here).",
)

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
    st.caption(
        "What to notice: padding lets the window sit over the border, so the output keeps its "
        "size; stride skips positions and shrinks the output; dilation spreads the taps apart, "
        "seeing a wider area with the same number of weights."
    )
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
        rf"({n}-1)\cdot{s} - 2\cdot{p} + ({k}-1) + 1 = {n_out}"
    )
    full = transposed_full_size(n, k, s)
    frames = accumulated_stamps(tsteps, (full, full))
    fig = grids.sliding_animation(
        grid.numpy(),
        frames,
        [[(t.in_row, t.in_col)] for t in tsteps],
        [t.out_cells for t in tsteps],
        titles=(
            f"input {n}×{n}",
            f"output {full}×{full} before cropping p = {p} → {n_out}×{n_out}",
        ),
    )
    left, right = st.columns([4, 1])
    left.plotly_chart(fig, key="arith_tanim")
    right.plotly_chart(
        grids.annotated_grid(kernel.numpy(), f"kernel {k}×{k}", fmt="g", height=220),
        key="arith_tkernel",
    )
    st.plotly_chart(
        grids.annotated_grid(result.numpy(), "Cropped result", fmt="g", signed=False),
        key="arith_tresult",
    )
    st.caption(
        "What to notice: where stamps overlap, their values add. With stride s the stamps are s "
        "cells apart, so the output grows by a factor of about s: this is how decoders and "
        "segmentation networks upsample."
    )

st.divider()
st.subheader("The same convolution as one matrix multiplication")
st.markdown(
    "Flatten the input into a vector x. The convolution is then y = M x for a matrix M whose rows "
    "hold the kernel at shifted positions and zeros elsewhere (dilation 1 shown)."
)
if mode == "convolution":
    try:
        m = conv_matrix_2d(n, n, kernel, padding=p, stride=s)
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
    if d == 1:  # the matrix is built without dilation, so only then are the two comparable
        st.metric("max |M x − sliding window result|", f"{matrix_step_error(m, grid, steps):.1e}")
    st.caption(
        "What to notice: sparse interactions are the zeros; parameter sharing is the same "
        "colours repeating along the diagonals."
    )
else:
    st.info(
        "Switch the operation to convolution to see its matrix. (The transposed convolution "
        "multiplies by the transpose of that matrix, hence the name.)"
    )
