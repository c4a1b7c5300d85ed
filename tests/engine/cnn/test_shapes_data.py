"""The procedural shapes dataset: deterministic, well-formed, balanced, and the classes differ.

References that do not reuse the drawing code: gradient energy along x versus y (stripes'
orientation), how much of a circle's centre is covered (filled disc versus ring), and Pillow's
own crop/resize for preprocess.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from engine.cnn import CLASSES, DatasetError, make_dataset, make_dataset_uint8, preprocess, render


def test_same_seed_same_images_other_seed_other_images():
    a, la = make_dataset(3, seed=7)
    b, lb = make_dataset(3, seed=7)
    c, _ = make_dataset(3, seed=8)
    assert torch.equal(a, b) and torch.equal(la, lb)
    assert not torch.equal(a, c)


def test_an_image_does_not_depend_on_the_other_classes_or_the_count():
    full, labels = make_dataset(4, seed=3)
    pair, pair_labels = make_dataset(2, seed=3, classes=("ring", "dots"))
    ring = full[labels == CLASSES.index("ring")][:2]
    assert torch.equal(pair[pair_labels == 0], ring)


def test_shapes_dtypes_ranges_and_balance():
    x, y = make_dataset(5, seed=0)
    assert x.shape == (50, 3, 64, 64) and x.dtype == torch.float32
    assert y.shape == (50,) and y.dtype == torch.long
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert torch.bincount(y, minlength=10).tolist() == [5] * 10
    u, _ = make_dataset_uint8(5, seed=0)
    assert u.dtype == torch.uint8 and torch.equal(u.float() / 255, x)
    assert float(x.std(dim=(1, 2, 3)).min()) > 0.02  # every image shows something


def test_render_returns_hwc_float_and_does_not_touch_global_rng():
    state = np.random.get_state()
    torch_state = torch.random.get_rng_state()
    img = render("star", np.random.default_rng(0), size=48)
    assert img.shape == (48, 48, 3) and img.dtype == np.float32
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def _gradient_energy(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return per-image mean squared differences along rows (d/dy) and along columns (d/dx)."""
    gray = images.mean(1)  # (N, H, W)
    dy = (gray[:, 1:] - gray[:, :-1]).pow(2).mean((1, 2))
    dx = (gray[:, :, 1:] - gray[:, :, :-1]).pow(2).mean((1, 2))
    return dy, dx


def test_horizontal_stripes_change_along_y_and_vertical_along_x():
    x, y = make_dataset(40, seed=11, classes=("horizontal stripes", "vertical stripes"))
    dy, dx = _gradient_energy(x)
    horizontal, vertical = y == 0, y == 1
    assert float((dy[horizontal] > dx[horizontal]).float().mean()) >= 0.95
    assert float((dx[vertical] > dy[vertical]).float().mean()) >= 0.95


def test_a_circle_is_filled_and_a_ring_is_not():
    """Is the middle of the shape background-coloured? Yes for a ring, no for a filled disc."""
    rng = np.random.default_rng(0)
    hollow = {"circle": 0, "ring": 0}
    for cls in hollow:
        for _ in range(30):
            img = render(cls, rng, 64)  # (H, W, 3)
            corners = np.concatenate([img[:4, :4], img[:4, -4:], img[-4:, :4], img[-4:, -4:]])
            dist = np.linalg.norm(img - np.median(corners.reshape(-1, 3), 0), axis=2)  # (H, W)
            shape = dist > 0.5 * np.percentile(dist, 99)
            ys, xs = np.nonzero(shape)
            cy, cx = round(ys.mean()), round(xs.mean())
            hollow[cls] += bool(shape[cy - 1 : cy + 2, cx - 1 : cx + 2].mean() < 0.5)
    assert hollow["circle"] <= 2 and hollow["ring"] >= 27, hollow


def test_unknown_class_and_bad_counts_are_person_errors():
    with pytest.raises(DatasetError, match="Unknown class"):
        make_dataset(1, 0, classes=("circle", "hexagon"))
    with pytest.raises(DatasetError, match="only once"):
        make_dataset(1, 0, classes=("circle", "circle"))
    with pytest.raises(DatasetError, match="n_per_class"):
        make_dataset(-1, 0)
    with pytest.raises(DatasetError):
        render("blob", np.random.default_rng(0))
    assert issubclass(DatasetError, ValueError)


@pytest.mark.parametrize("size", [(200, 100), (100, 300), (64, 64), (7, 5), (1000, 999)])
def test_preprocess_crops_the_centre_square_and_resizes(size):
    width, height = size
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = preprocess(Image.fromarray(arr))
    assert out.shape == (3, 64, 64) and out.dtype == torch.float32
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = Image.fromarray(arr[top : top + side, left : left + side])
    ref = np.asarray(square.resize((64, 64), Image.Resampling.LANCZOS, reducing_gap=3.0))
    assert torch.allclose(out, torch.from_numpy(ref / 255).permute(2, 0, 1).float())


def test_preprocess_keeps_the_centre_and_drops_the_sides():
    arr = np.zeros((100, 300, 3), dtype=np.uint8)
    arr[:, 100:200] = 255  # a white centre square between black sides
    out = preprocess(Image.fromarray(arr))
    assert float(out.min()) > 0.99


def test_preprocess_converts_other_modes_and_refuses_non_images():
    gray = Image.fromarray(np.full((30, 40), 128, dtype=np.uint8))
    out = preprocess(gray)
    assert out.shape == (3, 64, 64) and torch.allclose(out, torch.full_like(out, 128 / 255))
    with pytest.raises(DatasetError, match="PIL image"):
        preprocess(np.zeros((64, 64, 3)))
