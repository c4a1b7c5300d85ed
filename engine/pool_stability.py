"""How much of a pooled feature map stays the same when the input shifts, turns or zooms a little?

Four ways of going from a detector map to one at half resolution (Goodfellow et al. section 9.3 on
pooling's approximate invariance; Zhang 2019, "Making Convolutional Networks Shift-Invariant
Again"), each applied to the same small bank of edge kernels:

- max pool: conv → ReLU → 2×2 max pool, stride 2;
- average pool: conv → ReLU → 2×2 average pool, stride 2;
- strided convolution: conv with stride 2 → ReLU (no pooling);
- anti-aliased max pool (Zhang's MaxBlurPool): conv → ReLU → 2×2 max pool at stride 1 → blur with
  the 3×3 binomial [1,2,1]⊗[1,2,1]/16 ("Tri-3" in the paper) sampled every 2nd pixel.

Convolutions and the blur use no padding, so every output is computed from real pixels only. A
pooled output "stays the same" when |after - before| ≤ tol × (the channel's value range before).
The stability is the fraction, over channels and positions, of the outputs that respond (more than
tol × range, before or after) which stay the same; silent units are left out. Images are float
(H, W) gray maps, e.g. in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.conv_arithmetic import ConvConfigError, check_int, check_number, check_tensor
from engine.conv_kernels import make_kernel

STABILITY_METHODS = ("max pool", "average pool", "strided convolution", "anti-aliased max pool")
STABILITY_BANK = (("sobel x", 0.0), ("sobel y", 0.0), ("laplacian", 0.0), ("gabor", 45.0))
BANK_KERNEL_SIZE = 5
SHIFT_DIRECTIONS = ("x", "y", "diagonal")
COMPARISONS = ("moved", "in place")  # where the content went, or the same output position
MIN_SIDE = 16  # smallest image side (after cropping for the shifts) the comparison accepts
MAX_SIDE = 1024
MAX_SHIFT = 32
MAX_TRANSFORMS = 64
ANGLE_RANGE = (-180.0, 180.0)  # degrees
SCALE_RANGE = (0.5, 2.0)  # below 0.5 the central region would sample outside the image
BINOMIAL = torch.tensor([1.0, 2.0, 1.0])  # the blur is its outer product / 16
CHUNK = 8  # images pushed through the pipelines at once: bounds memory at 512×512


def stability_kernels() -> torch.Tensor:
    """Return the (K, 1, k, k) float32 conv weight of the stability kernel bank."""
    kernels = [make_kernel(name, BANK_KERNEL_SIZE, angle) for name, angle in STABILITY_BANK]
    return torch.stack(kernels)[:, None]


def _pipelines(images: torch.Tensor, methods: Sequence[str]) -> dict[str, torch.Tensor]:
    """Return, per method, the (N, K, H', W') half-resolution maps of (N, H, W) images."""
    x = images[:, None]  # (N, 1, H, W)
    weight = stability_kernels()
    out = {}
    with torch.inference_mode():
        if any(method != "strided convolution" for method in methods):
            detector = torch.relu(F.conv2d(x, weight))  # (N, K, H-4, W-4), shared by three methods
        for method in methods:
            if method == "max pool":
                out[method] = F.max_pool2d(detector, 2, 2)
            elif method == "average pool":
                out[method] = F.avg_pool2d(detector, 2, 2)
            elif method == "strided convolution":
                out[method] = torch.relu(F.conv2d(x, weight, stride=2))
            else:  # max without subsampling keeps the max's nonlinearity; the blur drops the
                # frequencies that subsampling would alias (Zhang 2019)
                dense_max = F.max_pool2d(detector, 2, stride=1)
                blur = (BINOMIAL[:, None] * BINOMIAL[None, :] / 16).expand(len(weight), 1, 3, 3)
                out[method] = F.conv2d(dense_max, blur, stride=2, groups=len(weight))
    return out


def _check_methods(methods: object) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    if not isinstance(methods, Sequence) or len(methods) == 0:
        raise ConvConfigError(f"Choose at least one method of: {', '.join(STABILITY_METHODS)}.")
    chosen = []
    for method in methods:
        key = method.strip().lower() if isinstance(method, str) else method
        if key not in STABILITY_METHODS:
            raise ConvConfigError(
                f"Unknown method {method!r}; choose from: {', '.join(STABILITY_METHODS)}."
            )
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)


def _check_image(image: object) -> torch.Tensor:
    if isinstance(image, torch.Tensor) and image.dim() == 3:
        raise ConvConfigError(
            f"The stability measurement needs a gray (H, W) image, got shape "
            f"{tuple(image.shape)}; convert the image to gray first."
        )
    image = check_tensor("image", image, (2,))
    if min(image.shape) < MIN_SIDE or max(image.shape) > MAX_SIDE:
        raise ConvConfigError(
            f"The stability measurement needs an image between {MIN_SIDE} and {MAX_SIDE} pixels "
            f"a side, got {image.shape[0]}×{image.shape[1]}; resize it first."
        )
    return image.float()


def _check_tol(tol: object) -> float:
    tol = check_number("tol", tol)
    if not 0.0 <= tol <= 1.0:
        raise ConvConfigError(f"tol is a fraction of each channel's range: 0 to 1, got {tol}.")
    return tol


def stability_pipeline(image: torch.Tensor, method: str) -> torch.Tensor:
    """Return the (K, H', W') half-resolution maps of one (H, W) image by one method."""
    (method,) = _check_methods((method,))
    return _pipelines(_check_image(image)[None], (method,))[method][0]


def _fraction_same(
    before: torch.Tensor, after: torch.Tensor, span: torch.Tensor, tol: float
) -> torch.Tensor:
    """Return (N,): of the (K, h, w) outputs that respond, the fraction within tol × range.

    before and after are (N, K, h, w); span (K,) is each channel's value range before. Outputs
    that stay silent in both (|value| ≤ tol × range) are not counted: they say nothing about
    stability, and on an image with flat areas they would swamp the count. No responding output
    at all counts as fully stable (1).
    """
    limit = tol * span[:, None, None]  # (K, 1, 1)
    same = (after - before).abs() <= limit  # (N, K, h, w)
    active = (after.abs() > limit) | (before.abs() > limit)
    counted = active.sum(dim=(1, 2, 3))
    kept = (same & active).sum(dim=(1, 2, 3))
    return torch.where(counted > 0, kept / counted.clamp(min=1), 1.0).double()


Aligner = Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


def _curves(
    reference: torch.Tensor,
    variants: Sequence[torch.Tensor],
    methods: tuple[str, ...],
    tol: float,
    align: Aligner,
) -> dict[str, np.ndarray]:
    """Return per method the fraction of responding pooled outputs each variant keeps.

    reference and every variant are (H, W). align(before (K, h, w), after (n, K, h, w), first)
    returns the (n, K, h', w') pairs to compare for variants first..first+n-1.
    """
    before = {m: maps[0] for m, maps in _pipelines(reference[None], methods).items()}  # (K, h, w)
    span = {m: ref.amax(dim=(1, 2)) - ref.amin(dim=(1, 2)) for m, ref in before.items()}  # (K,)
    fractions: dict[str, list[torch.Tensor]] = {method: [] for method in methods}
    for first in range(0, len(variants), CHUNK):
        batch = torch.stack(list(variants[first : first + CHUNK]))  # (n, H, W)
        after = _pipelines(batch, methods)  # method -> (n, K, h, w)
        for method in methods:
            ref, out = align(before[method], after[method], first)
            fractions[method].append(_fraction_same(ref, out, span[method], tol))
    return {method: torch.cat(parts).numpy() for method, parts in fractions.items()}


def _central(before: torch.Tensor, after: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the central squares (side half the smaller side) of (n, K, h, w) before and after."""
    height, width = before.shape[-2:]
    side = max(1, min(height, width) // 2)
    top, left = (height - side) // 2, (width - side) // 2
    window = (..., slice(top, top + side), slice(left, left + side))
    return before[window], after[window]


def _transform_aligner(theta_for: Callable[[int, int], torch.Tensor], moved: bool) -> Aligner:
    """Return the aligner for resampled images, comparing inside the central square.

    theta_for(h, w) gives the (N, 2, 3) output→input maps for an h×w grid. With moved=True the
    reference pooled map is resampled through the same map (where the content went), otherwise
    compared in place.
    """

    def align(before: torch.Tensor, after: torch.Tensor, first: int):
        count, channels, height, width = after.shape
        references = before[None].expand(count, -1, -1, -1)  # (n, K, h, w)
        if moved:
            theta = theta_for(height, width)[first : first + count]
            grid = F.affine_grid(theta, [count, channels, height, width], align_corners=False)
            references = F.grid_sample(references, grid, mode="bilinear", align_corners=False)
        return _central(references, after)

    return align


def _shift_aligner(axes: tuple[int, ...], max_shift: int, moved: bool) -> Aligner:
    """Return the aligner for shifts 0..max_shift along axes (-2 rows, -1 columns).

    With moved=True the output of the shifted input is compared with the reference moved by s/2
    cells (every method subsamples by 2), where that content went; a half cell is the mean of the
    two cells either side (linear interpolation). Otherwise both are compared in place. The first
    ceil(max_shift/2) cells along each shifted axis are left out, for every s alike.
    """
    margin = (max_shift + 1) // 2

    def align(before: torch.Tensor, after: torch.Tensor, first: int):
        references = []
        for s in range(first, first + after.shape[0]):
            lo, hi = (s // 2, (s + 1) // 2) if moved else (0, 0)
            ref = before  # (K, h, w)
            for axis in axes:
                kept = ref.shape[axis] - margin
                ref = 0.5 * (
                    ref.narrow(axis, margin - lo, kept) + ref.narrow(axis, margin - hi, kept)
                )
            references.append(ref)
        for axis in axes:
            after = after.narrow(axis, margin, after.shape[axis] - margin)
        return torch.stack(references), after  # (n, K, h', w') each

    return align


def shift_stability(
    image: torch.Tensor,
    max_shift: int,
    methods: Sequence[str] = STABILITY_METHODS,
    tol: float = 0.05,
    direction: str = "x",
    compare: str = "moved",
) -> dict[str, np.ndarray]:
    """Return per method a (max_shift+1,) curve: the share of pooled outputs that a shift s keeps.

    Shifting by s moves the content s pixels right ("x"), down ("y") or both ("diagonal"). It is
    done by cropping, not by padding or wrapping: x is the crop image[m:, m:] (m = max_shift
    along the shifted axes) and shift(x, s) the crop image[m-s:, m-s:] of the same size, so the
    new pixels coming in are real image content and no border effect has to be cropped.

    compare="moved" (Zhang 2019's shift-equivariance) looks where the content went: s/2 cells
    along, since every method halves the resolution; even shifts then keep every output for all
    four methods (they are exactly equivariant to shifts by 2) and odd shifts show the aliasing.
    compare="in place" looks at the same output position (the book's invariance: "most pooled
    outputs do not change"), which is only meaningful for a shift well inside one window, s = 1.
    s = 0 gives 1.
    """
    image = _check_image(image)
    methods = _check_methods(methods)
    tol = _check_tol(tol)
    key = direction.strip().lower() if isinstance(direction, str) else direction
    if key not in SHIFT_DIRECTIONS:
        raise ConvConfigError(
            f"Unknown shift direction {direction!r}; choose one of: {', '.join(SHIFT_DIRECTIONS)}."
        )
    moved = _check_compare(compare)
    axes = {"x": (-1,), "y": (-2,), "diagonal": (-2, -1)}[key]
    height, width = image.shape
    shifted_side = min(image.shape[axis] for axis in axes)
    largest = min(MAX_SHIFT, shifted_side - MIN_SIDE)
    max_shift = check_int("max_shift", max_shift, 0)
    if max_shift > largest:
        raise ConvConfigError(
            f"max_shift {max_shift} is too large for a {height}×{width} image: the crops must "
            f"keep {MIN_SIDE} pixels (and shifts stop at {MAX_SHIFT}); "
            f"use max_shift ≤ {max(largest, 0)}."
        )
    rows, cols = int(-2 in axes), int(-1 in axes)  # 1 where the axis is shifted
    m = max_shift
    crops = [
        image[rows * (m - s) : height - rows * s, cols * (m - s) : width - cols * s]
        for s in range(m + 1)
    ]
    align = _shift_aligner(axes, max_shift, moved)
    return _curves(crops[0], crops, methods, tol, align)


def consistency(curves: dict[str, np.ndarray]) -> dict[str, float]:
    """Return one number per method: the mean of its shift curve over shifts s ≥ 1."""
    if not isinstance(curves, dict) or not curves:
        raise ConvConfigError("consistency needs the curves returned by shift_stability.")
    result = {}
    for method, curve in curves.items():
        curve = np.asarray(curve, dtype=np.float64)
        if curve.ndim != 1 or curve.shape[0] < 2:
            raise ConvConfigError(
                f"The curve for {method!r} has no shift ≥ 1; measure with max_shift ≥ 1."
            )
        result[method] = float(curve[1:].mean())
    return result


def _transformed(image: torch.Tensor, theta: torch.Tensor) -> list[torch.Tensor]:
    """Return the (H, W) image resampled (bilinear, zeros outside) through each (2, 3) map."""
    height, width = image.shape
    out = []
    with torch.inference_mode():
        for first in range(0, theta.shape[0], CHUNK):
            part = theta[first : first + CHUNK]  # (n, 2, 3)
            grid = F.affine_grid(part, [part.shape[0], 1, height, width], align_corners=False)
            batch = image.expand(part.shape[0], 1, height, width)  # (n, 1, H, W)
            sampled = F.grid_sample(batch, grid, mode="bilinear", align_corners=False)
            out.extend(sampled[:, 0])
    return out


def _check_values(name: str, values: object, bounds: tuple[float, float]) -> list[float]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ConvConfigError(f"{name} must be a list of numbers.")
    if not 1 <= len(values) <= MAX_TRANSFORMS:
        raise ConvConfigError(f"Give between 1 and {MAX_TRANSFORMS} {name}, got {len(values)}.")
    checked = [check_number(name, value) for value in values]
    low, high = bounds
    for value in checked:
        if not low <= value <= high:
            raise ConvConfigError(f"{name} must lie between {low} and {high}, got {value}.")
    return checked


def _check_compare(compare: object) -> bool:
    """Return True for "moved", False for "in place"."""
    how = compare.strip().lower() if isinstance(compare, str) else compare
    if how not in COMPARISONS:
        raise ConvConfigError(
            f"Unknown comparison {compare!r}; choose one of: {', '.join(COMPARISONS)}."
        )
    return how == "moved"


def _rotation_theta(angles: list[float], height: int, width: int) -> torch.Tensor:
    """Return (N, 2, 3) output→input maps turning the content counter-clockwise on screen.

    An output point at (x, y) from the centre (y down) reads the input where the content came
    from, the point turned clockwise by the angle; affine_grid works in [-1, 1] units per axis,
    hence the aspect-ratio factors.
    """
    radians = torch.tensor(angles, dtype=torch.float64) * (math.pi / 180)
    cos, sin, zero = torch.cos(radians), torch.sin(radians), torch.zeros(len(angles))
    rows = (
        torch.stack((cos, -sin * height / width, zero), dim=-1),
        torch.stack((sin * width / height, cos, zero), dim=-1),
    )
    return torch.stack(rows, dim=1).float()


def rotation_stability(
    image: torch.Tensor,
    angles: Sequence[float],
    methods: Sequence[str] = STABILITY_METHODS,
    tol: float = 0.05,
    compare: str = "moved",
) -> dict[str, np.ndarray]:
    """Return per method a (len(angles),) curve: the share of pooled outputs each rotation keeps.

    Angles in degrees, counter-clockwise on screen, about the image centre (bilinear resampling).
    compare="moved" checks pooled(rotate(x)) against rotate(pooled(x)); "in place" against
    pooled(x) itself. Compared inside the central square of the pooled maps (side half the
    smaller side), which stays inside the image at every angle. Angle 0 gives 1 (up to rounding).
    """
    image = _check_image(image)
    methods = _check_methods(methods)
    tol = _check_tol(tol)
    angles = _check_values("angles (degrees)", angles, ANGLE_RANGE)
    moved = _check_compare(compare)
    variants = _transformed(image, _rotation_theta(angles, *image.shape))
    align = _transform_aligner(lambda h, w: _rotation_theta(angles, h, w), moved)
    return _curves(image, variants, methods, tol, align)


def _scale_theta(scales: list[float]) -> torch.Tensor:
    """Return (N, 2, 3) output→input maps zooming about the centre by each scale."""
    inverse = 1.0 / torch.tensor(scales)
    zero = torch.zeros(len(scales))
    rows = (
        torch.stack((inverse, zero, zero), dim=-1),
        torch.stack((zero, inverse, zero), dim=-1),
    )
    return torch.stack(rows, dim=1)


def scale_stability(
    image: torch.Tensor,
    scales: Sequence[float],
    methods: Sequence[str] = STABILITY_METHODS,
    tol: float = 0.05,
    compare: str = "moved",
) -> dict[str, np.ndarray]:
    """Return per method a (len(scales),) curve: the share of pooled outputs each rescaling keeps.

    A scale above 1 zooms in about the image centre (content grows), below 1 zooms out; bilinear
    resampling. compare="moved" checks pooled(zoom(x)) against zoom(pooled(x)); "in place"
    against pooled(x). Compared inside the central square of the pooled maps. Scale 1 gives 1.
    """
    image = _check_image(image)
    methods = _check_methods(methods)
    tol = _check_tol(tol)
    scales = _check_values("scales", scales, SCALE_RANGE)
    moved = _check_compare(compare)
    theta = _scale_theta(scales)
    align = _transform_aligner(lambda h, w: theta, moved)
    return _curves(image, _transformed(image, theta), methods, tol, align)
