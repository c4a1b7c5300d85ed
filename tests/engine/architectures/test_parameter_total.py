"""parameter_total against the real (materialised) networks and published counts."""

import pytest

from engine.architectures import build, parameter_total


@pytest.mark.parametrize("name", ["alexnet", "resnet18"])
def test_parameter_total_equals_the_materialised_network(name):
    real = build(name)  # real weights on the CPU, not the meta device
    assert parameter_total(name) == sum(p.numel() for p in real.parameters())


@pytest.mark.parametrize(
    ("name", "published"),
    [("alexnet", 61_100_840), ("vgg16", 138_357_544), ("resnet50", 25_557_032)],
)
def test_parameter_total_matches_torchvision(name, published):
    assert parameter_total(name) == published  # torchvision's model cards
