"""Dropout, batch norm and layer norm against torch's own layers and NumPy statistics."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.pooling import NormDemo, PoolingError, batchnorm_demo, dropout_demo, layernorm_demo


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _torch_dropout_scale(p: float) -> float:
    """Return the factor nn.Dropout gives survivors, read off a map of ones."""
    layer = nn.Dropout(p).train()
    with torch.random.fork_rng():  # leave the global generator as it was
        torch.manual_seed(0)
        out = layer(torch.ones(10_000))
    return float(out[out != 0][0])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_scales_survivors_like_nn_dropout(p):
    fmap = _randn(16, 128, 128, seed=1) + 5.0  # no zeros to begin with
    out = dropout_demo(fmap, p, seed=3)
    dropped = out == 0
    # 262,144 cells: the binomial standard deviation of the fraction is below 0.001
    assert float(dropped.double().mean()) == pytest.approx(p, abs=0.005)
    torch.testing.assert_close(out[~dropped], fmap[~dropped] * _torch_dropout_scale(p))
    # the expected value is kept
    assert float(out.mean()) == pytest.approx(float(fmap.mean()), rel=0.01)


def test_dropout_evaluation_is_the_identity_as_in_nn_dropout():
    fmap = _randn(3, 20, 20)
    out = dropout_demo(fmap, 0.5, training=False)
    torch.testing.assert_close(out, nn.Dropout(0.5).eval()(fmap), rtol=0, atol=0)
    assert out is not fmap
    torch.testing.assert_close(dropout_demo(fmap, 0.0), fmap, rtol=0, atol=0)


def test_dropout_is_deterministic_per_seed_and_leaves_global_rng_alone():
    fmap = _randn(4, 32, 32) + 5.0
    state = torch.random.get_rng_state()
    first, again = dropout_demo(fmap, 0.3, seed=7), dropout_demo(fmap, 0.3, seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first, again)
    assert not torch.equal(first == 0, dropout_demo(fmap, 0.3, seed=8) == 0)
    assert dropout_demo(fmap[0], 0.3).shape == (32, 32)


@pytest.mark.parametrize("steps", [1, 3, 25])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_batchnorm_matches_nn_batchnorm2d(momentum, steps):
    maps = _randn(4, 3, 10, 12, seed=2) * torch.tensor([1.0, 3.0, 0.2])[:, None, None] + 2.0
    layer = nn.BatchNorm2d(3, momentum=momentum, affine=False).train()
    for _ in range(steps):
        train_out = layer(maps)
    layer.eval()
    eval_out = layer(maps)
    demo = batchnorm_demo(maps, momentum=momentum, steps=steps)
    assert isinstance(demo, NormDemo)
    torch.testing.assert_close(demo.train_out, train_out.detach())
    torch.testing.assert_close(demo.eval_out, eval_out.detach())
    torch.testing.assert_close(demo.running_mean, layer.running_mean)
    torch.testing.assert_close(demo.running_var, layer.running_var)
    # the share of the way from 0 to the batch mean, read off torch's running mean
    moved = float(layer.running_mean[0] / demo.batch_mean[0])
    assert demo.moved_fraction == pytest.approx(moved, rel=1e-4)


def test_default_momentum_is_torchs_and_is_what_the_demo_uses():
    from engine.pooling import BN_MOMENTUM

    assert nn.BatchNorm2d(1).momentum == BN_MOMENTUM
    maps = _randn(2, 1, 4, 4, seed=3) + 1.0
    demo = batchnorm_demo(maps)
    torch.testing.assert_close(demo.running_mean, BN_MOMENTUM * demo.batch_mean)
    assert demo.moved_fraction == pytest.approx(BN_MOMENTUM)


def test_batchnorm_statistics_before_and_after():
    maps = _randn(5, 2, 6, 7, seed=4) * 3.0 + 1.5
    demo = batchnorm_demo(maps, steps=2)
    values = maps.double().numpy().transpose(1, 0, 2, 3).reshape(2, -1)  # (C, B*H*W)
    np.testing.assert_allclose(demo.batch_mean.numpy(), values.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(demo.batch_var.numpy(), values.var(axis=1), rtol=1e-5)
    torch.testing.assert_close(demo.train_out_mean, torch.zeros(2), atol=1e-5, rtol=0)
    expected_var = demo.batch_var / (demo.batch_var + 1e-5)
    torch.testing.assert_close(demo.train_out_var, expected_var)
    after = demo.eval_out.double().numpy().transpose(1, 0, 2, 3).reshape(2, -1)
    np.testing.assert_allclose(demo.eval_out_mean.numpy(), after.mean(axis=1), atol=1e-5)
    np.testing.assert_allclose(demo.eval_out_var.numpy(), after.var(axis=1), rtol=1e-4)
    # two steps from (0, 1) with momentum 0.1: 19% of the way to the batch's statistics
    torch.testing.assert_close(demo.running_mean, 0.19 * demo.batch_mean)


def test_evaluation_approaches_training_after_many_steps():
    maps = _randn(3, 2, 8, 8, seed=5) + 4.0
    few, many = batchnorm_demo(maps, steps=1), batchnorm_demo(maps, steps=400)
    gap_few = (few.eval_out - few.train_out).abs().max()
    gap_many = (many.eval_out - many.train_out).abs().max()
    assert gap_many < 0.05 < gap_few  # left over: running var is unbiased, the batch's is not


def test_layernorm_matches_f_layer_norm():
    fmap = _randn(6, 9, 11, seed=6) * 4.0 - 1.0
    expected = F.layer_norm(fmap, fmap.shape)
    torch.testing.assert_close(layernorm_demo(fmap), expected)
    constant = torch.full((2, 3, 3), 7.0)
    torch.testing.assert_close(layernorm_demo(constant), torch.zeros(2, 3, 3))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan"), "half"])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(PoolingError, match="p"):
        dropout_demo(_randn(2, 4, 4), p)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(momentum=0.0), "momentum"),
        (dict(momentum=1.5), "momentum"),
        (dict(steps=0), "steps"),
        (dict(steps=10_000), "steps"),
    ],
)
def test_batchnorm_rejects_bad_settings(kwargs, match):
    with pytest.raises(PoolingError, match=match):
        batchnorm_demo(_randn(2, 3, 4, 4), **kwargs)


def test_bad_shapes_are_rejected_with_messages():
    with pytest.raises(PoolingError, match="4-D"):
        batchnorm_demo(_randn(3, 4, 4))
    with pytest.raises(PoolingError, match="more than one value"):
        batchnorm_demo(_randn(1, 3, 1, 1))
    with pytest.raises(PoolingError, match="3-D"):
        layernorm_demo(_randn(4, 4))
    with pytest.raises(PoolingError, match="NaN"):
        dropout_demo(torch.tensor([[float("inf"), 0.0]]), 0.5)
    with pytest.raises(PoolingError, match="seed"):
        dropout_demo(_randn(2, 2), 0.5, seed=-1)


def test_survived_fraction_counts_by_hand():
    from engine.pooling import survived_fraction

    before = torch.tensor([[1.0, 0.0, 2.0, 3.0]])
    after = torch.tensor([[0.0, 0.0, 4.0, 6.0]])  # 2 of the 3 nonzero values survive
    assert survived_fraction(before, after) == pytest.approx(2 / 3)
    assert survived_fraction(torch.zeros(2, 2), torch.zeros(2, 2)) == 1.0
    fmap = _randn(3, 40, 40, seed=9).abs() + 0.1  # no zeros: the share is ≈ 1 − p
    assert survived_fraction(fmap, dropout_demo(fmap, 0.3, seed=1)) == pytest.approx(0.7, abs=0.03)
    with pytest.raises(PoolingError, match="same shape"):
        survived_fraction(fmap, fmap[:2])


def test_quarters_batch_is_the_four_corners_in_reading_order():
    from engine.pooling import quarters_batch

    maps = torch.arange(2 * 5 * 6, dtype=torch.float32).reshape(2, 5, 6)
    batch = quarters_batch(maps)
    assert batch.shape == (4, 2, 2, 3)
    expected = [maps[:, :2, :3], maps[:, :2, 3:6], maps[:, 2:4, :3], maps[:, 2:4, 3:6]]
    for got, want in zip(batch, expected, strict=True):
        torch.testing.assert_close(got, want)
    with pytest.raises(PoolingError, match="no quarters"):
        quarters_batch(torch.ones(1, 1, 4))


def test_eval_variance_claim_on_both_sides_of_the_band():
    from engine.pooling import NORMALISED_BAND, eval_variance_claim

    assert eval_variance_claim(1.0) == "close"
    assert eval_variance_claim(NORMALISED_BAND * 0.99) == "close"
    assert eval_variance_claim(NORMALISED_BAND * 1.01) == "far"
    assert eval_variance_claim(1 / NORMALISED_BAND * 1.01) == "close"
    assert eval_variance_claim(1 / NORMALISED_BAND * 0.99) == "far"
    with pytest.raises(PoolingError):
        eval_variance_claim(-0.1)


def test_one_step_leaves_eval_far_from_normalised_only_when_the_batch_variance_is():
    from engine.pooling import eval_variance_claim

    quiet = batchnorm_demo(0.1 * _randn(4, 1, 8, 8, seed=3))  # variance ≈ 0.01
    assert eval_variance_claim(float(quiet.eval_out_var[0])) == "far"
    loud = batchnorm_demo(_randn(4, 1, 8, 8, seed=3))  # variance ≈ 1 already
    assert eval_variance_claim(float(loud.eval_out_var[0])) == "close"
