"""Training the small CNN, its ablations and the shift-robustness measurement.

References: an easy two-class problem the network must learn in a few dozen steps, determinism
under a fixed seed, a hand-built edge-padded shift, a loop of torch.roll predictions, and a
constant classifier (unchanged by any shift).
"""

import numpy as np
import pytest
import torch

from engine.cnn import (
    ABLATIONS,
    CNNConfig,
    CNNError,
    SmallCNN,
    TrainPoint,
    ablation_config,
    accuracy,
    bf16_supported,
    make_training_data,
    predict,
    shift_robustness,
    summarise_history,
    train,
)
from engine.cnn.training import _augment, _shift, _transpose_labels

STRIPES = ("horizontal stripes", "vertical stripes")
SMALL = CNNConfig(classes=STRIPES, depth_blocks=1, filters=6)


@pytest.fixture(scope="module")
def stripes():
    return make_training_data(STRIPES, n_per_class=40, n_val_per_class=20, seed=0)


def test_training_learns_an_easy_pair_and_reports_progress(stripes):
    calls = []
    result = train(
        SMALL,
        40,
        3e-3,
        batch=16,
        data=stripes,
        progress_every=10,
        progress=lambda s, n, p, m: calls.append((s, n, p)),
    )
    assert [c[0] for c in calls] == [10, 20, 30, 40] and all(c[1] == 40 for c in calls)
    assert all(isinstance(c[2], TrainPoint) for c in calls)
    assert [p.step for p in result.history] == [10, 20, 30, 40]
    assert result.steps_done == 40 and not result.stopped and result.seconds > 0
    assert result.history[-1].loss < result.history[0].loss
    assert result.val_acc >= 0.75  # chance is 0.5; seeds 0-5 reach 0.77-0.98 here
    assert result.val_acc == accuracy(result.model, stripes.val_images, stripes.val_labels)
    assert not result.model.training


def test_training_is_deterministic_per_seed(stripes):
    a = train(SMALL, 5, 1e-3, batch=8, seed=3, data=stripes)
    b = train(SMALL, 5, 1e-3, batch=8, seed=3, data=stripes)
    c = train(SMALL, 5, 1e-3, batch=8, seed=4, data=stripes)
    sa, sb, sc = (r.model.state_dict() for r in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_should_stop_ends_the_run_with_a_last_point(stripes):
    polls = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) > 7

    result = train(SMALL, 100, 1e-3, batch=8, data=stripes, should_stop=stop, progress_every=5)
    assert result.stopped and result.steps_done == 7
    assert [p.step for p in result.history] == [5, 7]


def test_every_ablation_builds_and_takes_a_step(stripes):
    assert set(ABLATIONS) >= {"baseline", "no pooling", "no ReLU", "1 block", "4 blocks"}
    base = CNNConfig(classes=STRIPES, filters=3)
    for name in ABLATIONS:
        config = ablation_config(name, base)
        result = train(config, 1, 1e-3, batch=4, data=stripes)
        assert result.steps_done == 1 and np.isfinite(result.history[-1].loss)
    assert ablation_config("no pooling", base).pool is False
    assert ablation_config("4 blocks").depth_blocks == 4
    with pytest.raises(CNNError, match="Unknown ablation"):
        ablation_config("no softmax")


def test_training_person_errors(stripes):
    with pytest.raises(CNNError, match="classes differ"):
        train(CNNConfig(classes=("circle", "ring")), 1, 1e-3, data=stripes)
    for kwargs in [{"steps": 0}, {"lr": 0.0}, {"lr": 2.0}, {"batch": 0}, {"steps": 1.5}]:
        args = {"steps": 1, "lr": 1e-3, **kwargs}
        with pytest.raises(CNNError):
            train(SMALL, args["steps"], args["lr"], batch=kwargs.get("batch", 4), data=stripes)


def test_edge_shift_matches_a_hand_built_image():
    x = torch.arange(2 * 5 * 6, dtype=torch.float32).reshape(1, 2, 5, 6)
    right = _shift(x, 2, 0, "edge")
    ref = x.clone()
    ref[..., 2:] = x[..., :-2]
    ref[..., :2] = x[..., :1]
    assert torch.equal(right, ref)
    up = _shift(x, 1, 3, "edge")
    ref = x.clone()
    ref[..., :-1, :] = x[..., 1:, :]
    ref[..., -1, :] = x[..., -1, :]
    assert torch.equal(up, ref)
    assert torch.equal(_shift(x, 3, 1, "circular"), torch.roll(x, -3, dims=-1))


def test_shift_robustness_counts_unchanged_predictions(stripes):
    model = SmallCNN(SMALL, seed=1).eval()
    images = stripes.val_images
    curve = shift_robustness(model, images, 3)
    assert curve.shape == (4,) and curve[0] == 1
    x = images.float() / 255
    base = predict(model, x)
    for s in (1, 3):
        moved = [torch.roll(x, a, dims=d) for a, d in ((s, -1), (-s, -1), (s, -2), (-s, -2))]
        same = np.mean([float((predict(model, m) == base).float().mean()) for m in moved])
        assert curve[s] == pytest.approx(same)


def test_a_constant_classifier_is_perfectly_shift_robust(stripes):
    model = SmallCNN(SMALL).eval()
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.copy_(torch.tensor([1.0, 0.0]))
    for mode in ("circular", "edge"):
        assert np.array_equal(shift_robustness(model, stripes.val_images, 5, mode), np.ones(6))
    with pytest.raises(CNNError):
        shift_robustness(model, stripes.val_images, 64)
    with pytest.raises(CNNError):
        shift_robustness(model, stripes.val_images, 2, "reflect")


def test_augmentation_keeps_every_label_true(stripes):
    """Mirrored stripes keep their orientation; transposed ones swap it, and so must the label."""
    x, y = stripes.train_images.float() / 255, stripes.train_labels
    g = torch.Generator().manual_seed(0)
    ax, ay = _augment(x, y, _transpose_labels(STRIPES), g)
    assert not torch.equal(ax, x) and not torch.equal(ay, y)  # some images were transposed
    gray = ax.mean(1)  # (N, H, W)
    dy = (gray[:, 1:] - gray[:, :-1]).pow(2).mean((1, 2))
    dx = (gray[:, :, 1:] - gray[:, :, :-1]).pow(2).mean((1, 2))
    horizontal = dy > dx  # the picture's own orientation, measured
    assert float((horizontal == (ay == 0)).float().mean()) >= 0.95
    # without its partner class a stripes image is never transposed
    alone = _transpose_labels(("horizontal stripes", "dots"))
    assert alone.tolist() == [-1, 1]
    ax, ay = _augment(x[y == 0], y[y == 0], alone, g)
    gray = ax.mean(1)
    dy = (gray[:, 1:] - gray[:, :-1]).pow(2).mean((1, 2))
    dx = (gray[:, :, 1:] - gray[:, :, :-1]).pow(2).mean((1, 2))
    assert float((dy > dx).float().mean()) >= 0.95 and bool((ay == 0).all())


def test_bfloat16_training_runs_where_the_cpu_has_it(stripes):
    if bf16_supported():
        result = train(SMALL, 3, 1e-3, batch=8, data=stripes, bf16=True)
        assert result.steps_done == 3 and np.isfinite(result.history[-1].loss)
        assert all(p.dtype == torch.float32 for p in result.model.parameters())
    else:
        with pytest.raises(CNNError, match="bfloat16"):
            train(SMALL, 3, 1e-3, batch=8, data=stripes, bf16=True)


def test_summarise_history_names_first_last_best_and_the_gap():
    points = [
        TrainPoint(10, 2.0, 0.30, 0.40),
        TrainPoint(20, 1.0, 0.60, 0.70),  # the best, tied later: the earliest counts
        TrainPoint(30, 0.8, 0.75, 0.70),
        TrainPoint(45, 0.5, 0.90, 0.65),
    ]
    s = summarise_history(points)
    assert (s.first, s.last, s.best) == (points[0], points[-1], points[1])
    assert s.last_steps == 15 and s.gap == pytest.approx(0.25)  # training above validation
    below = summarise_history([TrainPoint(7, 1.0, 0.5, 0.6)])
    assert below.last_steps == 7 and below.gap == pytest.approx(-0.1)  # training below
    with pytest.raises(CNNError, match="no training history"):
        summarise_history([])


def test_predict_matches_the_argmax_of_one_plain_forward_pass(stripes):
    model = SmallCNN(SMALL, seed=1).eval()
    images = torch.cat([stripes.val_images] * 4)  # 160 images: more than one evaluation chunk
    with torch.no_grad():
        plain = model(images.float() / 255).argmax(1)
    assert torch.equal(predict(model, images), plain)


def test_training_on_more_threads_learns_and_hands_back_a_cpu_model(stripes):
    before = torch.get_num_threads()
    seen = []
    result = train(
        SMALL,
        40,
        3e-3,
        batch=16,
        data=stripes,
        progress_every=20,
        progress=lambda s, n, p, m: seen.append(torch.get_num_threads()),
        threads=2,
        device="cpu",
    )
    assert seen == [2, 2]  # the run's own thread count while it trains
    assert torch.get_num_threads() == before  # and the caller's afterwards
    assert result.val_acc >= 0.75  # the same easy pair as above
    assert next(result.model.parameters()).device.type == "cpu"
    assert result.model.convs["conv1_1"].weight.is_contiguous()
