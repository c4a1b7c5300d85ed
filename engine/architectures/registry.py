"""Which classic CNNs can the explorer build, what did each one fix, and how is one built?

`build(name)` returns a randomly initialised network with the layer layout of the reference
PyTorch implementation (torchvision's, or for SE-ResNet-50 the `pretrainedmodels`/timm port of
Hu et al.'s models), 1000 classes and no auxiliary heads. The definitions live one family per file:
alexnet_vgg, inception, resnet, senet, densenet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from engine.architectures.alexnet_vgg import alexnet, vgg16
from engine.architectures.alexnet_vgg import init_weights as init_alexnet_vgg
from engine.architectures.densenet import densenet121
from engine.architectures.densenet import init_weights as init_densenet
from engine.architectures.inception import googlenet, inception_v3
from engine.architectures.inception import init_weights as init_inception
from engine.architectures.init import materialise
from engine.architectures.resnet import init_weights as init_resnet
from engine.architectures.resnet import resnet18, resnet50, resnext50_32x4d
from engine.architectures.senet import init_weights as init_senet
from engine.architectures.senet import se_resnet50
from engine.core import ExplorerError, check_int


class ArchitectureError(ExplorerError):
    """An architecture request that cannot be met; the message says what to change."""


class UnknownArchitectureError(ArchitectureError):
    """A network name the explorer does not know; the message lists the names it does."""


@dataclass(frozen=True)
class Info:
    """One architecture as the page presents it: its paper and the problem its idea answered."""

    name: str  # the key build() accepts
    title: str  # display name
    year: int
    paper: str  # authors, title, venue
    idea: str  # one line: the problem it addressed and the idea
    input_size: int  # side of the square image it was designed for


ARCHITECTURES: dict[str, Info] = {
    info.name: info
    for info in [
        Info(
            "alexnet",
            "AlexNet",
            2012,
            "Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep Convolutional "
            "Neural Networks, NeurIPS 2012",
            "Hand-made features had stalled ImageNet; features learned end to end by a deep "
            "ConvNet (ReLU, dropout, GPUs, data augmentation) beat them by a wide margin.",
            224,
        ),
        Info(
            "vgg16",
            "VGG-16",
            2014,
            "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image "
            "Recognition, ICLR 2015",
            "How should depth grow? Only 3×3 convolutions, stacked: two see 5×5 and three 7×7 with "
            "fewer weights and more nonlinearities, so the network can go to 16 layers.",
            224,
        ),
        Info(
            "googlenet",
            "GoogLeNet (Inception v1)",
            2014,
            "Szegedy et al., Going Deeper with Convolutions, CVPR 2015",
            "Which filter size? All of them in parallel (1×1, 3×3, 5×5, pool), with 1×1 "
            "bottlenecks to keep the cost down: 22 layers on a budget of 1.5 GFLOPs.",
            224,
        ),
        Info(
            "inception_v3",
            "Inception v3",
            2015,
            "Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, Rethinking the Inception Architecture "
            "for Computer Vision, CVPR 2016",
            "Large filters are expensive: factorise them, 5×5 into two 3×3 and n×n into 1×n then "
            "n×1, and shrink the grid without a representational bottleneck.",
            299,
        ),
        Info(
            "resnet18",
            "ResNet-18",
            2015,
            "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
            "Deeper plain nets trained worse (degradation); blocks that learn a residual F(x) and "
            "add x back through an identity shortcut train easily at any depth.",
            224,
        ),
        Info(
            "resnet50",
            "ResNet-50",
            2015,
            "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
            "Residual learning made deep, cheaply: 1×1-3×3-1×1 bottleneck blocks let 50 layers "
            "cost about as much as VGG's first few.",
            224,
        ),
        Info(
            "resnext50_32x4d",
            "ResNeXt-50 (32×4d)",
            2016,
            "Xie, Girshick, Dollár, Tu & He, Aggregated Residual Transformations for Deep Neural "
            "Networks, CVPR 2017",
            "Beyond depth and width, a third dimension: many parallel paths (cardinality 32, as "
            "grouped convolutions) in each block, better accuracy at the same cost.",
            224,
        ),
        Info(
            "densenet121",
            "DenseNet-121",
            2016,
            "Huang, Liu, van der Maaten & Weinberger, Densely Connected Convolutional Networks, "
            "CVPR 2017",
            "Reuse features instead of relearning them: each layer gets every earlier layer's "
            "maps, concatenated, so narrow layers (32 channels) suffice.",
            224,
        ),
        Info(
            "se_resnet50",
            "SE-ResNet-50",
            2017,
            "Hu, Shen & Sun, Squeeze-and-Excitation Networks, CVPR 2018",
            "A convolution only sees its local field; squeeze each channel to one global number "
            "and excite, re-weighting channels from the whole image (channel attention).",
            224,
        ),
    ]
}


# name -> (constructor, the family's reference initialisation)
_FACTORIES: dict[str, tuple[Callable[[], nn.Module], Callable[[nn.Module, torch.Generator], None]]]
_FACTORIES = {
    "alexnet": (alexnet, init_alexnet_vgg),
    "vgg16": (vgg16, init_alexnet_vgg),
    "googlenet": (googlenet, init_inception),
    "inception_v3": (inception_v3, init_inception),
    "resnet18": (resnet18, init_resnet),
    "resnet50": (resnet50, init_resnet),
    "resnext50_32x4d": (resnext50_32x4d, init_resnet),
    "densenet121": (densenet121, init_densenet),
    "se_resnet50": (se_resnet50, init_senet),
}


def build(name: str, *, seed: int = 0, meta: bool = False) -> nn.Module:
    """Return the named network with the reference initialisation drawn from `seed` (train mode).

    The weights come from a local generator: the same seed gives the same network, and torch's
    global random state is neither read nor advanced. meta=True returns a shape-only network on
    torch's meta device, built in milliseconds: enough for parameter counts, receptive fields and
    FLOPs (FlopCounterMode runs on meta tensors), not for real outputs.
    """
    if not isinstance(name, str) or name not in _FACTORIES:
        raise UnknownArchitectureError(
            "Unknown architecture {name!r}; choose one of: {names}.",
            name=name,
            names=", ".join(ARCHITECTURES),
        )
    factory, init_weights = _FACTORIES[name]
    return materialise(
        factory, init_weights, check_int("seed", seed, 0, error=ArchitectureError), meta=bool(meta)
    )


def parameter_total(name: str) -> int:
    """Return the number of trainable numbers of the named network (counted on the meta device)."""
    return sum(p.numel() for p in build(name, meta=True).parameters() if p.requires_grad)
