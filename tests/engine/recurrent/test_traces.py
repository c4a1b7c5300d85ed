"""Gate traces against torch's own nn.LSTM / nn.GRU / nn.RNN, and against the equations by hand.

References: the modules' outputs (hidden states, final cell state), a one-unit RNN worked out on
paper, and the defining identities (c_t = f c_{t-1} + i g, h_t = o tanh c_t, GRU interpolation).
"""

import pytest
import torch
from torch import nn

from engine.recurrent import (
    BidirectionalTrace,
    GRUTrace,
    LSTMTrace,
    RecurrentConfigError,
    RNNTrace,
    bidirectional_trace,
    gru_trace,
    lstm_trace,
    make_rnn,
    rnn_trace,
)


def _module(cls, *args, seed: int = 0, **kwargs):
    generator = torch.Generator().manual_seed(seed)
    module = cls(*args, **kwargs)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.6, 0.6, generator=generator)
    return module


def _x(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_trace_matches_nn_lstm(batch_first: bool, bias: bool) -> None:
    lstm = _module(nn.LSTM, 5, 7, batch_first=batch_first, bias=bias)
    x = _x(40, 5)
    trace = lstm_trace(lstm, x)
    out, (h_n, c_n) = lstm(x)
    assert isinstance(trace, LSTMTrace)
    torch.testing.assert_close(trace.hidden, out, atol=1e-5, rtol=0)
    torch.testing.assert_close(trace.cell[-1], c_n[0], atol=1e-5, rtol=0)
    batched = x[None] if batch_first else x[:, None]
    torch.testing.assert_close(lstm_trace(lstm, batched).hidden, trace.hidden)
    for name in ("input_gate", "forget_gate", "output_gate"):
        values = getattr(trace, name)
        assert values.shape == (40, 7) and values.min() > 0 and values.max() < 1
    assert trace.candidate.abs().max() < 1 and trace.steps == 40


def test_lstm_trace_obeys_its_equations_and_initial_state() -> None:
    lstm = _module(nn.LSTM, 3, 4, seed=3)
    x, h0, c0 = _x(12, 3), _x(4, seed=5), _x(4, seed=6)
    trace = lstm_trace(lstm, x, h0=h0, c0=c0)
    out, _ = lstm(x, (h0[None], c0[None]))
    torch.testing.assert_close(trace.hidden, out, atol=1e-5, rtol=0)
    c_prev = torch.cat([c0[None], trace.cell[:-1]])
    expected_c = trace.forget_gate * c_prev + trace.input_gate * trace.candidate
    torch.testing.assert_close(trace.cell, expected_c, atol=1e-6, rtol=0)
    torch.testing.assert_close(trace.hidden, trace.output_gate * trace.cell.tanh())
    # the input gate by hand from PyTorch's row order (i, f, g, o)
    w_ii, b_ii = lstm.weight_ih_l0[:4], lstm.bias_ih_l0[:4] + lstm.bias_hh_l0[:4]
    i0 = torch.sigmoid(w_ii @ x[0] + b_ii + lstm.weight_hh_l0[:4] @ h0)
    torch.testing.assert_close(trace.input_gate[0], i0.detach())


def test_gru_trace_matches_nn_gru_and_interpolates() -> None:
    gru = _module(nn.GRU, 6, 5, batch_first=True, seed=2)
    x, h0 = _x(30, 6), _x(5, seed=9)
    trace = gru_trace(gru, x[None], h0=h0[None, None])
    out, _ = gru(x[None], h0[None, None])
    assert isinstance(trace, GRUTrace)
    torch.testing.assert_close(trace.hidden, out[0], atol=1e-5, rtol=0)
    h_prev = torch.cat([h0[None], trace.hidden[:-1]])
    blend = (1 - trace.update) * trace.candidate + trace.update * h_prev
    torch.testing.assert_close(trace.hidden, blend, atol=1e-6, rtol=0)
    assert 0 < trace.reset.min() and trace.reset.max() < 1


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_trace_matches_nn_rnn(nonlinearity: str) -> None:
    rnn = _module(nn.RNN, 4, 6, nonlinearity=nonlinearity, seed=4)
    x = _x(25, 4)
    trace = rnn_trace(rnn, x)
    torch.testing.assert_close(trace.hidden, rnn(x)[0], atol=1e-5, rtol=0)
    assert isinstance(trace, RNNTrace)
    torch.testing.assert_close(trace.input_part, (x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0).detach())
    torch.testing.assert_close(trace.pre_activation, trace.input_part + trace.recurrent_part)


def test_one_unit_rnn_by_hand() -> None:
    rnn = nn.RNN(1, 1, bias=False)
    with torch.no_grad():
        rnn.weight_ih_l0.fill_(0.5)
        rnn.weight_hh_l0.fill_(2.0)
    trace = rnn_trace(rnn, torch.tensor([[1.0], [0.0], [-1.0]]))
    h1 = torch.tanh(torch.tensor(0.5))
    h2 = torch.tanh(2 * h1)
    h3 = torch.tanh(2 * h2 - 0.5)
    torch.testing.assert_close(trace.hidden[:, 0], torch.stack([h1, h2, h3]))
    torch.testing.assert_close(trace.recurrent_part[:, 0], torch.stack([0 * h1, 2 * h1, 2 * h2]))


def test_float64_modules_are_traced_in_float64() -> None:
    lstm = _module(nn.LSTM, 3, 4).double()
    trace = lstm_trace(lstm, _x(8, 3))  # a float32 input is cast to the module's dtype
    assert trace.hidden.dtype == torch.float64
    torch.testing.assert_close(trace.hidden, lstm(_x(8, 3).double())[0])


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_bidirectional_matches_torch(cls) -> None:
    module = _module(cls, 3, 4, bidirectional=True, seed=7)
    x = _x(15, 3)
    trace = bidirectional_trace(module, x)
    assert isinstance(trace, BidirectionalTrace)
    torch.testing.assert_close(trace.hidden, module(x)[0], atol=1e-5, rtol=0)
    assert trace.hidden.shape == (15, 8)
    x, trace = x[:5], bidirectional_trace(module, x[:5])
    # position 0 of the backward pass has read the whole sequence: changing the last input moves it
    x2 = x.clone()
    x2[-1] += 1.0
    moved = bidirectional_trace(module, x2)
    assert (moved.backward.hidden[0] - trace.backward.hidden[0]).abs().max() > 1e-4
    torch.testing.assert_close(moved.forward.hidden[:-1], trace.forward.hidden[:-1])


def test_make_rnn_is_seeded_and_validated() -> None:
    a, b = make_rnn(2, 3, seed=5), make_rnn(2, 3, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert make_rnn(2, 3, bidirectional=True).bidirectional
    for bad in ({"hidden_size": 0}, {"nonlinearity": "sigmoid"}, {"scale": -1.0}):
        with pytest.raises(RecurrentConfigError):
            make_rnn(**({"input_size": 2, "hidden_size": 3} | bad))


@pytest.mark.parametrize(
    ("module", "x", "fragment"),
    [
        (nn.LSTM(3, 4, num_layers=2), torch.zeros(5, 3), "2 layers"),
        (nn.LSTM(3, 4, bidirectional=True), torch.zeros(5, 3), "bidirectional"),
        (nn.LSTM(3, 4, proj_size=2), torch.zeros(5, 3), "proj_size"),
        (nn.LSTM(3, 4), torch.zeros(5, 2), "(T, 3)"),
        (nn.LSTM(3, 4), torch.zeros(5, 2, 3), "one sequence"),
        (nn.LSTM(3, 4), torch.zeros(0, 3), "empty"),
        (nn.LSTM(3, 4), torch.zeros(20_001, 3), "at most 20,000"),
        (nn.GRU(3, 4), torch.zeros(5, 3), "Expected a torch.nn.LSTM"),
    ],
)
def test_refuses_what_it_cannot_trace(module, x, fragment: str) -> None:
    with pytest.raises(
        RecurrentConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")
    ):
        lstm_trace(module, x)


def test_refuses_bad_states_and_single_direction_for_bidirectional() -> None:
    with pytest.raises(RecurrentConfigError, match="h0 must hold 4"):
        gru_trace(nn.GRU(3, 4), torch.zeros(2, 3), h0=torch.zeros(3))
    with pytest.raises(RecurrentConfigError, match="not bidirectional"):
        bidirectional_trace(nn.RNN(3, 4), torch.zeros(2, 3))
    with pytest.raises(RecurrentConfigError, match="nn.RNN, nn.GRU or nn.LSTM"):
        bidirectional_trace(nn.Linear(3, 4), torch.zeros(2, 3))
    assert issubclass(RecurrentConfigError, ValueError)


# --- an independent step-by-step reference: the equations one time step at a time, in float64 ---


def _lstm_by_steps(lstm: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    w_ih, w_hh = lstm.weight_ih_l0.detach().double(), lstm.weight_hh_l0.detach().double()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double()
    h = c = torch.zeros(lstm.hidden_size, dtype=torch.float64)
    rows: dict[str, list[torch.Tensor]] = {k: [] for k in ("i", "f", "g", "o", "c", "h")}
    for x_t in x.double():
        i, f, g, o = (w_ih @ x_t + w_hh @ h + bias).chunk(4)  # PyTorch's row order
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        for k, v in zip(rows, (i, f, g, o, c, h), strict=True):
            rows[k].append(v)
    return {k: torch.stack(v).float() for k, v in rows.items()}


@pytest.mark.parametrize(("scale", "forget_bias"), [(0.6, 0.0), (2.0, 0.0), (0.3, 6.0)])
def test_lstm_trace_equals_a_step_by_step_reference_over_1000_steps(
    scale: float, forget_bias: float
) -> None:
    """Every field against the equations stepped in float64: saturated gates, long integrators."""
    lstm = _module(nn.LSTM, 8, 16, seed=11)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(scale / 0.6)
        lstm.bias_ih_l0[16:32] += forget_bias  # f ≈ 1: cells integrate for hundreds of steps
    x = _x(1000, 8, seed=12)
    trace = lstm_trace(lstm, x)
    ref = _lstm_by_steps(lstm, x)
    names = ("input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden")
    for name, key in zip(names, "ifgoch", strict=True):
        got = getattr(trace, name)
        assert got.shape == (1000, 16) and got.dtype == torch.float32
        error = float((got - ref[key]).abs().max())
        assert error <= 1e-5 * max(1.0, float(ref[key].abs().max())), (name, error)
    torch.testing.assert_close(
        trace.hidden, trace.output_gate * trace.cell.tanh(), atol=1e-5, rtol=0
    )
    if forget_bias:
        assert float(trace.cell.abs().max()) > 5  # the integrators really integrated


def test_gru_and_rnn_traces_equal_step_by_step_references() -> None:
    gru, rnn = _module(nn.GRU, 3, 6, seed=13), _module(nn.RNN, 3, 6, seed=14)
    x = _x(300, 3, seed=15)
    g, r = gru_trace(gru, x), rnn_trace(rnn, x)
    h_g = h_r = torch.zeros(6, dtype=torch.float64)
    w = {k: v.detach().double() for k, v in gru.named_parameters()}
    v = {k: p.detach().double() for k, p in rnn.named_parameters()}
    for t, x_t in enumerate(x.double()):
        gi = w["weight_ih_l0"] @ x_t + w["bias_ih_l0"]
        gh = w["weight_hh_l0"] @ h_g + w["bias_hh_l0"]
        reset = (gi[:6] + gh[:6]).sigmoid()
        update = (gi[6:12] + gh[6:12]).sigmoid()
        cand = (gi[12:] + reset * gh[12:]).tanh()
        h_g = (1 - update) * cand + update * h_g
        for got, want in (
            (g.reset[t], reset),
            (g.update[t], update),
            (g.candidate[t], cand),
            (g.hidden[t], h_g),
        ):
            torch.testing.assert_close(got, want.float(), atol=1e-5, rtol=0)
        pre = v["weight_ih_l0"] @ x_t + v["bias_ih_l0"] + v["weight_hh_l0"] @ h_r + v["bias_hh_l0"]
        h_r = pre.tanh()
        torch.testing.assert_close(r.pre_activation[t], pre.float(), atol=1e-5, rtol=0)
        torch.testing.assert_close(r.hidden[t], h_r.float(), atol=1e-5, rtol=0)


def test_bidirectional_lstm_gates_equal_the_reversed_unidirectional_run() -> None:
    module = _module(nn.LSTM, 3, 5, bidirectional=True, seed=16)
    backward_only = nn.LSTM(3, 5)
    with torch.no_grad():
        for name, p in backward_only.named_parameters():
            p.copy_(getattr(module, name + "_reverse"))
    x = _x(50, 3, seed=17)
    both = bidirectional_trace(module, x)
    alone = lstm_trace(backward_only, x.flip(0))
    for name, values in alone.as_dict().items():
        torch.testing.assert_close(getattr(both.backward, name), values.flip(0), atol=1e-6, rtol=0)


def test_linear_scan_matches_the_loop_and_leaves_its_input_alone() -> None:
    from engine.recurrent.traces import _linear_scan

    generator = torch.Generator().manual_seed(18)
    for steps in (1, 2, 3, 7, 64, 1000):
        a = torch.rand(steps, 4, generator=generator, dtype=torch.float64)
        a[::5, 1:] = 0.0  # a forget gate at 0 cuts the path
        a[1::7, 1:] = 1.0
        a[:, 0] = 0.999 + 0.001 * a[:, 0]  # column 0 remembers for thousands of steps
        b = torch.randn(steps, 4, generator=generator, dtype=torch.float64)
        c0 = torch.randn(4, generator=generator, dtype=torch.float64)
        a_copy, expected, c = a.clone(), [], c0
        for t in range(steps):
            c = a[t] * c + b[t]
            expected.append(c)
        torch.testing.assert_close(_linear_scan(a, b.clone(), c0), torch.stack(expected))
        assert torch.equal(a, a_copy)
