"""Process-wide tuning for a long-lived server on a small machine, applied once at start-up.

glibc raises its mmap threshold after a large block is freed (a decoded 40-megapixel upload, say);
from then on every fresh megabyte-sized tensor comes from a heap that is trimmed and refaulted
page by page, and the same convolution can run 10–40× slower for the rest of the process. Fixing
the thresholds turns that adaptation off: big blocks (≥ 32 MB) go straight back to the system,
smaller ones are reused from a heap that is not trimmed below 256 MB.

Threads: every session's script runs on its own Python thread, and training jobs run beside them,
so torch's intra-op parallelism only makes the cores fight. Measured on this 2-core machine under
load (load average 5): with one intra-op thread, 200 small convolutions
took 10–14 ms against 46–172 ms with two, a 512² conv 20–28 ms against 48–75 ms, an LSTM over
500 steps 2.5 ms against 2.3–13.7 ms. One thread per request is the default; set
EXPLORER_TORCH_THREADS to use more on a bigger, quieter machine.

A training job is different: it runs for tens of seconds on its own thread at a lower CPU
priority, so it may use the cores no request needs (the small CNN's 300 steps: 15.1 s on one
thread, 6.1 s on two, quiet). max_jobs() says how many jobs run at once (EXPLORER_MAX_JOBS, else
one per two cores); training_threads() gives each its share of the cores (EXPLORER_TRAIN_THREADS,
else cores ÷ jobs at once), so the jobs running together never ask for more threads than there are
cores; engine.core.intra_op_threads applies it to the job's thread only.

OpenMP's idle workers: libgomp lets a worker that waits at a barrier spin for a while before it
sleeps. When the cores are shared, a spinning worker burns the time slice its partner needs: the
CNN's training step on two threads took 244 ms under load 3 against 39–59 ms on one. With
OMP_WAIT_POLICY=PASSIVE waiting workers sleep at once, and two threads took 38–50 ms under the
same load. libgomp reads the variable once, when torch loads it, so it is set here, at import,
before torch (app.py imports this module first; an operator's own setting wins).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import threading

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads libgomp: see above

log = logging.getLogger(__name__)

CORES_PER_JOB = 2  # by default one training job per two cores: it gets both, requests share them
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


@functools.cache
def _mallopt():
    """Return glibc's mallopt, or None elsewhere; looked up once (find_library spawns ldconfig)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return None


def tune_allocator(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Return True if glibc's malloc thresholds were fixed (False on other C libraries)."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    ok_mmap = mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
    ok_trim = mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1
    return ok_mmap and ok_trim


def _threads_from(variable: str, default: int) -> int:
    """Return the whole number in environment variable (else default), within 1..cores."""
    try:
        wanted = int(os.environ.get(variable, default))
    except ValueError:
        wanted = default
    return max(1, min(wanted, os.cpu_count() or 1))


def default_max_jobs(cores: int | None = None) -> int:
    """Return one training job per CORES_PER_JOB cores, at least one (cores: this machine's)."""
    return max(1, (cores or os.cpu_count() or 1) // CORES_PER_JOB)


def max_jobs() -> int:
    """Return how many training jobs run at once: EXPLORER_MAX_JOBS (a whole number ≥ 1), else
    default_max_jobs(); an invalid setting is logged and the default used."""
    default = default_max_jobs()
    raw = os.environ.get("EXPLORER_MAX_JOBS", "").strip()
    if not raw:
        return default
    try:
        wanted = int(raw)
    except ValueError:
        wanted = 0
    if wanted < 1:
        log.warning("EXPLORER_MAX_JOBS=%r is not a whole number ≥ 1; using %d", raw, default)
        return default
    return wanted


def training_threads() -> int:
    """Return the intra-op threads a training job uses: EXPLORER_TRAIN_THREADS, else its share
    of the cores (cores ÷ max_jobs(), at least one)."""
    cores = os.cpu_count() or 1
    return _threads_from("EXPLORER_TRAIN_THREADS", max(1, cores // max_jobs()))


def limit_torch_threads(default: int = 1) -> int:
    """Set torch's intra-op thread count (EXPLORER_TORCH_THREADS, else default); return it."""
    import torch  # imported here so the allocator is tuned before torch allocates anything

    wanted = _threads_from("EXPLORER_TORCH_THREADS", default)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def lower_thread_priority(nice: int) -> bool:
    """Give the calling thread CPU priority `nice` (Linux: per thread, inherited by the threads
    it starts, such as torch's workers); return False where unsupported."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        return False
    return True
