"""What does the small CNN learn from? Ten procedurally drawn classes of shapes and textures.

Every image is drawn with Pillow as a coverage mask at twice the output size (for antialiasing),
optionally warped by a slight perspective, downsampled, blurred, and composited in NumPy with a
foreground and a background colour, a lighting gradient and sensor noise. Three looks alternate so
that a drawing photographed with a phone has a chance: dark ink on light paper (40%), light chalk
on a dark board (15%), colours on colours (45%, always differing in brightness, so the shape would
show in a grey photo too). Outlines and filled shapes, thin and thick strokes both occur; shapes
sit within 20% of the centre (as in a photo of one drawing), textures fill all or most of it.

Class meanings (what a person should draw): "circle" is a FILLED disc, "ring" is a circle's
outline; square, triangle, star and cross may be filled or outlined; stripes are a few parallel
bars (within ±15° of their orientation); "dots" are several small filled discs.

Each image has its own generator, seeded by (seed, class, index): the same seed always gives the
same pictures, whatever other classes are asked for, and no global RNG is touched.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from engine.core import ExplorerError

__all__ = ["CLASSES", "DatasetError", "make_dataset", "make_dataset_uint8", "preprocess", "render"]

CLASSES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "horizontal stripes",
    "vertical stripes",
    "checkerboard",
    "dots",
    "ring",
)
MAX_IMAGES = 200_000  # a cap on one request: 200k uint8 images are ~2.5 GB
Point = tuple[float, float]


class DatasetError(ExplorerError):
    """A dataset request that cannot be met (unknown class, bad count); the message says why."""


# --- geometry helpers (canvas coordinates, y down)


def _rotate(points: list[Point], angle: float, centre: Point) -> list[Point]:
    """Return points rotated by angle (radians) about centre."""
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = centre
    return [(cx + c * x - s * y, cy + s * x + c * y) for x, y in points]


def _regular(n: int, radius: float, phase: float = 0.0) -> list[Point]:
    """Return the n vertices of a regular polygon of circumradius `radius` centred at 0."""
    return [
        (
            radius * math.cos(phase + 2 * math.pi * i / n),
            radius * math.sin(phase + 2 * math.pi * i / n),
        )
        for i in range(n)
    ]


def _jitter(points: list[Point], rng: np.random.Generator, amount: float) -> list[Point]:
    """Return points each moved by up to ±amount (a hand-drawn wobble)."""
    d = rng.uniform(-amount, amount, size=(len(points), 2))
    return [(x + dx, y + dy) for (x, y), (dx, dy) in zip(points, d, strict=True)]


def _polygon(draw: ImageDraw.ImageDraw, pts: list[Point], filled: bool, width: int) -> None:
    """Draw a closed polygon, filled or as an outline of the given width."""
    if filled:
        draw.polygon(pts, fill=255)
    else:
        draw.line([*pts, pts[0], pts[1]], fill=255, width=width, joint="curve")


def _stroke(rng: np.random.Generator, radius: float, side: int) -> int:
    """Return an outline width in canvas pixels: from a fine pen (2 px) to a thick marker."""
    return int(max(2, min(rng.uniform(0.06, 0.3) * radius, side * 0.08)))


# --- one mask per class: 255 where the foreground colour goes


def _placement(rng: np.random.Generator, side: int) -> tuple[Point, float]:
    """Return a centre and a radius for a single shape that (mostly) fits in the canvas."""
    radius = rng.uniform(0.26, 0.46) * side
    reach = min(0.5 * side - 0.9 * radius, 0.2 * side)  # off-centre, as a hand-held photo is
    centre = (side / 2 + rng.uniform(-reach, reach), side / 2 + rng.uniform(-reach, reach))
    return centre, radius


def _region(rng: np.random.Generator, side: int) -> Image.Image:
    """Return an L mask of where a texture lies: the whole canvas, a rectangle or a disc."""
    region = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(region)
    pick = rng.random()
    if pick < 0.45:
        return Image.new("L", (side, side), 255)
    w, h = rng.uniform(0.65, 0.95, size=2) * side
    x0, y0 = rng.uniform(0, side - w), rng.uniform(0, side - h)
    if pick < 0.85:
        draw.rectangle([x0, y0, x0 + w, y0 + h], fill=255)
    else:
        draw.ellipse([x0, y0, x0 + w, y0 + h], fill=255)
    return region


def _stripes(rng: np.random.Generator, side: int, angle: float) -> Image.Image:
    """Return parallel bars at `angle` (0 = horizontal bars) clipped to a random region."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    period = side / rng.uniform(3.0, 8.0)
    thickness = period * rng.uniform(0.25, 0.6)
    centre, half = (side / 2, side / 2), side  # bars longer than the diagonal
    offset = rng.uniform(0, period)
    wobble = rng.uniform(0, 0.06)  # hand-drawn bars are not quite parallel
    y = -side + offset
    while y < side:
        tilt = angle + rng.uniform(-wobble, wobble)
        bar = [(-half, y), (half, y), (half, y + thickness), (-half, y + thickness)]
        draw.polygon(_rotate(bar, tilt, centre), fill=255)
        y += period
    return _clip(mask, _region(rng, side))


def _clip(mask: Image.Image, region: Image.Image) -> Image.Image:
    """Return mask where region is on, 0 elsewhere."""
    return Image.fromarray(np.minimum(np.asarray(mask), np.asarray(region)))


@dataclass(frozen=True)
class _Pose:
    """Where and how one shape is drawn: drawn first for every class, in this order."""

    centre: Point
    radius: float
    angle: float  # radians
    filled: bool
    width: int  # outline width in canvas pixels
    wobble: float  # how far a vertex may stray (a hand-drawn line)


def _pose(rng: np.random.Generator, side: int) -> _Pose:
    """Return the placement, rotation, fill and stroke of one drawing (the rng order matters)."""
    centre, radius = _placement(rng, side)
    angle = rng.uniform(0, 2 * math.pi)
    filled = rng.random() < 0.5
    width = _stroke(rng, radius, side)
    wobble = radius * rng.uniform(0, 0.08)
    return _Pose(centre, radius, angle, filled, width, wobble)


def _oval(cls: str, mask: Image.Image, rng: np.random.Generator, pose: _Pose) -> Image.Image:
    """Return mask with a filled disc ("circle") or an outlined one ("ring") drawn on it."""
    r = pose.radius
    rx, ry = r, r * rng.uniform(0.85, 1.15)
    ts = np.linspace(0, 2 * math.pi, 48)
    pts = _rotate([(rx * math.cos(t), ry * math.sin(t)) for t in ts], pose.angle, pose.centre)
    draw = ImageDraw.Draw(mask)
    if cls == "circle":
        draw.polygon(pts, fill=255)
    else:
        ring_width = int(max(2, min(rng.uniform(0.06, 0.4) * r, mask.size[0] * 0.1)))
        draw.line([*pts, pts[0]], fill=255, width=ring_width, joint="curve")
    return mask


def _square(mask: Image.Image, rng: np.random.Generator, pose: _Pose) -> Image.Image:
    """Return mask with a slightly oblong, wobbly square drawn on it."""
    a, b = pose.radius * 0.75, pose.radius * 0.75 * rng.uniform(0.88, 1.12)  # half sides, ±12%
    pts = [(-a, -b), (a, -b), (a, b), (-a, b)]
    pts = _rotate(_jitter(pts, rng, pose.wobble), pose.angle, pose.centre)
    _polygon(ImageDraw.Draw(mask), pts, pose.filled, pose.width)
    return mask


def _triangle(mask: Image.Image, rng: np.random.Generator, pose: _Pose) -> Image.Image:
    """Return mask with a jittered triangle drawn on it."""
    pts = _jitter(_regular(3, pose.radius), rng, pose.radius * 0.12)
    _polygon(ImageDraw.Draw(mask), _rotate(pts, pose.angle, pose.centre), pose.filled, pose.width)
    return mask


def _star(mask: Image.Image, rng: np.random.Generator, pose: _Pose) -> Image.Image:
    """Return mask with a five-pointed star drawn on it."""
    points = 5  # six-pointed stars at 64 px were too often read as crosses
    inner = rng.uniform(0.36, 0.5)
    pts = [
        (
            pose.radius * (1 if i % 2 == 0 else inner) * math.cos(math.pi * i / points),
            pose.radius * (1 if i % 2 == 0 else inner) * math.sin(math.pi * i / points),
        )
        for i in range(2 * points)
    ]
    pts = _rotate(_jitter(pts, rng, pose.wobble * 0.5), pose.angle, pose.centre)
    _polygon(ImageDraw.Draw(mask), pts, pose.filled, pose.width)
    return mask


def _cross(mask: Image.Image, rng: np.random.Generator, pose: _Pose) -> Image.Image:
    """Return mask with a plus-shaped cross drawn on it (filled more often than not)."""
    arm = pose.radius * rng.uniform(0.14, 0.26)
    r = pose.radius
    pts = [
        (-arm, -r),
        (arm, -r),
        (arm, -arm),
        (r, -arm),
        (r, arm),
        (arm, arm),
        (arm, r),
        (-arm, r),
        (-arm, arm),
        (-r, arm),
        (-r, -arm),
        (-arm, -arm),
    ]
    filled = pose.filled or rng.random() < 0.5
    _polygon(ImageDraw.Draw(mask), _rotate(pts, pose.angle, pose.centre), filled, pose.width)
    return mask


def _striped(cls: str, rng: np.random.Generator, side: int) -> Image.Image:
    """Return a stripes mask within ±15° of cls's orientation."""
    tilt = rng.uniform(-0.26, 0.26)  # ±15°
    return _stripes(rng, side, tilt + (0 if cls == "horizontal stripes" else math.pi / 2))


def _checkerboard(mask: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Return a tilted checkerboard of 3 to 7 cells across, clipped to a random region."""
    side = mask.size[0]
    cell = side / rng.uniform(3.0, 7.0)
    tilt = rng.uniform(-0.4, 0.4)
    off = rng.uniform(0, 2 * cell, size=2)
    centre = (side / 2, side / 2)
    n = int(0.75 * side / cell) + 2  # enough to cover the canvas at any tilt ≤ 0.4 rad
    draw = ImageDraw.Draw(mask)
    for i, j in _dark_cells(n):
        x, y = i * cell + off[0], j * cell + off[1]
        square = [(x, y), (x + cell, y), (x + cell, y + cell), (x, y + cell)]
        draw.polygon(_rotate(square, tilt, centre), fill=255)
    return _clip(mask, _region(rng, side))


def _dark_cells(n: int) -> list[tuple[int, int]]:
    """Return the (i, j) cells with i + j even, i and j from -n to n + 1, row by row."""
    return [(i, j) for i in range(-n, n + 2) for j in range(-n, n + 2) if (i + j) % 2 == 0]


def _dots(mask: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Return mask with 6 to 25 small discs drawn on it, kept apart from each other."""
    side = mask.size[0]
    count = int(rng.integers(6, 26))
    dot = side * rng.uniform(0.03, 0.07)
    candidates = rng.uniform(dot, side - dot, size=(count * 4, 2))  # (M, 2)
    draw = ImageDraw.Draw(mask)
    for x, y in candidates[_apart(candidates, count, 3 * dot)]:
        r = dot * rng.uniform(0.8, 1.2)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return mask


def _apart(candidates: np.ndarray, count: int, gap: float) -> list[int]:
    """Return up to count indices of candidates (M, 2), greedily, each > gap from those kept."""
    apart = ((candidates[:, None] - candidates[None]) ** 2).sum(-1) > gap**2  # (M, M)
    chosen: list[int] = []
    for i in range(len(candidates)):  # greedy: keep a candidate if it is far from the kept
        if len(chosen) < count and apart[i, chosen].all():
            chosen.append(i)
    return chosen


def _draw_mask(cls: str, rng: np.random.Generator, side: int) -> Image.Image:
    """Return the (side, side) L coverage mask of one example of cls."""
    mask = Image.new("L", (side, side), 0)
    pose = _pose(rng, side)  # drawn for every class, so each class's draws follow the same start
    if cls in ("circle", "ring"):
        return _oval(cls, mask, rng, pose)
    if cls in ("horizontal stripes", "vertical stripes"):
        return _striped(cls, rng, side)
    shapes = {"square": _square, "triangle": _triangle, "star": _star, "cross": _cross}
    if cls in shapes:
        return shapes[cls](mask, rng, pose)
    if cls == "checkerboard":
        return _checkerboard(mask, rng)
    if cls == "dots":
        return _dots(mask, rng)
    raise DatasetError(f"Unknown class {cls!r}; choose from: {', '.join(CLASSES)}.")


# --- colours, lighting, noise


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (foreground, background) RGB in [0, 1] with enough contrast to see the shape."""
    look = rng.random()
    if look < 0.4:  # ink or marker on paper
        bg = rng.uniform(0.72, 1.0) - rng.uniform(0, 0.06, size=3)
        ink = rng.uniform(0.0, 0.35, size=3)
        if rng.random() < 0.3:  # a coloured marker
            ink[rng.integers(0, 3)] = rng.uniform(0.4, 0.8)
        return ink, bg
    if look < 0.55:  # chalk on a board, or a light drawing on a dark screen
        return rng.uniform(0.65, 1.0, size=3), rng.uniform(0.0, 0.3, size=3)
    while True:  # any colours, as long as the shape would still show in a grey photo
        fg, bg = rng.uniform(0, 1, size=3), rng.uniform(0, 1, size=3)
        if abs(_luma(fg) - _luma(bg)) > 0.22:
            return fg, bg


def _perspective(mask: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Return mask seen from slightly off-axis, as a hand-held camera would."""
    side = mask.size[0]
    d = rng.uniform(-0.08, 0.08, size=(4, 2)) * side
    src = np.array([[0, 0], [side, 0], [side, side], [0, side]], dtype=float) + d
    dst = np.array([[0, 0], [side, 0], [side, side], [0, side]], dtype=float)
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):  # dst pixel → src pixel, 8 unknowns
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(rows), src.reshape(-1))
    return mask.transform(mask.size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.BILINEAR)


def _compose(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return (3, H, W) float32 in [0, 1]: the colours through mask (H, W) in [0, 1], lit, noisy."""
    fg, bg = (c.astype(np.float32)[:, None, None] for c in _colours(rng))  # (3, 1, 1) each
    img = bg + (fg - bg) * mask  # (3, H, W); channels first keeps NumPy's inner loops long
    yy, xx = _grid(mask.shape[0])  # (H, W) each, in [-0.5, 0.5)
    theta, depth = rng.uniform(0, 2 * math.pi), rng.uniform(0, 0.35)
    light = (1 + depth * (math.cos(theta) * xx + math.sin(theta) * yy)) * rng.uniform(0.8, 1.1)
    img *= light  # a shadow across the page, a brighter or darker exposure
    start = int(rng.integers(0, _NOISE.size - img.size))  # sensor noise: a slice of a fixed bank
    img += _NOISE[start : start + img.size].reshape(img.shape) * np.float32(rng.uniform(0, 0.06))
    return np.clip(img, 0, 1, out=img)


# Drawing 12k fresh normals per image was the slowest step; a slice at a random offset of one
# fixed bank (made once from its own seed) is as good for teaching a network to ignore noise.
_NOISE = np.random.default_rng(20240601).standard_normal(1 << 20, dtype=np.float32)
_NOISE.flags.writeable = False


@functools.cache
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (yy, xx), each (size, size) float32 in [-0.5, 0.5): pixel coordinates / size."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def render(cls: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Return one (size, size, 3) float32 image in [0, 1] of class cls, drawn with rng."""
    return _render_chw(cls, rng, size).transpose(1, 2, 0)


def _render_chw(cls: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """Return one (3, size, size) float32 image in [0, 1] of class cls, drawn with rng."""
    if cls not in CLASSES:
        raise DatasetError(f"Unknown class {cls!r}; choose from: {', '.join(CLASSES)}.")
    if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 512:
        raise DatasetError(f"Image size must be a whole number from 8 to 512, got {size!r}.")
    mask = _draw_mask(cls, rng, 2 * size)
    if rng.random() < 0.4:
        mask = _perspective(mask, rng)
    mask = mask.resize((size, size), Image.Resampling.BOX)  # 2×2 averaging: antialiased edges
    blur = rng.uniform(0, 1.3 * size / 64) if rng.random() < 0.5 else 0.0
    if blur > 0.2:
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
    return _compose(np.asarray(mask, dtype=np.float32) / 255, rng)


# --- datasets


def _check_request(n_per_class: object, seed: object, classes: object) -> tuple[int, int, tuple]:
    """Return (n_per_class, seed, classes) checked, or raise DatasetError saying what to fix."""
    if isinstance(classes, str) or not isinstance(classes, tuple | list) or not classes:
        raise DatasetError("classes must be a non-empty list of class names.")
    classes = tuple(classes)
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise DatasetError(f"Unknown class {unknown[0]!r}; choose from: {', '.join(CLASSES)}.")
    if len(set(classes)) != len(classes):
        raise DatasetError("Each class may be chosen only once.")
    for name, value in (("n_per_class", n_per_class), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise DatasetError(f"{name} must be a whole number ≥ 0, got {value!r}.")
    if n_per_class * len(classes) > MAX_IMAGES:
        raise DatasetError(f"At most {MAX_IMAGES} images per dataset; ask for fewer per class.")
    return int(n_per_class), int(seed), classes


def make_dataset_uint8(
    n_per_class: int, seed: int, classes: tuple[str, ...] = CLASSES, size: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images (N, 3, size, size) uint8, labels (N,) long), classes interleaved.

    Label i means classes[i]. Image j of class c is drawn from default_rng([seed, CLASSES.index(c),
    j]), so it does not depend on the other classes or on n_per_class. Storing uint8 takes a
    quarter of the memory; divide by 255 for the model.
    """
    n, seed, classes = _check_request(n_per_class, seed, classes)
    images = np.empty((n * len(classes), 3, size, size), dtype=np.uint8)  # (N, 3, H, W)
    labels = np.empty(n * len(classes), dtype=np.int64)
    k = 0
    for j in range(n):
        for label, cls in enumerate(classes):
            rng = np.random.default_rng([seed, CLASSES.index(cls), j])
            images[k] = _render_chw(cls, rng, size) * 255 + 0.5  # rounds (values are ≥ 0)
            labels[k] = label
            k += 1
    return torch.from_numpy(images), torch.from_numpy(labels)


def make_dataset(
    n_per_class: int, seed: int, classes: tuple[str, ...] = CLASSES
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images (N, 3, 64, 64) float32 in [0, 1], labels (N,) long), N = n_per_class·K.

    Deterministic per seed; values are multiples of 1/255 (as a photo's would be).
    """
    images, labels = make_dataset_uint8(n_per_class, seed, classes)
    return images.float().div_(255), labels


def preprocess(img: Image.Image, size: int = 64) -> torch.Tensor:
    """Return the (3, size, size) float32 model input in [0, 1] for any picture.

    Steps: convert to RGB; crop the central square (side = the shorter side, so nothing is
    stretched); resize it to size × size with Pillow's antialiased Lanczos filter (reducing by
    whole factors with a box filter first, `reducing_gap=3`, for speed on large photos); scale
    0..255 → 0..1. Apply ImageOps.exif_transpose before calling this (engine.images.load_image
    already does).
    """
    if not isinstance(img, Image.Image):
        raise DatasetError(f"preprocess expects a PIL image, got {type(img).__name__}.")
    if img.width < 1 or img.height < 1:
        raise DatasetError("This image is empty (0 pixels wide or high).")
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    side = min(rgb.size)
    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
    square = rgb.crop((left, top, left + side, top + side))
    small = square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    arr = np.asarray(small, dtype=np.float32) / 255  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()  # (3, H, W)
