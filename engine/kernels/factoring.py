"""When is a stack of kernels one kernel, and when does one kernel split into a stack?

Three equalities, each measured on an image. Stacked linear convolutions are one convolution with
a bigger kernel (their composition), so a ReLU between them is what a stack adds. A 1×1
convolution is one small linear layer applied to every pixel's channel vector (Lin et al.,
"Network in Network", 2014). And a rank-1 (separable) n×n kernel is exactly a 1×n convolution
followed by an n×1 one (Inception v3); any other kernel is at best approximated, with the error
its singular values predict (Eckart–Young).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.core import N_, check_int, check_tensor, seeded
from engine.kernels.checks import KernelDesignError, gray_image

MAX_FIT_SIDE = 320  # the least-squares fit holds side² × r² float64 values (≈ 40 MB at 7×7)
MAX_STACK_FIELD = 15
STACK_MID_CHANNELS = 4  # stack_on_image: channels between the random layers
MAX_MLP_CHANNELS = 256
MAX_SEPARABLE = 31
ROUNDING = 1e-5  # within_rounding: a difference below this share of the values' size is rounding
RELU_GAIN = 0.01  # relu_matters: the best single kernel must miss at least this share


def _he(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> torch.Tensor:
    """Return He-initialised float32 weights (std sqrt(2 / fan_in)) drawn from generator."""
    return torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_in)


def random_kernel(n: int, seed: int = 0) -> torch.Tensor:
    """Return an (n, n) float32 kernel of standard normal weights: a generic, unstructured one."""
    n = check_int(N_("kernel side"), n, 1, MAX_SEPARABLE, error=KernelDesignError)
    generator = seeded(check_int(N_("seed"), seed, 0, error=KernelDesignError))
    return torch.randn((n, n), generator=generator)


# --- a stack of small kernels versus one big kernel


@dataclass(frozen=True)
class StackOnImage:
    """A random stack of small kernels on an image, with and without ReLU, and one-kernel twins."""

    field: int  # r = 1 + depth·(small − 1): side of the single kernel that sees as far
    weights: tuple[torch.Tensor, ...]  # (C_out, C_in, k, k) per layer, 1 → M → … → M → 1
    stacked: torch.Tensor  # (H', W') output of the stack with ReLU between layers
    linear: torch.Tensor  # (H', W') the same weights without ReLU
    composed: torch.Tensor  # (r, r) the single kernel the linear stack equals
    linear_error: float  # max |linear − one r×r conv with `composed`|
    best_kernel: torch.Tensor  # (r, r) least-squares single kernel (plus a bias) for `stacked`
    best_out: torch.Tensor  # (H', W') that kernel's output
    unexplained: float  # ||stacked − best_out|| / ||stacked − mean||: what no r×r kernel gives


def _run_stack(x: torch.Tensor, weights: list[torch.Tensor], relu: bool) -> torch.Tensor:
    """Return the stack's (1, 1, H', W') output: unpadded convs, ReLU between layers if relu."""
    for i, w in enumerate(weights):
        x = F.conv2d(x, w)  # (1, C_i, H - i(k-1), W - i(k-1))
        if relu and i < len(weights) - 1:
            x = F.relu(x)
    return x


def best_single_kernel(
    image: torch.Tensor, target: torch.Tensor, r: int
) -> tuple[torch.Tensor, float, torch.Tensor, float]:
    """Return (kernel (r, r), bias, fitted (H', W'), unexplained fraction) of the least-squares
    r×r cross-correlation plus bias that best maps image (H, W) to target (H-r+1, W-r+1)."""
    x = gray_image(image, min_side=r, max_side=MAX_FIT_SIDE).to(torch.float64)
    out_hw = (x.shape[0] - r + 1, x.shape[1] - r + 1)
    if tuple(target.shape) != out_hw:
        raise KernelDesignError(
            "target must be {out_hw} for an {r}×{r} kernel on {shape}.",
            out_hw=out_hw,
            r=r,
            shape=tuple(x.shape),
        )
    patches = F.unfold(x[None, None], r)[0].T  # (H'·W', r²): one row per output pixel
    a = torch.cat([patches, torch.ones(patches.shape[0], 1, dtype=x.dtype)], dim=1)
    y = target.reshape(-1).to(torch.float64)  # (H'·W',)
    coef = torch.linalg.lstsq(a, y[:, None], driver="gelsd").solution[:, 0]  # (r² + 1,)
    fitted = a @ coef
    spread = float((y - y.mean()).norm())
    unexplained = float((y - fitted).norm()) / spread if spread > 0 else 0.0
    kernel = coef[:-1].reshape(r, r).to(torch.float32)
    return kernel, float(coef[-1]), fitted.reshape(out_hw).to(torch.float32), unexplained


def stack_on_image(
    image: torch.Tensor,
    depth: int = 2,
    small: int = 3,
    mid_channels: int = STACK_MID_CHANNELS,
    seed: int = 0,
) -> StackOnImage:
    """Return a StackOnImage: depth random small×small layers (1 → M → … → M → 1 channels)."""
    depth = check_int(N_("number of stacked layers"), depth, 1, 8, error=KernelDesignError)
    small = check_int(N_("small kernel side"), small, 1, MAX_STACK_FIELD, error=KernelDesignError)
    mid = check_int(N_("channels between layers"), mid_channels, 1, 64, error=KernelDesignError)
    r = depth * (small - 1) + 1
    if r > MAX_STACK_FIELD:
        raise KernelDesignError(
            "{depth} layers of {small}×{small} see {r}×{r}; this view stops at "
            "{most}×{most}. Use fewer layers or a smaller kernel.",
            depth=depth,
            small=small,
            r=r,
            most=MAX_STACK_FIELD,
        )
    x = gray_image(image, min_side=r + 1, max_side=MAX_FIT_SIDE).to(torch.float32)
    generator = seeded(check_int(N_("seed"), seed, 0, error=KernelDesignError))
    channels = [1] + [mid] * (depth - 1) + [1]
    weights = [
        _he((c_out, c_in, small, small), c_in * small * small, generator)
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
    ]
    batch = x[None, None]  # (1, 1, H, W)
    with torch.inference_mode():
        stacked = _run_stack(batch, weights, relu=True)[0, 0]  # (H', W')
        linear = _run_stack(batch, weights, relu=False)[0, 0]
        # The linear stack's response to one bright pixel is its single kernel, mirrored
        impulse = torch.zeros(1, 1, 2 * r - 1, 2 * r - 1)
        impulse[0, 0, r - 1, r - 1] = 1.0
        composed = _run_stack(impulse, weights, relu=False)[0, 0].flip(0, 1)  # (r, r)
        composed_out = F.conv2d(batch, composed[None, None])[0, 0]
    best, _, best_out, unexplained = best_single_kernel(x, stacked, r)
    return StackOnImage(
        field=r,
        weights=tuple(weights),
        stacked=stacked,
        linear=linear,
        composed=composed,
        linear_error=float((linear - composed_out).abs().max()),
        best_kernel=best,
        best_out=best_out,
        unexplained=unexplained,
    )


def within_rounding(difference: float, values: torch.Tensor, rel: float = ROUNDING) -> bool:
    """Return True when a max |difference| is under rel times the largest |value| (or zero)."""
    top = float(values.abs().max()) if values.numel() else 0.0
    return difference <= rel * top if top > 0 else difference == 0


def relu_matters(demo: StackOnImage, gain: float = RELU_GAIN) -> bool:
    """Return True when no single kernel reproduces the ReLU stack: it misses ≥ gain of it."""
    return demo.unexplained >= gain


# --- 1×1 convolution as a per-pixel linear layer


@dataclass(frozen=True)
class PixelMLP:
    """1×1 convolutions (ReLU between) and the same weights as nn.Linear on every pixel."""

    layers: tuple[nn.Linear, ...]  # the weights both paths use: (out, in) matrices and biases
    conv_out: torch.Tensor  # (C_out, H, W) through F.conv2d with 1×1 kernels
    linear_out: torch.Tensor  # (C_out, H, W) through nn.Linear on each pixel's channel vector
    max_abs_diff: float

    @property
    def parameters(self) -> int:
        return sum(p.numel() for layer in self.layers for p in layer.parameters())


def pixel_mlp(maps: torch.Tensor, out_channels: int, hidden: int = 0, seed: int = 0) -> PixelMLP:
    """Return a PixelMLP on maps (C, H, W): C → out (hidden = 0) or C → hidden → ReLU → out."""
    maps = check_tensor("feature maps", maps, (3,), error=KernelDesignError).to(
        torch.float32
    )  # (C, H, W)
    c = check_int(N_("input channels"), maps.shape[0], 1, MAX_MLP_CHANNELS, error=KernelDesignError)
    out = check_int(
        N_("output channels"), out_channels, 1, MAX_MLP_CHANNELS, error=KernelDesignError
    )
    hidden = check_int(N_("hidden channels"), hidden, 0, MAX_MLP_CHANNELS, error=KernelDesignError)
    if max(maps.shape[1:]) > 1024:
        raise KernelDesignError(
            "Feature maps of {shape} are over 1024 per side.", shape=tuple(maps.shape[1:])
        )
    generator = seeded(check_int(N_("seed"), seed, 0, error=KernelDesignError))
    dims = [c, hidden, out] if hidden else [c, out]
    layers = []
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        layer = nn.Linear(d_in, d_out, device="meta").to_empty(device="cpu")
        bound = 1 / math.sqrt(d_in)  # torch's default Linear init, drawn from our generator
        with torch.no_grad():
            nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        layers.append(layer)
    with torch.inference_mode():
        conv, per_pixel = maps[None], maps.permute(1, 2, 0)  # (1, C, H, W) and (H, W, C)
        for i, layer in enumerate(layers):
            conv = F.conv2d(conv, layer.weight[:, :, None, None], layer.bias)  # (1, C', H, W)
            per_pixel = layer(per_pixel)  # (H, W, C')
            if i < len(layers) - 1:
                conv, per_pixel = F.relu(conv), F.relu(per_pixel)
        conv, per_pixel = conv[0], per_pixel.permute(2, 0, 1)  # both (C_out, H, W)
    return PixelMLP(tuple(layers), conv, per_pixel, float((conv - per_pixel).abs().max()))


# --- separable kernels: n×n as 1×n then n×1


@dataclass(frozen=True)
class Separability:
    """A kernel's singular values, its best 1×n-then-n×1 pair, and both applied to an image."""

    kernel: torch.Tensor  # (n, n)
    singular_values: torch.Tensor  # (n,) float64, largest first
    rank: int  # singular values above 1e-6 of the largest
    column: torch.Tensor  # (n,) the n×1 factor, u₁·√s₁
    row: torch.Tensor  # (n,) the 1×n factor, √s₁·v₁
    rank_errors: tuple[float, ...]  # ||K − best rank-r||_F / ||K||_F for r = 1 … n
    full_out: torch.Tensor  # (H, W) one n×n conv, zero 'same' padding
    factorised_out: torch.Tensor  # (H, W) the 1×n conv, then the n×1 conv
    max_abs_diff: float

    @property
    def rank1_error(self) -> float:
        """Return ||K − best rank-1||_F / ||K||_F."""
        return self.rank_errors[0]

    @property
    def pair_kernel(self) -> torch.Tensor:
        """Return the (n, n) kernel the 1×n-then-n×1 pair amounts to: column ⊗ row."""
        return torch.outer(self.column, self.row)

    @property
    def relative_diff(self) -> float:
        """Return max |difference| over max |full output| (0 when the output is all zero)."""
        top = float(self.full_out.abs().max())
        return self.max_abs_diff / top if top > 0 else 0.0


def separability(image: torch.Tensor, kernel: torch.Tensor) -> Separability:
    """Return a Separability: kernel (n, n), n odd, on image (H, W) as n×n and as 1×n then n×1."""
    kernel = check_tensor("kernel", kernel, (2,), error=KernelDesignError)
    n = kernel.shape[0]
    if kernel.shape[1] != n or n % 2 == 0 or n > MAX_SEPARABLE:
        raise KernelDesignError(
            "The kernel must be square with an odd side up to {most}, got {shape}.",
            most=MAX_SEPARABLE,
            shape=tuple(kernel.shape),
        )
    x = gray_image(image).to(torch.float32)
    u, s, vh = torch.linalg.svd(kernel.to(torch.float64))  # (n, n), (n,), (n, n)
    if float(s[0]) == 0.0:
        raise KernelDesignError("The kernel is all zeros; there is nothing to factorise.")
    sign = 1.0 if float(u[u[:, 0].abs().argmax(), 0]) >= 0 else -1.0  # largest column entry > 0
    column = (sign * u[:, 0] * s[0].sqrt()).to(torch.float32)
    row = (sign * vh[0] * s[0].sqrt()).to(torch.float32)
    energy = s.square()
    tails = energy.flip(0).cumsum(0).flip(0)  # tails[r] = sum of s_i² for i ≥ r
    rank_errors = tuple(
        float(v) for v in (torch.cat([tails[1:], s.new_zeros(1)]) / tails[0]).sqrt()
    )
    batch, p = x[None, None], n // 2
    with torch.inference_mode():
        full = F.conv2d(batch, kernel.to(torch.float32)[None, None], padding=p)[0, 0]
        across = F.conv2d(batch, row[None, None, None, :], padding=(0, p))  # 1×n
        factorised = F.conv2d(across, column[None, None, :, None], padding=(p, 0))[0, 0]  # n×1
    return Separability(
        kernel=kernel,
        singular_values=s,
        rank=int((s > 1e-6 * s[0]).sum()),
        column=column,
        row=row,
        rank_errors=rank_errors,
        full_out=full,
        factorised_out=factorised,
        max_abs_diff=float((full - factorised).abs().max()),
    )


def rank_one_split(seps: Mapping[str, Separability]) -> tuple[list[str], list[str]]:
    """Return (names of the rank-1 kernels, names of the others), in the mapping's order."""
    ones = [name for name, sep in seps.items() if sep.rank == 1]
    return ones, [name for name in seps if name not in ones]
