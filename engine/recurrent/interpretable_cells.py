"""Does any unit track something we can name? Text properties, unit rankings and gate statistics.

After Karpathy, Johnson & Fei-Fei, "Visualizing and Understanding Recurrent Networks" (2015): a few
cells of a character LSTM follow quotes, bracket depth or the position in a line, and gates spend
much of their time saturated. Each property below is computed by its own small parser and states
what holds *after reading* character t, the moment the hidden state h_t is computed.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.core import N_, Phrase
from engine.recurrent.traces import GRUTrace, LSTMTrace

__all__ = [
    "CANDIDATE_SATURATED",
    "CELL_BOUND",
    "DIALS",
    "GATE_OPEN",
    "GATE_SHUT",
    "INTEGRATOR",
    "KEEP_HALF",
    "MIN_CHANGES",
    "MOVE_MARGIN",
    "OPEN_MARGIN",
    "PROPERTIES",
    "SWITCHES",
    "TIME_LOCKED",
    "average_keep",
    "bracket_depth",
    "clearest_and_faintest",
    "forget_open_claim",
    "gate_saturation",
    "gate_shares",
    "indentation",
    "inside_comment",
    "inside_quotes",
    "integrator_cells",
    "kept_after",
    "mean_keep",
    "mean_open_share",
    "mean_step_change",
    "most_changing",
    "position_in_line",
    "rank_units",
    "saturated_gate_share",
    "scorable_ranking",
    "switch_claim",
    "text_properties",
    "unscorable_reason",
]

_OPEN, _CLOSE = "([{", ")]}"
GATE_SHUT, GATE_OPEN = 0.1, 0.9  # a sigmoid gate below / above this is practically shut / open
CANDIDATE_SATURATED = 0.9  # a tanh candidate beyond ±this sits at one of its ends
CELL_BOUND = 1.0  # the range of tanh: h_t stays within ±1, the cell state need not
INTEGRATOR = 0.95  # mean forget (update) gate from which a unit counts as a long-term integrator
TIME_LOCKED = 0.9  # |r(property, t)| from which a property is just the clock: any drift matches it
MIN_CHANGES = 2  # a property must change at least this often (one on-off episode) to be scored
SWITCHES, DIALS = 0.5, 0.2  # share of gate values at an end from / below which gates act as ...
OPEN_MARGIN = 0.05  # forget gates count as "open more often" when ahead of both others by this
MOVE_MARGIN = 0.1  # a model's state "changes most" when it moves 10 % more than the runner-up


def inside_quotes(text: str) -> np.ndarray:
    """Return 1.0 where a '...' or "..." string is open after char t (opening quote 1, closing 0).

    A backslash escapes the next character inside a string; a newline closes any open string
    (Python's one-line strings, and a stray apostrophe in prose stops at the end of its line).
    Triple quotes read as an empty string followed by an opening quote.
    """
    out, quote, escaped = np.zeros(len(text)), "", False
    for t, ch in enumerate(text):
        if ch == "\n":
            quote, escaped = "", False
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        out[t] = 1.0 if quote else 0.0
    return out


def bracket_depth(text: str) -> np.ndarray:
    """Return how many ( [ { are open after char t (a closing bracket counts at itself; ≥ 0)."""
    out, depth = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        out[t] = depth
    return out


def position_in_line(text: str) -> np.ndarray:
    """Return the number of characters of the current line read after char t ("\\n" → 0)."""
    out, column = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        column = 0 if ch == "\n" else column + 1
        out[t] = column
    return out


def indentation(text: str) -> np.ndarray:
    """Return the leading spaces of the current line seen so far (a tab counts 4; "\\n" → 0)."""
    out, indent, leading = np.zeros(len(text)), 0, True
    for t, ch in enumerate(text):
        if ch == "\n":
            indent, leading = 0, True
        elif leading and ch in " \t":
            indent += 4 if ch == "\t" else 1
        else:
            leading = False
        out[t] = indent
    return out


def inside_comment(text: str) -> np.ndarray:
    """Return 1.0 from a '#' outside a string up to the end of its line (the "\\n" itself is 0)."""
    quotes = inside_quotes(text)
    out, comment = np.zeros(len(text)), False
    for t, ch in enumerate(text):
        if ch == "\n":
            comment = False
        elif ch == "#" and (t == 0 or not quotes[t - 1]):
            comment = True
        out[t] = 1.0 if comment else 0.0
    return out


PROPERTIES = {
    N_("inside quotes"): inside_quotes,
    N_("bracket depth"): bracket_depth,
    N_("position in line"): position_in_line,
    N_("indentation"): indentation,
    N_("inside a comment"): inside_comment,
}


def text_properties(text: str) -> dict[str, np.ndarray]:
    """Return {property name: (T,) float array} for every entry of PROPERTIES."""
    return {name: parse(text) for name, parse in PROPERTIES.items()}


def unscorable_reason(prop: np.ndarray) -> Phrase | None:
    """Return why a property cannot be scored on this text (None when it can).

    A property that never changes, changes fewer than MIN_CHANGES times, or moves in lockstep
    with time (|r(property, t)| ≥ TIME_LOCKED) is matched by any cell that drifts: a high r
    would say nothing about what the cell tracks.
    """
    p = np.asarray(prop, dtype=float)
    changes = int(np.count_nonzero(np.diff(p)))
    if changes == 0:
        return Phrase(N_("never changes in this text"))
    if changes < MIN_CHANGES:
        return Phrase.counted(
            "changes only {n} time in this text", "changes only {n} times in this text", changes
        )
    time_r = float(np.corrcoef(p, np.arange(p.size))[0, 1])
    if abs(time_r) >= TIME_LOCKED:
        return _time_locked(time_r)
    return None


def _time_locked(time_r: float) -> Phrase:
    """Return the reason for a property that rises or falls with time (r its correlation)."""
    if time_r > 0:
        template = N_(
            "rises with time (r = {r} with the position in the text): any cell that drifts "
            "would match it"
        )
    else:
        template = N_(
            "falls with time (r = {r} with the position in the text): any cell that drifts "
            "would match it"
        )
    return Phrase(template, r=f"{time_r:+.2f}")


def scorable_ranking(
    values: torch.Tensor | np.ndarray, properties: dict[str, np.ndarray], top: int | None = None
) -> tuple[dict[str, list[tuple[int, float]]], dict[str, Phrase]]:
    """Return (rank_units of the scorable properties, {unscorable property: reason})."""
    reasons = {name: unscorable_reason(p) for name, p in properties.items()}
    kept = {name: p for name, p in properties.items() if reasons[name] is None}
    ranking = rank_units(values, kept, top) if kept else {}
    return ranking, {name: why for name, why in reasons.items() if why is not None}


def rank_units(
    values: torch.Tensor | np.ndarray, properties: dict[str, np.ndarray], top: int | None = None
) -> dict[str, list[tuple[int, float]]]:
    """Return per property the units (index, Pearson r) sorted by |r|, strongest first.

    values: (T, H) activations (a hidden or cell trace). A constant property or a constant unit has
    r = 0 (nothing to correlate); `top` keeps only the first `top` units of each list.
    """
    acts = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, float)
    if acts.ndim != 2:
        raise ValueError(f"values must be (T, H), got shape {acts.shape}.")
    centred = acts - acts.mean(axis=0)  # (T, H)
    unit_norm = np.linalg.norm(centred, axis=0)  # (H,)
    ranking: dict[str, list[tuple[int, float]]] = {}
    for name, prop in properties.items():
        prop = np.asarray(prop, dtype=float)
        if prop.shape != (acts.shape[0],):
            raise ValueError(f"Property {name!r} has shape {prop.shape}; expected ({len(acts)},).")
        p = prop - prop.mean()
        denom = unit_norm * np.linalg.norm(p)
        r = np.divide(p @ centred, denom, out=np.zeros(acts.shape[1]), where=denom > 1e-12)
        order = np.argsort(-np.abs(r), kind="stable")[:top]
        ranking[name] = [(int(u), float(r[u])) for u in order]
    return ranking


def gate_saturation(
    trace: LSTMTrace | GRUTrace, low: float = GATE_SHUT, high: float = GATE_OPEN
) -> dict[str, dict[str, np.ndarray]]:
    """Return {gate: {"left": (H,), "right": (H,)}}: each unit's fraction of steps < low / > high.

    LSTM gates: input, forget, output; GRU gates: reset, update (Karpathy et al. 2015, figure 3).
    """
    gates = (
        {"input": trace.input_gate, "forget": trace.forget_gate, "output": trace.output_gate}
        if isinstance(trace, LSTMTrace)
        else {"reset": trace.reset, "update": trace.update}
    )
    arrays = {name: g.detach().cpu().numpy() for name, g in gates.items()}  # numpy: no OpenMP
    return {
        name: {"left": (g < low).mean(axis=0), "right": (g > high).mean(axis=0)}
        for name, g in arrays.items()
    }


def mean_keep(trace: LSTMTrace | GRUTrace) -> np.ndarray:
    """Return each unit's mean forget (LSTM) / update (GRU) gate over time ((H,) float64)."""
    keep = trace.forget_gate if isinstance(trace, LSTMTrace) else trace.update  # (T, H)
    return keep.detach().cpu().numpy().mean(axis=0, dtype=np.float64)


def average_keep(trace: LSTMTrace | GRUTrace) -> float:
    """Return the mean forget (LSTM) / update (GRU) gate over every step and unit."""
    return float(np.mean(mean_keep(trace)))  # every unit has T steps: the mean of unit means


KEEP_HALF = 0.5  # a keep gate above this keeps more of the old state than it lets go


def integrator_cells(
    trace: LSTMTrace | GRUTrace, threshold: float = INTEGRATOR
) -> list[tuple[int, float]]:
    """Return (unit, mean gate) for units whose mean forget (LSTM) / update (GRU) gate ≥ threshold.

    Such a unit keeps nearly all of its previous state at every step: it integrates over time.
    Sorted by mean gate, largest first.
    """
    mean = mean_keep(trace)
    order = np.argsort(-mean, kind="stable")
    return [(int(u), float(mean[u])) for u in order if mean[u] >= threshold]


def gate_shares(trace: LSTMTrace) -> dict[str, float]:
    """Return the shares of all (t, unit) values past each threshold, as fractions 0..1.

    "forget_open": f > GATE_OPEN; "input_shut": i < GATE_SHUT; "candidate_saturated":
    |g| > CANDIDATE_SATURATED; "cell_beyond": |c| > CELL_BOUND.
    """
    f, i, g, c = (
        t.detach().cpu().numpy()
        for t in (trace.forget_gate, trace.input_gate, trace.candidate, trace.cell)
    )
    return {
        "forget_open": float(np.mean(f > GATE_OPEN)),
        "input_shut": float(np.mean(i < GATE_SHUT)),
        "candidate_saturated": float(np.mean(np.abs(g) > CANDIDATE_SATURATED)),
        "cell_beyond": float(np.mean(np.abs(c) > CELL_BOUND)),
    }


def mean_open_share(saturation: dict[str, dict[str, np.ndarray]]) -> dict[str, float]:
    """Return per gate the mean over units of the share of steps above the open threshold."""
    return {gate: float(np.mean(shares["right"])) for gate, shares in saturation.items()}


def kept_after(gate: float, steps: int) -> float:
    """Return gate ** steps: the share of a cell's content a constant forget gate keeps."""
    return float(gate) ** steps


def mean_step_change(hidden: torch.Tensor | np.ndarray) -> float:
    """Return the mean |h_t − h_{t−1}| over all units and steps of a (T, H) trace (NaN if T < 2)."""
    h = np.asarray(hidden.detach().cpu() if isinstance(hidden, torch.Tensor) else hidden, float)
    if h.shape[0] < 2:
        return float("nan")
    return float(np.mean(np.abs(np.diff(h, axis=0))))


def clearest_and_faintest(
    ranking: dict[str, list[tuple[int, float]]],
) -> tuple[tuple[str, int, float], tuple[str, int, float] | None] | None:
    """Return ((property, best unit, r) with the largest best |r|, the one with the smallest).

    Properties whose best r is 0 are skipped. None when none is left; the second item is None
    when only one property is left, so one property is never both clearest and least clear.
    Ties go to the first property listed.
    """
    found = [(name, *best[0]) for name, best in ranking.items() if best and best[0][1]]
    if not found:
        return None
    clearest = max(found, key=lambda item: abs(item[2]))
    faintest = min(found, key=lambda item: abs(item[2]))
    return clearest, (faintest if faintest[0] != clearest[0] else None)


def saturated_gate_share(trace: LSTMTrace) -> float:
    """Return the share of all input, forget and output gate values below GATE_SHUT or above
    GATE_OPEN."""
    gates = (trace.input_gate, trace.forget_gate, trace.output_gate)
    values = np.concatenate([g.detach().cpu().numpy().ravel() for g in gates])
    return float(np.mean((values < GATE_SHUT) | (values > GATE_OPEN)))


def switch_claim(saturated: float) -> str | None:
    """Return "switches" (share ≥ SWITCHES), "dials" (share < DIALS) or None in between."""
    if saturated >= SWITCHES:
        return "switches"
    return "dials" if saturated < DIALS else None


def forget_open_claim(open_share: dict[str, float]) -> bool:
    """Return True when forget gates sit open more often than input and output gates, by at least
    OPEN_MARGIN each (shares from mean_open_share)."""
    others = max(open_share["input"], open_share["output"])
    return open_share["forget"] - others >= OPEN_MARGIN


def most_changing(moves: dict[str, float], margin: float = MOVE_MARGIN) -> str | None:
    """Return the name with the largest mean step change when it leads the runner-up by at least
    `margin` (relative), else None (NaN values are ignored)."""
    known = sorted(((v, name) for name, v in moves.items() if np.isfinite(v)), reverse=True)
    if not known or (len(known) > 1 and known[0][0] < known[1][0] * (1 + margin)):
        return None
    return known[0][1]
