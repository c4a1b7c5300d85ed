"""What does a convolution do to my image, and what exactly happens at one output pixel?

Feature maps from a bank of kernels (one F.conv2d call), the arithmetic behind one output pixel,
convolution versus cross-correlation, resizing for variable-size input, and the three stages of a
convolutional layer: convolution, detector nonlinearity, pooling (Goodfellow et al. fig. 9.7).

Images are float tensors in [0, 1], gray (H, W) or colour (C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.conv.arithmetic import ConvConfigError, conv_output_size, resolve_padding
from engine.core import N_, check_int, check_number, check_tensor

__all__ = [
    "FlipComparison",
    "LayerStages",
    "NONLINEARITIES",
    "PADDING_MODES",
    "POOLS",
    "PatchArithmetic",
    "PixelCheck",
    "ROUNDING",
    "compare_flip",
    "convolve2d_direct",
    "feature_maps",
    "flip_change",
    "flip_kernel",
    "layer_stages",
    "patch_arithmetic",
    "pixel_check",
    "resize_image",
    "within_rounding",
]

MAX_KERNEL = 31  # largest kernel side accepted
MAX_KERNELS = 256  # most kernels applied at once
MAX_CHANNELS = 16
MAX_PADDING = 64
MAX_STRIDE = 64
MAX_DILATION = 16
MAX_DIRECT = 128  # side of the largest image convolve2d_direct accepts (it is a readable reference)
RESIZE_SCALES = (0.05, 4.0)
RESIZE_SIDES = (8, 4096)  # smallest and largest side resize_image will produce
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")  # torch's nn.Conv2d names


# --- applying kernels


def _check_image(image: object, gray_only: bool = False) -> torch.Tensor:
    """Return image after checking it is a finite float (H, W) or (C, H, W) tensor."""
    if gray_only and isinstance(image, torch.Tensor) and image.dim() == 3:
        raise ConvConfigError(
            f"This view needs a gray (H, W) image, got shape {tuple(image.shape)}; "
            "convert the image to gray first."
        )
    image = check_tensor("image", image, (2,) if gray_only else (2, 3), error=ConvConfigError)
    if image.dim() == 3 and image.shape[0] > MAX_CHANNELS:
        raise ConvConfigError(
            f"image must be (H, W) or (C, H, W) with at most {MAX_CHANNELS} channels, "
            f"got shape {tuple(image.shape)} (channels first?)."
        )
    return image


def _check_kernel_side(kh: int, kw: int) -> None:
    if max(kh, kw) > MAX_KERNEL:
        raise ConvConfigError(f"Kernels are capped at {MAX_KERNEL}×{MAX_KERNEL}, got {kh}×{kw}.")


def _weight(kernels: object, channels: int, dtype: torch.dtype) -> torch.Tensor:
    """Return the (K, C, kh, kw) conv2d weight for kernels (k, k), (K, k, k) or (K, C, k, k)."""
    kernels = check_tensor("kernels", kernels, (2, 3, 4), error=ConvConfigError)
    kh, kw = kernels.shape[-2:]
    _check_kernel_side(kh, kw)
    if kernels.dim() == 2:
        kernels = kernels[None]  # (1, kh, kw)
    if kernels.shape[0] > MAX_KERNELS:
        raise ConvConfigError(f"At most {MAX_KERNELS} kernels at once, got {kernels.shape[0]}.")
    if kernels.dim() == 4:
        if kernels.shape[1] != channels:
            raise ConvConfigError(
                f"Full weights (K, C, k, k) need C = {channels} to match the image's channels, "
                f"got shape {tuple(kernels.shape)}."
            )
        return kernels.to(dtype)
    weight = kernels[:, None].to(dtype)  # (K, 1, kh, kw), a view when dtypes match
    if channels > 1:
        # the same kernel on every channel, averaged: the kernel applied to the channel mean
        weight = weight.expand(-1, channels, -1, -1) / channels  # (K, C, kh, kw)
    return weight


def feature_maps(
    image: torch.Tensor,
    kernels: torch.Tensor,
    padding: int | str = "same",
    stride: int = 1,
    dilation: int = 1,
    flip: bool = False,
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Return (K, H', W') maps: each kernel slid over the image (cross-correlation, as torch does).

    image is (H, W) or (C, H, W). kernels is (k, k), (K, k, k) or full weights (K, C, k, k). On a
    C-channel image a (k, k)/(K, k, k) kernel is applied to every channel and the results averaged
    (weight = kernel / C on each channel), which equals filtering the mean of the channels.
    padding: "same" (odd kernels only: keeps H×W at stride 1, gives ceil(H/s) at stride s),
    "valid" (none) or an int.
    padding_mode says what the padding holds, as torch's nn.Conv2d names it: "zeros", "reflect"
    (mirror without repeating the edge; padding must be smaller than the image side), "replicate"
    (repeat the edge pixel) or "circular" (wrap around; padding at most the image side).
    flip=True flips each kernel in both axes first, giving true convolution. Runs under
    torch.inference_mode(), so the result carries no autograd history and refuses in-place edits.
    """
    image = _check_image(image)
    channels = 1 if image.dim() == 2 else image.shape[0]
    weight = _weight(kernels, channels, image.dtype)  # (K, C, kh, kw)
    stride = check_int("stride", stride, 1, MAX_STRIDE, error=ConvConfigError)
    dilation = check_int("dilation", dilation, 1, MAX_DILATION, error=ConvConfigError)
    pad_h, pad_w = resolve_padding(padding, tuple(weight.shape[-2:]), dilation)
    if max(pad_h, pad_w) > MAX_PADDING:
        raise ConvConfigError(f"padding is capped at {MAX_PADDING}, got {max(pad_h, pad_w)}.")
    padding_mode = _check_padding_mode(padding_mode, image.shape[-2:], (pad_h, pad_w))
    conv_output_size(image.shape[-2], weight.shape[-2], pad_h, stride, dilation)  # raises if empty
    conv_output_size(image.shape[-1], weight.shape[-1], pad_w, stride, dilation)
    if flip:
        weight = flip_kernel(weight)
    batch = image[None, None] if image.dim() == 2 else image[None]  # (1, C, H, W), a view
    with torch.inference_mode():
        if padding_mode != "zeros" and (pad_h or pad_w):
            # pad once with the chosen values, then one unpadded conv (what nn.Conv2d does too)
            batch = F.pad(batch, (pad_w, pad_w, pad_h, pad_h), mode=padding_mode)
            pad_h = pad_w = 0  # (1, C, H + 2p, W + 2p)
        maps = F.conv2d(batch, weight, stride=stride, padding=(pad_h, pad_w), dilation=dilation)
    return maps[0]  # (K, H', W')


def _check_padding_mode(mode: object, size_hw: torch.Size, pad_hw: tuple[int, int]) -> str:
    """Return the padding mode's name after checking the padding fits the image in that mode."""
    mode = _choice("padding mode", mode, PADDING_MODES)
    for axis, side, pad in zip(("height", "width"), size_hw, pad_hw, strict=True):
        if mode == "reflect" and pad >= side:
            raise ConvConfigError(
                f"reflect padding of {pad} needs an image {axis} above {pad}, got {side}: a "
                "mirror cannot reach past the far edge. Use less padding or 'replicate'."
            )
        if mode == "circular" and pad > side:
            raise ConvConfigError(
                f"circular padding of {pad} needs an image {axis} of at least {pad}, got {side}: "
                "it would wrap around more than once. Use less padding or 'replicate'."
            )
    return mode


# --- one output pixel, by hand


@dataclass
class PatchArithmetic:
    """One output pixel explained: the window it reads, the kernel, the products and their sum."""

    row: int  # output coordinates
    col: int
    patch: torch.Tensor  # (k, k) input under the (dilated) window; 0 where it hangs over padding
    kernel: torch.Tensor  # (k, k) as applied (flipped if flip=True)
    products: torch.Tensor  # (k, k) patch * kernel
    total: float  # products.sum() + bias
    input_rows: list[int]  # input row of each kernel row; < 0 or >= H means padding
    input_cols: list[int]  # input column of each kernel column; < 0 or >= W means padding
    padding_taps: int  # taps that hang over the border and read the zero padding


def patch_arithmetic(
    image: torch.Tensor,
    kernel: torch.Tensor,
    row: int,
    col: int,
    padding: int | str = "same",
    stride: int = 1,
    dilation: int = 1,
    flip: bool = False,
    bias: float = 0.0,
) -> PatchArithmetic:
    """Return the arithmetic behind output pixel (row, col) of feature_maps, by plain indexing."""
    image = _check_image(image, gray_only=True)  # (H, W)
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)  # (kh, kw)
    kh, kw = kernel.shape
    _check_kernel_side(kh, kw)
    stride = check_int("stride", stride, 1, MAX_STRIDE, error=ConvConfigError)
    dilation = check_int("dilation", dilation, 1, MAX_DILATION, error=ConvConfigError)
    pad_h, pad_w = resolve_padding(padding, (kh, kw), dilation)
    height, width = image.shape
    out_h = conv_output_size(height, kh, pad_h, stride, dilation)
    out_w = conv_output_size(width, kw, pad_w, stride, dilation)
    row, col = (
        check_int("output row", row, 0, error=ConvConfigError),
        check_int("output column", col, 0, error=ConvConfigError),
    )
    if row >= out_h or col >= out_w:
        raise ConvConfigError(
            f"Output pixel ({row}, {col}) is outside the {out_h}×{out_w} feature map; "
            f"pick a row below {out_h} and a column below {out_w}."
        )
    bias = check_number("bias", bias, error=ConvConfigError)

    applied = flip_kernel(kernel) if flip else kernel.clone()
    # the window's top-left tap sits stride·row cells down the padded image, i.e. at row·s - p
    input_rows = [row * stride - pad_h + i * dilation for i in range(kh)]
    input_cols = [col * stride - pad_w + j * dilation for j in range(kw)]
    patch = torch.zeros(kh, kw, dtype=image.dtype)
    for i, r in enumerate(input_rows):
        for j, c in enumerate(input_cols):
            if 0 <= r < height and 0 <= c < width:  # outside: zero padding
                patch[i, j] = image[r, c]
    products = patch * applied.to(image.dtype)
    return PatchArithmetic(
        row=row,
        col=col,
        patch=patch,
        kernel=applied,
        products=products,
        total=float(products.double().sum()) + bias,
        input_rows=input_rows,
        input_cols=input_cols,
        padding_taps=kh * kw
        - sum(0 <= r < height for r in input_rows) * sum(0 <= c < width for c in input_cols),
    )


def strongest_pixel(fmap: torch.Tensor, margin: int = 0) -> tuple[int, int]:
    """Return (row, col) of the largest |value| at least margin pixels from every edge.

    The whole map is searched when it has no such interior (a map at most 2·margin a side).
    """
    fmap = check_tensor("feature map", fmap, (2,), error=ConvConfigError)
    margin = check_int("margin", margin, 0, error=ConvConfigError)
    h, w = fmap.shape
    if h <= 2 * margin or w <= 2 * margin:
        margin = 0
    inner = fmap[margin : h - margin, margin : w - margin]
    r, c = divmod(int(inner.abs().argmax()), inner.shape[1])
    return r + margin, c + margin


# --- convolution versus cross-correlation


def flip_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """Return the kernel rotated 180° (flipped in both of its last two axes)."""
    if not isinstance(kernel, torch.Tensor) or kernel.dim() < 2:
        raise ConvConfigError("flip_kernel expects a tensor with at least 2 dimensions (…, k, k).")
    return kernel.flip((-2, -1))


def is_flip_symmetric(kernel: torch.Tensor) -> bool:
    """Return True when the kernel equals itself turned 180° (up to float rounding)."""
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    return bool(torch.allclose(kernel, flip_kernel(kernel)))


def flip_change(kernel: torch.Tensor) -> float:
    """Return the largest |kernel − kernel turned 180°|: zero when the flip changes nothing."""
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    return float((kernel - flip_kernel(kernel)).abs().max())


ROUNDING = 1e-5  # differences below this share of the values' size (at least 1) are float rounding


def within_rounding(difference: float, scale: float, rel: float = ROUNDING) -> bool:
    """Return True when |difference| is at most rel × max(|scale|, 1): float rounding, not a gap."""
    difference = check_number("difference", difference, error=ConvConfigError)
    scale = check_number("scale", scale, error=ConvConfigError)
    return abs(difference) <= rel * max(abs(scale), 1.0)


@dataclass
class PixelCheck:
    """One output pixel summed by hand beside torch's value for it."""

    by_hand: float
    from_torch: float
    difference: float  # |by_hand - from_torch|
    agrees: bool  # the difference is float rounding (within_rounding)


def pixel_check(by_hand: float, from_torch: float) -> PixelCheck:
    """Return the by-hand sum and torch's value side by side, with whether they agree."""
    by_hand = check_number("sum by hand", by_hand, error=ConvConfigError)
    from_torch = check_number("torch value", from_torch, error=ConvConfigError)
    difference = abs(by_hand - from_torch)
    scale = max(abs(by_hand), abs(from_torch))
    return PixelCheck(by_hand, from_torch, difference, within_rounding(difference, scale))


@dataclass
class FlipComparison:
    """Convolution against cross-correlation on one image, and the flip that links them."""

    correlation: torch.Tensor  # (H, W) image ⋆ K, what conv2d computes ('same' padding)
    convolution: torch.Tensor  # (H, W) image * K, the kernel flipped first
    difference: torch.Tensor  # (H, W) convolution - correlation
    max_difference: float  # max |convolution - correlation|
    max_flip_error: float  # max |convolution - (image ⋆ flip(K))|: rounding only
    symmetric: bool  # K equals itself turned 180°
    outputs_equal: bool  # max_difference is float rounding
    flip_identity_holds: bool  # max_flip_error is float rounding


def compare_flip(image: torch.Tensor, kernel: torch.Tensor) -> FlipComparison:
    """Return convolution and cross-correlation of a gray image with kernel, and how they differ."""
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    correlation = feature_maps(image, kernel)[0]  # (H, W)
    convolution = feature_maps(image, kernel, flip=True)[0]
    via_flip = feature_maps(image, flip_kernel(kernel))[0]
    difference = convolution - correlation
    scale = float(torch.maximum(correlation.abs().max(), convolution.abs().max()))
    max_difference = float(difference.abs().max())
    max_flip_error = float((convolution - via_flip).abs().max())
    return FlipComparison(
        correlation=correlation,
        convolution=convolution,
        difference=difference,
        max_difference=max_difference,
        max_flip_error=max_flip_error,
        symmetric=is_flip_symmetric(kernel),
        outputs_equal=within_rounding(max_difference, scale),
        flip_identity_holds=within_rounding(max_flip_error, scale),
    )


def convolve2d_direct(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Return the (H, W) true convolution s(i,j) = sum_m sum_n I(m,n) K(i-m, j-n), 'same' size.

    Zero padding outside the image. K is indexed from its centre, so K(0, 0) is the middle of an
    odd kernel. A readable reference written from the formula, for images up to 128×128.
    """
    image = _check_image(image, gray_only=True)  # (H, W)
    kernel = check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    kh, kw = kernel.shape
    _check_kernel_side(kh, kw)
    if kh % 2 == 0 or kw % 2 == 0:
        raise ConvConfigError(f"'same' convolution needs an odd kernel, got {kh}×{kw}.")
    height, width = image.shape
    if height > MAX_DIRECT or width > MAX_DIRECT:
        raise ConvConfigError(
            f"convolve2d_direct is a slow reference capped at {MAX_DIRECT}×{MAX_DIRECT}; "
            f"got {height}×{width}. Use feature_maps(..., flip=True) for big images."
        )
    out = torch.zeros_like(image)  # (H, W)
    for u in range(kh):
        for v in range(kw):
            di, dj = u - kh // 2, v - kw // 2  # K(di, dj) multiplies I(i - di, j - dj)
            # output pixels whose source pixel (m, n) = (i - di, j - dj) lies inside the image
            i0, i1 = max(0, di), min(height, height + di)
            j0, j1 = max(0, dj), min(width, width + dj)
            if i0 < i1 and j0 < j1:
                out[i0:i1, j0:j1] += kernel[u, v] * image[i0 - di : i1 - di, j0 - dj : j1 - dj]
    return out


# --- variable-size input


def resize_image(image: torch.Tensor, scale: float) -> torch.Tensor:
    """Return the image (H, W) or (C, H, W) resized by scale, bilinear with antialiasing."""
    image = _check_image(image)
    scale = check_number("scale", scale, error=ConvConfigError)
    low, high = RESIZE_SCALES
    if not low <= scale <= high:
        raise ConvConfigError(f"scale must be between {low} and {high}, got {scale}.")
    height, width = image.shape[-2:]
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    smallest, largest = RESIZE_SIDES
    if min(size) < smallest:
        raise ConvConfigError(
            "Scaling {height}×{width} by {scale} gives {new_h}×{new_w}; each side must stay "
            "at least {smallest} pixels. Use a larger scale.",
            height=height,
            width=width,
            scale=scale,
            new_h=size[0],
            new_w=size[1],
            smallest=smallest,
        )
    if max(size) > largest:
        raise ConvConfigError(
            "Scaling {height}×{width} by {scale} gives {new_h}×{new_w}; each side must stay "
            "at most {largest} pixels. Use a smaller scale.",
            height=height,
            width=width,
            scale=scale,
            new_h=size[0],
            new_w=size[1],
            largest=largest,
        )
    batch = image[None, None] if image.dim() == 2 else image[None]  # (1, C, H, W)
    resized = F.interpolate(batch, size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized[0, 0] if image.dim() == 2 else resized[0]


# --- the three stages of a convolutional layer

NONLINEARITIES = (
    N_("relu"),
    N_("tanh"),
    N_("sigmoid"),
    N_("abs"),
    N_("none"),
)  # ids: shown translated
POOLS = (N_("max"), N_("average"))


@dataclass
class LayerStages:
    """A convolutional layer's three stages (Goodfellow fig. 9.7): conv, detector, pooling."""

    conv: torch.Tensor  # (K, H, W) affine transform: feature maps + bias
    detector: torch.Tensor  # (K, H, W) nonlinearity applied elementwise
    pooled: torch.Tensor  # (K, H', W') pooling summarises each neighbourhood


def stage_shares(stages: LayerStages) -> dict[str, float]:
    """Return the shares "negative" (conv < 0), "zero" (detector == 0), "kept" (pooled/before)."""
    return {
        "negative": float((stages.conv < 0).double().mean()),
        "zero": float((stages.detector == 0).double().mean()),
        "kept": stages.pooled[0].numel() / stages.detector[0].numel(),
    }


SPARSE_SHARE = 0.5  # maps with at least this share of exact zeros are called sparse


def is_sparse(shares: dict[str, float]) -> bool:
    """Return True when the detector stage zeroed at least SPARSE_SHARE of the values."""
    return shares["zero"] >= SPARSE_SHARE


def _choice(kind: str, value: object, options: tuple[str, ...]) -> str:
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in options:
        raise ConvConfigError(f"Unknown {kind} {value!r}; choose one of: {', '.join(options)}.")
    return key


def layer_stages(
    image: torch.Tensor,
    kernels: torch.Tensor,
    bias: torch.Tensor | None = None,
    nonlinearity: str = "relu",
    pool: str = "max",
    pool_size: int = 2,
    pool_stride: int | None = None,
    padding_mode: str = "zeros",
) -> LayerStages:
    """Return the conv ('same' padding, + bias), detector and pooled stages for these kernels."""
    nonlinearity = _choice("nonlinearity", nonlinearity, NONLINEARITIES)
    pool = _choice("pooling", pool, POOLS)
    conv = feature_maps(image, kernels, padding="same", padding_mode=padding_mode)  # (K, H, W)
    n_maps, height, width = conv.shape
    if bias is not None:
        bias = check_tensor("bias", bias, (1,), error=ConvConfigError)
        if bias.shape[0] != n_maps:
            raise ConvConfigError(
                f"bias needs one value per kernel ({n_maps}), got {bias.shape[0]}."
            )
        conv = conv + bias.to(conv.dtype)[:, None, None]
    pool_size = check_int(N_("pool size"), pool_size, 1, min(height, width), error=ConvConfigError)
    pool_stride = (
        pool_size
        if pool_stride is None
        else check_int(N_("pool stride"), pool_stride, 1, error=ConvConfigError)
    )
    activations = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "abs": torch.abs,
        "none": lambda t: t,
    }
    with torch.inference_mode():
        detector = activations[nonlinearity](conv)  # (K, H, W)
        pooling = F.max_pool2d if pool == "max" else F.avg_pool2d
        pooled = pooling(detector, kernel_size=pool_size, stride=pool_stride)  # (K, H', W')
    return LayerStages(conv=conv, detector=detector, pooled=pooled)
