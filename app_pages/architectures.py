"""CNN · Classic architectures: what each fixed, measured; an Inception module; degradation live."""

from dataclasses import replace

import streamlit as st

from engine import architectures as arch
from engine import kernels as kd
from engine.architectures import ARCHITECTURES
from engine.core import N_, ExplorerError
from engine.receptive_field import WIDER_FACTOR, response_width, widths_grow
from ui import grids
from ui.architectures import degradation
from ui.architectures import figures as arch_figures
from ui.architectures.tables import layer_table
from ui.chart import chart
from ui.i18n import error_text, t
from ui.inputs import image_picker, working_tensor
from ui.links import keep_param, linked
from ui.sections import lazy_section
from ui.tables import table

st.title(t("Classic architectures: what each one fixed"))
st.markdown(
    t(
        "Nine networks from 2012 to 2017, each an answer to a problem its predecessors had. The "
        "numbers below are measured from the networks themselves, built in PyTorch on this server."
    )
)

STORIES = {  # (problem, idea, why it works)
    "alexnet": (
        N_(
            "Recognition ran on hand-designed features (SIFT, HOG) and a shallow classifier; "
            "progress on ImageNet had slowed."
        ),
        N_(
            "Learn the features too: {alexnet_layers} weight layers trained end to end on 1.2 "
            "million images, made trainable by ReLU, dropout, data augmentation and two GPUs."
        ),
        N_(
            "With enough data, gradient descent finds filters suited to the task: the first layer "
            "learns edge and colour detectors like the hand-made ones, later layers combine them "
            "into parts nobody would design. It beat the best hand-made pipeline by over ten "
            "points of top-5 error."
        ),
    ),
    "vgg16": (
        N_(
            "AlexNet mixed 11×11, 5×5 and 3×3 kernels with big strides: no simple rule for going "
            "deeper."
        ),
        N_(
            "One rule: only 3×3 convolutions (stride 1) and 2×2 max pools, repeated to {vgg_depth} "
            "layers."
        ),
        N_(
            "Two stacked 3×3 layers see {r2}×{r2} and three see {r3}×{r3}, with {w2}C² or {w3}C² "
            "weights instead of {w5}C² or {w7}C², and a ReLU in between: more nonlinearity per "
            "weight. {vgg_dense_share:.0%} of its parameters sit in the {vgg_dense} dense layers "
            "at the end (see the drill-down)."
        ),
    ),
    "googlenet": (
        N_("Which filter size should a layer use? And a bigger network costs more than it gains."),
        N_(
            "The Inception module runs 1×1, 3×3 and 5×5 convolutions and a 3×3 max pool side by "
            "side and concatenates their maps; 1×1 convolutions first shrink the channels, so the "
            "large filters stay cheap."
        ),
        N_(
            "The next layer can pick, position by position, among features of several extents, and "
            "the bottlenecks keep the cost down. **Multi-scale filters are not scale handling**, "
            "though: the 3×3 and 5×5 filters are separate weights, learned independently, and "
            "nothing makes the 5×5 a stretched copy of the 3×3. A pattern learned at one size is "
            "not recognised at another for free; training must still show every size. Handling "
            "object scale means tying weights across sizes: one kernel at dilation 1, 2, 4, or one "
            "network run on the image downsampled at several rates, so the same detector fires on "
            "the small and the large object. Section 3 shows both kinds on your image."
        ),
    ),
    "inception_v3": (
        N_(
            "Large filters are expensive (a 5×5 costs {w5}/{w1} ≈ {five_vs_three:.1f} times a "
            "3×3), and pooling to shrink the grid squeezes information through a bottleneck."
        ),
        N_(
            "Factorise: a 5×5 becomes two 3×3, an n×n a 1×n followed by an n×1 (n = "
            "{inception_n}), and the grid shrinks with stride-2 convolution and pooling branches "
            "side by side."
        ),
        N_(
            "The factorised stack has the same receptive field with fewer weights and an extra "
            "nonlinearity, so the same budget buys a deeper, wider network."
        ),
    ),
    "resnet18": (
        N_(
            "Degradation: adding layers to a plain network made its *training* error worse, though "
            "the deeper net could copy the shallower one and make its extra layers identities. The "
            "optimiser does not find that solution."
        ),
        N_(
            "Let every two layers learn a residual F(x) and add the input back through a shortcut "
            "with no weights: y = ReLU(F(x) + x)."
        ),
        N_(
            "The identity is now the easy default (push F to zero), and the gradient reaches early "
            "layers along the shortcuts: ∂y/∂x = I + ∂F/∂x. Section 4 repeats the experiment."
        ),
    ),
    "resnet50": (
        N_(
            "Residual networks train at any depth, but 3×3 layers on wide maps make depth "
            "expensive."
        ),
        N_(
            "Bottleneck blocks: a 1×1 shrinks the channels, a 3×3 works on the thin map, a 1×1 "
            "widens it back, around the identity shortcut."
        ),
        N_(
            "Three cheap layers replace two expensive ones: ResNet-50 is {r50_deeper:.1f} times as "
            "deep as ResNet-18 for {r50_flops:.1f} times its FLOPs (see the table), and the extra "
            "depth buys accuracy."
        ),
    ),
    "resnext50_32x4d": (
        N_(
            "Deeper or wider gives diminishing returns; Inception's hand-tuned branches are hard "
            "to adapt."
        ),
        N_(
            "Split each bottleneck's 3×3 into {resnext_groups} parallel paths of {resnext_width} "
            "channels (in the first stage), all of the same shape (cardinality), summed: exactly a "
            "grouped convolution."
        ),
        N_(
            "Many small transforms of low-dimensional slices are more expressive per parameter "
            "than one wide transform: at {resnext_flops:.2f} times ResNet-50's FLOPs and "
            "{resnext_params:.2f} times its parameters it is more accurate (in the paper's "
            "ImageNet results)."
        ),
    ),
    "densenet121": (
        N_(
            "Deep networks relearn similar features layer after layer, and a signal must cross "
            "many layers to reach the loss."
        ),
        N_(
            "In a dense block every layer reads the concatenation of all earlier maps and adds "
            "only {densenet_growth} channels (the growth rate); 1×1 convolutions and pooling "
            "shrink maps between blocks."
        ),
        N_(
            "Features are reused instead of recomputed, so layers can be narrow "
            "({densenet_share:.0%} of ResNet-50's parameters), and every layer has a short path to "
            "the loss."
        ),
    ),
    "se_resnet50": (
        N_(
            "A convolution mixes channels only inside its local window: how much a channel matters "
            "cannot depend on the rest of the image."
        ),
        N_(
            "Squeeze each channel to its mean over the map (z), excite with two small layers and a "
            "sigmoid, s = σ(W₂ ReLU(W₁ z)), one weight per channel in (0, 1), and rescale."
        ),
        N_(
            "Global context re-weights the channels (channel attention) for {se_extra:.0%} more "
            "parameters than ResNet-50; after the first gate every unit depends on the whole image "
            "(see the table)."
        ),
    ),
}

_table = st.cache_resource(show_spinner=t("Measuring the nine nets (once per server)…"))(
    arch.arch_table
)
nets = _table()
by_name = {s.name: s for s in nets}
stack = {L: kd.stacked_vs_single(1, 1, 1, L) for L in (2, 3)}  # C = 1: weights in units of C²
vgg_dense = arch.dense_part(layer_table("vgg16", None), by_name["vgg16"].params)
numbers = st.cache_resource(show_spinner=False)(arch.design_constants)() | {
    "r2": stack[2][0].receptive_field[0],
    "r3": stack[3][0].receptive_field[0],
    "w2": stack[2][0].weights,
    "w3": stack[3][0].weights,
    "w5": stack[2][1].weights,
    "w7": stack[3][1].weights,
    "w1": stack[2][0].layers[0].taps,
    "five_vs_three": stack[2][1].weights / stack[2][0].layers[0].taps,
    "vgg_dense": vgg_dense[0],
    "vgg_dense_share": vgg_dense[1],
    "r50_deeper": by_name["resnet50"].depth / by_name["resnet18"].depth,
    "r50_flops": arch.flops_ratio(nets, "resnet50", "resnet18"),
    "resnext_flops": arch.flops_ratio(nets, "resnext50_32x4d", "resnet50"),
    "resnext_params": arch.parameter_ratio(nets, "resnext50_32x4d", "resnet50"),
    "alexnet_layers": by_name["alexnet"].weight_layers,
    "vgg_depth": by_name["vgg16"].depth,
    "densenet_share": arch.parameter_ratio(nets, "densenet121", "resnet50"),
    "se_extra": arch.parameter_ratio(nets, "se_resnet50", "resnet50") - 1,
}

st.header(t("1 · Nine problems, nine ideas"))
tabs = st.tabs([i.title for i in ARCHITECTURES.values()])
for tab, (name, info) in zip(tabs, ARCHITECTURES.items(), strict=True):
    problem, idea, why = (t(part, **numbers) for part in STORIES[name])
    with tab:
        st.markdown(
            t(
                "**Problem.** {problem}\n\n**Idea.** {idea}\n\n**Why it works.** {why}",
                problem=problem,
                idea=idea,
                why=why,
            )
        )
        st.caption(t("Paper: {paper}.", paper=info.paper))


st.header(t("2 · Depth, size, cost and field, measured"))
st.markdown(
    t(
        "**Depth** is the most convolution and dense layers on one path from input to output (the "
        "number in the papers' names); a squeeze-and-excitation gate scales that path without "
        "lengthening it, so its two 1×1 layers are not counted. **Weight layers** counts every "
        "such layer once, parallel branches, gates and shortcut projections included. **FLOPs** "
        "are torch's `FlopCounterMode` count for one image, two per multiply-add. The **receptive "
        "field** is that of one unit of the last feature map (the one the classifier or the "
        "global pool reads), and the **jump** is how many input pixels apart its neighbouring "
        "units sit."
    )
)
st.latex(r"r_{\ell} = r_{\ell-1} + (k_\ell - 1)\,j_{\ell-1}, \qquad j_\ell = j_{\ell-1}\,s_\ell")
PARAMS_M, GFLOPS, JUMP = t("parameters (M)"), "GFLOPs", t("jump j (px)")
table(
    {
        t("network"): [s.title for s in nets],
        t("year"): [s.year for s in nets],
        t("depth"): [s.depth for s in nets],
        t("weight layers"): [s.weight_layers for s in nets],
        PARAMS_M: [s.params / 1e6 for s in nets],
        GFLOPS: [s.flops / 1e9 for s in nets],
        t("bottleneck strides on"): [s.bottleneck_stride or "" for s in nets],
        t("input"): [f"{s.input_size}²" for s in nets],
        t("last map"): [f"{s.grid[0]}×{s.grid[1]}" for s in nets],
        t("field r (px)"): [s.rf_size for s in nets],
        JUMP: [s.rf_jump for s in nets],
        t("whole image via a gate"): [t("yes") if s.global_context else "" for s in nets],
    },
    csv_name="nine-networks",
    formats={PARAMS_M: "%.2f", GFLOPS: "%.2f", JUMP: "%d"},
)
summary = arch.table_summary(nets)


def _layout_note(cost: arch.CostComparison) -> str:
    """Return the sentence on why two bottleneck networks' FLOPs differ, or "" if layouts match."""
    if not cost.layouts_differ:
        return ""
    params = {
        "name": cost.name,
        "flops": cost.flops / 1e9,
        "reference": cost.reference,
        "reference_flops": cost.reference_flops / 1e9,
        "stride": cost.stride,
        "version": arch.RESNET_VERSION[cost.stride],
        "reference_stride": cost.reference_stride,
        "reference_version": arch.RESNET_VERSION[cost.reference_stride],
    }
    if cost.cheaper:
        return t(
            "{name} needs fewer GFLOPs ({flops:.2f}) than {reference} ({reference_flops:.2f}) "
            "despite its gates: its bottlenecks stride on the {stride} convolution (ResNet "
            "{version}), {reference}'s here on the {reference_stride} (ResNet "
            "{reference_version}), so the latter's 1×1 reads the full-resolution map in the first "
            "block of each stage.",
            **params,
        )
    return t(
        "{name} needs more GFLOPs ({flops:.2f}) than {reference} ({reference_flops:.2f}): its "
        "bottlenecks stride on the {stride} convolution (ResNet {version}), {reference}'s here on "
        "the {reference_stride} (ResNet {reference_version}), so the latter's 1×1 reads the "
        "full-resolution map in the first block of each stage.",
        **params,
    )


def _table_words(summary: arch.TableSummary, note: str) -> str:
    """Return the table's what-to-notice caption, its weight trend chosen by the counts."""
    weight_trend = (
        t(
            "while parameters went *down* after {heaviest}: global pooling replaced the huge "
            "dense layers",
            heaviest=summary.heaviest.title,
        )
        if summary.all_later_lighter
        else t("while {heaviest} stays the heaviest", heaviest=summary.heaviest.title)
    )
    words = t(
        "What to notice: depth went from {first} to {deepest} ({deepest_name}), {weight_trend}. "
        "In {beyond_count} of the {count} networks ({beyond}) one unit's field is larger than the "
        "image itself (padding counts in it), yet neighbouring units are a jump apart. Units see "
        "the whole image as such only in {whole}, through gates.",
        first=summary.first_depth,
        deepest=summary.deepest.depth,
        deepest_name=summary.deepest.title,
        weight_trend=weight_trend,
        beyond_count=len(summary.field_beyond_image),
        count=len(nets),
        beyond=", ".join(summary.field_beyond_image),
        whole=", ".join(summary.whole_image) or t("none"),
    )
    return f"{words} {note}" if note else words


st.caption(
    _table_words(summary, _layout_note(arch.cost_comparison(nets, "se_resnet50", "resnet50")))
)

st.markdown(
    t(
        "**Inside one network**: every convolution and pooling layer in forward order, what it "
        "outputs, weighs and costs, and how far into the image its units see."
    )
)


def _layer_table(rows: list) -> None:
    """Draw one network's layers: output, parameters, MFLOPs, field and jump."""
    params, field, jump = t("params"), t("field r (px)"), t("jump j (px)")
    table(
        {
            "#": [r.index for r in rows],
            t("layer"): [r.name for r in rows],
            t("kind"): [r.kind for r in rows],
            t("output"): ["×".join(map(str, r.out_shape)) for r in rows],
            params: [r.params for r in rows],
            "MFLOPs": [r.flops / 1e6 for r in rows],
            field: [r.rf_size for r in rows],
            jump: [r.jump for r in rows],
        },
        csv_name="layers",
        formats={"MFLOPs": "%.1f", params: "localized"},
        scroll_after=7,
    )


@st.fragment
def _drill_down() -> None:
    """Draw one network's layers, field and jump; picking another reruns only this part."""
    names, asked = list(ARCHITECTURES), st.query_params.get("arch")
    c1, c2 = st.columns([2, 1])
    name = linked(c1.selectbox)(
        t("Look inside"),
        names,
        index=names.index(asked) if asked in names else names.index("resnet50"),
        format_func=lambda n: ARCHITECTURES[n].title,
        key="arch_pick",
    )
    keep_param("arch", name)  # only when it changes: a write would undo newer widget values
    side = linked(c2.number_input)(
        t("Input side (px)"), 32, 1024, ARCHITECTURES[name].input_size, key=f"arch_side_{name}"
    )
    try:
        rows = layer_table(name, int(side))
    except ExplorerError as err:
        st.error(error_text(err))
        rows = []
    if rows:
        spatial = [r for r in rows if r.rf_size is not None]
        chart(
            arch_figures.rf_growth(
                [f"{r.name} ({r.kind})" for r in spatial],
                [r.rf_size for r in spatial],
                [r.jump for r in spatial],
                int(side),
                title=t("{name}: field and jump, layer by layer", name=ARCHITECTURES[name].title),
            ),
            key="arch_rf",
        )
        _layer_table(rows)
        st.caption(
            t(
                "{spatial} convolution and pooling layers, then {dense} dense layer(s), whose "
                "field is the whole input. Batch-norm parameters are not in the params column. "
                "What to notice: r grows by (k − 1)·j at each layer, so a layer adds the more the "
                "later it comes; strides multiply j, and a global pool jumps r to the whole map.",
                spatial=len(spatial),
                dense=len(rows) - len(spatial),
            )
        )


_drill_down()

st.header(t("3 · An Inception module on your image"))
st.markdown(
    t(
        "An Inception module applies several filter sizes to the same input and stacks the "
        "results as channels. Here its filters are set by hand (not learned) so you can read the "
        "outputs: 1×1 colour mixes, edge and blob filters at 3×3 and at 5×5 after a 1×1 "
        "reduction to brightness, and a 3×3 max pool followed by the same colour mixes."
    )
)
st.latex(
    r"y = \big[\,W_{1\times1} x \,\big\|\, W_{3\times3} W^{r}_{1\times1} x \,\big\|\, "
    r"W_{5\times5} W^{r}_{1\times1} x \,\big\|\, W^{p}_{1\times1}\,\mathrm{maxpool}(x)\,\big]"
)


@st.cache_data(max_entries=16, show_spinner=False)
def _inception(sha: str, side: int, _picked) -> tuple[list, list, list]:
    """Return (branches without maps, maps as arrays, GoogLeNet's inception3a branches)."""
    branches = arch.inception_on_image(working_tensor(_picked, side, gray=False))  # (3, H, W) in
    maps = [m.numpy() for b in branches for m in b.maps]
    return [replace(b, maps=None) for b in branches], maps, arch.googlenet_branches()


picked = image_picker("arch")
w_side = linked(st.slider)(t("Working size (longest side, px)"), 48, 256, 128, 16, key="arch_work")


def _branch_table(branches: list, g3a: list) -> None:
    """Draw each branch's weights and multiply-adds here and in GoogLeNet's inception3a."""
    here_macs, g_weights, g_macs = (
        t("multiply-adds (here)"),
        t("weights (3a)"),
        t("multiply-adds (3a, 28×28)"),
    )
    table(
        {
            t("branch"): [t(b.name) for b in branches],
            t("weights (here)"): [b.params for b in branches],
            here_macs: [b.macs for b in branches],
            t("GoogLeNet inception3a"): [g.channels[0] for g in g3a],
            g_weights: [g.params for g in g3a],
            g_macs: [g.macs for g in g3a],
        },
        csv_name="inception-branches",
        formats=dict.fromkeys((g_weights, g_macs, here_macs), "localized"),
    )


def _edge_widths(branches: list, maps: list) -> list[tuple[str, float, float]]:
    """Return (channel, 3×3 response width, 5×5 response width) for each edge filter."""
    starts = [0]  # maps come branch by branch: where each branch's maps begin
    for b in branches:
        starts.append(starts[-1] + len(b.channels))
    three_maps, five_maps = (maps[starts[i] : starts[i + 1]] for i in (1, 2))
    return [
        (c, response_width(a), response_width(b))
        for c, a, b in zip(branches[1].channels, three_maps, five_maps, strict=True)
    ]


def _inception_words(edge: list[tuple[str, float, float]]) -> str:
    """Return the maps' caption: the measured widths, and whether every 5×5 response is wider."""
    widths = ", ".join(
        t("{channel} {three:.1f} → {five:.1f} px", channel=t(c), three=a, five=b)
        for c, a, b in edge
    )
    if all(widths_grow([a, b], factor=1.0) for _, a, b in edge):
        return t(
            "Maps are shown before the ReLU (blue negative, red positive), each on its own scale. "
            "Response half-width, 3×3 → 5×5: {widths}. What to notice: every 5×5 edge response "
            "is wider than its 3×3 twin, and the 3×3 max pool spreads bright regions by a pixel. "
            "In GoogLeNet (torchvision's layout, whose '5×5' branch uses a 3×3 kernel) the 1×1 "
            "reductions make the wide branches cheap: their 3×3 reads the reduced channels, not "
            "the module's whole input. Its weights include batch norm's.",
            widths=widths,
        )
    return t(
        "Maps are shown before the ReLU (blue negative, red positive), each on its own scale. "
        "Response half-width, 3×3 → 5×5: {widths}. What to notice: not every 5×5 response is "
        "wider than its 3×3 twin on this image, and the 3×3 max pool spreads bright regions by a "
        "pixel. In GoogLeNet (torchvision's layout, whose '5×5' branch uses a 3×3 kernel) the "
        "1×1 reductions make the wide branches cheap: their 3×3 reads the reduced channels, not "
        "the module's whole input. Its weights include batch norm's.",
        widths=widths,
    )


def _inception_section() -> None:
    """Draw the module's maps on the learner's image and its costs beside GoogLeNet's."""
    try:
        branches, maps, g3a = _inception(picked.sha, w_side, picked)
    except ExplorerError as err:
        st.error(t("{error} Try a larger working size or another image.", error=error_text(err)))
    else:
        titles = [
            t("{branch}: {channel}", branch=t(b.name), channel=t(c))
            for b in branches
            for c in b.channels
        ]
        chart(
            grids.map_mosaic(
                maps,
                titles,
                cols=3,
                height_per_row=200,
                title=t("Inception block: the feature maps of each branch"),
            ),
            key="arch_incep",
        )
        _branch_table(branches, g3a)
        st.caption(_inception_words(_edge_widths(branches, maps)))


lazy_section(
    t("The module's maps on your image, and its costs beside GoogLeNet's (maps, table)"),
    "open_arch_incep",
    _inception_section,
)
rates, k_d = arch.DILATION_RATES, arch.DILATED_SIDE
st.markdown(
    t(
        "**One filter, several scales.** The Inception branches are *different* filters. Tying "
        "the weights instead, the same {k}×{k} kernel at dilation {rates} sees {extents} pixels "
        "across with the same {weights} weights: one detector for a pattern at {count} sizes.",
        k=k_d,
        rates=", ".join(map(str, rates)),
        extents=", ".join(str(arch.dilated_extent(r)) for r in rates),
        weights=k_d * k_d,
        count=len(rates),
    )
)


def _dilation_words(widths: list[float]) -> str:
    """Return the dilation caption: the measured blob widths and whether they widen steadily."""
    listed = ", ".join(
        t("{width:.1f} px at dilation {rate}", width=w, rate=r)
        for w, r in zip(widths, rates, strict=True)
    )
    if widths_grow(widths):
        return t(
            "Typical width of a response blob (half-width of each map's autocorrelation): "
            "{widths}. What to notice: the same {weights} weights answer to ever wider structure "
            "as the dilation grows.",
            widths=listed,
            weights=k_d * k_d,
        )
    return t(
        "Typical width of a response blob (half-width of each map's autocorrelation): {widths}. "
        "What to notice: on this image the responses do not widen steadily (by {factor:g}× from "
        "first to last), so the rates do not separate scales cleanly here.",
        widths=listed,
        factor=WIDER_FACTOR,
    )


def _dilation_section() -> None:
    """Draw one kernel at every dilation rate on the learner's image, with blob widths."""
    kernel = linked(st.selectbox)(
        t("Kernel"), ["laplacian", "sobel x", "sobel y"], format_func=t, key="arch_dil_kernel"
    )
    try:
        scaled = arch.dilated_scales(working_tensor(picked, w_side), kernel, rates)
    except ExplorerError as err:
        st.error(error_text(err))
    else:
        chart(
            grids.map_mosaic(
                [m.numpy() for m in scaled],
                [
                    t(
                        "{kernel}, dilation {rate} (sees {extent}×{extent})",
                        kernel=t(kernel),
                        rate=r,
                        extent=arch.dilated_extent(r),
                    )
                    for r in rates
                ],
                cols=3,
                height_per_row=220,
                title=t("One kernel at growing dilation rates"),
            ),
            key="arch_dil",
        )
        st.caption(_dilation_words([response_width(m) for m in scaled]))


lazy_section(
    t(
        "One kernel at dilation {rates} on your image (maps, blob widths)",
        rates=", ".join(map(str, rates)),
    ),
    "open_arch_dil",
    _dilation_section,
)

degradation.section()
