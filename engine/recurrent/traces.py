"""What happens inside a recurrent layer at every step? Gate-by-gate traces of RNN, GRU and LSTM.

`lstm_trace`, `gru_trace` and `rnn_trace` re-run a one-layer, unidirectional torch module on one
sequence from its own weights and keep every intermediate the equations name, so that a page can
show the gates opening and closing. PyTorch's formulas (gate order i, f, g, o for the LSTM; r, z, n
for the GRU, with r applied to W_hn h + b_hn):

    LSTM  i, f, o = σ(W_i* x_t + b_i* + W_h* h_{t-1} + b_h*)     g = tanh(same form)
          c_t = f ⊙ c_{t-1} + i ⊙ g                           h_t = o ⊙ tanh(c_t)
    GRU   r, z = σ(W_i* x_t + b_i* + W_h* h_{t-1} + b_h*)
          n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
    RNN   h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)     act = tanh or relu

How, and why it is fast: torch's own fused layer runs first and returns every h_t (so `hidden` is
exactly what the module outputs). With h_{t-1} known for all t, no gate depends on another step any
more: one matrix multiply over all steps per weight matrix gives every pre-activation, one
elementwise op per gate gives the gates, and the LSTM cell c_t = f_t c_{t-1} + i_t g_t, linear in c,
is solved by a parallel scan in log2(T) whole-tensor rounds. No Python loop over time remains: the
cost is the fused layer plus about as much again in large matrix multiplies. Everything runs on one
intra-op thread: on a busy 2-core machine a second OpenMP thread mostly makes each op wait.
`bidirectional_trace` does the same for both directions of a bidirectional module.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor, nn

from engine.core import ExplorerError, one_thread, seeded

__all__ = [
    "BidirectionalTrace",
    "GRUTrace",
    "LSTMTrace",
    "MAX_STEPS",
    "RNNTrace",
    "RecurrentConfigError",
    "bidirectional_trace",
    "gru_trace",
    "lstm_trace",
    "make_rnn",
    "rnn_trace",
]

MAX_HIDDEN = 4096  # beyond this the (T, H) buffers say nothing a page can show
MAX_STEPS = 20_000  # an LSTM trace keeps 7 (T, H) tensors: 72 MB at H = 128


class RecurrentConfigError(ExplorerError):
    """A module or input the traces cannot follow; the message says what to change."""


class _Trace:
    """Shared helpers of the trace dataclasses."""

    def as_dict(self) -> dict[str, Tensor]:
        """Return {field name: tensor} in declaration order (no copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @property
    def steps(self) -> int:
        """Return T, the number of time steps traced."""
        return int(self.hidden.shape[0])  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LSTMTrace(_Trace):
    """An LSTM's gates and states after every step; each tensor is (T, hidden_size)."""

    input_gate: Tensor  # i_t in (0, 1): how much of the candidate is written
    forget_gate: Tensor  # f_t in (0, 1): how much of the old cell is kept
    candidate: Tensor  # g_t in (-1, 1): the proposed new content
    output_gate: Tensor  # o_t in (0, 1): how much of tanh(c_t) is shown as h_t
    cell: Tensor  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t (unbounded)
    hidden: Tensor  # h_t = o_t ⊙ tanh(c_t), in (-1, 1)


@dataclass(frozen=True)
class GRUTrace(_Trace):
    """A GRU's gates and states after every step; each tensor is (T, hidden_size)."""

    reset: Tensor  # r_t in (0, 1): how much of the old state enters the candidate
    update: Tensor  # z_t in (0, 1): how much of the old state is kept (1 = keep)
    candidate: Tensor  # n_t in (-1, 1)
    hidden: Tensor  # h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}


@dataclass(frozen=True)
class RNNTrace(_Trace):
    """An Elman RNN's terms and states after every step; each tensor is (T, hidden_size)."""

    input_part: Tensor  # W_ih x_t + b_ih: what the input contributes
    recurrent_part: Tensor  # W_hh h_{t-1} + b_hh: what the previous state contributes
    pre_activation: Tensor  # input_part + recurrent_part
    hidden: Tensor  # h_t = tanh or relu of pre_activation


@dataclass(frozen=True)
class BidirectionalTrace:
    """A bidirectional layer: both directions in time order t = 0..T-1, and their concatenation."""

    forward: LSTMTrace | GRUTrace | RNNTrace  # reads x_0 .. x_t
    backward: LSTMTrace | GRUTrace | RNNTrace  # reads x_{T-1} .. x_t, stored at position t
    hidden: Tensor  # (T, 2H): [forward.hidden[t], backward.hidden[t]], what nn.RNN outputs


Recurrent = nn.LSTM | nn.GRU | nn.RNN


def lstm_trace(
    lstm: nn.LSTM, x: Tensor, h0: Tensor | None = None, c0: Tensor | None = None
) -> LSTMTrace:
    """Return the LSTMTrace of a one-layer unidirectional nn.LSTM on x (T, I) or a batch of one."""
    xs = _check(lstm, nn.LSTM, x, bidirectional=False)
    h0, c0 = _state(h0, lstm, "h0"), _state(c0, lstm, "c0")
    with one_thread():
        h_all = _run(lstm, xs, h0, c0)
        return _lstm(*_weights(lstm, ""), xs, h_all, h0, c0)


def gru_trace(gru: nn.GRU, x: Tensor, h0: Tensor | None = None) -> GRUTrace:
    """Return the GRUTrace of a one-layer unidirectional nn.GRU on x (T, I) or a batch of one."""
    xs = _check(gru, nn.GRU, x, bidirectional=False)
    h0 = _state(h0, gru, "h0")
    with one_thread():
        return _gru(*_weights(gru, ""), xs, _run(gru, xs, h0), h0)


def rnn_trace(rnn: nn.RNN, x: Tensor, h0: Tensor | None = None) -> RNNTrace:
    """Return the RNNTrace of a one-layer unidirectional nn.RNN on x (T, I) or a batch of one."""
    xs = _check(rnn, nn.RNN, x, bidirectional=False)
    h0 = _state(h0, rnn, "h0")
    with one_thread():
        return _rnn(*_weights(rnn, ""), xs, _run(rnn, xs, h0), h0)


def bidirectional_trace(module: Recurrent, x: Tensor) -> BidirectionalTrace:
    """Return forward, backward and concatenated states of a one-layer bidirectional module."""
    if not isinstance(module, nn.LSTM | nn.GRU | nn.RNN):
        raise RecurrentConfigError(
            f"Expected an nn.RNN, nn.GRU or nn.LSTM, got {type(module).__name__}."
        )
    xs = _check(module, type(module), x, bidirectional=True)
    zero, hidden = _state(None, module, "h0"), module.hidden_size
    with one_thread():
        both = _run(module, xs, zero, zero if isinstance(module, nn.LSTM) else None)  # (T, 2H)
        runs = []
        # the backward direction is a forward pass over the reversed sequence
        for suffix, seq, h_all in (
            ("", xs, both[:, :hidden]),
            ("_reverse", xs.flip(0), both[:, hidden:].flip(0)),
        ):
            w = _weights(module, suffix)
            if isinstance(module, nn.LSTM):
                runs.append(_lstm(*w, seq, h_all, zero, zero))
            elif isinstance(module, nn.GRU):
                runs.append(_gru(*w, seq, h_all, zero))
            else:
                runs.append(_rnn(*w, seq, h_all, zero))
    fwd, bwd = runs
    bwd = type(bwd)(**{k: v.flip(0) for k, v in bwd.as_dict().items()})  # back to time order
    return BidirectionalTrace(fwd, bwd, both)


def make_rnn(
    input_size: int,
    hidden_size: int,
    nonlinearity: str = "tanh",
    bidirectional: bool = False,
    seed: int = 0,
    scale: float = 1.0,
) -> nn.RNN:
    """Return an nn.RNN with seeded weights drawn like PyTorch's default, times `scale`."""
    for name, value, top in (("input_size", input_size, 256), ("hidden_size", hidden_size, 256)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise RecurrentConfigError(
                "{name} must be a whole number from 1 to {top}.", name=name, top=top
            )
    if nonlinearity not in ("tanh", "relu"):
        raise RecurrentConfigError("The nonlinearity must be 'tanh' or 'relu'.")
    if not 0.0 <= float(scale) <= 10.0:
        raise RecurrentConfigError("The weight scale must be between 0 and 10.")
    rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, bidirectional=bidirectional)
    generator = seeded(seed)
    bound = hidden_size**-0.5
    with torch.no_grad():
        for p in rnn.parameters():
            p.uniform_(-bound, bound, generator=generator).mul_(float(scale))
    return rnn.eval()


# --- the recurrences ----------------------------------------------------------------------------
#
# The module's own fused kernel produces every h_t in one call. Once h_{t-1} is known for every t,
# every gate of every step depends only on known tensors: one (T, I) and one (T, H) matrix multiply
# give all pre-activations, one elementwise op per gate gives the gates. Only the LSTM cell needs a
# recurrence, and c_t = f_t c_{t-1} + i_t g_t is linear in c: a parallel scan solves it (below).


def _lstm(
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    x: Tensor,
    h_all: Tensor,
    h0: Tensor,
    c0: Tensor,
) -> LSTMTrace:
    hidden = w_hh.shape[1]
    with torch.inference_mode():
        pre = _pre_activations(w_ih, w_hh, b_ih + b_hh, x, h_all, h0)  # (T, 4H): i, f, g, o
        i, f, g, o = (pre[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)  # own storage each
        g = torch.tanh(g)
        cell = _linear_scan(f, i * g, c0)  # (T, H)
        return LSTMTrace(i, f, g, o, cell, h_all)


def _gru(
    w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, x: Tensor, h_all: Tensor, h0: Tensor
) -> GRUTrace:
    hidden = w_hh.shape[1]
    with torch.inference_mode():
        h_prev = _previous(h_all, h0)  # (T, H)
        inp = torch.addmm(b_ih, x, w_ih.t())  # (T, 3H): r, z, n input parts
        rec = torch.addmm(b_hh, h_prev, w_hh.t())  # (T, 3H): the part r gates for n
        rz = inp[:, : 2 * hidden].add_(rec[:, : 2 * hidden])
        reset, update = torch.sigmoid(rz[:, :hidden]), torch.sigmoid(rz[:, hidden:])
        cand = torch.addcmul(inp[:, 2 * hidden :], reset, rec[:, 2 * hidden :]).tanh_()
        return GRUTrace(reset, update, cand, h_all)


def _rnn(
    w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, x: Tensor, h_all: Tensor, h0: Tensor
) -> RNNTrace:
    with torch.inference_mode():
        inp = torch.addmm(b_ih, x, w_ih.t())  # (T, H)
        rec = torch.addmm(b_hh, _previous(h_all, h0), w_hh.t())  # (T, H)
        return RNNTrace(inp, rec, inp + rec, h_all)


def _previous(h_all: Tensor, h0: Tensor) -> Tensor:
    """Return (T, H): h_{t-1} for every t, h0 first."""
    return torch.cat([h0.reshape(1, -1), h_all[:-1]])


def _pre_activations(
    w_ih: Tensor, w_hh: Tensor, bias: Tensor, x: Tensor, h_all: Tensor, h0: Tensor
) -> Tensor:
    """Return (T, G): W_ih x_t + W_hh h_{t-1} + bias for every t, one multiply each side."""
    pre = torch.addmm(bias, x, w_ih.t())  # (T, G)
    pre[1:].addmm_(h_all[:-1], w_hh.t())  # step t reads h_{t-1} ...
    pre[:1].addmm_(h0.reshape(1, -1), w_hh.t())  # ... and step 0 the initial state
    return pre


def _linear_scan(a: Tensor, b: Tensor, c0: Tensor) -> Tensor:
    """Return (T, H): c_t = a_t ⊙ c_{t-1} + b_t for every t, from c_{-1} = c0 (b is overwritten).

    Hillis–Steele doubling: after the round with stride d, (a_t, b_t) maps c_{t-2d} to c_t, so
    log2(T) rounds of whole-tensor ops replace T tiny steps. Only products of the gates (each in
    (0, 1)) and sums appear, no division, so nothing overflows; a product that underflows to 0
    means that old cell content is forgotten anyway. Buffers alternate: an op never reads what it
    writes.
    """
    steps = a.shape[0]
    b[0].addcmul_(a[0], c0)
    b_next, a_next, a_spare = torch.empty_like(b), torch.empty_like(a), torch.empty_like(a)
    stride = 1
    while stride < steps:
        b_next[:stride] = b[:stride]
        torch.addcmul(b[stride:], a[stride:], b[:-stride], out=b_next[stride:])
        b, b_next = b_next, b
        if 2 * stride < steps:  # the last round's products are never read
            a_next[:stride] = a[:stride]
            torch.mul(a[stride:], a[:-stride], out=a_next[stride:])
            a, a_next = a_next, (a_spare if stride == 1 else a)  # never write into the caller's a
        stride *= 2
    return b


def _run(module: Recurrent, x: Tensor, h0: Tensor, c0: Tensor | None = None) -> Tensor:
    """Return (T, D·H): every h_t from torch's own fused layer (hooks and overrides bypassed)."""
    directions = 2 if module.bidirectional else 1
    h = h0.reshape(1, -1).expand(directions, -1).contiguous()  # (D, H): unbatched layout
    state = (h, c0.reshape(1, -1).expand(directions, -1).contiguous()) if c0 is not None else h
    base = next(kind for kind in (nn.LSTM, nn.GRU, nn.RNN) if isinstance(module, kind))
    with torch.inference_mode():
        out, _ = base.forward(module, x, state)  # the class's own equations, not a subclass's
    return out


# --- checks -------------------------------------------------------------------------------------


def _check(module: nn.Module, kind: type, x: Tensor, bidirectional: bool) -> Tensor:
    """Return x as a (T, input_size) tensor in the module's dtype, or raise RecurrentConfigError."""
    _check_module(module, kind, bidirectional)
    xs = _one_sequence(module, x)
    if xs.dim() != 2 or xs.shape[1] != module.input_size:
        raise RecurrentConfigError(
            f"Expected an input of shape (T, {module.input_size}), got {tuple(xs.shape)}."
        )
    if xs.shape[0] == 0:
        raise RecurrentConfigError("The sequence is empty: give at least one time step.")
    if xs.shape[0] > MAX_STEPS:
        raise RecurrentConfigError(
            "The sequence has {n} steps; trace at most {top} (cut it first).",
            n=f"{xs.shape[0]:,}",
            top=f"{MAX_STEPS:,}",
        )
    weight = module.weight_hh_l0
    return xs.detach().to(dtype=weight.dtype, device=weight.device)


def _check_module(module: nn.Module, kind: type, bidirectional: bool) -> None:
    """Raise RecurrentConfigError unless module is a one-layer `kind` the trace can follow."""
    name = kind.__name__
    if not isinstance(module, kind):
        raise RecurrentConfigError(f"Expected a torch.nn.{name}, got {type(module).__name__}.")
    if module.num_layers != 1:
        raise RecurrentConfigError(
            f"This {name} has {module.num_layers} layers; the trace follows one layer. Trace each "
            "layer as its own one-layer module (the next layer's input is this one's hidden)."
        )
    if module.bidirectional != bidirectional:
        hint = "use bidirectional_trace" if module.bidirectional else "use lstm/gru/rnn_trace"
        raise RecurrentConfigError(
            f"This {name} is {'' if module.bidirectional else 'not '}bidirectional: {hint}."
        )
    if getattr(module, "proj_size", 0):
        raise RecurrentConfigError("LSTMs with proj_size > 0 are not supported: set proj_size=0.")
    if module.hidden_size > MAX_HIDDEN:
        raise RecurrentConfigError(f"hidden_size is capped at {MAX_HIDDEN}.")


def _one_sequence(module: nn.Module, x: Tensor) -> Tensor:
    """Return x without its batch axis when it holds one sequence (batch of 1), else x unchanged."""
    if not isinstance(x, Tensor):
        raise RecurrentConfigError(f"The input must be a torch.Tensor, not {type(x).__name__}.")
    if x.dim() != 3:
        return x
    batch = x.shape[0] if module.batch_first else x.shape[1]
    if batch != 1:
        layout = "(1, T, input_size)" if module.batch_first else "(T, 1, input_size)"
        raise RecurrentConfigError(f"Trace one sequence at a time: expected {layout}.")
    return x[0] if module.batch_first else x[:, 0]


def _weights(module: nn.Module, suffix: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Return (w_ih, w_hh, b_ih, b_hh) of layer 0 in one direction; zero biases if bias=False."""
    w_ih = getattr(module, f"weight_ih_l0{suffix}").detach()
    w_hh = getattr(module, f"weight_hh_l0{suffix}").detach()
    if module.bias:
        b_ih = getattr(module, f"bias_ih_l0{suffix}").detach()
        b_hh = getattr(module, f"bias_hh_l0{suffix}").detach()
    else:
        b_ih = b_hh = w_hh.new_zeros(w_hh.shape[0])
    return w_ih, w_hh, b_ih, b_hh


def _state(state: Tensor | None, module: nn.Module, name: str) -> Tensor:
    """Return an initial state (hidden_size,) from None (zeros), (H,), (1, H) or (1, 1, H)."""
    weight, hidden = module.weight_hh_l0, module.hidden_size
    if state is None:
        return weight.new_zeros(hidden)
    if not isinstance(state, Tensor) or state.numel() != hidden:
        shape = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
        raise RecurrentConfigError(f"{name} must hold {hidden} values (one per unit), got {shape}.")
    return state.detach().reshape(hidden).to(dtype=weight.dtype, device=weight.device)
