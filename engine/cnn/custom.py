"""Can the small CNN learn the learner's own classes? Examples, augmentation, honest accuracy.

`ExampleSet` holds 2–6 named classes of examples, each downscaled on arrival to the model's
64×64 RGB input exactly as the trained-CNN page prepares a photo (shapes_data.preprocess: centre
square, Lanczos), so nothing bigger is ever kept. `fit_examples` trains SmallCNN on them through
training.train with an `Augmentation` (random resized crops, left-right flips, colour jitter) and
measures accuracy on examples the model did not train on: stratified k-fold cross-validation
while examples are few, a held-out stratified split once every class has enough. `save_model` and
`load_model` move a model as .safetensors bytes with its JSON card in the file's metadata; loading
never unpickles and refuses anything that does not match the card. Every refusal is an
ExplorerError whose message says what to do.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from engine.cnn.shapes_data import make_dataset_uint8, preprocess
from engine.cnn.small_cnn import (
    MAX_DEPTH,
    MAX_FILTERS,
    CNNConfig,
    CNNError,
    ModelLoadError,
    SmallCNN,
)
from engine.cnn.training import DEFAULT_LR, TrainingData, TrainPoint, train
from engine.core import N_, Msg, check_int, check_number, seeded
from engine.images import load_image

__all__ = [
    "CROSS_VALIDATION",
    "CV_FOLDS",
    "DEFAULT_AUGMENTATION",
    "EXAMPLE_BYTES",
    "EXAMPLE_SIDE",
    "FIT_BATCH",
    "FIT_STEPS",
    "HELD_OUT",
    "HOLDOUT_FRACTION",
    "HOLDOUT_MIN_PER_CLASS",
    "MAX_CLASSES",
    "MAX_EXAMPLES",
    "MAX_MODEL_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_PER_CLASS",
    "MIN_CLASSES",
    "MIN_PER_CLASS",
    "AugmentDraw",
    "Augmentation",
    "ExampleSet",
    "ExamplesError",
    "FitProgress",
    "FitResult",
    "Mistake",
    "RunCurve",
    "clean_name",
    "confusion_matrix",
    "downscale",
    "evaluation_plan",
    "fit_examples",
    "load_model",
    "predict_examples",
    "save_model",
]

EXAMPLE_SIDE = 64  # examples are kept as 64×64 RGB, the model's input
EXAMPLE_BYTES = EXAMPLE_SIDE * EXAMPLE_SIDE * 3  # 12,288 bytes per example (uint8 RGB)
MIN_CLASSES, MAX_CLASSES = 2, 6
MAX_NAME_LENGTH = 40  # characters of a class name, after trimming
MIN_PER_CLASS = 4  # examples a class needs before training: k-fold keeps ≥ 3 to train on
MAX_PER_CLASS = 100
MAX_EXAMPLES = 400  # in all: 400 × 12,288 B = 4,915,200 B (≈ 4.7 MiB) per session, at most
CV_FOLDS = 5  # k of k-fold cross-validation (fewer if the smallest class is smaller)
HOLDOUT_MIN_PER_CLASS = 30  # from this many examples in every class: one held-out split, not k-fold
HOLDOUT_FRACTION = 0.2  # share of each class held out (≥ 6 per class at the threshold)
FIT_STEPS = 150  # Adam steps per training run (each fold, the final model)
FIT_BATCH = 32  # examples per Adam step, drawn with replacement
CROSS_VALIDATION, HELD_OUT = "cross-validation", "held-out"  # FitResult.method
_GRAY = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma weights, as engine.images uses
_MAX_HEADER_BYTES = 65_536  # a card and ~20 tensor entries need a few KiB
_CARD_FIELDS = {
    "classes": list,
    "config": dict,
    "accuracy": (int, float, type(None)),
    "date": str,
    "augmentation": dict,
    "steps": int,
    "seed": int,
}


class ExamplesError(CNNError):
    """An example set or a fit request that cannot work; the message says what to change."""


def _largest_parameter_count() -> int:
    """Return the weights of the largest SmallCNN a card may describe (7×7, no pooling)."""
    k2, f, side = 7 * 7, MAX_FILTERS, EXAMPLE_SIDE
    convs = (3 * f * k2 + f) + (2 * MAX_DEPTH - 1) * (f * f * k2 + f)
    return convs + f * side * side * MAX_CLASSES + MAX_CLASSES


# float32 weights of the largest allowed network plus its header: ≈ 13.6 MB
MAX_MODEL_BYTES = 4 * _largest_parameter_count() + _MAX_HEADER_BYTES


# --- names and pictures


def clean_name(name: object) -> str:
    """Return name trimmed, NFC-normalised, with inner whitespace runs made one space; or refuse.

    Any script is welcome; names compare case-insensitively (casefold) when checked for duplicates.
    """
    if not isinstance(name, str):
        raise ExamplesError(N_("A class name must be text."))
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise ExamplesError(N_("A class has no name; type one."))
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ExamplesError(N_("The class name {name!r} contains control characters."), name=text)
    if len(text) > MAX_NAME_LENGTH:
        raise ExamplesError(
            N_("The class name {name} has {n} characters; use at most {limit}."),
            name=text,
            n=len(text),
            limit=MAX_NAME_LENGTH,
        )
    return text


def _check_unique(names: Sequence[str]) -> None:
    """Raise ExamplesError naming the first name used twice (ignoring case)."""
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise ExamplesError(
                N_("Two classes are called {name}; give each class its own name."), name=name
            )
        seen.add(name.casefold())


def downscale(image: object) -> np.ndarray:
    """Return image as the (64, 64, 3) uint8 model input: centre square, Lanczos, rounded.

    image: uploaded or camera bytes (decoded safely by engine.images.load_image), a PIL image,
    or a uint8 array (H, W, 3) or (H, W). The same steps as shapes_data.preprocess, so a photo
    looks to the model here as it does on the trained-CNN page.
    """
    if isinstance(image, bytes | bytearray | memoryview):
        image = load_image(bytes(image), max_side=4 * EXAMPLE_SIDE)
    elif isinstance(image, np.ndarray):
        image = _array_image(image)
    if not isinstance(image, Image.Image):
        raise ExamplesError(
            N_("An example must be an image, got {kind}."), kind=type(image).__name__
        )
    x = preprocess(image, EXAMPLE_SIDE)  # (3, 64, 64) float32 in [0, 1]
    return np.rint(x.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8)


def _array_image(array: np.ndarray) -> Image.Image:
    """Return a uint8 (H, W, 3) or (H, W) array as a PIL image, or refuse other arrays."""
    if array.dtype != np.uint8 or array.shape[2:] not in ((), (3,)) or array.ndim < 2:
        raise ExamplesError(
            N_("An example array must be uint8 of shape (H, W, 3) or (H, W), got {dtype} {shape}."),
            dtype=str(array.dtype),
            shape=tuple(array.shape),
        )
    if 0 in array.shape:
        raise ExamplesError(N_("This image is empty (0 pixels wide or high)."))
    return Image.fromarray(np.ascontiguousarray(array))


def _frozen(array: np.ndarray) -> np.ndarray:
    """Return a read-only (64, 64, 3) uint8 copy of array, or refuse another shape."""
    if not isinstance(array, np.ndarray) or array.shape != (EXAMPLE_SIDE, EXAMPLE_SIDE, 3):
        raise ExamplesError(N_("Stored examples must be 64×64 RGB; pass pictures to with_example."))
    out = np.array(array, dtype=np.uint8)
    out.flags.writeable = False
    return out


# --- the example set


@dataclass(frozen=True)
class ExampleSet:
    """Named classes of 64×64 RGB uint8 examples, class-major; every edit returns a new set.

    Immutable so a page can keep the last good set in its session state: a refused edit raises
    ExamplesError and leaves it unchanged, and a result trained on a set still names its examples.
    Classes and examples are addressed by position. Memory is bounded: at most MAX_EXAMPLES
    examples of EXAMPLE_BYTES each (4.9 MB), MAX_PER_CLASS per class.
    """

    names: tuple[str, ...] = ()
    examples: tuple[tuple[np.ndarray, ...], ...] = ()

    def __post_init__(self) -> None:
        names = tuple(clean_name(n) for n in self.names)
        _check_unique(names)
        if len(names) > MAX_CLASSES:
            raise ExamplesError(N_("At most {limit} classes."), limit=MAX_CLASSES)
        if len(self.examples) != len(names):
            raise ExamplesError(N_("Give one tuple of examples per class name."))
        examples = tuple(tuple(_frozen(a) for a in group) for group in self.examples)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "examples", examples)
        for index in range(len(names)):
            self._check_room(index, 0)

    @property
    def counts(self) -> tuple[int, ...]:
        """Return the number of examples of each class."""
        return tuple(len(group) for group in self.examples)

    @property
    def total(self) -> int:
        """Return the number of examples in all."""
        return sum(self.counts)

    def with_class(self, name: str) -> ExampleSet:
        """Return the set with a new, empty class called name (cleaned) at the end."""
        if len(self.names) >= MAX_CLASSES:
            raise ExamplesError(
                N_("There are already {limit} classes, the most allowed."), limit=MAX_CLASSES
            )
        return ExampleSet((*self.names, clean_name(name)), (*self.examples, ()))

    def renamed(self, index: int, name: str) -> ExampleSet:
        """Return the set with class index called name (cleaned)."""
        index = self._class_index(index)
        names = list(self.names)
        names[index] = clean_name(name)
        return ExampleSet(tuple(names), self.examples)

    def without_class(self, index: int) -> ExampleSet:
        """Return the set without class index and its examples."""
        index = self._class_index(index)
        keep = [i for i in range(len(self.names)) if i != index]
        return ExampleSet(tuple(self.names[i] for i in keep), tuple(self.examples[i] for i in keep))

    def with_examples(self, index: int, images: Sequence[object]) -> ExampleSet:
        """Return the set with images (bytes, PIL images or uint8 arrays) added to class index.

        Each is downscaled to 64×64 first; all are refused if they would pass a cap.
        """
        index = self._class_index(index)
        self._check_room(index, len(images))
        small = tuple(downscale(image) for image in images)
        return self._replace_group(index, (*self.examples[index], *small))

    def with_example(self, index: int, image: object) -> ExampleSet:
        """Return the set with one image added to class index (see with_examples)."""
        return self.with_examples(index, [image])

    def without_example(self, index: int, position: int) -> ExampleSet:
        """Return the set without example `position` of class index."""
        index = self._class_index(index)
        group = self.examples[index]
        position = check_int(N_("example"), position, 0, len(group) - 1, error=ExamplesError)
        return self._replace_group(index, group[:position] + group[position + 1 :])

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (images (N, 3, 64, 64) uint8, labels (N,) long), class-major."""
        arrays = [a for group in self.examples for a in group]
        if not arrays:
            return torch.empty(0, 3, EXAMPLE_SIDE, EXAMPLE_SIDE, dtype=torch.uint8), torch.empty(
                0, dtype=torch.long
            )
        images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
        labels = torch.repeat_interleave(torch.arange(len(self.names)), torch.tensor(self.counts))
        return images, labels

    def locate(self, flat: int) -> tuple[int, int]:
        """Return (class index, position in the class) of example number flat (class-major)."""
        flat = check_int(N_("example"), flat, 0, self.total - 1, error=ExamplesError)
        for index, count in enumerate(self.counts):
            if flat < count:
                return index, flat
            flat -= count
        raise AssertionError("unreachable")  # pragma: no cover

    def check_trainable(self) -> None:
        """Raise ExamplesError saying what to add if this set cannot be trained on yet."""
        if len(self.names) < MIN_CLASSES:
            raise ExamplesError(
                N_("There is only {n} class; add at least {need} to teach a choice."),
                n=len(self.names),
                need=MIN_CLASSES,
            )
        for name, count in zip(self.names, self.counts, strict=True):
            if count < MIN_PER_CLASS:
                raise ExamplesError(
                    N_("Class {name} has {n} examples; add at least {need}."),
                    name=name,
                    n=count,
                    need=MIN_PER_CLASS,
                )

    @classmethod
    def from_drawings(
        cls,
        classes: Sequence[str] = ("circle", "square", "triangle"),
        n_per_class: int = 20,
        seed: int = 0,
    ) -> ExampleSet:
        """Return a set of n_per_class of the project's own drawings of each class (shapes_data)."""
        n = check_int(N_("examples per class"), n_per_class, 0, MAX_PER_CLASS, error=ExamplesError)
        if len(classes) > MAX_CLASSES or n * len(classes) > MAX_EXAMPLES:
            raise ExamplesError(
                N_("At most {classes} classes and {total} examples in all."),
                classes=MAX_CLASSES,
                total=MAX_EXAMPLES,
            )
        images, labels = make_dataset_uint8(n, seed, tuple(classes), EXAMPLE_SIDE)
        hwc = images.permute(0, 2, 3, 1).numpy()  # (N, 64, 64, 3)
        groups = tuple(tuple(hwc[labels.numpy() == i]) for i in range(len(classes)))
        return cls(tuple(classes), groups)

    def _class_index(self, index: int) -> int:
        """Return index checked to name a class."""
        if not self.names:
            raise ExamplesError(N_("There are no classes yet; add one first."))
        return check_int(N_("class"), index, 0, len(self.names) - 1, error=ExamplesError)

    def _check_room(self, index: int, adding: int) -> None:
        """Raise ExamplesError if class index cannot take `adding` more examples under the caps."""
        have = len(self.examples[index])
        if have + adding > MAX_PER_CLASS:
            raise ExamplesError(
                N_("Class {name} can hold {limit} examples; there is room for {room} more."),
                name=self.names[index],
                limit=MAX_PER_CLASS,
                room=max(0, MAX_PER_CLASS - have),
            )
        if self.total + adding > MAX_EXAMPLES:
            raise ExamplesError(
                N_("The set can hold {limit} examples in all; there is room for {room} more."),
                limit=MAX_EXAMPLES,
                room=max(0, MAX_EXAMPLES - self.total),
            )

    def _replace_group(self, index: int, group: tuple[np.ndarray, ...]) -> ExampleSet:
        """Return the set with class index's examples replaced by group."""
        examples = list(self.examples)
        examples[index] = group
        return ExampleSet(self.names, tuple(examples))


# --- augmentation


@dataclass(frozen=True)
class AugmentDraw:
    """The random choices for one batch of n images: what Augmentation.apply does to each."""

    boxes: torch.Tensor  # (n, 4) long: top, left, height, width of the crop, inside the image
    flips: torch.Tensor  # (n,) bool: mirror left-right
    brightness: torch.Tensor  # (n,) factors: pixels × b
    contrast: torch.Tensor  # (n,) factors: blend with the image's mean gray, 1 = unchanged
    saturation: torch.Tensor  # (n,) factors: blend with the pixel's gray, 0 = grayscale


@dataclass(frozen=True)
class Augmentation:
    """Random changes to each training example, new every batch (torchvision's usual three).

    Each image is cropped to a random box (crop_scale of its area, width/height in crop_ratio)
    resized back with bilinear filtering, mirrored left-right with probability flip, then its
    brightness, contrast and saturation are scaled by factors drawn from [1 - s, 1 + s].
    """

    crop_scale: tuple[float, float] = (0.6, 1.0)  # fraction of the area kept, min and max
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)  # crop width / height, min and max
    flip: float = 0.5  # probability of a left-right mirror
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2

    def __post_init__(self) -> None:
        _check_range(N_("crop scale"), self.crop_scale, 0.05, 1.0)
        _check_range(N_("crop ratio"), self.crop_ratio, 0.25, 4.0)
        for name in ("flip", "brightness", "contrast", "saturation"):
            value = check_number(name, getattr(self, name), error=ExamplesError)
            if not 0 <= value <= 1:
                raise ExamplesError(
                    N_("{name} must be between 0 and 1, got {value}."), name=name, value=value
                )

    def summary(self) -> tuple[Msg, dict[str, float]]:
        """Return (template, params): the one-line description a page translates and shows."""
        template = N_(
            "Each batch, every example is cropped to a random {low:.0%}–{high:.0%} of its area, "
            "mirrored left-right with probability {flip:.0%}, and its brightness, contrast and "
            "saturation are scaled by up to ±{brightness:.0%}, ±{contrast:.0%} and "
            "±{saturation:.0%}."
        )
        low, high = self.crop_scale
        params = {"low": low, "high": high, "flip": self.flip, "brightness": self.brightness}
        return template, {**params, "contrast": self.contrast, "saturation": self.saturation}

    def describe(self) -> str:
        """Return the one-line description in English."""
        template, params = self.summary()
        return template.format(**params)

    def to_dict(self) -> dict[str, object]:
        """Return the settings as JSON-ready values (tuples become lists)."""
        items = dataclasses.asdict(self).items()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in items}

    def draw(self, n: int, side: int, g: torch.Generator) -> AugmentDraw:
        """Return the random choices for n images of side × side pixels, from generator g."""
        return AugmentDraw(
            _crop_boxes(n, side, self.crop_scale, self.crop_ratio, g),
            torch.rand(n, generator=g) < self.flip,
            *(_factors(n, s, g) for s in (self.brightness, self.contrast, self.saturation)),
        )

    def apply(self, images: torch.Tensor, draw: AugmentDraw) -> torch.Tensor:
        """Return images (B, 3, S, S) float in [0, 1] cropped, flipped and jittered as drawn."""
        x = _crop(images, draw.boxes)
        x = torch.where(draw.flips[:, None, None, None], x.flip(-1), x)
        if self.brightness:  # a zero strength is skipped, so it is exactly the identity
            x = (x * draw.brightness[:, None, None, None]).clamp(0, 1)
        if self.contrast:
            mean = _gray(x).mean(dim=(-2, -1), keepdim=True)  # (B, 1, 1, 1)
            x = _blend(x, mean, draw.contrast)
        if self.saturation:
            x = _blend(x, _gray(x), draw.saturation)
        return x

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (augmented float images, labels) for a batch: training.train's augment hook."""
        x = images.float().div(255) if images.dtype == torch.uint8 else images.float()
        return self.apply(x, self.draw(len(x), x.shape[-1], g)), labels


def _check_range(name: str, pair: object, low: float, high: float) -> None:
    """Raise ExamplesError unless pair is (a, b) with low ≤ a ≤ b ≤ high."""
    ok = isinstance(pair, tuple) and len(pair) == 2
    values = [check_number(name, v, error=ExamplesError) for v in pair] if ok else []
    if not ok or not low <= values[0] <= values[1] <= high:
        raise ExamplesError(
            N_("{name} must be a pair (min, max) with {low} ≤ min ≤ max ≤ {high}."),
            name=name,
            low=low,
            high=high,
        )


def _crop_boxes(
    n: int, side: int, scale: tuple[float, float], ratio: tuple[float, float], g: torch.Generator
) -> torch.Tensor:
    """Return (n, 4) long boxes (top, left, height, width), each inside a side × side image."""
    area = side * side * (scale[0] + (scale[1] - scale[0]) * torch.rand(n, generator=g))
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(
        n, generator=g
    )
    r = log_r.exp()
    width = (area * r).sqrt().round().clamp(1, side).long()
    height = (area / r).sqrt().round().clamp(1, side).long()
    left = (torch.rand(n, generator=g) * (side - width + 1)).long().clamp(max=side - width)
    top = (torch.rand(n, generator=g) * (side - height + 1)).long().clamp(max=side - height)
    return torch.stack([top, left, height, width], dim=1)


def _factors(n: int, strength: float, g: torch.Generator) -> torch.Tensor:
    """Return (n,) factors uniform in [1 - strength, 1 + strength]."""
    return 1 + strength * (2 * torch.rand(n, generator=g) - 1)


def _crop(images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Return each image's box resized back to the image's size (bilinear); full boxes copied."""
    side = images.shape[-1]
    out = images.clone()
    for i, (top, left, height, width) in enumerate(boxes.tolist()):
        if height == width == side:
            continue
        patch = images[i : i + 1, :, top : top + height, left : left + width]
        out[i] = F.interpolate(patch, size=(side, side), mode="bilinear", align_corners=False)[0]
    return out


def _gray(x: torch.Tensor) -> torch.Tensor:
    """Return the luma (B, 1, H, W) of RGB images (B, 3, H, W)."""
    weights = torch.tensor(_GRAY, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def _blend(x: torch.Tensor, towards: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Return towards + factor·(x − towards) clamped to [0, 1]: 1 keeps x, 0 gives towards."""
    f = factor[:, None, None, None]
    return (towards + f * (x - towards)).clamp(0, 1)


DEFAULT_AUGMENTATION = Augmentation()  # what fit_examples uses unless told otherwise


# --- evaluation


def evaluation_plan(counts: Sequence[int], seed: int) -> tuple[str, list[np.ndarray]]:
    """Return (method, held-out index arrays) for a class-major set with these class counts.

    Every class with ≥ HOLDOUT_MIN_PER_CLASS examples: HELD_OUT, one split holding out
    HOLDOUT_FRACTION of each class. Otherwise CROSS_VALIDATION with k = min(CV_FOLDS, smallest
    class) stratified folds: each example is held out exactly once, each class spread evenly.
    """
    g = seeded(seed)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    per_class = [
        start + torch.randperm(n, generator=g).numpy()
        for start, n in zip(starts, counts, strict=True)
    ]
    if min(counts) >= HOLDOUT_MIN_PER_CLASS:
        held = [order[: max(1, round(len(order) * HOLDOUT_FRACTION))] for order in per_class]
        return HELD_OUT, [np.sort(np.concatenate(held))]
    k = min(CV_FOLDS, min(counts))
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0  # rotate where each class starts, so the folds' sizes differ by at most one
    for order in per_class:
        for j, index in enumerate(order):
            folds[(j + offset) % k].append(int(index))
        offset += len(order)
    return CROSS_VALIDATION, [np.sort(np.array(f, dtype=int)) for f in folds]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """Return (k, k) int64 counts: row = true class, column = predicted; entries of -1 skipped."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    keep = predicted >= 0
    out = np.zeros((k, k), dtype=np.int64)
    np.add.at(out, (true[keep], predicted[keep]), 1)
    return out


@dataclass(frozen=True)
class Mistake:
    """An evaluated example the model got wrong."""

    index: int  # position in the set, class-major (ExampleSet.locate gives class and position)
    true: int  # its class
    predicted: int  # the class chosen
    probability: float  # the probability given to the chosen class
    true_probability: float  # the probability given to its own class


@dataclass(frozen=True)
class RunCurve:
    """The curves of one training run: a fold, the held-out split's model or the final model."""

    kind: str  # "fold", HELD_OUT or "final"
    number: int  # 1-based fold number (1 for the other kinds)
    held_out: int  # examples this run was measured on (0 for the final model)
    history: tuple[TrainPoint, ...]  # val_acc is measured on the held-out examples (NaN if none)


@dataclass(frozen=True)
class FitProgress:
    """Where a fit stands, passed to the progress callback at every report."""

    run: int  # 1-based run in progress
    runs: int  # runs in all (folds + final, or 1 held-out run)
    kind: str  # as RunCurve.kind
    number: int
    step: int  # steps done in this run
    steps: int  # steps per run
    point: TrainPoint
    elapsed: float  # seconds since the fit began

    @property
    def done(self) -> float:
        """Return the fraction of all runs' steps done."""
        return ((self.run - 1) * self.steps + self.step) / (self.runs * self.steps)

    @property
    def remaining_seconds(self) -> float:
        """Return the time left, extrapolated from the time so far at the same pace."""
        return self.elapsed * (1 - self.done) / self.done if self.done > 0 else math.nan


@dataclass
class FitResult:
    """A model trained on the learner's examples and how well it does on unseen ones."""

    model: SmallCNN  # the final model (CV), or the held-out split's model; eval, frozen, CPU
    card: dict  # JSON-ready: classes, config, accuracy, date, augmentation, steps, seed, ...
    method: str  # CROSS_VALIDATION or HELD_OUT
    folds: int  # k (1 for a held-out split)
    accuracy: float  # right / evaluated (NaN if none evaluated, e.g. stopped at once)
    predictions: np.ndarray  # (N,) class chosen for each example when held out; -1 if never
    probabilities: np.ndarray  # (N, K) softmax when held out; NaN rows if never
    confusion: np.ndarray  # (K, K) int64: row = true class, column = predicted
    mistakes: tuple[Mistake, ...]  # most confident first
    runs: tuple[RunCurve, ...]
    seconds: float
    stopped: bool  # should_stop() ended it: later runs were skipped

    @property
    def evaluated(self) -> int:
        """Return how many examples were predicted while held out."""
        return int(self.confusion.sum())


def _mistakes(
    labels: np.ndarray, predictions: np.ndarray, probs: np.ndarray
) -> tuple[Mistake, ...]:
    """Return the evaluated examples predicted wrong, the most confident first."""
    wrong = np.flatnonzero((predictions >= 0) & (predictions != labels))
    found = [
        Mistake(
            int(i),
            int(labels[i]),
            int(predictions[i]),
            float(probs[i, predictions[i]]),
            float(probs[i, labels[i]]),
        )
        for i in wrong
    ]
    return tuple(sorted(found, key=lambda m: (-m.probability, m.index)))


def _probabilities(model: SmallCNN, images: torch.Tensor) -> np.ndarray:
    """Return the softmax (N, K) float64 of the model on uint8 images (N, 3, S, S)."""
    with torch.inference_mode():
        return model(images.float().div(255)).softmax(-1).double().numpy()


# --- fitting


def _fit_config(examples: ExampleSet, config: CNNConfig) -> CNNConfig:
    """Return config with the set's class names, after checking both can train."""
    if not isinstance(examples, ExampleSet):
        raise ExamplesError(N_("examples must be an ExampleSet."))
    if not isinstance(config, CNNConfig):
        raise ExamplesError(N_("config must be a CNNConfig."))
    examples.check_trainable()
    if config.input_size != EXAMPLE_SIDE:
        raise ExamplesError(
            N_("The network must take {side}×{side} inputs, as the examples are."),
            side=EXAMPLE_SIDE,
        )
    return dataclasses.replace(config, classes=examples.names)


@dataclass(frozen=True)
class _Settings:
    """What every run of one fit shares."""

    config: CNNConfig
    steps: int
    seed: int
    lr: float
    batch: int
    augmentation: Augmentation
    threads: int | None


class _Fit:
    """One fit in progress: the runs' results gathered as they finish."""

    def __init__(self, examples: ExampleSet, settings: _Settings, progress, should_stop) -> None:
        self.settings, self.progress, self.should_stop = settings, progress, should_stop
        self.images, self.labels = examples.tensors()
        n, k = len(self.labels), len(examples.names)
        self.method, self.tests = evaluation_plan(examples.counts, settings.seed)
        self.predictions = np.full(n, -1, dtype=np.int64)
        self.probabilities = np.full((n, k), np.nan)
        self.curves: list[RunCurve] = []
        self.stopped, self.model, self.start = False, None, time.perf_counter()

    def plan(self) -> list[tuple[str, int, np.ndarray]]:
        """Return (kind, number, held-out indices) of each run in order."""
        if self.method == HELD_OUT:
            return [(HELD_OUT, 1, self.tests[0])]
        folds = [("fold", i + 1, test) for i, test in enumerate(self.tests)]
        return [*folds, ("final", 1, np.array([], dtype=int))]

    def run_all(self) -> None:
        """Train every run in order; stop after the run that should_stop interrupts."""
        plan = self.plan()
        for i, (kind, number, test) in enumerate(plan):
            self.run_one(i + 1, len(plan), kind, number, test)
            if self.stopped:
                break

    def run_one(self, run: int, runs: int, kind: str, number: int, test: np.ndarray) -> None:
        """Train on every example not in test, then predict test's examples."""
        s = self.settings
        train_idx = np.setdiff1d(np.arange(len(self.labels)), test)
        data = TrainingData(
            s.config.classes,
            self.images[train_idx],
            self.labels[train_idx],
            self.images[test],
            self.labels[test],
        )

        def report(step: int, steps: int, point: TrainPoint, _model: SmallCNN) -> None:
            if self.progress is not None:
                elapsed = time.perf_counter() - self.start
                self.progress(FitProgress(run, runs, kind, number, step, steps, point, elapsed))

        result = train(
            s.config,
            s.steps,
            s.lr,
            s.batch,
            s.seed,
            data,
            report,
            self.should_stop,
            progress_every=max(1, s.steps // 10),
            threads=s.threads,
            augment=s.augmentation,
        )
        if len(test):
            probs = _probabilities(result.model, self.images[test])
            self.probabilities[test] = probs
            self.predictions[test] = probs.argmax(1)
        self.curves.append(RunCurve(kind, number, len(test), tuple(result.history)))
        self.model, self.stopped = result.model, result.stopped


def fit_examples(
    examples: ExampleSet,
    config: CNNConfig,
    steps: int = FIT_STEPS,
    seed: int = 0,
    progress: Callable[[FitProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    threads: int | None = None,
    *,
    augmentation: Augmentation = DEFAULT_AUGMENTATION,
    lr: float = DEFAULT_LR,
    batch: int = FIT_BATCH,
    clock: Callable[[], datetime] | None = None,
) -> FitResult:
    """Return a FitResult: a SmallCNN trained on the examples and its accuracy on unseen ones.

    config gives the architecture (blocks, filters, kernel...); its classes are replaced by the
    set's names and its input must be 64 px. The evaluation is evaluation_plan's: with k-fold
    cross-validation, k models of `steps` steps each predict their held-out fold, then a final
    model trains on every example (k + 1 runs); with a held-out split, one run, and its model is
    the one returned. progress(FitProgress) is called about ten times a run; should_stop is
    polled every step and ends the run in flight, skipping the rest. clock gives the card's date
    (default: now, UTC).
    """
    config = _fit_config(examples, config)
    if not isinstance(augmentation, Augmentation):
        raise ExamplesError(N_("augmentation must be an Augmentation."))
    settings = _Settings(config, steps, seed, lr, batch, augmentation, threads)
    fit = _Fit(examples, settings, progress, should_stop)
    fit.run_all()
    return _result(fit, examples, clock or (lambda: datetime.now(UTC)))


def _result(fit: _Fit, examples: ExampleSet, clock: Callable[[], datetime]) -> FitResult:
    """Return the FitResult of a finished (or stopped) fit, with its card."""
    labels = fit.labels.numpy()
    confusion = confusion_matrix(labels, fit.predictions, len(examples.names))
    evaluated = int(confusion.sum())
    acc = float(np.trace(confusion) / evaluated) if evaluated else math.nan
    folds = len(fit.tests)
    s = fit.settings
    card = {
        "classes": list(examples.names),
        "config": s.config.to_dict(),
        "accuracy": None if math.isnan(acc) else acc,
        "evaluation": {"method": fit.method, "folds": folds, "evaluated": evaluated},
        "examples": list(examples.counts),
        "date": clock().isoformat(timespec="seconds"),
        "augmentation": s.augmentation.to_dict(),
        "steps": s.steps,
        "seed": s.seed,
        "lr": s.lr,
        "batch": s.batch,
        "stopped": fit.stopped,
    }
    return FitResult(
        fit.model,
        card,
        fit.method,
        folds,
        acc,
        fit.predictions,
        fit.probabilities,
        confusion,
        _mistakes(labels, fit.predictions, fit.probabilities),
        tuple(fit.curves),
        time.perf_counter() - fit.start,
        fit.stopped,
    )


def predict_examples(model: SmallCNN, image: object) -> np.ndarray:
    """Return model's class probabilities (K,) float64 for one picture, downscaled like examples."""
    if not isinstance(model, SmallCNN) or model.config.input_size != EXAMPLE_SIDE:
        raise ExamplesError(N_("Predict with a model trained on 64×64 examples."))
    x = torch.from_numpy(downscale(image)).permute(2, 0, 1)[None]  # (1, 3, 64, 64) uint8
    return _probabilities(model, x)[0]  # no dropout or batch norm: the mode changes nothing


# --- saving and loading


def save_model(model: SmallCNN, card: dict) -> bytes:
    """Return the model as .safetensors bytes with card (and its config) as JSON in the metadata."""
    card = {**card, "config": model.config.to_dict(), "classes": list(model.config.classes)}
    _check_card(card)  # never write a file load_model would refuse
    text = json.dumps(card, ensure_ascii=False, sort_keys=True, allow_nan=False)
    weights = model.state_dict().items()
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in weights}
    return save_safetensors(tensors, metadata={"format": "pt", "card": text})


def load_model(data: bytes) -> tuple[SmallCNN, dict]:
    """Return (model in eval mode with frozen weights, card) from save_model's bytes.

    Never unpickles: the header is parsed here (bounded), the tensors by safetensors. Refuses,
    with a ModelLoadError saying why: a file over MAX_MODEL_BYTES, anything that is not
    safetensors, a missing or invalid card, an architecture CNNConfig cannot build or not for
    64-px examples, tensors whose names, shapes or dtype do not match, and NaN or infinite weights.
    """
    data = _check_size(data)
    card = _card_of(_header_of(data))
    config = _config_of(card)
    tensors = _tensors_of(data)
    model = SmallCNN(config)
    _check_tensors(tensors, model.state_dict())
    model.load_state_dict(tensors, strict=True)
    return model.eval().requires_grad_(False), card


def _check_size(data: object) -> bytes:
    """Return data as bytes after checking it is bytes-like and not over MAX_MODEL_BYTES."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ModelLoadError(N_("A model file must be bytes."))
    data = bytes(data)
    if len(data) > MAX_MODEL_BYTES:
        raise ModelLoadError(
            N_("This file has {size:,} bytes; a model here has at most {limit:,}."),
            size=len(data),
            limit=MAX_MODEL_BYTES,
        )
    return data


_NOT_SAFETENSORS = N_("This is not a .safetensors model file ({why}). Download one from this page.")


def _header_of(data: bytes) -> dict:
    """Return the JSON header of safetensors bytes, reading at most _MAX_HEADER_BYTES of it."""
    if len(data) < 8:
        raise ModelLoadError(_NOT_SAFETENSORS, why="too short")
    n = int.from_bytes(data[:8], "little")
    if n > _MAX_HEADER_BYTES or 8 + n > len(data):
        raise ModelLoadError(_NOT_SAFETENSORS, why=f"its header claims {n:,} bytes")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelLoadError(_NOT_SAFETENSORS, why="its header is not JSON") from None
    if not isinstance(header, dict):
        raise ModelLoadError(_NOT_SAFETENSORS, why="its header is not a JSON object")
    return header


def _card_of(header: dict) -> dict:
    """Return the card stored in the header's metadata, checked."""
    meta = header.get("__metadata__")
    text = meta.get("card") if isinstance(meta, dict) else None
    if not isinstance(text, str):
        raise ModelLoadError(N_("This model file has no card (its classes and architecture)."))
    try:
        card = json.loads(text)
    except ValueError:
        raise ModelLoadError(N_("This model file's card is not valid JSON.")) from None
    _check_card(card)
    return card


def _check_card(card: object) -> None:
    """Raise ModelLoadError naming the first missing or wrongly typed field of a card."""
    if not isinstance(card, dict):
        raise ModelLoadError(N_("This model file's card is not a JSON object."))
    for field, kind in _CARD_FIELDS.items():
        value = card.get(field)
        if field not in card or isinstance(value, bool) or not isinstance(value, kind):
            raise ModelLoadError(
                N_("This model file's card has no valid {field!r} field."), field=field
            )
    accuracy = card["accuracy"]
    if accuracy is not None and not 0 <= accuracy <= 1:
        raise ModelLoadError(N_("This model file's card gives an accuracy outside 0–1."))


def _config_of(card: dict) -> CNNConfig:
    """Return the card's CNNConfig, refusing one outside its limits or not for 64-px examples."""
    try:
        names = [clean_name(n) for n in card["classes"]]
        _check_unique(names)
        config = CNNConfig.from_dict(card["config"])
    except (CNNError, TypeError) as err:
        raise ModelLoadError(
            N_("This model file's card describes a network this app cannot build: {reason}"),
            reason=str(err),
        ) from None
    if list(config.classes) != names or not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise ModelLoadError(
            N_("The card's classes must be {low}–{high} names, the same as its config's."),
            low=MIN_CLASSES,
            high=MAX_CLASSES,
        )
    if config.input_size != EXAMPLE_SIDE:
        raise ModelLoadError(
            N_("This model takes {size}-px pictures; models here take {side}."),
            size=config.input_size,
            side=EXAMPLE_SIDE,
        )
    return config


def _tensors_of(data: bytes) -> dict[str, torch.Tensor]:
    """Return the file's tensors, parsed by safetensors (no pickle), or refuse damaged data."""
    try:
        return load_safetensors(data)
    except Exception:  # noqa: BLE001 - safetensors raises its own error types for damaged data
        raise ModelLoadError(_NOT_SAFETENSORS, why="its tensors cannot be read") from None


def _check_tensors(tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Raise ModelLoadError naming the first tensor missing, extra, misshapen or not finite."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ModelLoadError(
            N_("The weights do not match the card: missing {missing}, unexpected {extra}."),
            missing=", ".join(missing) or "none",
            extra=", ".join(extra) or "none",
        )
    for name, want in expected.items():
        got = tensors[name]
        if got.dtype != torch.float32 or got.shape != want.shape:
            raise ModelLoadError(
                N_("Weight {name} is {dtype} {shape}; the card's network needs float32 {need}."),
                name=name,
                dtype=str(got.dtype).removeprefix("torch."),
                shape=tuple(got.shape),
                need=tuple(want.shape),
            )
        if not torch.isfinite(got).all():
            raise ModelLoadError(N_("Weight {name} holds NaN or infinite values."), name=name)
