"""Benchmarks: `python -m benchmarks [suite …]` (see __main__.py)."""

# First, before any suite imports torch: the server's OpenMP wait policy (runtime_tuning.py), so
# the figures are measured as the app runs.
import runtime_tuning  # noqa: F401
