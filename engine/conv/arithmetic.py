"""How big is a convolution's output, and which input cells meet the kernel at each step?

Output-size formulas (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning"),
a step-by-step trace of a convolution on a small grid, and the transposed convolution written as
the scatter-add it is ("each input cell stamps a scaled copy of the kernel into the output").
Also home of ConvConfigError and the argument checks every convolution module shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.core import N_, ExplorerError, check_int, check_tensor

MAX_GRID = 32  # side of the largest grid the step-through functions accept: each step is listed


class ConvConfigError(ExplorerError):
    """A convolution setting that cannot work; the message says what to change."""


# --- output-size arithmetic


def conv_output_size(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Return the output length floor((n + 2p - d(k-1) - 1)/s) + 1 along one axis."""
    n = check_int(N_("input size"), n, 1, error=ConvConfigError)
    k = check_int(N_("kernel size"), k, 1, error=ConvConfigError)
    padding = check_int(N_("padding"), padding, 0, error=ConvConfigError)
    stride = check_int(N_("stride"), stride, 1, error=ConvConfigError)
    dilation = check_int(N_("dilation"), dilation, 1, error=ConvConfigError)
    span = dilation * (k - 1) + 1  # the dilated kernel's footprint
    if span > n + 2 * padding:
        raise ConvConfigError(
            "The kernel covers {span} cells (size {k}, dilation {dilation}) but the padded input "
            "has only {padded} (size {n} + 2×padding {padding}); "
            "use a smaller kernel or dilation, or more padding.",
            span=span,
            k=k,
            dilation=dilation,
            padded=n + 2 * padding,
            n=n,
            padding=padding,
        )
    return (n + 2 * padding - span) // stride + 1


def transposed_output_size(
    n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1, output_padding: int = 0
) -> int:
    """Return the output length (n-1)s - 2p + d(k-1) + output_padding + 1 of a transposed conv."""
    n = check_int(N_("input size"), n, 1, error=ConvConfigError)
    k = check_int(N_("kernel size"), k, 1, error=ConvConfigError)
    padding = check_int(N_("padding"), padding, 0, error=ConvConfigError)
    stride = check_int(N_("stride"), stride, 1, error=ConvConfigError)
    dilation = check_int(N_("dilation"), dilation, 1, error=ConvConfigError)
    output_padding = check_int(N_("output padding"), output_padding, 0, error=ConvConfigError)
    if output_padding >= max(stride, dilation):
        raise ConvConfigError(
            "output padding ({output_padding}) must be smaller than the stride ({stride}) or the "
            "dilation ({dilation}); it only picks among the sizes a stride can map to.",
            output_padding=output_padding,
            stride=stride,
            dilation=dilation,
        )
    size = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ConvConfigError(
            "The padding ({padding}) crops away the whole output (full size {full}); use less "
            "padding.",
            padding=padding,
            full=size + 2 * padding,
        )
    return size


def resolve_padding(
    padding: int | str, kernel_hw: tuple[int, int], dilation: int
) -> tuple[int, int]:
    """Return (pad_rows, pad_cols) for an int padding or the names "same" / "valid".

    "same" pads d(k-1)/2 on each side, which keeps H×W at stride 1 (and gives ceil(H/s) at
    stride s); it needs an odd kernel so the padding can be split evenly.
    """
    if isinstance(padding, str):
        name = padding.strip().lower()
        if name == "valid":
            return (0, 0)
        if name == "same":
            if any(k % 2 == 0 for k in kernel_hw):
                raise ConvConfigError(
                    f"'same' padding needs an odd kernel (got {kernel_hw[0]}×{kernel_hw[1]}): "
                    "an even kernel has no centre pixel. Use an integer padding instead."
                )
            return (dilation * (kernel_hw[0] - 1) // 2, dilation * (kernel_hw[1] - 1) // 2)
        raise ConvConfigError(
            f"padding must be 'same', 'valid' or a whole number, got {padding!r}."
        )
    p = check_int(N_("padding"), padding, 0, error=ConvConfigError)
    return (p, p)


# --- step-through on a small grid


def small_grid(n: int, seed: int = 0) -> torch.Tensor:
    """Return an (n, n) float32 grid of small integers 0..3, for arithmetic checkable by hand."""
    n = check_int("grid size", n, 1, MAX_GRID, error=ConvConfigError)
    rng = np.random.default_rng(check_int("seed", seed, 0, error=ConvConfigError))
    return torch.from_numpy(rng.integers(0, 4, size=(n, n)).astype(np.float32))


def small_kernel(k: int, seed: int = 1) -> torch.Tensor:
    """Return a (k, k) float32 kernel of small nonzero integers (−1, 1, 2), for hand arithmetic."""
    k = check_int(N_("kernel size"), k, 1, MAX_GRID, error=ConvConfigError)
    rng = np.random.default_rng(check_int("seed", seed, 0, error=ConvConfigError))
    # No zeros, so every tap shows up in the matrix view and in the arithmetic.
    return torch.from_numpy(rng.choice([-1.0, 1.0, 2.0], size=(k, k)).astype(np.float32))


@dataclass
class Step:
    """One output cell of a convolution: where it is, its value, and the input cells it read."""

    out_row: int
    out_col: int
    value: float
    taps: list[tuple[int, int]]  # input cells in PADDED coordinates, in kernel (row-major) order


def _check_grid_and_kernel(grid: torch.Tensor, kernel: torch.Tensor) -> None:
    check_tensor("grid", grid, (2,), error=ConvConfigError)
    check_tensor("kernel", kernel, (2,), error=ConvConfigError)
    if max(grid.shape) > MAX_GRID:
        raise ConvConfigError(
            f"The step-through lists every step, so the grid is capped at {MAX_GRID}×{MAX_GRID}; "
            f"got {grid.shape[0]}×{grid.shape[1]}."
        )
    if max(kernel.shape) > MAX_GRID:
        raise ConvConfigError(f"The kernel is capped at {MAX_GRID}×{MAX_GRID} here.")


def conv_steps(
    grid: torch.Tensor, kernel: torch.Tensor, padding: int = 0, stride: int = 1, dilation: int = 1
) -> list[Step]:
    """Return every step of a cross-correlation (what torch calls conv2d) in row-major order."""
    _check_grid_and_kernel(grid, kernel)
    kh, kw = kernel.shape
    out_h = conv_output_size(grid.shape[0], kh, padding, stride, dilation)
    out_w = conv_output_size(grid.shape[1], kw, padding, stride, dilation)
    padded = np.pad(grid.double().numpy(), padding)  # (H+2p, W+2p), zeros around the grid
    weights = kernel.double().numpy()
    steps = []
    for r in range(out_h):
        for c in range(out_w):
            taps, value = [], 0.0
            for i in range(kh):
                for j in range(kw):
                    tap = (r * stride + i * dilation, c * stride + j * dilation)
                    taps.append(tap)
                    value += padded[tap] * weights[i, j]
            steps.append(Step(out_row=r, out_col=c, value=float(value), taps=taps))
    return steps


def padded_grid(grid: torch.Tensor, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the (n+2p, n+2p) zero-padded grid and the bool mask of its padding cells."""
    check_tensor("grid", grid, (2,), error=ConvConfigError)
    padding = check_int(N_("padding"), padding, 0, MAX_GRID, error=ConvConfigError)
    padded = np.pad(grid.numpy(), padding)
    mask = np.pad(np.zeros(tuple(grid.shape), bool), padding, constant_values=True)
    return padded, mask


def accumulated_outputs(steps: list[Step], out_size: tuple[int, int]) -> list[np.ndarray]:
    """Return the (H_out, W_out) output as it stands after each step; cells not yet reached: NaN."""
    out = np.full(out_size, np.nan)
    frames = []
    for step in steps:
        out[step.out_row, step.out_col] = step.value
        frames.append(out.copy())
    return frames


def step_products(
    step: Step, padded: np.ndarray, kernel: torch.Tensor
) -> list[tuple[float, float]]:
    """Return the (input value, weight) pairs one step multiplies, in kernel row-major order."""
    weights = kernel.flatten().tolist()
    return [(float(padded[tap]), w) for tap, w in zip(step.taps, weights, strict=True)]


def matrix_step_error(matrix: torch.Tensor, grid: torch.Tensor, steps: list[Step]) -> float:
    """Return max |M x − the step-through's outputs|: how far the matrix view is from sliding."""
    if matrix.shape != (len(steps), grid.numel()):
        raise ConvConfigError(
            f"The matrix is {tuple(matrix.shape)} but the step-through has {len(steps)} outputs "
            f"of a {grid.numel()}-cell grid; build both with the same settings."
        )
    y = matrix.double() @ grid.double().flatten()
    return float((y - torch.tensor([x.value for x in steps], dtype=torch.float64)).abs().max())


def transposed_full_size(n: int, k: int, stride: int = 1) -> int:
    """Return the uncropped length (n-1)s + k of a transposed convolution, before padding crops."""
    n = check_int(N_("input size"), n, 1, error=ConvConfigError)
    k = check_int(N_("kernel size"), k, 1, error=ConvConfigError)
    return (n - 1) * check_int(N_("stride"), stride, 1, error=ConvConfigError) + k


# --- transposed convolution, as a scatter-add


@dataclass
class TransposedStep:
    """One input cell of a transposed convolution and the output cells its stamp lands on."""

    in_row: int
    in_col: int
    value: float
    out_cells: list[tuple[int, int]]  # full-size output coordinates (before cropping by padding)
    stamps: list[float]  # value × kernel entry landing on each of out_cells, same order


def transposed_steps(
    grid: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0
) -> list[TransposedStep]:
    """Return, per input cell in row-major order, where its value×kernel stamp lands."""
    _check_grid_and_kernel(grid, kernel)
    kh, kw = kernel.shape
    # validates stride/padding and that cropping leaves something
    transposed_output_size(grid.shape[0], kh, padding, stride)
    transposed_output_size(grid.shape[1], kw, padding, stride)
    weights = kernel.double().flatten().tolist()  # row-major, the order of out_cells
    steps = []
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            cells = [(r * stride + i, c * stride + j) for i in range(kh) for j in range(kw)]
            value = float(grid[r, c])
            steps.append(
                TransposedStep(
                    in_row=r,
                    in_col=c,
                    value=value,
                    out_cells=cells,
                    stamps=[value * w for w in weights],
                )
            )
    return steps


def accumulated_stamps(steps: list[TransposedStep], full_size: tuple[int, int]) -> list[np.ndarray]:
    """Return the uncropped (H_full, W_full) output as it stands after each step's stamp."""
    acc = np.zeros(full_size)
    frames = []
    for step in steps:
        for cell, stamp in zip(step.out_cells, step.stamps, strict=True):
            acc[cell] += stamp
        frames.append(acc.copy())
    return frames


def transposed_conv2d(
    grid: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """Return the (H', W') transposed conv: each cell stamps value×kernel; padding crops."""
    _check_grid_and_kernel(grid, kernel)
    kh, kw = kernel.shape
    out_h = transposed_output_size(grid.shape[0], kh, padding, stride)
    out_w = transposed_output_size(grid.shape[1], kw, padding, stride)
    full = torch.zeros(out_h + 2 * padding, out_w + 2 * padding, dtype=grid.dtype)  # uncropped
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            full[r * stride : r * stride + kh, c * stride : c * stride + kw] += grid[r, c] * kernel
    return full[padding : padding + out_h, padding : padding + out_w]


def transposed_crop_mask(full: int, padding: int) -> np.ndarray:
    """Return the (full, full) bool mask of the border that padding crops off a transposed conv."""
    full = check_int(N_("full output size"), full, 1, error=ConvConfigError)
    padding = check_int(N_("padding"), padding, 0, error=ConvConfigError)
    if 2 * padding >= full:
        raise ConvConfigError(
            "Cropping {padding} from each side of {full} cells leaves nothing; use less padding.",
            padding=padding,
            full=full,
        )
    mask = np.ones((full, full), dtype=bool)
    mask[padding : full - padding, padding : full - padding] = False
    return mask


def stamp_counts(steps: list[TransposedStep], full_size: tuple[int, int]) -> np.ndarray:
    """Return the (H_full, W_full) number of stamps that land on each uncropped output cell."""
    counts = np.zeros(full_size, dtype=np.int64)
    for step in steps:
        for cell in step.out_cells:
            counts[cell] += 1
    return counts


# --- what the settings did, for the sentences beside the numbers


def size_change(n_in: int, n_out: int) -> str:
    """Return "keeps", "shrinks" or "grows": how an output of n_out compares with n_in."""
    n_in = check_int(N_("input size"), n_in, 1, error=ConvConfigError)
    n_out = check_int("output size", n_out, 1, error=ConvConfigError)
    if n_out == n_in:
        return "keeps"
    return "shrinks" if n_out < n_in else "grows"


def knob_sizes(n: int, k: int, padding: int, stride: int, dilation: int) -> dict[str, int | None]:
    """Return, per setting away from its neutral value, the output size with it reset.

    Keys among "padding" (p = 0), "stride" (s = 1), "dilation" (d = 1); the value is None when the
    kernel would then not fit the input.
    """
    neutral = {"padding": 0, "stride": 1, "dilation": 1}
    settings = {"padding": padding, "stride": stride, "dilation": dilation}
    conv_output_size(n, k, padding, stride, dilation)  # the settings themselves must work
    sizes = {}
    for name, value in settings.items():
        if value == neutral[name]:
            continue
        changed = settings | {name: neutral[name]}
        try:
            sizes[name] = conv_output_size(
                n, k, changed["padding"], changed["stride"], changed["dilation"]
            )
        except ConvConfigError:
            sizes[name] = None
    return sizes
