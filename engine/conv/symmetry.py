"""Is convolution equivariant to translation, rotation, scaling?

A function f is equivariant to a transformation g when f(g(x)) = g(f(x)) (Goodfellow et al. §9.2).
Convolution commutes with shifts: shifting the image then convolving gives the shifted feature map.
On a torus (circular padding, circular shift) that holds exactly, up to float rounding; with zero
padding the new pixels entering at one edge and the old ones leaving at the other differ, so only a
band along the borders disagrees. Convolution does not commute with rotation or scaling unless the
kernel has the same symmetry: an isotropic kernel (Gaussian) nearly commutes with rotation, an
oriented one (Sobel, Gabor) does not. This module measures all three on a person's image.

Images are float tensors in [0, 1], gray (H, W) or colour (C, H, W); colour images are compared on
their channel mean, which is what feature_maps does with a (k, k) kernel. Angles are in degrees,
counter-clockwise on screen (rows run down), as for the kernel bank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.conv.arithmetic import ConvConfigError
from engine.conv.operation import MAX_CHANNELS, MAX_KERNEL, PADDING_MODES, feature_maps
from engine.core import N_, check_int, check_number, check_tensor

SHIFT_MODES = ("circular", "zeros")
MAX_SIDE = 1024  # largest image side accepted here
MAX_KERNELS = 8  # kernels compared at once in the error curves
MAX_TRANSFORMS = 73  # angles or scales per curve, e.g. 0..360° in steps of 5
SCALE_RANGE = (0.25, 4.0)
MAX_ELEMENTS = 2**24  # transforms × (kernels + 1) × H × W: bounds the work of one call
CHUNK_PIXELS = 2**17  # transforms × H × W pushed through grid_sample and conv2d together
MIN_RADIUS = 4.0  # pixels: a comparison disk smaller than this measures nothing useful
WEAK_RESPONSE = 1e-6  # responses below this fraction of what the kernel could give are rounding
SHOWN_KERNEL_SIDE = 5  # the side of the kernels the equivariance page applies (and asks about)
SHOWN_KERNEL_ANGLE = 30.0  # degrees: their orientation, for the oriented ones (Gabor)
NEAR_EQUIVARIANT = 0.05  # a relative error at most this large, at every angle or scale, is "close"
ROUNDING = 1e-4  # a shift difference below this (on maps of values ~1) is float rounding


# --- checks


def _checked(image: object) -> torch.Tensor:
    """Return image, unchanged, after checking it is a finite (H, W) or (C, H, W) float tensor."""
    image = check_tensor("image", image, (2, 3), error=ConvConfigError)
    if image.dim() == 3 and image.shape[0] > MAX_CHANNELS:
        raise ConvConfigError(
            f"image must be (H, W) or (C, H, W) with at most {MAX_CHANNELS} channels, "
            f"got shape {tuple(image.shape)} (channels first?)."
        )
    if max(image.shape[-2:]) > MAX_SIDE:
        raise ConvConfigError(
            f"Images are capped at {MAX_SIDE}×{MAX_SIDE} here, got "
            f"{image.shape[-2]}×{image.shape[-1]}; resize the image first."
        )
    return image


def _image(image: object) -> torch.Tensor:
    """Return the (H, W) float32 gray image (channel mean of a colour one) after checking it."""
    image = _checked(image).to(torch.float32)
    return image.mean(0) if image.dim() == 3 else image  # (H, W)


def _kernel(name: str, kernel: object) -> torch.Tensor:
    """Return the (k, k) float32 kernel after checking it is square, odd and not too big."""
    kernel = check_tensor(f"kernel {name!r}", kernel, (2,), error=ConvConfigError)
    kh, kw = kernel.shape
    if kh != kw or kh % 2 == 0 or kh > MAX_KERNEL:
        raise ConvConfigError(
            f"kernel {name!r} must be square with an odd side up to {MAX_KERNEL} (it needs a "
            f"centre to rotate about), got {kh}×{kw}."
        )
    return kernel.to(torch.float32)


def _bank(kernels: object) -> tuple[list[str], torch.Tensor]:
    """Return the names and a (K, 1, k, k) weight, smaller kernels zero-padded to the largest."""
    if not isinstance(kernels, Mapping) or not kernels:
        raise ConvConfigError("kernels must be a non-empty mapping of name → (k, k) kernel.")
    if len(kernels) > MAX_KERNELS:
        raise ConvConfigError(f"Compare at most {MAX_KERNELS} kernels at once, got {len(kernels)}.")
    names = [str(name) for name in kernels]
    checked = [_kernel(name, kernel) for name, kernel in zip(names, kernels.values(), strict=True)]
    side = max(k.shape[0] for k in checked)
    # an odd kernel padded evenly with zeros keeps its centre, so 'same' maps are unchanged
    padded = [F.pad(k, [(side - k.shape[0]) // 2] * 4) for k in checked]
    return names, torch.stack(padded)[:, None]  # (K, 1, k, k)


def _transforms(kind: str, values: object, low: float | None = None) -> list[float]:
    """Return the angles or scales as floats after checking their count and range."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise ConvConfigError(f"{kind} must be a list of numbers, got {type(values).__name__}.")
    if not 1 <= len(values) <= MAX_TRANSFORMS:
        raise ConvConfigError(f"Give between 1 and {MAX_TRANSFORMS} {kind}, got {len(values)}.")
    numbers = [check_number(kind, v, error=ConvConfigError) for v in values]
    if low is not None:
        high = SCALE_RANGE[1]
        for v in numbers:
            if not low <= v <= high:
                raise ConvConfigError(f"scales must lie between {low} and {high}, got {v}.")
    return numbers


# --- translation


def shift(image: torch.Tensor, dy: int, dx: int, mode: str = "circular") -> torch.Tensor:
    """Return the image moved dy rows down and dx columns right, same shape as the input.

    mode "circular" wraps what leaves one edge back in at the other (torch.roll); "zeros" lets it
    fall off and fills the uncovered band with 0.
    """
    image = _checked(image)
    height, width = image.shape[-2:]
    dy = check_int(N_("row shift dy"), dy, -(height - 1), height - 1, error=ConvConfigError)
    dx = check_int(N_("column shift dx"), dx, -(width - 1), width - 1, error=ConvConfigError)
    mode = mode.strip().lower() if isinstance(mode, str) else mode
    if mode not in SHIFT_MODES:
        raise ConvConfigError(f"Unknown shift mode {mode!r}; choose one of: circular, zeros.")
    if mode == "circular":
        return torch.roll(image, (dy, dx), dims=(-2, -1))
    out = torch.zeros_like(image)
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
        ..., max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    return out


@dataclass
class EquivarianceCheck:
    """f(g(x)) next to g(f(x)) for a shift g and a convolution f, and how far apart they are."""

    shift_then_conv: torch.Tensor  # (H, W) conv(shift(x))
    conv_then_shift: torch.Tensor  # (H, W) shift(conv(x))
    difference: torch.Tensor  # (H, W) shift_then_conv - conv_then_shift
    interior: torch.Tensor  # (H, W) bool: farther than k//2 + |shift| from every edge
    max_error: float  # max |difference| over the whole map
    interior_max_error: float  # ... over the interior (0.0 if the interior is empty)
    border_max_error: float  # ... over the border band (0.0 if the band is empty)
    relative_error: float  # ||difference|| / ||conv_then_shift|| (0.0 if both are zero)


def translation_equivariance(
    image: torch.Tensor, kernel: torch.Tensor, dy: int, dx: int, padding_mode: str = "circular"
) -> EquivarianceCheck:
    """Return conv(shift(x)), shift(conv(x)), their difference and its size, inside and at borders.

    'same' padding of the given padding_mode; the shift wraps around when padding_mode is
    "circular" (then the two agree everywhere up to float rounding, ~1e-6) and fills with zeros
    otherwise (then they agree exactly in the interior and differ only in the border band, where
    one map saw padding or fill and the other saw image).
    """
    gray = _image(image)  # (H, W)
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    mode = padding_mode.strip().lower() if isinstance(padding_mode, str) else padding_mode
    if mode not in PADDING_MODES:
        raise ConvConfigError(
            f"Unknown padding mode {padding_mode!r}; choose one of: {', '.join(PADDING_MODES)}."
        )
    shift_mode = "circular" if mode == "circular" else "zeros"
    moved = shift(gray, dy, dx, shift_mode)  # checks the shift first
    shift_then_conv = feature_maps(moved, kernel, padding_mode=mode)[0]  # (H, W)
    conv_then_shift = shift(feature_maps(gray, kernel, padding_mode=mode)[0], dy, dx, shift_mode)
    difference = shift_then_conv - conv_then_shift  # (H, W)

    height, width = gray.shape
    band_h, band_w = kernel.shape[0] // 2 + abs(dy), kernel.shape[1] // 2 + abs(dx)
    interior = torch.zeros(height, width, dtype=torch.bool)
    interior[band_h : height - band_h, band_w : width - band_w] = True
    size = difference.abs()

    def _max(values: torch.Tensor) -> float:
        return float(values.max()) if values.numel() else 0.0

    reference = float(torch.linalg.vector_norm(conv_then_shift.double()))
    norm = float(torch.linalg.vector_norm(difference.double()))
    return EquivarianceCheck(
        shift_then_conv=shift_then_conv,
        conv_then_shift=conv_then_shift,
        difference=difference,
        interior=interior,
        max_error=_max(size),
        interior_max_error=_max(size[interior]),
        border_max_error=_max(size[~interior]),
        relative_error=norm / reference if reference > 0 else (0.0 if norm == 0 else math.inf),
    )


# --- rotation and scaling: warps about the image centre


def _warp(stack: torch.Tensor, thetas: torch.Tensor) -> torch.Tensor:
    """Return (N, C, H, W): stack (C, H, W) resampled through each (2, 3) map of thetas (N, 2, 3).

    theta maps output to input positions in torch's normalised coordinates (-1..1 across each
    axis); bilinear, zero outside the image, one grid_sample call for all N.
    """
    n, (channels, height, width) = thetas.shape[0], stack.shape
    dtype = torch.float64 if stack.dtype == torch.float64 else torch.float32  # no half on CPU
    grid = F.affine_grid(thetas.to(dtype), [n, channels, height, width], align_corners=False)
    batch = stack[None].expand(n, -1, -1, -1).to(dtype)  # (N, C, H, W), a view if no cast
    warped = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped.to(stack.dtype)


def _rotation_thetas(angles: Sequence[float], height: int, width: int) -> torch.Tensor:
    """Return (N, 2, 3): for each angle, where each output pixel reads from, counter-clockwise."""
    thetas = torch.zeros(len(angles), 2, 3, dtype=torch.float64)
    for i, angle in enumerate(angles):
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        # inverse rotation in pixel units (rows down), then back to normalised units per axis
        thetas[i, 0, :2] = torch.tensor([c, -s * height / width], dtype=torch.float64)
        thetas[i, 1, :2] = torch.tensor([s * width / height, c], dtype=torch.float64)
    return thetas


def _scale_thetas(scales: Sequence[float]) -> torch.Tensor:
    """Return (N, 2, 3): for each scale, output pixel p reads input centre + (p - centre)/scale."""
    thetas = torch.zeros(len(scales), 2, 3, dtype=torch.float64)
    thetas[:, 0, 0] = thetas[:, 1, 1] = 1.0 / torch.tensor(scales, dtype=torch.float64)
    return thetas


def rotate(image: torch.Tensor, angle_deg: float) -> torch.Tensor:
    """Return the image (H, W) or (C, H, W) turned angle_deg counter-clockwise about its centre.

    Bilinear, same H×W; corners that come from outside the image are 0.
    """
    image = _checked(image)
    angle = check_number("angle_deg", angle_deg, error=ConvConfigError)
    stack = image[None] if image.dim() == 2 else image  # (C, H, W)
    turned = _warp(stack, _rotation_thetas([angle], *stack.shape[-2:]))[0]
    return turned.reshape(image.shape)


def rescale(image: torch.Tensor, scale: float) -> torch.Tensor:
    """Return the image (H, W) or (C, H, W) zoomed by scale about its centre, same H×W.

    scale > 1 enlarges and crops; scale < 1 shrinks and surrounds with 0. Bilinear without
    antialiasing, so shrinking below 0.5 aliases fine detail (the error curves include that).
    """
    image = _checked(image)
    scale = _transforms("scales", [scale], low=SCALE_RANGE[0])[0]
    stack = image[None] if image.dim() == 2 else image  # (C, H, W)
    return _warp(stack, _scale_thetas([scale]))[0].reshape(image.shape)


def comparison_disk(height: int, width: int, kernel_size: int, scale: float = 1.0) -> torch.Tensor:
    """Return the (H, W) bool disk about the centre where transformed maps are compared.

    Its radius is the inscribed circle's, shrunk with the image when scale < 1, minus a margin of
    k//2 + 2 pixels, so neither the corners lost by rotating nor the zero padding count.
    """
    height = check_int("image height", height, 1, MAX_SIDE, error=ConvConfigError)
    width = check_int("image width", width, 1, MAX_SIDE, error=ConvConfigError)
    kernel_size = check_int("kernel size", kernel_size, 1, MAX_KERNEL, error=ConvConfigError)
    scale = check_number("scale", scale, error=ConvConfigError)
    radius = min(height, width) / 2 * min(1.0, scale) - (kernel_size // 2 + 2)
    if radius < MIN_RADIUS:
        raise ConvConfigError(
            "A {height}×{width} image leaves a comparison disk of radius {radius:.1f} px for a "
            "{k}×{k} kernel at scale {scale:g}; it needs at least {minimum:g} px. Use a larger "
            "image, a smaller kernel or a larger scale.",
            height=height,
            width=width,
            radius=radius,
            k=kernel_size,
            scale=scale,
            minimum=MIN_RADIUS,
        )
    rows = torch.arange(height, dtype=torch.float64) - (height - 1) / 2
    cols = torch.arange(width, dtype=torch.float64) - (width - 1) / 2
    return rows[:, None] ** 2 + cols[None, :] ** 2 <= radius**2


def scales_that_fit(
    height: int, width: int, kernel_size: int, scales: Sequence[float]
) -> list[float]:
    """Return those scales, in order, whose comparison disk is at least MIN_RADIUS pixels wide.

    A small image shrunk below scale 1 leaves too small a disk to compare maps in (comparison_disk
    refuses it); a page can leave those scales out instead of refusing the whole curve.
    """
    fits = []
    for scale in _transforms("scales", scales, low=SCALE_RANGE[0]):
        try:
            comparison_disk(height, width, kernel_size, scale)
        except ConvConfigError:
            continue
        fits.append(scale)
    return fits


def _errors(
    gray: torch.Tensor, bank: torch.Tensor, thetas: torch.Tensor, disks: torch.Tensor
) -> np.ndarray:
    """Return (N, K) ||conv(T x) − T conv(x)|| / ||T conv(x)|| inside each disk, batched over T.

    The transforms go through grid_sample and conv2d in batches of about CHUNK_PIXELS pixels,
    not all at once: measured single-threaded, one (12, 1, 256, 256) conv2d took ~6× the CPU time
    of twelve single-image ones, because its large working buffers are fresh mmap allocations
    that page-fault on every call (raising MALLOC_MMAP_THRESHOLD_ brought it to ~1.4×).
    """
    n, k = thetas.shape[0], bank.shape[0]
    height, width = gray.shape
    if n * (k + 1) * height * width > MAX_ELEMENTS:
        raise ConvConfigError(
            "{n} transforms × {maps} maps of {height}×{width} is more than this server computes "
            "at once; use fewer angles or scales, fewer kernels, or a smaller image.",
            n=n,
            maps=k + 1,
            height=height,
            width=width,
        )
    pad = bank.shape[-1] // 2
    weights = disks.reshape(disks.shape[0], 1, -1).to(gray.dtype)  # (N or 1, 1, H·W)
    num = torch.empty(n, k, dtype=torch.float64)
    den = torch.empty(n, k, dtype=torch.float64)
    step = max(1, CHUNK_PIXELS // (height * width))
    with torch.inference_mode():
        maps = F.conv2d(gray[None, None], bank, padding=pad)[0]  # (K, H, W) conv(x)
        stack = torch.cat([gray[None], maps])  # (1 + K, H, W)
        for start in range(0, n, step):
            part = slice(start, start + step)
            warped = _warp(stack, thetas[part])  # (n', 1 + K, H, W): T x and T conv(x)
            moved, expected = warped[:, :1], warped[:, 1:]
            got = F.conv2d(moved, bank, padding=pad)  # (n', K, H, W) conv(T x)
            inside = weights if weights.shape[0] == 1 else weights[part]
            flat = (got.shape[0], k, -1)
            num[part] = ((got - expected).square().reshape(flat) * inside).sum(-1).double()
            den[part] = (expected.square().reshape(flat) * inside).sum(-1).double()
        # the largest response the kernel could give here: ||x||_disk · sum|kernel|
        energy = (gray.square().reshape(1, 1, -1) * weights).sum(-1).double()  # (N or 1, 1)
        ceiling = energy.sqrt() * bank.abs().sum((1, 2, 3)).double()[None]  # (N or 1, K)
    num, den = num.sqrt(), den.sqrt()
    errors = num / den
    errors[den <= WEAK_RESPONSE * ceiling.expand_as(den)] = math.nan  # nothing to compare
    return errors.numpy()


def rotation_errors(
    image: torch.Tensor, kernels: Mapping[str, torch.Tensor], angles: Sequence[float]
) -> dict[str, np.ndarray]:
    """Return, per kernel, the (A,) relative errors ||conv(R x) − R conv(x)|| / ||R conv(x)||.

    R rotates by each angle; errors are measured inside comparison_disk. The image is convolved
    once; the angles go through grid_sample and conv2d as batches, never pixel by pixel. nan where
    the kernel's response in the disk is ~0 (an edge kernel on a flat image): nothing to compare.
    """
    gray = _image(image)  # (H, W)
    names, bank = _bank(kernels)  # (K, 1, k, k)
    angles = _transforms("angles", angles)
    disk = comparison_disk(*gray.shape, bank.shape[-1])[None]  # (1, H, W)
    errors = _errors(gray, bank, _rotation_thetas(angles, *gray.shape), disk)  # (A, K)
    return {name: errors[:, i] for i, name in enumerate(names)}


def scale_errors(
    image: torch.Tensor, kernels: Mapping[str, torch.Tensor], scales: Sequence[float]
) -> dict[str, np.ndarray]:
    """Return, per kernel, the (S,) relative errors ||conv(S x) − S conv(x)|| / ||S conv(x)||.

    S zooms about the centre (rescale); each scale is measured in its own comparison_disk, which
    shrinks with the image below scale 1. Batched over scales as rotation_errors is over angles.
    """
    gray = _image(image)  # (H, W)
    names, bank = _bank(kernels)  # (K, 1, k, k)
    scales = _transforms("scales", scales, low=SCALE_RANGE[0])
    disks = torch.stack([comparison_disk(*gray.shape, bank.shape[-1], s) for s in scales])
    errors = _errors(gray, bank, _scale_thetas(scales), disks)  # (S, K)
    return {name: errors[:, i] for i, name in enumerate(names)}


@dataclass(frozen=True)
class ErrorVerdict:
    """Which kernels stay close to equivariant over a whole curve of angles or scales."""

    close: list[tuple[str, float]]  # (name, largest error) with largest error ≤ tol
    far: list[tuple[str, float, float]]  # (name, largest error, the angle or scale where) > tol
    unmeasured: list[str]  # every error nan: nothing to compare
    tol: float


def error_verdict(
    errors: Mapping[str, np.ndarray], values: Sequence[float], tol: float = NEAR_EQUIVARIANT
) -> ErrorVerdict:
    """Return per kernel whether its largest finite error over `values` is within tol, and where.

    errors are the curves of rotation_errors or scale_errors measured at `values`; the transform
    value 1 (scale) or 0 (angle) has error 0 and so never decides.
    """
    tol = check_number("tol", tol, error=ConvConfigError)
    close, far, unmeasured = [], [], []
    for name, curve in errors.items():
        curve = np.asarray(curve, dtype=np.float64)
        if curve.shape != (len(values),):
            raise ConvConfigError(
                f"The curve of {name!r} has {curve.size} errors for {len(values)} values."
            )
        if not np.isfinite(curve).any():
            unmeasured.append(name)
            continue
        worst = int(np.nanargmax(curve))
        if curve[worst] <= tol:
            close.append((name, float(curve[worst])))
        else:
            far.append((name, float(curve[worst]), float(values[worst])))
    return ErrorVerdict(close=close, far=far, unmeasured=unmeasured, tol=tol)


def shift_verdict(check: EquivarianceCheck) -> str:
    """Return what a shift check shows: "exact", "border only" or "broken".

    exact: the maps agree everywhere up to ROUNDING; border only: they agree inside but differ in
    the border band; broken: they differ inside too (never for a convolution).
    """
    if check.max_error <= ROUNDING:
        return "exact"
    if check.interior_max_error <= ROUNDING:
        return "border only"
    return "broken"


# --- one kernel, every position


@dataclass
class EdgeMap:
    """One kernel applied at every position: the response and what that sharing costs."""

    response: torch.Tensor  # (H, W) the kernel's 'same' response at every pixel
    positions: int  # H·W positions where the same kernel was evaluated
    parameters: int  # k·k weights used at all of them
    multiply_adds: int  # positions · k·k
    unshared_parameters: int  # positions · k·k if every position had its own kernel
    dense_parameters: int  # (H·W)² for a dense layer from H×W pixels to H×W outputs
    threshold: float  # |response| at or above this counts as strong
    strong_fraction: float  # fraction of positions with a strong response (0 on a flat response)


def edge_map_everywhere(
    image: torch.Tensor, kernel: torch.Tensor, strong: float = 0.5, padding_mode: str = "zeros"
) -> EdgeMap:
    """Return the kernel's response at every pixel and the counts behind parameter sharing.

    A response is strong when |response| ≥ strong × the largest |response| in the map. Zero
    padding makes the image's own border look like an edge; "replicate" padding does not.
    """
    gray = _image(image)  # (H, W)
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    strong = check_number("strong", strong, error=ConvConfigError)
    if not 0.0 < strong <= 1.0:
        raise ConvConfigError(f"strong must be in (0, 1], a fraction of the peak, got {strong}.")
    response = feature_maps(gray, kernel, padding_mode=padding_mode)[0]  # (H, W)
    positions = response.numel()
    parameters = kernel.numel()
    peak = float(response.abs().max())
    threshold = strong * peak
    # a peak at rounding level (flat image) means no edges, not edges everywhere
    ceiling = float(kernel.abs().sum()) * float(gray.abs().max())
    weak = peak <= WEAK_RESPONSE * ceiling
    fraction = 0.0 if weak else float((response.abs() >= threshold).double().mean())
    return EdgeMap(
        response=response,
        positions=positions,
        parameters=parameters,
        multiply_adds=positions * parameters,
        unshared_parameters=positions * parameters,
        dense_parameters=positions**2,
        threshold=threshold,
        strong_fraction=fraction,
    )
