"""The kernel-design modules' own error and the argument checks they share."""

from __future__ import annotations

import torch

from engine.conv import ConvConfigError, check_int, check_tensor

MAX_IMAGE_SIDE = 1024  # side of the largest image the image demonstrations accept


class KernelDesignError(ConvConfigError):
    """A kernel-design setting that cannot work; the message says what to change."""


def whole(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """Return value as an int in [minimum, maximum], or raise KernelDesignError saying why."""
    try:
        return check_int(name, value, minimum, maximum)
    except ConvConfigError as err:
        raise KernelDesignError(str(err)) from None


def gray_image(image: object, min_side: int = 1, max_side: int = MAX_IMAGE_SIDE) -> torch.Tensor:
    """Return image after checking it is a finite float (H, W) tensor with sides in range."""
    if isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 1:
        image = image[0]  # a one-channel (1, H, W) image is a gray image
    try:
        image = check_tensor("image", image, (2,))
    except ConvConfigError as err:
        raise KernelDesignError(f"{err} These views need a gray (H, W) image.") from None
    h, w = image.shape
    if min(h, w) < min_side:
        raise KernelDesignError(
            f"The image is {h}×{w} pixels; this view needs at least {min_side} per side. "
            "Use a bigger image."
        )
    if max(h, w) > max_side:
        raise KernelDesignError(
            f"The image is {h}×{w} pixels; this view handles at most {max_side} per side. "
            "Shrink the image first."
        )
    return image
