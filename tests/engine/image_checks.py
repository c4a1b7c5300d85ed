"""Shared assertions for the image-loading tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFile

from engine.images import ImageLoadError, load_image
from tests.engine.image_corpus import BLUE, GREEN, RED, WHITE

PALETTE = [RED, GREEN, BLUE, WHITE]  # the four quadrant colours of the test images


def pixels(img: Image.Image) -> np.ndarray:
    """Return img as an (H, W, 3) int array after checking it is a plain, loaded RGB image."""
    assert img.mode == "RGB"
    assert not isinstance(img, ImageFile.ImageFile)  # no lazy file handle behind it
    return np.asarray(img).astype(int)


def assert_close(actual, expected, tol: int = 0) -> None:
    """Assert two colours (or arrays) differ by at most tol per channel."""
    diff = np.abs(np.asarray(actual, dtype=int) - np.asarray(expected, dtype=int))
    assert diff.max() <= tol, f"{actual} != {expected} (tolerance {tol})"


def refused(data: bytes, **kwargs) -> str:
    """Return the message of the ImageLoadError that load_image must raise for data."""
    with pytest.raises(ImageLoadError) as info:
        load_image(data, **kwargs)
    message = str(info.value)
    assert message.strip(), "an empty message helps nobody"
    return message
