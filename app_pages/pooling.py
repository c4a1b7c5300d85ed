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
from ui.chart import chart
from ui.i18n import error_text, t, tn
from ui.inputs import image_picker, working_tensor
from ui.links import linked
from ui.sections import lazy_section
from ui.tables import table

st.title(t("Pooling and invariance"))
st.markdown(
    t(
        "A pooling layer replaces each neighbourhood of a feature map by a summary of it. The "
        "summary throws away *where exactly* inside the window something happened, which makes the "
        "output change little when the input moves a little."
    )
)
picked = image_picker("pool")

c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 2])
feature = linked(c1.selectbox)(
    t("Feature (kernel, then ReLU)"),
    KERNEL_NAMES,
    index=KERNEL_NAMES.index("sobel y"),
    format_func=t,
    key="pool_feature",
)
size = linked(c2.number_input)(t("Window"), 1, 16, 4, key="pool_size")
stride = linked(c3.number_input)(t("Stride"), 1, 16, 4, key="pool_stride")
k = linked(c4.number_input)(t("k (k-max)"), 1, 16, 2, key="pool_k")
side = linked(c5.slider)(t("Working size (px)"), 32, 256, 128, 16, key="pool_side")

gray = working_tensor(picked, side)
kernel = make_kernel(feature, 5, angle_deg=45.0)
try:
    fmap = detector_map(gray, kernel)  # valid positions only: no padding is pooled
    pooled = {m: pool2d(fmap, m, int(size), int(stride), k=int(k)) for m in POOL_METHODS}
except ExplorerError as err:
    st.error(
        t(
            "{error} Try a smaller window or k, or a larger working size.",
            error=error_text(err),
        )
    )
    st.stop()

st.latex(  # one message: the formula's words are translated together, in their order
    t(
        r"\text{max: } \max_{(i,j)\in R} a_{ij} \quad \text{average: } "
        r"\tfrac{1}{|R|}\sum_{R} a_{ij}\quad L^2\text{: } \sqrt{\textstyle\sum_{R} a_{ij}^2} "
        r"\quad k\text{-max: the } k \text{ largest } a_{ij} \text{, in their order of position}"
    )
)
kmax = pooled["k-max"]  # (k, H', W')
maps = [fmap, pooled["max"], pooled["average"], pooled["l2"], *kmax]
titles = [
    t("{feature} after ReLU {shape}", feature=t(feature), shape=tuple(fmap.shape)),
    t("max {shape}", shape=tuple(pooled["max"].shape)),
    t("average"),
    "L2",
    *[t("k-max #{rank} (by position)", rank=i + 1) for i in range(kmax.shape[0])],
]
SHOWN = 9  # three rows of three maps
for first in range(0, min(len(maps), SHOWN), 3):
    cols = st.columns(3)
    for i, col in enumerate(cols, start=first):
        if i < min(len(maps), SHOWN):
            m = maps[i].numpy()
            scale, low, high = grids.value_scale(m)
            chart(
                figures.heatmap(m, titles[i], height=300, colorscale=scale, zmin=low, zmax=high),
                key=f"pool_map_{i}",
                where=col,
            )
if len(maps) > SHOWN:
    st.caption(t("Showing the first {shown} of k = {k} k-max maps.", shown=SHOWN - 4, k=int(k)))
st.caption(
    t(
        "The feature map is computed only where the 5×5 kernel fits inside the image "
        "({h}×{w} → {fh}×{fw}), so no zero padding is pooled: a black frame around a bright "
        "picture would otherwise give the largest values.",
        h=gray.shape[0],
        w=gray.shape[1],
        fh=fmap.shape[0],
        fw=fmap.shape[1],
    )
)
st.markdown(
    t(
        "How to read them: **max** answers *did the feature appear somewhere in this window?*; "
        "**average** *how strongly, or how often?*; **L2** sits between the two, weighting strong "
        "responses more; **k-max** *did it appear up to k times, and in what order?*"
    )
)
GLOBAL_NAMES = {
    "max": t("Global max pooling"),
    "average": t("Global average pooling"),
    "l2": t("Global L2 pooling"),
    "k-max": t("Global k-max pooling"),
}
glob = {m: global_pool(fmap[None], m, k=int(k))[0] for m in POOL_METHODS}
g = st.columns(4)
for col, m in zip(g, POOL_METHODS, strict=True):
    value = glob[m]
    shown = (
        ", ".join(f"{v:.3f}" for v in value.flatten().tolist()) if value.dim() else f"{value:.3f}"
    )
    col.metric(GLOBAL_NAMES[m], shown)
st.caption(
    t(
        "Global pooling uses one window covering the whole map: one number (k for k-max) per "
        "feature map, whatever the image size, which is how networks end in a fixed-size vector."
    )
)

ANGLES = [0, 2, 4, 6, 8, 10, 15, 20, 30]
SCALES = [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.25]


def _shift_text(found: ShiftFindings) -> str:
    """Return what the shift curves show about even and odd shifts, only where measured."""
    parts = []
    if found.even_kept is True:
        parts.append(
            t(
                "even shifts move the content by whole output cells, and every method kept all "
                "its outputs"
            )
        )
    elif found.even_kept is False:
        parts.append(t("even shifts did not keep every output of every method here"))
    if found.odd_means:
        means = t(", ").join(f"{t(m)} {v:.0%}" for m, v in found.odd_means.items())
        parts.append(
            t("odd shifts fall between cells; share kept on average: {means}", means=means)
        )
    if found.blur_best:
        parts.append(t("blurring before subsampling kept the most"))
    elif found.blur_best is False:
        parts.append(t("blurring before subsampling did not keep the most on this image"))
    return t("What the curves show: {findings}.", findings=t("; ").join(parts))


@st.cache_data(max_entries=32, show_spinner=False)
def _shift_curves(
    sha: str, side: int, max_shift: int, direction: str, compare: str, _gray: torch.Tensor
) -> dict:
    return shift_stability(_gray, max_shift, direction=direction, compare=compare)


@st.cache_data(max_entries=32, show_spinner=False)
def _warp_curves(sha: str, side: int, compare: str, _gray: torch.Tensor) -> tuple[dict, dict]:
    return (
        rotation_stability(_gray, ANGLES, compare=compare),
        scale_stability(_gray, SCALES, compare=compare),
    )


def stability_section() -> None:
    """Draw the shift curves, then the rotation and scaling curves, for the chosen comparison."""
    st.subheader(t("Shift the input: what stays the same?"))
    st.markdown(
        t(
            "We shift your image by s pixels and push it through four ways of halving the "
            "resolution after a small bank of edge kernels (conv → ReLU → downsample). A pooled "
            "output counts as *kept* if it changes by less than {tol} of that map's range. "
            "Anti-aliased pooling takes the max with stride 1, then blurs before keeping every "
            "second value (Zhang, 2019).",
            tol=f"{STABILITY_TOL:.0%}",
        )
    )
    s1, s2, s3 = st.columns(3)
    direction = linked(s1.selectbox)(
        t("Shift direction"), SHIFT_DIRECTIONS, format_func=t, key="pool_dir"
    )
    compare = linked(s2.selectbox)(
        t("Compare with"),
        COMPARISONS,
        format_func=t,
        key="pool_cmp",
        help=t(
            "moved: the output where the content went (shift/2 cells); in place: the same cell."
        ),
    )
    max_shift = linked(s3.slider)(t("Largest shift (px)"), 1, 8, 6, key="pool_max_shift")
    _shift_curves_shown(direction, compare, max_shift)
    st.subheader(t("Rotation and scaling invariance of pooling"))
    _warp_curves_shown(compare)


def _shift_curves_shown(direction: str, compare: str, max_shift: int) -> None:
    """Draw the shift-stability curves, consistency metrics and what they show."""
    try:
        with st.spinner(t("Shifting and pooling…")):
            curves = _shift_curves(picked.sha, side, max_shift, direction, compare, gray)
    except ExplorerError as err:
        st.error(t("{error} Increase the working size.", error=error_text(err)))
        return
    chart(
        figures.lines(
            np.arange(max_shift + 1),
            _named(curves),
            x_title=t("shift s (pixels)"),
            y_title=t("share of outputs kept"),
            modes=dict.fromkeys(_named(curves), "lines+markers"),
            title=t("Shift stability"),
        ),
        key="pool_shift_curves",
    )
    score = consistency(curves)
    m = st.columns(len(score))
    for col, name in zip(m, STABILITY_METHODS, strict=True):
        col.metric(t("{method}: consistency", method=t(name)), f"{score[name]:.2f}")
    st.caption(_shift_text(shift_findings(curves)))


def _named(curves: dict) -> dict:
    """Return the curves keyed by their methods' names in the session's language."""
    return {t(name): values for name, values in curves.items()}


def _warp_curves_shown(compare: str) -> None:
    """Draw the rotation and scaling curves side by side and what max pooling kept."""
    try:
        with st.spinner(t("Rotating and rescaling…")):
            rot, sca = _warp_curves(picked.sha, side, compare, gray)
    except ExplorerError as err:
        st.error(t("{error} Increase the working size.", error=error_text(err)))
        return
    a, b = st.columns(2)
    chart(
        figures.lines(
            np.array(ANGLES),
            _named(rot),
            x_title=t("rotation (degrees)"),
            y_title=t("share kept"),
            title=t("Rotation invariance"),
            modes=dict.fromkeys(_named(rot), "lines+markers"),
        ),
        key="pool_rot",
        where=a,
    )
    chart(
        figures.lines(
            np.array(SCALES),
            _named(sca),
            x_title=t("scale factor"),
            y_title=t("share kept"),
            title=t("Scaling invariance"),
            modes=dict.fromkeys(_named(sca), "lines+markers"),
        ),
        key="pool_scale",
        where=b,
    )
    near, far = SCALES.index(1.0) + 1, len(SCALES) - 1  # the smallest and largest zoom in
    st.caption(
        t(
            "Max pooling kept {rot_small} of its outputs at {small}° and {rot_large} at "
            "{large}°; zooming in ×{near} kept {near_kept}, ×{far} kept {far_kept}. Tolerance "
            "to larger changes has to be learned, for example with several kernels for several "
            "orientations, pooled together.",
            rot_small=f"{rot['max pool'][1]:.0%}",
            small=ANGLES[1],
            rot_large=f"{rot['max pool'][-1]:.0%}",
            large=ANGLES[-1],
            near=f"{SCALES[near]:g}",
            near_kept=f"{sca['max pool'][near]:.0%}",
            far=f"{SCALES[far]:g}",
            far_kept=f"{sca['max pool'][far]:.0%}",
        )
    )


def hidden_section() -> None:
    """Draw the worked pairs max pooling cannot tell apart, then the moving dot."""
    st.subheader(t("What max pooling hides"))
    for ex in worked_examples():
        _worked_example(ex)
    st.caption(
        t(
            "Max pooling answers both pairs identically: it keeps *that* the feature fired, not "
            "where in the window or how many times."
        )
    )
    st.subheader(t("Pooling as downsampling: a dot that moves by one pixel"))
    dot_section()


def _worked_example(ex: dict) -> None:
    """Draw one pair of regions and what each pooling answers for them."""
    a, b = ex["a"].numpy(), ex["b"].numpy()
    left, right = st.columns([2, 3])
    chart(
        grids.annotated_grids(
            [a, b],
            [t("region a"), t("region b")],
            signed=False,
            fmt="g",
            height=200,
            title=t("What max pooling hides: regions a and b"),
        ),
        key=f"pool_ex_{ex['hides']}",
        where=left,
    )
    right.markdown(f"**{t(ex['hides'])}**")
    table(
        {
            t("pooling"): [
                t("max"),
                t("average"),
                "L2",
                "k-max (k=2)",
                t("k-max positions"),
            ],
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
        csv_name="pooled-" + "-".join(ex["hides"].replace(",", "").split()),
        where=right,
    )


DOT_POOL = 2


@st.fragment
def dot_section() -> None:
    """Draw the moving dot and its pooled maps; its slider reruns only this section."""
    d1, d2 = st.columns([1, 3])
    col = linked(d1.slider)(t("Dot column"), 0, 6, 2, key="pool_dot_col")
    dot = dot_move(8, 3, col, pool_size=DOT_POOL)
    d1.metric(t("Pooled maps identical?"), t("yes") if dot.identical else t("no"))

    def _dot_text() -> str:
        """Return the rule, then what happened here, from the windows each dot fell in."""
        first, second = dot.windows
        here = (
            t(
                "both dots lie in window column {first}, so the pooled maps are identical.",
                first=first,
            )
            if dot.identical
            else t(
                "the dot moves from window column {first} to {second}, so the pooled 1 moves too.",
                first=first,
                second=second,
            )
        )
        return t(
            "{size}×{size} max pooling, stride {size}: moving the dot inside one window changes "
            "nothing; crossing a window edge does. Here {here}",
            size=DOT_POOL,
            here=here,
        )

    d1.caption(_dot_text())
    chart(
        grids.map_mosaic(
            [
                dot.inputs[0].numpy(),
                dot.inputs[1].numpy(),
                dot.pooled[0].numpy(),
                dot.pooled[1].numpy(),
            ],
            [
                t("dot at column {col}", col=col),
                t("dot at column {col}", col=col + 1),
                t("pooled"),
                t("pooled"),
            ],
            title=t("A dot moved by one pixel, before and after pooling"),
            cols=4,
            signed=False,
            height_per_row=200,
        ),
        key="pool_dots",
        where=d2,
    )


def _bank() -> torch.Tensor:
    """Return the three 5×5 kernels (Sobel x, Sobel y, Laplacian) dropout and batch norm see."""
    return torch.stack(
        [make_kernel(n, 5, angle_deg=45.0) for n in ("sobel x", "sobel y", "laplacian")]
    )


def layers_section() -> None:
    """Draw dropout in training and evaluation, then batch normalization of the image quarters."""
    st.subheader(t("The other layers between convolutions: dropout and normalization"))
    dropout_section()
    batchnorm_section()


@st.fragment
def dropout_section() -> None:
    """Draw dropout in training and evaluation; its slider reruns only this section."""
    p = linked(st.slider)(t("Dropout probability p"), 0.0, 0.9, 0.5, 0.05, key="pool_p")
    maps = valid_maps(gray, _bank())  # (3, H-4, W-4): where the kernels fit, as above
    train = dropout_demo(maps, p, seed=0, training=True)
    evaluate = dropout_demo(maps, p, training=False)
    chart(
        grids.map_mosaic(
            np.stack([maps[0].numpy(), train[0].numpy(), evaluate[0].numpy()]),
            [
                t("feature map"),
                t("training: dropout p = {p}", p=f"{p:.2f}"),
                t("evaluation: unchanged"),
            ],
            cols=3,
            signed=False,
            height_per_row=230,
            title=t("Dropout on a feature map, in training and in evaluation"),
        ),
        key="pool_dropout",
    )
    kept = survived_fraction(maps, train)
    st.caption(
        t(
            "In training, each value is zeroed with probability p and the survivors are scaled "
            "by 1/(1−p) = {scale} so the expected value is unchanged; here {kept} of the nonzero "
            "values survived. In evaluation dropout does nothing. The maps here, like the ones "
            "below, are computed only where the 5×5 kernels fit ({h}×{w} → {mh}×{mw}): no zero "
            "padding.",
            scale=f"{1 / (1 - p):.2f}",
            kept=f"{kept:.0%}",
            h=gray.shape[0],
            w=gray.shape[1],
            mh=maps.shape[1],
            mw=maps.shape[2],
        )
    )


BN_STEPS = 1


def batchnorm_section() -> None:
    """Draw batch norm of the Sobel-x channel in training and evaluation mode, with its numbers."""
    # Batch norm usually sits between the convolution and the nonlinearity: use the signed maps.
    pre = valid_maps(gray, _bank(), rectify=False)  # (3, H-4, W-4), signed
    batch = quarters_batch(pre)  # (4, 3, h/2, w/2): the image's four quarters as a batch
    norm = batchnorm_demo(batch, steps=BN_STEPS)
    chart(
        figures.histograms(
            {
                t("before"): batch[:, 0].numpy(),
                t("training mode"): norm.train_out[:, 0].numpy(),
                t("evaluation mode"): norm.eval_out[:, 0].numpy(),
            },
            title=t(
                "Batch normalization of the Sobel-x channel (the four image quarters form the "
                "batch)"
            ),
            x_title=t("value"),
            log_y=True,
        ),
        key="pool_bn",
    )
    n1, n2, n3 = st.columns(3)
    n1.metric(
        t("Batch mean → after (training)"),
        f"{norm.batch_mean[0]:.3f} → {norm.train_out_mean[0]:.1e}",
    )
    n2.metric(
        t("Batch variance → after (training)"),
        f"{norm.batch_var[0]:.3f} → {norm.train_out_var[0]:.3f}",
    )
    n3.metric(
        tn(
            "Running mean / variance after {n} step",
            "Running mean / variance after {n} steps",
            BN_STEPS,
        ),
        f"{norm.running_mean[0]:.3f} / {norm.running_var[0]:.3f}",
    )
    st.caption(_batchnorm_text(norm))


def _batchnorm_text(norm) -> str:
    """Return how training and evaluation mode normalise, the verdict chosen by eval variance."""
    eval_var = float(norm.eval_out_var[0])
    after_eval = (
        t(
            "so its output is far from normalised (variance {variance} instead of 1): the classic "
            "train/eval mismatch of a freshly started network.",
            variance=f"{eval_var:.3f}",
        )
        if eval_variance_claim(eval_var) == "far"
        else t(
            "yet its output's variance, {variance}, is close to 1 anyway: this batch's own "
            "variance, {batch}, was already near 1.",
            variance=f"{eval_var:.3f}",
            batch=f"{norm.batch_var[0]:.3f}",
        )
    )
    return tn(
        "Training mode normalises with this batch's own mean and variance (mean 0, variance 1 "
        "per channel). Evaluation mode uses running estimates, which after {n} step with "
        "momentum {momentum} have moved only {moved} of the way from 0 and 1, {after}",
        "Training mode normalises with this batch's own mean and variance (mean 0, variance 1 "
        "per channel). Evaluation mode uses running estimates, which after {n} steps with "
        "momentum {momentum} have moved only {moved} of the way from 0 and 1, {after}",
        BN_STEPS,
        momentum=f"{BN_MOMENTUM:g}",
        moved=f"{norm.moved_fraction:.0%}",
        after=after_eval,
    )


st.divider()
st.markdown(
    t(
        "**More below, computed when you open it:** how pooled outputs hold up when the input "
        "moves, what max pooling cannot tell apart, and the other layers that sit between "
        "convolutions."
    )
)
lazy_section(
    t("Shift, rotate and rescale the input: which pooling keeps its outputs? (stability curves)"),
    "open_pool_stability",
    stability_section,
    icon=":material/swap_horiz:",
)
lazy_section(
    t("What max pooling hides: pairs it cannot tell apart, and a dot that moves by one pixel"),
    "open_pool_hidden",
    hidden_section,
    icon=":material/visibility_off:",
)
lazy_section(
    t("Dropout and batch normalization: the other layers between convolutions"),
    "open_pool_layers",
    layers_section,
    icon=":material/layers:",
)
