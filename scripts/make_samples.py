"""Draw the sample images in assets/samples/ and their samples.json card, reproducibly.

    python scripts/make_samples.py [--out assets/samples]

Pillow drawing plus NumPy noise from fixed seeds: no downloads, the same pixels on every run
(with the same Pillow and zlib). Shapes are drawn at 4x and box-reduced, so diagonal and round
edges are smooth while edges on the 4-pixel grid stay perfectly sharp.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H = 512, 384
SS = 4  # supersampling factor
OUT = Path(__file__).resolve().parents[1] / "assets" / "samples"


def canvas(color: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """Return a supersampled RGB canvas filled with color, and a drawer on it."""
    img = Image.new("RGB", (W * SS, H * SS), color)
    return img, ImageDraw.Draw(img)


def s(*values: float) -> list[float]:
    """Return sample-space coordinates scaled to the supersampled canvas."""
    return [v * SS for v in values]


def finish(img: Image.Image) -> Image.Image:
    """Return the supersampled canvas box-reduced to W x H."""
    return img.reduce(SS)


def vertical_gradient(top: tuple[int, ...], bottom: tuple[int, ...], size=(W, H)) -> Image.Image:
    """Return an RGB image fading from top to bottom colour."""
    t = np.linspace(0.0, 1.0, size[1])[:, None, None]  # (H, 1, 1)
    rows = (1 - t) * np.array(top) + t * np.array(bottom)  # (H, 1, 3)
    return Image.fromarray(np.repeat(rows, size[0], axis=1).round().astype(np.uint8))


def shapes() -> Image.Image:
    """Return circles, squares and triangles in varied colours on a soft background."""
    img, draw = canvas((236, 232, 222))
    rng = np.random.default_rng(1)
    palette = [
        (220, 60, 50),
        (40, 110, 200),
        (250, 190, 40),
        (60, 160, 90),
        (140, 70, 170),
        (30, 30, 40),
        (240, 120, 30),
        (90, 200, 210),
    ]
    kinds = [
        "circle",
        "square",
        "triangle",
        "circle",
        "triangle",
        "circle",
        "square",
        "ring",
        "outline",
        "triangle",
        "circle",
        "square",
    ]
    for k, kind in enumerate(kinds):
        row, col = divmod(k, 4)
        cx = 64 + col * 128 + rng.uniform(-12, 12)
        cy = 64 + row * 128 + rng.uniform(-10, 10)
        r = rng.uniform(30, 48)
        color = palette[k % len(palette)]
        box = s(cx - r, cy - r, cx + r, cy + r)
        if kind == "circle":
            draw.ellipse(box, fill=color)
        elif kind == "ring":  # thin edges next to the filled shapes
            draw.ellipse(box, outline=color, width=5 * SS)
        elif kind == "outline":
            draw.rectangle(box, outline=color, width=4 * SS)
        elif kind == "square":
            turn = rng.choice([0.0, math.pi / 8, math.pi / 4])
            quarter = [math.pi / 4 + q * math.pi / 2 for q in range(4)]
            corners = [(cx + r * math.cos(turn + a), cy + r * math.sin(turn + a)) for a in quarter]
            draw.polygon([tuple(s(x, y)) for x, y in corners], fill=color)
        else:
            corners = [(cx, cy - r), (cx + r * 0.95, cy + r * 0.7), (cx - r * 0.95, cy + r * 0.7)]
            draw.polygon([tuple(s(x, y)) for x, y in corners], fill=color)
    return finish(img)


def textures() -> Image.Image:
    """Return four oriented textures: checkerboard, vertical, horizontal and diagonal stripes."""
    img, draw = canvas((255, 255, 255))
    half_w, half_h = W // 2, H // 2
    ink = (25, 25, 35)
    for y in range(0, half_h, 24):  # checkerboard, 24-px squares, top-left
        for x in range(0, half_w, 24):
            if (x // 24 + y // 24) % 2 == 0:
                draw.rectangle(s(x, y, x + 24, y + 24), fill=ink)
    for x in range(half_w, W, 16):  # vertical stripes, top-right
        draw.rectangle(s(x, 0, x + 8, half_h), fill=(30, 70, 160))
    for y in range(half_h, H, 12):  # horizontal stripes, bottom-left
        draw.rectangle(s(0, y, half_w, y + 6), fill=(170, 40, 40))
    diagonal = Image.new("RGB", (half_w * SS, half_h * SS), (255, 255, 255))
    d2 = ImageDraw.Draw(diagonal)
    for k in range(-half_h, half_w + half_h, 20):  # 45° stripes, bottom-right
        d2.polygon(
            [
                tuple(s(k, 0)),
                tuple(s(k + 10, 0)),
                tuple(s(k + 10 - half_h, half_h)),
                tuple(s(k - half_h, half_h)),
            ],
            fill=(30, 120, 60),
        )
    img.paste(diagonal, (half_w * SS, half_h * SS))
    draw.line(s(half_w, 0, half_w, H), fill=(120, 120, 120), width=2 * SS)  # quadrant borders
    draw.line(s(0, half_h, W, half_h), fill=(120, 120, 120), width=2 * SS)
    return finish(img)


def house() -> Image.Image:
    """Return a street scene: sky, house with roof, windows and door, fence, tree and sun."""
    img = vertical_gradient((120, 180, 235), (205, 228, 245), (W * SS, H * SS))
    draw = ImageDraw.Draw(img)
    draw.ellipse(s(420, 30, 480, 90), fill=(255, 214, 80))  # sun
    draw.rectangle(s(0, 300, W, H), fill=(96, 150, 80))  # lawn
    draw.rectangle(s(0, 340, W, 356), fill=(150, 150, 150))  # pavement
    draw.rectangle(s(120, 170, 360, 300), fill=(214, 170, 120))  # wall
    draw.polygon([tuple(s(100, 172)), tuple(s(240, 80)), tuple(s(380, 172))], fill=(150, 50, 40))
    draw.rectangle(s(300, 96, 324, 140), fill=(110, 60, 50))  # chimney
    for x in (140, 280):  # windows with crossbars
        draw.rectangle(
            s(x, 195, x + 60, 245), fill=(235, 245, 255), outline=(60, 40, 30), width=3 * SS
        )
        draw.line(s(x + 30, 195, x + 30, 245), fill=(60, 40, 30), width=3 * SS)
        draw.line(s(x, 220, x + 60, 220), fill=(60, 40, 30), width=3 * SS)
    draw.rectangle(s(220, 230, 260, 300), fill=(90, 55, 40))  # door
    draw.ellipse(s(250, 263, 256, 269), fill=(230, 200, 80))  # door knob
    for x in range(0, W, 20):  # fence posts with a rail
        if not 110 < x < 370:
            draw.rectangle(s(x + 4, 276, x + 12, 320), fill=(245, 245, 240))
    draw.rectangle(s(0, 288, 110, 294), fill=(245, 245, 240))
    draw.rectangle(s(370, 288, W, 294), fill=(245, 245, 240))
    draw.rectangle(s(52, 200, 64, 300), fill=(110, 75, 45))  # tree trunk
    draw.ellipse(s(18, 130, 98, 220), fill=(50, 120, 60))  # tree crown
    return finish(img)


def text() -> Image.Image:
    """Return big black letters and a smaller line of text on white."""
    img, draw = canvas((250, 250, 245))
    big = ImageFont.load_default(size=150 * SS)
    small = ImageFont.load_default(size=30 * SS)
    draw.text(tuple(s(W / 2, 150)), "CNN", font=big, fill=(20, 20, 30), anchor="mm")
    draw.text(
        tuple(s(W / 2, 270)),
        "edges · strokes · corners",
        font=small,
        fill=(40, 80, 160),
        anchor="mm",
    )
    draw.text(tuple(s(W / 2, 330)), "Aa Bb Cc 123", font=small, fill=(170, 40, 40), anchor="mm")
    return finish(img)


def portrait() -> Image.Image:
    """Return a cartoon face, centred, with hair, eyes, brows, nose, mouth and shoulders."""
    img = vertical_gradient((170, 200, 220), (120, 150, 190), (W * SS, H * SS))
    draw = ImageDraw.Draw(img)
    cx = W / 2
    draw.ellipse(s(cx - 150, 300, cx + 150, 470), fill=(60, 90, 140))  # shoulders
    draw.rectangle(s(cx - 28, 250, cx + 28, 320), fill=(225, 180, 150))  # neck
    draw.ellipse(s(cx - 112, 38, cx + 112, 178), fill=(70, 45, 30))  # hair (behind the face)
    draw.ellipse(s(cx - 95, 70, cx + 95, 290), fill=(240, 198, 165))  # face
    draw.chord(s(cx - 100, 40, cx + 100, 170), 180, 360, fill=(70, 45, 30))  # fringe
    for side in (-1, 1):
        ex = cx + side * 42
        draw.ellipse(s(ex - 22, 150, ex + 22, 176), fill=(255, 255, 255))  # eye white
        draw.ellipse(s(ex - 10, 152, ex + 10, 174), fill=(60, 110, 70))  # iris
        draw.ellipse(s(ex - 4, 158, ex + 4, 168), fill=(15, 15, 15))  # pupil
        inner, outer = ex - side * 22, ex + side * 24  # brows rise towards the temples
        draw.line(s(inner, 134, outer, 130), fill=(60, 40, 25), width=5 * SS)
        draw.ellipse(s(cx + side * 95 - 12, 165, cx + side * 95 + 12, 205), fill=(230, 185, 150))
    draw.polygon(
        [tuple(s(cx, 180)), tuple(s(cx - 14, 222)), tuple(s(cx + 10, 224))], fill=(215, 160, 130)
    )
    draw.arc(s(cx - 45, 205, cx + 45, 255), 20, 160, fill=(170, 60, 60), width=5 * SS)  # smile
    return finish(img)


def noise_gradients() -> Image.Image:
    """Return a colour ramp, a radial glow, a noisy step edge and salt-and-pepper dots."""
    rng = np.random.default_rng(6)
    half_w, half_h = W // 2, H // 2
    out = np.zeros((H, W, 3), dtype=np.float64)
    x = np.linspace(0, 1, half_w)[None, :, None]
    out[:half_h, :half_w] = (1 - x) * np.array([30, 60, 200]) + x * np.array([250, 200, 40])
    yy, xx = np.mgrid[0:half_h, 0:half_w]
    r = np.hypot(xx - half_w / 2, yy - half_h / 2) / (half_h / 1.2)
    glow = np.clip(1 - r, 0, 1)[..., None]
    out[half_h:, :half_w] = glow * np.array([255, 240, 200]) + (1 - glow) * np.array([40, 20, 60])
    step = np.where(np.arange(half_w) < half_w // 2, 70.0, 185.0)[None, :]  # (1, W/2)
    noisy = step + rng.normal(0, 22, (half_h, half_w))  # gray noise: same in R, G and B
    out[:half_h, half_w:] = noisy[..., None]
    dots = np.full((half_h, half_w), 128.0)
    flips = rng.random((half_h, half_w))
    dots[flips < 0.04] = 0
    dots[flips > 0.96] = 255
    out[half_h:, half_w:] = dots[..., None]
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8))


SAMPLES: list[tuple[str, str, str, Callable[[], Image.Image]]] = [
    (
        "shapes.png",
        "Shapes",
        "Flat colour regions: edge filters light up only on the outlines, and each colour channel "
        "sees a different set of shapes.",
        shapes,
    ),
    (
        "textures.png",
        "Checkerboard & stripes",
        "One stripe orientation per quadrant (the checkerboard has two): a vertical-edge kernel "
        "fires on the vertical stripes and stays dark on the horizontal ones.",
        textures,
    ),
    (
        "house.png",
        "House",
        "Long horizontal and vertical edges (walls, windows, fence) next to the slanted roof: "
        "compare Sobel x with Sobel y.",
        house,
    ),
    (
        "text.png",
        "Text",
        "Strokes of a fixed width: watch which kernel sizes keep the letters readable and which "
        "blur them away.",
        text,
    ),
    (
        "portrait.png",
        "Portrait",
        "A centred cartoon face: eyes, brows and mouth are small high-contrast parts on a smooth "
        "background.",
        portrait,
    ),
    (
        "noise_gradients.png",
        "Noise & gradients",
        "Smooth ramps give weak, wide gradients; the noisy step edge shows why blurring before "
        "edge detection helps.",
        noise_gradients,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    cards = []
    for file, title, caption, draw in SAMPLES:
        img = draw()
        assert img.size == (W, H) and img.mode == "RGB"
        img.save(out / file, "PNG", optimize=True)
        size_kb = (out / file).stat().st_size / 1024
        print(f"{file:22} {size_kb:6.1f} KB")
        cards.append({"file": file, "title": title, "caption": caption})
    (out / "samples.json").write_text(json.dumps(cards, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
