"""How one step of the walk is written out: the operation, or the chain-rule product, with numbers.

The numbers come from the engine's Steps and graph nodes; this module only chooses which to show
at a step and spells them in LaTeX (one entry per example, a column when there are more than two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.autodiff import DataflowGraph, Step
from engine.core import N_
from ui.autodiff.figures import GraphView
from ui.i18n import t

SYM = {"w1": "w_1", "b1": "b_1", "w2": "w_2", "b2": "b_2"}
FORWARD = {  # (the operation in symbols, the same with the inputs' numbers in {placeholders})
    "u": (r"u = w_1\,x", r"{w1}\cdot{x}"),
    "z": (r"z = u + b_1", r"{u} + {b1}"),
    "a": (r"a = \tanh z", r"\tanh{z}"),
    "v": (r"v = w_2\,a", r"{w2}\cdot{a}"),
    "y": (r"y = v + b_2", r"{v} + {b2}"),
    "r": (r"r = y - t", r"{y} - {t}"),
    "s": (r"s = r^2", r"{r}^{{2}}"),
    "L": (r"L = \tfrac{1}{N}\textstyle\sum_i s_i", r"\operatorname{{mean}}{s}"),
}
SAVED_WHY = {  # why a backward node keeps what it keeps, by autograd class
    "MulBackward0": N_("both factors, because ∂(pq)/∂p = q and ∂(pq)/∂q = p"),
    "TanhBackward0": N_("only its output, because tanh′(z) = 1 − tanh²(z)"),
    "AddBackward0": N_("no input values, because a sum passes the gradient through unchanged"),
    "SubBackward0": N_("no input values, because a difference passes the gradient through (±1)"),
    "PowBackward0": N_("its input and the exponent, because (r²)′ = 2r"),
    "MeanBackward0": N_("only the input's size, because each entry gets 1/N"),
}
LOCAL = {  # ∂(consumer)/∂(value) in symbols: the rule the consumer's backward node applies
    "s": r"\tfrac{1}{N}",
    "r": "2r",
    "y": "1",
    "v": "1",
    "b2": "1",
    "a": "w_2",
    "w2": "a_i",
    "z": "1 - a^2",
    "u": "1",
    "b1": "1",
    "w1": "x_i",
}


@dataclass(frozen=True)
class StepText:
    """One step written out: a sentence (Markdown), the formula with numbers, an optional note."""

    intro: str
    latex: str
    note: str | None = None


def sym(name: str) -> str:
    """Return a value's name as LaTeX (w1 → w_1)."""
    return SYM.get(name, name)


def tex_number(v: float, wrap: bool = False) -> str:
    """Return v with four significant digits, in parentheses when negative and wrap is set."""
    v = v + 0.0  # −0.0 → 0.0
    text = f"{v:.4g}"
    return f"({text})" if wrap and v < 0 else text


def tex(values: Sequence[float], wrap: bool = False) -> str:
    """Return a scalar or a vector (one entry per example) as LaTeX."""
    if len(values) == 1:
        return tex_number(values[0], wrap)
    entries = [tex_number(v) for v in values]
    if len(values) > 2:  # a column, so four examples still fit the page's width
        return r"\begin{bmatrix}" + r" \\ ".join(entries) + r"\end{bmatrix}"
    return r"\left[" + r",\ ".join(entries) + r"\right]"


def at_step(
    graph: DataflowGraph, forward: Sequence[Step], backward: Sequence[Step], k: int
) -> tuple[Step, GraphView]:
    """Return step k (1-based: forward steps first, then backward) and what the graph shows then."""
    if k <= len(forward):
        step = forward[k - 1]
        known = {n.id for n in graph.nodes if n.kind != "op"} | {s.node for s in forward[:k]}
        return step, GraphView(values=frozenset(known), grads=frozenset(), current=step.node)
    step = backward[k - len(forward) - 1]
    return step, GraphView(
        values=frozenset(n.id for n in graph.nodes),
        grads=frozenset(s.node for s in backward[: k - len(forward)]),
        current=step.node,
        backward=True,
        via=step.via,
    )


def _forward_text(graph: DataflowGraph, step: Step, head: str) -> StepText:
    """Return a forward step: the operation with numbers, and what its node keeps for later."""
    node = {n.id: n for n in graph.nodes}
    symbols, numbers = FORWARD[step.node]
    filled = numbers.format(**{i: tex(n.value, wrap=True) for i, n in node.items()})
    saved = ", ".join(f"`{s}`" for s in node[step.node].saved) or t("nothing")
    op = node[step.node].op
    intro = (
        t(
            "{head} torch computes ${symbols}$ and records a `{op}` node. For the backward pass "
            "it keeps {saved} — {why}.",
            head=head,
            symbols=symbols,
            op=op,
            saved=saved,
            why=t(SAVED_WHY[op]),
        )
        if op in SAVED_WHY
        else t(
            "{head} torch computes ${symbols}$ and records a `{op}` node. For the backward pass "
            "it keeps {saved}.",
            head=head,
            symbols=symbols,
            op=op,
            saved=saved,
        )
    )
    return StepText(
        intro,
        rf"{symbols} = {filled} = {tex(step.value)}",
        t("Vectors hold one entry per example; the operations act entry by entry.")
        if len(step.value) > 1
        else None,
    )


def describe(graph: DataflowGraph, step: Step, k: int, total: int, *, backward: bool) -> StepText:
    """Return step k written out: the operation, or upstream gradient × local derivative."""
    node = {n.id: n for n in graph.nodes}
    if not backward:
        return _forward_text(graph, step, t("**Step {k} of {total} · forward.**", k=k, total=total))
    head = t("**Step {k} of {total} · backward.**", k=k, total=total)
    if step.via is None:
        return StepText(
            t(
                "{head} The backward pass starts at the loss with the seed "
                "$\\partial L/\\partial L = 1$ and visits the nodes in the order autograd chose: "
                "{order}.",
                head=head,
                order=" → ".join(graph.backward_order),
            ),
            r"\frac{\partial L}{\partial L} = 1",
        )
    via, me = sym(step.via), sym(step.node)
    by = t("`{op}`, the node of ${formula}$,", op=node[step.via].op, formula=FORWARD[step.via][0])
    upstream_word, local_word = t("upstream"), t("local")  # i18n: labels under a formula's braces
    local = rf"\underbrace{{\frac{{\partial {via}{'_i' if step.summed else ''}}}{{\partial {me}}}}}"
    local += rf"_{{\text{{{local_word}}}\,=\,{LOCAL[step.node]}}}"
    if step.summed:
        terms = " + ".join(
            rf"{tex_number(u, True)}\cdot{tex_number(v, True)}"
            for u, v in zip(step.upstream, step.local, strict=True)
        )
        return StepText(
            t(
                "{head} {by} hands back upstream gradient × local derivative for each example; "
                "${me}$ was used by all {n}, so the products are summed, and `AccumulateGrad` "
                "stores the sum in `{name}.grad`.",
                head=head,
                by=by,
                me=me,
                n=len(step.local),
                name=step.node,
            ),
            rf"\frac{{\partial L}}{{\partial {me}}} = \sum_i "
            rf"\underbrace{{\frac{{\partial L}}{{\partial {via}_i}}}}"
            rf"_{{\text{{{upstream_word}}}}}{local}"
            rf" = {terms} = {tex(step.value)}",
        )
    elementwise = len(step.upstream) > 1 and len(step.local) > 1
    times = r"\odot" if elementwise else r"\cdot"
    return StepText(
        t(
            "{head} {by} multiplies the gradient arriving from the loss by its own local "
            "derivative and hands the product back to ${me}$.",
            head=head,
            by=by,
            me=me,
        ),
        rf"\frac{{\partial L}}{{\partial {me}}} = "
        rf"\underbrace{{\frac{{\partial L}}{{\partial {via}}}}}_{{\text{{{upstream_word}}}}}"
        rf"\cdot{local}"
        rf" = {tex(step.upstream)} {times} {tex(step.local)} = {tex(step.value)}",
        t("⊙ multiplies entry by entry: one product per example.") if elementwise else None,
    )
