"""AlexNet and VGG: the single-path networks, laid out as torchvision lays them out.

Plain stacks of convolution, ReLU and max pooling followed by three fully connected layers. The
module names and order match torchvision's `alexnet` and `vgg16`, so parameter counts (and state
dicts) agree with the reference implementations.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.architectures.init import default_init_


class AlexNet(nn.Module):
    """Five convolutions (11×11 stride 4 first) and three dense layers, ReLU throughout."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 256, 6, 6) at 224×224
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # (B, 9216)
        return self.classifier(x)


# VGG configurations: numbers are conv widths (3×3, padding 1), "M" a 2×2 max pool of stride 2
CFGS: dict[str, list[int | str]] = {
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """Return VGG's feature extractor for one configuration list."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A stack of 3×3 convolutions in five stages, then three dense layers."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 512, 7, 7) at 224×224
        x = self.avgpool(x)
        x = torch.flatten(x, 1)  # (B, 25088)
        return self.classifier(x)


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """torchvision's scheme: torch's default for AlexNet; He-normal convs, N(0, 0.01) dense for VGG.

    With a generator every layer is redrawn from it (the global random state is left alone).
    """
    if generator is not None:
        default_init_(model, generator)
    if not isinstance(model, VGG):
        return
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(
                m.weight, mode="fan_out", nonlinearity="relu", generator=generator
            )
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01, generator=generator)
            nn.init.constant_(m.bias, 0)


def alexnet(num_classes: int = 1000) -> AlexNet:
    """AlexNet from Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
    Convolutional Neural Networks" (NeurIPS 2012), in the one-GPU form of "One weird trick for
    parallelizing convolutional neural networks" (Krizhevsky 2014) that torchvision uses."""
    return AlexNet(num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D) from Simonyan & Zisserman, "Very Deep Convolutional Networks for
    Large-Scale Image Recognition" (ICLR 2015)."""
    return VGG(make_layers(CFGS["D"]), num_classes)
