"""load_image turns odd but valid uploads into the right RGB pictures: formats, modes, alpha, depth,
orientation, animations and size."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import (
    GifImagePlugin,
    Image,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from engine import images
from engine.images import load_image, to_gray_tensor, to_rgb_tensor
from tests.engine import image_corpus as corpus
from tests.engine.image_checks import PALETTE, assert_close, pixels, refused
from tests.engine.image_corpus import BLUE, GRAY, GREEN, RED, WHITE, encode, solid

# --- plain formats and modes ----------------------------------------------------------------------

BLACK = (0, 0, 0)
GRAYS = [0, 60, 200, 255]
INKS = [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0)]  # pure cyan, magenta, yellow
INKED = [(0, 255, 255), (255, 0, 255), (255, 255, 0)]  # R = 255 - C - K, with no colour profile


def palette_image() -> Image.Image:
    """Return a 64x64 'P' image whose quadrants are palette entries 0..3 (the PALETTE)."""
    img = corpus.quadrants([0, 1, 2, 3], "P")
    img.putpalette([c for color in PALETTE for c in color])
    return img


EXACT_CASES = {  # name: (file bytes, expected colours at the quadrant centres)
    "RGB PNG": (encode(corpus.quadrants(PALETTE, "RGB"), "PNG"), PALETTE),
    "RGB BMP": (encode(corpus.quadrants(PALETTE, "RGB"), "BMP"), PALETTE),
    "RGB TIFF": (encode(corpus.quadrants(PALETTE, "RGB"), "TIFF"), PALETTE),
    "RGB WebP lossless": (encode(corpus.quadrants(PALETTE, "RGB"), "WEBP", lossless=True), PALETTE),
    "P PNG": (encode(palette_image(), "PNG"), PALETTE),
    "P GIF": (encode(palette_image(), "GIF"), PALETTE),
    "P BMP": (encode(palette_image(), "BMP"), PALETTE),
    "P TIFF": (encode(palette_image(), "TIFF"), PALETTE),
    "L PNG": (encode(corpus.quadrants(GRAYS, "L"), "PNG"), [(v,) * 3 for v in GRAYS]),
    "1 PNG": (encode(corpus.quadrants([0, 1, 1, 0], "1"), "PNG"), [BLACK, WHITE, WHITE, BLACK]),
    "1 BMP": (encode(corpus.quadrants([1, 0, 0, 1], "1"), "BMP"), [WHITE, BLACK, BLACK, WHITE]),
    "1 TIFF": (encode(corpus.quadrants([0, 1, 0, 1], "1"), "TIFF"), [BLACK, WHITE] * 2),
    "CMYK TIFF": (
        encode(corpus.quadrants([*INKS, (0, 0, 0, 255)], "CMYK"), "TIFF"),
        [*INKED, BLACK],
    ),
}


@pytest.mark.parametrize("name", EXACT_CASES)
def test_lossless_formats_and_modes_keep_exact_colours(name):
    data, expected = EXACT_CASES[name]
    out = pixels(load_image(data))
    assert out.shape == (64, 64, 3)
    for (x, y), color in zip(corpus.QUADRANT_CENTRES, expected, strict=True):
        assert_close(out[y, x], color)


LOSSY_CASES = {  # name: (file bytes, expected colours, tolerance)
    "baseline JPEG": (encode(corpus.quadrants(PALETTE, "RGB"), "JPEG", quality=95), PALETTE, 12),
    "progressive JPEG": (
        encode(corpus.quadrants(PALETTE, "RGB"), "JPEG", quality=95, progressive=True),
        PALETTE,
        12,
    ),
    "grayscale JPEG": (
        encode(corpus.quadrants(GRAYS, "L"), "JPEG", quality=95),
        [(v,) * 3 for v in GRAYS],
        4,
    ),
    "CMYK JPEG": (  # Pillow writes Adobe-style inverted CMYK; the decoder must undo it
        encode(corpus.quadrants([*INKS, (0, 0, 0, 0)], "CMYK"), "JPEG", quality=95),
        [*INKED, WHITE],
        12,
    ),
    "lossy WebP": (encode(corpus.quadrants(PALETTE, "RGB"), "WEBP", quality=95), PALETTE, 16),
}


@pytest.mark.parametrize("name", LOSSY_CASES)
def test_lossy_formats_keep_colours_within_tolerance(name):
    data, expected, tol = LOSSY_CASES[name]
    out = pixels(load_image(data))
    assert out.shape == (64, 64, 3)
    for (x, y), color in zip(corpus.QUADRANT_CENTRES, expected, strict=True):
        assert_close(out[y, x], color, tol)


def test_ycbcr_tiff_follows_the_jfif_formula():
    ycc = [(128, 128, 128), (76, 85, 255), (150, 44, 21), (29, 255, 107)]
    out = pixels(load_image(encode(corpus.quadrants(ycc, "YCbCr"), "TIFF")))
    for (x, y), (lum, cb, cr) in zip(corpus.QUADRANT_CENTRES, ycc, strict=True):
        r = lum + 1.402 * (cr - 128)
        g = lum - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)
        b = lum + 1.772 * (cb - 128)
        assert_close(out[y, x], np.clip(np.round([r, g, b]), 0, 255), 2)


def test_lab_tiff_converts_to_srgb():
    # Pillow stores L* scaled to 0..255 and a*, b* offset by 128. Reference values: CIE L*a*b* of
    # sRGB white (100, 0, 0), black (0, 0, 0), red (53.24, 80.09, 67.20), gray 128 (53.59, 0, 0).
    # Tolerance: Pillow works with a D50 white point, the published numbers use D65.
    lab = [(255, 128, 128), (0, 128, 128), (136, 208, 195), (137, 128, 128)]
    out = pixels(load_image(encode(corpus.quadrants(lab, "LAB"), "TIFF")))
    for (x, y), color in zip(corpus.QUADRANT_CENTRES, [WHITE, (0, 0, 0), RED, GRAY], strict=True):
        assert_close(out[y, x], color, 16)


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("HSV", (0, 255, 255), RED),
        ("HSV", (85, 255, 255), GREEN),
        ("PA", (2, 255), BLUE),  # palette index 2 fully opaque
        ("PA", (2, 0), WHITE),  # ...and fully transparent
        ("La", (0, 0), WHITE),
        ("RGBa", (0, 0, 0, 0), WHITE),
    ],
)
def test_modes_no_accepted_file_produces_still_convert(mode, value, expected):
    # HSV, PA and premultiplied modes never come out of PNG/JPEG/GIF/BMP/TIFF/WebP decoders, but
    # the conversion step must still handle them, so it is fed an in-memory image directly.
    img = Image.new(mode, (8, 8), value)
    if mode == "PA":
        img.putpalette([c for color in PALETTE for c in color])
    out = images._to_rgb(images._resizable(img), None)
    assert_close(pixels(out)[4, 4], expected, 2)


# --- transparency ---------------------------------------------------------------------------------


def test_rgba_png_is_composited_on_white():
    img = Image.new("RGBA", (4, 1))
    img.putdata([(255, 0, 0, 255), (255, 0, 0, 128), (0, 0, 0, 0), (0, 0, 255, 64)])
    out = pixels(load_image(encode(img, "PNG")))[0]
    for px, (r, g, b, a) in zip(out, img.get_flattened_data(), strict=True):
        expected = [c * a / 255 + 255 * (1 - a / 255) for c in (r, g, b)]
        assert_close(px, np.round(expected), 1)


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGBA", "WEBP"), ("RGBA", "TIFF"), ("LA", "PNG"), ("LA", "TIFF")]
)
def test_other_alpha_formats_are_composited_on_white(mode, fmt):
    half = (0, 128) if mode == "LA" else (0, 0, 0, 128)
    clear = (0, 0) if mode == "LA" else (0, 0, 0, 0)
    img = Image.new(mode, (16, 8), half)
    img.paste(clear, (8, 0, 16, 8))
    params = {"lossless": True} if fmt == "WEBP" else {}
    out = pixels(load_image(encode(img, fmt, **params)))
    assert_close(out[4, 4], (127,) * 3, 1)  # 0 * 128/255 + 255 * 127/255
    assert_close(out[4, 12], WHITE)


def test_palette_with_trns_alpha_per_entry():
    img = palette_image()
    out = pixels(load_image(encode(img, "PNG", transparency=bytes([0, 255, 128, 255]))))
    expected = [WHITE, GREEN, (127, 127, 255), WHITE]  # red fully clear, blue half clear
    for (x, y), color in zip(corpus.QUADRANT_CENTRES, expected, strict=True):
        assert_close(out[y, x], color, 1)


@pytest.mark.parametrize(
    ("img", "fmt", "key"),
    [
        (palette_image(), "GIF", 0),  # GIF transparent index
        (corpus.quadrants(GRAYS, "L"), "PNG", 0),  # grayscale colour key
        (corpus.quadrants(PALETTE, "RGB"), "PNG", RED),  # RGB colour key
    ],
    ids=["gif index", "L tRNS", "RGB tRNS"],
)
def test_colour_keys_become_white(img, fmt, key):
    out = pixels(load_image(encode(img, fmt, transparency=key)))
    (x0, y0), (x1, y1) = corpus.QUADRANT_CENTRES[:2]
    assert_close(out[y0, x0], WHITE)  # the keyed colour sits in the first quadrant
    assert_close(out[y1, x1], img.convert("RGB").getpixel((x1, y1)))  # the rest is untouched


# --- deep images: 16-bit, 32-bit integer, float ---------------------------------------------------


@pytest.mark.parametrize("maker", [corpus.i16_png, corpus.i16b_tiff, corpus.int32_tiff])
def test_16_bit_values_are_scaled_by_257_not_clipped(maker):
    values = corpus.gradient16()
    out = pixels(load_image(maker(values)))
    expected = np.floor(values / 257 + 0.5)  # 65535 → 255, 32896 → 128, 257 → 1
    assert out.shape == (*values.shape, 3)
    assert np.array_equal(out[..., 0], expected)
    assert np.array_equal(out[..., 0], out[..., 2])
    assert out.max() == 255 and len(np.unique(out)) > 200  # a ramp, not a clipped white block


def test_32_bit_integers_outside_16_bit_range_are_stretched():
    values = np.array([[-1000, 0, 1000, 3000]] * 2)
    out = pixels(load_image(corpus.int32_tiff(values)))[0, :, 0]
    assert_close(out, np.round((values[0] + 1000) * 255 / 4000))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.25, 0.5, 1.0], [0, 64, 128, 255]),  # already in [0, 1]: × 255
        ([-5.0, 0.0, 5.0, 10.0], [0, 85, 170, 255]),  # otherwise min-max
        ([2.0, np.nan, np.inf, 4.0], [0, 0, 255, 255]),  # non-finite values left out of the range
        ([5.0, 5.0, 5.0, 5.0], [255] * 4),  # constant, outside [0, 1]: clipped
        ([np.nan] * 4, [0] * 4),
    ],
)
def test_float_images(values, expected):
    out = pixels(load_image(corpus.float_tiff(np.array([values] * 3))))
    assert_close(out[1, :, 1], expected, 1)


# --- EXIF orientation -----------------------------------------------------------------------------


def assert_upright_marker(out: np.ndarray, tol: int = 40) -> None:
    """Assert out shows marked_display(): red top-left, blue top-right, gray bottom corners."""
    h, w, _ = out.shape
    assert (w, h) == corpus.MARKED_SIZE or w * corpus.MARKED_SIZE[1] == h * corpus.MARKED_SIZE[0]
    corner = max(1, w // 16)
    assert_close(out[corner, corner], RED, tol)
    assert_close(out[corner, w - 1 - corner], BLUE, tol)
    assert_close(out[h - 1 - corner, corner], GRAY, tol)
    assert_close(out[h - 1 - corner, w - 1 - corner], GRAY, tol)


def test_the_oriented_corpus_really_stores_transformed_pixels():
    # Guard for the tests below: without the transpose, the stored pixels are not upright.
    for orientation in range(2, 9):
        with pytest.raises(AssertionError):
            stored = corpus.stored_for_orientation(corpus.marked_display(), orientation)
            assert_upright_marker(stored.astype(int))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation):
    out = load_image(corpus.oriented(orientation))
    assert out.size == corpus.MARKED_SIZE
    assert_upright_marker(pixels(out))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_in_other_formats(fmt, orientation):
    out = load_image(corpus.oriented(orientation, fmt))
    assert out.size == corpus.MARKED_SIZE
    assert_upright_marker(pixels(out), tol=0)


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_orientation_then_downscale_with_jpeg_draft(orientation):
    # Stored 40x larger (2560x3840 for a portrait store), so JPEG draft decoding kicks in.
    out = load_image(corpus.oriented(orientation, "JPEG", scale=40), max_side=300)
    assert out.size == (300, 200)
    assert_upright_marker(pixels(out))


# --- animations, multi-page -----------------------------------------------------------------------

SEEKERS = [
    GifImagePlugin.GifImageFile,
    PngImagePlugin.PngImageFile,
    WebPImagePlugin.WebPImageFile,
    TiffImagePlugin.TiffImageFile,
]


@pytest.fixture
def frame_spy(monkeypatch):
    """Record every frame number any multi-frame decoder is asked to seek to."""
    frames: list[int] = []
    for cls in SEEKERS:
        for name in ("seek", "_seek"):
            if name in vars(cls):
                original = vars(cls)[name]

                def spy(self, frame, *args, _original=original, **kwargs):
                    frames.append(frame)
                    return _original(self, frame, *args, **kwargs)

                monkeypatch.setattr(cls, name, spy)
    return frames


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF"])
def test_only_the_first_frame_is_decoded(fmt, frame_spy):
    data = corpus.animated(fmt)
    out = pixels(load_image(data))
    assert out.shape == (24, 32, 3)
    assert_close(out[12, 16], RED)
    assert all(frame == 0 for frame in frame_spy), frame_spy
    # The spy works: going to the second frame is seen.
    Image.open(io.BytesIO(data)).seek(1)
    assert 1 in frame_spy


# --- size: downscale, never upscale ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((3000, 1000), 300, (300, 100)),
        ((1000, 3000), 300, (100, 300)),
        ((1001, 333), 1000, (1000, 333)),
        ((50, 20), 1024, (50, 20)),  # never upscaled
        ((64, 64), 64, (64, 64)),
        ((5000, 3), 100, (100, 1)),  # never rounded down to zero
    ],
)
def test_downscale_keeps_aspect_and_never_upscales(size, max_side, expected):
    out = load_image(encode(solid(GREEN, size), "PNG"), max_side=max_side)
    assert out.size == expected
    assert_close(pixels(out)[out.height // 2, out.width // 2], GREEN)


def test_big_jpeg_uses_draft_and_lands_on_the_exact_size(monkeypatch):
    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        drafts.append(original(self, mode, size))
        return drafts[-1]

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    img = Image.new("RGB", (3000, 2000), GRAY)
    img.paste(RED, (0, 0, 1500, 2000))
    out = load_image(encode(img, "JPEG", quality=90), max_side=256)
    assert [box for _, box in drafts] == [(0, 0, 375, 250)]  # decoded at 1/8 scale
    assert out.size == (256, 171)
    assert_close(pixels(out)[85, 40], RED, 8)
    assert_close(pixels(out)[85, 200], GRAY, 8)


@pytest.mark.parametrize("bad", [0, -1, images.MAX_SIDE + 1, 10**9, 2.5, "512", None, True])
def test_invalid_max_side_is_refused(bad):
    message = refused(encode(solid(RED), "PNG"), max_side=bad)
    assert "max_side" in message


def test_max_side_accepts_numpy_integers_and_bytes_like_data():
    data = encode(solid(RED, (40, 20)), "PNG")
    assert load_image(bytearray(data), max_side=np.int64(10)).size == (10, 5)
    assert load_image(memoryview(data)).size == (40, 20)
    with pytest.raises(TypeError):
        load_image(data.decode("latin-1"))


def test_metadata_is_dropped():
    out = load_image(corpus.oriented(6))
    assert out.info == {}


# --- tensors --------------------------------------------------------------------------------------


def test_rgb_tensor_matches_the_pixels():
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    t = to_rgb_tensor(Image.fromarray(arr))
    assert t.shape == (3, 5, 7) and t.dtype == torch.float32 and t.is_contiguous()
    assert torch.equal(t, torch.from_numpy(arr.transpose(2, 0, 1).astype(np.float32) / 255))


def test_gray_tensor_is_itu_601_luma():
    rng = np.random.default_rng(4)
    arr = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    expected = (0.299 * arr[..., 0] + 0.587 * arr[..., 1] + 0.114 * arr[..., 2]) / 255.0
    t = to_gray_tensor(Image.fromarray(arr))
    assert t.shape == (6, 9) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), expected, atol=1e-6)
    # Not Pillow's convert("L"), which rounds to 8 bits:
    rounded = np.asarray(Image.fromarray(arr).convert("L")) / 255.0
    assert not np.allclose(t.numpy(), rounded, atol=1e-6)


def test_gray_tensor_range_and_other_modes():
    white = to_gray_tensor(solid(WHITE))
    assert white.max().item() <= 1.0 and torch.allclose(white, torch.ones_like(white))
    assert torch.count_nonzero(to_gray_tensor(solid((0, 0, 0)))) == 0
    gray = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)
    np.testing.assert_allclose(to_gray_tensor(gray).numpy(), np.asarray(gray) / 255.0, atol=1e-6)
    assert to_rgb_tensor(gray).shape == (3, 3, 4)


def test_round_trip_from_upload_to_tensor():
    out = load_image(encode(corpus.quadrants(PALETTE, "RGB"), "PNG"))
    t = to_rgb_tensor(out)
    assert t.shape == (3, 64, 64)
    assert torch.equal(t[:, 16, 16], torch.tensor([1.0, 0.0, 0.0]))
