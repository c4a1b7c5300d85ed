"""SE-ResNet: residual bottlenecks whose channels are re-weighted by a squeeze-and-excitation gate.

Laid out as the widely used port of Hu et al.'s Caffe models (Cadene's `pretrainedmodels`
`se_resnet50`, timm's `legacy_seresnet50`): the stride sits on the bottleneck's first 1×1
convolution, the stem's max pool rounds up (ceil_mode), and each SE module squeezes with a global
average pool and excites with two 1×1 convolutions with bias (reduction 16) and a sigmoid. The
final pool is adaptive (as in timm) rather than a fixed 7×7, so other input sizes work too.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from engine.architectures.init import default_init_


class SEModule(nn.Module):
    """Squeeze (global average) → excite (1×1 conv, ReLU, 1×1 conv, sigmoid) → scale channels."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1, padding=0)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1, padding=0)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        module_input = x  # (B, C, H, W)
        x = self.avg_pool(x)  # (B, C, 1, 1): one number per channel from the whole map
        x = self.sigmoid(self.fc2(self.relu(self.fc1(x))))  # (B, C, 1, 1) gates in (0, 1)
        return module_input * x


class SEResNetBottleneck(nn.Module):
    """ResNet bottleneck (stride on the first 1×1) with an SE gate before the addition."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        groups: int,
        reduction: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False, stride=stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = SEModule(planes * 4, reduction=reduction)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))  # (B, 4·planes, H/stride, W/stride)
        if self.downsample is not None:
            residual = self.downsample(x)
        out = self.se_module(out) + residual
        return self.relu(out)


class SENet(nn.Module):
    """layer0 (7×7 stem, max pool), four stages of SE bottlenecks, global pool, dense layer."""

    def __init__(
        self,
        layers: list[int],
        groups: int = 1,
        reduction: int = 16,
        inplanes: int = 64,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.layer0 = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, inplanes, 7, stride=2, padding=3, bias=False)),
                    ("bn1", nn.BatchNorm2d(inplanes)),
                    ("relu1", nn.ReLU(inplace=True)),
                    ("pool", nn.MaxPool2d(3, stride=2, ceil_mode=True)),
                ]
            )
        )
        self.layer1 = self._make_layer(64, layers[0], groups, reduction)
        self.layer2 = self._make_layer(128, layers[1], groups, reduction, stride=2)
        self.layer3 = self._make_layer(256, layers[2], groups, reduction, stride=2)
        self.layer4 = self._make_layer(512, layers[3], groups, reduction, stride=2)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.last_linear = nn.Linear(512 * SEResNetBottleneck.expansion, num_classes)

    def _make_layer(
        self, planes: int, blocks: int, groups: int, reduction: int, stride: int = 1
    ) -> nn.Sequential:
        block = SEResNetBottleneck
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(
                    self.inplanes,
                    planes * block.expansion,
                    kernel_size=1,
                    stride=stride,
                    bias=False,
                ),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, groups, reduction, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups, reduction))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer0(x)  # (B, 64, 56, 56) at 224×224
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (B, 2048, 7, 7)
        x = torch.flatten(self.avg_pool(x), 1)  # (B, 2048)
        return self.last_linear(x)


def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """The reference port keeps torch's default initialisation; with a generator, redraw from it."""
    if generator is not None:
        default_init_(model, generator)


def se_resnet50(num_classes: int = 1000) -> SENet:
    """SE-ResNet-50 from Hu, Shen & Sun, "Squeeze-and-Excitation Networks" (CVPR 2018)."""
    return SENet([3, 4, 6, 3], groups=1, reduction=16, num_classes=num_classes)
