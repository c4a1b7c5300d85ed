"""Does a pooled feature map also forgive small rotations and zooms of the input?

The stability measurement of engine/pooling/stability.py (same four methods, same kernel bank, same
"stays the same" rule) for an input turned or rescaled about its centre with bilinear resampling
(affine_grid / grid_sample, all angles or scales in one batch). The comparison is made inside the
central square of the pooled maps, side half the smaller side, which stays inside the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.core import check_number
from engine.pooling.errors import PoolingError
from engine.pooling.stability import (
    CHUNK,
    STABILITY_METHODS,
    STABILITY_TOL,
    Aligner,
    _check_compare,
    _check_image,
    _check_methods,
    _check_tol,
    _curves,
    _pipelines,
)

MAX_TRANSFORMS = 64
ANGLE_RANGE = (-180.0, 180.0)  # degrees
SCALE_RANGE = (0.5, 2.0)  # below 0.5 the central square would sample outside the image


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


def _transformed(image: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Return (N, H, W): the (H, W) image resampled (bilinear, zeros outside) through each map."""
    height, width = image.shape
    with torch.inference_mode():
        grid = F.affine_grid(theta, [theta.shape[0], 1, height, width], align_corners=False)
        batch = image.expand(theta.shape[0], 1, height, width)  # (N, 1, H, W)
        return F.grid_sample(batch, grid, mode="bilinear", align_corners=False)[:, 0]


def _measure(
    image: torch.Tensor,
    theta_for: Callable[[int, int], torch.Tensor],
    methods: tuple[str, ...],
    tol: float,
    moved: bool,
) -> dict[str, np.ndarray]:
    """Return the curves for the maps theta_for(h, w) (N, 2, 3), CHUNK transforms at a time."""
    before = {method: maps[0] for method, maps in _pipelines(image[None], methods).items()}
    theta = theta_for(*image.shape)

    def batches() -> Iterator[dict[str, torch.Tensor]]:
        for first in range(0, theta.shape[0], CHUNK):
            yield _pipelines(_transformed(image, theta[first : first + CHUNK]), methods)

    return _curves(before, batches(), tol, _transform_aligner(theta_for, moved))


def _check_values(name: str, values: object, bounds: tuple[float, float]) -> list[float]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise PoolingError(f"{name} must be a list of numbers.")
    if not 1 <= len(values) <= MAX_TRANSFORMS:
        raise PoolingError(f"Give between 1 and {MAX_TRANSFORMS} {name}, got {len(values)}.")
    checked = [check_number(name, value, error=PoolingError) for value in values]
    low, high = bounds
    for value in checked:
        if not low <= value <= high:
            raise PoolingError(f"{name} must lie between {low} and {high}, got {value}.")
    return checked


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
    tol: float = STABILITY_TOL,
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
    return _measure(image, lambda h, w: _rotation_theta(angles, h, w), methods, tol, moved)


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
    tol: float = STABILITY_TOL,
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
    return _measure(image, lambda h, w: _scale_theta(scales), methods, tol, moved)
