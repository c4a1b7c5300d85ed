"""CNN · Kernel sizes: why 3×3, why odd, why 1×1, why 1×n then n×1, counted on your sizes."""

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine import kernels as kd
from engine.conv import KERNEL_NAMES, feature_maps, make_kernel
from engine.core import N_, ExplorerError
from ui import figures, grids
from ui.chart import chart
from ui.i18n import current_lang, error_text, t, tn
from ui.inputs import image_picker, working_tensor
from ui.kernels import figures as kf
from ui.links import linked
from ui.sections import lazy_section
from ui.tables import table

st.title(t("Kernel sizes: 3×3, odd, 1×1 and 1×n"))
st.markdown(
    t(
        "Modern networks use a few kernel shapes over and over: small odd squares, 1×1 and thin "
        "1×n strips. Each choice buys something measurable: fewer weights, less work, more "
        "nonlinearity or a well-defined centre. Every number below is counted from real PyTorch "
        "modules at the sizes you pick, or measured on your image."
    )
)
picked = image_picker("ks")
side = linked(st.slider)(t("Working size (longest side, px)"), 32, 256, 128, 16, key="ks_side")
gray = working_tensor(picked, side)
st.caption(
    t(
        "Your picture is used in the folded “On your image” parts of each section below: open one "
        "to see its maps and measurements. The counts above them need no picture."
    )
)


@st.cache_data(max_entries=64, show_spinner=False)
def _fig(key: str, inputs: tuple, lang: str, _build: Callable[[], go.Figure]) -> dict:
    return _build().to_dict()  # building Plotly figures is the slow part of a warm rerun


def _chart(key: str, inputs: tuple, build: Callable[[], go.Figure], where=None) -> None:
    """Draw the figure `build` makes, built once per chart key, inputs and language (its words
    are in the session's language, so sessions in two languages never share one)."""
    chart(_fig(key, inputs, current_lang(), build), key=key, where=where)


@st.cache_data(max_entries=64, show_spinner=t("Counting weights and multiply-adds…"))
def _costs(kind: str, sizes: tuple[int, ...]) -> list[kd.DesignCost]:
    if kind == "stacks":
        return [*kd.stacked_vs_single(*sizes, 2), *kd.stacked_vs_single(*sizes, 3)]
    return list({"branch": kd.bottleneck_branch, "factor": kd.factorised_pair}[kind](*sizes))


@st.cache_data(max_entries=32, show_spinner=t("Running the stacks on your image…"))
def _stack_demo(sha: str, side: int, depth: int, _gray: torch.Tensor) -> kd.StackOnImage:
    return kd.stack_on_image(_gray, depth=depth)


@st.cache_data(max_entries=32, show_spinner=t("Fitting kernels of every width…"))
def _fits(sha: str, side: int, _gray: torch.Tensor) -> list[kd.WidthFit]:
    return kd.centred_difference_fits(_gray)


def _names(names: list[str]) -> str:
    """Return "a, b and c" in the session's language."""
    if len(names) == 1:
        return names[0]
    head = names[0]
    for name in names[1:-1]:
        head = t("{head}, {next}", head=head, next=name)
    return t("{head} and {last}", head=head, last=names[-1])


def _widths(widths: tuple[int, ...]) -> str:
    """Return "width 3" or "widths 1, 2, 4 and 6"."""
    if len(widths) == 1:
        return t("width {w}", w=widths[0])
    return t("widths {ws}", ws=_names(list(map(str, widths))))


def _width_words(fit: kd.WidthFitSummary) -> str:
    """Return the sentences on which widths reproduce the centred detector, and how."""
    exact, missed = fit.centred_exact, fit.centred_missed
    if exact and missed:
        text = t(
            "Along your image's rows, centred kernels reproduce the detector exactly at {exact} "
            "and never at {missed} (a relative error under {tol:g} counts as exact). ",
            exact=_widths(exact),
            missed=_widths(missed),
            tol=kd.EXACT_FIT,
        )
    elif exact:
        text = t(
            "Along your image's rows, centred kernels reproduce the detector exactly at {exact} "
            "(a relative error under {tol:g} counts as exact). ",
            exact=_widths(exact),
            tol=kd.EXACT_FIT,
        )
    else:
        text = t(
            "Along your image's rows, centred kernels reproduce the detector at no width"
            "{missed} (a relative error under {tol:g} counts as exact). ",
            missed=t(" and never at {missed}", missed=_widths(missed)) if missed else "",
            tol=kd.EXACT_FIT,
        )
    for width, used in fit.free_only:
        text += t(
            "Width {width} manages it only with free weights, using the taps at offsets "
            "{offsets} and leaving {empty} empty: a {taps}-tap detector that does not sit on its "
            "kernel's own centre. ",
            width=width,
            offsets=", ".join(f"{o:+d}" for o in used),
            empty=width - len(used),
            taps=max(used) - min(used) + 1,
        )
    return text


def _drift_words(layers: int, moved: kd.DriftSummary) -> str:
    """Return the caption on how far the even stack moved the centre of mass, and the odd one."""
    (down, right), (per_down, per_right) = moved.even_shift, moved.even_per_layer
    params = {
        "layers": layers,
        "per_down": abs(per_down),
        "per_right": abs(per_right),
        "vertical": t("{px:.2f} px up", px=-down) if down < 0 else t("{px:.2f} px down", px=down),
        "horizontal": (
            t("{px:.2f} px left", px=-right) if right < 0 else t("{px:.2f} px right", px=right)
        ),
    }
    even = (
        t(
            "What to notice: after {layers} even 2×2 averages your image's centre of mass has "
            "moved {vertical} and {horizontal}: {per_down:.2f} and {per_right:.2f} px per layer, "
            "and it adds up in a deep network. ",
            **params,
        )
        if moved.even_moves
        else t(
            "What to notice: after {layers} even 2×2 averages your image's centre of mass has "
            "moved {vertical} and {horizontal}: {per_down:.2f} and {per_right:.2f} px per layer. ",
            **params,
        )
    )
    if moved.odd_stays:
        return even + t(
            "After the odd 3×3 kernels it stays put (largest shift {px:.1g} px).",
            px=moved.odd_largest,
        )
    return even + t("The odd 3×3 kernels moved it too (up to {px:.2f} px).", px=moved.odd_largest)


@st.cache_data(max_entries=32, show_spinner=t("Stacking smoothing kernels…"))
def _drift(sha: str, side: int, layers: int, _gray: torch.Tensor) -> dict[str, torch.Tensor]:
    return kd.centroid_drift(_gray, layers)


NIN_KERNELS = [n for n in KERNEL_NAMES if n != "identity"][:8]


@st.cache_data(max_entries=32, show_spinner=t("Applying the 1×1 layer…"))
def _nin(sha: str, side: int, out: int, hidden: int, _gray: torch.Tensor):
    maps = feature_maps(_gray, torch.stack([make_kernel(n, 3) for n in NIN_KERNELS]))
    return maps, kd.pixel_mlp(maps, out, hidden=hidden)


@st.cache_data(max_entries=32, show_spinner=t("Factorising every kernel…"))
def _separable(sha: str, side: int, n: int, _gray: torch.Tensor) -> dict[str, kd.Separability]:
    bank = {name: make_kernel(name, n, 30.0) for name in KERNEL_NAMES}
    return {
        k: kd.separability(_gray, v) for k, v in (bank | {"random": kd.random_kernel(n)}).items()
    }


# --- 1 · stacked 3×3 versus one big kernel
st.divider()
r2, r3 = kd.stacked_field(2), kd.stacked_field(3)
st.subheader(t("1 · Two 3×3 layers see what one {r}×{r} sees", r=r2))
st.markdown(
    t(
        "Stack two 3×3 convolutions and each output depends on a {r2}×{r2} patch of the input; "
        "three see {r3}×{r3}. VGG used only 3×3 kernels for this reason: the same view as a big "
        "kernel, with a ReLU after every layer. What that costs is counted below.",
        r2=r2,
        r3=r3,
    )
)
st.latex(  # one message: the formula's words are translated together, in their order
    t(
        r"r = 1 + L(k-1) \qquad L\cdot k^2 C^2 \;\text{vs}\; r^2 C^2 \text{ weights} \qquad "
        r"L\cdot k^2 C^2\,HW \;\text{vs}\; r^2 C^2\,HW \text{ multiply-adds}"
    )
)
a, b, c = st.columns(3)
ch = linked(a.number_input)(t("Channels C (in = out)"), 1, kd.MAX_CHANNELS, 64, key="ks_c")
fh = linked(b.number_input)(t("Feature map H"), 1, kd.MAX_SIDE, 56, key="ks_h")
fw = linked(c.number_input)(t("Feature map W"), 1, kd.MAX_SIDE, 56, key="ks_w")
try:
    costs = _costs("stacks", (int(ch), int(fh), int(fw)))
except ExplorerError as err:
    st.error(error_text(err))
else:
    table(**kf.cost_table(costs), csv_name="stack-costs")
    two, five, three, seven = costs
    (w2, _), (w3, _) = two.share_of(five), three.share_of(seven)
    v2, v3 = kd.design_verdict(two, five), kd.design_verdict(three, seven)
    st.latex(
        t(  # one template: the numbers are parameters, LaTeX's own braces doubled
            r"{n2}\cdot {taps3}\cdot {c}^2 = {two} \;\text{{vs}}\; {taps5}\cdot {c}^2 = {five} "
            r"\;({share2:.0%}) \qquad {n3}\cdot {taps3b}\cdot {c}^2 = {three} \;\text{{vs}}\; "
            r"{taps7}\cdot {c}^2 = {seven} \;({share3:.0%})",
            n2=len(two.layers),
            n3=len(three.layers),
            taps3=two.layers[0].taps,
            taps3b=three.layers[0].taps,
            taps5=five.layers[0].taps,
            taps7=seven.layers[0].taps,
            c=ch,
            two=kf.tex_int(two.weights),
            five=kf.tex_int(five.weights),
            three=kf.tex_int(three.weights),
            seven=kf.tex_int(seven.weights),
            share2=w2,
            share3=w3,
        ).replace("%", r"\%")
    )
    fields = [f"{c.receptive_field[0]}×{c.receptive_field[1]}" for c in costs]
    words = {
        "work2": kf.say(kd.share_words(v2.work_share, N_("work"))),
        "work3": kf.say(kd.share_words(v3.work_share, N_("work"))),
        "relu2": kf.say(kd.relu_words(v2.extra_relus)),
        "relu3": kf.say(kd.relu_words(v3.extra_relus)),
    }
    st.caption(
        t(
            "What to notice: the fields match ({a} and {b}); the stacks need {work2} and "
            "{work3}, with {relu2} and {relu3} than the single kernels. The ratios do not depend "
            "on C, H or W: in the formula above C² and HW appear on both sides.",
            a=fields[0],
            b=fields[2],
            **words,
        )
        if v2.same_field and v3.same_field
        else t(
            "What to notice: the fields differ ({fields}); the stacks need {work2} and "
            "{work3}, with {relu2} and {relu3} than the single kernels. The ratios do not depend "
            "on C, H or W: in the formula above C² and HW appear on both sides.",
            fields=", ".join(fields),
            **words,
        )
    )


def _stack_section() -> None:
    """Draw the stack-against-one-kernel demonstration on the learner's image."""
    st.markdown(
        t(
            "**On your image.** A random two- or three-layer stack of 3×3 kernels "
            "({mid} channels between layers, no padding). Without ReLU the stack "
            "*is* one bigger kernel (its composition); with "
            "ReLU between the layers, even the best-fitting single kernel (least squares over "
            "every pixel) cannot reproduce it.",
            mid=kd.STACK_MID_CHANNELS,
        )
    )
    depth = linked(st.radio)(
        t("Stack"), [2, 3], format_func=lambda d: f"{d} × 3×3", key="ks_depth", horizontal=True
    )
    try:
        demo = _stack_demo(picked.sha, side, int(depth), gray)
    except ExplorerError as err:
        st.error(error_text(err))
    else:
        r = demo.field
        _chart(
            "ks_stack_maps",
            (picked.sha, side, depth),
            lambda: kf.compare_maps(
                demo.stacked.numpy(),
                demo.best_out.numpy(),
                (demo.stacked - demo.best_out).numpy(),
                [
                    t("{depth} × 3×3 with ReLU", depth=depth),
                    t("best single {r}×{r} kernel", r=r),
                    t("what it misses"),
                ],
                title=t("A stack of 3×3 layers against the best single kernel"),
            ),
        )
        m1, m2 = st.columns(2)
        m1.metric(
            t("No ReLU: stack vs one {r}×{r}, max |difference|", r=r),
            f"{demo.linear_error:.1e}",
        )
        m2.metric(
            t("With ReLU: what the best {r}×{r} misses", r=r),
            f"{demo.unexplained:.1%}",
            help=t(
                "Root-mean-square of the miss over that of the stack's output (about its mean)."
            ),
        )
        _chart(
            "ks_stack_kernels",
            (picked.sha, side, depth),
            lambda: grids.annotated_grids(
                [demo.composed.numpy(), demo.best_kernel.numpy()],
                [
                    t("the linear stack as one {r}×{r} kernel", r=r),
                    t("best {r}×{r} for the ReLU stack", r=r),
                ],
                height=300 if r == 5 else 360,
                title=t("The stack as one kernel, and the best kernel for the ReLU stack"),
            ),
        )
        first = (
            t(
                "What to notice: the first number is rounding error (under {tol:g} of the "
                "output's size), so without a nonlinearity depth buys nothing a bigger kernel "
                "could not do. ",
                tol=kd.ROUNDING,
            )
            if kd.within_rounding(demo.linear_error, demo.linear)
            else t(
                "What to notice: the first number is more than rounding error: the linear stack "
                "and its composed kernel disagree here. "
            )
        )
        second = (
            t(
                "The second is what the ReLU adds: {share:.1%} of the stacked response lies "
                "outside everything a single linear kernel can express.",
                share=demo.unexplained,
            )
            if kd.relu_matters(demo)
            else t(
                "On this image the best single kernel misses under {gain:.0%} of the ReLU stack: "
                "the ReLUs barely cut anything here.",
                gain=kd.RELU_GAIN,
            )
        )
        st.caption(first + second)


lazy_section(
    t("On your image: a 3×3 stack with ReLU against the best single kernel (maps, metrics)"),
    "open_ks_stack",
    _stack_section,
)

# --- 2 · odd versus even
st.divider()
st.subheader(t("2 · Why not 2×2: an even kernel has no centre"))
st.markdown(
    t(
        "An odd kernel has a middle tap that sits on the output pixel, with as many taps on each "
        "side. An even kernel has no middle: PyTorch puts one more tap after the pixel than "
        "before, so its output describes a point half a pixel away."
    )
)
st.latex(  # one message: the formula's words are translated together, in their order
    t(
        r"\text{width } w \text{ reads } x_{i+o},\;\; o = -\lfloor (w-1)/2 \rfloor,\dots,"
        r"\lfloor w/2 \rfloor \qquad \text{centred difference } "
        r"t_i = \tfrac{1}{2}(x_{i+1}-x_{i-1})"
    )
)
step = kd.step_responses(16, 8)
chart(
    kf.step_profile(
        step.signal.numpy(),
        {k: v.numpy() for k, v in step.responses.items()},
        step.centroids,
        step.edge_at,
    ),
    key="ks_step",
)
odd_name, even_name = kd.STEP_KERNELS
s1, s2 = st.columns(2)
s1.metric(t("{name}: response centre − edge", name=t(odd_name)), f"{step.shift(odd_name):+.2f} px")
s2.metric(
    t("{name}: response centre − edge", name=t(even_name)), f"{step.shift(even_name):+.2f} px"
)
st.caption(
    t(
        "What to notice: on the step, the odd detector's response is {odd} and the even one's "
        "{even}.",
        odd=kf.say(kd.shift_words(step.shift(odd_name))),
        even=kf.say(kd.shift_words(step.shift(even_name))),
    )
)


def _fit_section() -> None:
    """Draw every width's fit to the centred difference along the learner's image."""
    st.markdown(
        t(
            "**Every width, fitted to the centred difference along your image's rows** (least "
            "squares). *Any weights* may use the taps freely; *centred* kernels are antisymmetric "
            "about their own middle, as an edge detector should be."
        )
    )
    try:
        fits = _fits(picked.sha, side, gray)
    except ExplorerError as err:
        st.error(error_text(err))
    else:
        table(**kf.width_fit_table(fits), csv_name="derivative-fits")
        st.caption(t("What to notice: {words}", words=_width_words(kd.width_fit_summary(fits))))


def _drift_section() -> None:
    """Draw how stacked even and odd smoothing kernels move the image's centre of mass."""
    st.markdown(
        t(
            "**Stacking even kernels.** Smooth your image again and again with a 2×2 average and "
            "with a 3×3 binomial kernel (both sum to 1, nothing falls off the edge) and follow "
            "its centre of mass."
        )
    )
    layers = linked(st.slider)(t("Smoothing layers stacked"), 1, 16, 6, key="ks_layers")
    try:
        drift = _drift(picked.sha, side, int(layers), gray)
    except ExplorerError as err:
        st.error(error_text(err))
    else:
        series = {t(name): shifts[:, 1].numpy() for name, shifts in drift.items()}
        chart(
            figures.lines(
                np.arange(layers + 1),
                series,
                title=t("Left–right shift of your image's centre of mass (px)"),
                x_title=t("layers"),
                modes=dict.fromkeys(series, "lines+markers"),
            ),
            key="ks_drift",
        )
        st.caption(_drift_words(int(layers), kd.drift_summary(drift)))


lazy_section(
    t("On your image: every kernel width fitted to the centred difference (table)"),
    "open_ks_widths",
    _fit_section,
)
lazy_section(
    t("On your image: even and odd smoothing kernels stacked, and where the centre of mass goes"),
    "open_ks_drift",
    _drift_section,
)

# --- 3 · 1×1
st.divider()
st.subheader(t("3 · 1×1 convolutions: mixing channels, per pixel"))
st.markdown(
    t(
        "A 1×1 kernel sees one pixel, but all of its channels: it computes new channels as "
        "weighted sums of the old ones. GoogLeNet put one before each expensive 5×5 to shrink the "
        "channels it has to read (a **bottleneck**)."
    )
)
st.latex(  # one message: "vs" is translated; in, mid, out are subscripts, kept
    t(
        r"HW\,k^2 C_\text{in} C_\text{out} \;\;\text{vs}\;\; "
        r"HW\,(C_\text{in} C_\text{mid} + k^2 C_\text{mid} C_\text{out})"
    )
)
a, b, c, d, e = st.columns(5)
c_in = linked(a.number_input)(t("Channels in"), 1, kd.MAX_CHANNELS, 256, key="ks_cin")
c_mid = linked(b.number_input)(t("1×1 reduces to"), 1, kd.MAX_CHANNELS, 32, key="ks_cmid")
c_out = linked(c.number_input)(t("Channels out"), 1, kd.MAX_CHANNELS, 64, key="ks_cout")
b_side = linked(d.number_input)(t("Feature map side"), 1, kd.MAX_SIDE, 28, key="ks_bside")
b_k = linked(e.select_slider)(t("Kernel k×k"), [1, 3, 5, 7, 9], 5, key="ks_bk")
if c_mid >= c_in:
    st.warning(
        t(
            "The 1×1 layer maps {c_in} channels to {c_mid}: no reduction, only extra work.",
            c_in=c_in,
            c_mid=c_mid,
        )
    )
try:
    sizes = (int(c_in), int(c_mid), int(c_out), int(b_side), int(b_side), int(b_k))
    direct, reduced = _costs("branch", sizes)
except ExplorerError as err:
    st.error(error_text(err))
else:
    table(**kf.cost_table([direct, reduced]), csv_name="bottleneck-costs")
    verdict = kd.design_verdict(reduced, direct)
    field = f"{direct.receptive_field[0]}×{direct.receptive_field[1]}"
    params = {
        "weights": verdict.weight_share,
        "work": verdict.work_share,
        "relus": kf.say(kd.relu_words(verdict.extra_relus)),
    }
    st.caption(
        t(
            "What to notice: the bottleneck needs {weights:.1%} of the weights and {work:.1%} of "
            "the multiply-adds, for the same {field} field and {relus}.",
            field=field,
            **params,
        )
        if verdict.same_field
        else t(
            "What to notice: the bottleneck needs {weights:.1%} of the weights and {work:.1%} of "
            "the multiply-adds, for a different field and {relus}.",
            **params,
        )
    )


def _nin_section() -> None:
    """Draw the 1×1 convolution against nn.Linear per pixel on the learner's image."""
    st.markdown(
        t(
            "**1×1 convolution = one small linear layer on every pixel** (Network in Network). "
            "Below, {n} feature maps of your image (one per classic kernel) go through a 1×1 "
            "convolution, and, separately, each pixel's vector of {n} values goes "
            "through `nn.Linear` with the same weights. "
            "With hidden channels it is 1×1 → ReLU → 1×1 (the paper's *mlpconv*) against Linear → "
            "ReLU → Linear.",
            n=len(NIN_KERNELS),
        )
    )
    a, b = st.columns(2)
    n_out = linked(a.slider)(t("Output channels"), 1, 8, 4, key="ks_nout")
    hidden = linked(b.number_input)(
        t("Hidden channels (0 = one 1×1 layer)"), 0, 64, 0, key="ks_hidden"
    )
    try:
        maps, mlp = _nin(picked.sha, side, int(n_out), int(hidden), gray)
    except ExplorerError as err:
        st.error(error_text(err))
    else:
        _chart(
            "ks_nin_in",
            (picked.sha, side),
            lambda: grids.map_mosaic(
                maps.numpy(),
                [t(n) for n in NIN_KERNELS],
                cols=8,
                height_per_row=150,
                title=t("The maps a 1×1 layer mixes"),
            ),
        )
        _chart(
            "ks_nin_out",
            (picked.sha, side, n_out, hidden),
            lambda: grids.map_mosaic(
                mlp.conv_out.numpy(),
                [t("1×1 output {i}", i=i) for i in range(n_out)],
                cols=4,
                title=t("The outputs of the 1×1 layers"),
            ),
        )
        m1, m2 = st.columns(2)
        m1.metric(t("max |1×1 conv − Linear per pixel|"), f"{mlp.max_abs_diff:.1e}")
        m2.metric(t("Parameters (either way)"), f"{mlp.parameters:,}")
        first = mlp.layers[0].weight.detach().numpy()
        _chart(
            "ks_nin_w",
            (n_out, hidden),
            lambda: grids.annotated_grid(
                first,
                t(
                    "first layer's weights: a row per 1×1 kernel, a column per map above "
                    "(same order)"
                ),
                height=60 + 34 * first.shape[0],
            ),
        )
        first = (
            t(
                "What to notice: the difference is float rounding (under {tol:g} of the output's "
                "size). ",
                tol=kd.ROUNDING,
            )
            if kd.within_rounding(mlp.max_abs_diff, mlp.conv_out)
            else t("What to notice: the difference is more than float rounding here. ")
        )
        st.caption(
            first
            + t(
                "A 1×1 kernel has no spatial extent, so it is exactly a fully connected layer "
                "across channels, shared by every pixel; stacking two with a ReLU between makes a "
                "tiny per-pixel MLP."
            )
        )


lazy_section(
    t("On your image: a 1×1 convolution is nn.Linear on every pixel (maps, weights, check)"),
    "open_ks_nin",
    _nin_section,
)

# --- 4 · factorised
st.divider()
st.subheader(t("4 · Factorised convolutions: n×n as 1×n then n×1"))
st.markdown(
    t(
        "Inception v3 replaced n×n convolutions by a 1×n convolution followed by an n×1: the pair "
        "still sees an n×n patch, with 2n weights per channel pair instead of n². The pair can "
        "only express kernels that are an outer product of a column and a row (rank 1)."
    )
)
st.latex(t(r"C^2 n^2 \;\;\text{vs}\;\; 2\,C^2 n \qquad K \approx \sigma_1 u_1 v_1^\top"))
a, b, c = st.columns(3)
f_c = linked(a.number_input)(t("Channels C"), 1, kd.MAX_CHANNELS, 192, key="ks_fc")
f_side = linked(b.number_input)(t("Feature map side"), 1, kd.MAX_SIDE, 17, key="ks_fside")
f_n = linked(c.select_slider)("n", list(range(3, 16, 2)), 7, key="ks_fn")
try:
    square, pair = _costs("factor", (int(f_c), int(f_side), int(f_side), int(f_n)))
except ExplorerError as err:
    st.error(error_text(err))
else:
    table(**kf.cost_table([square, pair]), csv_name="factorised-costs")
    verdict = kd.design_verdict(pair, square)
    params = {
        "weights": verdict.weight_share,
        "n": f_n,
        "work": verdict.work_share,
        "relus": kf.say(kd.relu_words(verdict.extra_relus)),
    }
    st.caption(
        t(
            "What to notice: the pair needs {weights:.0%} of the weights (2/n = 2/{n}) and "
            "{work:.0%} of the work, sees the same {h}×{w} field, and has {relus} (as in "
            "Inception v3, where each convolution has its own).",
            h=pair.receptive_field[0],
            w=pair.receptive_field[1],
            **params,
        )
        if verdict.same_field
        else t(
            "What to notice: the pair needs {weights:.0%} of the weights (2/n = 2/{n}) and "
            "{work:.0%} of the work, sees a different field, and has {relus} (as in Inception "
            "v3, where each convolution has its own).",
            **params,
        )
    )


def _rank_words(seps: dict[str, kd.Separability], chosen: str) -> str:
    """Return the caption naming the rank-1 kernels and how far the chosen one is from rank 1."""
    ones, others = kd.rank_one_split(seps)
    sep, name = seps[chosen], t(chosen)
    names = {"names": _names([t(n) for n in ones]), "n": len(ones)}
    text = (
        tn(
            "What to notice: {names} is rank 1, so the thin pair reproduces them to float "
            "rounding. ",
            "What to notice: {names} are rank 1, so the thin pair reproduces them to float "
            "rounding. ",
            **names,
        )
        if ones
        else t("What to notice: no kernel here is rank 1. ")
    )
    if others:
        listed = _names([t(n) for n in others])
        text += tn("{names} is not. ", "{names} are not. ", len(others), names=listed)
    if sep.rank > 1:
        return text + t(
            "{name} is rank {rank}: the best pair is off by {error:.0%} of its size (Frobenius "
            "norm: the singular values after the first), and the difference map shows where on "
            "your image.",
            name=name,
            rank=sep.rank,
            error=sep.rank1_error,
        )
    return text + t("{name} is rank 1: the difference map is rounding noise.", name=name)


def _one_kernel(sep: kd.Separability, chosen: str, sep_n: int) -> None:
    """Draw one kernel against its best pair: grids, the pair's numbers, maps, singular values."""
    pair_k = sep.pair_kernel.numpy()
    g1, g2 = st.columns([2, 1])
    _chart(
        "ks_sep_grids",
        (sep_n, chosen),
        lambda: grids.annotated_grids(
            [sep.kernel.numpy(), pair_k, sep.kernel.numpy() - pair_k],
            [
                f"{t(chosen)} {sep_n}×{sep_n}",
                t("column × row (best pair)"),
                t("what the pair misses"),
            ],
            height=300,
            title=t("A kernel as a column times a row"),
        ),
        where=g1,
    )
    g2.markdown(
        t(
            "**{n}×1 column**: {column}\n\n**1×{n} row**: {row}",
            n=sep_n,
            column=", ".join(f"{v:.3f}" for v in sep.column.tolist()),
            row=", ".join(f"{v:.3f}" for v in sep.row.tolist()),
        )
    )
    _chart(
        "ks_sep_maps",
        (picked.sha, side, sep_n, chosen),
        lambda: kf.compare_maps(
            sep.full_out.numpy(),
            sep.factorised_out.numpy(),
            (sep.full_out - sep.factorised_out).numpy(),
            [
                t("{n}×{n} on your image", n=sep_n),
                t("1×{n} then {n}×1", n=sep_n),
                t("difference"),
            ],
            title=t("One {n}×{n} kernel against 1×{n} then {n}×1 on your image", n=sep_n),
        ),
    )
    chart(
        figures.bars(
            [f"σ{i + 1}" for i in range(sep_n)],
            sep.singular_values.numpy(),
            title=t("Singular values of {name}: a rank-1 kernel has only σ1", name=t(chosen)),
            text=[f"{v:.3g}" for v in sep.singular_values.numpy()],
            height=260,
        ),
        key="ks_sep_sv",
    )


def _separable_section() -> None:
    """Draw every bank kernel against its best 1×n-then-n×1 pair on the learner's image."""
    st.markdown(
        t(
            "**On your image.** Each kernel of the bank, and a random one, as one n×n convolution "
            "and as its best 1×n-then-n×1 pair (from the SVD)."
        )
    )
    a, b = st.columns([1, 3])
    sep_n = linked(a.radio)(t("Kernel side"), [3, 5, 7], index=1, key="ks_sep_n", horizontal=True)
    try:
        seps = _separable(picked.sha, side, int(sep_n), gray)
    except ExplorerError as err:
        st.error(error_text(err))
        return
    names = list(seps)
    table(**kf.separability_table(seps), csv_name="kernel-separability", where=b)
    chosen = linked(st.selectbox)(
        t("Look at one"), names, index=names.index("gabor"), format_func=t, key="ks_sep_k"
    )
    _one_kernel(seps[chosen], chosen, int(sep_n))
    st.caption(_rank_words(seps, chosen))


lazy_section(
    t(
        "On your image: every kernel as n×n and as its best 1×n then n×1 pair (table, maps, "
        "singular values)"
    ),
    "open_ks_sep",
    _separable_section,
)
