"""The classic networks against their reference implementations' published parameter counts."""

import pytest
import torch
from torch import nn

from engine.architectures import ARCHITECTURES, UnknownArchitectureError, build
from engine.architectures import inception as arch_inception

# Parameter counts of the reference implementations: torchvision's model documentation tables
# (GoogLeNet and Inception v3 there count the model without auxiliary heads), and for SE-ResNet-50
# the count of Cadene's pretrainedmodels / timm's legacy_seresnet50.
PUBLISHED_PARAMS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "inception_v3": 23_834_568,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "resnext50_32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "se_resnet50": 28_088_024,
}


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def nets() -> dict[str, nn.Module]:
    return {name: build(name) for name in ARCHITECTURES}


def test_every_architecture_has_a_published_count():
    assert set(ARCHITECTURES) == set(PUBLISHED_PARAMS)


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMS))
def test_parameter_count_matches_reference(nets, name):
    assert _n_params(nets[name]) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMS))
def test_meta_build_is_shape_only_with_the_same_count(name):
    model = build(name, meta=True)
    assert all(p.is_meta for p in model.parameters())
    assert _n_params(model) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", list(PUBLISHED_PARAMS))
def test_forward_gives_1000_logits(nets, name):
    side = ARCHITECTURES[name].input_size
    model = nets[name].eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(0)))
    assert logits.shape == (1, 1000)
    assert torch.isfinite(logits).all()


def test_inception_v3_with_torchvisions_aux_head_gives_the_with_aux_count(nets):
    # torchvision's Inception v3 with aux_logits=True has 27,161,264 parameters. Its InceptionAux
    # (on Mixed_6e's 768 channels) is a 1×1 conv to 128, a 5×5 conv to 768 and a dense layer;
    # adding one to our aux-free net must land on that published total.
    aux = nn.ModuleList(
        [
            arch_inception.BasicConv2d(768, 128, kernel_size=1),
            arch_inception.BasicConv2d(128, 768, kernel_size=5),
            nn.Linear(768, 1000),
        ]
    )
    assert _n_params(nets["inception_v3"]) + _n_params(aux) == 27_161_264


def test_googlenet_with_torchvisions_two_aux_heads_gives_the_with_aux_count(nets):
    # torchvision's GoogLeNet with aux_logits=True has 13,004,888 parameters; each InceptionAux is
    # a 1×1 conv to 128, then dense 2048→1024 and 1024→1000, on inception4a (512 channels) and
    # inception4d (528 channels).
    def aux(in_channels: int) -> nn.Module:
        return nn.ModuleList(
            [
                arch_inception.BasicConv2d(in_channels, 128, kernel_size=1),
                nn.Linear(2048, 1024),
                nn.Linear(1024, 1000),
            ]
        )

    total = _n_params(nets["googlenet"]) + _n_params(aux(512)) + _n_params(aux(528))
    assert total == 13_004_888


@pytest.mark.parametrize(
    "name,keys",
    [
        ("resnet50", ["conv1.weight", "layer1.0.downsample.0.weight", "layer4.2.bn3.bias"]),
        ("inception_v3", ["Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.bn.running_var"]),
        ("densenet121", ["features.denseblock4.denselayer16.conv2.weight", "features.norm5.bias"]),
        ("se_resnet50", ["layer0.conv1.weight", "layer4.2.se_module.fc2.bias", "last_linear.bias"]),
        ("googlenet", ["inception5b.branch4.1.conv.weight", "fc.weight"]),
        ("vgg16", ["features.28.weight", "classifier.6.bias"]),
    ],
)
def test_state_dict_keys_follow_the_reference_layout(nets, name, keys):
    state = nets[name].state_dict()
    assert all(key in state for key in keys)


def test_pools_are_modules_in_the_inception_blocks(nets):
    # torchvision pools functionally inside Mixed_* blocks; here they are addressable modules
    pools = [n for n, m in nets["inception_v3"].named_modules() if isinstance(m, nn.AvgPool2d)]
    assert "Mixed_5b.avg_pool" in pools and "Mixed_7c.avg_pool" in pools


def test_build_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    a, b, c = build("resnet18", seed=3), build("resnet18", seed=3), build("resnet18", seed=4)
    assert torch.equal(before, torch.random.get_rng_state())
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_build_uses_the_reference_initialisation():
    # torchvision's ResNet draws convs from He-normal with fan_out: std sqrt(2 / (64·7·7))
    model = build("resnet18", seed=0)
    assert model.conv1.weight.std().item() == pytest.approx((2 / (64 * 49)) ** 0.5, rel=0.05)
    assert torch.equal(model.bn1.running_var, torch.ones(64))


@pytest.mark.parametrize("bad", ["resnet", "ResNet50", "", None, 50])
def test_unknown_name_lists_the_valid_ones(bad):
    with pytest.raises(UnknownArchitectureError) as err:
        build(bad)
    assert isinstance(err.value, ValueError)
    assert "resnet50" in str(err.value) and "se_resnet50" in str(err.value)


def test_info_names_the_papers():
    for name, info in ARCHITECTURES.items():
        assert info.name == name
        assert 2012 <= info.year <= 2017 and info.paper and info.idea
