"""The allocator tuning the app applies at start-up."""

import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

import torch

from runtime_tuning import (
    limit_torch_threads,
    lower_thread_priority,
    training_threads,
    tune_allocator,
)


def test_tune_allocator_fixes_glibc_thresholds_and_is_idempotent():
    result = tune_allocator()
    assert isinstance(result, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert result is True
        assert tune_allocator() is True  # every rerun of app.py calls it again


def test_limit_torch_threads_honours_the_environment_and_restores(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("EXPLORER_TORCH_THREADS", raising=False)
        assert limit_torch_threads() == 1 == torch.get_num_threads()
        monkeypatch.setenv("EXPLORER_TORCH_THREADS", "2")
        expected = min(2, os.cpu_count() or 1)
        assert limit_torch_threads() == expected == torch.get_num_threads()
        monkeypatch.setenv("EXPLORER_TORCH_THREADS", "lots")
        assert limit_torch_threads() == 1
        monkeypatch.setenv("EXPLORER_TORCH_THREADS", "0")
        assert limit_torch_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_training_threads_default_to_every_core_and_honour_the_environment(monkeypatch):
    cores = os.cpu_count() or 1
    monkeypatch.delenv("EXPLORER_TRAIN_THREADS", raising=False)
    monkeypatch.setenv("EXPLORER_MAX_JOBS", "1")  # one job at a time: it may use every core
    assert training_threads() == cores
    monkeypatch.setenv("EXPLORER_TRAIN_THREADS", "1")
    assert training_threads() == 1
    monkeypatch.setenv("EXPLORER_TRAIN_THREADS", "999")
    assert training_threads() == cores
    monkeypatch.setenv("EXPLORER_TRAIN_THREADS", "many")
    assert training_threads() == cores


def test_lower_thread_priority_changes_the_calling_thread_only():
    if not hasattr(os, "getpriority"):
        return
    seen = {}

    def lowered():
        seen["ok"] = lower_thread_priority(7)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=lowered)
    t.start()
    t.join(30)
    assert seen == {"ok": True, "nice": max(own, 7)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


def test_the_app_sets_a_passive_openmp_wait_before_torch_loads():
    """libgomp reads OMP_WAIT_POLICY once, when torch loads it: app.py must import runtime_tuning
    before anything imports torch, and runtime_tuning must set it (unless the operator did)."""
    code = (
        "import os, sys\n"
        "os.environ.pop('OMP_WAIT_POLICY', None)\n"
        "import streamlit\n"
        "assert 'torch' not in sys.modules\n"
        "import runtime_tuning\n"
        "assert 'torch' not in sys.modules\n"
        "print(os.environ['OMP_WAIT_POLICY'])\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "PASSIVE"
    imports = [
        line
        for line in (root / "app.py").read_text().splitlines()
        if line.startswith(("import ", "from "))
    ]
    assert imports[0] == "import streamlit as st"  # checked above: it loads no torch
    assert imports[1].startswith("from runtime_tuning import")
