"""Process-wide tuning for a long-lived server on a small machine, applied once at start-up.

glibc raises its mmap threshold after a large block is freed (a decoded 40-megapixel upload, say);
from then on every fresh megabyte-sized tensor comes from a heap that is trimmed and refaulted
page by page, and the same convolution can run 10–40× slower for the rest of the process. Fixing
the thresholds turns that adaptation off: big blocks (≥ 32 MB) go straight back to the system,
smaller ones are reused from a heap that is not trimmed below 256 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def tune_allocator(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Return True if glibc's malloc thresholds were fixed (False on other C libraries)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok_mmap = mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
    ok_trim = mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1
    return ok_mmap and ok_trim
