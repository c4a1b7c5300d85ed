"""Why are kernels odd-sized? An even kernel has no centre pixel.

Two measurements. A centred detector such as the difference [-1, 0, 1] (which answers "does the
brightness change *at this pixel*?") is fitted by least squares with kernels of every width,
anchored as torch anchors them with padding='same' ((w-1)//2 taps before the output pixel, w//2
after): odd widths reproduce it exactly, even widths cannot. And the response of an even kernel
sits half a pixel off: on a step edge, and as a drift of the image's centre of mass that grows by
half a pixel with every even layer stacked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.core import N_, Phrase, check_int
from engine.kernels.checks import KernelDesignError, gray_image

MAX_WIDTH = 15  # widest 1-D kernel fitted
MAX_STEP_LENGTH = 64
MAX_DRIFT_LAYERS = 32
DRIFT_STILL = 0.01  # DriftSummary: a centre of mass that moved less than this (px) stayed put

# 1-D detectors applied to a step edge: a centred difference and the even one next to it
STEP_KERNELS: dict[str, tuple[float, ...]] = {
    N_("[-1, 0, 1] / 2 (odd)"): (-0.5, 0.0, 0.5),
    N_("[-1, 1] (even)"): (-1.0, 1.0),
}
# 2-D smoothing kernels stacked on an image: both non-negative and summing to 1
DRIFT_KERNELS: dict[str, torch.Tensor] = {
    N_("3×3 binomial (odd)"): torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64).outer(
        torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    )
    / 16,
    N_("2×2 average (even)"): torch.full((2, 2), 0.25, dtype=torch.float64),
}


def same_offsets(width: int) -> tuple[int, ...]:
    """Return the input offsets a width-w kernel reads under torch's padding='same', e.g. (0, 1)."""
    w = check_int(N_("kernel width"), width, 1, MAX_WIDTH, error=KernelDesignError)
    before = (w - 1) // 2  # torch pads (w-1)//2 before and the rest after
    return tuple(range(-before, w - before))


def _same_pad(width: int) -> tuple[int, int]:
    """Return (before, after): the padding torch's padding='same' puts around a width-w kernel."""
    return (width - 1) // 2, width // 2


@dataclass(frozen=True)
class WidthFit:
    """The best width-w kernel for the centred difference (x[i+1] - x[i-1]) / 2, and its miss."""

    width: int
    offsets: tuple[int, ...]  # input offsets the taps read, relative to the output pixel
    any_kernel: tuple[float, ...]  # least-squares weights with no constraint
    any_error: float  # ||target - fit|| / ||target|| of that kernel
    antisymmetric_kernel: tuple[float, ...]  # best kernel with k[j] = -k[w-1-j] (centred)
    antisymmetric_error: float


def _lstsq(columns: list[torch.Tensor], target: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Return (coefficients, relative error) of the least-squares fit of target by columns."""
    if not columns:
        return torch.zeros(0, dtype=target.dtype), 1.0
    a = torch.stack(columns, dim=1)  # (N, P)
    coef = torch.linalg.lstsq(a, target[:, None], driver="gelsd").solution[:, 0]  # (P,)
    return coef, float((target - a @ coef).norm() / target.norm())


def centred_difference_fits(
    image: torch.Tensor, widths: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
) -> list[WidthFit]:
    """Return one WidthFit per width: how well it reproduces [-1, 0, 1]/2 along the image's rows."""
    if not widths:
        raise KernelDesignError("Pick at least one kernel width.")
    widths = tuple(
        check_int(N_("kernel width"), w, 1, MAX_WIDTH, error=KernelDesignError) for w in widths
    )
    reach = max(widths) // 2 + 1  # the farthest offset any fit (or the target) reads
    x = gray_image(image).to(torch.float64)  # (H, W): each row is one signal
    if x.shape[1] < 2 * reach + 2:
        raise KernelDesignError(
            "The image is {w} pixels wide, too narrow to fit widths up to "
            "{widest}; use an image at least {least} pixels wide.",
            w=x.shape[1],
            widest=max(widths),
            least=2 * reach + 2,
        )

    def shifted(o: int) -> torch.Tensor:
        return x[:, reach + o : x.shape[1] - reach + o].reshape(-1)  # x[i + o] over the inner

    target = (shifted(1) - shifted(-1)) / 2  # (N,) the centred difference at every inner pixel
    if float(target.norm()) == 0.0:
        raise KernelDesignError(
            "The image has no left-to-right brightness changes, so there is nothing to detect; "
            "pick an image with some edges."
        )
    fits = []
    for w in widths:
        offsets = same_offsets(w)
        cols = [shifted(o) for o in offsets]
        any_k, any_err = _lstsq(cols, target)
        # antisymmetric about the kernel's own middle: tap j and tap w-1-j carry +a and -a
        pairs = [(j, w - 1 - j) for j in range(w // 2)]
        anti_a, anti_err = _lstsq([cols[i] - cols[j] for i, j in pairs], target)
        anti = [0.0] * w
        for (i, j), a in zip(pairs, anti_a.tolist(), strict=True):
            anti[i], anti[j] = a, -a
        fits.append(WidthFit(w, offsets, tuple(any_k.tolist()), any_err, tuple(anti), anti_err))
    return fits


@dataclass(frozen=True)
class StepResponse:
    """A 1-D step edge, each kernel's response to it, and where each response is centred."""

    signal: torch.Tensor  # (L,) 0 up to step_at - 1, then 1
    edge_at: float  # the edge lies between pixels step_at - 1 and step_at
    responses: dict[str, torch.Tensor]  # kernel name -> (L,) response, padding='same' anchoring
    centroids: dict[str, float]  # kernel name -> sum(i |r_i|) / sum(|r_i|)

    def shift(self, name: str) -> float:
        """Return how far the named kernel's response centre sits from the edge, in pixels."""
        return self.centroids[name] - self.edge_at


def _correlate_same(signal: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Return the (L,) cross-correlation with torch's 'same' anchoring, edges replicated."""
    before, after = _same_pad(kernel.numel())
    padded = F.pad(signal[None, None], (before, after), mode="replicate")  # (1, 1, L + w - 1)
    return F.conv1d(padded, kernel[None, None])[0, 0]


def step_responses(length: int = 16, step_at: int = 8) -> StepResponse:
    """Return every STEP_KERNELS response to a 0→1 step between pixels step_at-1 and step_at."""
    n = check_int(N_("signal length"), length, 4, MAX_STEP_LENGTH, error=KernelDesignError)
    s = check_int(N_("step position"), step_at, 2, n - 2, error=KernelDesignError)
    signal = (torch.arange(n) >= s).to(torch.float64)  # (L,)
    responses, centroids = {}, {}
    positions = torch.arange(n, dtype=torch.float64)
    for name, taps in STEP_KERNELS.items():
        r = _correlate_same(signal, torch.tensor(taps, dtype=torch.float64))
        responses[name] = r
        centroids[name] = float((positions * r.abs()).sum() / r.abs().sum())
    return StepResponse(signal, s - 0.5, responses, centroids)


def _centroid(image: torch.Tensor) -> torch.Tensor:
    """Return the (row, col) centre of mass of a non-negative (H, W) image."""
    h, w = image.shape
    total = image.sum()
    rows = (image.sum(dim=1) * torch.arange(h, dtype=image.dtype)).sum() / total
    cols = (image.sum(dim=0) * torch.arange(w, dtype=image.dtype)).sum() / total
    return torch.stack([rows, cols])


def centroid_drift(image: torch.Tensor, layers: int = 6) -> dict[str, torch.Tensor]:
    """Return, per DRIFT_KERNELS entry, the (layers+1, 2) shift (rows, cols) of the image's centre
    of mass after 0, 1, … layers of that kernel ('same' anchoring, nothing lost off the edge)."""
    n = check_int(N_("number of layers"), layers, 1, MAX_DRIFT_LAYERS, error=KernelDesignError)
    x = gray_image(image).to(torch.float64)  # (H, W)
    if float(x.min()) < 0:
        raise KernelDesignError("A centre of mass needs brightness ≥ 0; got negative pixels.")
    if float(x.sum()) == 0.0:
        raise KernelDesignError("The image is all black: it has no centre of mass.")
    # A zero frame wide enough that no layer pushes brightness off the canvas (≤ 1 px per layer)
    canvas = F.pad(x, (n, n, n, n))[None, None]  # (1, 1, H + 2n, W + 2n)
    start = _centroid(canvas[0, 0])
    drift = {}
    for name, kernel in DRIFT_KERNELS.items():
        before, after = _same_pad(kernel.shape[-1])
        y, shifts = canvas, [torch.zeros(2, dtype=torch.float64)]
        for _ in range(n):
            y = F.conv2d(F.pad(y, (before, after, before, after)), kernel[None, None])
            shifts.append(_centroid(y[0, 0]) - start)
        drift[name] = torch.stack(shifts)  # (layers + 1, 2)
    return drift


@dataclass(frozen=True)
class DriftSummary:
    """Where centroid_drift's layers leave the centre of mass: the even and the odd kernel."""

    layers: int
    even_shift: tuple[float, float]  # (down, right) px after every even layer
    odd_largest: float  # largest |shift| (px, either axis) after every odd layer

    @property
    def even_moves(self) -> bool:
        """Return True when the even kernels moved the centre by DRIFT_STILL px or more."""
        return max(abs(v) for v in self.even_shift) >= DRIFT_STILL

    @property
    def odd_stays(self) -> bool:
        """Return True when the odd kernels left the centre within DRIFT_STILL px."""
        return self.odd_largest < DRIFT_STILL

    @property
    def even_per_layer(self) -> tuple[float, float]:
        """Return the even kernel's average (down, right) shift per layer."""
        return self.even_shift[0] / self.layers, self.even_shift[1] / self.layers


def drift_summary(drift: dict[str, torch.Tensor]) -> DriftSummary:
    """Return the final shifts of centroid_drift's result, even kernel and odd kernel apart."""
    odd, even = (drift[name] for name in DRIFT_KERNELS)  # DRIFT_KERNELS lists the odd one first
    down, right = (float(v) for v in even[-1])
    return DriftSummary(len(even) - 1, (down, right), float(odd[-1].abs().max()))


EXACT_FIT = 1e-6  # width_fit_summary: relative errors and weights below this count as zero
CENTRED_SHIFT = 0.05  # shift_words: a response centre within this many pixels of the edge is on it


@dataclass(frozen=True)
class WidthFitSummary:
    """Which widths reproduce the centred difference, and how the free-only ones do it."""

    centred_exact: tuple[int, ...]  # widths whose centred (antisymmetric) fit is exact
    centred_missed: tuple[int, ...]  # widths whose centred fit is not
    free_only: tuple[tuple[int, tuple[int, ...]], ...]  # (width, offsets of its nonzero taps)


def width_fit_summary(fits: list[WidthFit], tol: float = EXACT_FIT) -> WidthFitSummary:
    """Return which widths fit the centred difference exactly, centred or only with free weights.

    A free-only width is one whose unconstrained fit is exact but whose centred one is not; its
    nonzero taps are those above tol times its largest weight.
    """
    free = []
    for f in fits:
        if f.any_error < tol <= f.antisymmetric_error:
            peak = max(abs(v) for v in f.any_kernel)
            used = tuple(
                o for o, v in zip(f.offsets, f.any_kernel, strict=True) if abs(v) > tol * peak
            )
            free.append((f.width, used))
    return WidthFitSummary(
        centred_exact=tuple(f.width for f in fits if f.antisymmetric_error < tol),
        centred_missed=tuple(f.width for f in fits if f.antisymmetric_error >= tol),
        free_only=tuple(free),
    )


def shift_words(shift: float, tol: float = CENTRED_SHIFT) -> str:
    """Return where a response centre sits relative to the edge: on it, or how far left/right."""
    if abs(shift) < tol:
        return Phrase(N_("centred on the edge"))
    if shift < 0:
        return Phrase(N_("{px:.2g} px to its left"), px=abs(shift))
    return Phrase(N_("{px:.2g} px to its right"), px=abs(shift))
