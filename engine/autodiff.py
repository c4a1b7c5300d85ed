"""What does a framework do with a model? It records a dataflow graph, then differentiates it.

A tiny model, y = w2·tanh(w1·x + b1) + b2 with the mean squared loss over one to four examples,
is run with torch autograd in float64. Walking loss.grad_fn and its next_functions gives the graph
torch recorded (one node per operation, AccumulateGrad for each parameter); the data x and targets
t need no gradient, so autograd leaves them out and we attach them from the program. Forward
values come from the tensors computed; backward values from retain_grad() on every intermediate,
with tensor hooks logging the order in which autograd produced them; each backward step also
carries its upstream gradient and the local derivative autograd gives for it, so the chain rule
can be shown as a product. `gradient_table` puts the autodiff gradient beside the hand-derived
(symbolic) formula and a central finite difference.
Everything is built fresh per call: no state is shared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.fx
from torch import nn

from engine.core import ExplorerError

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_TARGETS",
    "DEFAULT_X",
    "PARAMETERS",
    "AutodiffInputError",
    "DataflowGraph",
    "GradientRow",
    "GraphEdge",
    "GraphNode",
    "Step",
    "ANCHOR_STEP",
    "CLOSE_FACTOR",
    "EPS",
    "SATURATED",
    "ErrorSweep",
    "Saturation",
    "StaticNode",
    "backward_steps",
    "check_inputs",
    "dataflow_graph",
    "error_sweep",
    "finite_difference_errors",
    "forward_steps",
    "gradient_table",
    "same_operations",
    "saturation",
    "static_graph",
]

PARAMETERS = ("w1", "b1", "w2", "b2")
DEFAULT_PARAMS = {"w1": 0.7, "b1": -0.2, "w2": 1.3, "b2": 0.1}
DEFAULT_X = (0.5, -1.0)
DEFAULT_TARGETS = (0.8, 0.2)
MAX_ABS = 100.0
FD_STEP = 1e-6


class AutodiffInputError(ExplorerError):
    """A parameter, input or target for the tiny model that cannot be used."""


@dataclass(frozen=True)
class _Op:
    id: str
    label: str  # how the page names the value
    inputs: tuple[str, ...]  # forward inputs, by id
    forward: str  # the operation with {placeholders} for its inputs' numbers
    backward: str  # the local rule that gives ∂L/∂(this value)
    fn: Callable[..., torch.Tensor]


# The program, in forward order. Each op keeps its forward and backward side by side.
_PROGRAM = (
    _Op("u", "u = w1·x", ("w1", "x"), "{w1} · {x}", "∂L/∂u = ∂L/∂z", lambda w1, x: w1 * x),
    _Op(
        "z", "z = u + b1", ("u", "b1"), "{u} + {b1}", "∂L/∂z = ∂L/∂a · (1 − a²)", lambda u, b: u + b
    ),
    _Op("a", "a = tanh z", ("z",), "tanh({z})", "∂L/∂a = ∂L/∂v · w2", torch.tanh),
    _Op("v", "v = w2·a", ("w2", "a"), "{w2} · {a}", "∂L/∂v = ∂L/∂y", lambda w2, a: w2 * a),
    _Op("y", "y = v + b2", ("v", "b2"), "{v} + {b2}", "∂L/∂y = ∂L/∂r", lambda v, b: v + b),
    _Op("r", "r = y − t", ("y", "t"), "{y} − {t}", "∂L/∂r = ∂L/∂s · 2r", lambda y, t: y - t),
    _Op("s", "s = r²", ("r",), "{r}²", "∂L/∂s = 1/N", lambda r: r**2),
    _Op("L", "L = mean(s)", ("s",), "mean({s})", "∂L/∂L", lambda s: s.mean()),
)
_LEAF_RULES = {
    "w1": "∂L/∂w1 = Σ ∂L/∂u · x",
    "b1": "∂L/∂b1 = Σ ∂L/∂z",
    "w2": "∂L/∂w2 = Σ ∂L/∂v · a",
    "b2": "∂L/∂b2 = Σ ∂L/∂y",
}
_CONSUMER = {i: op.id for op in _PROGRAM for i in op.inputs}  # each value feeds exactly one op
_SYMBOLIC = {  # LaTeX of the hand-derived gradient, with a = tanh(w1 x + b1), y = w2 a + b2
    "w1": r"\frac{2}{N}\sum_i (y_i - t_i)\, w_2\, (1 - a_i^2)\, x_i",
    "b1": r"\frac{2}{N}\sum_i (y_i - t_i)\, w_2\, (1 - a_i^2)",
    "w2": r"\frac{2}{N}\sum_i (y_i - t_i)\, a_i",
    "b2": r"\frac{2}{N}\sum_i (y_i - t_i)",
}


@dataclass(frozen=True)
class GraphNode:
    """One value in the dataflow graph, with its forward value and its gradient."""

    id: str  # "w1", "x", "u", …, "L"
    label: str  # e.g. "z = u + b1"
    op: str  # autograd's node class (MulBackward0, AccumulateGrad, …) or "input" for data
    kind: str  # "parameter", "input" or "op"
    value: tuple[float, ...]  # forward value: one number per example (or one for scalars)
    grad: tuple[float, ...] | None  # ∂L/∂value; None for data, which needs no gradient
    saved: tuple[str, ...] = ()  # what the autograd node kept for backward (its _saved_* names)


@dataclass(frozen=True)
class GraphEdge:
    """Data flowing forward from source to target (gradients flow the other way)."""

    source: str
    target: str
    from_autograd: bool  # False for the data edges autograd does not record (x → u, t → r)


@dataclass(frozen=True)
class DataflowGraph:
    """The graph torch recorded for the tiny model, with the numbers of one forward/backward."""

    nodes: tuple[GraphNode, ...]  # inputs and parameters first, then ops in forward order
    edges: tuple[GraphEdge, ...]
    loss: float
    backward_order: tuple[str, ...]  # ids in the order autograd produced their gradients


@dataclass(frozen=True)
class Step:
    """One step of the forward or backward pass, written out with its numbers."""

    node: str
    rule: str  # the operation or the chain-rule step, in symbols
    value: tuple[float, ...]  # the forward value or the gradient it produced
    via: str | None = None  # backward: the op that consumed this value, whose gradient flows in
    upstream: tuple[float, ...] | None = None  # backward: ∂L/∂via, per example
    local: tuple[float, ...] | None = None  # backward: ∂via_i/∂node per example, from autograd
    summed: bool = False  # backward, parameters: upstream · local is summed over the examples


@dataclass(frozen=True)
class GradientRow:
    """One parameter's gradient three ways: autodiff, the symbolic formula, finite differences."""

    parameter: str
    autodiff: float
    symbolic: float
    finite_difference: float  # central difference with step FD_STEP
    symbolic_latex: str
    fd_abs_error: float  # |finite_difference − autodiff|


def _inputs(
    params: dict[str, float] | None, x: tuple[float, ...] | None, t: tuple[float, ...] | None
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    params = dict(DEFAULT_PARAMS if params is None else params)
    if set(params) != set(PARAMETERS):
        raise AutodiffInputError(
            "Give exactly the parameters {names}.", names=", ".join(PARAMETERS)
        )
    try:
        xs = np.asarray(DEFAULT_X if x is None else x, dtype=np.float64).reshape(-1)
        ts = np.asarray(DEFAULT_TARGETS if t is None else t, dtype=np.float64).reshape(-1)
        values = np.concatenate([list(params.values()), xs, ts]).astype(np.float64)
    except (TypeError, ValueError):
        raise AutodiffInputError("Every parameter, input and target must be a number.") from None
    if not 1 <= xs.size <= 4 or xs.size != ts.size:
        raise AutodiffInputError("Give 1 to 4 inputs x and the same number of targets t.")
    if not np.isfinite(values).all() or np.abs(values).max() > MAX_ABS:
        raise AutodiffInputError(
            "Keep every number finite and between −{top} and {top}.", top=f"{MAX_ABS:g}"
        )
    return {k: float(v) for k, v in params.items()}, xs, ts


def check_inputs(
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> tuple[dict[str, float], tuple[float, ...], tuple[float, ...]]:
    """Return (params, x, t) as plain floats, or raise AutodiffInputError saying what to change."""
    params, xs, ts = _inputs(params, x, t)
    return params, tuple(float(v) for v in xs), tuple(float(v) for v in ts)


def _values(tensor: torch.Tensor) -> tuple[float, ...]:
    return tuple(float(v) for v in tensor.detach().reshape(-1))


def _forward(params, x, t) -> dict[str, torch.Tensor]:
    """Run the program afresh on float64 leaves; return every tensor by id."""
    env = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    env["x"], env["t"] = torch.from_numpy(x), torch.from_numpy(t)  # (N,) data, no gradient
    for op in _PROGRAM:
        env[op.id] = op.fn(*(env[i] for i in op.inputs))
    return env


def _run(params, x, t):
    """Build the graph afresh; return (tensors by id, backward order)."""
    env = _forward(params, x, t)
    order: list[str] = []
    for op in _PROGRAM:
        env[op.id].retain_grad()
    for name, tensor in env.items():
        if tensor.requires_grad:
            tensor.register_hook(lambda grad, name=name: order.append(name))
    env["L"].backward()
    return env, order


def dataflow_graph(
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> DataflowGraph:
    """Return the DataflowGraph walked from loss.grad_fn, with forward values and gradients."""
    params, xs, ts = _inputs(params, x, t)
    env, order = _run(params, xs, ts)
    by_fn = {env[op.id].grad_fn: op.id for op in _PROGRAM}
    by_leaf = {id(env[k]): k for k in PARAMETERS}
    op_name: dict[str, str] = {}
    edges: list[GraphEdge] = []
    stack, seen = [env["L"].grad_fn], set()
    while stack:  # depth-first over autograd's recorded graph
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        target = by_fn[fn]
        op_name[target] = type(fn).__name__
        for child, _ in fn.next_functions:
            if child is None:  # an input that needs no gradient
                continue
            if type(child).__name__ == "AccumulateGrad":
                source = by_leaf[id(child.variable)]
                op_name[source] = "AccumulateGrad"
            else:
                source = by_fn[child]
                stack.append(child)
            edges.append(GraphEdge(source, target, True))
    for op in _PROGRAM:  # the data edges autograd leaves out
        edges += [GraphEdge(i, op.id, False) for i in op.inputs if i in ("x", "t")]
    labels = {op.id: op.label for op in _PROGRAM}
    nodes = [GraphNode(k, k, "input", "input", _values(env[k]), None) for k in ("x", "t")]
    nodes += [
        GraphNode(k, k, op_name[k], "parameter", _values(env[k]), _values(env[k].grad))
        for k in PARAMETERS
    ]
    nodes += [
        GraphNode(
            op.id,
            labels[op.id],
            op_name[op.id],
            "op",
            _values(env[op.id]),
            _values(env[op.id].grad),
            tuple(a[7:] for a in dir(env[op.id].grad_fn) if a.startswith("_saved_")),
        )
        for op in _PROGRAM
    ]
    edges.sort(key=lambda e: ([n.id for n in nodes].index(e.target), e.source))
    return DataflowGraph(tuple(nodes), tuple(edges), env["L"].item(), tuple(order))


def _fmt(values: tuple[float, ...], wrap: bool = False) -> str:
    text = [f"{v:.4g}".replace("-", "−") for v in values]
    if len(text) > 1:
        return "[" + ", ".join(text) + "]"
    return f"({text[0]})" if wrap and values[0] < 0 else text[0]


def forward_steps(
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> list[Step]:
    """Return the forward pass as Steps in execution order, each with its numbers filled in."""
    params, xs, ts = _inputs(params, x, t)
    env, _ = _run(params, xs, ts)
    steps = []
    for op in _PROGRAM:
        numbers = op.forward.format(**{i: _fmt(_values(env[i]), wrap=True) for i in op.inputs})
        value = _values(env[op.id])
        steps.append(Step(op.id, f"{op.label} = {numbers} = {_fmt(value)}", value))
    return steps


def backward_steps(
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> list[Step]:
    """Return the backward pass as Steps in the order autograd produced each gradient."""
    params, xs, ts = _inputs(params, x, t)
    env, order = _run(params, xs, ts)
    local = _local_derivatives(params, xs, ts)
    rules = {op.id: op.backward for op in _PROGRAM} | _LEAF_RULES
    steps = []
    for name in order:
        grad, via = _values(env[name].grad), _CONSUMER.get(name)
        upstream = None if via is None else _values(env[via].grad)
        rule = f"{rules[name]} = {_fmt(grad)}"
        steps.append(Step(name, rule, grad, via, upstream, local.get(name), name in PARAMETERS))
    return steps


def _local_derivatives(params, x: np.ndarray, t: np.ndarray) -> dict[str, tuple[float, ...]]:
    """Return ∂consumer_i/∂value per example i for every value that needs a gradient.

    Each is asked of autograd on a fresh graph, one output element at a time (N ≤ 4), so these
    are torch's own local derivatives, not our formulas.
    """
    env = _forward(params, x, t)
    local = {}
    for name, via in _CONSUMER.items():
        if name in ("x", "t"):
            continue
        out, value = env[via], env[name]
        if out.dim() == 0:  # the mean: one output, one partial per example
            local[name] = _values(torch.autograd.grad(out, value, retain_graph=True)[0])
            continue
        rows = [torch.autograd.grad(out[i], value, retain_graph=True)[0] for i in range(x.size)]
        local[name] = tuple(float(g if value.dim() == 0 else g[i]) for i, g in enumerate(rows))
    return local


def _loss(params: dict[str, float], x: np.ndarray, t: np.ndarray) -> float:
    y = params["w2"] * np.tanh(params["w1"] * x + params["b1"]) + params["b2"]
    return float(np.mean((y - t) ** 2))


def _symbolic(params: dict[str, float], x: np.ndarray, t: np.ndarray) -> dict[str, float]:
    a = np.tanh(params["w1"] * x + params["b1"])
    dy = 2 * (params["w2"] * a + params["b2"] - t) / x.size  # ∂L/∂y_i
    dz = dy * params["w2"] * (1 - a**2)  # ∂L/∂z_i
    return {
        "w1": float(dz @ x),
        "b1": float(dz.sum()),
        "w2": float(dy @ a),
        "b2": float(dy.sum()),
    }


def _central(params: dict[str, float], x: np.ndarray, t: np.ndarray, name: str, h: float) -> float:
    up, down = dict(params), dict(params)
    up[name] += h
    down[name] -= h
    return (_loss(up, x, t) - _loss(down, x, t)) / (2 * h)


def gradient_sign(value: float) -> str:
    """Return "positive", "negative" or "zero": which way a gradient points."""
    if value > 0:
        return "positive"
    return "negative" if value < 0 else "zero"


def gradient_table(
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> list[GradientRow]:
    """Return one GradientRow per parameter: autodiff, symbolic and finite-difference gradients."""
    params, xs, ts = _inputs(params, x, t)
    env, _ = _run(params, xs, ts)
    symbolic = _symbolic(params, xs, ts)
    rows = []
    for name in PARAMETERS:
        auto = float(env[name].grad)
        fd = _central(params, xs, ts, name, FD_STEP)
        rows.append(GradientRow(name, auto, symbolic[name], fd, _SYMBOLIC[name], abs(fd - auto)))
    return rows


def finite_difference_errors(
    parameter: str = "w1",
    steps: tuple[float, ...] = tuple(10.0**-k for k in range(1, 14)),
    params: dict[str, float] | None = None,
    x: tuple[float, ...] | None = None,
    t: tuple[float, ...] | None = None,
) -> list[tuple[float, float]]:
    """Return (h, |central difference − autodiff|) per step h: truncation vs rounding error."""
    if parameter not in PARAMETERS:
        raise AutodiffInputError("Pick a parameter from {names}.", names=", ".join(PARAMETERS))
    if not steps or any(not (math.isfinite(h) and 0 < h <= 1) for h in steps):
        raise AutodiffInputError("Each step h must be a number in (0, 1].")
    params, xs, ts = _inputs(params, x, t)
    env, _ = _run(params, xs, ts)
    auto = float(env[parameter].grad)
    return [(h, abs(_central(params, xs, ts, parameter, h) - auto)) for h in steps]


# --- the same program as a static graph, traced before any number flows (torch.fx)


@dataclass(frozen=True)
class StaticNode:
    """One operation of the program as torch.fx records it ahead of running."""

    id: str  # the program's name for the value it makes (u, z, a, ...)
    target: str  # what fx calls: "mul", "add", "tanh", ..., "mean"
    inputs: tuple[str, ...]  # the program's names of its inputs (parameters, x, t or values)


class _Program(nn.Module):
    """The page's model as an nn.Module: parameters as attributes, x and t as arguments."""

    def __init__(self) -> None:
        super().__init__()
        for k in PARAMETERS:
            self.register_parameter(k, nn.Parameter(torch.zeros((), dtype=torch.float64)))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        env = {"x": x, "t": t} | {k: getattr(self, k) for k in PARAMETERS}
        for op in _PROGRAM:
            env[op.id] = op.fn(*(env[i] for i in op.inputs))
        return env["L"]


def static_graph() -> list[StaticNode]:
    """Return the program's operations as torch.fx.symbolic_trace records them, in order.

    The trace runs the forward once on placeholders (no numbers), the way a static-graph
    framework builds its graph before any data arrives.
    """
    traced = torch.fx.symbolic_trace(_Program())
    names: dict[str, str] = {}
    calls = iter(_PROGRAM)
    nodes = []
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            names[node.name] = str(node.target)
        elif node.op in ("call_function", "call_method"):
            op = next(calls)
            names[node.name] = op.id
            target = node.target if isinstance(node.target, str) else node.target.__name__
            inputs = tuple(names[a.name] for a in node.args if isinstance(a, torch.fx.Node))
            nodes.append(StaticNode(op.id, target, inputs))
    return nodes


def same_operations(static: list[StaticNode], graph: DataflowGraph) -> bool:
    """Return True when the static trace and autograd's graph list the same operations.

    Same values in the same order, the same operation (MulBackward0 is fx's mul) and the same
    inputs (autograd's recorded edges plus the data edges it leaves out).
    """
    ops = [n for n in graph.nodes if n.kind == "op"]
    if [n.id for n in static] != [n.id for n in ops]:
        return False
    for node, op in zip(static, ops, strict=True):
        if op.op.removesuffix("Backward0").lower() != node.target:
            return False
        incoming = {e.source for e in graph.edges if e.target == node.id}
        if incoming != set(node.inputs):
            return False
    return True


# --- what the page says about the error sweep and about saturation

EPS = float(np.finfo(np.float64).eps)
ANCHOR_STEP = 1e-2  # error_sweep: the truncation guide passes through the error at this h
TRUNCATION_MARGIN = 100  # truncation shows when the error there is this far above rounding
CLOSE_FACTOR = 10  # ErrorSweep: a crossing within this factor of ∛ε is "close to" it
SATURATED = 0.99  # saturation: |tanh z| above this has local derivative 1 − a² < 0.02


@dataclass(frozen=True)
class ErrorSweep:
    """The finite-difference errors worth drawing, their guides and where they cross."""

    h: np.ndarray  # step sizes with a nonzero error, largest first
    error: np.ndarray
    dropped: int  # step sizes whose error was exactly 0 (not drawn on a log axis)
    best: int  # index into h of the smallest error
    truncation: np.ndarray | None  # c·h² through the error at ANCHOR_STEP, when truncation shows
    rounding: np.ndarray | None  # ε·|L|/h, when the loss is not zero
    crossing: float | None  # h where the two guides meet: (ε|L|/c)^(1/3)

    @property
    def crossing_near_cube_root(self) -> bool:
        """Return True when the guides cross within a factor CLOSE_FACTOR of ∛ε."""
        if self.crossing is None:
            return False
        return 1 / CLOSE_FACTOR <= self.crossing / EPS ** (1 / 3) <= CLOSE_FACTOR

    @property
    def rises_again(self) -> bool:
        """Return True when the error at the smallest step is above the smallest error."""
        return self.best < len(self.h) - 1 and self.error[-1] > self.error[self.best]


def error_sweep(sweep: list[tuple[float, float]], loss: float) -> ErrorSweep | None:
    """Return what to draw of (h, error) pairs at this loss, or None when every error is 0."""
    h = np.array([p[0] for p in sweep], dtype=float)
    err = np.array([p[1] for p in sweep], dtype=float)
    shown = err > 0
    if not shown.any():
        return None
    hs, es = h[shown], err[shown]
    rounding = EPS * loss / hs if loss > 0 else None
    anchor = int(np.argmin(np.abs(hs - ANCHOR_STEP)))
    truncating = rounding is None or es[anchor] > TRUNCATION_MARGIN * rounding[anchor]
    c = es[anchor] / hs[anchor] ** 2
    return ErrorSweep(
        h=hs,
        error=es,
        dropped=int((~shown).sum()),
        best=int(np.argmin(es)),
        truncation=c * hs**2 if truncating else None,
        rounding=rounding,
        crossing=(EPS * loss / c) ** (1 / 3) if truncating and rounding is not None else None,
    )


@dataclass(frozen=True)
class Saturation:
    """Which examples drive tanh into saturation, and the largest local derivative among them."""

    examples: tuple[int, ...]  # 1-based example numbers with |a| > SATURATED
    largest_slope: float  # max 1 − a² over those examples (0.0 when tanh rounds to ±1)


def saturation(a: tuple[float, ...] | np.ndarray, level: float = SATURATED) -> Saturation | None:
    """Return the saturated examples of tanh outputs a, or None when none is saturated."""
    values = np.abs(np.asarray(a, dtype=float))
    hit = values > level
    if not hit.any():
        return None
    return Saturation(
        tuple(int(i) + 1 for i in np.nonzero(hit)[0]), float(np.max(1 - values[hit] ** 2))
    )
