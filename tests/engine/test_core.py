"""engine.core's thread and device helpers, checked against what torch reports in each thread."""

from __future__ import annotations

import threading

import torch

from engine.core import default_device, intra_op_threads

WAIT = 30.0  # seconds; only reached when something is broken


def _in_thread(fn):
    """Run fn on a fresh thread and return its result."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("value", fn()))
    t.start()
    t.join(WAIT)
    return out["value"]


def test_intra_op_threads_change_only_the_calling_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    inside, entered, leave = {}, threading.Event(), threading.Event()

    def job():
        with intra_op_threads(2):
            inside["entered"] = torch.get_num_threads()
            entered.set()
            leave.wait(WAIT)
            x = torch.rand(64, 64)
            (x @ x).sum()  # a parallel op after others changed their counts
            inside["later"] = torch.get_num_threads()
        inside["after"] = torch.get_num_threads()

    try:
        worker = threading.Thread(target=job)
        worker.start()
        assert entered.wait(WAIT)
        assert _in_thread(torch.get_num_threads) == 1  # a new script thread starts with one
        torch.set_num_threads(1)  # what app.py does at the start of every script run
        leave.set()
        worker.join(WAIT)
        assert inside == {"entered": 2, "later": 2, "after": 1}
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_intra_op_threads_restores_after_an_error():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        try:
            with intra_op_threads(2):
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_default_device_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")
