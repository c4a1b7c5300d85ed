"""CNN · Equivariance: convolution commutes with shifts, not with rotations or rescaling."""

import numpy as np
import streamlit as st
import torch

from engine.conv import (
    KERNEL_NAMES,
    MAX_KERNELS,
    NEAR_EQUIVARIANT,
    ErrorVerdict,
    edge_map_everywhere,
    error_verdict,
    make_kernel,
    rotation_errors,
    scale_errors,
    scales_that_fit,
    shift_verdict,
    translation_equivariance,
)
from engine.core import ExplorerError
from ui import figures
from ui.inputs import image_picker, working_tensor

st.title("Equivariance: shift the image, shift the features")
st.markdown(
    "A function f is *equivariant* to a transformation g when transforming the input transforms "
    "the output the same way. Convolution is equivariant to translation: moving a cat to the "
    "left moves its edges to the left in every feature map, so a detector learned in one place "
    "works everywhere."
)
st.latex(r"f(g(x)) = g(f(x)) \qquad f = \text{convolution},\; g = \text{shift}")
picked = image_picker("equi")

c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 2, 2])
KERNEL_SIDE = 5
name = c1.selectbox("Kernel", KERNEL_NAMES, index=KERNEL_NAMES.index("sobel x"), key="eq_kernel")
dy = c2.number_input("Shift down (px)", -40, 40, 12, key="eq_dy")
dx = c3.number_input("Shift right (px)", -40, 40, 20, key="eq_dx")
padding = c4.selectbox(
    "Padding and shift",
    ["circular", "zeros"],
    key="eq_pad",
    help="circular: the image wraps around like a torus, for both the padding and the shift. "
    "zeros: zero padding, and the shift fills the uncovered band with zeros.",
)
side = c5.slider("Working size (px)", 32, 256, 160, 16, key="eq_side")
gray = working_tensor(picked, side)
kernel = make_kernel(name, KERNEL_SIDE, angle_deg=30.0)
try:
    check = translation_equivariance(gray, kernel, int(dy), int(dx), padding_mode=padding)
except ExplorerError as err:
    st.error(f"{err} Try a smaller shift or a larger working size.")
    st.stop()

a, b, c = st.columns(3)
a.plotly_chart(
    figures.heatmap(
        check.shift_then_conv.numpy(),
        "shift, then convolve: f(g(x))",
        signed=True,
        colorbar=False,
        height=300,
    ),
    key="eq_fg",
)
b.plotly_chart(
    figures.heatmap(
        check.conv_then_shift.numpy(),
        "convolve, then shift: g(f(x))",
        signed=True,
        colorbar=False,
        height=300,
    ),
    key="eq_gf",
)
c.plotly_chart(
    figures.heatmap(
        check.difference.numpy(),
        "difference",
        signed=True,
        height=300,
        zmin=-float(check.conv_then_shift.abs().max()),
        zmax=float(check.conv_then_shift.abs().max()),
    ),
    key="eq_diff",
)
m1, m2, m3, m4 = st.columns(4)
m1.metric("max |difference|", f"{check.max_error:.2e}")
m2.metric("… inside", f"{check.interior_max_error:.2e}")
m3.metric("… in the border band", f"{check.border_max_error:.2e}")
m4.metric("relative error", f"{check.relative_error:.2e}")
verdict = shift_verdict(check)
if verdict == "exact":
    st.caption(
        f"What to notice: the largest difference, {check.max_error:.1e}, is float rounding: "
        "the two maps agree everywhere. On a torus nothing enters or leaves, so convolution is "
        "exactly shift-equivariant."
    )
elif verdict == "border only":
    st.caption(
        f"What to notice: inside, the largest difference is {check.interior_max_error:.1e}; "
        f"only a band along the edges differs (up to {check.border_max_error:.2f}), as wide as "
        "the shift plus half the kernel: there one map saw padding or the zero fill, the other "
        "saw real image. That border effect is the only break."
    )
else:
    st.caption(
        f"The maps differ inside too (up to {check.interior_max_error:.2e}), beyond rounding."
    )
st.divider()
st.subheader("Rotation and scaling: which kernels keep up?")
st.markdown(
    "Now g rotates or rescales the image about its centre. The error below is "
    "‖f(g(x)) − g(f(x))‖ / ‖g(f(x))‖ inside a central disk (the corners lost by rotating do "
    f"not count). Below the charts, each kernel is sorted by whether its error stayed within "
    f"{NEAR_EQUIVARIANT:.0%} at every angle or scale."
)
chosen = st.multiselect(
    "Kernels to compare",
    KERNEL_NAMES,
    ["gaussian", "laplacian", "sobel x", "gabor"],
    max_selections=MAX_KERNELS,
    key="eq_kernels",
)
ANGLES = list(range(0, 181, 10))
SCALES = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0]


def _verdict_text(kind: str, verdict: ErrorVerdict, where: str) -> str:
    """Return one line saying which kernels stayed within the tolerance and which did not."""
    parts = []
    if verdict.close:
        names = ", ".join(f"{n} (largest {e:.3f})" for n, e in verdict.close)
        parts.append(f"within {verdict.tol:.0%} everywhere: {names}")
    if verdict.far:
        names = ", ".join(f"{n} ({e:.2f} at {where.format(at)})" for n, e, at in verdict.far)
        parts.append(f"beyond {verdict.tol:.0%}: {names}")
    if verdict.unmeasured:
        parts.append(f"too weak a response to compare: {', '.join(verdict.unmeasured)}")
    return f"**{kind}**, largest relative error: " + "; ".join(parts) + "."


@st.cache_data(max_entries=32, show_spinner="Rotating and rescaling…")
def _curves(sha: str, side: int, names: tuple[str, ...], scales: tuple, _gray: torch.Tensor):
    bank = {n: make_kernel(n, KERNEL_SIDE, angle_deg=30.0) for n in names}
    scaled = scale_errors(_gray, bank, list(scales)) if scales else {}
    return rotation_errors(_gray, bank, ANGLES), scaled


usable = scales_that_fit(*gray.shape, KERNEL_SIDE, SCALES)
if len(usable) < len(SCALES):
    st.info(
        f"At {gray.shape[0]}×{gray.shape[1]} px the {len(SCALES) - len(usable)} smallest of the "
        f"{len(SCALES)} scales leave too small a disk to compare the maps in, so they are left "
        "out. Raise the working size to see them."
    )
rot = sca = None
if chosen:
    try:
        rot, sca = _curves(picked.sha, side, tuple(chosen), tuple(usable), gray)
    except ExplorerError as err:
        st.error(f"{err} Raise the working size.")
else:
    st.info("Pick one or more kernels to compare.")
if rot is not None:
    left, right = st.columns(2)
    left.plotly_chart(
        figures.lines(
            np.array(ANGLES),
            rot,
            x_title="rotation (degrees)",
            y_title="relative error",
            title="Rotation",
            modes=dict.fromkeys(rot, "lines+markers"),
        ),
        key="eq_rot",
    )
    if sca:
        right.plotly_chart(
            figures.lines(
                np.array(usable),
                sca,
                x_title="scale factor",
                y_title="relative error",
                title="Scaling",
                log_x=True,
                modes=dict.fromkeys(sca, "lines+markers"),
            ),
            key="eq_scale",
        )
    else:
        right.info("No scale leaves a disk large enough at this working size.")
    st.markdown(_verdict_text("Rotation", error_verdict(rot, ANGLES), "{:g}°"))
    if sca:
        st.markdown(_verdict_text("Scaling", error_verdict(sca, usable), "×{:g}"))
    st.caption(
        "Why: a round kernel (Gaussian) looks the same turned, an oriented one (Sobel, Gabor) "
        "does not: at 90° Sobel x sees what Sobel y saw. A "
        f"{KERNEL_SIDE}×{KERNEL_SIDE} kernel has one fixed size, so a zoomed pattern meets it "
        "at a different size. Networks get rotation and scale tolerance from data, from several "
        "kernels pooled together, and from pooling, not from convolution itself."
    )

st.divider()
st.subheader("One detector, every position")
edges = edge_map_everywhere(gray, make_kernel("sobel y", 3), padding_mode="replicate")
left, right = st.columns([3, 2])
left.plotly_chart(
    figures.heatmap(
        edges.response.numpy(), "Sobel y (horizontal edges), everywhere", signed=True, height=340
    ),
    key="eq_edges",
)
with right:
    st.metric("Positions where the same kernel was applied", f"{edges.positions:,}")
    st.metric("Weights it needed", f"{edges.parameters}")
    st.metric("Weights without sharing (one kernel per position)", f"{edges.unshared_parameters:,}")
    st.metric("Weights for a dense layer of the same size", f"{edges.dense_parameters:,}")
    st.metric("Positions with a strong edge response", f"{edges.strong_fraction:.1%}")
st.caption(
    f"{edges.parameters} numbers find horizontal edges across the whole picture: parameter "
    "sharing and translation equivariance are two views of the same design."
)
