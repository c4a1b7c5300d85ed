"""Sequential depth, timing, a typed sequence through both, n-gram filters, synthetic tasks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from engine.sequence import (
    MAX_LENGTH,
    TASKS,
    ConvBase,
    SequenceError,
    build_model,
    conv_stack,
    count_parameters,
    kmax_over_time,
    make_batch,
    ngram_filters,
    parse_sequence,
    sequential_steps,
    synthetic_task,
    through_both,
    time_per_batch,
)


def _positive(module: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(0.1)  # positive weights and inputs: ReLUs pass, no gradient cancels
    return module


def _span(output_unit: torch.Tensor, x: torch.Tensor) -> tuple[int, int]:
    (grad,) = torch.autograd.grad(output_unit, x, retain_graph=True)
    hit = torch.nonzero(grad.reshape(-1)).reshape(-1)
    return int(hit.min()), int(hit.max())


@pytest.mark.parametrize(("arch", "length"), [("cnn", 40), ("cnn", 300), ("cnn_plain", 21)])
def test_field_per_layer_matches_a_gradient_probe(arch, length):
    depth = sequential_steps(arch, length)
    stack = _positive(conv_stack(arch, length))
    probe_len = 4 * depth.layers[-1].field + 64  # long enough that a middle unit is never clipped
    x = torch.ones(1, 1, probe_len, requires_grad=True)
    h = x
    for layer, conv in zip(depth.layers, stack, strict=True):
        h = conv(h)
        lo, hi = _span(h[0, 0, h.shape[-1] // 2], x)
        assert hi - lo + 1 == layer.field
    assert depth.layers[-1].field >= length
    assert len(depth.layers) == 1 or depth.layers[-2].field < length
    assert depth.steps == len(depth.layers) == len(depth.fields)


def test_mnist1d_cnn_fields_match_the_real_model():
    model = _positive(ConvBase(200))
    x = torch.ones(1, 200, requires_grad=True)
    fields = [layer.field for layer in sequential_steps("cnn", 40).layers]
    assert fields == [5, 9, 17, 33, 65]  # the model's three layers, then two more to cover 40
    for layer_map, field in zip(model.features(x), fields[:3], strict=True):
        lo, hi = _span(layer_map[0, 0, layer_map.shape[-1] // 2], x)
        assert hi - lo + 1 == field


@pytest.mark.parametrize("length", [40, 100])
def test_tcn_last_step_sees_the_whole_sequence_after_log_layers(length):
    model = _positive(build_model("tcn", length))
    x = torch.ones(1, length, requires_grad=True)
    depth = sequential_steps("tcn", length)
    assert depth.steps == len(model.convs) == math.ceil(math.log2((length + 1) / 2))
    for layer_map, field in zip(model.features(x), depth.fields, strict=True):
        lo, hi = _span(layer_map[0, 0, -1], x)
        assert (lo, hi) == (length - field, length - 1)  # causal: the field lies in the past


def test_recurrent_depth_is_the_length():
    depth = sequential_steps("gru", 4000)
    assert depth.steps == 4000 and depth.fields[-1] == 4000 and not depth.parallel_over_time
    assert sequential_steps("tcn", 4000).steps == 11
    assert sequential_steps("cnn_plain", 4000).steps == 2000
    assert sequential_steps("cnn", 4000).steps < 12
    for bad in [("transformer", 40), ("gru", 0), ("cnn", 10**9), ("cnn", 2.5)]:
        with pytest.raises(SequenceError):
            sequential_steps(*bad)


@pytest.mark.parametrize("length", [1, 2, 3, 4, 40, 41, 1000])
def test_plain_cnn_layers_are_plain_kernel_wide_and_just_enough(length):
    from engine.sequence import PLAIN_KERNEL

    depth = sequential_steps("cnn_plain", length)
    assert all(layer.kernel == PLAIN_KERNEL for layer in depth.layers)
    fewest = next(n for n in range(1, length + 2) if 1 + n * (PLAIN_KERNEL - 1) >= length)
    assert depth.steps == fewest  # by counting: each layer widens the field by k - 1


def test_time_per_batch_reports_each_length():
    for arch in ("cnn", "gru"):
        out = time_per_batch(arch, (40, 200), batch=4, repeat=1)
        assert out["lengths"] == [40, 200] and len(out["seconds"]) == 2
        assert all(s > 0 for s in out["seconds"])
        assert out["n_params"][0] == count_parameters(build_model(arch))
    with pytest.raises(SequenceError):
        time_per_batch("cnn", (40, 20_000))
    with pytest.raises(SequenceError):
        time_per_batch("gru", (10_000,), batch=256, repeat=20)


def test_kmax_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(40):
        length, k = int(rng.integers(1, 8)), int(rng.integers(1, 5))
        maps = rng.integers(0, 3, size=(3, length)).astype(float)  # many ties
        values, positions = kmax_over_time(maps, k)
        for row, vals, pos in zip(maps, values, positions, strict=True):
            kk = min(k, length)
            best = max(
                itertools.combinations(range(length), kk),
                key=lambda c: (sorted(row[list(c)], reverse=True), [-i for i in c]),
            )
            assert tuple(pos) == best and list(pos) == sorted(pos)
            np.testing.assert_array_equal(vals, row[list(best)])
            top = torch.topk(torch.tensor(row), kk).values.numpy()
            np.testing.assert_array_equal(np.sort(vals), np.sort(top))


def test_through_both_against_closed_forms():
    values = parse_sequence("1, 3, 2, 5, 4, 8, 1, 0, 2")
    out = through_both(values, seed=1)
    x = (values - values.mean()) / values.std()
    padded = np.pad(x, 1)
    rise = np.maximum(padded[2:] - padded[:-2], 0)
    np.testing.assert_allclose(out["cnn_maps"][0][0], rise, atol=1e-6)
    assert out["cnn_fields"] == [3, 5]
    assert out["cnn_windows"][1].tolist()[:3] == [[0, 2], [0, 3], [0, 4]]
    assert out["cnn_windows"][1].tolist()[-1] == [6, 8]
    assert out["kmax_values"].shape == (4, 3) and out["cnn_final"].shape == (12,)
    np.testing.assert_array_equal(out["rnn_final"], out["rnn_hidden"][-1])
    assert out["rnn_hidden"].shape == (9, 4) and np.abs(out["rnn_hidden"]).max() < 1
    assert out["sequential_steps"] == {"cnn": 2, "rnn": 9}
    again, other = through_both(values, seed=1), through_both(values, seed=2)
    np.testing.assert_array_equal(again["rnn_hidden"], out["rnn_hidden"])
    assert not np.array_equal(other["rnn_hidden"], out["rnn_hidden"])


def test_through_both_tiny_and_flat_sequences():
    one = through_both(np.array([7.0]))
    assert one["kmax_k"] == 1 and one["rnn_hidden"].shape == (1, 4)
    flat = through_both(np.full(5, 3.0))
    assert (flat["x"] == 0).all()
    for bad in [np.array([]), np.array([1.0, np.nan]), np.zeros(MAX_LENGTH + 1), [1e300, -1e300]]:
        with pytest.raises(SequenceError):
            through_both(bad)
    with pytest.raises(SequenceError):
        through_both([1.0, 2.0], seed=-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 3, 2, 5", [1, 3, 2, 5]),
        ("1;2 ;3\n4\t5", [1, 2, 3, 4, 5]),
        ("  -1.5e1, +.5 ", [-15, 0.5]),
        ("\u22122, 7", [-2, 7]),
        ("42", [42]),
        (",,1,,", [1]),
    ],
)
def test_parse_sequence_reads_numbers(text, expected):
    np.testing.assert_array_equal(parse_sequence(text), expected)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        (" ,; ", "empty"),
        ("1, two, 3", "Item 2"),
        ("1, NaN", "NaN"),
        ("inf", "infinity"),
        ("1 😀 2", "“😀”"),
        (", ".join(["1"] * 100_000), "limit"),
        ("1e400", "between"),
        ("1e13", "between"),
        ("0x10", "Item 1"),
        ("1_000", "Item 1"),
        (None, "text"),
    ],
)
def test_parse_sequence_refuses_with_a_message(text, words):
    with pytest.raises(SequenceError, match=words):
        parse_sequence(text)


def test_designed_ngram_filters_fire_exactly_on_their_ngram():
    text = "the cat sat on the mat"
    out = ngram_filters(text, n=3, targets=("the", "at ", "zzz"))
    for name, fires, matches in zip(out.filter_names, out.fires, out.matches, strict=True):
        assert list(fires) == [i for i, w in enumerate(out.windows) if w == name]
        agree = [sum(a == b for a, b in zip(w, name, strict=True)) for w in out.windows]
        np.testing.assert_array_equal(matches, agree)
    assert out.fires[2] == () and out.pooled.tolist() == [1.0, 1.0, 0.0]
    assert out.windows[0] == "the" and len(out.windows) == len(text) - 2


def test_ngram_filters_words_defaults_and_random():
    out = ngram_filters("the cat and the dog and the cat", n=2, unit="word")
    assert out.filter_names[0] == "the cat" and out.fires[0] == (0, 6)
    rand = ngram_filters("hello world", n=2, random_filters=True, seed=3)
    again = ngram_filters("hello world", n=2, random_filters=True, seed=3)
    np.testing.assert_array_equal(rand.activations, again.activations)
    assert rand.activations.shape == (4, 10) and (rand.activations >= 0).all()
    for kwargs in [
        {"text": ""},
        {"text": "ab", "n": 3},
        {"text": "abc", "unit": "byte"},
        {"text": "abc", "n": 2, "targets": ("abc",)},
        {"text": "x" * 6000},
    ]:
        with pytest.raises(SequenceError):
            ngram_filters(**kwargs)


def test_task_batches_have_the_labels_they_claim():
    g = torch.Generator().manual_seed(0)
    x, y = make_batch("motif", 200, g)
    windows = x.unfold(1, 3, 1)  # (n, T-2, 3)
    has_motif = (windows == torch.tensor([3.0, -3.0, 3.0])).all(-1).any(-1)
    assert torch.equal(has_motif.long(), y) and x.shape == (200, TASKS["motif"].length)
    x, y = make_batch("majority", 200, g)
    assert set(x.unique().tolist()) == {-1.0, 1.0} and set(x.sum(1).tolist()) == {-1.0, 1.0}
    assert torch.equal((x.sum(1) > 0).long(), y)


def test_each_model_wins_its_task():
    assert synthetic_task("motif", "cnn", steps=60).accuracy > 0.95
    assert synthetic_task("motif", "rnn", steps=60).accuracy < 0.7
    gru = synthetic_task("majority", "gru", steps=150)
    cnn = synthetic_task("majority", "cnn", steps=150)
    assert gru.accuracy > 0.9  # the GRU counts the whole sequence
    assert cnn.accuracy < 0.8  # the CNN's few local windows cannot count it
    assert gru.history[0].step == 0 and gru.history[-1].step == 150
    stopped = synthetic_task("motif", "cnn", steps=100, progress=lambda s, t, m: s >= 10)
    assert stopped.stopped_early and stopped.steps == 10
    with pytest.raises(SequenceError):
        synthetic_task("parity", "cnn")
