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

Speed: the input projections of all steps are one matrix multiply; only the recurrence loops,
writing each step's values straight into preallocated (T, H) buffers (no per-step allocation),
on one intra-op thread: each step's ops are far too small to split, and on a busy 2-core machine
a second OpenMP thread only makes each op wait (nn.LSTM itself ran 3-10x slower on two threads).
`bidirectional_trace` runs the same code forwards and backwards over a bidirectional module.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor, nn

from engine.training import one_thread

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


class RecurrentConfigError(ValueError):
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
    with one_thread():
        return _lstm(*_weights(lstm, ""), xs, _state(h0, lstm, "h0"), _state(c0, lstm, "c0"))


def gru_trace(gru: nn.GRU, x: Tensor, h0: Tensor | None = None) -> GRUTrace:
    """Return the GRUTrace of a one-layer unidirectional nn.GRU on x (T, I) or a batch of one."""
    xs = _check(gru, nn.GRU, x, bidirectional=False)
    with one_thread():
        return _gru(*_weights(gru, ""), xs, _state(h0, gru, "h0"))


def rnn_trace(rnn: nn.RNN, x: Tensor, h0: Tensor | None = None) -> RNNTrace:
    """Return the RNNTrace of a one-layer unidirectional nn.RNN on x (T, I) or a batch of one."""
    xs = _check(rnn, nn.RNN, x, bidirectional=False)
    with one_thread():
        return _rnn(*_weights(rnn, ""), xs, _state(h0, rnn, "h0"), rnn.nonlinearity)


def bidirectional_trace(module: Recurrent, x: Tensor) -> BidirectionalTrace:
    """Return forward, backward and concatenated states of a one-layer bidirectional module."""
    if not isinstance(module, nn.LSTM | nn.GRU | nn.RNN):
        raise RecurrentConfigError(
            f"Expected an nn.RNN, nn.GRU or nn.LSTM, got {type(module).__name__}."
        )
    xs = _check(module, type(module), x, bidirectional=True)
    runs = []
    for suffix, seq in (("", xs), ("_reverse", xs.flip(0))):  # backward = forward on reversed x
        w = _weights(module, suffix)
        zero = _state(None, module, "h0")
        with one_thread():
            if isinstance(module, nn.LSTM):
                trace = _lstm(*w, seq, zero, zero)
            elif isinstance(module, nn.GRU):
                trace = _gru(*w, seq, zero)
            else:
                trace = _rnn(*w, seq, zero, module.nonlinearity)
        runs.append(trace)
    fwd, bwd = runs
    bwd = type(bwd)(**{k: v.flip(0) for k, v in bwd.as_dict().items()})  # back to time order
    return BidirectionalTrace(fwd, bwd, torch.cat([fwd.hidden, bwd.hidden], dim=1))


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
            raise RecurrentConfigError(f"{name} must be a whole number from 1 to {top}.")
    if nonlinearity not in ("tanh", "relu"):
        raise RecurrentConfigError("The nonlinearity must be 'tanh' or 'relu'.")
    if not 0.0 <= float(scale) <= 10.0:
        raise RecurrentConfigError("The weight scale must be between 0 and 10.")
    rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, bidirectional=bidirectional)
    generator = torch.Generator().manual_seed(seed)
    bound = hidden_size**-0.5
    with torch.no_grad():
        for p in rnn.parameters():
            p.uniform_(-bound, bound, generator=generator).mul_(float(scale))
    return rnn.eval()


# --- the recurrences ----------------------------------------------------------------------------


def _lstm(w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, x: Tensor, h0: Tensor,
          c0: Tensor) -> LSTMTrace:  # fmt: skip
    hidden = w_hh.shape[1]
    # Reorder PyTorch's (i, f, g, o) rows to (i, f, o, g): one sigmoid covers three gates.
    order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                       torch.arange(2 * hidden, 3 * hidden)])  # fmt: skip
    with torch.inference_mode():
        steps = x.shape[0]
        proj = torch.addmm((b_ih + b_hh)[order], x, w_ih[order].t())  # (T, 4H), all inputs at once
        w_t = w_hh[order].t().contiguous()  # (H, 4H)
        sig = x.new_empty(steps, 1, 3 * hidden)  # i, f, o side by side
        cand, cells, hid = (x.new_empty(steps, 1, hidden) for _ in range(3))
        pre = x.new_empty(1, 4 * hidden)
        pre_sig, pre_cand, tanh_c = (
            pre[:, : 3 * hidden],
            pre[:, 3 * hidden :],
            x.new_empty(1, hidden),
        )
        ins, forgets, outs = (sig[:, :, k * hidden : (k + 1) * hidden].unbind(0) for k in range(3))
        projs, sigs, cands, cs, hs = (t.unbind(0) for t in (proj[:, None], sig, cand, cells, hid))
        h, c = h0.reshape(1, hidden), c0.reshape(1, hidden)
        for t in range(steps):
            torch.addmm(projs[t], h, w_t, out=pre)
            torch.sigmoid(pre_sig, out=sigs[t])
            torch.tanh(pre_cand, out=cands[t])
            c = torch.mul(forgets[t], c, out=cs[t]).addcmul_(ins[t], cands[t])
            torch.tanh(c, out=tanh_c)
            h = torch.mul(outs[t], tanh_c, out=hs[t])
        i, f, o = (g.contiguous() for g in sig[:, 0].split(hidden, dim=1))  # own storage each
        return LSTMTrace(i, f, cand[:, 0], o, cells[:, 0], hid[:, 0])


def _gru(w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, x: Tensor,
         h0: Tensor) -> GRUTrace:  # fmt: skip
    hidden = w_hh.shape[1]
    with torch.inference_mode():
        steps = x.shape[0]
        proj = torch.addmm(b_ih, x, w_ih.t())[:, None]  # (T, 1, 3H): r, z, n input parts
        w_t = w_hh.t().contiguous()  # (H, 3H)
        rz = x.new_empty(steps, 1, 2 * hidden)
        cand, hid = x.new_empty(steps, 1, hidden), x.new_empty(steps, 1, hidden)
        rec = x.new_empty(1, 3 * hidden)  # W_hh h + b_hh, the part r gates
        rec_rz, rec_n, diff = rec[:, : 2 * hidden], rec[:, 2 * hidden :], x.new_empty(1, hidden)
        proj_rz, proj_n = proj[:, :, : 2 * hidden].unbind(0), proj[:, :, 2 * hidden :].unbind(0)
        rzs, resets = rz.unbind(0), rz[:, :, :hidden].unbind(0)
        updates, ns, hs = rz[:, :, hidden:].unbind(0), cand.unbind(0), hid.unbind(0)
        h, bias = h0.reshape(1, hidden), b_hh[None]
        for t in range(steps):
            torch.addmm(bias, h, w_t, out=rec)
            torch.add(proj_rz[t], rec_rz, out=rzs[t]).sigmoid_()
            n = torch.addcmul(proj_n[t], resets[t], rec_n, out=ns[t]).tanh_()
            torch.sub(h, n, out=diff)
            h = torch.addcmul(n, updates[t], diff, out=hs[t])  # n + z (h - n)
        reset, update = rz[:, 0, :hidden].contiguous(), rz[:, 0, hidden:].contiguous()
        return GRUTrace(reset, update, cand[:, 0], hid[:, 0])


def _rnn(w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, x: Tensor, h0: Tensor,
         nonlinearity: str) -> RNNTrace:  # fmt: skip
    hidden = w_hh.shape[1]
    relu = nonlinearity == "relu"
    with torch.inference_mode():
        steps = x.shape[0]
        inp = torch.addmm(b_ih, x, w_ih.t())  # (T, H)
        proj = (inp + b_hh)[:, None]  # (T, 1, H)
        w_t = w_hh.t().contiguous()
        pre, hid = x.new_empty(steps, 1, hidden), x.new_empty(steps, 1, hidden)
        projs, pres, hs = proj.unbind(0), pre.unbind(0), hid.unbind(0)
        h = h0.reshape(1, hidden)
        for t in range(steps):
            torch.addmm(projs[t], h, w_t, out=pres[t])
            h = torch.clamp_min(pres[t], 0, out=hs[t]) if relu else torch.tanh(pres[t], out=hs[t])
        pre, hid = pre[:, 0], hid[:, 0]
        return RNNTrace(inp, pre - inp, pre, hid)


# --- checks -------------------------------------------------------------------------------------


def _check(module: nn.Module, kind: type, x: Tensor, bidirectional: bool) -> Tensor:
    """Return x as a (T, input_size) tensor in the module's dtype, or raise RecurrentConfigError."""
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
    if not isinstance(x, Tensor):
        raise RecurrentConfigError(f"The input must be a torch.Tensor, not {type(x).__name__}.")
    if x.dim() == 3:
        batch = x.shape[0] if module.batch_first else x.shape[1]
        if batch != 1:
            layout = "(1, T, input_size)" if module.batch_first else "(T, 1, input_size)"
            raise RecurrentConfigError(f"Trace one sequence at a time: expected {layout}.")
        x = x[0] if module.batch_first else x[:, 0]
    if x.dim() != 2 or x.shape[1] != module.input_size:
        raise RecurrentConfigError(
            f"Expected an input of shape (T, {module.input_size}), got {tuple(x.shape)}."
        )
    if x.shape[0] == 0:
        raise RecurrentConfigError("The sequence is empty: give at least one time step.")
    if x.shape[0] > MAX_STEPS:
        raise RecurrentConfigError(
            f"The sequence has {x.shape[0]:,} steps; trace at most {MAX_STEPS:,} (cut it first)."
        )
    weight = module.weight_hh_l0
    return x.detach().to(dtype=weight.dtype, device=weight.device)


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
