"""Counting FLOPs with torch's FlopCounterMode without disturbing other threads.

FlopCounterMode attributes FLOPs to modules with a ModuleTracker, whose module hooks are
process-wide: entered in one thread, it also hooks every module that any other thread calls, and
there attaches gradient hooks to tensors that require grad. A learner's autograd.grad in another
thread then fails ("A leaf node was passed to _will_engine_execute_node but we are currently
running autograd.grad()"): seen on the weights page while the warm-up counted the nine
architectures' FLOPs. The counter here follows only the thread that entered it.
"""

from __future__ import annotations

import threading

from torch.utils.flop_counter import FlopCounterMode
from torch.utils.module_tracker import ModuleTracker

__all__ = ["flop_counter"]


class _ThisThreadTracker(ModuleTracker):
    """torch's ModuleTracker, blind to modules called in any thread but the one that entered it."""

    def __enter__(self):
        self._owner = threading.get_ident()
        return super().__enter__()

    def _fw_pre_hook(self, mod, input) -> None:
        if threading.get_ident() == self._owner:
            super()._fw_pre_hook(mod, input)

    def _fw_post_hook(self, mod, input, output) -> None:
        if threading.get_ident() == self._owner:
            super()._fw_post_hook(mod, input, output)


def flop_counter() -> FlopCounterMode:
    """Return a FlopCounterMode (no display) that tracks modules of the entering thread only."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _ThisThreadTracker()
    return counter
