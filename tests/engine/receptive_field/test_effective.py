"""Effective receptive fields (gradient of one unit w.r.t. the input) and layer outputs, against
autograd, the theoretical field and hand-run stacks."""

import copy
import math

import pytest
import torch
from torch import nn

from engine.architectures import build
from engine.receptive_field import (
    ReceptiveFieldError,
    effective_receptive_field,
    erf_growth,
    receptive_field,
    stack_model,
    stack_rf,
)
from tests.engine.receptive_field.checks import row_named, theory

# --- effective receptive field


def test_erf_equals_autograd_on_an_eval_copy():
    model = build("resnet18")  # training mode, as built
    layer, unit, size = "layer2.0.conv1", (3, 4), 64
    erf = effective_receptive_field(model, unit, size, layer=layer, seed=5)
    # reference: an eval-mode copy, a hook to grab the layer's output, plain autograd
    ref = copy.deepcopy(model).eval()
    grabbed = {}
    ref.get_submodule(layer).register_forward_hook(lambda m, a, out: grabbed.update(out=out))
    x = torch.rand((1, 3, size, size), generator=torch.Generator().manual_seed(5))
    x.requires_grad_(True)
    ref(x)
    (grad,) = torch.autograd.grad(grabbed["out"][0, :, unit[0], unit[1]].sum(), x)
    expected = grad[0].abs().sum(0)
    assert erf.shape == (size, size)
    torch.testing.assert_close(erf, expected)
    assert erf.sum().item() == pytest.approx(expected.sum().item(), rel=1e-6)


def test_erf_leaves_the_model_untouched_and_stays_inside_the_theoretical_field():
    model = build("resnet18")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    erf = effective_receptive_field(model, (2, 2), 96, layer="layer1.1.conv2")
    assert model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    row = row_named(receptive_field(model, 96), "layer1.1.conv2")
    lo, hi = theory(row, 2)
    nonzero = erf.sum(1).nonzero().flatten()
    assert max(lo, 0) <= nonzero[0] and nonzero[-1] <= hi


def test_erf_of_a_stack_covers_exactly_its_theoretical_field():
    layers = [{"kind": "conv", "k": 3, "p": 1}] * 4
    erf = effective_receptive_field(layers, (10, 10), 21, seed=1)  # r = 9 around pixel 10
    rows = erf.sum(1).nonzero().flatten()
    assert (rows[0].item(), rows[-1].item()) == (6, 14)


def test_erf_default_layer_and_errors():
    model = build("resnet18")
    erf = effective_receptive_field(model, (0, 0), 64)  # last layer with > 1 position
    assert erf.shape == (64, 64) and erf.sum() > 0
    with pytest.raises(ReceptiveFieldError, match="No spatial layer"):
        effective_receptive_field(model, (0, 0), 64, layer="layer9")
    with pytest.raises(ReceptiveFieldError, match="unit row"):
        effective_receptive_field(model, (2, 0), 64)  # layer4 is 2×2 at 64
    with pytest.raises(ReceptiveFieldError, match="channel"):
        effective_receptive_field(model, (0, 0), image=torch.rand(1, 64, 64))
    with pytest.raises(ReceptiveFieldError, match="image"):
        effective_receptive_field([{"kind": "conv", "k": 3}], (0, 0), image="photo.jpg")
    with pytest.raises(ReceptiveFieldError, match="pair"):
        effective_receptive_field(model, 3, 64)


def test_erf_spread_grows_like_sqrt_depth():
    # Luo et al. 2016: the theoretical field grows like n, the effective one like √n. From depth
    # 4 to 16 the theoretical field goes 9 → 33 (×3.7); √4 = 2.
    growth = erf_growth([4, 16], k=3, channels=16, seed=0)
    assert growth["theoretical_rf"] == [9, 33]
    ratio = growth["erf_std"][1] / growth["erf_std"][0]
    assert abs(ratio - 2) < abs(ratio - 4)
    assert ratio == pytest.approx(2, rel=0.25)
    assert all(e < u for e, u in zip(growth["erf_std"], growth["uniform_std"], strict=True))
    assert growth["uniform_std"][0] == pytest.approx(math.sqrt((81 - 1) / 12))


@pytest.mark.parametrize(
    "kwargs,match",
    [({"depths": []}, "depths"), ({"depths": [2], "k": 4}, "odd"), ({"depths": [999]}, "depth")],
)
def test_erf_growth_rejects_bad_settings(kwargs, match):
    with pytest.raises(ReceptiveFieldError, match=match):
        erf_growth(**kwargs)


def test_erf_layer_lookup_follows_a_changed_network():
    model = stack_model([{"kind": "conv", "k": 3, "p": 1}] * 2, seed=0)
    before = effective_receptive_field(model, (8, 8), 17, layer="conv2")  # r = 5
    # one more conv in front: conv2 is now the third conv call, and sees r = 7. A stale lookup
    # would stop at the second call (r = 5).
    model.conv1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 16, 3, padding=1))
    after = effective_receptive_field(model, (8, 8), 17, layer="conv2")
    assert (before.sum(1) > 0).sum() == 5 and (after.sum(1) > 0).sum() == 7


class _FunctionalSE(nn.Module):
    """Squeeze-and-excitation written two common ways: mean + 1×1 conv, and mean + Linear."""

    def __init__(self, linear: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.linear = linear
        self.excite = nn.Linear(4, 4) if linear else nn.Conv2d(4, 4, 1)
        self.head = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        if self.linear:
            gate = self.excite(x.mean((2, 3))).view(x.shape[0], -1, 1, 1)  # (B, C, 1, 1)
        else:
            gate = self.excite(x.mean((2, 3), keepdim=True))
        return self.head(x * torch.sigmoid(gate))


@pytest.mark.parametrize("linear", [False, True])
def test_functional_se_gates_give_global_context_but_keep_the_local_field(linear):
    rows = receptive_field(_FunctionalSE(linear), 16)
    head = rows[-1]
    assert head.name == "head" and head.size == 5 and head.global_context
    assert not rows[0].global_context


def test_layer_output_matches_running_the_stack_by_hand():
    from engine.receptive_field import layer_output

    layers = [
        dict(kind="conv", k=3, s=1, p=1),
        dict(kind="pool", k=2, s=2),
        dict(kind="conv", k=5, s=2, p=0, d=1),
    ]
    stack = stack_model(layers, in_channels=1, channels=4, seed=3)
    image = torch.rand(20, 20, generator=torch.Generator().manual_seed(0))
    x = image[None, None]
    conv1 = torch.relu(
        torch.nn.functional.conv2d(x, stack.conv1.weight, stack.conv1.bias, padding=1)
    )
    pool2 = torch.nn.functional.max_pool2d(conv1, 2, 2)
    conv3 = torch.relu(
        torch.nn.functional.conv2d(pool2, stack.conv3.weight, stack.conv3.bias, stride=2)
    )
    torch.testing.assert_close(layer_output(stack, image, "conv1"), conv1[0])
    torch.testing.assert_close(layer_output(stack, image, "pool2"), pool2[0])
    torch.testing.assert_close(layer_output(stack, image, "conv3"), conv3[0])
    # The output grid is the one stack_rf predicts.
    assert layer_output(stack, image, "conv3").shape[-2:] == stack_rf(layers, 20)[-1].out_shape
    with pytest.raises(ReceptiveFieldError, match="No layer"):
        layer_output(stack, image, "conv9")
