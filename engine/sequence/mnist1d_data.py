"""What is MNIST-1D? The ten 1D digit templates and the 5,000 transformed samples made from them.

MNIST-1D (Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024,
arXiv:2011.14439) is generated procedurally by the `mnist1d` package: each of ten hand-drawn
12-point templates is padded, stretched, scaled, shifted, sheared and given correlated and iid
noise, then resampled to 40 points. We call `mnist1d.data.make_dataset` with its default
arguments (4,000 train / 1,000 test × 40) and never its downloader, so nothing touches the network
or the disk. make_dataset seeds NumPy's and `random`'s global generators; we save and restore both
around it (under a lock, once per process) and keep the arrays in memory, read-only.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import numpy as np

__all__ = [
    "N_CLASSES",
    "SEQ_LEN",
    "SHUFFLE_SEED",
    "Mnist1D",
    "arrays",
    "examples_per_class",
    "load_mnist1d",
    "time_permutation",
]

SEQ_LEN = 40  # samples per sequence with the default arguments
N_CLASSES = 10
SHUFFLE_SEED = 2011  # the one fixed permutation of time used by the shuffled-time ablation

_lock = threading.Lock()
_cache: dict[str, Mnist1D] = {}


@dataclass(frozen=True)
class Mnist1D:
    """MNIST-1D as make_dataset's defaults produce it (read-only float32/int64 arrays)."""

    x_train: np.ndarray  # (4000, 40) float32, standardised over the whole set
    y_train: np.ndarray  # (4000,) int64 digit labels 0..9
    x_test: np.ndarray  # (1000, 40) float32
    y_test: np.ndarray  # (1000,) int64
    t: np.ndarray  # (40,) float32 the time coordinate of each sample point
    templates: np.ndarray  # (10, 12) float32 the digit templates before any transformation
    template_t: np.ndarray  # (12,) float32 the templates' time coordinate


def _frozen(a: np.ndarray, dtype: type) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=dtype)
    out.setflags(write=False)
    return out


def _generate() -> Mnist1D:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # a broken install, not something a person did
        raise ImportError(
            "MNIST-1D needs the mnist1d package: pip install mnist1d==0.0.2.post1"
        ) from exc
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    templates = data["templates"]
    return Mnist1D(
        x_train=_frozen(data["x"], np.float32),
        y_train=_frozen(data["y"], np.int64),
        x_test=_frozen(data["x_test"], np.float32),
        y_test=_frozen(data["y_test"], np.int64),
        t=_frozen(data["t"], np.float32),
        templates=_frozen(templates["x"], np.float32),
        template_t=_frozen(templates["t"], np.float32),
    )


def load_mnist1d() -> Mnist1D:
    """Return MNIST-1D (default arguments), generated once per process and kept in memory."""
    with _lock:
        if "default" not in _cache:
            _cache["default"] = _generate()
        return _cache["default"]


def time_permutation(length: int = SEQ_LEN) -> np.ndarray:
    """Return the fixed permutation of time steps that shuffles every sequence, (length,) int64."""
    return np.random.default_rng(SHUFFLE_SEED).permutation(length)


def arrays(shuffle_time: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (x_train (4000, 40), y_train, x_test (1000, 40), y_test), time shuffled if asked."""
    data = load_mnist1d()
    if not shuffle_time:
        return data.x_train, data.y_train, data.x_test, data.y_test
    order = time_permutation(data.x_train.shape[1])  # the same order for train and test
    return data.x_train[:, order], data.y_train, data.x_test[:, order], data.y_test


def examples_per_class(k: int = 3, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Return (x, index): the first k samples of each digit, (10, k, 40), and their row numbers."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    data = load_mnist1d()
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    k = max(1, min(int(k), int(np.bincount(y, minlength=N_CLASSES).min())))
    index = np.stack([np.flatnonzero(y == c)[:k] for c in range(N_CLASSES)])  # (10, k)
    return x[index], index
