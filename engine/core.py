"""What every topic shares: the error a person can cause, argument checks, seeds and threads.

`ExplorerError` is the base of every error a person can cause by what they type, upload or pick;
each topic derives its own (a bad pooling window raises `PoolingError`), and pages catch the base
around each computation to show its message instead of a traceback. The checks take the error
class to raise, so a message comes from the topic whose setting was wrong.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "ExplorerError",
    "Msg",
    "N_",
    "Phrase",
    "check_int",
    "check_number",
    "check_tensor",
    "default_device",
    "intra_op_threads",
    "one_thread",
    "seeded",
]


class Msg(str):
    """A string that is a message id of the catalog: a page shows it translated (ui.i18n)."""


def N_(text: str) -> Msg:
    """Return text marked as a message id: extracted into the catalog, translated where shown.

    The usual gettext marker for a string defined in one place and translated in another (a
    setting's name in the engine, a menu title); as a parameter of an ExplorerError it is
    translated too, so "{name} must be at least {minimum}" reads in one language.
    """
    return Msg(text)


class Phrase(str):
    """English words that keep their message id and parameters, so a page can show them in the
    learner's language (ui.i18n.phrase_text); as a str it is the English text.

    `Phrase.counted` keeps a plural pair as well: `plural` is the plural form's id (None for
    words that count nothing) and `params["n"]` the count that picks the form.
    """

    template: str
    params: dict
    plural: str | None

    def __new__(cls, template: str, **params: object) -> Phrase:
        """Return the phrase: template filled with params (as it is without params)."""
        phrase = super().__new__(cls, template.format(**params) if params else template)
        phrase.template, phrase.params, phrase.plural = template, params, None
        return phrase

    @classmethod
    def counted(cls, singular: str, plural: str, n: int, **params: object) -> Phrase:
        """Return the phrase for n things: English's singular for n == 1, else its plural."""
        phrase = cls(singular if n == 1 else plural, n=n, **params)
        phrase.template, phrase.plural = singular, plural
        return phrase


class ExplorerError(ValueError):
    """Anything a person can cause (a setting, an upload, text); the message says what to do.

    Raised as `SomeError("noise must be at least {minimum}, got {value}.", minimum=0, value=v)`:
    the template is the message's id in the catalog and the parameters fill it in, so a page
    can show it in the learner's language (ui.i18n.error_text); str(err) is the English text.
    A message without parameters is its own id, used as it is (braces and all).
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)


def check_int(
    name: str,
    value: object,
    minimum: int,
    maximum: int | None = None,
    *,
    error: type[ExplorerError] = ExplorerError,
) -> int:
    """Return value as an int after checking it is a whole number in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(N_("{name} must be a whole number, got {value!r}."), name=name, value=value)
    value = int(value)
    if value < minimum:
        raise error(
            N_("{name} must be at least {minimum}, got {value}."),
            name=name,
            minimum=minimum,
            value=value,
        )
    if maximum is not None and value > maximum:
        raise error(
            N_("{name} must be at most {maximum}, got {value}."),
            name=name,
            maximum=maximum,
            value=value,
        )
    return value


def check_number(name: str, value: object, *, error: type[ExplorerError] = ExplorerError) -> float:
    """Return value as a float after checking it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(N_("{name} must be a number, got {value!r}."), name=name, value=value)
    if not math.isfinite(value):
        raise error(N_("{name} must be a finite number, got {value!r}."), name=name, value=value)
    return float(value)


def check_tensor(
    name: str,
    value: object,
    ndims: tuple[int, ...],
    *,
    error: type[ExplorerError] = ExplorerError,
) -> torch.Tensor:
    """Return value after checking it is a finite floating tensor with one of the allowed ndims."""
    if not isinstance(value, torch.Tensor):
        raise error(f"{name} must be a torch tensor, got {type(value).__name__}.")
    if value.dim() not in ndims:
        allowed = " or ".join(f"{n}-D" for n in ndims)
        raise error(f"{name} must be {allowed}, got shape {tuple(value.shape)}.")
    if value.dtype not in (torch.float16, torch.float32, torch.float64):
        raise error(f"{name} must hold floats (e.g. float32), got {value.dtype}.")
    if value.numel() == 0:
        raise error(f"{name} is empty (shape {tuple(value.shape)}).")
    # NumPy's single-threaded pass, not torch.isfinite: on a busy server torch's parallel kernel
    # waits for its worker threads to be scheduled, which can cost several ms on a 512×512 image
    if not np.isfinite(value.numpy(force=True)).all():
        raise error(f"{name} contains NaN or infinity; replace those entries with numbers.")
    return value


def seeded(seed: int) -> torch.Generator:
    """Return a CPU generator seeded with seed: randomness that never touches the global state."""
    return torch.Generator().manual_seed(int(seed))


_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 0


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one intra-op thread; the caller's count is restored when the last exits.

    Reference-counted, so overlapping blocks in several sessions' threads are safe. The models
    trained here are tiny: a second thread buys little, and when the two cores are shared,
    OpenMP's spinning workers made a GRU step 25× slower (measured).
    """
    global _threads_users, _threads_saved
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
        _threads_users += 1
    torch.set_num_threads(1)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            restore = _threads_saved if _threads_users == 0 else None
        if restore is not None:
            torch.set_num_threads(restore)


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run the block on n intra-op threads in the calling thread only; restore its count after.

    For a long job on its own thread (training a CNN), while request threads keep one. torch
    keeps the count per thread once a thread has used it, but set_num_threads also changes the
    default a new thread starts from; that default is put back at once from a short-lived thread,
    so scripts and fragments started meanwhile still begin with the old count.
    """
    n = max(1, int(n))
    before = torch.get_num_threads()  # also fixes this thread's own count before it is changed
    torch.set_num_threads(n)
    _set_new_thread_default(before)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _set_new_thread_default(n: int) -> None:
    """Make n the intra-op count a new thread starts with, leaving running threads' counts alone."""
    helper = threading.Thread(target=torch.set_num_threads, args=(n,), name="torch-threads")
    helper.start()
    helper.join()


def default_device() -> torch.device:
    """Return the device training runs on: cuda if the server has a GPU, else cpu."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
