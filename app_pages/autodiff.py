"""Frameworks · Differentiable programming: the graph torch records, walked forward and backward."""

import numpy as np
import streamlit as st

from engine.autodiff import (
    ANCHOR_STEP,
    DEFAULT_PARAMS,
    DEFAULT_TARGETS,
    DEFAULT_X,
    EPS,
    FD_STEP,
    MAX_ABS,
    PARAMETERS,
    SATURATED,
    AutodiffInputError,
    backward_steps,
    check_inputs,
    dataflow_graph,
    error_sweep,
    finite_difference_errors,
    forward_steps,
    gradient_table,
    same_operations,
    saturation,
    static_graph,
)
from engine.core import ExplorerError
from ui.autodiff import figures as af
from ui.autodiff import steps as ad_steps
from ui.chart import chart
from ui.i18n import error_text, t, tn
from ui.links import linked
from ui.tables import table

MORE_X, MORE_T = (2.0, -0.3), (-0.5, 0.4)  # examples 3 and 4, when asked for
STEPS_H = tuple(float(h) for h in 10.0 ** -np.arange(1.0, 14.01, 0.5))  # 1e-1 … 1e-14


def _link_settings() -> tuple[dict, ValueError | None]:
    """Return widget values from a shared link (?w1=…&x=0.5,-1&t=…) and the error if unusable."""
    q = st.query_params
    if not any(k in q for k in (*PARAMETERS, "x", "t")):
        return {}, None
    try:
        params = {k: float(q.get(k, DEFAULT_PARAMS[k])) for k in PARAMETERS}
        x = [float(v) for v in q.get("x", ",".join(map(str, DEFAULT_X))).split(",")]
        targets = [float(v) for v in q.get("t", ",".join(map(str, DEFAULT_TARGETS))).split(",")]
        params, x, targets = check_inputs(params, x, targets)
    except (ValueError, AutodiffInputError) as err:
        return {}, err
    state = {f"ad_{k}": v for k, v in params.items()} | {"ad_n": len(x)}
    state |= {f"ad_x{i}": v for i, v in enumerate(x)} | {
        f"ad_t{i}": v for i, v in enumerate(targets)
    }
    return state, None


@st.cache_data(max_entries=256, show_spinner=False)
def _passes(params: tuple, x: tuple, targets: tuple):
    settings = (dict(params), x, targets)
    return (
        dataflow_graph(*settings),
        forward_steps(*settings),
        backward_steps(*settings),
        gradient_table(*settings),
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _sweep(parameter: str, params: tuple, x: tuple, targets: tuple):
    return finite_difference_errors(parameter, STEPS_H, dict(params), x, targets)


def _link_problem_text(err: ValueError) -> str:
    """Return why a shared link's settings were not used, in the session's language."""
    why = error_text(err) if isinstance(err, AutodiffInputError) else t("a value is not a number.")
    return t("The settings in the link were not used, so the defaults are shown: {why}", why=why)


st.title(t("Differentiable programming"))
st.markdown(
    t(
        "A deep-learning framework is a programming language whose programs can be "
        "differentiated. You write only the forward computation, in ordinary code. While it runs, "
        "the framework records every operation and what it was applied to: a *dataflow graph*. "
        "To train, reverse-mode automatic differentiation walks that graph backwards from the "
        "loss and applies the chain rule once per node, giving the gradient of the loss for every "
        "parameter in one pass. Below, PyTorch does this for a model small enough to follow every "
        "number."
    )
)
st.latex(
    r"y_i = w_2 \tanh(w_1 x_i + b_1) + b_2, \qquad "
    r"L = \frac{1}{N}\sum_{i=1}^{N} (y_i - t_i)^2"
)

# ---- settings ---------------------------------------------------------------------------------
if not st.session_state.get("ad_link_read"):
    st.session_state["ad_link_read"] = True
    seeded, link_problem = _link_settings()
    st.session_state.update(seeded)
    st.session_state["ad_link_problem"] = link_problem
if st.session_state.get("ad_link_problem"):
    st.warning(_link_problem_text(st.session_state["ad_link_problem"]))

# Defaults go into session state, not into value=, so a link's values never clash with them.
xs, ts = (*DEFAULT_X, *MORE_X), (*DEFAULT_TARGETS, *MORE_T)
defaults = {f"ad_{k}": v for k, v in DEFAULT_PARAMS.items()} | {"ad_n": len(DEFAULT_X)}
defaults |= {f"ad_x{i}": v for i, v in enumerate(xs)} | {f"ad_t{i}": v for i, v in enumerate(ts)}
for key, value in defaults.items():
    st.session_state.setdefault(key, value)
bound = dict(min_value=-MAX_ABS, max_value=MAX_ABS, step=0.1, format="%.4g")
st.markdown(
    t("**Parameters and data** (every number between −{top} and {top})", top=f"{MAX_ABS:g}")
)
cols = st.columns(4)
params = {
    k: linked(col.number_input)(f"${ad_steps.sym(k)}$", key=f"ad_{k}", **bound)
    for k, col in zip(PARAMETERS, cols, strict=True)
}
cols = st.columns([1.2, 2, 2, 2, 2])
n = int(linked(cols[0].number_input)(t("Examples N"), 1, 4, key="ad_n"))
x = [linked(cols[i + 1].number_input)(f"$x_{i + 1}$", key=f"ad_x{i}", **bound) for i in range(n)]
targets = [
    linked(cols[i + 1].number_input)(t("target $t_{i}$", i=i + 1), key=f"ad_t{i}", **bound)
    for i in range(n)
]
try:
    params, x, targets = check_inputs(params, x, targets)
    graph, forward, backward, derivatives = _passes(tuple(params.items()), x, targets)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
st.query_params.update(
    {k: f"{v:g}" for k, v in params.items()}
    | {"x": ",".join(f"{v:g}" for v in x), "t": ",".join(f"{v:g}" for v in targets)}
)
node = {nd.id: nd for nd in graph.nodes}
grads = {k: node[k].grad[0] for k in PARAMETERS}

# ---- the graph, step by step --------------------------------------------------------------------
st.subheader(t("The graph PyTorch recorded, step by step"))
st.markdown(
    t(
        "Running the forward program leaves a chain of `grad_fn` objects behind the loss: one node "
        "per operation, named after the backward function torch will call (`MulBackward0` for a "
        "product, `TanhBackward0` for tanh), and an `AccumulateGrad` node for each parameter, "
        "where gradients are stored. The graph below is read from "
        "`loss.grad_fn.next_functions`; the data $x$ and targets $t$ need no gradient, so "
        "autograd keeps no node for them (pale arrows). Step through the forward pass, then the "
        "backward pass; hover a box for full precision."
    )
)
total = len(forward) + len(backward)
labels = [t("{k} · forward: {node}", k=k + 1, node=s.node) for k, s in enumerate(forward)]
labels += [
    t("{k} · backward: ∂L/∂{node}", k=len(forward) + k + 1, node=s.node)
    for k, s in enumerate(backward)
]
if st.session_state.get("ad_step") not in range(1, total + 1):
    st.session_state["ad_step"] = total


def _move(delta: int) -> None:
    st.session_state["ad_step"] = min(max(st.session_state["ad_step"] + delta, 1), total)


c1, c2, c3 = st.columns([1.4, 1.4, 8], vertical_alignment="bottom")
c1.button(t("◀ Back"), key="ad_prev", on_click=_move, args=(-1,), width="stretch")
c2.button(t("Next ▶"), key="ad_next", on_click=_move, args=(1,), width="stretch")
k = linked(c3.select_slider)(
    t("Step"),
    options=list(range(1, total + 1)),
    format_func=lambda i: labels[i - 1],
    key="ad_step",
)
step, view = ad_steps.at_step(graph, forward, backward, k)
chart(af.dataflow_figure(graph, view), key="ad_graph")
text = ad_steps.describe(graph, step, k, total, backward=k > len(forward))
st.markdown(text.intro)
st.latex(text.latex)
if text.note:
    st.caption(text.note)

recorded = sum(e.from_autograd for e in graph.edges)
ops = [nd for nd in graph.nodes if nd.kind == "op"]
order = graph.backward_order
early = [p for p in PARAMETERS if order.index(p) < order.index("z")]
# i18n: the word joining parameter names, as in "w2 and b2"
early_text = t(" and ").join(early)
st.markdown(
    t(
        "**What to notice.** torch recorded {ops} operation nodes and {leaves} `AccumulateGrad` "
        "leaves joined by {edges} edges; the forward pass gives L = {loss}. The backward pass "
        "visits every node once, in the order {order}: {early}Gradients: {grads}. Every gradient "
        "above is a product of local derivatives along the one path from L, and the shared "
        "factors (∂L/∂y, ∂L/∂z) are computed once and reused.",
        ops=len(ops),
        leaves=sum(nd.op == "AccumulateGrad" for nd in graph.nodes),
        edges=recorded,
        loss=f"{graph.loss:.6g}",
        order=" → ".join(order),
        early=t(
            "{names} get their gradients before the walk reaches the first layer: a node is "
            "handled as soon as the gradient flowing into it is complete. ",
            names=early_text,
        )
        if early
        else "",
        grads=", ".join(f"∂L/∂{k} = {v:.6g}" for k, v in grads.items()),
    )
)
saturated = saturation(node["a"].value)
notes = []
if graph.loss == 0:
    notes.append(t("The model fits the targets exactly (L = 0), so every gradient is 0."))
if params["w2"] == 0:
    notes.append(
        t(
            "With w2 = 0 the product v = w2·a passes no gradient back to a (∂v/∂a = w2 = 0): "
            "w1 and b1 get gradient 0 whatever their values."
        )
    )


def _saturation_note(saturated) -> str:
    """Return which examples saturate tanh and how little gradient gets through there."""
    which = [str(i) for i in saturated.examples]
    label = tn("example {which}", "examples {which}", len(which), which=", ".join(which))
    grads_text = dict(w1=f"{grads['w1']:.3g}", b1=f"{grads['b1']:.3g}", w2=f"{grads['w2']:.3g}")
    if saturated.largest_slope == 0:
        return t(
            "tanh is saturated for {label} (|a| > {bound}): there its local derivative 1 − a² is "
            "exactly 0 in float64 (tanh rounds to ±1), so the gradient reaching w1 and b1 through "
            "it all but vanishes (∂L/∂w1 = {w1}, ∂L/∂b1 = {b1}; compare ∂L/∂w2 = {w2}).",
            label=label,
            bound=SATURATED,
            **grads_text,
        )
    return t(
        "tanh is saturated for {label} (|a| > {bound}): there its local derivative 1 − a² is at "
        "most {slope}, so the gradient reaching w1 and b1 through it all but vanishes (∂L/∂w1 = "
        "{w1}, ∂L/∂b1 = {b1}; compare ∂L/∂w2 = {w2}).",
        label=label,
        bound=SATURATED,
        slope=f"{saturated.largest_slope:.2g}",
        **grads_text,
    )


if saturated is not None:
    notes.append(_saturation_note(saturated))
for note in notes:
    st.info(note)

# ---- static and dynamic graphs ---------------------------------------------------------------
st.divider()
st.subheader(t("Static and dynamic graphs: the same graph, built at different times"))
st.markdown(
    t(
        "PyTorch's eager mode builds the graph above *while the code runs* (a **dynamic** graph, "
        "define-by-run): a new graph on every forward pass, so an ordinary Python `if` or loop "
        "can change it from one call to the next. TensorFlow 1, `torch.jit.trace` and `torch.fx` "
        "build it *ahead*, by running the program once on placeholders before any data arrives (a "
        "**static** dataflow graph), then run that fixed graph many times; it can be optimised "
        "and shipped without Python. Either way the framework differentiates the graph, not the "
        "source text. Below, `torch.fx.symbolic_trace` traces the same model ahead of time."
    )
)
static = static_graph()
table(
    {
        t("value"): [nd.id for nd in static],
        t("torch.fx (static, traced ahead)"): [
            f"{nd.target}({', '.join(nd.inputs)})" for nd in static
        ],
        t("autograd (dynamic, recorded while running)"): [node[nd.id].op for nd in static],
    },
    csv_name="static-and-dynamic-graph",
)
st.caption(
    t(
        "What to notice: the trace lists {traced} operations and autograd recorded {recorded}; "
        "they are the same operations on the same inputs in the same order. The static graph "
        "knows only the program; the dynamic one also holds this run's numbers.",
        traced=len(static),
        recorded=len(ops),
    )
    if same_operations(static, graph)
    else t(
        "What to notice: the trace lists {traced} operations and autograd recorded {recorded}; "
        "they differ, so the two graphs are not the same program here.",
        traced=len(static),
        recorded=len(ops),
    )
)

# ---- three ways to a derivative ------------------------------------------------------------
st.divider()
st.subheader(t("Three ways to a derivative"))
st.markdown(
    t(
        "The same four gradients, computed three ways: by reverse-mode autodiff (the backward "
        "pass above), from formulas derived by hand (symbolic differentiation), and by nudging "
        "each parameter by ±h and watching the loss (numerical, central difference with h = {h}).",
        h=af.power(FD_STEP),
    )
)
COLUMNS = {  # column → its heading and number format
    "parameter": (t("parameter"), None),
    "autodiff": (t("automatic (reverse mode)"), "%.12f"),
    "symbolic": (t("symbolic (formula)"), "%.12f"),
    "numerical": (t("numerical (h = {h})", h=af.power(FD_STEP)), "%.12f"),
    "sym_error": (t("|automatic − symbolic|"), "%.1e"),
    "fd_error": (t("|automatic − numerical|"), "%.1e"),
}
columns = {
    "parameter": [r.parameter for r in derivatives],
    "autodiff": [r.autodiff for r in derivatives],
    "symbolic": [r.symbolic for r in derivatives],
    "numerical": [r.finite_difference for r in derivatives],
    "sym_error": [abs(r.autodiff - r.symbolic) for r in derivatives],
    "fd_error": [r.fd_abs_error for r in derivatives],
}
table(
    {COLUMNS[k][0]: v for k, v in columns.items()},
    csv_name="gradients-three-ways",
    formats={head: fmt for head, fmt in COLUMNS.values() if fmt},
)
st.markdown(t("The symbolic formulas, derived by hand with $a_i = \\tanh(w_1 x_i + b_1)$:"))
st.latex(
    r"\begin{aligned}"
    + r" \\ ".join(
        rf"\frac{{\partial L}}{{\partial {ad_steps.sym(r.parameter)}}} &= {r.symbolic_latex}"
        for r in derivatives
    )
    + r"\end{aligned}"
)
worst_sym = max(abs(r.autodiff - r.symbolic) for r in derivatives)
worst_fd = max(r.fd_abs_error for r in derivatives)
st.markdown(
    t(
        """**What to notice.**
- **Symbolic**: exact formulas, but each is a separate expression. The factor $(y_i - t_i)$
  appears in all four and $w_2(1 - a_i^2)$ in two; in a deep network the written-out
  derivatives repeat whole sub-expressions layer after layer and grow far faster than the
  model (*expression swell*). Here it agrees with autodiff to {worst_sym}.
- **Numerical**: needs only the forward program, but 2 loss evaluations per parameter
  ({evaluations} here; 2 million for a network of a million weights), and it is
  inexact: up to {worst_fd} off here, from truncation and rounding (next
  section). It is the standard *check* of a backward pass, not a way to train.
- **Reverse-mode autodiff**: one forward and one backward pass give all {n}
  gradients, and would give a million for a few times the cost of the forward pass. It applies
  exact local derivatives, so it is as accurate as the floating-point arithmetic itself, and it
  reuses shared factors instead of writing them out again.""",
        worst_sym=af.power(worst_sym, 1),
        evaluations=2 * len(PARAMETERS),
        worst_fd=af.power(worst_fd, 1),
        n=len(PARAMETERS),
    )
)

# ---- how small should h be? ---------------------------------------------------------------
st.divider()
st.subheader(t("Finite differences: how small should h be?"))
st.markdown(
    t(
        "A central difference is off by two errors that pull in opposite directions. Taylor's "
        "theorem gives a *truncation* error that shrinks like h². But the two losses are computed "
        "in floating point, each with a relative error of about ε, and their difference is "
        "divided by 2h, so the *rounding* error grows like ε·|L|/h. Pick the parameter to nudge:"
    )
)
TRUNCATION, ROUNDING = t("truncation"), t("rounding")  # i18n: labels under a formula's braces
st.latex(
    r"\frac{L(w+h) - L(w-h)}{2h} = \frac{\partial L}{\partial w} + "
    r"\underbrace{\frac{h^2}{6}\,\frac{\partial^3 L}{\partial w^3}}_{\text{"
    + TRUNCATION
    + r"}} + \underbrace{O\!\left(\frac{\varepsilon\,|L|}{h}\right)}_{\text{"
    + ROUNDING
    + r"}}, \qquad \varepsilon = 2^{-52} \approx 2.2\times 10^{-16}"
)
fd_param = linked(st.segmented_control)(
    t("Parameter"),
    PARAMETERS,
    default="w1",
    key="ad_fd_param",
    format_func=lambda p: f"${ad_steps.sym(p)}$",
)
fd_param = fd_param or "w1"
try:
    sweep = _sweep(fd_param, tuple(params.items()), x, targets)
except ExplorerError as err:
    st.error(error_text(err))
    st.stop()
view = error_sweep(sweep, graph.loss)
if view is None:
    st.info(
        t(
            "The central difference equals the autodiff gradient of {p} exactly at every h from "
            "{first} down to {last}: the loss does not change with {p} here (∂L/∂{p} = {grad}), so "
            "there is no error to plot. Pick another parameter.",
            p=fd_param,
            first=f"{STEPS_H[0]:g}",
            last=af.power(STEPS_H[-1]),
            grad=f"{grads[fd_param]:g}",
        )
    )
else:
    hs, es, best = view.h, view.error, view.best
    guides = {}
    if view.truncation is not None:
        guides[t("truncation ∝ h² (through h = {h})", h=af.power(ANCHOR_STEP))] = view.truncation
    if view.rounding is not None:
        guides[t("rounding ≈ ε·|L|/h")] = view.rounding
    chart(
        af.error_vs_step(
            hs,
            es,
            guides,
            (float(hs[best]), float(es[best])),
            title=t("Error of the central difference for ∂L/∂{p}", p=fd_param),
        ),
        key="ad_fd_chart",
    )
    dropped = view.dropped
    gap = (
        t(
            " At {dropped} of the {n} step sizes the difference was exactly 0 (not drawn).",
            dropped=dropped,
            n=len(STEPS_H),
        )
        if dropped
        else ""
    )
    if view.crossing is not None:
        why = (
            t(
                "From h = {first}, as h shrinks, the error falls like h² (the dashed green line: "
                "10× smaller h, 100× smaller error) until rounding takes over (purple); the two "
                "guides cross at h ≈ {cross}, close to ∛ε ≈ {cube_root}. ",
                first=f"{hs[0]:g}",
                cross=af.power(view.crossing),
                cube_root=af.power(EPS ** (1 / 3)),
            )
            if view.crossing_near_cube_root
            else t(
                "From h = {first}, as h shrinks, the error falls like h² (the dashed green line: "
                "10× smaller h, 100× smaller error) until rounding takes over (purple); the two "
                "guides cross at h ≈ {cross}, far from ∛ε ≈ {cube_root}. ",
                first=f"{hs[0]:g}",
                cross=af.power(view.crossing),
                cube_root=af.power(EPS ** (1 / 3)),
            )
        )
    elif fd_param in ("w2", "b2"):
        why = t(
            "There is no visible truncation error: the loss is a quadratic in {p} (y depends "
            "linearly on it), and a central difference of a quadratic is exact. What is left is "
            "rounding, which only grows as h shrinks. ",
            p=fd_param,
        )
    else:
        why = t("No truncation error shows at these step sizes; what is left is rounding. ")
    rises = (
        t(
            "At the smallest step, h = {h}, the error is back up to {error}: the two losses agree "
            "in almost all their digits and the difference keeps only the noise. ",
            h=af.power(hs[-1]),
            error=af.power(es[-1], 1),
        )
        if view.rises_again
        else ""
    )
    st.markdown(
        t(
            "**What to notice.** The smallest error, {error}, is at h = {h}. {why}{rises}The "
            "table above used h = {fd_step}; autodiff has neither error.{gap}",
            error=af.power(es[best], 1),
            h=af.power(hs[best]),
            why=why,
            rises=rises,
            fd_step=af.power(FD_STEP),
            gap=gap,
        )
    )
