"""Convolution as a matrix: M @ x against F.conv1d / F.conv2d, counts against closed forms."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from engine.conv import (
    ConvConfigError,
    conv_matrix_1d,
    conv_matrix_2d,
    conv_output_size,
    dense_matrix,
    matrix_stats,
)

gen = torch.Generator().manual_seed(0)


@pytest.mark.parametrize(
    "n,k,padding,stride",
    [(8, 3, 0, 1), (8, 3, 1, 1), (9, 4, 2, 2), (5, 5, 0, 1), (7, 1, 3, 3), (6, 3, 2, 1)],
)
def test_conv_matrix_1d_times_x_is_conv1d(n, k, padding, stride):
    kernel = torch.randn(k, generator=gen)
    x = torch.randn(n, generator=gen)
    m = conv_matrix_1d(n, kernel, padding, stride)
    expected = F.conv1d(x[None, None], kernel[None, None], padding=padding, stride=stride)[0, 0]
    assert m.shape == (expected.numel(), n)
    torch.testing.assert_close(m @ x, expected)


@pytest.mark.parametrize(
    "h,w,kh,kw,padding,stride",
    [
        (6, 6, 3, 3, 0, 1),
        (6, 5, 3, 3, 1, 1),
        (7, 8, 2, 3, 1, 2),
        (4, 4, 4, 4, 2, 3),
        (32, 32, 3, 3, 1, 1),
    ],
)
def test_conv_matrix_2d_times_flat_image_is_conv2d(h, w, kh, kw, padding, stride):
    kernel = torch.randn(kh, kw, generator=gen)
    image = torch.randn(h, w, generator=gen)
    m = conv_matrix_2d(h, w, kernel, padding, stride)
    expected = F.conv2d(image[None, None], kernel[None, None], padding=padding, stride=stride)
    assert m.shape == (expected.numel(), h * w)
    torch.testing.assert_close(m @ image.flatten(), expected.flatten(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("n,k,padding,stride,dilation", [(9, 3, 0, 1, 2), (10, 3, 2, 2, 3)])
def test_dilated_conv_matrix_1d_times_x_is_conv1d(n, k, padding, stride, dilation):
    kernel = torch.randn(k, generator=gen)
    x = torch.randn(n, generator=gen)
    m = conv_matrix_1d(n, kernel, padding, stride, dilation)
    expected = F.conv1d(
        x[None, None], kernel[None, None], padding=padding, stride=stride, dilation=dilation
    )[0, 0]
    assert m.shape == (expected.numel(), n)
    torch.testing.assert_close(m @ x, expected)


def _page_settings():
    """Yield every (n, k, p, s, d) the padding/stride/dilation page offers that fits the input."""
    for n, k, p, s, d in itertools.product(
        range(2, 10), range(1, 6), range(5), range(1, 5), range(1, 4)
    ):
        if d * (k - 1) + 1 <= n + 2 * p:
            yield n, k, p, s, d


def test_conv_matrix_2d_matches_conv2d_at_every_page_setting_including_dilation():
    settings = list(_page_settings())
    assert sum(d > 1 for *_, d in settings) > 1000  # the sweep really covers dilation
    for n, k, p, s, d in settings:
        kernel = torch.randn(k, k, generator=gen)
        image = torch.randn(n, n, generator=gen)
        m = conv_matrix_2d(n, n, kernel, p, s, d)
        expected = F.conv2d(
            image[None, None], kernel[None, None], padding=p, stride=s, dilation=d
        ).flatten()
        assert m.shape == (expected.numel(), n * n), (n, k, p, s, d)
        torch.testing.assert_close(m @ image.flatten(), expected, atol=1e-5, rtol=1e-5)


def test_the_reported_dilated_case_has_one_row_per_output_cell():
    # n = 7, k = 3, p = 0, d = 2, s = 2: a 2×2 output, so 4 rows (the old matrix ignored d: 9 rows)
    n_out = conv_output_size(7, 3, 0, 2, 2)
    assert n_out == 2
    assert conv_matrix_2d(7, 7, torch.ones(3, 3), 0, 2, 2).shape == (4, 49)


def test_stats_of_a_valid_1d_conv_matrix_follow_the_closed_form():
    n, k = 20, 4
    kernel = torch.tensor([0.5, -1.0, 2.0, 3.0])  # no zeros, all different
    stats = matrix_stats(conv_matrix_1d(n, kernel))
    n_out = n - k + 1
    assert stats == {
        "entries": n_out * n,
        "nonzero": n_out * k,
        "distinct_nonzero_values": k,
        "sparsity": pytest.approx(1 - k / n),
    }


def test_stats_of_a_valid_2d_conv_matrix_follow_the_closed_form():
    h, w, k = 10, 12, 3
    kernel = torch.arange(1.0, k * k + 1).reshape(k, k)
    stats = matrix_stats(conv_matrix_2d(h, w, kernel))
    n_out = (h - k + 1) * (w - k + 1)
    assert stats["entries"] == n_out * h * w
    assert stats["nonzero"] == n_out * k * k
    assert stats["distinct_nonzero_values"] == k * k
    assert stats["sparsity"] == pytest.approx(1 - k * k / (h * w))


def test_dense_matrix_is_seeded_dense_and_scaled():
    a, b = dense_matrix(64, 400, seed=1), dense_matrix(64, 400, seed=1)
    assert a.shape == (64, 400) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, dense_matrix(64, 400, seed=2))
    stats = matrix_stats(a)
    assert stats["nonzero"] == stats["entries"] == 64 * 400
    assert stats["distinct_nonzero_values"] > 0.99 * 64 * 400  # float32 draws rarely collide
    assert stats["sparsity"] == 0.0
    assert float(a.std()) == pytest.approx(400**-0.5, rel=0.05)


def test_matrix_stats_counts_by_hand():
    m = torch.tensor([[0.0, 2.0, 2.0], [0.0, 0.0, -1.0]])
    assert matrix_stats(m) == {
        "entries": 6,
        "nonzero": 3,
        "distinct_nonzero_values": 2,
        "sparsity": 0.5,
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv_matrix_2d(33, 32, torch.ones(3, 3)),  # over the 1024-input cap
        lambda: conv_matrix_2d(4, 4, torch.ones(5, 5)),  # kernel larger than the input
        lambda: conv_matrix_2d(4, 4, torch.ones(3)),
        lambda: conv_matrix_1d(4, torch.ones(3, 3)),
        lambda: conv_matrix_1d(0, torch.ones(3)),
        lambda: conv_matrix_1d(8, torch.ones(3), stride=0),
        lambda: conv_matrix_1d(8, torch.tensor([1.0, float("inf")])),
        lambda: conv_matrix_1d(4000, torch.ones(3), padding=2000),  # too many entries
        lambda: dense_matrix(0, 5),
        lambda: dense_matrix(5000, 5000),
        lambda: matrix_stats(torch.ones(3)),
    ],
)
def test_bad_matrix_requests_raise_conv_config_error(call):
    with pytest.raises(ConvConfigError):
        call()


def test_matrix_claims_at_both_sides_of_each_threshold():
    from engine.conv import matrix_claims

    # all distinct, no zeros: neither sparse nor shared
    assert matrix_claims(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == {
        "sparse": False,
        "shared": False,
        "most_uses": 1,
    }
    # one zero and one repeat: both claims hold, and 2.0 fills two entries
    assert matrix_claims(torch.tensor([[0.0, 2.0], [2.0, 4.0]])) == {
        "sparse": True,
        "shared": True,
        "most_uses": 2,
    }
    assert matrix_claims(torch.zeros(2, 2)) == {"sparse": True, "shared": False, "most_uses": 0}


def test_matrix_claims_of_conv_and_dense_count_reuse_by_brute_force():
    from engine.conv import matrix_claims

    kernel = torch.tensor([0.5, -1.0, 1.5])
    conv = conv_matrix_1d(8, kernel)
    uses = max(int((conv == v).sum()) for v in kernel)
    assert uses == 8 - 3 + 1  # each weight once per output
    assert matrix_claims(conv) == {"sparse": True, "shared": True, "most_uses": uses}
    assert matrix_claims(dense_matrix(6, 8, seed=0)) == {
        "sparse": False,
        "shared": False,
        "most_uses": 1,
    }
