"""Small summaries the trained-CNN page shows: runner-up, loudest layer, a blank Grad-CAM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cnn import CNNError, cam_is_blank, loudest_layer, runner_up


@pytest.mark.parametrize("seed", range(5))
def test_runner_up_is_the_second_of_a_full_sort(seed):
    p = torch.softmax(torch.randn(10, generator=torch.Generator().manual_seed(seed)), 0)
    assert runner_up(p) == int(sorted(range(10), key=lambda i: -float(p[i]))[1])


def test_runner_up_of_ties_and_of_one_class():
    assert runner_up(np.array([0.4, 0.4, 0.2])) == 1
    with pytest.raises(CNNError):
        runner_up(np.array([1.0]))


def test_loudest_layer_reads_magnitudes_not_signs():
    maps = {"a": np.array([[1.0, -0.5]]), "b": np.array([[-3.0, 2.0]]), "c": np.zeros((2, 2))}
    assert loudest_layer(maps) == ("b", 3.0)
    with pytest.raises(CNNError):
        loudest_layer({})


def test_a_blank_grad_cam_is_all_zero_and_one_positive_pixel_is_not():
    cam = np.zeros((8, 8))
    assert cam_is_blank(cam)
    cam[3, 4] = 1e-9
    assert not cam_is_blank(cam)
    assert cam_is_blank(torch.zeros(4, 4))
