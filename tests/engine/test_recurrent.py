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
