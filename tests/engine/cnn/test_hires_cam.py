"""HiResCAM against two references that use no autograd of its own making.

1. Euler's theorem: after the CAM layer A come only max pool, flatten and a linear layer, all
   piecewise linear and positively homogeneous of degree 1 in A, so Σ_{c,i,j} ∂z_k/∂A ⊙ A
   = z_k − b_k (the logit minus the classifier's bias for class k).
2. Brute force: the linear head's products w_k ⊙ flatten(pool(A)), laid back out as maps (what
   the page's "evidence maps" show) and summed over channels, equal the HiResCAM map summed over
   each 2^p × 2^p pooling block (the gradient of a max pool reaches only each window's winner).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.cnn import (
    CLASSES,
    CNNConfig,
    CNNError,
    SmallCNN,
    evidence,
    grad_cam,
    hires_cam,
    hires_cam_layer,
    load,
    render,
)

ASSET = "assets/small_cnn.safetensors"
RENDER_SEED = 5150  # the trained-CNN page's drawn examples (ui.cnn.overview_inputs.RENDER_SEED)


@pytest.fixture(scope="module")
def shipped() -> SmallCNN:
    return load(ASSET)[0]


def _drawn(cls: str, number: int = 0, side: int = 64) -> torch.Tensor:
    rng = np.random.default_rng([RENDER_SEED, CLASSES.index(cls), number])
    return torch.from_numpy(render(cls, rng, side)).permute(2, 0, 1).contiguous()


def _brute_force(model: SmallCNN, x: torch.Tensor, k: int) -> tuple[torch.Tensor, float, float]:
    """Return (channel-summed w_k ⊙ flatten laid out as maps, logit, bias), autograd off."""
    with torch.no_grad():
        acts = {a.name: a.tensor[0] for a in model.forward_all(x[None])}
    names = list(acts)
    before_flat = acts[names[names.index("flatten") - 1]]  # (C, h, w)
    products = model.fc.weight[k] * acts["flatten"]  # (F,)
    maps = products.reshape(before_flat.shape).sum(0)  # (h, w)
    return maps, float(acts["logits"][k]), float(model.fc.bias[k])


def _block_sums(cam: torch.Tensor, factor: int) -> torch.Tensor:
    """Return cam (h, w) summed over factor × factor blocks (the pooling windows)."""
    if factor == 1:
        return cam
    return F.avg_pool2d(cam[None, None], factor)[0, 0] * factor**2


@pytest.mark.parametrize("cls", ["star", "triangle", "ring", "cross"])
def test_shipped_model_sums_to_logit_minus_bias(shipped, cls):
    x = _drawn(cls)
    for k in range(len(shipped.config.classes)):
        cam = hires_cam_layer(shipped, x, k)
        maps, logit, bias = _brute_force(shipped, x, k)
        assert cam.shape == (32, 32)
        assert float(cam.double().sum()) == pytest.approx(logit - bias, abs=2e-4)
        # pool2 halves relu2_2: 2×2 block sums of HiResCAM are the evidence maps' channel sums.
        assert torch.allclose(_block_sums(cam, 2), maps, atol=1e-5)


CONFIGS = [
    CNNConfig(classes=("circle", "ring", "dots"), depth_blocks=2, filters=4, input_size=16),
    CNNConfig(depth_blocks=1, filters=3, kernel=5, pool=False, input_size=12),
    CNNConfig(depth_blocks=2, filters=5, kernel=1, relu=False, input_size=16),
    CNNConfig(depth_blocks=3, filters=2, pool=False, relu=False, input_size=8),
    CNNConfig(depth_blocks=3, filters=6, kernel=3, input_size=24),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_random_networks_in_float64(config, seed):
    model = SmallCNN(config, seed=seed).double().eval().requires_grad_(False)
    with torch.no_grad():  # random biases too: the identity must subtract the right one
        g = torch.Generator().manual_seed(seed)
        for conv in model.convs.values():
            conv.bias.copy_(0.3 * torch.randn(conv.bias.shape, generator=g))
        model.fc.bias.copy_(torch.randn(model.fc.bias.shape, generator=g))
    side = config.input_size
    x = torch.rand(3, side, side, generator=torch.Generator().manual_seed(seed + 7)).double()
    # Without ReLU the CAM layer is the last convolution (signed); with it, the last ReLU.
    expected_layer = f"{'relu' if config.relu else 'conv'}{config.depth_blocks}_2"
    assert model.cam_layer == expected_layer
    pooled = 2 if config.pool else 1  # the last block's pool sits between A and flatten
    final = side >> config.depth_blocks if config.pool else side
    for k in range(len(config.classes)):
        cam = hires_cam_layer(model, x, k)
        maps, logit, bias = _brute_force(model, x, k)
        assert cam.shape == (final * pooled, final * pooled)
        assert float(cam.sum()) == pytest.approx(logit - bias, abs=1e-10)
        assert torch.allclose(_block_sums(cam, pooled), maps, atol=1e-10)


def test_zero_where_the_maps_are_zero(shipped):
    x = _drawn("star")
    with torch.no_grad():
        acts = {a.name: a.tensor[0] for a in shipped.forward_all(x[None])}
    dead = (acts[shipped.cam_layer] == 0).all(0)  # (h, w): every channel switched off
    assert dead.any()
    for k in range(len(shipped.config.classes)):
        assert (hires_cam_layer(shipped, x, k)[dead] == 0).all()


def test_upsampled_map_repeats_each_unit_over_its_block(shipped):
    x = _drawn("ring", 2)
    cam, big = hires_cam_layer(shipped, x, 3), hires_cam(shipped, x, 3)
    assert big.shape == (64, 64)
    assert torch.equal(big, cam.repeat_interleave(2, 0).repeat_interleave(2, 1))


def test_where_grad_cam_is_blank_hires_cam_is_not(shipped):
    """The page's default picture: Grad-CAM cancels to zero, HiResCAM keeps the evidence."""
    x = _drawn("star")
    with torch.no_grad():
        k = int(shipped(x[None])[0].argmax())
    cam = hires_cam_layer(shipped, x, k)
    assert float(cam.max()) > 0 and float(cam.min()) < 0  # evidence for and against
    assert float(grad_cam(shipped, x, k).max()) in (0.0, 1.0)  # normalised, or all zero


def test_person_errors(shipped):
    with pytest.raises(CNNError, match="class index"):
        hires_cam_layer(shipped, _drawn("star"), 10)
    with pytest.raises(CNNError, match="must be"):
        hires_cam(shipped, torch.zeros(3, 32, 32), 0)


def test_evidence_sums_a_map_by_sign_and_finds_its_strongest_unit():
    m = np.array([[0.5, -2.0, 0.0], [1.25, 0.25, -0.5]], dtype=np.float32)
    e = evidence(m)
    assert e.for_ == 2.0 and e.against == -2.5 and e.total == -0.5  # exact in binary
    assert e.strongest == (0, 1) and e.strongest_value == -2.0  # largest magnitude, negative
    assert evidence(torch.from_numpy(-m)).strongest_value == 2.0
    with pytest.raises(CNNError, match="non-empty"):
        evidence(np.zeros(4))
