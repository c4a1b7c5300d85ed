"""The plain-versus-residual experiment: gradients, identity blocks, seeding and training."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.cnn import (
    ARMS,
    BATCH,
    Block,
    DegradationError,
    ema,
    gradient_norms,
    make_stack,
    spirals,
    train_curves,
)


def test_spirals_are_seeded_balanced_and_in_the_unit_disc():
    x, y = spirals(4000, seed=3)
    x2, y2 = spirals(4000, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, spirals(4000, seed=4)[0])
    assert x.shape == (4000, 2) and y.shape == (4000,)
    counts = torch.bincount(y, minlength=ARMS).float()
    assert (counts / 4000 - 1 / ARMS).abs().max() < 0.03
    assert float(x.norm(dim=1).max()) < 1.3


def test_stack_depth_counts_weight_layers():
    for depth in (4, 20, 56):
        model = make_stack(depth, residual=True)
        assert len(model.weight_layers()) == depth
        assert len(model.blocks) == (depth - 2) // 2


def test_gradient_norms_equal_autograd_on_the_same_network():
    model = make_stack(20, residual=False, seed=5)
    x, y = spirals(BATCH, seed=5)
    F.cross_entropy(model(x), y).backward()
    want = [float(m.weight.grad.norm()) for _, m in model.weight_layers()]
    np.testing.assert_allclose(gradient_norms(20, False, seed=5), want, rtol=1e-4)  # float32


def test_gradient_norms_equal_central_differences_in_float64():
    depth, width, seed = 4, 3, 2
    got = gradient_norms(depth, True, seed=seed, width=width)
    model = make_stack(depth, True, seed=seed, width=width).double()
    x, y = spirals(BATCH, seed=seed)
    x = x.double()
    eps = 1e-6
    with torch.no_grad():
        _central_differences(model, x, y, eps, got)


def _central_differences(model, x, y, eps, got):
    for i, (_, layer) in enumerate(model.weight_layers()):
        w = layer.weight.data
        grad = torch.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            old = float(w[idx])
            w[idx] = old + eps
            up = float(F.cross_entropy(model(x), y))
            w[idx] = old - eps
            down = float(F.cross_entropy(model(x), y))
            w[idx] = old
            grad[idx] = (up - down) / (2 * eps)
        assert float(grad.norm()) == pytest.approx(got[i], rel=1e-3), i


def test_residual_block_with_a_zeroed_branch_is_the_identity():
    block = Block(8, residual=True)
    with torch.no_grad():
        block.bn2.weight.zero_()  # F(x) = 0·normalised + 0
    x = torch.rand(16, 8)  # non-negative: every block's input comes out of a ReLU
    assert torch.equal(block(x), x)
    plain = Block(8, residual=False)
    with torch.no_grad():
        plain.bn2.weight.zero_()
    assert torch.equal(plain(x), torch.zeros_like(x))  # a plain block cannot fall back to x


def test_a_deep_residual_stack_can_copy_a_shallow_one():
    shallow = make_stack(4, residual=True, seed=1)
    deep = make_stack(20, residual=True, seed=1)
    deep.stem.load_state_dict(shallow.stem.state_dict())
    deep.bn.load_state_dict(shallow.bn.state_dict())
    deep.head.load_state_dict(shallow.head.state_dict())
    deep.blocks[0].load_state_dict(shallow.blocks[0].state_dict())
    with torch.no_grad():
        for block in deep.blocks[1:]:
            block.bn2.weight.zero_()
    x, _ = spirals(64, seed=1)
    torch.testing.assert_close(deep(x), shallow(x))


def test_plain_gradients_spread_over_orders_of_magnitude_residual_ones_do_not():
    plain = gradient_norms(56, False)
    residual = gradient_norms(56, True)
    assert plain.shape == residual.shape == (56,)
    hidden_plain, hidden_res = plain[:-1], residual[:-1]  # the small head is on its own scale
    assert hidden_plain.max() / hidden_plain.min() > 1000
    assert hidden_res.max() / hidden_res.min() < 100
    assert plain[0] > 1000 * plain[-2]  # the first layers get by far the largest gradients


def test_seeded_and_leaves_global_state_alone():
    rng = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    a = gradient_norms(8, True, seed=7)
    c1 = train_curves((4,), steps=5, seed=7)
    c2 = train_curves((4,), steps=5, seed=7)
    assert torch.equal(rng, torch.random.get_rng_state())
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(a, gradient_norms(8, True, seed=7))
    assert not np.allclose(a, gradient_norms(8, True, seed=8))
    for name in c1.labels:
        np.testing.assert_array_equal(c1.loss[name], c2.loss[name])


def test_short_training_lowers_the_loss_and_reports_progress():
    seen = []
    curves = train_curves(
        (4, 4, 6), steps=80, seed=0, lr=0.05, progress=lambda f, m: seen.append(f)
    )
    assert curves.labels == ["plain-4", "residual-4", "plain-6", "residual-6"]
    for name in curves.labels:
        assert curves.loss[name].shape == (80,)
        assert curves.loss[name][:5].mean() == pytest.approx(math.log(ARMS), abs=0.1)  # chance
        assert curves.smooth[name][-1] < curves.smooth[name][0] - 0.2
        assert curves.final_loss[name] < math.log(ARMS) - 0.2
        assert curves.accuracy[name] > 1 / ARMS + 0.1
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_stops_before_the_next_step_once_asked():
    asked = []

    def should_stop() -> bool:
        asked.append(len(asked))
        return len(asked) > 30  # asked before every step: 30 steps run, the 31st never starts

    seen = []
    assert (
        train_curves((4,), steps=25, should_stop=should_stop, progress=lambda f, m: seen.append(m))
        is None
    )
    assert len(asked) == 31  # 25 steps of plain-4, then 5 of residual-4, then stopped
    assert seen == ["plain-4: step 25/25"]  # no later progress, and never "done"
    assert train_curves((4,), steps=5, should_stop=lambda: False) is not None


def test_ema_by_hand():
    np.testing.assert_allclose(ema(np.array([2.0, 2.0, 2.0])), [2.0, 2.0, 2.0])
    out = ema(np.array([1.0, 3.0]), decay=0.5)
    assert out[1] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"depths": (5,)}, "even"),
        ({"depths": (2,)}, "from 4"),
        ({"depths": (400,)}, "to 200"),
        ({"depths": ()}, "at least one"),
        ({"steps": 0}, "Steps"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": True}, "learning rate"),
        ({"width": 1}, "Width"),
        ({"seed": -1}, "Seed"),
        ({"depths": (20.0,)}, "whole number"),
    ],
)
def test_bad_settings_say_what_to_change(kwargs, match):
    with pytest.raises(DegradationError, match=match):
        train_curves(**{"steps": 1, **kwargs})
