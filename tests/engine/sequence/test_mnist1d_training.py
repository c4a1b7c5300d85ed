"""MNIST-1D data and fit_mnist1d: shapes, no disk or network, seeds, the shuffled-time ablation."""

from __future__ import annotations

import os
import random
import socket
import urllib.request

import numpy as np
import pytest
import torch

from engine.core import one_thread, seeded
from engine.sequence import (
    ARCHS,
    BATCH,
    LEARNING_RATE,
    PUBLISHED_ACCURACY,
    TrainingConfigError,
    UnknownArchError,
    arrays,
    build_model,
    count_parameters,
    examples_per_class,
    fit_mnist1d,
    load_mnist1d,
    mnist1d_data,
    tcn_dilations,
    time_permutation,
)


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("a network call was attempted")


def test_generates_in_memory_without_disk_network_or_global_rng(tmp_path, monkeypatch):
    import requests

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    monkeypatch.setattr(requests, "get", _no_network)
    monkeypatch.setattr(mnist1d_data, "_cache", {})  # force a fresh generation inside this test
    np.random.seed(123)
    random.seed(123)
    np_before, py_before = np.random.get_state(), random.getstate()
    data = load_mnist1d()
    assert data.x_train.shape == (4000, 40) and data.x_test.shape == (1000, 40)
    assert data.y_train.shape == (4000,) and data.y_test.shape == (1000,)
    assert data.templates.shape == (10, 12) and data.t.shape == (40,)
    assert set(np.unique(data.y_train)) == set(range(10))
    assert not data.x_train.flags.writeable
    assert np.random.get_state()[1].tolist() == np_before[1].tolist()
    assert random.getstate() == py_before
    result = fit_mnist1d("linear", steps=5)
    assert result.steps == 5
    assert os.listdir(tmp_path) == []


def test_load_is_cached_and_matches_the_package():
    from mnist1d.data import get_dataset_args, make_dataset

    assert load_mnist1d() is load_mnist1d()
    state = np.random.get_state()
    reference = make_dataset(get_dataset_args())
    np.random.set_state(state)
    np.testing.assert_allclose(load_mnist1d().x_test, reference["x_test"], rtol=1e-6, atol=1e-6)


def test_examples_per_class():
    x, index = examples_per_class(2)
    assert x.shape == (10, 2, 40)
    assert (load_mnist1d().y_train[index] == np.arange(10)[:, None]).all()


def test_shuffle_time_applies_one_permutation_to_train_and_test():
    perm = time_permutation()
    assert sorted(perm.tolist()) == list(range(40)) and (perm != np.arange(40)).any()
    np.testing.assert_array_equal(perm, time_permutation())
    x_tr, y_tr, x_te, y_te = arrays(shuffle_time=True)
    data = load_mnist1d()
    np.testing.assert_array_equal(x_tr, data.x_train[:, perm])
    np.testing.assert_array_equal(x_te, data.x_test[:, perm])
    np.testing.assert_array_equal(y_tr, data.y_train)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_classifies_and_is_about_5k(arch):
    model = build_model(arch)
    assert model(torch.zeros(3, 40)).shape == (3, 10)
    n = count_parameters(model)
    assert n == 410 if arch == "linear" else 4_500 <= n <= 5_500


def test_building_leaves_the_global_torch_rng_alone():
    state = torch.random.get_rng_state()
    a, b = build_model("gru", seed=1), build_model("gru", seed=1)
    assert torch.equal(state, torch.random.get_rng_state())
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_tcn_dilations_cover_the_sequence():
    assert tcn_dilations(40) == (1, 2, 4, 8, 16)
    for length in (2, 3, 40, 100, 4000):
        d = tcn_dilations(length)
        assert 1 + 2 * sum(d) >= length > 1 + 2 * sum(d[:-1])


def test_cnn_beats_linear_on_a_short_run():
    cnn, linear = fit_mnist1d("cnn", steps=300), fit_mnist1d("linear", steps=300)
    assert cnn.test_accuracy > linear.test_accuracy + 0.3
    assert 0.2 < linear.test_accuracy < 0.45  # the published logistic regression: 32%
    assert cnn.n_params > 10 * linear.n_params


def test_shuffling_time_hurts_the_cnn():
    ordered = fit_mnist1d("cnn", steps=300)
    shuffled = fit_mnist1d("cnn", steps=300, shuffle_time=True)
    assert shuffled.shuffle_time and shuffled.published_accuracy == 0.56
    assert ordered.test_accuracy > shuffled.test_accuracy + 0.1


@pytest.mark.parametrize(("arch", "steps"), [("cnn", 30), ("gru", 4)])
def test_seeded_runs_repeat_exactly(arch, steps):
    def curve(seed: int) -> list[tuple[int, float, float, float]]:
        result = fit_mnist1d(arch, steps=steps, seed=seed)
        return [(h.step, h.loss, h.train_acc, h.test_acc) for h in result.history]

    first = curve(3)
    assert first == curve(3)
    assert first != curve(4)


def test_history_and_progress_stop():
    calls = []

    def progress(step, total, metrics):
        calls.append((step, total, sorted(metrics)))
        return step >= 40

    result = fit_mnist1d("mlp", steps=200, progress=progress)
    assert calls[0] == (0, 200, ["loss", "seconds", "test_acc", "train_acc"])
    assert result.stopped_early and result.steps == 40 and result.requested_steps == 200
    assert [h.step for h in result.history] == [0, 8, 16, 24, 32, 40]
    assert result.test_accuracy == result.history[-1].test_acc
    full = fit_mnist1d("linear", steps=30)
    assert not full.stopped_early and full.history[-1].step == 30
    seconds = [h.seconds for h in full.history]
    assert seconds == sorted(seconds)


def test_training_matches_a_hand_written_adam_loop():
    """Reference: the loop written out, minibatches cut from one permutation per epoch of 4,000."""
    steps = 45  # crosses the end of the first permutation (40 batches of 100)
    x_tr, y_tr, x_te, y_te = (torch.tensor(a) for a in arrays())
    model = build_model("linear", 40, seed=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    gen, batches = seeded(2), []
    while len(batches) < steps:
        perm = torch.randperm(len(x_tr), generator=gen)
        batches += [perm[i : i + BATCH] for i in range(0, len(x_tr), BATCH)]
    with one_thread():
        for idx in batches[:steps]:
            loss = torch.nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            expected = int((model(x_te).argmax(1) == y_te).sum()) / len(y_te)
    result = fit_mnist1d("linear", steps=steps, seed=2)
    assert result.test_accuracy == pytest.approx(expected, abs=1e-9)
    assert result.steps == steps and result.history[-1].step == steps


def test_threads_restored():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
        with one_thread():
            pass
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arch": "transformer"},
        {"arch": "cnn", "steps": 0},
        {"arch": "cnn", "steps": True},
        {"arch": "cnn", "steps": 2.5},
        {"arch": "cnn", "steps": 10**9},
        {"arch": "cnn", "seed": -1},
    ],
)
def test_bad_settings_raise_value_errors(kwargs):
    with pytest.raises((TrainingConfigError, UnknownArchError)):
        fit_mnist1d(**kwargs)


def test_published_ordering_constant():
    p = PUBLISHED_ACCURACY
    assert p["linear"] < p["mlp"] < p["gru"] < p["cnn"] < p["human"]
