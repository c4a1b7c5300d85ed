"""The allocator tuning the app applies at start-up."""

import platform

from runtime_tuning import tune_allocator


def test_tune_allocator_fixes_glibc_thresholds_and_is_idempotent():
    result = tune_allocator()
    assert isinstance(result, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert result is True
        assert tune_allocator() is True  # every rerun of app.py calls it again
