"""How much of a pooled feature map stays the same when the input shifts a little?

Four ways of going from a detector map to one at half resolution (Goodfellow et al. section 9.3 on
pooling's approximate invariance; Zhang 2019, "Making Convolutional Networks Shift-Invariant
Again"), each applied to the same small bank of edge kernels:

- max pool: conv → ReLU → 2×2 max pool, stride 2;
- average pool: conv → ReLU → 2×2 average pool, stride 2;
- strided convolution: conv with stride 2 → ReLU (no pooling);
- anti-aliased max pool (Zhang's MaxBlurPool): conv → ReLU → 2×2 max pool at stride 1 → blur with
  the 3×3 binomial [1,2,1]⊗[1,2,1]/16 ("Tri-3" in the paper) sampled every 2nd pixel.

Each is a stride-1 map sampled at every 2nd pixel. Convolutions and the blur use no padding, so
every output is computed from real pixels only. A pooled output "stays the same" when
|after - before| ≤ tol × (the channel's value range before). The stability is the fraction, over
channels and positions, of the outputs that respond (more than tol × range, before or after)
which stay the same; silent units are left out. Images are float (H, W) gray maps, e.g. in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.conv import make_kernel
from engine.core import N_, check_int, check_number, check_tensor
from engine.pooling.errors import PoolingError

STABILITY_METHODS = (
    N_("max pool"),
    N_("average pool"),
    N_("strided convolution"),
    N_("anti-aliased max pool"),
)
STABILITY_BANK = (("sobel x", 0.0), ("sobel y", 0.0), ("laplacian", 0.0), ("gabor", 45.0))
BANK_KERNEL_SIZE = 5
SHIFT_DIRECTIONS = ("x", "y", N_("diagonal"))
COMPARISONS = (N_("moved"), N_("in place"))  # where the content went, or the same output position
STABILITY_TOL = 0.05  # an output is kept when it moves less than this fraction of its map range
MIN_SIDE = 16  # smallest image side (after cropping for the shifts) the comparison accepts
MAX_SIDE = 1024
MAX_SHIFT = 32
FOOTPRINT = {  # input pixels (per axis) behind one output, i.e. shrinkage + 1 of the dense map
    "max pool": 6,
    "average pool": 6,
    "strided convolution": 5,
    "anti-aliased max pool": 8,
}
BINOMIAL = torch.tensor([1.0, 2.0, 1.0])  # the blur is its outer product / 16
CHUNK = 8  # images pushed through the pipelines at once: bounds memory at 512×512


def stability_kernels() -> torch.Tensor:
    """Return the (K, 1, k, k) float32 conv weight of the stability kernel bank."""
    kernels = [make_kernel(name, BANK_KERNEL_SIZE, angle) for name, angle in STABILITY_BANK]
    return torch.stack(kernels)[:, None]


def _dense_maps(images: torch.Tensor, methods: Sequence[str]) -> dict[str, torch.Tensor]:
    """Return per method the stride-1 maps (N, K, H-f+1, W-f+1) of (N, H, W) images.

    Every method is such a map sampled at every 2nd pixel (f = FOOTPRINT[method]): subsampling is
    the only step that is not shift-equivariant, which is where the aliasing comes from.
    """
    weight = stability_kernels()
    channels = weight.shape[0]
    out = {}
    with torch.inference_mode():
        detector = torch.relu(F.conv2d(images[:, None], weight))  # (N, K, H-4, W-4)
        if "max pool" in methods or "anti-aliased max pool" in methods:
            dense_max = F.max_pool2d(detector, 2, stride=1)  # (N, K, H-5, W-5)
        for method in methods:
            if method == "max pool":
                out[method] = dense_max
            elif method == "average pool":
                out[method] = F.avg_pool2d(detector, 2, stride=1)
            elif method == "strided convolution":
                out[method] = detector  # a stride-2 conv is the stride-1 conv, sampled
            else:  # max without subsampling keeps the max's nonlinearity; the blur drops the
                # frequencies that subsampling would alias (Zhang 2019)
                blur = (BINOMIAL[:, None] * BINOMIAL[None, :] / 16).expand(channels, 1, 3, 3)
                out[method] = F.conv2d(dense_max, blur, groups=channels)
    return out


def _pipelines(images: torch.Tensor, methods: Sequence[str]) -> dict[str, torch.Tensor]:
    """Return, per method, the (N, K, H', W') half-resolution maps of (N, H, W) images."""
    return {m: maps[..., ::2, ::2] for m, maps in _dense_maps(images, methods).items()}


def _check_methods(methods: object) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    if not isinstance(methods, Sequence) or len(methods) == 0:
        raise PoolingError(f"Choose at least one method of: {', '.join(STABILITY_METHODS)}.")
    chosen = []
    for method in methods:
        key = method.strip().lower() if isinstance(method, str) else method
        if key not in STABILITY_METHODS:
            raise PoolingError(
                f"Unknown method {method!r}; choose from: {', '.join(STABILITY_METHODS)}."
            )
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)


def _check_image(image: object) -> torch.Tensor:
    if isinstance(image, torch.Tensor) and image.dim() == 3:
        raise PoolingError(
            "The stability measurement needs a gray (H, W) image, got shape {shape}; convert "
            "the image to gray first.",
            shape=tuple(image.shape),
        )
    image = check_tensor("image", image, (2,), error=PoolingError)
    if min(image.shape) < MIN_SIDE or max(image.shape) > MAX_SIDE:
        raise PoolingError(
            "The stability measurement needs an image between {low} and {high} pixels a side, "
            "got {h}×{w}; resize it first.",
            low=MIN_SIDE,
            high=MAX_SIDE,
            h=image.shape[0],
            w=image.shape[1],
        )
    return image.float()


def _check_tol(tol: object) -> float:
    tol = check_number("tol", tol, error=PoolingError)
    if not 0.0 <= tol <= 1.0:
        raise PoolingError(f"tol is a fraction of each channel's range: 0 to 1, got {tol}.")
    return tol


def stability_pipeline(image: torch.Tensor, method: str) -> torch.Tensor:
    """Return the (K, H', W') half-resolution maps of one (H, W) image by one method."""
    (method,) = _check_methods((method,))
    return _pipelines(_check_image(image)[None], (method,))[method][0]


def _check_compare(compare: object) -> bool:
    """Return True for "moved", False for "in place"."""
    how = compare.strip().lower() if isinstance(compare, str) else compare
    if how not in COMPARISONS:
        raise PoolingError(
            f"Unknown comparison {compare!r}; choose one of: {', '.join(COMPARISONS)}."
        )
    return how == "moved"


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
    active = torch.maximum(after.abs(), before.abs()) > limit  # (N, K, h, w)
    same = (after - before).abs_() <= limit
    counted = active.sum(dim=(1, 2, 3))
    kept = same.logical_and_(active).sum(dim=(1, 2, 3))
    return torch.where(counted > 0, kept / counted.clamp(min=1), 1.0).double()


Aligner = Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


def _curves(
    before: dict[str, torch.Tensor],
    batches: Iterable[dict[str, torch.Tensor]],
    tol: float,
    align: Aligner,
) -> dict[str, np.ndarray]:
    """Return per method the fraction of responding pooled outputs each variant keeps.

    before maps each method to its (K, h, w) reference; batches yield, per method, (n, K, h, w)
    outputs of consecutive variants. align(before, after, first) returns the (n, K, h', w') pairs
    to compare for variants first..first+n-1.
    """
    span = {m: ref.amax(dim=(1, 2)) - ref.amin(dim=(1, 2)) for m, ref in before.items()}  # (K,)
    fractions: dict[str, list[torch.Tensor]] = {method: [] for method in before}
    first = 0
    for after in batches:
        for method, maps in after.items():
            ref, out = align(before[method], maps, first)
            fractions[method].append(_fraction_same(ref, out, span[method], tol))
        first += maps.shape[0]
    return {method: torch.cat(parts).numpy() for method, parts in fractions.items()}


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
    tol: float = STABILITY_TOL,
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
        raise PoolingError(
            f"Unknown shift direction {direction!r}; choose one of: {', '.join(SHIFT_DIRECTIONS)}."
        )
    moved = _check_compare(compare)
    axes = {"x": (-1,), "y": (-2,), "diagonal": (-2, -1)}[key]
    height, width = image.shape
    shifted_side = min(image.shape[axis] for axis in axes)
    largest = min(MAX_SHIFT, shifted_side - MIN_SIDE)
    max_shift = check_int("max_shift", max_shift, 0, error=PoolingError)
    if max_shift > largest:
        raise PoolingError(
            "max_shift {max_shift} is too large for a {height}×{width} image: the crops must "
            "keep {keep} pixels (and shifts stop at {stop}); use max_shift ≤ {most}.",
            max_shift=max_shift,
            height=height,
            width=width,
            keep=MIN_SIDE,
            stop=MAX_SHIFT,
            most=max(largest, 0),
        )
    rows, cols = int(-2 in axes), int(-1 in axes)  # 1 where the axis is shifted
    # the crop image[m-s:, m-s:] is shift(x, s). Its dense maps are the same crop of the whole
    # image's (valid convolution and pooling commute with cropping): one convolution serves all
    dense = _dense_maps(image[None], methods)  # method -> (1, K, H-f+1, W-f+1)
    crop_h, crop_w = height - rows * max_shift, width - cols * max_shift

    def sampled(maps: torch.Tensor, footprint: int, s: int) -> torch.Tensor:
        """Return the (1, K, h, w) output of the crop shifted by s: its dense map, every 2nd."""
        top, left = rows * (max_shift - s), cols * (max_shift - s)
        bottom, right = top + crop_h - footprint + 1, left + crop_w - footprint + 1
        return maps[..., top:bottom:2, left:right:2]

    def outputs(shifts: range) -> dict[str, torch.Tensor]:
        """Return per method the (n, K, h, w) outputs of the crops shifted by each s."""
        return {
            method: torch.cat([sampled(maps, FOOTPRINT[method], s) for s in shifts])
            for method, maps in dense.items()
        }

    before = {method: maps[0] for method, maps in outputs(range(1)).items()}
    chunks = (
        outputs(range(first, min(first + CHUNK, max_shift + 1)))
        for first in range(0, max_shift + 1, CHUNK)
    )
    return _curves(before, chunks, tol, _shift_aligner(axes, max_shift, moved))


def consistency(curves: dict[str, np.ndarray]) -> dict[str, float]:
    """Return one number per method: the mean of its shift curve over shifts s ≥ 1."""
    if not isinstance(curves, dict) or not curves:
        raise PoolingError("consistency needs the curves returned by shift_stability.")
    result = {}
    for method, curve in curves.items():
        curve = np.asarray(curve, dtype=np.float64)
        if curve.ndim != 1 or curve.shape[0] < 2:
            raise PoolingError(
                f"The curve for {method!r} has no shift ≥ 1; measure with max_shift ≥ 1."
            )
        result[method] = float(curve[1:].mean())
    return result


@dataclass(frozen=True)
class ShiftFindings:
    """What shift curves support: None where the shifts needed were not measured."""

    even_kept: bool | None  # every method kept every output at every even shift s ≥ 2
    odd_means: dict[str, float]  # per method, the mean share kept over odd shifts (empty if none)
    blur_best: bool | None  # anti-aliased max pool kept more at odd shifts than every other method


def steadiest(curves: dict[str, np.ndarray], shift: int = 1) -> tuple[str, ...]:
    """Return the methods whose curve keeps the largest share at `shift` (all of them on a tie)."""
    if not curves:
        raise PoolingError("steadiest needs at least one stability curve.")
    shift = check_int("shift", shift, 0, error=PoolingError)
    kept = {name: float(np.asarray(curve)[shift]) for name, curve in curves.items()}
    best = max(kept.values())
    return tuple(name for name, share in kept.items() if share == best)


def shift_findings(curves: dict[str, np.ndarray]) -> ShiftFindings:
    """Return which claims about even and odd shifts the curves of shift_stability support."""
    consistency(curves)  # the same checks: a dict of curves with a shift ≥ 1
    arrays = {m: np.asarray(c, dtype=np.float64) for m, c in curves.items()}
    length = min(len(c) for c in arrays.values())
    even = list(range(2, length, 2))
    odd = list(range(1, length, 2))
    even_kept = all(bool((c[even] >= 1.0).all()) for c in arrays.values()) if even else None
    odd_means = {m: float(c[odd].mean()) for m, c in arrays.items()}
    blur = "anti-aliased max pool"
    others = [v for m, v in odd_means.items() if m != blur]
    blur_best = odd_means[blur] > max(others) if blur in odd_means and others else None
    return ShiftFindings(even_kept=even_kept, odd_means=odd_means, blur_best=blur_best)
