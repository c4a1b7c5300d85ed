"""What do the classic hand-made kernels look like?

The bank of filters a learner can apply before any learning happens. Each 3×3 kernel is the
textbook matrix; 5×5 and 7×7 versions generalise the same idea (documented per kernel). All are
written for torch's conv2d, which is cross-correlation: the kernel is laid on the image unflipped.
Angles are counter-clockwise on screen, with rows running down.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from engine.conv.arithmetic import ConvConfigError
from engine.core import N_, check_number

KERNEL_NAMES: tuple[str, ...] = (
    N_("identity"),
    N_("box blur"),
    N_("gaussian"),
    N_("sharpen"),
    N_("sobel x"),
    N_("sobel y"),
    N_("laplacian"),
    N_("gabor"),
    N_("emboss"),
)
KERNEL_SIZES: tuple[int, ...] = (3, 5, 7)
SHARPEN_AMOUNT = 2.0  # how much of the detail (identity - gaussian) the 5×5/7×7 sharpen adds back


def _offsets(size: int) -> torch.Tensor:
    """Return (size,) float64 offsets from the centre, e.g. [-1, 0, 1]."""
    return torch.arange(size, dtype=torch.float64) - size // 2


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (rows, cols), each (size, size) float64, as offsets from the centre."""
    d = _offsets(size)
    return torch.meshgrid(d, d, indexing="ij")


def _binomial(length: int) -> torch.Tensor:
    """Return the (length,) binomial row [C(length-1, i)], e.g. [1, 2, 1]."""
    return torch.tensor([math.comb(length - 1, i) for i in range(length)], dtype=torch.float64)


def identity(size: int, angle_deg: float) -> torch.Tensor:
    """Identity: a single 1 at the centre, so the output copies the input."""
    kernel = torch.zeros(size, size, dtype=torch.float64)
    kernel[size // 2, size // 2] = 1.0
    return kernel


def box_blur(size: int, angle_deg: float) -> torch.Tensor:
    """Box blur: every weight 1/k², so each output is the plain average of its k×k neighbourhood."""
    return torch.full((size, size), 1.0 / size**2, dtype=torch.float64)


def gaussian(size: int, angle_deg: float) -> torch.Tensor:
    """Gaussian blur: a sampled bell with sigma = size/4 pixels, normalised to sum to 1."""
    rows, cols = _grid(size)
    sigma = size / 4
    kernel = torch.exp(-(rows**2 + cols**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def sharpen(size: int, angle_deg: float) -> torch.Tensor:
    """Sharpen: the image plus extra detail (identity - gaussian); sums to 1."""
    if size == 3:
        return torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)
    delta = identity(size, angle_deg)
    return delta + SHARPEN_AMOUNT * (delta - gaussian(size, angle_deg))


def sobel_x(size: int, angle_deg: float) -> torch.Tensor:
    """Sobel x: smooth down, differentiate across; positive where brightness rises to the right."""
    smooth = _binomial(size)  # e.g. [1, 2, 1]
    derivative = torch.nn.functional.conv1d(  # [-1, 0, 1] widened by binomial smoothing
        torch.tensor([[[-1.0, 0.0, 1.0]]], dtype=torch.float64),
        _binomial(size - 2).flip(0)[None, None],
        padding=size - 3,
    )[0, 0]
    kernel = torch.outer(smooth, derivative)
    # 5×5 and 7×7 are rescaled so a ramp rising 1 per pixel gives 8, as the classic 3×3 does
    ramp_response = (kernel * _grid(size)[1]).sum()
    return kernel * (8.0 / ramp_response)


def sobel_y(size: int, angle_deg: float) -> torch.Tensor:
    """Sobel y: the transpose of Sobel x; positive where brightness rises downwards."""
    return sobel_x(size, angle_deg).T.clone()


def laplacian(size: int, angle_deg: float) -> torch.Tensor:
    """Laplacian: neighbours minus centre, zero on flat areas; 5×5/7×7: Laplacian of Gaussian."""
    if size == 3:
        return torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float64)
    rows, cols = _grid(size)
    r2 = rows**2 + cols**2
    sigma = (size - 1) / 4  # 1.0 px for 5×5, 1.5 px for 7×7: the positive ring fits in the window
    kernel = (r2 - 2 * sigma**2) * torch.exp(-r2 / (2 * sigma**2))
    kernel = kernel - kernel.mean()  # zero-sum: a flat image gives 0
    # scaled like the 3×3: the bowl x² + y² (whose Laplacian is 4) gives 4
    return kernel * (4.0 / (kernel * r2).sum())


def gabor(size: int, angle_deg: float) -> torch.Tensor:
    """Gabor: stripes (wavelength 2·size/3) at angle_deg under a Gaussian window; zero-mean."""
    rows, cols = _grid(size)
    theta = math.radians(angle_deg)
    along = cols * math.cos(theta) - rows * math.sin(
        theta
    )  # rows run down, angles turn anticlockwise
    wavelength = 2 * size / 3
    sigma = size / 4
    kernel = torch.cos(2 * math.pi * along / wavelength) * torch.exp(
        -(rows**2 + cols**2) / (2 * sigma**2)
    )
    return kernel - kernel.mean()


def emboss(size: int, angle_deg: float) -> torch.Tensor:
    """Emboss: a diagonal ramp from -2 (top left) to +2 (bottom right), plus 1 at the centre."""
    rows, cols = _grid(size)
    kernel = (rows + cols) / (size // 2)  # corners at -2 and +2 for every size
    return kernel + identity(size, angle_deg)


_BUILDERS: dict[str, Callable[[int, float], torch.Tensor]] = {
    "identity": identity,
    "box blur": box_blur,
    "gaussian": gaussian,
    "sharpen": sharpen,
    "sobel x": sobel_x,
    "sobel y": sobel_y,
    "laplacian": laplacian,
    "gabor": gabor,
    "emboss": emboss,
}


def _builder(name: str) -> Callable[[int, float], torch.Tensor]:
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in _BUILDERS:
        raise ConvConfigError(f"Unknown kernel {name!r}; choose one of: {', '.join(KERNEL_NAMES)}.")
    return _BUILDERS[key]


def kernel_description(name: str) -> str:
    """Return the one-line, learner-facing description of the named kernel."""
    return (_builder(name).__doc__ or "").strip()


def make_kernel(name: str, size: int = 3, angle_deg: float = 0.0) -> torch.Tensor:
    """Return the named (size, size) float32 kernel; size 3, 5 or 7; angle_deg steers gabor."""
    builder = _builder(name)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size not in KERNEL_SIZES:
        raise ConvConfigError(f"Kernel size must be one of {KERNEL_SIZES}, got {size!r}.")
    angle_deg = check_number("angle_deg (degrees)", angle_deg, error=ConvConfigError)
    return builder(int(size), angle_deg).to(torch.float32)
