"""DenseNet: every layer in a block receives the concatenation of all earlier layers' outputs.

Laid out as torchvision's `densenet121`, so parameter counts and state-dict keys agree. One
change: torchvision's final `F.adaptive_avg_pool2d` is a module here (`avgpool`), so a
receptive-field trace can name it (no parameters, counts unchanged).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from engine.architectures.init import default_init_


class _DenseLayer(nn.Module):
    """BN-ReLU-1×1 conv (to bn_size·growth channels), BN-ReLU-3×3 conv (to growth channels)."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(
            num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False
        )
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False
        )

    def forward(self, prev_features: list[torch.Tensor]) -> torch.Tensor:
        concated = torch.cat(prev_features, 1)  # (B, all earlier channels, H, W)
        bottleneck = self.conv1(self.relu1(self.norm1(concated)))  # (B, bn_size·growth, H, W)
        return self.conv2(self.relu2(self.norm2(bottleneck)))  # (B, growth, H, W)


class _DenseBlock(nn.ModuleDict):
    """num_layers dense layers; the block returns its input and every new map, concatenated."""

    def __init__(
        self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: torch.Tensor) -> torch.Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)  # (B, in + num_layers·growth, H, W)


class _Transition(nn.Sequential):
    """Between blocks: BN-ReLU-1×1 conv halving the channels, 2×2 average pool halving H and W."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(
            num_input_features, num_output_features, kernel_size=1, stride=1, bias=False
        )
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """7×7 stem and max pool, dense blocks joined by transitions, BN, global pool, dense layer."""

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: tuple[int, ...] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv0", nn.Conv2d(3, num_init_features, 7, stride=2, padding=3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_features, num_features // 2)
                self.features.add_module(f"transition{i + 1}", trans)
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(num_features, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)  # (B, 1024, 7, 7) at 224×224
        out = F.relu(features, inplace=True)
        out = torch.flatten(self.avgpool(out), 1)  # (B, 1024)
        return self.classifier(out)


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """torchvision's scheme: He-normal (fan_in) convolutions, unit batch norm, zero dense bias.

    With a generator every layer is redrawn from it (the global random state is left alone).
    """
    if generator is not None:
        default_init_(model, generator)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.constant_(m.bias, 0)


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121 from Huang, Liu, van der Maaten & Weinberger, "Densely Connected
    Convolutional Networks" (CVPR 2017)."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes)
