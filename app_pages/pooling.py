"""CNN · Pooling and invariance: what each pooling keeps, and how stable it stays under changes."""

import numpy as np
import streamlit as st
import torch

from engine.conv import KERNEL_NAMES, make_kernel
from engine.core import ExplorerError
from engine.pooling import (
    BN_MOMENTUM,
    COMPARISONS,
    POOL_METHODS,
    SHIFT_DIRECTIONS,
    STABILITY_METHODS,
    STABILITY_TOL,
    ShiftFindings,
    batchnorm_demo,
    consistency,
    detector_map,
    dot_move,
    dropout_demo,
    eval_variance_claim,
    global_pool,
    pool2d,
    quarters_batch,
    rotation_stability,
    scale_stability,
    shift_findings,
    shift_stability,
    survived_fraction,
    valid_maps,
    worked_examples,
)
from ui import figures, grids
from ui.inputs import image_picker, working_tensor
from ui.sections import lazy_section

st.title("Pooling and invariance")
st.markdown(
    "A pooling layer replaces each neighbourhood of a feature map by a summary of it. The summary "
    "throws away *where exactly* inside the window something happened, which makes the output "
    "change little when the input moves a little."
)
picked = image_picker("pool")

c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 2])
feature = c1.selectbox(
    "Feature (kernel, then ReLU)",
    KERNEL_NAMES,
    index=KERNEL_NAMES.index("sobel y"),
    key="pool_feature",
)
size = c2.number_input("Window", 1, 16, 4, key="pool_size")
stride = c3.number_input("Stride", 1, 16, 4, key="pool_stride")
k = c4.number_input("k (k-max)", 1, 16, 2, key="pool_k")
side = c5.slider("Working size (px)", 32, 256, 128, 16, key="pool_side")

gray = working_tensor(picked, side)
kernel = make_kernel(feature, 5, angle_deg=45.0)
try:
    fmap = detector_map(gray, kernel)  # valid positions only: no padding is pooled
    pooled = {m: pool2d(fmap, m, int(size), int(stride), k=int(k)) for m in POOL_METHODS}
except ExplorerError as err:
    st.error(f"{err} Try a smaller window or k, or a larger working size.")
    st.stop()

st.latex(
    r"\text{max: } \max_{(i,j)\in R} a_{ij} \quad \text{average: } \tfrac{1}{|R|}\sum_{R} a_{ij}"
    r"\quad L^2\text{: } \sqrt{\textstyle\sum_{R} a_{ij}^2} \quad "
    r"k\text{-max: the } k \text{ largest } a_{ij} \text{, in their order of position}"
)
kmax = pooled["k-max"]  # (k, H', W')
maps = [fmap, pooled["max"], pooled["average"], pooled["l2"], *kmax]
titles = [
    f"{feature} after ReLU {tuple(fmap.shape)}",
    f"max {tuple(pooled['max'].shape)}",
    "average",
    "L2",
    *[f"k-max #{i + 1} (by position)" for i in range(kmax.shape[0])],
]
SHOWN = 9  # three rows of three maps
for first in range(0, min(len(maps), SHOWN), 3):
    cols = st.columns(3)
    for i, col in enumerate(cols, start=first):
        if i < min(len(maps), SHOWN):
            m = maps[i].numpy()
            scale, low, high = grids.value_scale(m)
            col.plotly_chart(
                figures.heatmap(m, titles[i], height=300, colorscale=scale, zmin=low, zmax=high),
                key=f"pool_map_{i}",
            )
if len(maps) > SHOWN:
    st.caption(f"Showing the first {SHOWN - 4} of k = {int(k)} k-max maps.")
st.caption(
    f"The feature map is computed only where the 5×5 kernel fits inside the image "
    f"({gray.shape[0]}×{gray.shape[1]} → {fmap.shape[0]}×{fmap.shape[1]}), so no zero padding "
    "is pooled: a black frame around a bright picture would otherwise give the largest values."
)
st.markdown(
    "How to read them: **max** answers *did the feature appear somewhere in this window?*; "
    "**average** *how strongly, or how often?*; **L2** sits between the two, weighting strong "
    "responses more; **k-max** *did it appear up to k times, and in what order?*"
)
glob = {m: global_pool(fmap[None], m, k=int(k))[0] for m in POOL_METHODS}
g = st.columns(4)
for col, m in zip(g, POOL_METHODS, strict=True):
    value = glob[m]
    shown = (
        ", ".join(f"{v:.3f}" for v in value.flatten().tolist()) if value.dim() else f"{value:.3f}"
    )
    col.metric(f"Global {m.replace('l2', 'L2')} pooling", shown)
st.caption(
    "Global pooling uses one window covering the whole map: one number (k for k-max) per "
    "feature map, whatever the image size, which is how networks end in a fixed-size vector."
)

ANGLES = [0, 2, 4, 6, 8, 10, 15, 20, 30]
SCALES = [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.25]


def _shift_text(found: ShiftFindings) -> str:
    """Return what the shift curves show about even and odd shifts, only where measured."""
    parts = []
    if found.even_kept is True:
        parts.append(
            "even shifts move the content by whole output cells, and every method kept all "
            "its outputs"
        )
    elif found.even_kept is False:
        parts.append("even shifts did not keep every output of every method here")
    if found.odd_means:
        means = ", ".join(f"{m} {v:.0%}" for m, v in found.odd_means.items())
        parts.append(f"odd shifts fall between cells; share kept on average: {means}")
    if found.blur_best:
        parts.append("blurring before subsampling kept the most")
    elif found.blur_best is False:
        parts.append("blurring before subsampling did not keep the most on this image")
    return "What the curves show: " + "; ".join(parts) + "."


@st.cache_data(max_entries=32, show_spinner="Shifting and pooling…")
def _shift_curves(
    sha: str, side: int, max_shift: int, direction: str, compare: str, _gray: torch.Tensor
) -> dict:
    return shift_stability(_gray, max_shift, direction=direction, compare=compare)


@st.cache_data(max_entries=32, show_spinner="Rotating and rescaling…")
def _warp_curves(sha: str, side: int, compare: str, _gray: torch.Tensor) -> tuple[dict, dict]:
    return (
        rotation_stability(_gray, ANGLES, compare=compare),
        scale_stability(_gray, SCALES, compare=compare),
    )


def stability_section() -> None:
    """Draw the shift curves, then the rotation and scaling curves, for the chosen comparison."""
    st.subheader("Shift the input: what stays the same?")
    st.markdown(
        "We shift your image by s pixels and push it through four ways of halving the resolution "
        "after a small bank of edge kernels (conv → ReLU → downsample). A pooled output counts as "
        f"*kept* if it changes by less than {STABILITY_TOL:.0%} of that map's range. Anti-aliased "
        "pooling takes the max with stride 1, then blurs before keeping every second value "
        "(Zhang, 2019)."
    )
    s1, s2, s3 = st.columns(3)
    direction = s1.selectbox("Shift direction", SHIFT_DIRECTIONS, key="pool_dir")
    compare = s2.selectbox(
        "Compare with",
        COMPARISONS,
        key="pool_cmp",
        help="moved: the output where the content went (shift/2 cells); in place: the same cell.",
    )
    max_shift = s3.slider("Largest shift (px)", 1, 8, 6, key="pool_max_shift")
    _shift_curves_shown(direction, compare, max_shift)
    st.subheader("Rotation and scaling invariance of pooling")
    _warp_curves_shown(compare)


def _shift_curves_shown(direction: str, compare: str, max_shift: int) -> None:
    """Draw the shift-stability curves, consistency metrics and what they show."""
    try:
        curves = _shift_curves(picked.sha, side, max_shift, direction, compare, gray)
    except ExplorerError as err:
        st.error(f"{err} Increase the working size.")
        return
    st.plotly_chart(
        figures.lines(
            np.arange(max_shift + 1),
            curves,
            x_title="shift s (pixels)",
            y_title="share of outputs kept",
            modes=dict.fromkeys(curves, "lines+markers"),
            title="Shift stability",
        ),
        key="pool_shift_curves",
    )
    score = consistency(curves)
    m = st.columns(len(score))
    for col, name in zip(m, STABILITY_METHODS, strict=True):
        col.metric(f"{name}: consistency", f"{score[name]:.2f}")
    st.caption(_shift_text(shift_findings(curves)))


def _warp_curves_shown(compare: str) -> None:
    """Draw the rotation and scaling curves side by side and what max pooling kept."""
    try:
        rot, sca = _warp_curves(picked.sha, side, compare, gray)
    except ExplorerError as err:
        st.error(f"{err} Increase the working size.")
        return
    a, b = st.columns(2)
    a.plotly_chart(
        figures.lines(
            np.array(ANGLES),
            rot,
            x_title="rotation (degrees)",
            y_title="share kept",
            title="Rotation invariance",
            modes=dict.fromkeys(rot, "lines+markers"),
        ),
        key="pool_rot",
    )
    b.plotly_chart(
        figures.lines(
            np.array(SCALES),
            sca,
            x_title="scale factor",
            y_title="share kept",
            title="Scaling invariance",
            modes=dict.fromkeys(sca, "lines+markers"),
        ),
        key="pool_scale",
    )
    near, far = SCALES.index(1.0) + 1, len(SCALES) - 1  # the smallest and largest zoom in
    st.caption(
        f"Max pooling kept {rot['max pool'][1]:.0%} of its outputs at {ANGLES[1]}° and "
        f"{rot['max pool'][-1]:.0%} at {ANGLES[-1]}°; zooming in ×{SCALES[near]:g} kept "
        f"{sca['max pool'][near]:.0%}, ×{SCALES[far]:g} kept {sca['max pool'][far]:.0%}. "
        "Tolerance to larger changes has to be learned, for example with several kernels for "
        "several orientations, pooled together."
    )


def hidden_section() -> None:
    """Draw the worked pairs max pooling cannot tell apart, then the moving dot."""
    st.subheader("What max pooling hides")
    for ex in worked_examples():
        _worked_example(ex)
    st.caption(
        "Max pooling answers both pairs identically: it keeps *that* the feature fired, not "
        "where in the window or how many times."
    )
    st.subheader("Pooling as downsampling: a dot that moves by one pixel")
    dot_section()


def _worked_example(ex: dict) -> None:
    """Draw one pair of regions and what each pooling answers for them."""
    a, b = ex["a"].numpy(), ex["b"].numpy()
    left, right = st.columns([2, 3])
    left.plotly_chart(
        grids.annotated_grids([a, b], ["region a", "region b"], signed=False, fmt="g", height=200),
        key=f"pool_ex_{ex['hides']}",
    )
    right.markdown(f"**{ex['hides']}**")
    right.dataframe(
        {
            "pooling": ["max", "average", "L2", "k-max (k=2)", "k-max positions"],
            "a": [
                f"{ex['max'][0]:g}",
                f"{ex['average'][0]:g}",
                f"{ex['l2'][0]:.3f}",
                str(ex["k-max(k=2)"][0]),
                str(ex["k-max positions(k=2)"][0]),
            ],
            "b": [
                f"{ex['max'][1]:g}",
                f"{ex['average'][1]:g}",
                f"{ex['l2'][1]:.3f}",
                str(ex["k-max(k=2)"][1]),
                str(ex["k-max positions(k=2)"][1]),
            ],
        },
        hide_index=True,
    )


DOT_POOL = 2


@st.fragment
def dot_section() -> None:
    """Draw the moving dot and its pooled maps; its slider reruns only this section."""
    d1, d2 = st.columns([1, 3])
    col = d1.slider("Dot column", 0, 6, 2, key="pool_dot_col")
    dot = dot_move(8, 3, col, pool_size=DOT_POOL)
    d1.metric("Pooled maps identical?", "yes" if dot.identical else "no")

    def _dot_text() -> str:
        """Return the rule, then what happened here, from the windows each dot fell in."""
        first, second = dot.windows
        here = (
            f"both dots lie in window column {first}, so the pooled maps are identical."
            if dot.identical
            else f"the dot moves from window column {first} to {second}, so the pooled 1 moves too."
        )
        return (
            f"{DOT_POOL}×{DOT_POOL} max pooling, stride {DOT_POOL}: moving the dot inside one "
            f"window changes nothing; crossing a window edge does. Here {here}"
        )

    d1.caption(_dot_text())
    d2.plotly_chart(
        grids.map_mosaic(
            [
                dot.inputs[0].numpy(),
                dot.inputs[1].numpy(),
                dot.pooled[0].numpy(),
                dot.pooled[1].numpy(),
            ],
            [f"dot at column {col}", f"dot at column {col + 1}", "pooled", "pooled"],
            cols=4,
            signed=False,
            height_per_row=200,
        ),
        key="pool_dots",
    )


def _bank() -> torch.Tensor:
    """Return the three 5×5 kernels (Sobel x, Sobel y, Laplacian) dropout and batch norm see."""
    return torch.stack(
        [make_kernel(n, 5, angle_deg=45.0) for n in ("sobel x", "sobel y", "laplacian")]
    )


def layers_section() -> None:
    """Draw dropout in training and evaluation, then batch normalization of the image quarters."""
    st.subheader("The other layers between convolutions: dropout and normalization")
    dropout_section()
    batchnorm_section()


@st.fragment
def dropout_section() -> None:
    """Draw dropout in training and evaluation; its slider reruns only this section."""
    p = st.slider("Dropout probability p", 0.0, 0.9, 0.5, 0.05, key="pool_p")
    maps = valid_maps(gray, _bank())  # (3, H-4, W-4): where the kernels fit, as above
    train = dropout_demo(maps, p, seed=0, training=True)
    evaluate = dropout_demo(maps, p, training=False)
    st.plotly_chart(
        grids.map_mosaic(
            np.stack([maps[0].numpy(), train[0].numpy(), evaluate[0].numpy()]),
            ["feature map", f"training: dropout p = {p:.2f}", "evaluation: unchanged"],
            cols=3,
            signed=False,
            height_per_row=230,
        ),
        key="pool_dropout",
    )
    kept = survived_fraction(maps, train)
    st.caption(
        f"In training, each value is zeroed with probability p and the survivors are scaled by "
        f"1/(1−p) = {1 / (1 - p):.2f} so the expected value is unchanged; here {kept:.0%} of the "
        "nonzero values survived. In evaluation dropout does nothing. The maps here, like the ones "
        f"below, are computed only where the 5×5 kernels fit ({gray.shape[0]}×{gray.shape[1]} → "
        f"{maps.shape[1]}×{maps.shape[2]}): no zero padding."
    )


BN_STEPS = 1


def batchnorm_section() -> None:
    """Draw batch norm of the Sobel-x channel in training and evaluation mode, with its numbers."""
    # Batch norm usually sits between the convolution and the nonlinearity: use the signed maps.
    pre = valid_maps(gray, _bank(), rectify=False)  # (3, H-4, W-4), signed
    batch = quarters_batch(pre)  # (4, 3, h/2, w/2): the image's four quarters as a batch
    norm = batchnorm_demo(batch, steps=BN_STEPS)
    st.plotly_chart(
        figures.histograms(
            {
                "before": batch[:, 0].numpy(),
                "training mode": norm.train_out[:, 0].numpy(),
                "evaluation mode": norm.eval_out[:, 0].numpy(),
            },
            title="Batch normalization of the Sobel-x channel "
            "(the four image quarters form the batch)",
            x_title="value",
            log_y=True,
        ),
        key="pool_bn",
    )
    n1, n2, n3 = st.columns(3)
    n1.metric(
        "Batch mean → after (training)", f"{norm.batch_mean[0]:.3f} → {norm.train_out_mean[0]:.1e}"
    )
    n2.metric(
        "Batch variance → after (training)",
        f"{norm.batch_var[0]:.3f} → {norm.train_out_var[0]:.3f}",
    )
    n3.metric(
        f"Running mean / variance after {BN_STEPS} step{'s' if BN_STEPS > 1 else ''}",
        f"{norm.running_mean[0]:.3f} / {norm.running_var[0]:.3f}",
    )
    st.caption(_batchnorm_text(norm))


def _batchnorm_text(norm) -> str:
    """Return how training and evaluation mode normalise, the verdict chosen by eval variance."""
    eval_var = float(norm.eval_out_var[0])
    plural = "s" if BN_STEPS > 1 else ""
    after_eval = (
        f"so its output is far from normalised (variance {eval_var:.3f} instead of 1): the "
        "classic train/eval mismatch of a freshly started network."
        if eval_variance_claim(eval_var) == "far"
        else f"yet its output's variance, {eval_var:.3f}, is close to 1 anyway: this batch's own "
        f"variance, {norm.batch_var[0]:.3f}, was already near 1."
    )
    return (
        "Training mode normalises with this batch's own mean and variance (mean 0, variance 1 "
        f"per channel). Evaluation mode uses running estimates, which after {BN_STEPS} "
        f"step{plural} with momentum {BN_MOMENTUM:g} have moved only "
        f"{norm.moved_fraction:.0%} of the way from 0 and 1, " + after_eval
    )


st.divider()
st.markdown(
    "**More below, computed when you open it:** how pooled outputs hold up when the input moves, "
    "what max pooling cannot tell apart, and the other layers that sit between convolutions."
)
lazy_section(
    "Shift, rotate and rescale the input: which pooling keeps its outputs? (stability curves)",
    "open_pool_stability",
    stability_section,
    icon=":material/swap_horiz:",
)
lazy_section(
    "What max pooling hides: pairs it cannot tell apart, and a dot that moves by one pixel",
    "open_pool_hidden",
    hidden_section,
    icon=":material/visibility_off:",
)
lazy_section(
    "Dropout and batch normalization: the other layers between convolutions",
    "open_pool_layers",
    layers_section,
    icon=":material/layers:",
)
