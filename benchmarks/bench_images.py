"""load_image against plain Pillow: a 24-MP photo, and hostile files it must refuse or survive."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import Row, median_seconds
from engine.images import ImageLoadError, load_image
from tests.engine import image_corpus as corpus

PHOTO_SIZE = (6000, 4000)  # 24 MP, the size the pixel cap must let through
CAP_SIDE = 6324  # 6324² ≈ 39.99 MP, just under MAX_PIXELS
ROOT = Path(__file__).resolve().parents[1]


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Return a photo-like RGB image: smooth colour gradients, soft blobs and sensor noise."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h:8, 0:w:8].astype(np.float32)  # built at 1/8 scale, then upsampled
    x /= w
    y /= h
    base = np.stack([200 * x + 30, 160 * (1 - y) + 40, 120 * (x * y) + 60], axis=-1)
    for _ in range(12):  # soft blobs: out-of-focus shapes
        cx, cy, r = rng.random(), rng.random(), 0.05 + 0.2 * rng.random()
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        base += blob * rng.uniform(-80, 80, 3)
    small = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    pixels = np.asarray(small.resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.integers(-12, 13, (h, w, 1), dtype=np.int16)  # (H, W, 1): luma-like grain
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def _full_decode(data: bytes) -> Image.Image:
    """Return data decoded the obvious way: every pixel, converted to RGB."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    img.load()
    return img


def _attempt(data: bytes) -> None:
    """Call load_image, accepting a refusal: the time to say no is what is measured."""
    try:
        load_image(data)
    except ImageLoadError:
        pass


# Peak memory is read in a fresh process from VmHWM (Linux): unlike ru_maxrss, which a child
# inherits from the parent across fork and exec, it starts from the child's own pages.
_CHILD = """
import io, re, sys
from PIL import Image
from engine.images import ImageLoadError, load_image

def peak_kb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))

data = sys.stdin.buffer.read()
warm = io.BytesIO()
Image.new("RGB", (8, 8)).save(warm, "PNG")
load_image(warm.getvalue())  # imports and first-call allocations are not the file's cost
before = peak_kb()
try:
    load_image(data)
except ImageLoadError:
    pass
print((peak_kb() - before) / 1024)
"""


def peak_mb(data: bytes) -> float:
    """Return how many MB one load_image(data) adds to a fresh process's peak RSS (Linux only)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], input=data, capture_output=True, check=True, cwd=ROOT
    )
    return float(done.stdout.decode().split()[-1])


def _photo_rows(repeat: int) -> list[Row]:
    """Return load_image vs a full Pillow decode for a baseline and a progressive 24-MP JPEG."""
    photo = photo_like(PHOTO_SIZE)
    exif = corpus.exif_with_orientation(6)  # a phone held upright: rotated on load
    rows = []
    for label, params in (("", {}), (" progressive", {"progressive": True})):
        data = corpus.encode(photo, "JPEG", quality=90, exif=exif, **params)
        assert load_image(data).size == (683, 1024)
        rows.append(
            Row(
                name=f"load_image 24-MP{label} JPEG → 1024",
                ours_s=median_seconds(lambda d=data: load_image(d), repeat=repeat),
                baseline_name="Pillow full decode to RGB",
                baseline_s=median_seconds(lambda d=data: _full_decode(d), repeat=repeat),
                target="faster (ratio < 1)",
            )
        )
    return rows


def _hostile_rows(repeat: int) -> list[Row]:
    """Return the worst refused and the worst accepted corpus files against a 1-MP PNG decode."""
    normal = corpus.encode(photo_like((1200, 900), seed=1), "PNG")
    baseline_s = median_seconds(lambda: _full_decode(normal), repeat=repeat)
    refused = {
        "PNG 100000²": corpus.png_with_size(100_000, 100_000),
        "GIF 65535²": corpus.gif_with_screen(65535, 65535),
        "BMP 100000²": corpus.bmp_with_size(100_000, 100_000),
        "TIFF 100000²": corpus.tiff_with_size(100_000, 100_000),
        "WebP 16384×10000": corpus.webp_with_canvas(16384, 10_000),
        "JPEG 5000 scans": corpus.scan_bomb(5000, size=(4000, 3000)),
    }
    side = (CAP_SIDE, CAP_SIDE)
    accepted = {  # tiny files that decode to ~40 MP of pixels: the costliest we let through
        "WebP canvas": corpus.webp_with_canvas(*side),
        "GIF screen": corpus.gif_with_screen(*side),
        "PNG RGBA 0s": corpus.encode(Image.new("RGBA", side), "PNG", compress_level=9),
        "PNG P+tRNS": corpus.encode(Image.new("P", side), "PNG", transparency=0),
        "TIFF float 0s": corpus.encode(
            Image.new("F", side), "TIFF", compression="tiff_adobe_deflate"
        ),
    }
    rows = []
    for kind, cases, target in (
        ("refused", refused, "refused fast (ratio < 0.1)"),
        ("40 MP", accepted, "< 1 s and < 0.7 GB"),
    ):
        for name, data in cases.items():
            runs = repeat if cases is refused else 3
            ours_s = median_seconds(lambda d=data: _attempt(d), repeat=runs)
            rows.append(
                Row(
                    name=f"{kind} {name} {len(data) / 1e3:.1f} KB, peak +{peak_mb(data):.0f} MB",
                    ours_s=ours_s,
                    baseline_name="Pillow decode of a 1-MP PNG",
                    baseline_s=baseline_s,
                    target=target,
                )
            )
    return rows


def run(repeat: int = 5) -> list[Row]:
    """Return rows: 24-MP JPEGs against a full decode, then hostile files against a 1-MP PNG."""
    return _photo_rows(repeat) + _hostile_rows(repeat)


if __name__ == "__main__":
    for row in run():
        print(row.line())
