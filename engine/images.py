"""How does an uploaded file become a clean RGB picture and a tensor? Safe, bounded image loading.

Every upload is untrusted bytes. `load_image` turns them into a small, fully loaded RGB image or
refuses with an `ImageLoadError` whose message a person can act on; nothing else escapes.
"""

from __future__ import annotations

import io
import operator
import re
import warnings

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from engine.core import N_, ExplorerError

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "ImageLoadError",
    "load_image",
    "to_gray_tensor",
    "to_rgb_tensor",
]

# 40 megapixels: room for 24-36 MP cameras and everything a phone saves by default (12-24 MP),
# while the costliest file we accept (a 40-MP all-zero RGBA PNG of ~150 KB, or a 6 KB palette PNG
# with transparency) decodes in ~0.7 s and ~400 MB on a 2-core server. Bigger JPEGs would be cheap
# (draft decoding), but PNG/TIFF/WebP must be decoded in full. Pillow's own, process-wide limit
# (Image.MAX_IMAGE_PIXELS, ~89 MP) is left untouched: ours is stricter, so it decides first.
MAX_PIXELS = 40_000_000
MAX_SIDE = 8192  # the largest max_side we accept: bigger would only make tensors no page can show
# Encoders write ~10 progressive scans (libjpeg 10, mozjpeg ~10-20); each scan walks every block
# again, so thousands of 20-byte scans make a CPU bomb that stays small on disk.
MAX_JPEG_SCANS = 100

# Only the decoders for what the uploader accepts. Phone "MPO" JPEGs open through the JPEG entry
# (Pillow adopts them there); naming "MPO" here would raise KeyError for unrecognised bytes.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
ACCEPTED = "PNG, JPEG, WebP, GIF, BMP or TIFF"

_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"MM\x00+",
)
_FOREIGN_IMAGES = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}
_GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma


class ImageLoadError(ExplorerError):
    """An upload that cannot become an image; the message says why and what to do."""


def load_image(data: bytes, max_side: int = 1024) -> Image.Image:
    """Return the first frame of data as an upright, loaded RGB image with longest side ≤ max_side.

    Orientation: the EXIF orientation is applied first (all 8 values).
    Transparency (RGBA, LA, PA, palette or colour-key tRNS) is composited on white.
    Animations (GIF, APNG, WebP) and multi-page TIFFs: only the first frame is decoded.
    Deep images: 16-bit data (I;16*, and 'I' within 0..65535) maps 0..65535 → 0..255 by v/257;
    other 'I' data is min–max stretched. Float 'F' data already in [0, 1] is scaled ×255,
    otherwise min–max stretched over its finite values (NaN → black; a constant image is clipped
    to [0, 1] first). Every other mode (1, L, P, CMYK, YCbCr, LAB, HSV...) uses Pillow's convert.
    Size: downscaled with Lanczos (aspect kept), never upscaled; big JPEGs decode at 1/2–1/8 scale.

    Raises ImageLoadError (a ValueError) for: an invalid max_side (not an int in 1..MAX_SIDE),
    empty data, non-images, formats other than PNG/JPEG/WebP/GIF/BMP/TIFF, damaged or truncated
    data, images over MAX_PIXELS (checked from the header, before decoding) and JPEGs with more than
    MAX_JPEG_SCANS scans. Raises TypeError only if `data` is not bytes-like (a programming error).
    """
    max_side = _check_max_side(max_side)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"load_image expects bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise ImageLoadError(
            "This file is empty. Please upload an image ({accepted}).", accepted=ACCEPTED
        )
    try:
        # Local filter: Pillow's bomb warning becomes an error here only. catch_warnings is not
        # thread-safe before Python 3.14, so our own MAX_PIXELS check below is the real guard.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, max_side)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        limit = MAX_PIXELS / 1e6
        if found:
            raise ImageLoadError(
                "The image is too large: {megapixels:,.0f} megapixels; the limit is {limit:.0f} "
                "megapixels. Please resize it and upload it again.",
                megapixels=int(found.group(1)) / 1e6,
                limit=limit,
            ) from exc
        raise ImageLoadError(
            "The image is too large: too many pixels; the limit is {limit:.0f} megapixels. "
            "Please resize it and upload it again.",
            limit=limit,
        ) from exc
    except UnidentifiedImageError as exc:
        template, params = _unidentified(data)
        raise ImageLoadError(template, **params) from exc
    except MemoryError as exc:
        raise ImageLoadError(
            "The image needs more memory to decode than the server can spare. "
            "Please upload a smaller image."
        ) from exc
    except Exception as exc:  # anything a hostile decoder path raises: OSError, SyntaxError, ...
        raise ImageLoadError(_DAMAGED) from exc


def to_gray_tensor(img: Image.Image) -> torch.Tensor:
    """Return the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B of img, (H, W) float32 in [0, 1]."""
    rgb = to_rgb_tensor(img)  # (3, H, W)
    weights = torch.tensor(_GRAY_WEIGHTS, dtype=torch.float32)
    # The weights sum to 1, but float rounding could step a hair above 1.0.
    return torch.einsum("c,chw->hw", weights, rgb).clamp_(0.0, 1.0)


def to_rgb_tensor(img: Image.Image) -> torch.Tensor:
    """Return img as a (3, H, W) float32 tensor in [0, 1]; other modes go through convert("RGB")."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    pixels = torch.from_numpy(np.array(img, dtype=np.uint8))  # (H, W, 3), a writable copy
    return pixels.permute(2, 0, 1).to(torch.float32).div_(255.0).contiguous()


def _check_max_side(max_side: int) -> int:
    """Return max_side as an int after checking it is in 1..MAX_SIDE."""
    try:
        if isinstance(max_side, bool):  # True would otherwise pass as 1
            raise TypeError
        value = operator.index(max_side)
    except TypeError:
        raise ImageLoadError(
            "max_side must be a whole number, not {value!r}.", value=max_side
        ) from None
    if not 1 <= value <= MAX_SIDE:
        raise ImageLoadError(
            "max_side must be between 1 and {limit}, not {value}.", limit=MAX_SIDE, value=value
        )
    return value


def _decode(data: bytes, max_side: int) -> Image.Image:
    """Return the decoded, upright, RGB, downscaled first frame of data (may raise anything)."""
    img = Image.open(io.BytesIO(data), formats=FORMATS)  # parses the header only
    width, height = img.size
    if width < 1 or height < 1:
        raise ValueError("zero-sized image")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            "The image is too large: {width}×{height} pixels; the limit is {limit:.0f} "
            "megapixels. Please resize it and upload it again.",
            width=width,
            height=height,
            limit=MAX_PIXELS / 1e6,
        )
    if img.format in ("JPEG", "MPO"):
        scans = data.count(b"\xff\xda")  # entropy data stuffs 0xFF as FF 00, so these are SOS
        if scans > MAX_JPEG_SCANS:
            raise ImageLoadError(
                "This JPEG has {scans} progressive scans, far more than a real photo "
                "(the limit is {limit}). Please re-save it as a standard JPEG.",
                scans=scans,
                limit=MAX_JPEG_SCANS,
            )
        target = _fit(width, height, max_side)
        if target != img.size:
            # DCT scaling in the decoder gives us >= target at 1/2..1/8 the work; a uniform scale
            # commutes with the EXIF transpose below, so it may come first.
            img.draft("RGB", target)
    img.load()  # only the first frame: we never seek, read n_frames or is_animated
    ImageOps.exif_transpose(img, in_place=True)  # before any other geometry
    img = _resizable(img)
    # Deep images are rescaled by their full-size range, measured before resampling blurs it.
    value_range = _value_range(img) if img.mode in ("I", "F") else None
    target = _fit(img.width, img.height, max_side)
    if target != img.size:
        # Shrinking first keeps the per-pixel work below on ~1 MP whatever the upload's size.
        # RGBA/LA are resampled premultiplied by Pillow, so compositing afterwards is exact.
        img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    rgb = _to_rgb(img, value_range)
    if isinstance(rgb, ImageFile.ImageFile):
        rgb = rgb.copy()  # a plain Image, detached from the file object
    rgb.info.clear()  # drop EXIF (GPS...), ICC and friends: callers only get pixels
    return rgb


def _resizable(img: Image.Image) -> Image.Image:
    """Return img in a mode that resamples correctly (no palette, 1-bit, hue or colour key)."""
    mode = img.mode
    if mode.startswith("I;16"):
        return img.convert("I")  # Pillow can't reduce() I;16; I keeps every value
    if mode == "La":
        mode, img = "LA", img.convert("LA")
    if mode in ("PA", "RGBa") or "transparency" in img.info:
        return img.convert("RGBA")  # palette alpha, premultiplied and colour-key tRNS
    if mode in ("RGB", "RGBA", "L", "LA", "I", "F", "CMYK", "YCbCr", "LAB"):
        return img
    return img.convert("RGB")  # 1, P, HSV (hue wraps around), RGBX...


def _value_range(img: Image.Image) -> tuple[float, float]:
    """Return the (min, max) of the finite values of an 'I' or 'F' image, (0, 0) if none."""
    lo, hi = img.getextrema()
    if np.isfinite(lo) and np.isfinite(hi):
        return float(lo), float(hi)
    values = np.asarray(img)  # only NaN/inf float images pay for this full-size copy
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def _to_rgb(img: Image.Image, value_range: tuple[float, float] | None) -> Image.Image:
    """Return img as RGB: alpha composited on white, deep values mapped to 0..255."""
    if value_range is not None:
        img = _deep_to_l(img, *value_range)
    if img.mode in ("RGBA", "LA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def _deep_to_l(img: Image.Image, lo: float, hi: float) -> Image.Image:
    """Return an 'I' or 'F' image as 'L', using the value range lo..hi of the full-size image."""
    values = np.asarray(img, dtype=np.float64)
    if img.mode == "I" and lo >= 0 and hi <= 65535:
        scaled = values / 257.0  # 16-bit data: 65535 → 255, the same map as 0xFFFF → 0xFF
    elif 0.0 <= lo and hi <= 1.0:
        scaled = values * 255.0
    elif hi > lo:
        scaled = (values - lo) * (255.0 / (hi - lo))
    else:  # constant image outside [0, 1]: no contrast to stretch
        scaled = np.clip(values, 0.0, 1.0) * 255.0
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Return (width, height) shrunk so the longest side is ≤ max_side, aspect kept, never grown."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, min(max_side, round(width * scale))), max(1, min(max_side, round(height * scale)))


# Why an upload is not an image, one whole message per kind (so each reads well translated).
_NOT_AN_IMAGE = {
    "pdf": N_(
        "This doesn't look like an image (it looks like a PDF document). Please upload {accepted}."
    ),
    "zip": N_(
        "This doesn't look like an image (it looks like a ZIP archive or an Office document). "
        "Please upload {accepted}."
    ),
    "svg": N_(
        "This doesn't look like an image (it looks like an SVG drawing). Please upload {accepted}."
    ),
    "html": N_(
        "This doesn't look like an image (it looks like an HTML page). Please upload {accepted}."
    ),
    "text": N_(
        "This doesn't look like an image (it looks like a text file). Please upload {accepted}."
    ),
    None: N_("This doesn't look like an image file we can read. Please upload {accepted}."),
}
_DAMAGED = N_(
    "The image data is damaged or truncated, so it can't be decoded. "
    "Please re-export or re-save the image and upload it again."
)
_FOREIGN = N_(
    "{format} images aren't supported here. "
    "Please convert it to JPEG or PNG (or {accepted}) and upload it again."
)


def _unidentified(data: bytes) -> tuple[str, dict[str, object]]:
    """Return (message template, parameters): why Pillow could not identify data, guessed from
    its first bytes (checked in this order: documents, damaged images, foreign images, text)."""
    head = data[:4096]
    if b"%PDF-" in head[:1024]:
        return _NOT_AN_IMAGE["pdf"], {"accepted": ACCEPTED}
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _NOT_AN_IMAGE["zip"], {"accepted": ACCEPTED}
    if head.startswith(_SIGNATURES) or head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _DAMAGED, {}
    if head[4:8] == b"ftyp" and head[8:12] in _FOREIGN_IMAGES:
        return _FOREIGN, {"format": _FOREIGN_IMAGES[head[8:12]], "accepted": ACCEPTED}
    return _NOT_AN_IMAGE[_text_kind(head)], {"accepted": ACCEPTED}


def _text_kind(head: bytes) -> str | None:
    """Return what text-like first bytes look like: svg, html or text (None if not text)."""
    if not _looks_like_text(head):
        return None
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n").lower()
    if "<svg" in text[:2048]:
        return "svg"
    if text.startswith(("<!doctype html", "<html")) or "<html" in text[:1024]:
        return "html"
    return "text"


def _looks_like_text(head: bytes) -> bool:
    """Return True if head reads as UTF-8 text: no NUL bytes and almost no undecodable bytes."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", "replace")
    junk = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return junk <= max(2, len(text) // 100)
