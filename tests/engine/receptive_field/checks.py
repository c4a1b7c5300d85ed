"""Shared helpers for the receptive-field tests."""


def row_named(rows, name):
    return next(r for r in rows if r.name == name)


def theory(row, i: int, axis: int = 0) -> tuple[float, float]:
    """Return the field of unit i along one axis: centre start + i·jump, half-width (r-1)/2."""
    centre = row.starts[axis] + i * row.jumps[axis]
    half = (row.sizes[axis] - 1) / 2
    return centre - half, centre + half
