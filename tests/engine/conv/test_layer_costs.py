"""Closed-form layer costs checked against torch modules and torch's FLOP counter."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine.conv import layer_costs as lc


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (7, 3), (120_000, 1), (300, 50)])
def test_dense_matches_linear(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    cost = lc.dense(n_in, n_out)
    assert cost.parameters == _n_params(layer)
    assert cost.biases == layer.bias.numel()
    assert 2 * cost.macs == _flops(lambda: layer(torch.zeros(1, n_in)))


def test_dense_neuron_over_200x200x3_image_has_120000_weights():
    # The figure quoted in every CNN introduction, derived from the module, not typed in.
    assert lc.dense(200 * 200 * 3, 1).weights == nn.Linear(200 * 200 * 3, 1).weight.numel()


@pytest.mark.parametrize("h,w,c_in,c_out,k", [(5, 7, 1, 1, 3), (16, 16, 3, 8, 5), (9, 4, 2, 3, 1)])
def test_conv2d_matches_conv_module(h, w, c_in, c_out, k):
    layer = nn.Conv2d(c_in, c_out, k, padding=k // 2)
    cost = lc.conv2d(h, w, c_in, c_out, k)
    assert cost.parameters == _n_params(layer)
    assert 2 * cost.macs == _flops(lambda: layer(torch.zeros(1, c_in, h, w)))
    assert cost.fan_in == layer.weight[0].numel()


def test_locally_connected_is_an_unshared_unfold():
    h, w, c_in, c_out, k = 6, 5, 2, 3, 3
    x = torch.randn(1, c_in, h, w)
    cols = F.unfold(x, k, padding=k // 2)  # (1, c_in*k*k, positions)
    positions = cols.shape[-1]
    weight = torch.randn(positions, c_out, c_in * k * k)  # one kernel bank per position
    bias = torch.randn(positions, c_out)
    out = torch.einsum("pof,fp->op", weight, cols[0]) + bias.T
    with FlopCounterMode(display=False) as counter:
        torch.einsum("pof,fp->op", weight, cols[0])
    cost = lc.locally_connected(h, w, c_in, c_out, k)
    assert cost.weights == weight.numel()
    assert cost.biases == bias.numel()
    assert 2 * cost.macs == counter.get_total_flops()
    assert out.shape == (c_out, h * w)


@pytest.mark.parametrize("n_in,hidden,steps", [(1, 1, 1), (5, 8, 12), (27, 32, 100)])
def test_rnn_matches_nn_rnn(n_in, hidden, steps):
    layer = nn.RNN(n_in, hidden)
    cost = lc.rnn(n_in, hidden, steps)
    assert cost.parameters == _n_params(layer)
    # The parameter count does not depend on the sequence length: weights are shared over time.
    assert lc.rnn(n_in, hidden, steps + 50).parameters == cost.parameters
    assert 2 * cost.macs == _flops(lambda: layer(torch.zeros(steps, 1, n_in)))
    assert lc.unshared_recurrent(n_in, hidden, steps).parameters == steps * _n_params(layer)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "3", 10**13])
def test_bad_sizes_are_refused_with_a_message(bad):
    with pytest.raises(lc.LayerSizeError, match="."):
        lc.dense(bad, 3)
    with pytest.raises(ValueError):
        lc.conv2d(8, 8, 3, 4, bad)


def test_numpy_integers_are_sizes_too():
    import numpy as np

    assert lc.dense(np.int64(12), np.int32(3)).weights == 36


@pytest.mark.parametrize("n_in,k", [(5, 1), (12, 3), (40, 7)])
def test_sparse_and_shared_1d_match_the_conv1d_and_its_unshared_matrix(n_in, k):
    conv = nn.Conv1d(1, 1, k)  # valid padding: n_out = n_in - k + 1
    n_out = n_in - k + 1
    shared = lc.shared_1d(n_in, n_out, k)
    assert shared.parameters == _n_params(conv)
    assert 2 * shared.macs == _flops(lambda: conv(torch.zeros(1, 1, n_in)))
    # The same layer without sharing: its matrix has k free nonzeros per row.
    matrix = torch.zeros(n_out, n_in)
    for i in range(n_out):
        matrix[i, i : i + k] = torch.arange(1, k + 1) + 10 * i
    sparse = lc.sparse_1d(n_in, n_out, k)
    assert sparse.weights == int((matrix != 0).sum())
    assert len(torch.unique(matrix[matrix != 0])) == sparse.weights
    assert lc.dense(n_in, n_out).weights == matrix.numel()


def test_sparse_refuses_more_taps_than_inputs():
    with pytest.raises(lc.LayerSizeError, match="cannot read"):
        lc.sparse_1d(3, 3, 4)


def test_growth_factor_is_flat_for_a_convolution_and_grows_for_dense():
    sides = [8, 16, 512]
    conv = [lc.conv2d(s, s, 3, 16, 3).parameters for s in sides]
    dense = [lc.dense(s * s * 3, s * s * 16).parameters for s in sides]
    assert lc.growth_factor(conv) == 1.0
    closed = [48 * s**4 + 16 * s**2 for s in sides]  # (3HW)(16HW) weights + 16HW biases
    assert lc.growth_factor(dense) == pytest.approx(closed[-1] / closed[0])
    assert lc.growth_factor([2, 3]) == 1.5 and lc.growth_factor([3, 3]) == 1.0
    assert lc.growth_factor([np.int64(4), np.int64(8)]) == 2.0  # counts from a numpy sweep
    for bad in ([], [5], [0, 3], [2, 2.5]):
        with pytest.raises(lc.LayerSizeError):
            lc.growth_factor(bad)
