"""What do dropout and normalization do to a feature map, in training and in evaluation?

The other standard layers between convolutions, written out so each step can be shown:
- dropout (Srivastava et al. 2014), in its "inverted" form as torch uses it: while training each
  value is zeroed with probability p and survivors are scaled by 1/(1-p), so the expected value is
  unchanged; in evaluation the layer does nothing.
- batch normalization (Ioffe & Szegedy 2015): while training each channel is normalised with the
  mean and variance of the current batch (over examples and positions) and running estimates are
  updated; in evaluation the running estimates are used instead, so an example's output no longer
  depends on the rest of its batch.
- layer normalization (Ba et al. 2016): each example normalised over all its own values (C, H, W),
  the same in training and evaluation.
Normalizations here have no learned scale and shift (gamma = 1, beta = 0) and use eps = 1e-5, as
torch's layers start out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.core import check_int, check_number, check_tensor, seeded
from engine.pooling.errors import PoolingError

EPS = 1e-5  # added to the variance before the square root, as in torch's normalization layers
MAX_ELEMENTS = 1 << 24  # 64 maps of 512×512
MAX_STEPS = 1000
BN_MOMENTUM = 0.1  # torch's default: running = (1 - m) × running + m × batch statistic


def _check_maps(name: str, value: object, ndims: tuple[int, ...]) -> torch.Tensor:
    value = check_tensor(name, value, ndims, error=PoolingError)
    if value.numel() > MAX_ELEMENTS:
        raise PoolingError(
            f"{name} has {value.numel():,} values, more than the {MAX_ELEMENTS:,} handled here; "
            "use fewer channels or a smaller image."
        )
    return value.float() if value.dtype == torch.float16 else value


# --- dropout


def dropout_demo(
    fmap: torch.Tensor, p: float, seed: int = 0, training: bool = True
) -> torch.Tensor:
    """Return fmap after dropout: zeros with probability p, survivors ×1/(1-p); eval: a copy.

    fmap is (C, H, W) or (H, W). The mask comes from a torch.Generator seeded with seed, so the
    same seed drops the same cells.
    """
    fmap = _check_maps("feature map", fmap, (2, 3))
    p = check_number("dropout probability p", p, error=PoolingError)
    if not 0.0 <= p < 1.0:
        raise PoolingError(
            f"The dropout probability p must be at least 0 and below 1, got {p} "
            "(p = 1 would drop everything and divide by zero)."
        )
    seed = check_int("seed", seed, 0, error=PoolingError)
    if not training or p == 0.0:
        return fmap.clone()
    generator = seeded(seed)
    keep = torch.rand(fmap.shape, generator=generator) >= p  # (C, H, W): True with prob. 1-p
    # the survivors' scale 1/(1-p) keeps the expected value, so evaluation needs no rescaling
    return fmap * keep.to(fmap.dtype) / (1.0 - p)


def survived_fraction(before: torch.Tensor, after: torch.Tensor) -> float:
    """Return the share of before's nonzero values still nonzero after dropout (1.0 if none)."""
    before = _check_maps("feature map before", before, (2, 3))
    after = _check_maps("feature map after", after, (2, 3))
    if before.shape != after.shape:
        raise PoolingError(
            f"before and after must have the same shape, got {tuple(before.shape)} and "
            f"{tuple(after.shape)}."
        )
    nonzero = before != 0
    total = int(nonzero.sum())
    return float((after != 0).logical_and(nonzero).sum()) / total if total else 1.0


# --- batch normalization


@dataclass
class NormDemo:
    """Batch norm on one batch: outputs in both modes and the statistics behind them."""

    train_out: torch.Tensor  # (B, C, H, W) normalised with this batch's mean and variance
    eval_out: torch.Tensor  # (B, C, H, W) normalised with the running estimates
    batch_mean: torch.Tensor  # (C,) mean of each channel over examples and positions
    batch_var: torch.Tensor  # (C,) biased variance (divide by n), what training normalises with
    running_mean: torch.Tensor  # (C,) after `steps` updates from 0
    running_var: torch.Tensor  # (C,) after `steps` updates from 1, with the unbiased variance
    train_out_mean: torch.Tensor  # (C,) per-channel mean of train_out: 0 up to rounding
    train_out_var: torch.Tensor  # (C,) per-channel biased variance of train_out: var/(var+eps)
    eval_out_mean: torch.Tensor  # (C,) per-channel mean of eval_out
    eval_out_var: torch.Tensor  # (C,) per-channel biased variance of eval_out
    moved_fraction: float  # 1 − (1 − momentum)^steps: how far the running estimates have come


def _channel_stats(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the (C,) mean and biased variance of (B, C, H, W) maps over (B, H, W)."""
    return maps.mean(dim=(0, 2, 3)), maps.var(dim=(0, 2, 3), unbiased=False)


def _normalise(maps: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Return (B, C, H, W) (maps - mean) / sqrt(var + eps) with (C,) statistics."""
    return (maps - mean[:, None, None]) / torch.sqrt(var[:, None, None] + EPS)


def batchnorm_demo(maps: torch.Tensor, momentum: float = BN_MOMENTUM, steps: int = 1) -> NormDemo:
    """Return batch norm's training and evaluation outputs on maps (B, C, H, W) after `steps`.

    Each step is one training forward pass on this same batch: it normalises with the batch's
    statistics and moves the running estimates towards them, torch's convention
    running = (1 - momentum) × running + momentum × batch statistic, starting from mean 0 and
    variance 1. The running variance is fed the unbiased variance (divide by n - 1) while the
    batch is normalised with the biased one, as torch does. Evaluation uses the running estimates,
    which reach the batch's own after many steps: eval_out approaches train_out.
    """
    maps = _check_maps("maps", maps, (4,))
    batch, channels, height, width = maps.shape
    count = batch * height * width  # values per channel
    if count < 2:
        raise PoolingError(
            "Batch norm needs more than one value per channel to measure a variance; "
            f"got shape {tuple(maps.shape)}. Use a batch of at least 2 or larger maps."
        )
    momentum = check_number("momentum", momentum, error=PoolingError)
    if not 0.0 < momentum <= 1.0:
        raise PoolingError(f"momentum must be above 0 and at most 1, got {momentum}.")
    steps = check_int("steps", steps, 1, MAX_STEPS, error=PoolingError)
    with torch.inference_mode():
        mean, var = _channel_stats(maps)  # (C,), (C,)
        unbiased = var * (count / (count - 1))
        running_mean = torch.zeros(channels, dtype=maps.dtype)
        running_var = torch.ones(channels, dtype=maps.dtype)
        for _ in range(steps):
            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * unbiased
        train_out = _normalise(maps, mean, var)  # (B, C, H, W)
        eval_out = _normalise(maps, running_mean, running_var)
        train_out_mean, train_out_var = _channel_stats(train_out)
        eval_out_mean, eval_out_var = _channel_stats(eval_out)
    return NormDemo(
        train_out=train_out,
        eval_out=eval_out,
        batch_mean=mean,
        batch_var=var,
        running_mean=running_mean,
        running_var=running_var,
        train_out_mean=train_out_mean,
        train_out_var=train_out_var,
        eval_out_mean=eval_out_mean,
        eval_out_var=eval_out_var,
        moved_fraction=1.0 - (1.0 - momentum) ** steps,
    )


NORMALISED_BAND = 2.0  # a variance within this factor of 1 counts as normalised


def eval_variance_claim(variance: float, band: float = NORMALISED_BAND) -> str:
    """Return "close" when variance lies within band× of 1 (normalised), else "far"."""
    variance = check_number("variance", variance, error=PoolingError)
    if variance < 0:
        raise PoolingError(f"A variance cannot be negative, got {variance}.")
    return "close" if 1.0 / band <= variance <= band else "far"


def quarters_batch(maps: torch.Tensor) -> torch.Tensor:
    """Return (4, C, H//2, W//2): the four quarters of (C, H, W) maps, as a batch of four.

    Top-left, top-right, bottom-left, bottom-right; an odd last row or column is left out.
    """
    maps = _check_maps("maps", maps, (3,))
    h, w = maps.shape[-2] // 2, maps.shape[-1] // 2
    if h < 1 or w < 1:
        raise PoolingError(f"Maps of {maps.shape[-2]}×{maps.shape[-1]} have no quarters.")
    return torch.stack([maps[:, r : r + h, c : c + w] for r in (0, h) for c in (0, w)])


# --- layer normalization


def layernorm_demo(fmap: torch.Tensor) -> torch.Tensor:
    """Return (C, H, W) fmap normalised over all its values: (x - mean) / sqrt(var + eps)."""
    fmap = _check_maps("feature map", fmap, (3,))
    if fmap.numel() < 2:
        raise PoolingError("Layer norm needs more than one value to measure a variance.")
    with torch.inference_mode():
        mean = fmap.mean()
        var = fmap.var(unbiased=False)  # biased, as layer norm uses
        return (fmap - mean) / torch.sqrt(var + EPS)
