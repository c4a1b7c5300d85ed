"""What does a small trained CNN compute, layer by layer? The network, its config and its weights.

SmallCNN is a VGG-style network (Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", 2015) scaled down to teach with, as in the CNN Explainer's Tiny VGG:
`depth_blocks` blocks of conv → ReLU → conv → ReLU → 2×2 max pool, then flatten → linear → logits
(softmax gives the probabilities). Convolutions pad with zeros by kernel // 2 ("same"), so only
pooling changes the map size: with the defaults 64 → 64 → 32 → 32 → 16, and 10·16·16 = 2560
numbers reach the classifier.

`forward_all` returns every intermediate without hooks and without touching the module, so one
model can be shared by every session (st.cache_resource). Weights load from .safetensors (never
pickle) beside a JSON card; analyses of a model live in engine/cnn/explain.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from engine.cnn.shapes_data import CLASSES
from engine.core import ExplorerError, seeded

__all__ = [
    "KERNELS",
    "KINDS",
    "MAX_DEPTH",
    "MAX_FILTERS",
    "Activation",
    "CNNConfig",
    "CNNError",
    "ModelLoadError",
    "SmallCNN",
    "load",
    "save",
]

MAX_DEPTH = 5  # 64 px halved five times is 2 px
MAX_FILTERS = 64
KERNELS = (1, 3, 5, 7)
KINDS = ("input", "conv", "relu", "pool", "flatten", "logits", "softmax")


class CNNError(ExplorerError):
    """A network setting or request that cannot work; the message says what to change."""


class ModelLoadError(CNNError):
    """Weights or a card that cannot be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class CNNConfig:
    """The architecture of a SmallCNN (frozen, so it can key a cache)."""

    classes: tuple[str, ...] = CLASSES  # class names in logit order (at least 2)
    depth_blocks: int = 2  # conv-ReLU-conv-ReLU-maxpool blocks, 1..5
    filters: int = 10  # channels of every conv layer, 1..64
    kernel: int = 3  # odd kernel side (1, 3, 5, 7); zero padding kernel // 2 keeps H × W
    pool: bool = True  # end each block with a 2×2, stride-2 max pool (False: ablation)
    relu: bool = True  # ReLU after each conv (False: ablation, the network becomes linear)
    input_size: int = 64  # side of the square RGB input in pixels

    def __post_init__(self) -> None:
        if isinstance(self.classes, str) or not isinstance(self.classes, tuple | list):
            raise CNNError("classes must be a list of class names.")
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise CNNError("Choose at least two different classes.")
        for name, value, low, high in (
            ("depth_blocks", self.depth_blocks, 1, MAX_DEPTH),
            ("filters", self.filters, 1, MAX_FILTERS),
            ("input_size", self.input_size, 8, 256),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CNNError(
                    "{name} must be a whole number from {low} to {high}, got {value!r}.",
                    name=name,
                    low=low,
                    high=high,
                    value=value,
                )
        if self.kernel not in KERNELS or isinstance(self.kernel, bool):
            raise CNNError(
                "kernel must be one of {kernels} (odd, so 'same' padding is symmetric).",
                kernels=KERNELS,
            )
        if self.pool and self.input_size >> self.depth_blocks < 1:
            raise CNNError(
                "{blocks} poolings shrink a {size}-px input to nothing; use fewer blocks or turn "
                "pooling off.",
                blocks=self.depth_blocks,
                size=self.input_size,
            )
        for name in ("pool", "relu"):
            if not isinstance(getattr(self, name), bool):
                raise CNNError("{name} must be True or False.", name=name)

    @property
    def final_side(self) -> int:
        """Return the side of the last feature maps (input_size halved once per pooled block)."""
        return self.input_size >> self.depth_blocks if self.pool else self.input_size

    @property
    def flat_features(self) -> int:
        """Return the length of the flattened vector fed to the classifier."""
        return self.filters * self.final_side**2

    def layers(self) -> list[tuple[str, str]]:
        """Return (name, kind) of every step of forward_all after the input, in order."""
        out: list[tuple[str, str]] = []
        for b in range(1, self.depth_blocks + 1):
            for c in (1, 2):
                out.append((f"conv{b}_{c}", "conv"))
                if self.relu:
                    out.append((f"relu{b}_{c}", "relu"))
            if self.pool:
                out.append((f"pool{b}", "pool"))
        return [*out, ("flatten", "flatten"), ("logits", "logits"), ("softmax", "softmax")]

    def to_dict(self) -> dict:
        """Return the config as JSON-ready plain values."""
        d = dataclasses.asdict(self)
        d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> CNNConfig:
        """Return the config described by d (as written by to_dict); unknown keys raise CNNError."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(d, dict) or set(d) - names:
            raise CNNError(f"A config has only the keys {sorted(names)}.")
        return cls(**{**d, "classes": tuple(d.get("classes", CLASSES))})


@dataclass(frozen=True)
class Activation:
    """One step of the forward pass: its name ("conv1_2"), kind (one of KINDS) and output."""

    name: str
    kind: str
    tensor: torch.Tensor  # (B, C, H, W) for input/conv/relu/pool; (B, F) flatten; (B, K) logits


class SmallCNN(nn.Module):
    """VGG-style blocks (conv-ReLU-conv-ReLU-maxpool) → flatten → linear logits."""

    def __init__(self, config: CNNConfig | None = None, seed: int = 0) -> None:
        super().__init__()
        self.config = config = config or CNNConfig()
        self.convs = nn.ModuleDict()
        channels = 3
        for name, kind in config.layers():
            if kind == "conv":
                pad = config.kernel // 2
                self.convs[name] = nn.Conv2d(channels, config.filters, config.kernel, padding=pad)
                channels = config.filters
        self.fc = nn.Linear(config.flat_features, len(config.classes))
        self._steps = [s for s in config.layers() if s[1] != "softmax"]
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int = 0) -> None:
        """Re-initialise the weights from seed, no global RNG: He-normal convs, zero biases.

        He et al. (2015) keep the activations' scale through ReLU layers; with torch's default
        (smaller) init, training sat at chance for hundreds of steps.
        """
        g = seeded(seed)
        with torch.no_grad():
            for conv in self.convs.values():
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu", generator=g)
                conv.bias.zero_()
            nn.init.kaiming_uniform_(self.fc.weight, a=5**0.5, generator=g)  # torch's default
            self.fc.bias.zero_()

    def _run(
        self, x: torch.Tensor, record: list[Activation] | None, stop: str | None = None
    ) -> torch.Tensor:
        """Return the logits (B, K), or the output of layer `stop`; record every step if given."""
        for name, kind in self._steps:
            if kind == "conv":
                x = self.convs[name](x)  # (B, F, H, W)
            elif kind == "relu":
                x = F.relu(x)  # not in place: the conv output stays as recorded
            elif kind == "pool":
                x = F.max_pool2d(x, 2)  # (B, F, H/2, W/2)
            elif kind == "flatten":
                x = x.flatten(1)  # (B, F·h·w), channel-major as torch flattens
            else:
                x = self.fc(x)  # (B, K)
            if record is not None:
                record.append(Activation(name, kind, x))
            if name == stop:
                break
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits (B, K) for images x (B, 3, S, S) in [0, 1]."""
        return self._run(x, None)

    def forward_all(self, x: torch.Tensor) -> list[Activation]:
        """Return the input, every conv/relu/pool output, flatten, logits and softmax, in order.

        Works under any grad mode (gradients flow through the returned tensors unless the caller
        uses torch.inference_mode). Nothing on the module changes, so sharing it is safe.
        """
        record = [Activation("input", "input", x)]
        logits = self._run(x, record)
        record.append(Activation("softmax", "softmax", logits.softmax(-1)))  # (B, K)
        return record

    def forward_to(self, x: torch.Tensor, layer: str) -> torch.Tensor:
        """Return the output of `layer` alone (e.g. (B, F, H, W) for "relu2_1"), nothing after it.

        Cheaper than forward_all for scanning many images: earlier outputs are freed as it goes.
        """
        names = [n for n, _ in self._steps]
        if layer == "softmax":
            return self._run(x, None).softmax(-1)
        if layer == "input":
            return x
        if layer not in names:
            raise CNNError(
                f"No layer {layer!r}; choose one of: input, {', '.join(names)}, softmax."
            )
        return self._run(x, None, stop=layer)

    @property
    def cam_layer(self) -> str:
        """Return the name of the last conv layer's output (after its ReLU) used by Grad-CAM."""
        return [n for n, k in self._steps if k in ("conv", "relu")][-1]

    def receptive_fields(self) -> dict[str, tuple[int, int, float]]:
        """Return {layer: (r, jump, start)}: field side, stride between units and unit 0's centre.

        Unit (row, col) of a spatial layer sees the r × r input square centred on
        (start + jump·row, start + jump·col) (Araujo et al., "Computing Receptive Fields of
        Convolutional Neural Networks", Distill 2019); parts may fall in the padding.
        """
        r, jump, start = 1, 1, 0.0
        out: dict[str, tuple[int, int, float]] = {"input": (1, 1, 0.0)}
        for name, kind in self._steps:
            if kind == "conv":
                r += (self.config.kernel - 1) * jump  # 'same' padding keeps start
            elif kind == "pool":
                r, start, jump = r + jump, start + 0.5 * jump, jump * 2
            elif kind != "relu":
                break
            out[name] = (r, jump, start)
        return out


def save(model: SmallCNN, card: dict, path: str | Path) -> Path:
    """Write weights to path (.safetensors) and card + config to path.with_suffix(".json")."""
    path = Path(path)
    card = {**card, "config": model.config.to_dict()}
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt"})
    text = json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.with_suffix(".json").write_text(text, encoding="utf-8")
    return path


def load(path: str | Path) -> tuple[SmallCNN, dict]:
    """Return (model in eval mode with frozen weights, card dict) from path and its .json card.

    Weights are frozen (requires_grad False) so a shared model never collects gradients; input
    gradients (saliency, Grad-CAM) still work.
    """
    path = Path(path)
    card_path = path.with_suffix(".json")
    for needed in (path, card_path):
        if not needed.is_file():
            raise ModelLoadError(f"Missing {needed.name}; run scripts/train_small_cnn.py.")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        config = CNNConfig.from_dict(card["config"])
        tensors = load_file(str(path))
    except Exception as err:  # noqa: BLE001 - JSON, config and safetensors errors alike
        raise ModelLoadError(f"Cannot read the model {path.name}: {err}") from None
    model = SmallCNN(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise ModelLoadError(f"{path.name} does not match its card's config: {err}") from None
    model.eval().requires_grad_(False)
    return model, card
