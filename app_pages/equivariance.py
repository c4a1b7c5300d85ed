"""CNN · Equivariance: convolution commutes with shifts, not with rotations or rescaling."""

import numpy as np
import streamlit as st
import torch

from engine.conv import (
    KERNEL_NAMES,
    MAX_KERNELS,
    NEAR_EQUIVARIANT,
    SHOWN_KERNEL_ANGLE,
    SHOWN_KERNEL_SIDE,
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
from ui.chart import chart
from ui.i18n import error_text, t
from ui.inputs import image_picker, working_tensor
from ui.links import linked

st.title(t("Equivariance: shift the image, shift the features"))
st.markdown(
    t(
        "A function f is *equivariant* to a transformation g when transforming the input "
        "transforms the output the same way. Convolution is equivariant to translation: moving a "
        "cat to the left moves its edges to the left in every feature map, so a detector learned "
        "in one place works everywhere."
    )
)
# i18n: the words of the formula f = convolution, g = shift (inside LaTeX \text{})
conv_word, shift_word = t("convolution"), t("shift")
st.latex(rf"f(g(x)) = g(f(x)) \qquad f = \text{{{conv_word}}},\; g = \text{{{shift_word}}}")
picked = image_picker("equi")

c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 2, 2])
name = linked(c1.selectbox)(
    t("Kernel"),
    KERNEL_NAMES,
    index=KERNEL_NAMES.index("sobel x"),
    format_func=t,
    key="eq_kernel",
)
dy = linked(c2.number_input)(t("Shift down (px)"), -40, 40, 12, key="eq_dy")
dx = linked(c3.number_input)(t("Shift right (px)"), -40, 40, 20, key="eq_dx")
SHIFT_MODES = {"circular": t("circular"), "zeros": t("zeros")}
padding = linked(c4.selectbox)(
    t("Padding and shift"),
    list(SHIFT_MODES),
    format_func=SHIFT_MODES.__getitem__,
    key="eq_pad",
    help=t(
        "circular: the image wraps around like a torus, for both the padding and the shift. "
        "zeros: zero padding, and the shift fills the uncovered band with zeros."
    ),
)
side = linked(c5.slider)(t("Working size (px)"), 32, 256, 160, 16, key="eq_side")
gray = working_tensor(picked, side)
kernel = make_kernel(name, SHOWN_KERNEL_SIDE, angle_deg=SHOWN_KERNEL_ANGLE)
try:
    check = translation_equivariance(gray, kernel, int(dy), int(dx), padding_mode=padding)
except ExplorerError as err:
    st.error(t("{error} Try a smaller shift or a larger working size.", error=error_text(err)))
    st.stop()

a, b, c = st.columns(3)
chart(
    figures.heatmap(
        check.shift_then_conv.numpy(),
        t("shift, then convolve: f(g(x))"),
        signed=True,
        colorbar=False,
        height=300,
    ),
    key="eq_fg",
    where=a,
)
chart(
    figures.heatmap(
        check.conv_then_shift.numpy(),
        t("convolve, then shift: g(f(x))"),
        signed=True,
        colorbar=False,
        height=300,
    ),
    key="eq_gf",
    where=b,
)
chart(
    figures.heatmap(
        check.difference.numpy(),
        t("difference"),
        signed=True,
        height=300,
        zmin=-float(check.conv_then_shift.abs().max()),
        zmax=float(check.conv_then_shift.abs().max()),
    ),
    key="eq_diff",
    where=c,
)
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("max |difference|"), f"{check.max_error:.2e}")
m2.metric(t("… inside"), f"{check.interior_max_error:.2e}")
m3.metric(t("… in the border band"), f"{check.border_max_error:.2e}")
m4.metric(t("relative error"), f"{check.relative_error:.2e}")
verdict = shift_verdict(check)
if verdict == "exact":
    st.caption(
        t(
            "What to notice: the largest difference, {error}, is float rounding: the two maps "
            "agree everywhere. On a torus nothing enters or leaves, so convolution is exactly "
            "shift-equivariant.",
            error=f"{check.max_error:.1e}",
        )
    )
elif verdict == "border only":
    st.caption(
        t(
            "What to notice: inside, the largest difference is {inside}; only a band along the "
            "edges differs (up to {border}), as wide as the shift plus half the kernel: there "
            "one map saw padding or the zero fill, the other saw real image. That border effect "
            "is the only break.",
            inside=f"{check.interior_max_error:.1e}",
            border=f"{check.border_max_error:.2f}",
        )
    )
else:
    st.caption(
        t(
            "The maps differ inside too (up to {inside}), beyond rounding.",
            inside=f"{check.interior_max_error:.2e}",
        )
    )
st.divider()
st.subheader(t("Rotation and scaling: which kernels keep up?"))
st.markdown(
    t(
        "Now g rotates or rescales the image about its centre. The error below is "
        "‖f(g(x)) − g(f(x))‖ / ‖g(f(x))‖ inside a central disk (the corners lost by rotating do "
        "not count). Below the charts, each kernel is sorted by whether its error stayed within "
        "{tol} at every angle or scale.",
        tol=f"{NEAR_EQUIVARIANT:.0%}",
    )
)
chosen = linked(st.multiselect)(
    t("Kernels to compare"),
    KERNEL_NAMES,
    ["gaussian", "laplacian", "sobel x", "gabor"],
    format_func=t,
    max_selections=MAX_KERNELS,
    key="eq_kernels",
)
ANGLES = list(range(0, 181, 10))
SCALES = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0]


def _verdict_text(kind: str, verdict: ErrorVerdict, where: str) -> str:
    """Return one line saying which kernels stayed within the tolerance and which did not."""
    parts, tol = [], f"{verdict.tol:.0%}"
    if verdict.close:
        names = ", ".join(
            t("{name} (largest {error})", name=t(n), error=f"{e:.3f}") for n, e in verdict.close
        )
        parts.append(t("within {tol} everywhere: {names}", tol=tol, names=names))
    if verdict.far:
        names = ", ".join(
            t("{name} ({error} at {where})", name=t(n), error=f"{e:.2f}", where=where.format(at))
            for n, e, at in verdict.far
        )
        parts.append(t("beyond {tol}: {names}", tol=tol, names=names))
    if verdict.unmeasured:
        names = ", ".join(t(n) for n in verdict.unmeasured)
        parts.append(t("too weak a response to compare: {names}", names=names))
    return t("**{kind}**, largest relative error: {parts}.", kind=kind, parts="; ".join(parts))


@st.cache_data(max_entries=32, show_spinner=False)
def _curves(sha: str, side: int, names: tuple[str, ...], scales: tuple, _gray: torch.Tensor):
    bank = {n: make_kernel(n, SHOWN_KERNEL_SIDE, angle_deg=SHOWN_KERNEL_ANGLE) for n in names}
    scaled = scale_errors(_gray, bank, list(scales)) if scales else {}
    return rotation_errors(_gray, bank, ANGLES), scaled


usable = scales_that_fit(*gray.shape, SHOWN_KERNEL_SIDE, SCALES)
if len(usable) < len(SCALES):
    st.info(
        t(
            "At {h}×{w} px the {dropped} smallest of the {total} scales leave too small a disk to "
            "compare the maps in, so they are left out. Raise the working size to see them.",
            h=gray.shape[0],
            w=gray.shape[1],
            dropped=len(SCALES) - len(usable),
            total=len(SCALES),
        )
    )
rot = sca = None
if chosen:
    try:
        with st.spinner(t("Rotating and rescaling…")):
            rot, sca = _curves(picked.sha, side, tuple(chosen), tuple(usable), gray)
    except ExplorerError as err:
        st.error(t("{error} Raise the working size.", error=error_text(err)))
else:
    st.info(t("Pick one or more kernels to compare."))
if rot is not None:
    # the legends show the kernels' names in the reader's language
    rot = {t(n): curve for n, curve in rot.items()}
    sca = {t(n): curve for n, curve in sca.items()}
    left, right = st.columns(2)
    chart(
        figures.lines(
            np.array(ANGLES),
            rot,
            x_title=t("rotation (degrees)"),
            y_title=t("relative error"),
            title=t("Rotation"),
            modes=dict.fromkeys(rot, "lines+markers"),
        ),
        key="eq_rot",
        where=left,
    )
    if sca:
        chart(
            figures.lines(
                np.array(usable),
                sca,
                x_title=t("scale factor"),
                y_title=t("relative error"),
                title=t("Scaling"),
                log_x=True,
                modes=dict.fromkeys(sca, "lines+markers"),
            ),
            key="eq_scale",
            where=right,
        )
    else:
        right.info(t("No scale leaves a disk large enough at this working size."))
    st.markdown(_verdict_text(t("Rotation"), error_verdict(rot, ANGLES), "{:g}°"))
    if sca:
        st.markdown(_verdict_text(t("Scaling"), error_verdict(sca, usable), "×{:g}"))
    st.caption(
        t(
            "Why: a round kernel (Gaussian) looks the same turned, an oriented one (Sobel, Gabor) "
            "does not: at 90° Sobel x sees what Sobel y saw. A {k}×{k} kernel has one fixed size, "
            "so a zoomed pattern meets it at a different size. Networks get rotation and scale "
            "tolerance from data, from several kernels pooled together, and from pooling, not "
            "from convolution itself.",
            k=SHOWN_KERNEL_SIDE,
        )
    )

st.divider()
st.subheader(t("One detector, every position"))
edges = edge_map_everywhere(gray, make_kernel("sobel y", 3), padding_mode="replicate")
left, right = st.columns([3, 2])
chart(
    figures.heatmap(
        edges.response.numpy(),
        t("Sobel y (horizontal edges), everywhere"),
        signed=True,
        height=340,
    ),
    key="eq_edges",
    where=left,
)
with right:
    st.metric(t("Positions where the same kernel was applied"), f"{edges.positions:,}")
    st.metric(t("Weights it needed"), f"{edges.parameters}")
    st.metric(
        t("Weights without sharing (one kernel per position)"), f"{edges.unshared_parameters:,}"
    )
    st.metric(t("Weights for a dense layer of the same size"), f"{edges.dense_parameters:,}")
    st.metric(t("Positions with a strong edge response"), f"{edges.strong_fraction:.1%}")
st.caption(
    t(
        "{count} numbers find horizontal edges across the whole picture: parameter sharing and "
        "translation equivariance are two views of the same design.",
        count=edges.parameters,
    )
)
