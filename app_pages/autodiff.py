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

MORE_X, MORE_T = (2.0, -0.3), (-0.5, 0.4)  # examples 3 and 4, when asked for
STEPS_H = tuple(float(h) for h in 10.0 ** -np.arange(1.0, 14.01, 0.5))  # 1e-1 … 1e-14


def _link_settings() -> tuple[dict, str | None]:
    """Return widget values from a shared link (?w1=…&x=0.5,-1&t=…) and a message if unusable."""
    q = st.query_params
    if not any(k in q for k in (*PARAMETERS, "x", "t")):
        return {}, None
    try:
        params = {k: float(q.get(k, DEFAULT_PARAMS[k])) for k in PARAMETERS}
        x = [float(v) for v in q.get("x", ",".join(map(str, DEFAULT_X))).split(",")]
        t = [float(v) for v in q.get("t", ",".join(map(str, DEFAULT_TARGETS))).split(",")]
        params, x, t = check_inputs(params, x, t)
    except (ValueError, AutodiffInputError) as err:
        why = str(err) if isinstance(err, AutodiffInputError) else "a value is not a number."
        return {}, f"The settings in the link were not used, so the defaults are shown: {why}"
    state = {f"ad_{k}": v for k, v in params.items()} | {"ad_n": len(x)}
    state |= {f"ad_x{i}": v for i, v in enumerate(x)} | {f"ad_t{i}": v for i, v in enumerate(t)}
    return state, None


@st.cache_data(max_entries=256, show_spinner=False)
def _passes(params: tuple, x: tuple, t: tuple):
    settings = (dict(params), x, t)
    return (
        dataflow_graph(*settings),
        forward_steps(*settings),
        backward_steps(*settings),
        gradient_table(*settings),
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _sweep(parameter: str, params: tuple, x: tuple, t: tuple):
    return finite_difference_errors(parameter, STEPS_H, dict(params), x, t)


st.title("Differentiable programming")
st.markdown(
    "A deep-learning framework is a programming language whose programs can be differentiated. "
    "You write only the forward computation, in ordinary code. While it runs, the framework "
    "records every operation and what it was applied to: a *dataflow graph*. To train, "
    "reverse-mode automatic differentiation walks that graph backwards from the loss and applies "
    "the chain rule once per node, giving the gradient of the loss for every parameter in one "
    "pass. Below, PyTorch does this for a model small enough to follow every number."
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
    st.warning(st.session_state["ad_link_problem"])

# Defaults go into session state, not into value=, so a link's values never clash with them.
xs, ts = (*DEFAULT_X, *MORE_X), (*DEFAULT_TARGETS, *MORE_T)
defaults = {f"ad_{k}": v for k, v in DEFAULT_PARAMS.items()} | {"ad_n": len(DEFAULT_X)}
defaults |= {f"ad_x{i}": v for i, v in enumerate(xs)} | {f"ad_t{i}": v for i, v in enumerate(ts)}
for key, value in defaults.items():
    st.session_state.setdefault(key, value)
bound = dict(min_value=-MAX_ABS, max_value=MAX_ABS, step=0.1, format="%.4g")
st.markdown(f"**Parameters and data** (every number between −{MAX_ABS:g} and {MAX_ABS:g})")
cols = st.columns(4)
params = {
    k: col.number_input(f"${ad_steps.sym(k)}$", key=f"ad_{k}", **bound)
    for k, col in zip(PARAMETERS, cols, strict=True)
}
cols = st.columns([1.2, 2, 2, 2, 2])
n = int(cols[0].number_input("Examples N", 1, 4, key="ad_n"))
x = [cols[i + 1].number_input(f"$x_{i + 1}$", key=f"ad_x{i}", **bound) for i in range(n)]
t = [cols[i + 1].number_input(f"target $t_{i + 1}$", key=f"ad_t{i}", **bound) for i in range(n)]
try:
    params, x, t = check_inputs(params, x, t)
    graph, forward, backward, table = _passes(tuple(params.items()), x, t)
except ExplorerError as err:
    st.error(str(err))
    st.stop()
st.query_params.update(
    {k: f"{v:g}" for k, v in params.items()}
    | {"x": ",".join(f"{v:g}" for v in x), "t": ",".join(f"{v:g}" for v in t)}
)
node = {nd.id: nd for nd in graph.nodes}
grads = {k: node[k].grad[0] for k in PARAMETERS}

# ---- the graph, step by step --------------------------------------------------------------------
st.subheader("The graph PyTorch recorded, step by step")
st.markdown(
    "Running the forward program leaves a chain of `grad_fn` objects behind the loss: one node per "
    "operation, named after the backward function torch will call (`MulBackward0` for a product, "
    "`TanhBackward0` for tanh), and an `AccumulateGrad` node for each parameter, where gradients "
    "are stored. The graph below is read from `loss.grad_fn.next_functions`; the data $x$ and "
    "targets $t$ need no gradient, so autograd keeps no node for them (pale arrows). Step through "
    "the forward pass, then the backward pass; hover a box for full precision."
)
total = len(forward) + len(backward)
labels = [f"{k + 1} · forward: {s.node}" for k, s in enumerate(forward)]
labels += [f"{len(forward) + k + 1} · backward: ∂L/∂{s.node}" for k, s in enumerate(backward)]
if st.session_state.get("ad_step") not in range(1, total + 1):
    st.session_state["ad_step"] = total


def _move(delta: int) -> None:
    st.session_state["ad_step"] = min(max(st.session_state["ad_step"] + delta, 1), total)


c1, c2, c3 = st.columns([1.4, 1.4, 8], vertical_alignment="bottom")
c1.button("◀ Back", key="ad_prev", on_click=_move, args=(-1,), width="stretch")
c2.button("Next ▶", key="ad_next", on_click=_move, args=(1,), width="stretch")
k = c3.select_slider(
    "Step",
    options=list(range(1, total + 1)),
    format_func=lambda i: labels[i - 1],
    key="ad_step",
)
step, view = ad_steps.at_step(graph, forward, backward, k)
st.plotly_chart(af.dataflow_figure(graph, view), key="ad_graph", config={"displayModeBar": False})
text = ad_steps.describe(graph, step, k, total, backward=k > len(forward))
st.markdown(text.intro)
st.latex(text.latex)
if text.note:
    st.caption(text.note)

recorded = sum(e.from_autograd for e in graph.edges)
ops = [nd for nd in graph.nodes if nd.kind == "op"]
order = graph.backward_order
early = [p for p in PARAMETERS if order.index(p) < order.index("z")]
st.markdown(
    f"**What to notice.** torch recorded {len(ops)} operation nodes and "
    f"{sum(nd.op == 'AccumulateGrad' for nd in graph.nodes)} `AccumulateGrad` leaves joined by "
    f"{recorded} edges; the forward pass gives L = {graph.loss:.6g}. The backward pass visits "
    f"every node once, in the order {' → '.join(order)}: "
    + (
        f"{' and '.join(early)} get their gradients before the walk reaches the first layer: a "
        "node is handled as soon as the gradient flowing into it is complete. "
        if early
        else ""
    )
    + "Gradients: "
    + ", ".join(f"∂L/∂{k} = {v:.6g}" for k, v in grads.items())
    + ". Every gradient above is a product of local derivatives along the one path from L, "
    "and the shared factors (∂L/∂y, ∂L/∂z) are computed once and reused."
)
saturated = saturation(node["a"].value)
notes = []
if graph.loss == 0:
    notes.append("The model fits the targets exactly (L = 0), so every gradient is 0.")
if params["w2"] == 0:
    notes.append(
        "With w2 = 0 the product v = w2·a passes no gradient back to a (∂v/∂a = w2 = 0): "
        "w1 and b1 get gradient 0 whatever their values."
    )
if saturated is not None:
    which = [str(i) for i in saturated.examples]
    label = f"example {which[0]}" if len(which) == 1 else "examples " + ", ".join(which)
    size = (
        "is exactly 0 in float64 (tanh rounds to ±1)"
        if saturated.largest_slope == 0
        else f"is at most {saturated.largest_slope:.2g}"
    )
    notes.append(
        f"tanh is saturated for {label} (|a| > {SATURATED}): there its local derivative 1 − a² "
        f"{size}, so the gradient reaching w1 and b1 through it all but vanishes "
        f"(∂L/∂w1 = {grads['w1']:.3g}, ∂L/∂b1 = {grads['b1']:.3g}; compare "
        f"∂L/∂w2 = {grads['w2']:.3g})."
    )
for note in notes:
    st.info(note)

# ---- static and dynamic graphs ---------------------------------------------------------------
st.divider()
st.subheader("Static and dynamic graphs: the same graph, built at different times")
st.markdown(
    "PyTorch's eager mode builds the graph above *while the code runs* (a **dynamic** graph, "
    "define-by-run): a new graph on every forward pass, so an ordinary Python `if` or loop can "
    "change it from one call to the next. TensorFlow 1, `torch.jit.trace` and `torch.fx` build "
    "it *ahead*, by running the program once on placeholders before any data arrives (a "
    "**static** dataflow graph), then run that fixed graph many times; it can be optimised and "
    "shipped without Python. Either way the framework differentiates the graph, not the source "
    "text. Below, `torch.fx.symbolic_trace` traces the same model ahead of time."
)
static = static_graph()
st.dataframe(
    {
        "value": [nd.id for nd in static],
        "torch.fx (static, traced ahead)": [
            f"{nd.target}({', '.join(nd.inputs)})" for nd in static
        ],
        "autograd (dynamic, recorded while running)": [node[nd.id].op for nd in static],
    },
    hide_index=True,
)
st.caption(
    f"What to notice: the trace lists {len(static)} operations and autograd recorded "
    f"{len(ops)}; "
    + (
        "they are the same operations on the same inputs in the same order. The static graph "
        "knows only the program; the dynamic one also holds this run's numbers."
        if same_operations(static, graph)
        else "they differ, so the two graphs are not the same program here."
    )
)

# ---- three ways to a derivative ------------------------------------------------------------
st.divider()
st.subheader("Three ways to a derivative")
st.markdown(
    "The same four gradients, computed three ways: by reverse-mode autodiff (the backward pass "
    "above), from formulas derived by hand (symbolic differentiation), and by nudging each "
    "parameter by ±h and watching the loss (numerical, central difference with "
    f"h = {af.power(FD_STEP)})."
)
st.dataframe(
    {
        "parameter": [r.parameter for r in table],
        "automatic (reverse mode)": [r.autodiff for r in table],
        "symbolic (formula)": [r.symbolic for r in table],
        f"numerical (h = {af.power(FD_STEP)})": [r.finite_difference for r in table],
        "|automatic − symbolic|": [abs(r.autodiff - r.symbolic) for r in table],
        "|automatic − numerical|": [r.fd_abs_error for r in table],
    },
    hide_index=True,
    column_config={
        "automatic (reverse mode)": st.column_config.NumberColumn(format="%.12f"),
        "symbolic (formula)": st.column_config.NumberColumn(format="%.12f"),
        f"numerical (h = {af.power(FD_STEP)})": st.column_config.NumberColumn(format="%.12f"),
        "|automatic − symbolic|": st.column_config.NumberColumn(format="%.1e"),
        "|automatic − numerical|": st.column_config.NumberColumn(format="%.1e"),
    },
)
st.markdown("The symbolic formulas, derived by hand with $a_i = \\tanh(w_1 x_i + b_1)$:")
st.latex(
    r"\begin{aligned}"
    + r" \\ ".join(
        rf"\frac{{\partial L}}{{\partial {ad_steps.sym(r.parameter)}}} &= {r.symbolic_latex}"
        for r in table
    )
    + r"\end{aligned}"
)
worst_sym = max(abs(r.autodiff - r.symbolic) for r in table)
worst_fd = max(r.fd_abs_error for r in table)
st.markdown(
    f"""**What to notice.**
- **Symbolic**: exact formulas, but each is a separate expression. The factor $(y_i - t_i)$
  appears in all four and $w_2(1 - a_i^2)$ in two; in a deep network the written-out
  derivatives repeat whole sub-expressions layer after layer and grow far faster than the
  model (*expression swell*). Here it agrees with autodiff to {af.power(worst_sym, 1)}.
- **Numerical**: needs only the forward program, but 2 loss evaluations per parameter
  ({2 * len(PARAMETERS)} here; 2 million for a network of a million weights), and it is
  inexact: up to {af.power(worst_fd, 1)} off here, from truncation and rounding (next
  section). It is the standard *check* of a backward pass, not a way to train.
- **Reverse-mode autodiff**: one forward and one backward pass give all {len(PARAMETERS)}
  gradients, and would give a million for a few times the cost of the forward pass. It applies
  exact local derivatives, so it is as accurate as the floating-point arithmetic itself, and it
  reuses shared factors instead of writing them out again."""
)

# ---- how small should h be? ---------------------------------------------------------------
st.divider()
st.subheader("Finite differences: how small should h be?")
st.markdown(
    "A central difference is off by two errors that pull in opposite directions. Taylor's theorem "
    "gives a *truncation* error that shrinks like h². But the two losses are computed in floating "
    "point, each with a relative error of about ε, and their difference is divided by 2h, so the "
    "*rounding* error grows like ε·|L|/h. Pick the parameter to nudge:"
)
st.latex(
    r"\frac{L(w+h) - L(w-h)}{2h} = \frac{\partial L}{\partial w} + "
    r"\underbrace{\frac{h^2}{6}\,\frac{\partial^3 L}{\partial w^3}}_{\text{truncation}} + "
    r"\underbrace{O\!\left(\frac{\varepsilon\,|L|}{h}\right)}_{\text{rounding}}, "
    r"\qquad \varepsilon = 2^{-52} \approx 2.2\times 10^{-16}"
)
fd_param = st.segmented_control(
    "Parameter",
    PARAMETERS,
    default="w1",
    key="ad_fd_param",
    format_func=lambda p: f"${ad_steps.sym(p)}$",
)
fd_param = fd_param or "w1"
try:
    sweep = _sweep(fd_param, tuple(params.items()), x, t)
except ExplorerError as err:
    st.error(str(err))
    st.stop()
view = error_sweep(sweep, graph.loss)
if view is None:
    st.info(
        f"The central difference equals the autodiff gradient of {fd_param} exactly at every h "
        f"from {STEPS_H[0]:g} down to {af.power(STEPS_H[-1])}: the loss does not change with "
        f"{fd_param} here (∂L/∂{fd_param} = {grads[fd_param]:g}), so there is no error to plot. "
        "Pick another parameter."
    )
else:
    hs, es, best = view.h, view.error, view.best
    guides = {}
    if view.truncation is not None:
        guides[f"truncation ∝ h² (through h = {af.power(ANCHOR_STEP)})"] = view.truncation
    if view.rounding is not None:
        guides["rounding ≈ ε·|L|/h"] = view.rounding
    st.plotly_chart(
        af.error_vs_step(
            hs,
            es,
            guides,
            (float(hs[best]), float(es[best])),
            title=f"Error of the central difference for ∂L/∂{fd_param}",
        ),
        key="ad_fd_chart",
    )
    dropped = view.dropped
    gap = (
        f" At {dropped} of the {len(STEPS_H)} step sizes the difference was exactly 0 (not drawn)."
        if dropped
        else ""
    )
    if view.crossing is not None:
        cross = view.crossing
        why = (
            f"From h = {hs[0]:g}, as h shrinks, the error falls like h² (the dashed green line: "
            "10× smaller h, 100× smaller error) until rounding takes over (purple); the two "
            f"guides cross at h ≈ {af.power(cross)}, "
            + ("close to" if view.crossing_near_cube_root else "far from")
            + f" ∛ε ≈ {af.power(EPS ** (1 / 3))}. "
        )
    else:
        why = (
            f"There is no visible truncation error: the loss is a quadratic in {fd_param} "
            "(y depends linearly on it), and a central difference of a quadratic is exact. "
            "What is left is rounding, which only grows as h shrinks. "
            if fd_param in ("w2", "b2")
            else "No truncation error shows at these step sizes; what is left is rounding. "
        )
    st.markdown(
        f"**What to notice.** The smallest error, {af.power(es[best], 1)}, is at "
        f"h = {af.power(hs[best])}. "
        + why
        + (
            f"At the smallest step, h = {af.power(hs[-1])}, the error is back up to "
            f"{af.power(es[-1], 1)}: the two losses agree in almost all their digits and the "
            "difference keeps only the noise. "
            if view.rises_again
            else ""
        )
        + f"The table above used h = {af.power(FD_STEP)}; autodiff has neither error."
        + gap
    )
