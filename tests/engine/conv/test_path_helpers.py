"""The conv helpers the learning path's prompts use, against brute force."""

import numpy as np
import pytest
import torch

from engine.conv import (
    AGE_KERNELS,
    NOTICEABLE,
    ConvConfigError,
    age_kernel,
    flip_change,
    is_flip_symmetric,
    make_kernel,
    samples_that_count,
)


@pytest.mark.parametrize("kind", AGE_KERNELS)
@pytest.mark.parametrize(("width", "length"), [(0.5, 60), (4.0, 20), (20.0, 5), (3.0, 1)])
def test_samples_that_count_is_a_loop_over_the_weights(kind, width, length):
    w = age_kernel(kind, width, length)
    by_hand = 0
    for weight in w:
        if weight >= NOTICEABLE * w[0]:
            by_hand += 1
    assert samples_that_count(w) == by_hand


def test_samples_that_count_on_both_sides_of_the_share():
    w = np.array([0.5, 0.3, 0.05, 0.15])  # 0.05 is exactly a tenth of 0.5: it counts
    assert samples_that_count(w, share=0.1) == 4
    assert samples_that_count(w, share=0.11) == 3
    assert samples_that_count(w, share=0.7) == 1


def test_exponential_counts_the_closed_form():
    width, length = 4.0, 60  # exp(-a/width) >= share  <=>  a <= width * ln(1/share)
    expected = int(np.floor(width * np.log(1 / NOTICEABLE))) + 1
    assert samples_that_count(age_kernel("exponential", width, length)) == expected


def test_samples_that_count_refuses_no_weights():
    with pytest.raises(ConvConfigError):
        samples_that_count(np.array([]))


@pytest.mark.parametrize(
    "name", ["sobel x", "box blur", "gaussian", "laplacian", "emboss", "gabor"]
)
@pytest.mark.parametrize("size", [3, 5, 7])
def test_flip_change_is_zero_exactly_for_flip_symmetric_kernels(name, size):
    kernel = make_kernel(name, size)
    by_hand = max(
        abs(float(kernel[i, j] - kernel[size - 1 - i, size - 1 - j]))
        for i in range(size)
        for j in range(size)
    )
    assert flip_change(kernel) == pytest.approx(by_hand)
    assert (flip_change(kernel) < 1e-6) == is_flip_symmetric(kernel)


def test_flip_change_of_an_asymmetric_kernel():
    kernel = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    assert flip_change(kernel) == 1.0  # the 1 lands on a 0 and the reverse
