"""engine.flops: FLOPs counted as torch counts them, leaving other threads' autograd alone."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine.flops import flop_counter


def test_a_convolution_counts_two_flops_per_multiply_add():
    conv = nn.Conv2d(3, 8, 5, padding=2)
    with flop_counter() as counter, torch.no_grad():
        conv(torch.zeros(1, 3, 16, 16))
    assert counter.get_total_flops() == 2 * (8 * 3 * 5 * 5) * 16 * 16  # closed form
    per_module = counter.get_flop_counts()
    assert sum(per_module["Conv2d"].values()) == counter.get_total_flops()


def _grad_while_counting_elsewhere(make_counter) -> tuple[torch.Tensor, nn.Linear]:
    """Return (d(sum of a linear layer)/d(input), the layer), the gradient taken while another
    thread is inside a counter."""
    entered, done = threading.Event(), threading.Event()

    def counting() -> None:
        with make_counter():
            entered.set()
            done.wait(timeout=60)

    other = threading.Thread(target=counting)
    other.start()
    try:
        assert entered.wait(60)
        layer = nn.Linear(4, 3)
        x = torch.ones(2, 4, requires_grad=True)
        (grad,) = torch.autograd.grad(layer(x).sum(), x)
        return grad, layer
    finally:
        done.set()
        other.join()


def test_another_threads_autograd_is_untouched():
    grad, layer = _grad_while_counting_elsewhere(flop_counter)
    expected = layer.weight.detach().sum(0).expand(2, 4)  # d/dx of sum(x W^T + b)
    assert torch.allclose(grad, expected)


def test_torchs_own_counter_breaks_it_which_is_why_this_module_exists():
    with pytest.raises(RuntimeError, match="_will_engine_execute_node"):
        _grad_while_counting_elsewhere(lambda: FlopCounterMode(display=False))
