"""CNN · Kernels on your image: 2D convolution, the arithmetic of one output pixel, and flipping."""

import numpy as np
import pandas as pd
import streamlit as st

from engine.conv import (
    KERNEL_NAMES,
    compare_flip,
    feature_maps,
    make_kernel,
    patch_arithmetic,
    pixel_check,
    strongest_pixel,
)
from engine.core import N_, ExplorerError
from ui import figures, grids
from ui.chart import chart
from ui.i18n import error_text, t
from ui.inputs import clamp_state, image_picker, pick_cell_on_click, working_tensor
from ui.links import decode_grid, encode_grid, keep_param, linked, linked_start
from ui.sections import lazy_section

KERNEL_PARAM = "k2d_kernel"  # the edited kernel in a link, row by row (bank values: absent)

st.title(t("Kernels on your image"))
st.markdown(
    t(
        "A kernel is a small grid of weights. Sliding it over the image and, at each position, "
        "multiplying the pixels under it by the weights and adding up gives one output pixel; all "
        "positions together give a **feature map**."
    )
)

picked = image_picker("conv2d")

c1, c2, c3, c4 = st.columns([2, 1, 1, 2])
name = linked(c1.selectbox)(
    t("Kernel"),
    KERNEL_NAMES,
    index=KERNEL_NAMES.index("sobel x"),
    format_func=t,
    key="k2d_name",
)
size = linked(c2.radio)(t("Size"), [3, 5, 7], horizontal=True, key="k2d_size")
angle = linked(c3.slider)(
    t("Gabor angle (°)"), 0, 180, 45, 15, key="k2d_angle", disabled=name != "gabor"
)
side = linked(c4.slider)(
    t("Working size (longest side, px)"),
    32,
    256,
    160,
    16,
    key="k2d_side",
    help=t("The image is shrunk to this size so every output pixel can be clicked."),
)

bank_kernel = make_kernel(name, size, angle_deg=float(angle))
bank_values = bank_kernel.numpy().astype(np.float64).round(4).tolist()
editor = f"k2d_editor_{name}_{size}_{angle}"
start = linked_start(KERNEL_PARAM, editor, lambda raw: decode_grid(raw, (size, size)), bank_values)
with st.expander(t("Edit the kernel cell by cell"), expanded=start is not bank_values):
    st.caption(
        t(
            "Change any number; the feature map and the arithmetic below follow. Switching the "
            "kernel above starts again from the bank's values."
        )
    )
    edited = st.data_editor(pd.DataFrame(start), key=editor, width="content")
values = edited.to_numpy(dtype=np.float64, na_value=np.nan)
if not np.isfinite(values).all():
    st.error(
        t(
            "Every kernel cell needs a number; an empty or non-numeric cell was replaced by the "
            "bank's value."
        )
    )
    values = np.where(np.isfinite(values), values, bank_kernel.numpy())
kernel = bank_kernel.new_tensor(values)
keep_param(KERNEL_PARAM, None if values.tolist() == bank_values else encode_grid(values.tolist()))
gray = working_tensor(picked, side)  # (H, W)

try:
    out = feature_maps(gray, kernel)[0]  # (H, W), 'same' padding
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()

st.latex(r"S(i,j) = (I \star K)(i,j) = \sum_m \sum_n I(i+m,\, j+n)\, K(m,n)")
h, w = out.shape
# First visit: explain the most striking pixel away from the zero-padded border.
strongest = strongest_pixel(out, margin=size // 2 + 1)
if st.session_state.get("k2d_image") != picked.sha:  # a new picture: start on its own best pixel
    st.session_state["k2d_image"] = picked.sha
    st.session_state.pop("k2d_row", None)
    st.session_state.pop("k2d_col", None)


@st.fragment
def explain_pixel() -> None:
    """Draw the maps with the chosen pixel marked and its arithmetic; a click reruns only this."""
    row = clamp_state("k2d_row", 0, h - 1, strongest[0])
    col = clamp_state("k2d_col", 0, w - 1, strongest[1])

    left, mid, right = st.columns([2, 2, 1])
    with left:
        chart(
            figures.heatmap(
                gray.numpy(), t("Input (grey levels 0–1)"), selected=(row, col), colorbar=False
            ),
            key="k2d_input",
        )
    with mid:
        chart(
            figures.heatmap(
                out.numpy(),
                t(
                    "Feature map: {name} {size}×{size} — click a pixel",
                    name=t(name),
                    size=size,
                ),
                signed=True,
                pickable=True,
                selected=(row, col),
            ),
            key="k2d_output",
            on_click=pick_cell_on_click("k2d_row", "k2d_col"),
        )
    with right:
        chart(grids.annotated_grid(kernel.numpy(), t("Kernel K")), key="k2d_kernel")
        st.number_input(t("Row i"), 0, h - 1, key="k2d_row")
        st.number_input(t("Column j"), 0, w - 1, key="k2d_col")

    st.subheader(t("Output pixel ({row}, {col}), one multiply-add at a time", row=row, col=col))
    arith = patch_arithmetic(gray, kernel, row, col)
    chart(
        grids.annotated_grids(
            [arith.patch.numpy(), arith.kernel.numpy(), arith.products.numpy()],
            [t("input patch I"), t("kernel K"), t("products I·K")],
            fmt=".3f",
            height=240 + 25 * size,
            operators=["×", "="],
            title=t("One output pixel: patch × kernel = products"),
        ),
        key="k2d_arith",
    )
    check = pixel_check(arith.total, float(out[row, col]))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("Sum of the products"), f"{check.by_hand:.6f}")
    m2.metric(t("Feature map at this pixel (torch conv2d)"), f"{check.from_torch:.6f}")
    m3.metric(t("Difference"), f"{check.difference:.1e}")
    outside = arith.padding_taps
    agree = (
        t(
            "What to notice: the two numbers agree (up to float rounding): the feature map is "
            "nothing but this sum, repeated at every pixel with the same kernel. "
        )
        if check.agrees
        else t(
            "What to notice: the two numbers differ by {difference}, more than float rounding "
            "explains. ",
            difference=f"{check.difference:.1e}",
        )
    )
    frame = t(
        "A bright frame along the edges of the map comes from the zero padding: just outside the "
        "image the kernel sees black."
    )
    taps = (
        t(" Here {outside} taps hang over the border and read the zero padding.", outside=outside)
        if outside
        else ""
    )
    st.caption(agree + frame + taps)


explain_pixel()

st.divider()
st.subheader(t("Convolution or cross-correlation?"))
st.markdown(
    t(
        "Mathematically, convolution flips the kernel before sliding it; "
        "`torch.nn.functional.conv2d` (like most libraries) does **not** flip: it computes "
        "cross-correlation. For a learned kernel "
        "this makes no difference (training would just learn the flipped weights), but for a given "
        "kernel the two outputs differ unless the kernel is symmetric under a 180° turn."
    )
)
st.latex(r"(I * K)(i,j) = \sum_m \sum_n I(i-m,\, j-n)\, K(m,n) = (I \star \mathrm{flip}(K))(i,j)")


def _flip_maps(flipped) -> None:
    """Draw cross-correlation, true convolution and their difference side by side."""
    panels = [  # (map, title, chart key, own colour bar)
        (flipped.correlation, t("Cross-correlation (conv2d)"), "k2d_xcorr", False),
        (flipped.convolution, t("True convolution (kernel flipped)"), "k2d_true", False),
        (flipped.difference, t("Difference"), "k2d_diff", True),
    ]
    for column, (values, title, key, bar) in zip(st.columns(3), panels, strict=True):
        figure = figures.heatmap(values.numpy(), title, signed=True, colorbar=bar, height=300)
        chart(figure, key=key, where=column)


def _flip_text(flipped) -> str:
    """Return the what-to-notice caption, each clause chosen by the measured differences."""
    if flipped.outputs_equal:
        first = t(
            N_(
                "What to notice: this kernel is the same after a 180° turn, so the two outputs "
                "are identical (a Gaussian, box blur or Laplacian). "
            )
            if flipped.symmetric
            else N_(
                "What to notice: this kernel changes under a 180° turn, yet on this image the two "
                "outputs agree up to rounding. "
            )
        )
    else:
        first = t(
            N_(
                "What to notice: this kernel is the same under a 180° turn, and the two outputs "
                "differ by up to {difference} (Sobel and emboss give opposite signs). "
            )
            if flipped.symmetric
            else N_(
                "What to notice: this kernel changes under a 180° turn, and the two outputs "
                "differ by up to {difference} (Sobel and emboss give opposite signs). "
            ),
            difference=f"{flipped.max_difference:.3g}",
        )
    last = (
        t(
            "The middle number is zero up to rounding: flipping the kernel turns one operation "
            "into the other."
        )
        if flipped.flip_identity_holds
        else t(
            "The middle number, {error}, is more than rounding.",
            error=f"{flipped.max_flip_error:.1e}",
        )
    )
    return first + last


def _flip_section() -> None:
    """Draw both outputs, their difference, the checks and the caption, for the current kernel."""
    flipped = compare_flip(gray, kernel)
    _flip_maps(flipped)
    k1, k2, k3 = st.columns(3)
    k1.metric(t("max |convolution − cross-correlation|"), f"{flipped.max_difference:.4g}")
    k2.metric(t("max |convolution − cross-corr. with flipped K|"), f"{flipped.max_flip_error:.1e}")
    k3.metric(t("Kernel symmetric under 180° turn?"), t("yes") if flipped.symmetric else t("no"))
    st.caption(_flip_text(flipped))


lazy_section(
    t("Both outputs on your image, their difference and the flip check (3 maps)"),
    "open_k2d_flip",
    _flip_section,
)
