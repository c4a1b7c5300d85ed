"""Odd image files built in memory for the image-loading tests: modes, orientations, traps, bombs.

Everything is generated at test time with Pillow or assembled by hand from the file-format specs,
so no binary fixture is committed. Expected results are computed here from first principles
(EXIF's definition of each orientation, v/257 for 16-bit data...), never by the code under test.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

RED, GREEN, BLUE, GRAY, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128), (255,) * 3
ORIENTATION_TAG = 0x0112


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    """Return img saved in fmt with Pillow's encoder."""
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def solid(
    color: tuple[int, ...], size: tuple[int, int] = (32, 24), mode: str = "RGB"
) -> Image.Image:
    """Return a one-colour image."""
    return Image.new(mode, size, color)


# --- EXIF orientation -----------------------------------------------------------------------------

MARKED_SIZE = (96, 64)  # (W, H) as the viewer should see it: wider than tall


def marked_display() -> np.ndarray:
    """Return the upright picture (H, W, 3): gray, a red block top-left and a blue block top-right.

    Two different corners make every one of the 8 flips/rotations distinguishable.
    """
    w, h = MARKED_SIZE
    pixels = np.full((h, w, 3), GRAY, dtype=np.uint8)
    pixels[:24, :24] = RED
    pixels[:24, w - 24 :] = BLUE
    return pixels


def stored_for_orientation(display: np.ndarray, orientation: int) -> np.ndarray:
    """Return the pixels a camera stores so that `orientation` displays as `display`.

    From the EXIF definitions ("the 0th row / 0th column of the stored image is the visual ..."):
    1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left, 5 left/top, 6 right/top,
    7 right/bottom, 8 left/bottom. S[i, j] is written in terms of D (H x W).
    """
    d = display
    stored = {
        1: d,  # S[i, j] = D[i, j]
        2: d[:, ::-1],  # S[i, j] = D[i, W-1-j]
        3: d[::-1, ::-1],  # S[i, j] = D[H-1-i, W-1-j]
        4: d[::-1, :],  # S[i, j] = D[H-1-i, j]
        5: d.transpose(1, 0, 2),  # S[i, j] = D[j, i]
        6: d[:, ::-1].transpose(1, 0, 2),  # S[i, j] = D[j, W-1-i]
        7: d[::-1, ::-1].transpose(1, 0, 2),  # S[i, j] = D[H-1-j, W-1-i]
        8: d[::-1, :].transpose(1, 0, 2),  # S[i, j] = D[H-1-j, i]
    }[orientation]
    return np.ascontiguousarray(stored)


def exif_with_orientation(orientation: int) -> Image.Exif:
    """Return an EXIF block holding only the orientation tag."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    return exif


def oriented(orientation: int, fmt: str = "JPEG", scale: int = 1) -> bytes:
    """Return a file in fmt whose stored pixels need `orientation` to show marked_display()."""
    stored = Image.fromarray(stored_for_orientation(marked_display(), orientation))
    if scale != 1:
        stored = stored.resize((stored.width * scale, stored.height * scale), Image.NEAREST)
    params: dict[str, object] = {"exif": exif_with_orientation(orientation)}
    if fmt == "JPEG":
        params["quality"] = 95
    if fmt == "WEBP":
        params["lossless"] = True
    return encode(stored, fmt, **params)


# --- deep, float and colour-space images ----------------------------------------------------------


def gradient16(width: int = 256, height: int = 4) -> np.ndarray:
    """Return a (H, W) uint16 ramp 0..65535 along x, with awkward values in between."""
    row = np.linspace(0, 65535, width).round().astype(np.uint16)
    return np.tile(row, (height, 1))


def i16_png(values: np.ndarray) -> bytes:
    """Return a 16-bit grayscale PNG of values (uint16)."""
    return encode(Image.fromarray(values.astype(np.uint16)), "PNG")


def i16b_tiff(values: np.ndarray) -> bytes:
    """Return a big-endian 16-bit TIFF (mode I;16B) of values."""
    img = Image.frombytes("I;16B", values.shape[::-1], values.astype(">u2").tobytes())
    return encode(img, "TIFF")


def int32_tiff(values: np.ndarray) -> bytes:
    """Return a 32-bit signed integer TIFF (mode I) of values."""
    return encode(Image.fromarray(values.astype(np.int32)), "TIFF")


def float_tiff(values: np.ndarray) -> bytes:
    """Return a 32-bit float TIFF (mode F) of values."""
    return encode(Image.fromarray(values.astype(np.float32)), "TIFF")


def quadrants(colors: list[tuple[int, ...]], mode: str, size: int = 64) -> Image.Image:
    """Return a size x size image in mode made of four flat quadrants (TL, TR, BL, BR)."""
    img = Image.new(mode, (size, size))
    half = size // 2
    for (x, y), color in zip([(0, 0), (half, 0), (0, half), (half, half)], colors, strict=True):
        img.paste(color, (x, y, x + half, y + half))
    return img


QUADRANT_CENTRES = [(16, 16), (48, 16), (16, 48), (48, 48)]


# --- animations and multi-page --------------------------------------------------------------------


def animated(fmt: str) -> bytes:
    """Return a 3-frame animation (red, green, blue) in GIF, PNG (APNG), WEBP or a 3-page TIFF."""
    frames = [solid(c) for c in (RED, GREEN, BLUE)]
    params: dict[str, object] = {"save_all": True, "append_images": frames[1:]}
    if fmt != "TIFF":
        params["duration"] = 100
        params["loop"] = 0
    if fmt == "WEBP":
        params["lossless"] = True
    return encode(frames[0], fmt, **params)


# --- hand-patched headers: huge declared sizes ----------------------------------------------------


def png_with_size(width: int, height: int) -> bytes:
    """Return a tiny valid PNG whose IHDR declares width x height (with a correct CRC)."""
    png = bytearray(encode(solid(RED, (8, 8)), "PNG"))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


def gif_with_screen(width: int, height: int) -> bytes:
    """Return a tiny GIF whose logical screen descriptor declares width x height."""
    gif = bytearray(encode(solid(RED, (8, 8)), "GIF"))
    gif[6:10] = struct.pack("<HH", width, height)
    return bytes(gif)


def bmp_with_size(width: int, height: int) -> bytes:
    """Return a tiny BMP whose BITMAPINFOHEADER declares width x height."""
    bmp = bytearray(encode(solid(RED, (8, 8)), "BMP"))
    bmp[18:26] = struct.pack("<ii", width, height)
    return bytes(bmp)


def jpeg_with_size(width: int, height: int) -> bytes:
    """Return a tiny JPEG whose SOF0 frame header declares width x height."""
    jpeg = bytearray(encode(solid(RED, (8, 8)), "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(jpeg)


def tiff_with_size(width: int, height: int) -> bytes:
    """Return a tiny little-endian TIFF whose first IFD declares width x height (as LONGs)."""
    tiff = bytearray(encode(solid(RED, (8, 8)), "TIFF"))
    assert tiff[:4] == b"II*\x00"
    (ifd,) = struct.unpack("<I", tiff[4:8])
    (count,) = struct.unpack("<H", tiff[ifd : ifd + 2])
    for k in range(count):
        entry = ifd + 2 + 12 * k
        (tag,) = struct.unpack("<H", tiff[entry : entry + 2])
        if tag in (256, 257):  # ImageWidth, ImageLength
            value = width if tag == 256 else height
            tiff[entry + 2 : entry + 12] = struct.pack("<HII", 4, 1, value)
    return bytes(tiff)


def webp_with_canvas(width: int, height: int) -> bytes:
    """Return a small animated WebP whose VP8X chunk declares a width x height canvas."""
    webp = bytearray(animated("WEBP"))
    assert webp[12:16] == b"VP8X"
    webp[24:27] = (width - 1).to_bytes(3, "little")
    webp[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(webp)


# --- progressive JPEG with far too many scans -----------------------------------------------------


def jpeg_scans(jpeg: bytes) -> list[tuple[int, int]]:
    """Return (start, end) of every SOS segment of jpeg, entropy-coded data included."""
    scans, i = [], 2
    while i < len(jpeg) and jpeg[i + 1] != 0xD9:
        marker = jpeg[i + 1]
        (length,) = struct.unpack(">H", jpeg[i + 2 : i + 4])
        end = i + 2 + length
        if marker == 0xDA:  # entropy data runs to the next marker that is not FF00 or RSTn
            while not (
                jpeg[end] == 0xFF and jpeg[end + 1] != 0 and not 0xD0 <= jpeg[end + 1] <= 0xD7
            ):
                end += 1
            scans.append((i, end))
        i = end
    return scans


def scan_bomb(repeats: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """Return a flat progressive JPEG with its smallest scan repeated `repeats` more times."""
    jpeg = encode(solid(GRAY, size), "JPEG", progressive=True)
    scans = jpeg_scans(jpeg)
    start, end = min(scans, key=lambda s: s[1] - s[0])
    last_end = scans[-1][1]
    return jpeg[:last_end] + jpeg[start:end] * repeats + jpeg[last_end:]


# --- things that are not images -------------------------------------------------------------------


def zip_bytes() -> bytes:
    """Return a small ZIP archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return buf.getvalue()


NOT_IMAGES: dict[str, tuple[bytes, str]] = {  # name: (bytes, a word the message must contain)
    "text": (b"Dear visitor,\nthis is a plain text file, not a picture.\n" * 5, "text"),
    "utf8 text": ("Grüße, 画像ではありません — just text.\n".encode() * 3, "text"),
    "svg": (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10" fill="red"/></svg>',
        "SVG",
    ),
    "svg without prolog": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    "html": (b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>", "HTML"),
    "zip": (zip_bytes(), "ZIP"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "HEIC"),
    "random": (np.random.default_rng(1).bytes(4096), "image"),
    "one byte": (b"\x00", "image"),
}
