"""The trained-CNN pages' names a learner reads: the drawn classes and the ablation variants.

The engine's names are data (keys, widget values, model cards) and stay English; these maps
mark each as a message id, so pages translate it where it is shown and nowhere else.
"""

from __future__ import annotations

from engine.core import N_
from ui.i18n import t

__all__ = ["CLASS_NAMES", "VARIANT_NAMES", "class_name", "kernel_name", "variant_name"]

CLASS_NAMES = {  # engine.cnn.CLASSES → its name as shown (tests check the keys are CLASSES)
    "circle": N_("circle"),
    "square": N_("square"),
    "triangle": N_("triangle"),
    "star": N_("star"),
    "cross": N_("cross"),
    "horizontal stripes": N_("horizontal stripes"),
    "vertical stripes": N_("vertical stripes"),
    "checkerboard": N_("checkerboard"),
    "dots": N_("dots"),
    "ring": N_("ring"),
}
VARIANT_NAMES = {  # engine.cnn.ABLATIONS → its name as shown
    "baseline": N_("baseline"),
    "no pooling": N_("no pooling"),
    "no ReLU": N_("no ReLU"),
    "1 block": N_("1 block"),
    "4 blocks": N_("4 blocks"),
}


def class_name(name: str) -> str:
    """Return a drawn class's name in the session's language (any other name as it is)."""
    return t(CLASS_NAMES[name]) if name in CLASS_NAMES else name


def kernel_name(name: str) -> str:
    """Return a hand-made kernel's name (engine.cnn's bank marks each as a message id) as shown."""
    return t(name)


def variant_name(name: str) -> str:
    """Return an ablation variant's name in the session's language (others as they are)."""
    return t(VARIANT_NAMES[name]) if name in VARIANT_NAMES else name
