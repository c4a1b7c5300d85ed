"""Sparse interactions and parameter sharing against references: the gradient pattern through real
stacks of Conv1d / Linear layers, nn.Conv2d, a brute-force patch sum, and engine.conv."""

import numpy as np
import pytest
import torch
from torch import nn

from engine.conv import (
    KINDS,
    WEIGHT_BUDGET,
    ConvConfigError,
    LocallyConnected2d,
    TimingRow,
    affected_outputs_1d,
    growth_exponent,
    influence_1d,
    layer_costs,
    time_layers,
)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- influence, checked by autograd


def _ones_stack(n: int, k: int, depth: int, dense: bool) -> list[nn.Module]:
    """Return `depth` layers with every weight 1, so gradients count paths and never cancel."""
    layers = []
    for _ in range(depth):
        if dense:
            layer = nn.Linear(n, n, bias=False, dtype=torch.float64)
        else:
            layer = nn.Conv1d(1, 1, k, padding="same", bias=False, dtype=torch.float64)
        nn.init.ones_(layer.weight)
        layers.append(layer)
    return layers


def _gradient_influence(n: int, k: int, depth: int, unit: int, dense: bool) -> np.ndarray:
    """Return (depth + 1, n): where d(top unit)/d(activation) is nonzero, layer by layer."""
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)  # (B, C, n)
    activations, h = [x], x
    for layer in _ones_stack(n, k, depth, dense):
        h = layer(h)
        h.retain_grad()
        activations.append(h)
    activations[-1][0, 0, unit].backward()
    return np.stack([(a.grad[0, 0] != 0).numpy() for a in activations])


CASES = [  # n, k, depth, unit: borders, middles, even widths, kernels wider than the layer
    (12, 3, 3, 0),
    (12, 3, 3, 11),
    (12, 3, 3, 6),
    (20, 5, 4, 2),
    (20, 5, 1, 17),
    (9, 4, 2, 4),
    (9, 2, 5, 0),
    (16, 6, 3, 15),
    (7, 1, 3, 3),
    (5, 9, 2, 2),
    (30, 3, 0, 14),
    (31, 7, 4, 15),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("n,k,depth,unit", CASES)
def test_influence_matches_the_gradient_through_a_real_stack(n, k, depth, unit, dense):
    mask = influence_1d(n, k, depth, unit, dense=dense)
    assert mask.shape == (depth + 1, n) and mask.dtype == bool
    np.testing.assert_array_equal(mask, _gradient_influence(n, k, depth, unit, dense))


@pytest.mark.parametrize("n,k,depth,unit", CASES)
def test_receptive_width_grows_by_k_minus_1_per_layer_clipped_at_the_borders(n, k, depth, unit):
    mask = influence_1d(n, k, depth, unit)
    left, right = (k - 1) // 2, k // 2
    for level in range(depth + 1):
        layers_above = depth - level
        lo = max(0, unit - layers_above * left)
        hi = min(n - 1, unit + layers_above * right)
        assert mask[level].sum() == hi - lo + 1
        assert mask[level, lo : hi + 1].all()  # one contiguous run
        if lo > 0 and hi < n - 1:  # not clipped: the textbook 1 + depth·(k - 1)
            assert mask[level].sum() == 1 + layers_above * (k - 1)


def test_dense_layers_connect_everything_after_one_layer():
    mask = influence_1d(10, 3, 3, 4, dense=True)
    assert mask[:3].all() and mask[3].sum() == 1 and mask[3, 4]
    sparse = influence_1d(10, 3, 3, 4)
    assert sparse[2].sum() == 3 and sparse[0].sum() == 7


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize(
    "n,k,index",
    [(10, 3, 0), (10, 3, 9), (10, 3, 4), (11, 4, 5), (11, 4, 0), (6, 5, 5), (8, 1, 3), (4, 9, 1)],
)
def test_affected_outputs_are_the_nonzero_column_of_the_jacobian(n, k, index, dense):
    (layer,) = _ones_stack(n, k, 1, dense)
    x = torch.ones(1, 1, n, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda t: layer(t)[0, 0], x)[:, 0, 0]  # (n, n)
    expected = (jacobian[:, index] != 0).numpy()
    np.testing.assert_array_equal(affected_outputs_1d(n, k, index, dense=dense), expected)


def test_affected_outputs_and_influence_are_two_views_of_one_connection_pattern():
    n, k = 15, 4
    for i in range(n):  # input j reaches output i exactly when output i reads input j
        reads = influence_1d(n, k, 1, i)[0]
        for j in range(n):
            assert reads[j] == affected_outputs_1d(n, k, j)[i]


@pytest.mark.parametrize(
    "args",
    [
        (0, 3, 1, 0),
        (10, 0, 1, 0),
        (10, 3, -1, 0),
        (10, 3, 1, 10),
        (10, 3, 1, -1),
        (10.0, 3, 1, 0),
        (2000, 3, 1, 0),
        (10, 3, 100, 0),
        (10, 64, 1, 0),
        (True, 3, 1, 0),
    ],
)
def test_influence_refuses_bad_sizes(args):
    with pytest.raises(ConvConfigError):
        influence_1d(*args)


@pytest.mark.parametrize(
    "args", [(0, 3, 0), (10, 0, 0), (10, 3, 10), (10, 3, -1), (10, 3, 1.0), (10, 64, 0)]
)
def test_affected_outputs_refuse_bad_sizes(args):
    with pytest.raises(ConvConfigError):
        affected_outputs_1d(*args)


# --- a locally connected layer


def _conv(c_in: int, c_out: int, k: int, seed: int = 0) -> nn.Conv2d:
    conv = nn.utils.skip_init(nn.Conv2d, c_in, c_out, k, padding=k // 2)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=_generator(seed)))
        conv.bias.copy_(torch.randn(c_out, generator=_generator(seed + 1)))
    return conv


@pytest.mark.parametrize("c_in,c_out,k,h,w", [(3, 8, 3, 9, 7), (1, 2, 5, 6, 11), (2, 3, 1, 4, 4)])
def test_the_same_kernel_at_every_position_is_a_convolution(c_in, c_out, k, h, w):
    conv = _conv(c_in, c_out, k, seed=k)
    layer = LocallyConnected2d(c_in, c_out, k, h, w)
    with torch.no_grad():  # copy the conv's bank into every position by hand
        layer.weight.copy_(conv.weight.reshape(c_out, -1).expand(h * w, -1, -1))
        layer.bias.copy_(conv.bias.expand(h * w, -1))
    x = torch.rand(2, c_in, h, w, generator=_generator(5))
    expected = conv(x)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        LocallyConnected2d.from_conv(conv, h, w)(x), expected, atol=1e-5, rtol=0
    )


def test_each_position_uses_its_own_kernels_in_row_major_order():
    c_in, c_out, k, h, w = 2, 3, 3, 5, 6
    layer = LocallyConnected2d(c_in, c_out, k, h, w, seed=4)
    x = torch.rand(1, c_in, h, w, generator=_generator(6))
    with torch.no_grad():
        out = layer(x)
    padded = np.pad(x[0].double().numpy(), ((0, 0), (1, 1), (1, 1)))  # (C_in, H+2, W+2)
    weight = layer.weight.detach().double().numpy().reshape(h * w, c_out, c_in, k, k)
    bias = layer.bias.detach().double().numpy()
    for r in range(h):
        for c in range(w):
            patch = padded[:, r : r + k, c : c + k]  # (C_in, k, k) under the window at (r, c)
            p = r * w + c
            for o in range(c_out):
                expected = (weight[p, o] * patch).sum() + bias[p, o]
                assert float(out[0, o, r, c]) == pytest.approx(expected, abs=1e-5)


def test_locally_connected_layers_are_seeded_and_leave_the_global_rng_alone():
    state = torch.get_rng_state()
    a, b = LocallyConnected2d(3, 4, 3, 8, 8, seed=1), LocallyConnected2d(3, 4, 3, 8, 8, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(a.weight, b.weight)
    assert not torch.equal(a.weight, LocallyConnected2d(3, 4, 3, 8, 8, seed=2).weight)
    bound = 1 / (3 * 9) ** 0.5
    assert a.weight.abs().max() <= bound and a.weight.std() > bound / 3
    assert LocallyConnected2d(3, 4, 3, 8, 8, bias=False).bias is None


@pytest.mark.parametrize("h,w,c_in,c_out,k", [(5, 7, 1, 1, 3), (16, 16, 3, 8, 5), (9, 4, 2, 3, 1)])
def test_parameter_counts_equal_the_closed_forms(h, w, c_in, c_out, k):
    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    closed = layer_costs.locally_connected(h, w, c_in, c_out, k)
    layer = LocallyConnected2d(c_in, c_out, k, h, w)
    assert count(layer) == closed.parameters
    assert layer.weight.numel() == closed.weights and layer.bias.numel() == closed.biases
    rows = {(r.size, r.kind): r.parameters for r in time_layers([h], c_in, c_out, k, repeat=1)}
    square = layer_costs.locally_connected(h, h, c_in, c_out, k)  # time_layers: square inputs
    assert rows[(h, "locally connected")] == square.parameters
    assert rows[(h, "convolution")] == layer_costs.conv2d(h, h, c_in, c_out, k).parameters
    assert rows[(h, "dense")] == layer_costs.dense(h * h * c_in, h * h * c_out).parameters


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((3, 4, 2, 8, 8), {}),
        ((0, 4, 3, 8, 8), {}),
        ((3, 4, 3, 0, 8), {}),
        ((3, 4, 3, 8, 129), {}),
        ((3, 4, 3, 8, 8), dict(seed=-1)),
        ((64, 64, 31, 128, 128), {}),
    ],
)
def test_locally_connected_refuses_bad_settings(args, kwargs):
    with pytest.raises(ConvConfigError):
        LocallyConnected2d(*args, **kwargs)


def test_locally_connected_refuses_inputs_of_another_shape():
    layer = LocallyConnected2d(3, 4, 3, 8, 8)
    for shape in [(3, 8, 8), (1, 3, 8, 9), (1, 1, 8, 8)]:
        with pytest.raises(ConvConfigError, match="built for"):
            layer(torch.zeros(shape))


# --- timing the three layers


def test_time_layers_measures_what_fits_and_explains_what_does_not():
    state = torch.get_rng_state()
    rows = time_layers([4, 64], repeat=2)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(isinstance(r, TimingRow) for r in rows)
    assert [(r.size, r.kind) for r in rows] == [(s, kind) for s in (4, 64) for kind in KINDS]
    dense_64 = rows[3]
    assert 4 * dense_64.parameters > WEIGHT_BUDGET
    assert dense_64.seconds is None and dense_64.note == "would need 1.6 GB of weights"
    assert dense_64.note_gb == pytest.approx(4 * dense_64.parameters / 1e9)  # the note's number
    for row in rows[:3] + rows[4:]:
        assert row.seconds is not None and row.seconds > 0 and row.note == ""
        assert row.note_gb is None
    conv_params = {r.parameters for r in rows if r.kind == "convolution"}
    assert conv_params == {3 * 8 * 9 + 8}  # sharing: independent of the input size
    local = [r.parameters for r in rows if r.kind == "locally connected"]
    assert local[1] == local[0] * (64 * 64) // (4 * 4)  # grows with the number of positions


@pytest.mark.parametrize(
    "args,kwargs",
    [
        (([],), {}),
        (([129],), {}),
        (([0],), {}),
        (("8",), {}),
        ((8,), {}),
        (([8] * 9,), {}),
        (([8],), dict(k=2)),
        (([8],), dict(k=9)),
        (([8],), dict(repeat=0)),
        (([8],), dict(c_in=0)),
        (([8.0],), {}),
    ],
)
def test_time_layers_refuses_bad_settings(args, kwargs):
    with pytest.raises(ConvConfigError):
        time_layers(*args, **kwargs)


def _rows(kind: str, values: dict[int, float | None]) -> list[TimingRow]:
    return [TimingRow(s, kind, v, 1, "" if v else "not built") for s, v in values.items()]


def test_growth_exponent_recovers_power_laws_in_the_pixel_count():
    sides = [8, 16, 32, 64]
    linear = _rows("convolution", {s: 3e-6 * s**2 for s in sides})
    square = _rows("dense", {s: 1e-9 * s**4 for s in sides})
    assert growth_exponent(linear + square, "convolution") == pytest.approx(1.0)
    assert growth_exponent(linear + square, "dense") == pytest.approx(2.0)
    # a row not built is left out; one size or none left: nothing to fit
    partial = _rows("dense", {8: 1e-5, 16: 1.6e-4, 32: None})
    assert growth_exponent(partial, "dense") == pytest.approx(2.0)
    assert growth_exponent(_rows("dense", {8: 1.0, 16: None}), "dense") is None
    assert growth_exponent(linear, "dense") is None
    constant = [TimingRow(s, "convolution", 1.0, 224, "") for s in sides]
    assert growth_exponent(constant, "convolution", "parameters") == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ConvConfigError, match="field"):
        growth_exponent(linear, "convolution", "weights")
