"""The kernel-design modules' own error and the image check they share."""

from __future__ import annotations

import torch

from engine.core import N_, ExplorerError, check_tensor

MAX_IMAGE_SIDE = 1024  # side of the largest image the image demonstrations accept


class KernelDesignError(ExplorerError):
    """A kernel-design setting that cannot work; the message says what to change."""


def gray_image(image: object, min_side: int = 1, max_side: int = MAX_IMAGE_SIDE) -> torch.Tensor:
    """Return image after checking it is a finite float (H, W) tensor with sides in range."""
    if isinstance(image, torch.Tensor) and image.dim() == 3 and image.shape[0] == 1:
        image = image[0]  # a one-channel (1, H, W) image is a gray image
    try:
        image = check_tensor("image", image, (2,), error=KernelDesignError)
    except KernelDesignError as err:
        raise KernelDesignError(
            N_("{error} These views need a gray (H, W) image."), error=err
        ) from None
    h, w = image.shape
    if min(h, w) < min_side:
        raise KernelDesignError(
            "The image is {h}×{w} pixels; this view needs at least {min_side} per side. "
            "Use a bigger image.",
            h=h,
            w=w,
            min_side=min_side,
        )
    if max(h, w) > max_side:
        raise KernelDesignError(
            "The image is {h}×{w} pixels; this view handles at most {max_side} per side. "
            "Shrink the image first.",
            h=h,
            w=w,
            max_side=max_side,
        )
    return image
