"""Why did the small CNN say that? Unit arithmetic, saliency, Grad-CAM, HiResCAM, patches, filters.

`unit_formula` rebuilds one activation from the layer below by explicit indexing (a conv unit's
patches × kernels + bias, max(0, x), a pool window's max, the flattened index, w·x + b and the
softmax), so comparing it with forward_all checks the network's own arithmetic. The attributions
take one backward pass each and never touch the (shared) model's parameters or their .grad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.cnn.small_cnn import Activation, CNNError, SmallCNN

__all__ = [
    "ConvFormula",
    "Evidence",
    "FlattenFormula",
    "Formula",
    "OutputFormula",
    "PoolFormula",
    "ReluFormula",
    "evidence",
    "filter_images",
    "first_layer_filters",
    "grad_cam",
    "hires_cam",
    "hires_cam_layer",
    "saliency",
    "top_activating_patches",
    "unit_formula",
]


@dataclass(frozen=True)
class ConvFormula:
    """A conv unit: value = Σ patches · kernels + bias, over all input channels."""

    layer: str
    input_layer: str  # the layer whose outputs the patches come from ("input", "pool1", ...)
    channel: int
    row: int
    col: int
    top_left: tuple[int, int]  # input-map position of patches[:, 0, 0] (negative in the padding)
    inside: torch.Tensor  # (k, k) bool: False where the patch lies in the zero padding
    patches: torch.Tensor  # (C_in, k, k) the input values under the kernel (0 in the padding)
    kernels: torch.Tensor  # (C_in, k, k) the weights of output channel `channel`
    products: torch.Tensor  # (C_in, k, k) patches * kernels
    bias: float
    total: float  # products.sum() + bias, summed in float64
    value: float  # the network's own activation, for comparison


@dataclass(frozen=True)
class ReluFormula:
    """A ReLU unit: value = max(0, x)."""

    layer: str
    input_layer: str
    channel: int
    row: int
    col: int
    x: float  # the conv output below
    total: float  # max(0, x)
    value: float


@dataclass(frozen=True)
class PoolFormula:
    """A max-pool unit: value = the largest of a 2×2 window."""

    layer: str
    input_layer: str
    channel: int
    row: int
    col: int
    top_left: tuple[int, int]  # input-map position of window[0, 0]
    window: torch.Tensor  # (2, 2)
    argmax: tuple[int, int]  # (row, col) inside the window of the winner (first if tied)
    total: float  # window.max()
    value: float


@dataclass(frozen=True)
class FlattenFormula:
    """An entry of the flattened vector: a copy of one unit of the last feature maps."""

    layer: str
    input_layer: str
    index: int  # position in the vector = channel·h·w + row·w + col
    source: tuple[int, int, int]  # (channel, row, col) in input_layer
    total: float
    value: float


@dataclass(frozen=True)
class OutputFormula:
    """A class score: logit = w·x + b over the flattened vector, then the softmax over classes."""

    layer: str  # "logits" or "softmax"
    input_layer: str  # "flatten"
    class_index: int
    class_name: str
    inputs: torch.Tensor  # (F,) the flattened vector
    weights: torch.Tensor  # (F,) the classifier's row for this class
    products: torch.Tensor  # (F,) inputs * weights
    bias: float
    logit: float  # products.sum() + bias, in float64
    logits: torch.Tensor  # (K,) every class's logit, as the network computed them
    exps: torch.Tensor  # (K,) exp(logits - logits.max()): shifting keeps exp finite
    probabilities: torch.Tensor  # (K,) exps / exps.sum(); sums to 1
    total: float  # logit for layer "logits", probabilities[class_index] for "softmax"
    value: float  # the network's own logit or probability


Formula = ConvFormula | ReluFormula | PoolFormula | FlattenFormula | OutputFormula


def _image(model: SmallCNN, x: torch.Tensor) -> torch.Tensor:
    """Return x as a (1, 3, S, S) float batch, or raise CNNError saying what is wrong."""
    side = model.config.input_size
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise CNNError("The image must be a float tensor (use shapes_data.preprocess).")
    if x.dim() == 3:
        x = x[None]
    if tuple(x.shape) != (1, 3, side, side):
        raise CNNError(f"The image must be (3, {side}, {side}), got {tuple(x.shape)}.")
    return x


def _find(acts: list[Activation], layer: str) -> int:
    """Return the position of layer in acts, or raise CNNError listing the names."""
    for i, a in enumerate(acts):
        if a.name == layer:
            return i
    raise CNNError(f"No layer {layer!r}; choose one of: {', '.join(a.name for a in acts)}.")


def _check_index(what: str, value: object, size: int) -> int:
    """Return value as an int in [0, size), or raise CNNError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise CNNError(f"{what} must be a whole number from 0 to {size - 1}, got {value!r}.")
    return int(value)


def unit_formula(
    model: SmallCNN,
    x: torch.Tensor,
    layer_name: str,
    channel: int,
    row: int = 0,
    col: int = 0,
    *,
    acts: list[Activation] | None = None,
) -> Formula:
    """Return the Formula rebuilding unit (channel, row, col) of layer_name for image x (3, S, S).

    For "flatten", "logits" and "softmax" the unit is `channel` (the vector index or the class);
    row and col are ignored. layer "input" has no formula (CNNError). acts: model.forward_all(
    x[None]) if the caller has it already (saves a forward pass); it is not checked against x.
    """
    x = _image(model, x)
    if acts is None:
        with torch.inference_mode():
            acts = model.forward_all(x)
    acts = [Activation(a.name, a.kind, a.tensor.detach()) for a in acts]  # numbers, no graph
    i = _find(acts, layer_name)
    act, below = acts[i], acts[i - 1] if i else None
    if below is None:
        raise CNNError("The input is not computed from anything; pick a layer of the network.")
    if act.kind in ("flatten", "logits", "softmax"):
        return _vector_formula(
            model, acts, i, _check_index("The unit", channel, act.tensor.shape[1])
        )
    out = act.tensor[0]  # (C, H, W)
    c = _check_index("The channel", channel, out.shape[0])
    r, q = _check_index("The row", row, out.shape[1]), _check_index("The column", col, out.shape[2])
    src = below.tensor[0]  # (C_in, H_in, W_in)
    value = float(out[c, r, q])
    if act.kind == "relu":
        v = float(src[c, r, q])
        return ReluFormula(act.name, below.name, c, r, q, v, max(0.0, v), value)
    if act.kind == "pool":
        window = src[c, 2 * r : 2 * r + 2, 2 * q : 2 * q + 2].clone()  # (2, 2)
        flat = int(torch.argmax(window))  # first maximum in row-major order, as torch picks
        win = (flat // 2, flat % 2)
        return PoolFormula(
            act.name, below.name, c, r, q, (2 * r, 2 * q), window, win, float(window.max()), value
        )
    return _conv_formula(model, act, below, c, r, q, value)


def _conv_formula(
    model: SmallCNN, act: Activation, below: Activation, c: int, r: int, q: int, value: float
) -> ConvFormula:
    """Return the ConvFormula of unit (c, r, q): the padded patches gathered by hand."""
    conv = model.convs[act.name]
    k, pad = conv.kernel_size[0], conv.padding[0]
    src = below.tensor[0]  # (C_in, H, W)
    height, width = src.shape[1:]
    top, left = r - pad, q - pad
    patches = src.new_zeros(src.shape[0], k, k)  # (C_in, k, k), zeros stand for the padding
    inside = torch.zeros(k, k, dtype=torch.bool)
    r0, r1 = max(top, 0), min(top + k, height)
    c0, c1 = max(left, 0), min(left + k, width)
    patches[:, r0 - top : r1 - top, c0 - left : c1 - left] = src[:, r0:r1, c0:c1]
    inside[r0 - top : r1 - top, c0 - left : c1 - left] = True
    kernels = conv.weight[c].detach().clone()  # (C_in, k, k)
    bias = float(conv.bias.detach()[c])
    products = patches * kernels
    total = float(products.double().sum()) + bias
    return ConvFormula(
        act.name,
        below.name,
        c,
        r,
        q,
        (top, left),
        inside,
        patches,
        kernels,
        products,
        bias,
        total,
        value,
    )


def _vector_formula(model: SmallCNN, acts: list[Activation], i: int, unit: int) -> Formula:
    """Return the FlattenFormula or OutputFormula of entry `unit` of acts[i]."""
    act = acts[i]
    value = float(act.tensor[0, unit])
    if act.kind == "flatten":
        maps = acts[i - 1].tensor[0]  # (C, h, w)
        _, h, w = maps.shape
        c, r, q = unit // (h * w), unit // w % h, unit % w
        return FlattenFormula(
            act.name, acts[i - 1].name, unit, (c, r, q), float(maps[c, r, q]), value
        )
    flat = next(a for a in acts if a.kind == "flatten")
    logits = next(a for a in acts if a.kind == "logits").tensor[0].clone()  # (K,)
    inputs = flat.tensor[0].clone()  # (F,)
    weights = model.fc.weight[unit].detach().clone()  # (F,)
    products = inputs * weights
    bias = float(model.fc.bias.detach()[unit])
    logit = float(products.double().sum()) + bias
    exps = torch.exp(logits - logits.max())  # (K,)
    probs = exps / exps.sum()
    total = logit if act.kind == "logits" else float(probs[unit])
    return OutputFormula(
        act.name,
        flat.name,
        unit,
        model.config.classes[unit],
        inputs,
        weights,
        products,
        bias,
        logit,
        logits,
        exps,
        probs,
        total,
        value,
    )


def _class(model: SmallCNN, class_index: int) -> int:
    return _check_index("The class index", class_index, len(model.config.classes))


def saliency(model: SmallCNN, x: torch.Tensor, class_index: int) -> torch.Tensor:
    """Return (H, W): |∂ logit_class / ∂ input|, the max over the 3 colour channels.

    Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks" (2014): the class score
    is the logit (before softmax); one backward pass, only to the input.
    """
    image = _image(model, x).detach().clone().requires_grad_(True)  # (1, 3, S, S)
    k = _class(model, class_index)
    with torch.enable_grad():
        score = model(image)[0, k]
        (grad,) = torch.autograd.grad(score, image)
    return grad[0].abs().amax(0)  # (H, W)


def _cam_layer_and_gradient(
    model: SmallCNN, x: torch.Tensor, class_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (A, ∂ logit_class / ∂A), each (C, h, w), at model.cam_layer for one image."""
    image = _image(model, x).detach().clone().requires_grad_(True)
    k = _class(model, class_index)
    with torch.enable_grad():
        acts = model.forward_all(image)
        maps = acts[_find(acts, model.cam_layer)].tensor  # (1, C, h, w)
        score = next(a for a in acts if a.kind == "logits").tensor[0, k]
        (grad,) = torch.autograd.grad(score, maps)
    return maps[0].detach(), grad[0]


def grad_cam(model: SmallCNN, x: torch.Tensor, class_index: int) -> torch.Tensor:
    """Return (H, W) in [0, 1]: Grad-CAM of the class at model.cam_layer, upsampled bilinearly.

    Selvaraju et al., "Grad-CAM" (2017): weight each map A_c of the last conv layer (after its
    ReLU) by the spatial mean of ∂ logit / ∂ A_c, sum, keep the positive part, divide by the max
    (all zeros when nothing is positive).
    """
    maps, grad = _cam_layer_and_gradient(model, x, class_index)
    weights = grad.mean((1, 2))  # (C,)
    cam = F.relu((weights[:, None, None] * maps).sum(0))  # (h, w)
    side = model.config.input_size
    cam = F.interpolate(cam[None, None], size=(side, side), mode="bilinear", align_corners=False)
    cam = cam[0, 0].clamp_min(0)  # (H, W)
    peak = float(cam.max())
    return cam / peak if peak > 0 else cam


def hires_cam_layer(model: SmallCNN, x: torch.Tensor, class_index: int) -> torch.Tensor:
    """Return (h, w), signed, in logit units: HiResCAM of the class at model.cam_layer.

    Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations" (2020):
    L(i, j) = Σ_c ∂z/∂A_c(i, j) · A_c(i, j), every position with its own gradient (Grad-CAM
    averages them per map first). Positive: evidence for the class, negative: against it. Here
    only max pool, flatten and the linear head follow A, all piecewise linear and positively
    homogeneous, so the map adds up exactly to the logit minus the class's bias (Euler).
    """
    maps, grad = _cam_layer_and_gradient(model, x, class_index)
    return (grad * maps).sum(0)  # (h, w)


@dataclass(frozen=True)
class Evidence:
    """A signed evidence map (HiResCAM) summed: for, against, net, and its strongest unit."""

    for_: float  # the sum of the positive entries
    against: float  # the sum of the negative entries (≤ 0)
    total: float  # for_ + against: the whole map, in float64
    strongest: tuple[int, int]  # (row, col) of the entry of largest magnitude
    strongest_value: float


def evidence(hires: np.ndarray | torch.Tensor) -> Evidence:
    """Return the Evidence of a (h, w) signed map (e.g. hires_cam_layer's), summed in float64."""
    m = np.asarray(hires, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise CNNError(f"An evidence map must be a non-empty (h, w) array, got shape {m.shape}.")
    row, col = np.unravel_index(int(np.abs(m).argmax()), m.shape)
    return Evidence(
        float(m[m > 0].sum()),
        float(m[m < 0].sum()),
        float(m.sum()),
        (int(row), int(col)),
        float(m[row, col]),
    )


def hires_cam(model: SmallCNN, x: torch.Tensor, class_index: int) -> torch.Tensor:
    """Return (H, W), signed: hires_cam_layer repeated over the input pixels each unit sits on.

    Nearest-neighbour upsampling (no smoothing, no normalisation): a unit of a layer pooled p
    times is centred on a 2^p × 2^p pixel block, and that block shows the unit's own value.
    """
    cam = hires_cam_layer(model, x, class_index)
    side = model.config.input_size
    return F.interpolate(cam[None, None], size=(side, side), mode="nearest")[0, 0]


def top_activating_patches(
    model: SmallCNN, images: torch.Tensor, layer: str, channel: int, k: int = 9
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (patches (k, 3, r, r), values (k,), positions (k, 3) long) for one filter.

    Each image (N, 3, S, S) contributes its strongest unit of `channel` in `layer` (a conv, relu
    or pool layer); the k strongest images win (k is capped at N). A patch is that unit's
    receptive field, r × r input pixels (model.receptive_fields()), zero where it overhangs the
    image; positions are (image index, row, col) of the unit in the layer's map.
    """
    fields = model.receptive_fields()
    if layer not in fields or layer == "input":
        names = [n for n in fields if n != "input"]
        raise CNNError(f"Pick a conv, ReLU or pool layer: {', '.join(names)}; got {layer!r}.")
    side = model.config.input_size
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or len(images) == 0:
        raise CNNError(f"images must be a non-empty (N, 3, {side}, {side}) tensor.")
    if tuple(images.shape[1:]) != (3, side, side):
        raise CNNError(f"images must be (N, 3, {side}, {side}), got {tuple(images.shape)}.")
    channel = _check_index("The channel", channel, model.config.filters)
    k = min(_check_index("k", k, 10_000) if k else 0, len(images))
    if k < 1:
        raise CNNError("k must be at least 1.")
    best, where = [], []
    with torch.inference_mode():
        for i in range(0, len(images), 256):
            chunk = images[i : i + 256]
            chunk = chunk.float() / 255 if chunk.dtype == torch.uint8 else chunk.float()
            maps = model.forward_to(chunk, layer)[:, channel]  # (n, h, w)
            values, flat = maps.flatten(1).max(1)  # (n,) each
            best.append(values)
            where.append(flat)
    values, flat = torch.cat(best), torch.cat(where)  # (N,)
    width = maps.shape[-1]
    top = torch.topk(values, k).indices  # (k,)
    r, jump, start = fields[layer]
    positions = torch.stack([top, flat[top] // width, flat[top] % width], 1)  # (k, 3)
    margin = r  # enough padding for any field that overhangs
    padded = F.pad(images[top].float() / (255 if images.dtype == torch.uint8 else 1), (margin,) * 4)
    patches = torch.empty(k, 3, r, r)
    for j, (_, row, col) in enumerate(positions.tolist()):
        y0 = round(start + jump * row - (r - 1) / 2) + margin  # whole: (r - 1)/2 - start is
        x0 = round(start + jump * col - (r - 1) / 2) + margin
        patches[j] = padded[j, :, y0 : y0 + r, x0 : x0 + r]
    return patches, values[top].clone(), positions


def first_layer_filters(model: SmallCNN) -> torch.Tensor:
    """Return a copy of the first conv layer's weights, (F, 3, k, k)."""
    return next(iter(model.convs.values())).weight.detach().clone()


def filter_images(weights: torch.Tensor) -> torch.Tensor:
    """Return (F, k, k, 3) RGB images in [0, 1] of weights (F, 3, k, k): 0.5 means weight 0.

    Each filter is scaled by its own largest |weight|, so its pattern (not its size) shows.
    """
    peak = weights.abs().amax((1, 2, 3), keepdim=True).clamp_min(1e-12)  # (F, 1, 1, 1)
    return (0.5 + 0.5 * weights / peak).permute(0, 2, 3, 1)


def runner_up(probs: np.ndarray | torch.Tensor) -> int:
    """Return the index of the second-largest probability (the first of equals wins)."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.size < 2:
        raise CNNError(f"A runner-up needs at least two classes, got {p.size}.")
    return int(np.argsort(-p, kind="stable")[1])


def loudest_layer(maps: dict[str, np.ndarray]) -> tuple[str, float]:
    """Return (name, value): the layer holding the largest magnitude, and that magnitude."""
    if not maps:
        raise CNNError("No layers to compare.")
    peaks = {name: float(np.abs(np.asarray(a)).max()) for name, a in maps.items()}
    name = max(peaks, key=peaks.get)
    return name, peaks[name]


def cam_is_blank(cam: np.ndarray | torch.Tensor) -> bool:
    """Return True when a Grad-CAM map is zero everywhere (nothing positive survived its ReLU)."""
    return not bool((np.asarray(cam) > 0).any())
