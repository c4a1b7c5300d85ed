"""What does pooling keep, and what does it make invariant?

Max, average, L2 and k-max pooling of a feature map (Goodfellow et al., Deep Learning, section 9.3;
k-max from Kalchbrenner et al. 2014, "A Convolutional Neural Network for Modelling Sentences"), the
book's small worked examples computed live, and a single bright dot moved under a pooling grid.
How stable pooled outputs stay under shifts is in engine/pooling/stability.py, under rotations and
rescaling in engine/pooling/warps.py.

Windows are size×size, laid without padding from the top-left corner every `stride` cells, and
windows that would overhang the right or bottom edge are dropped (torch's floor mode). Feature maps
are float tensors (C, H, W) or (H, W); a 2-D map gives 2-D results (no channel axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.conv import feature_maps
from engine.core import N_, check_int, check_tensor
from engine.pooling.errors import PoolingError

__all__ = [
    "POOL_METHODS",
    "DotMove",
    "detector_map",
    "dot_move",
    "global_pool",
    "kmax_positions",
    "moving_dot",
    "pool2d",
    "valid_maps",
    "worked_examples",
]

POOL_METHODS = ("max", "average", "l2", "k-max")
MAX_POOL_SIZE = 32
MAX_POOL_STRIDE = 512
MAX_CHANNELS = 512
MAX_ELEMENTS = 1 << 24  # 64 maps of 512×512
MAX_WINDOW_ELEMENTS = 1 << 25  # k-max copies every window (overlapping ones too) before sorting
MAX_DOT_SIDE = 512
MAX_DOTS = 256


# --- checks


def _method(value: object) -> str:
    key = value.strip().lower() if isinstance(value, str) else value
    if key not in POOL_METHODS:
        raise PoolingError(
            f"Unknown pooling method {value!r}; choose one of: {', '.join(POOL_METHODS)}."
        )
    return key


def _check_map(fmap: object, name: str = "feature map") -> torch.Tensor:
    """Return fmap as a float32/float64 (C, H, W) or (H, W) tensor after checking it."""
    fmap = check_tensor(name, fmap, (2, 3), error=PoolingError)
    if fmap.dim() == 3 and fmap.shape[0] > MAX_CHANNELS:
        raise PoolingError(
            f"{name} must be (H, W) or (C, H, W) with at most {MAX_CHANNELS} channels, "
            f"got shape {tuple(fmap.shape)} (channels first?)."
        )
    if fmap.numel() > MAX_ELEMENTS:
        raise PoolingError(
            f"{name} has {fmap.numel():,} values, more than the {MAX_ELEMENTS:,} pooled here; "
            "use fewer channels or a smaller image."
        )
    return fmap.float() if fmap.dtype == torch.float16 else fmap


def _check_window(
    height: int, width: int, size: int, stride: int | None
) -> tuple[int, int, int, int]:
    """Return (size, stride, H', W') after checking the window fits the map."""
    size = check_int("pool size", size, 1, MAX_POOL_SIZE, error=PoolingError)
    if size > min(height, width):
        raise PoolingError(
            "The pooling window ({size}×{size}) is larger than the {height}×{width} map; "
            "use a window of at most {most}.",
            size=size,
            height=height,
            width=width,
            most=min(height, width),
        )
    stride = (
        size
        if stride is None
        else check_int("pool stride", stride, 1, MAX_POOL_STRIDE, error=PoolingError)
    )
    return size, stride, (height - size) // stride + 1, (width - size) // stride + 1


def _check_k(k: int, window: int) -> int:
    k = check_int(
        f"k (how many values k-max keeps from each {window}-value window)",
        k,
        1,
        error=PoolingError,
    )
    if k > window:
        raise PoolingError(
            "k (how many values k-max keeps from each {window}-value window) must be at most "
            "{maximum}, got {value}.",
            window=window,
            maximum=window,
            value=k,
        )
    return k


# --- k-max: the k largest values of each window, in their order of position


def _kmax(windows: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (values, flat positions), each (..., k), of the k largest in each (..., n) window.

    Kept values stay in their order of position in the window (Kalchbrenner et al. 2014). Among
    equal values the earlier position (row-major) wins: a stable sort keeps ties in place.
    """
    ranked = torch.sort(windows, dim=-1, descending=True, stable=True).indices  # (..., n)
    positions = ranked[..., :k].sort(dim=-1).values  # (..., k), back in order of position
    return windows.gather(-1, positions), positions


def _windows(fmap: torch.Tensor, size: int, stride: int) -> torch.Tensor:
    """Return (C, H', W', size*size): each window's values in row-major order."""
    channels = fmap.shape[0]
    patches = fmap.unfold(1, size, stride).unfold(2, size, stride)  # (C, H', W', size, size)
    if patches.numel() > MAX_WINDOW_ELEMENTS:
        raise PoolingError(
            "k-max would copy {count} window values (overlapping windows repeat cells), more "
            "than {limit}; use a larger stride or a smaller window.",
            count=f"{patches.numel():,}",
            limit=f"{MAX_WINDOW_ELEMENTS:,}",
        )
    return patches.reshape(channels, patches.shape[1], patches.shape[2], size * size)


def pool2d(
    fmap: torch.Tensor, method: str, size: int, stride: int | None = None, k: int = 2
) -> torch.Tensor:
    """Return the pooled map: (C, H', W') for max/average/l2, (C, k, H', W') for k-max.

    - max: the largest value in each window ("did the feature appear here?").
    - average: the mean ("how strongly or how often?").
    - l2: the L2 norm of the window, sqrt(sum of squares), as in the Deep Learning book and
      F.lp_pool2d(norm_type=2); divide by `size` for the root-mean-square instead.
    - k-max: the k largest values, kept in their order of position in the window (row-major);
      ties go to the earlier position. `k` is used by k-max only.
    stride defaults to size (non-overlapping windows). A (H, W) map gives (H', W') / (k, H', W').
    """
    method = _method(method)
    fmap = _check_map(fmap)
    x = fmap if fmap.dim() == 3 else fmap[None]  # (C, H, W)
    size, stride, _, _ = _check_window(x.shape[1], x.shape[2], size, stride)
    with torch.inference_mode():
        if method == "max":
            out = F.max_pool2d(x, size, stride)  # (C, H', W')
        elif method == "average":
            out = F.avg_pool2d(x, size, stride)
        elif method == "l2":
            out = torch.sqrt(F.avg_pool2d(x * x, size, stride) * (size * size))
        else:
            k = _check_k(k, size * size)
            values, _ = _kmax(_windows(x, size, stride), k)  # (C, H', W', k)
            out = values.permute(0, 3, 1, 2)  # (C, k, H', W')
    return out if fmap.dim() == 3 else out[0]


def kmax_positions(
    fmap: torch.Tensor, size: int, stride: int | None = None, k: int = 2
) -> torch.Tensor:
    """Return (k, H', W', 2) int64 window-local (row, col) of k-max's kept values, in order.

    A (C, H, W) map gives (C, k, H', W', 2). Entry [i, r, c] is where pool2d(..., "k-max")[i, r, c]
    came from inside window (r, c); add (r·stride, c·stride) for map coordinates.
    """
    fmap = _check_map(fmap)
    x = fmap if fmap.dim() == 3 else fmap[None]  # (C, H, W)
    size, stride, _, _ = _check_window(x.shape[1], x.shape[2], size, stride)
    k = _check_k(k, size * size)
    with torch.inference_mode():
        _, flat = _kmax(_windows(x, size, stride), k)  # (C, H', W', k)
        rows_cols = torch.stack((flat // size, flat % size), dim=-1)  # (C, H', W', k, 2)
        out = rows_cols.permute(0, 3, 1, 2, 4)  # (C, k, H', W', 2)
    return out if fmap.dim() == 3 else out[0]


def global_pool(fmap: torch.Tensor, method: str, k: int = 2) -> torch.Tensor:
    """Return each channel pooled over its whole map: (C,), or (C, k) for k-max.

    The same four readings as pool2d with one window covering the map; k-max keeps the k largest
    in row-major order of position. A (H, W) map gives a 0-d tensor, or (k,) for k-max.
    """
    method = _method(method)
    fmap = _check_map(fmap)
    x = fmap if fmap.dim() == 3 else fmap[None]  # (C, H, W)
    flat = x.reshape(x.shape[0], -1)  # (C, H*W)
    with torch.inference_mode():
        if method == "max":
            out = flat.amax(dim=1)  # (C,)
        elif method == "average":
            out = flat.mean(dim=1)
        elif method == "l2":
            out = torch.linalg.vector_norm(flat, dim=1)
        else:
            out, _ = _kmax(flat, _check_k(k, flat.shape[1]))  # (C, k)
    return out if fmap.dim() == 3 else out[0]


# --- the map that is pooled


def valid_maps(image: torch.Tensor, kernels: torch.Tensor, rectify: bool = True) -> torch.Tensor:
    """Return (K, H-k+1, W-k+1) maps image ⋆ kernel at the valid positions, ReLU'd if rectify.

    kernels is (k, k) or (K, k, k). No padding is read, so every value comes from real pixels.
    """
    with torch.inference_mode():
        maps = feature_maps(image, kernels, padding="valid")  # (K, H', W')
        return torch.relu(maps) if rectify else maps


def detector_map(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Return ReLU(image ⋆ kernel) at the valid positions only: (H-k+1, W-k+1) for a (k, k) kernel.

    No padding is read, so a bright image next to an imagined black border cannot produce the
    largest responses: every value pooled from this map, globally too, comes from real pixels.
    """
    return valid_maps(image, kernel)[0]


# --- the book's worked examples


BOOK_PAIRS = (  # (what max pooling hides, region a, region b)
    (N_("same maximum, different place"), [[1.5, 0.0], [1.0, 0.0]], [[0.0, 1.5], [1.0, 0.0]]),
    (N_("same maximum, different amount"), [[1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]),
)


def worked_examples() -> list[dict]:
    """Return, per pair of 2×2 regions, every pooling's answer for a and for b, computed live.

    Each dict: "hides" (what max pooling cannot tell apart), "a", "b" (2×2 float32 tensors),
    "max", "average", "l2" ((a, b) floats), "k-max(k=2)" ((a, b) pairs of values in order of
    position) and "k-max positions(k=2)" ((a, b) pairs of (row, col)).
    """
    examples = []
    for hides, a_list, b_list in BOOK_PAIRS:
        a, b = torch.tensor(a_list), torch.tensor(b_list)  # (2, 2) each
        entry: dict = {"hides": hides, "a": a, "b": b}
        for method in ("max", "average", "l2"):
            entry[method] = (float(pool2d(a, method, 2)), float(pool2d(b, method, 2)))
        entry["k-max(k=2)"] = tuple(
            tuple(pool2d(region, "k-max", 2, k=2).flatten().tolist()) for region in (a, b)
        )
        entry["k-max positions(k=2)"] = tuple(
            tuple(tuple(rc) for rc in kmax_positions(region, 2, k=2).reshape(2, 2).tolist())
            for region in (a, b)
        )
        examples.append(entry)
    return examples


# --- pooling as downsampling: one bright dot under the grid


def moving_dot(
    size: int,
    positions: Sequence[tuple[int, int]],
    pool_size: int = 2,
    stride: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ((P, size, size) inputs, each 0 but one 1 at positions[p], (P, H', W') max-pooled).

    Positions are (row, col), rows running down. The book's "activity at (x, y) or (x+1, y), we do
    not care which" is a move of one column: (r, c) and (r, c+1) land in the same window when c is
    a multiple of the stride and the window is at least 2 wide.
    """
    size = check_int("image size", size, 1, MAX_DOT_SIDE, error=PoolingError)
    if isinstance(positions, str) or not isinstance(positions, Sequence):
        raise PoolingError("positions must be a list of (row, col) pairs.")
    if not 1 <= len(positions) <= MAX_DOTS:
        raise PoolingError(f"Give between 1 and {MAX_DOTS} dot positions, got {len(positions)}.")
    cells = []
    for position in positions:
        if isinstance(position, str) or not isinstance(position, Sequence) or len(position) != 2:
            raise PoolingError(f"Each position must be a (row, col) pair, got {position!r}.")
        row = check_int("dot row", position[0], 0, size - 1, error=PoolingError)
        col = check_int("dot column", position[1], 0, size - 1, error=PoolingError)
        cells.append((row, col))
    pool_size, stride, _, _ = _check_window(size, size, pool_size, stride)
    inputs = torch.zeros(len(cells), size, size)  # (P, size, size)
    index = torch.arange(len(cells))
    inputs[index, torch.tensor([r for r, _ in cells]), torch.tensor([c for _, c in cells])] = 1.0
    pooled = F.max_pool2d(inputs, pool_size, stride)  # (P, H', W'): the dots are the channels
    return inputs, pooled


@dataclass(frozen=True)
class DotMove:
    """A dot moved one column right under a max-pooling grid, and what the pooled maps show."""

    inputs: torch.Tensor  # (2, size, size): the dot at (row, col), then at (row, col + 1)
    pooled: torch.Tensor  # (2, H', W') max-pooled
    identical: bool  # the two pooled maps are equal, value for value
    windows: tuple[int | None, int | None]  # window column holding each dot (None: in none)


def _window_column(col: int, size: int, stride: int, count: int) -> int | None:
    """Return the first window column (of count) whose columns include col, or None."""
    for w in range(count):
        if w * stride <= col < w * stride + size:
            return w
    return None


def dot_move(size: int, row: int, col: int, pool_size: int = 2) -> DotMove:
    """Return the dot at (row, col) and at (row, col + 1), max-pooled with stride pool_size."""
    col = check_int("dot column", col, 0, error=PoolingError)  # col + 1 is checked as a dot
    inputs, pooled = moving_dot(size, [(row, col), (row, col + 1)], pool_size=pool_size)
    count = pooled.shape[-1]
    windows = tuple(_window_column(c, pool_size, pool_size, count) for c in (col, col + 1))
    return DotMove(inputs, pooled, bool(torch.equal(pooled[0], pooled[1])), windows)
