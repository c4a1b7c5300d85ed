"""The pooling modules' own error."""

from __future__ import annotations

from engine.core import ExplorerError


class PoolingError(ExplorerError):
    """A pooling or between-layer setting that cannot work; the message says what to change."""
