"""CNN · A convolutional layer: convolution → detector → pooling, on inputs of any size."""

import streamlit as st
import torch

from engine.conv import (
    KERNEL_NAMES,
    NONLINEARITIES,
    POOLS,
    conv_output_size,
    feature_maps,
    is_sparse,
    layer_stages,
    make_kernel,
    resize_image,
    stage_shares,
)
from engine.core import N_, ExplorerError
from ui import figures, grids
from ui.chart import chart
from ui.i18n import error_text, t
from ui.inputs import image_picker, working_tensor
from ui.links import linked

st.title(t("A convolutional layer, stage by stage"))
st.markdown(
    t(
        "A convolutional layer is three steps: several kernels convolve the image (**convolution "
        "stage**), a nonlinearity is applied to every value (**detector stage**), and a pooling "
        "function summarises each neighbourhood (**pooling stage**)."
    )
)
picked = image_picker("layer")

c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1])
chosen = linked(c1.multiselect)(
    t("Kernels"),
    KERNEL_NAMES,
    ["sobel x", "sobel y", "laplacian", "gabor"],
    format_func=t,
    max_selections=8,
    key="layer_kernels",
)
nonlin = linked(c2.selectbox)(t("Detector"), NONLINEARITIES, format_func=t, key="layer_nonlin")
pool = linked(c3.selectbox)(t("Pooling"), POOLS, format_func=t, key="layer_pool")
pool_size = linked(c4.number_input)(t("Pool size"), 1, 8, 2, key="layer_pool_size")
pool_stride = linked(c5.number_input)(t("Pool stride"), 1, 8, 2, key="layer_pool_stride")
side = linked(st.slider)(t("Working size (longest side, px)"), 32, 256, 128, 16, key="layer_side")

if not chosen:
    st.warning(t("Pick at least one kernel."))
    st.stop()
kernels = [make_kernel(name, 5, angle_deg=45.0) for name in chosen]
bank = torch.stack(kernels)  # (K, 5, 5)
gray = working_tensor(picked, side)
try:
    stages = layer_stages(
        gray,
        bank,
        nonlinearity=nonlin,
        pool=pool,
        pool_size=int(pool_size),
        pool_stride=int(pool_stride),
    )
except ExplorerError as err:
    st.error(t("{error} Try a smaller pool or a larger working size.", error=error_text(err)))
    st.stop()

st.latex(
    r"z = K * I + b \;\;\rightarrow\;\; a = g(z) \;\;\rightarrow\;\; "
    r"p_{ij} = \operatorname{pool}\{a_{i'j'} : (i',j') \in \text{window}(i,j)\}"
)
K = len(chosen)
h, w = stages.conv.shape[-2:]
ph, pw = stages.pooled.shape[-2:]
titles = [t(name) for name in chosen]
st.markdown(
    t(
        "**1 · Convolution stage**: {count} kernels (5×5), each map {h}×{w}; blue is negative.",
        count=K,
        h=h,
        w=w,
    )
)
conv_title = t("Convolution stage: one map per kernel")
chart(
    grids.map_mosaic(stages.conv.numpy(), titles, cols=min(K, 4), title=conv_title),
    key="layer_conv",
)
st.markdown(t("**2 · Detector stage**: {nonlin} applied to every value.", nonlin=t(nonlin)))
detector_title = t("Detector stage: the maps after the nonlinearity")
chart(
    grids.map_mosaic(stages.detector.numpy(), titles, cols=min(K, 4), title=detector_title),
    key="layer_det",
)
st.markdown(
    t(
        "**3 · Pooling stage**: {pool} over {size}×{size} windows, stride {stride} → {ph}×{pw}.",
        pool=t(pool),
        size=pool_size,
        stride=pool_stride,
        ph=ph,
        pw=pw,
    )
)
chart(
    grids.map_mosaic(
        stages.pooled.numpy(),
        titles,
        cols=min(K, 4),
        title=t("Pooling stage: the pooled maps"),
    ),
    key="layer_pool_maps",
)
shares = stage_shares(stages)
a, b, c = st.columns(3)
a.metric(t("Convolution outputs below zero"), f"{shares['negative']:.0%}")
b.metric(t("Detector outputs exactly zero"), f"{shares['zero']:.0%}")
c.metric(t("Values after pooling / before"), f"{ph * pw}/{h * w} = {shares['kept']:.2f}")
POOL_KEEPS = {"max": t("the strongest response"), "average": t("the mean response")}
ZERO_NOTE = (
    N_(
        "What to notice: {nonlin} left {zero} of the values exactly zero, so the maps are "
        "sparse; {pool} pooling keeps one value per window, {keeps}."
    )
    if is_sparse(shares)
    else N_(
        "What to notice: {nonlin} left {zero} of the values exactly zero; {pool} pooling keeps "
        "one value per window, {keeps}."
    )
)
st.caption(
    t(
        ZERO_NOTE,
        nonlin=t(nonlin),
        zero=f"{shares['zero']:.0%}",
        pool=t(pool),
        keeps=POOL_KEEPS[pool],
    )
)

st.divider()
st.subheader(t("Any input size"))
st.markdown(
    t(
        "The kernel does not care how big the image is: it slides over whatever is there. So the "
        "same layer accepts inputs of any size, and the output size follows the input. A dense "
        "layer cannot do this: its weight matrix is built for one input length."
    )
)
scales = linked(st.multiselect)(
    t("Input scales"), [0.25, 0.5, 0.75, 1.0, 1.5], [0.25, 0.5, 1.0], key="layer_scales"
)
kernel = make_kernel("sobel x", 3)
kside = kernel.shape[0]
cols = st.columns(max(1, len(scales)))
for col, scale in zip(cols, sorted(scales), strict=False):
    with col:
        try:
            img = resize_image(gray, scale)
            fmap = feature_maps(img, kernel, padding=0)[0]
            size_h = conv_output_size(img.shape[0], kside)
            size_w = conv_output_size(img.shape[1], kside)
        except ExplorerError as err:
            st.error(f"×{scale}: {error_text(err)}")
            continue
        chart(
            figures.heatmap(
                fmap.numpy(),
                f"×{scale}: {img.shape[0]}×{img.shape[1]} → {fmap.shape[0]}×{fmap.shape[1]}",
                signed=True,
                colorbar=False,
                height=260,
            ),
            key=f"layer_scale_{scale}",
        )
        st.caption(
            t(
                "formula: ⌊({h} − {k})/1⌋ + 1 = {size_h}, ⌊({w} − {k})/1⌋ + 1 = {size_w}; same "
                "{weights} weights.",
                h=img.shape[0],
                w=img.shape[1],
                k=kside,
                size_h=size_h,
                size_w=size_w,
                weights=kernel.numel(),
            )
        )
if not scales:
    st.info(t("Pick one or more scales."))
