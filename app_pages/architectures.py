"""CNN · Classic architectures: what each fixed, measured; an Inception module; degradation live."""

import threading
from collections import OrderedDict
from dataclasses import replace

import streamlit as st

from engine import architectures as arch
from engine import cnn as deg
from engine import kernels as kd
from engine.architectures import ARCHITECTURES
from engine.core import ExplorerError
from engine.receptive_field import WIDER_FACTOR, response_width, widths_grow
from ui import grids
from ui.architectures import figures as arch_figures
from ui.inputs import image_picker, working_tensor
from ui.sections import lazy_section

st.title("Classic architectures: what each one fixed")
st.markdown(
    "Nine networks from 2012 to 2017, each an answer to a problem its predecessors had. The "
    "numbers below are measured from the networks themselves, built in PyTorch on this server."
)

STORIES = {  # (problem, idea, why it works)
    "alexnet": (
        "Recognition ran on hand-designed features (SIFT, HOG) and a shallow classifier; "
        "progress on ImageNet had slowed.",
        "Learn the features too: {alexnet_layers} weight layers trained end to end on 1.2 million "
        "images, made trainable by ReLU, dropout, data augmentation and two GPUs.",
        "With enough data, gradient descent finds filters suited to the task: the first layer "
        "learns edge and colour detectors like the hand-made ones, later layers combine them "
        "into parts nobody would design. It beat the best hand-made pipeline by over ten points "
        "of top-5 error.",
    ),
    "vgg16": (
        "AlexNet mixed 11×11, 5×5 and 3×3 kernels with big strides: no simple rule for going "
        "deeper.",
        "One rule: only 3×3 convolutions (stride 1) and 2×2 max pools, repeated to {vgg_depth} "
        "layers.",
        "Two stacked 3×3 layers see {r2}×{r2} and three see {r3}×{r3}, with {w2}C² or {w3}C² "
        "weights instead of {w5}C² or {w7}C², and a ReLU in between: more nonlinearity per "
        "weight. {vgg_dense_share:.0%} of its parameters sit in the {vgg_dense} dense layers at "
        "the end (see the drill-down).",
    ),
    "googlenet": (
        "Which filter size should a layer use? And a bigger network costs more than it gains.",
        "The Inception module runs 1×1, 3×3 and 5×5 convolutions and a 3×3 max pool side by "
        "side and concatenates their maps; 1×1 convolutions first shrink the channels, so the "
        "large filters stay cheap.",
        "The next layer can pick, position by position, among features of several extents, and "
        "the bottlenecks keep the cost down. **Multi-scale filters are not scale handling**, "
        "though: the 3×3 and 5×5 filters are separate weights, learned independently, and "
        "nothing makes the 5×5 a stretched copy of the 3×3. A pattern learned at one size is not "
        "recognised at another for free; training must still show every size. Handling object "
        "scale means tying weights across sizes: one kernel at dilation 1, 2, 4, or one network "
        "run on the image downsampled at several rates, so the same detector fires on the small "
        "and the large object. Section 3 shows both kinds on your image.",
    ),
    "inception_v3": (
        "Large filters are expensive (a 5×5 costs {w5}/{w1} ≈ {five_vs_three:.1f} times a 3×3), "
        "and pooling to shrink the grid squeezes information through a bottleneck.",
        "Factorise: a 5×5 becomes two 3×3, an n×n a 1×n followed by an n×1 (n = {inception_n}), "
        "and the grid shrinks with stride-2 convolution and pooling branches side by side.",
        "The factorised stack has the same receptive field with fewer weights and an extra "
        "nonlinearity, so the same budget buys a deeper, wider network.",
    ),
    "resnet18": (
        "Degradation: adding layers to a plain network made its *training* error worse, though "
        "the deeper net could copy the shallower one and make its extra layers identities. The "
        "optimiser does not find that solution.",
        "Let every two layers learn a residual F(x) and add the input back through a shortcut "
        "with no weights: y = ReLU(F(x) + x).",
        "The identity is now the easy default (push F to zero), and the gradient reaches early "
        "layers along the shortcuts: ∂y/∂x = I + ∂F/∂x. Section 4 repeats the experiment.",
    ),
    "resnet50": (
        "Residual networks train at any depth, but 3×3 layers on wide maps make depth expensive.",
        "Bottleneck blocks: a 1×1 shrinks the channels, a 3×3 works on the thin map, a 1×1 widens "
        "it back, around the identity shortcut.",
        "Three cheap layers replace two expensive ones: ResNet-50 is {r50_deeper:.1f} times as "
        "deep as ResNet-18 for {r50_flops:.1f} times its FLOPs (see the table), and the extra "
        "depth buys accuracy.",
    ),
    "resnext50_32x4d": (
        "Deeper or wider gives diminishing returns; Inception's hand-tuned branches are hard to "
        "adapt.",
        "Split each bottleneck's 3×3 into {resnext_groups} parallel paths of {resnext_width} "
        "channels (in the first stage), all of the same shape (cardinality), summed: exactly a "
        "grouped convolution.",
        "Many small transforms of low-dimensional slices are more expressive per parameter than "
        "one wide transform: at {resnext_flops:.2f} times ResNet-50's FLOPs and "
        "{resnext_params:.2f} times its parameters it is more accurate (in the paper's ImageNet "
        "results).",
    ),
    "densenet121": (
        "Deep networks relearn similar features layer after layer, and a signal must cross many "
        "layers to reach the loss.",
        "In a dense block every layer reads the concatenation of all earlier maps and adds only "
        "{densenet_growth} channels (the growth rate); 1×1 convolutions and pooling shrink maps "
        "between blocks.",
        "Features are reused instead of recomputed, so layers can be narrow ({densenet_share:.0%} "
        "of ResNet-50's parameters), and every layer has a short path to the loss.",
    ),
    "se_resnet50": (
        "A convolution mixes channels only inside its local window: how much a channel matters "
        "cannot depend on the rest of the image.",
        "Squeeze each channel to its mean over the map (z), excite with two small layers and a "
        "sigmoid, s = σ(W₂ ReLU(W₁ z)), one weight per channel in (0, 1), and rescale.",
        "Global context re-weights the channels (channel attention) for {se_extra:.0%} more "
        "parameters than ResNet-50; after the first gate every unit depends on the whole image "
        "(see the table).",
    ),
}

_table = st.cache_resource(show_spinner="Measuring the nine nets (once per server)…")(
    arch.arch_table
)
_rows = st.cache_data(max_entries=32, show_spinner=False)(arch.layer_rows)
table = _table()
by_name = {s.name: s for s in table}
stack = {L: kd.stacked_vs_single(1, 1, 1, L) for L in (2, 3)}  # C = 1: weights in units of C²
vgg_dense = arch.dense_part(_rows("vgg16", None), by_name["vgg16"].params)
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
    "r50_flops": arch.flops_ratio(table, "resnet50", "resnet18"),
    "resnext_flops": arch.flops_ratio(table, "resnext50_32x4d", "resnet50"),
    "resnext_params": arch.parameter_ratio(table, "resnext50_32x4d", "resnet50"),
    "alexnet_layers": by_name["alexnet"].weight_layers,
    "vgg_depth": by_name["vgg16"].depth,
    "densenet_share": arch.parameter_ratio(table, "densenet121", "resnet50"),
    "se_extra": arch.parameter_ratio(table, "se_resnet50", "resnet50") - 1,
}

st.header("1 · Nine problems, nine ideas")
tabs = st.tabs([i.title for i in ARCHITECTURES.values()])
for tab, (name, info) in zip(tabs, ARCHITECTURES.items(), strict=True):
    problem, idea, why = (part.format(**numbers) for part in STORIES[name])
    with tab:
        st.markdown(f"**Problem.** {problem}\n\n**Idea.** {idea}\n\n**Why it works.** {why}")
        st.caption(f"Paper: {info.paper}.")


st.header("2 · Depth, size, cost and field, measured")
st.markdown(
    "**Depth** is the most convolution and dense layers on one path from input to output (the "
    "number in the papers' names); a squeeze-and-excitation gate scales that path without "
    "lengthening it, so its two 1×1 layers are not counted. **Weight layers** counts every such "
    "layer once, parallel branches, gates and shortcut projections included. **FLOPs** are "
    "torch's `FlopCounterMode` count for one image, two per multiply-add. The **receptive "
    "field** is that of one unit of the last feature map (the one the classifier or the global "
    "pool reads), and the **jump** is how many input pixels apart its neighbouring units sit."
)
st.latex(r"r_{\ell} = r_{\ell-1} + (k_\ell - 1)\,j_{\ell-1}, \qquad j_\ell = j_{\ell-1}\,s_\ell")
st.dataframe(
    {
        "network": [s.title for s in table],
        "year": [s.year for s in table],
        "depth": [s.depth for s in table],
        "weight layers": [s.weight_layers for s in table],
        "parameters (M)": [s.params / 1e6 for s in table],
        "GFLOPs": [s.flops / 1e9 for s in table],
        "bottleneck strides on": [s.bottleneck_stride or "" for s in table],
        "input": [f"{s.input_size}²" for s in table],
        "last map": [f"{s.grid[0]}×{s.grid[1]}" for s in table],
        "field r (px)": [s.rf_size for s in table],
        "jump j (px)": [s.rf_jump for s in table],
        "whole image via a gate": ["yes" if s.global_context else "" for s in table],
    },
    hide_index=True,
    column_config={
        k: st.column_config.NumberColumn(format=f)
        for k, f in (("parameters (M)", "%.2f"), ("GFLOPs", "%.2f"), ("jump j (px)", "%d"))
    },
)
summary = arch.table_summary(table)


def _layout_note(cost: arch.CostComparison) -> str:
    """Return the sentence on why two bottleneck networks' FLOPs differ, or "" if layouts match."""
    if not cost.layouts_differ:
        return ""
    return (
        f" {cost.name} needs {'fewer' if cost.cheaper else 'more'} GFLOPs "
        f"({cost.flops / 1e9:.2f}) than {cost.reference} ({cost.reference_flops / 1e9:.2f})"
        f"{' despite its gates' if cost.cheaper else ''}: its bottlenecks stride on the "
        f"{cost.stride} convolution (ResNet {arch.RESNET_VERSION[cost.stride]}), "
        f"{cost.reference}'s here on the {cost.reference_stride} (ResNet "
        f"{arch.RESNET_VERSION[cost.reference_stride]}), so the latter's 1×1 reads the "
        "full-resolution map in the first block of each stage."
    )


weight_trend = (
    f"while parameters went *down* after {summary.heaviest.title}: global pooling replaced the "
    "huge dense layers"
    if summary.all_later_lighter
    else f"while {summary.heaviest.title} stays the heaviest"
)
st.caption(
    f"What to notice: depth went from {summary.first_depth} to {summary.deepest.depth} "
    f"({summary.deepest.title}), {weight_trend}. In {len(summary.field_beyond_image)} of the "
    f"{len(table)} networks ({', '.join(summary.field_beyond_image)}) one unit's field is larger "
    "than the image itself (padding counts in it), yet neighbouring units are a jump apart. "
    f"Units see the whole image as such only in {', '.join(summary.whole_image) or 'none'}, "
    "through gates." + _layout_note(arch.cost_comparison(table, "se_resnet50", "resnet50"))
)

st.markdown(
    "**Inside one network**: every convolution and pooling layer in forward order, what it "
    "outputs, weighs and costs, and how far into the image its units see."
)


@st.fragment
def _drill_down() -> None:
    """Draw one network's layers, field and jump; picking another reruns only this part."""
    names, asked = list(ARCHITECTURES), st.query_params.get("arch")
    c1, c2 = st.columns([2, 1])
    name = c1.selectbox(
        "Look inside",
        names,
        index=names.index(asked) if asked in names else names.index("resnet50"),
        format_func=lambda n: ARCHITECTURES[n].title,
        key="arch_pick",
    )
    st.query_params["arch"] = name
    side = c2.number_input(
        "Input side (px)", 32, 1024, ARCHITECTURES[name].input_size, key=f"arch_side_{name}"
    )
    try:
        rows = _rows(name, int(side))
    except ExplorerError as err:
        st.error(str(err))
        rows = []
    if rows:
        spatial = [r for r in rows if r.rf_size is not None]
        st.plotly_chart(
            arch_figures.rf_growth(
                [f"{r.name} ({r.kind})" for r in spatial],
                [r.rf_size for r in spatial],
                [r.jump for r in spatial],
                int(side),
                title=f"{ARCHITECTURES[name].title}: field and jump, layer by layer",
            ),
            key="arch_rf",
        )
        st.dataframe(
            {
                "#": [r.index for r in rows],
                "layer": [r.name for r in rows],
                "kind": [r.kind for r in rows],
                "output": ["×".join(map(str, r.out_shape)) for r in rows],
                "params": [r.params for r in rows],
                "MFLOPs": [r.flops / 1e6 for r in rows],
                "field r (px)": [r.rf_size for r in rows],
                "jump j (px)": [r.jump for r in rows],
            },
            hide_index=True,
            height=320,
            column_config={
                "MFLOPs": st.column_config.NumberColumn(format="%.1f"),
                "params": st.column_config.NumberColumn(format="localized"),
            },
        )
        st.caption(
            f"{len(spatial)} convolution and pooling layers, then {len(rows) - len(spatial)} "
            "dense layer(s), whose field is the whole input. Batch-norm parameters are not in "
            "the params column. What to notice: r grows by (k − 1)·j at each layer, so a layer "
            "adds the more the later it comes; strides multiply j, and a global pool jumps r to "
            "the whole map."
        )


_drill_down()

st.header("3 · An Inception module on your image")
st.markdown(
    "An Inception module applies several filter sizes to the same input and stacks the results "
    "as channels. Here its filters are set by hand (not learned) so you can read the outputs: "
    "1×1 colour mixes, edge and blob filters at 3×3 and at 5×5 after a 1×1 reduction to "
    "brightness, and a 3×3 max pool followed by the same colour mixes."
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
w_side = st.slider("Working size (longest side, px)", 48, 256, 128, 16, key="arch_work")


def _inception_section() -> None:
    """Draw the module's maps on the learner's image and its costs beside GoogLeNet's."""
    try:
        branches, maps, g3a = _inception(picked.sha, w_side, picked)
    except ExplorerError as err:
        st.error(f"{err} Try a larger working size or another image.")
    else:
        titles = [f"{b.name}: {c}" for b in branches for c in b.channels]
        st.plotly_chart(
            grids.map_mosaic(maps, titles, cols=3, height_per_row=200), key="arch_incep"
        )
        st.dataframe(
            {
                "branch": [b.name for b in branches],
                "weights (here)": [b.params for b in branches],
                "multiply-adds (here)": [b.macs for b in branches],
                "GoogLeNet inception3a": [g.channels[0] for g in g3a],
                "weights (3a)": [g.params for g in g3a],
                "multiply-adds (3a, 28×28)": [g.macs for g in g3a],
            },
            hide_index=True,
            column_config={
                k: st.column_config.NumberColumn(format="localized")
                for k in ("weights (3a)", "multiply-adds (3a, 28×28)", "multiply-adds (here)")
            },
        )
        starts = [0]  # maps come branch by branch: where each branch's maps begin
        for b in branches:
            starts.append(starts[-1] + len(b.channels))
        three_maps, five_maps = (maps[starts[i] : starts[i + 1]] for i in (1, 2))
        edge = [
            (c, response_width(a), response_width(b))
            for c, a, b in zip(branches[1].channels, three_maps, five_maps, strict=True)
        ]
        thicker = all(widths_grow([a, b], factor=1.0) for _, a, b in edge)
        st.caption(
            "Maps are shown before the ReLU (blue negative, red positive), each on its own scale. "
            "Response half-width, 3×3 → 5×5: "
            + ", ".join(f"{c} {a:.1f} → {b:.1f} px" for c, a, b in edge)
            + ". What to notice: "
            + (
                "every 5×5 edge response is wider than its 3×3 twin"
                if thicker
                else "not every 5×5 response is wider than its 3×3 twin on this image"
            )
            + ", and the 3×3 max pool spreads bright regions by a pixel. In GoogLeNet "
            "(torchvision's layout, whose '5×5' branch uses a 3×3 kernel) the 1×1 reductions make "
            "the wide branches cheap: their 3×3 reads the reduced channels, not the module's whole "
            "input. Its weights include batch norm's."
        )


lazy_section(
    "The module's maps on your image, and its costs beside GoogLeNet's (maps, table)",
    "open_arch_incep",
    _inception_section,
)
rates, k_d = arch.DILATION_RATES, arch.DILATED_SIDE
st.markdown(
    "**One filter, several scales.** The Inception branches are *different* filters. Tying the "
    f"weights instead, the same {k_d}×{k_d} kernel at dilation "
    f"{', '.join(map(str, rates))} sees "
    f"{', '.join(str(arch.dilated_extent(r)) for r in rates)} pixels across with the same "
    f"{k_d * k_d} weights: one detector for a pattern at {len(rates)} sizes."
)


def _dilation_section() -> None:
    """Draw one kernel at every dilation rate on the learner's image, with blob widths."""
    kernel = st.selectbox("Kernel", ["laplacian", "sobel x", "sobel y"], key="arch_dil_kernel")
    try:
        scaled = arch.dilated_scales(working_tensor(picked, w_side), kernel, rates)
    except ExplorerError as err:
        st.error(str(err))
    else:
        st.plotly_chart(
            grids.map_mosaic(
                [m.numpy() for m in scaled],
                [
                    f"{kernel}, dilation {r} (sees {(e := arch.dilated_extent(r))}×{e})"
                    for r in rates
                ],
                cols=3,
                height_per_row=220,
            ),
            key="arch_dil",
        )
        widths = [response_width(m) for m in scaled]
        st.caption(
            "Typical width of a response blob (half-width of each map's autocorrelation): "
            + ", ".join(f"{w:.1f} px at dilation {r}" for w, r in zip(widths, rates, strict=True))
            + ". What to notice: "
            + (
                f"the same {k_d * k_d} weights answer to ever wider structure as the dilation "
                "grows."
                if widths_grow(widths)
                else "on this image the responses do not widen steadily (by "
                f"{WIDER_FACTOR:g}× from first to last), so the rates do not separate scales "
                "cleanly here."
            )
        )


lazy_section(
    f"One kernel at dilation {', '.join(map(str, rates))} on your image (maps, blob widths)",
    "open_arch_dil",
    _dilation_section,
)

st.header("4 · The degradation problem, live")
st.markdown(
    "He et al. trained plain networks of 20 and 56 layers and found the deeper one worse *on the "
    f"training data*. Here are small copies: stacks of {deg.WIDTH}-unit dense layers with "
    "batch norm (CIFAR ResNets' shape, 2 + 2n weight layers) learning to tell "
    f"{deg.ARMS} interleaved spirals apart. The residual versions add each block's input back:"
)
st.latex(
    r"x_{\ell+1} = \mathrm{ReLU}\big(F(x_\ell) + x_\ell\big), \qquad "
    r"\frac{\partial x_{\ell+1}}{\partial x_\ell} = I + \frac{\partial F}{\partial x_\ell}"
    r"\;\;\text{(on the units the ReLU passes)}"
)


@st.cache_data(max_entries=64, show_spinner=False)
def _norms(depth: int, residual: bool, seed: int):
    return deg.gradient_norms(depth, residual, seed)


_TREND_MEANS = {  # what the plain stack's trend toward the input is called
    "grows": ": an exploding gradient, not a vanishing one.",
    "shrinks": ": a vanishing gradient.",
    "stays": ": neither vanishing nor exploding.",
}
_SHORTCUTS = {
    "narrow": "narrow the spread",
    "keep": "leave the spread about as it is",
    "widen": "widen the spread",
}


def _times(ratio: float) -> str:
    """Return a ratio as "29,206" (large) or "0.42" (small)."""
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


@st.cache_resource
def _trainer() -> tuple[threading.Lock, OrderedDict]:
    """One run at a time for the whole server (two would share two cores), and the last 16 runs."""
    return threading.Lock(), OrderedDict()


def _gradients(depths: tuple[int, int], seed: int) -> None:
    """Draw the spiral task and every stack's gradient norms at initialisation, with a caption."""
    deep = depths[1]
    norms = {
        deg.label(d, r): _norms(d, r, seed) for d in dict.fromkeys(depths) for r in (False, True)
    }
    left, right = st.columns([1, 2])
    xy, arm = deg.spirals(deg.POINTS, seed)  # 2048 points: cheaper to draw again than to cache
    left.plotly_chart(
        arch_figures.points_by_class(xy.numpy(), arm.numpy(), title="The task: which arm?"),
        key="deg_data",
    )
    hidden = {k: v[:-1] for k, v in norms.items()}  # the output layer starts small: its own scale
    right.plotly_chart(
        arch_figures.gradient_profile(
            hidden, title="Gradient norm per hidden layer at initialisation"
        ),
        key="deg_grad",
    )
    trend = {r: arch.gradient_trend(norms[deg.label(deep, r)]) for r in (False, True)}
    effect = _SHORTCUTS[arch.shortcut_effect(trend[False], trend[True])]
    st.caption(
        f"What to notice: toward the input, plain-{deep}'s gradient {trend[False].words} "
        f"(the first hidden layer's norm is {_times(trend[False].ratio)} times the last's)"
        + _TREND_MEANS[trend[False].words.split()[0]]
        + f" Across its layers the norms span a factor of {_times(trend[False].spread)}, so no one "
        f"step size suits them all. Residual-{deep}'s {trend[True].words} "
        f"({_times(trend[True].ratio)} times) and spans a factor of "
        f"{_times(trend[True].spread)}: the shortcuts {effect}. Differences within a factor of "
        f"{arch.TREND_FACTOR:g} count as level."
    )


def _curves(depths: tuple[int, int], steps: int, lr: float, seed: int):
    """Return the four stacks' training curves: kept per setting, trained one run at a time."""
    lock, store = _trainer()
    curves = store.get(key := (depths, steps, lr, seed))
    if curves is None:
        if lock.locked():
            st.info("Another visitor's run is training; yours starts when it ends.")
        bar = st.progress(0.0, text="Waiting for the trainer…")
        with lock:
            if (curves := store.get(key)) is None:
                curves = deg.train_curves(
                    depths, steps, seed, lr=lr, progress=lambda f, m: bar.progress(f, text=m)
                )
                store[key] = curves
                while len(store) > 16:
                    store.popitem(last=False)
        bar.empty()
    return curves


def _training_words(curves, shallow: int, deep: int) -> str:
    """Return the what-to-notice sentence on the four final training losses."""
    end = {n: f"{curves.final_loss[n]:.2f}" for n in curves.labels}
    verdict = arch.depth_verdict(
        (curves.final_loss[deg.label(shallow, False)], curves.final_loss[deg.label(deep, False)]),
        (curves.final_loss[deg.label(shallow, True)], curves.final_loss[deg.label(deep, True)]),
    )
    plain_says = (
        f"the deeper plain stack ends {verdict.plain_gap:.2f} nats worse"
        if verdict.plain_degrades
        else "this time the deeper plain stack does not end worse (try more layers or steps)"
    )
    residual_says = (
        "the deeper residual one keeps up, because its extra blocks can stay close to the identity"
        if verdict.residual_keeps_up
        else f"the deeper residual one also ends {verdict.residual_gap:.2f} nats worse"
    )
    return (
        "What to notice: these are *training* losses, so a gap is not overfitting. Here "
        f"plain-{deep} ends at {end[deg.label(deep, False)]} against plain-{shallow}'s "
        f"{end[deg.label(shallow, False)]}, and residual-{deep} at {end[deg.label(deep, True)]} "
        f"against residual-{shallow}'s {end[deg.label(shallow, True)]}: {plain_says}, while "
        f"{residual_says}. Gaps under {verdict.tolerance} nats count as level."
    )


def _training(depths: tuple[int, int], steps: int, lr: float, seed: int) -> None:
    """Draw the four stacks' loss curves, their final numbers and what to notice."""
    curves = _curves(depths, steps, lr, seed)
    window = arch.smoothing_steps(deg.EMA_DECAY)
    st.plotly_chart(
        arch_figures.loss_curves(
            curves.smooth,
            deg.CHANCE,
            title=f"Training loss (moving average over ~{window:.0f} steps)",
        ),
        key="deg_loss",
    )
    st.dataframe(
        {
            "network": curves.labels,
            "final training loss": [curves.final_loss[n] for n in curves.labels],
            "training accuracy (%)": [100 * curves.accuracy[n] for n in curves.labels],
            "seconds": [curves.seconds[n] for n in curves.labels],
        },
        hide_index=True,
        column_config={
            k: st.column_config.NumberColumn(format=f)
            for k, f in (
                ("final training loss", "%.3f"),
                ("training accuracy (%)", "%.1f"),
                ("seconds", "%.1f"),
            )
        },
    )
    st.caption(_training_words(curves, *depths))


def _degradation_section() -> None:
    """Draw the depth controls, the gradients at initialisation and, when asked, the training."""
    c1, c2, c3, c4, c5 = st.columns(5)
    shallow = c1.selectbox("Shallow depth", [8, 14, 20, 32], 2, key="deg_shallow")
    deep = c2.selectbox("Deep depth", [32, 44, 56, 110], 2, key="deg_deep")
    steps = c3.select_slider("Steps", [50, 100, 200, 300, 500, 1000], 200, key="deg_steps")
    lr = c4.select_slider("Learning rate", [0.005, 0.01, 0.02, 0.05, 0.1], 0.02, key="deg_lr")
    seed = int(c5.number_input("Seed", 0, 9999, 0, key="deg_seed"))
    depths = (shallow, deep)
    _gradients(depths, seed)
    if st.toggle("Train the four stacks (one run at a time per server)", key="deg_train"):
        _training(depths, steps, lr, seed)
    else:
        st.caption(
            "Switch on to train all four stacks on this server; results are kept per setting."
        )


lazy_section(
    "The experiment: gradients at initialisation of plain and residual stacks, then training "
    "them (charts, your settings)",
    "open_arch_degradation",
    _degradation_section,
)
