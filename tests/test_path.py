"""The learning path: menu order, previous/next links, and every predict-then-check prompt.

Each prompt is answered right and wrong in AppTest (both verdicts), and its answer is checked
against an independent computation (a torch layer, a brute-force count, a closed form).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.architectures import WEIGHTS_DIR_ENV, build
from engine.cnn import CNNConfig, SmallCNN
from engine.conv import NOTICEABLE, SHOWN_KERNEL_SIDE, make_kernel
from engine.receptive_field import VGG_LIKE_STACK
from engine.recurrent import KEEP_HALF, gradient_norms
from engine.sequence import CNN_LAYERS, SEQ_LEN, TAPS, sequential_steps
from tests.test_pages import open_page
from ui.cnn.models import shipped_model
from ui.links import edited_rows
from ui.navigation import all_topics
from ui.path import PROMPTS, cnn_prompts, neighbours
from ui.path.prompts import Posed, is_right, pose

ROOT = Path(__file__).resolve().parent.parent
BY_URL = {topic.url: topic for topic in all_topics()}


# --- the registry


def _widget_keys(path: str) -> list[re.Pattern]:
    """Return the widget keys a page script and the ui modules it imports name, as patterns
    (f-string parts match anything)."""
    source = (ROOT / path).read_text(encoding="utf-8")
    for package, module in re.findall(r"^from ui\.(\w+) import (\w+)", source, re.M):
        if (ROOT / "ui" / package / f"{module}.py").exists():
            source += (ROOT / "ui" / package / f"{module}.py").read_text(encoding="utf-8")
    keys = re.findall(r'key=(f?)"([^"]+)"', source)
    return [
        re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(k)) if f else re.escape(k))
        for f, k in keys
    ]


def test_every_topic_but_home_has_a_prompt_and_nothing_else_does():
    urls = [topic.url for topic in all_topics()]
    assert set(PROMPTS) == set(urls) - {""}
    assert all(PROMPTS[url] for url in PROMPTS)


@pytest.mark.parametrize("url", sorted(PROMPTS))
def test_every_key_a_prompt_reads_is_a_widget_key_of_its_page(url):
    patterns = _widget_keys(BY_URL[url].path)
    for prompt in PROMPTS[url]:
        for key in prompt.reads + prompt.optional:
            assert any(p.fullmatch(key) for p in patterns), (url, prompt.id, key)


def test_prompt_ids_are_unique():
    ids = [p.id for prompts in PROMPTS.values() for p in prompts]
    assert len(ids) == len(set(ids))


def test_the_menu_follows_the_books_chapters():
    urls = [topic.url for topic in all_topics()]
    chapters = [
        ["conv-1d", "kernels"],  # the convolution operation
        ["why-convolution", "equivariance"],  # motivation
        ["conv-layer", "pooling"],  # the layer and pooling
        ["kernel-sizes", "conv-arithmetic"],  # variants
        ["receptive-fields", "architectures", "your-weights"],
        ["trained-cnn", "train-cnn", "teach-classes"],  # a trained network
        ["rnn-unrolled"],
        ["lstm-gates"],
        ["rnn-gradients"],
        ["mnist-1d", "sequence-both"],  # CNN vs RNN
        ["autodiff", "dense-conv-recurrent"],  # frameworks
    ]
    assert urls == [""] + [url for chapter in chapters for url in chapter]


# --- previous / next


def test_neighbours_walk_the_menu_from_end_to_end():
    topics = all_topics()
    assert neighbours("") == (None, topics[1])
    assert neighbours(topics[-1].url) == (topics[-2], None)
    for before, here, after in zip(topics, topics[1:], topics[2:], strict=False):
        assert neighbours(here.url) == (before, after)


def _link_labels(at) -> list[str]:
    return [link.proto.label for link in at.get("page_link")]


def test_home_links_only_to_the_next_page():
    at = open_page("app_pages/home.py")
    labels = _link_labels(at)
    first = all_topics()[1]
    assert labels[-1] == f"Next: {first.title}"
    assert not any(label.startswith("Previous:") for label in labels)


def test_a_page_that_stops_early_still_links_on(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    at = open_page(BY_URL["your-weights"].path)
    before, after = neighbours("your-weights")
    assert _link_labels(at)[-2:] == [f"Previous: {before.title}", f"Next: {after.title}"]


def test_the_last_page_has_no_next():
    last = all_topics()[-1]
    at = open_page(last.path)
    labels = _link_labels(at)
    assert labels[-1] == f"Previous: {all_topics()[-2].title}"
    assert not any(label.startswith("Next:") for label in labels)


# --- independent answers, from the page's state


def _exponential_count(s) -> int:
    assert s["c1d_kind"] == "exponential"  # the default; exp(-a/w) >= share <=> a <= w ln(1/share)
    return min(int(s["c1d_length"]), math.floor(s["c1d_width"] * math.log(1 / NOTICEABLE)) + 1)


def _flip_same(s) -> str:
    kernel = make_kernel(s["k2d_name"], int(s["k2d_size"]), float(s["k2d_angle"]))[None, None]
    image = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    correlation = F.conv2d(image, kernel)
    convolution = F.conv2d(image, kernel.flip(-1, -2))
    return "same" if torch.allclose(correlation, convolution, atol=1e-5) else "different"


def _circular_exact(s) -> str:
    assert s["eq_pad"] == "circular"  # the default: circular shifts commute with circular conv
    return "exact"


def _pooled(s) -> int:
    row = torch.zeros(1, 1, int(s["layer_side"]))
    return F.max_pool1d(row, int(s["layer_pool_size"]), int(s["layer_pool_stride"])).shape[-1]


def _stack_weights(s) -> int:
    c = int(s["ks_c"])
    stack = nn.Sequential(nn.Conv2d(c, c, 3, bias=False), nn.Conv2d(c, c, 3, bias=False))
    return sum(p.numel() for p in stack.parameters())


def _conv_size(s) -> int:
    n, k = int(s["arith_n"]), int(s["arith_k"])
    out = F.conv2d(
        torch.zeros(1, 1, n, n),
        torch.zeros(1, 1, k, k),
        padding=int(s["arith_p"]),
        stride=int(s["arith_s"]),
        dilation=int(s["arith_d"]),
    )
    return out.shape[-1]


def _field_by_recurrence(s) -> int:
    rows = VGG_LIKE_STACK
    assert s["rf_layer"].startswith(rows[-1]["kind"])  # the default: the last layer
    r, jump = 1, 1
    for row in rows:
        r += (row["k"] - 1) * row["d"] * jump
        jump *= row["s"]
    return r


def _arch_millions(s) -> int:
    return round(sum(p.numel() for p in build(s["arch_pick"]).parameters()) / 1e6)


def _shipped_parameters(s) -> int:
    return sum(p.numel() for p in shipped_model()[0].parameters())


def _your_cnn_parameters(s) -> int:
    config = CNNConfig(
        classes=tuple(s["ct_classes"]),
        depth_blocks=s["ct_depth"],
        filters=s["ct_filters"],
        kernel=s["ct_kernel"],
        pool=s["ct_pool"],
        relu=s["ct_relu"],
    )
    return sum(p.numel() for p in SmallCNN(config).parameters())


def _teach_side(s) -> int:
    side = CNNConfig().input_size
    for _ in range(int(s["tc_blocks"])):
        side //= 2
    return side


def _rnn_distinct(s) -> int:
    assert s["unr_kind"] == "numbers"  # the default: one number per step
    rnn = nn.RNN(1, int(s["unr_hidden"]))
    return sum(p.numel() for p in rnn.parameters())


def _forget_above(s) -> str:
    mean = _forget_by_hand(s["lstm_text"])
    return "above" if mean > KEEP_HALF else "not above"


def _forget_by_hand(text: str) -> float:
    """The LSTM's forget gate by hand: σ(W_if x + b_if + W_hf h + b_hf), stepped over the text."""
    from engine.recurrent import DEFAULT_MAX_CHARS, encode
    from ui.recurrent.models import char_model

    model, _ = char_model("lstm")
    encoded = encode(text, model.vocab, DEFAULT_MAX_CHARS)
    lstm = model.rnn
    x = model.embed(torch.as_tensor(encoded.ids))[:, None, :]  # (T, 1, E)
    h = torch.zeros(1, lstm.hidden_size)
    c = torch.zeros(1, lstm.hidden_size)
    gates_f = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            z = x[t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T
            z = z + lstm.bias_hh_l0
            i, f, g, o = z.chunk(4, dim=1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            gates_f.append(f)
    return float(torch.cat(gates_f).mean())


def _gradient_ends(s) -> str:
    norms = gradient_norms(
        "rnn", int(s["grad_T"]), int(s["grad_hidden"]), float(s["grad_rho"]), s["grad_act"]
    )
    if math.isclose(norms[0], norms[-1], rel_tol=1e-9):
        return "equal"
    return "smaller" if norms[0] < norms[-1] else "larger"


def _cnn_layers_to_cover(s) -> int:
    layers = sequential_steps("cnn", SEQ_LEN).layers
    field, jump = 1, 1
    for count, layer in enumerate(layers, start=1):
        field += (layer.kernel - 1) * layer.dilation * jump
        jump *= layer.stride
        if field >= SEQ_LEN:
            return count
    raise AssertionError("the stack never covers the digit")


def _window_by_delta(s) -> int:
    stack = nn.Sequential(
        *[nn.Conv1d(1, 1, TAPS, padding=TAPS // 2, bias=False) for _ in range(CNN_LAYERS)]
    )
    for conv in stack:
        nn.init.ones_(conv.weight)
    delta = torch.zeros(1, 1, 41)
    delta[0, 0, 20] = 1.0
    with torch.no_grad():
        return int((stack(delta) != 0).sum())  # the outputs a single input reaches


def _first_gradient_sign(s) -> str:
    n = int(s["ad_n"])
    w1, b1, w2, b2 = (
        torch.tensor(float(s[f"ad_{k}"]), requires_grad=True) for k in ("w1", "b1", "w2", "b2")
    )
    x = torch.tensor([float(s[f"ad_x{i}"]) for i in range(n)])
    target = torch.tensor([float(s[f"ad_t{i}"]) for i in range(n)])
    loss = ((w2 * torch.tanh(w1 * x + b1) + b2 - target) ** 2).mean()
    loss.backward()
    g = float(w1.grad)
    return "positive" if g > 0 else "negative" if g < 0 else "zero"


def _conv_weights(s) -> int:
    conv = nn.Conv2d(int(s["cmp_c"]), int(s["cmp_units"]), int(s["cmp_k"]), bias=False)
    return conv.weight.numel()


REFERENCES = {
    "c1d": _exponential_count,
    "k2d": _flip_same,
    "why": lambda s: int(s["why_n"]) * int(s["why_k"]),
    "eq": _circular_exact,
    "layer": _pooled,
    "pool": None,  # the steadiest method: checked against the curves below
    "ks": _stack_weights,
    "arith": _conv_size,
    "rf": _field_by_recurrence,
    "arch": _arch_millions,
    "tcnn": _shipped_parameters,
    "ct": _your_cnn_parameters,
    "teach": _teach_side,
    "unr_numbers": _rnn_distinct,
    "lstm": _forget_above,
    "grad": _gradient_ends,
    "m1d": _cnn_layers_to_cover,
    "seqb": _window_by_delta,
    "ad": _first_gradient_sign,
    "cmp": _conv_weights,
}

SHOWN = [  # (url, prompt id) of every prompt that the page's default view asks
    (url, prompt.id)
    for url, prompts in PROMPTS.items()
    for prompt in prompts
    if prompt.id in REFERENCES
]


def _wrong(posed: Posed):
    """Return a guess that is not the answer."""
    if posed.choices is None:
        return posed.answer + 1
    right = posed.answer if isinstance(posed.answer, tuple) else (posed.answer,)
    return next(c for c in posed.choices if c not in right)


def _right(posed: Posed):
    return posed.answer[0] if isinstance(posed.answer, tuple) else posed.answer


def _check(at, prompt_id: str, guess) -> None:
    """Type or pick a guess in the prompt's form and press Check."""
    key = f"path_{prompt_id}_guess"
    widget = at.radio(key=key) if isinstance(guess, str) else at.number_input(key=key)
    widget.set_value(guess)
    at.button(key=f"path_{prompt_id}_check").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


@pytest.mark.parametrize(("url", "prompt_id"), SHOWN)
def test_a_prompt_judges_right_and_wrong_answers_and_its_answer_is_independent(url, prompt_id):
    at = open_page(BY_URL[url].path)
    prompt = next(p for p in PROMPTS[url] if p.id == prompt_id)
    posed = pose(prompt, at.session_state)
    assert posed is not None, "the default view asks this prompt"
    reference = REFERENCES[prompt_id]
    if reference is not None:
        assert posed.answer == reference(at.session_state)
    assert not at.success and not at.warning, "the answer stays hidden until Check"
    _check(at, prompt_id, _wrong(posed))
    assert any(w.value.startswith("Not quite") for w in at.warning), [w.value for w in at.warning]
    _check(at, prompt_id, _right(posed))
    assert any(s.value.startswith("Right") for s in at.success), [s.value for s in at.success]


# --- prompts the default view does not show, posed directly


def test_the_transposed_prompt_is_asked_only_in_transposed_mode():
    state = {"arith_mode": "transposed", "arith_n": 3, "arith_k": 3, "arith_p": 0, "arith_s": 2}
    state |= {"arith_d_transposed": 1, "arith_d": 1}
    prompts = {p.id: p for p in PROMPTS["conv-arithmetic"]}
    assert pose(prompts["arith"], state) is None
    posed = pose(prompts["arith_t"], state)
    reference = F.conv_transpose2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3), stride=2)
    assert posed.answer == reference.shape[-1] == 7


def test_the_weights_prompt_counts_the_real_network():
    posed = cnn_prompts.weights_numbers({"yw_arch": "alexnet"})
    assert posed.answer == round(sum(p.numel() for p in build("alexnet").parameters()) / 1e6)
    assert is_right(posed, 61) and not is_right(posed, 62)


def test_the_character_rnn_prompt_counts_the_alphabet():
    state = {"unr_kind": "characters", "unr_hidden": 2, "unr_act": "tanh"}
    state["unr_text_characters"] = "hello"  # alphabet h, e, l, o: four inputs
    posed = pose(next(p for p in PROMPTS["rnn-unrolled"] if p.id == "unr_characters"), state)
    assert posed.answer == sum(p.numel() for p in nn.RNN(4, 2).parameters())


def test_the_pooling_answer_is_the_best_share_after_one_pixel():
    from engine.pooling import shift_stability
    from ui.inputs import current_image, working_tensor

    at = open_page(BY_URL["pooling"].path)
    posed = pose(PROMPTS["pooling"][0], at.session_state)
    curves = shift_stability(working_tensor(current_image(), int(at.session_state["pool_side"])), 1)
    best = max(float(c[1]) for c in curves.values())
    assert set(posed.answer) == {m for m, c in curves.items() if float(c[1]) == best}


def test_an_edited_stack_is_the_one_asked_about():
    rows = [{"kind": "conv", "k": 3, "s": 1, "p": 1, "d": 1}] * 2
    edits = {"edited_rows": {0: {"k": 5}}, "deleted_rows": [1], "added_rows": [dict(rows[0])]}
    assert edited_rows(rows, edits) == [{**rows[0], "k": 5}, rows[0]]


@pytest.mark.parametrize(("rho", "expected"), [(0.5, "smaller"), (2.5, "larger")])
def test_the_gradient_prompt_on_both_sides(rho, expected):
    state = {"grad_T": 20, "grad_rho": rho, "grad_act": "linear", "grad_hidden": 8}
    posed = pose(PROMPTS["rnn-gradients"][0], state)
    assert posed.answer == expected == _gradient_ends(state)
    assert is_right(posed, expected) and not is_right(posed, "equal")


def test_an_unused_guess_is_never_right():
    posed = Posed("q", 3, "why")
    assert is_right(posed, 3.0) and not is_right(posed, None) and not is_right(posed, "x")
    assert np.isfinite(posed.answer)


# --- both sides of every choice the numbers make


@pytest.mark.parametrize(("name", "expected"), [("sobel x", "different"), ("box blur", "same")])
def test_the_flip_prompt_on_both_sides(name, expected):
    state = {"k2d_name": name, "k2d_size": 5, "k2d_angle": 45}
    posed = pose(PROMPTS["kernels"][0], state)
    assert posed.answer == expected == _flip_same(state)


@pytest.mark.parametrize(("mean", "expected"), [(KEEP_HALF, "not above"), (0.5001, "above")])
def test_the_forget_prompt_on_both_sides_of_one_half(monkeypatch, mean, expected):
    from ui.path import rnn_prompts

    monkeypatch.setattr(rnn_prompts, "_forget_mean", lambda text: (mean, 10, 4))
    posed = pose(PROMPTS["lstm-gates"][0], {"lstm_text": "x = 1"})
    assert posed.answer == expected
    assert is_right(posed, expected) and not is_right(
        posed, next(c for c in posed.choices if c != expected)
    )


@pytest.mark.parametrize(("mode", "expected"), [("circular", "exact"), ("zeros", "border only")])
def test_the_shift_prompt_on_both_fillings(mode, expected):
    from ui.inputs import current_image, working_tensor

    state = {"eq_kernel": "sobel x", "eq_dy": 3, "eq_dx": 5, "eq_pad": mode, "eq_side": 64}
    posed = pose(PROMPTS["equivariance"][0], state)
    image = working_tensor(current_image(), 64)[None, None]
    kernel = make_kernel("sobel x", SHOWN_KERNEL_SIDE)
    pad = kernel.shape[-1] // 2

    def shift(x):
        moved = torch.roll(x, (3, 5), (-2, -1))
        if mode == "zeros":
            moved[..., :3, :] = 0
            moved[..., :, :5] = 0
        return moved

    def conv(x):
        padded = F.pad(x, (pad,) * 4, mode="circular" if mode == "circular" else "constant")
        return F.conv2d(padded, kernel[None, None])

    gap = (conv(shift(image)) - shift(conv(image))).abs()
    inside = gap[..., 3 + 2 * pad : -2 * pad, 5 + 2 * pad : -2 * pad]
    assert float(inside.max()) < 1e-4  # away from the borders a shift always commutes
    assert (float(gap.max()) < 1e-4) == (posed.answer == "exact") == (expected == "exact")
    assert posed.answer == expected


def test_a_guess_for_a_question_changed_under_it_is_not_judged():
    at = open_page(BY_URL["architectures"].path)
    at.session_state["path_arch_shown"] = "an older question"  # as after a fragment-only rerun
    posed = pose(PROMPTS["architectures"][0], at.session_state)
    _check(at, "arch", posed.answer)
    assert not at.success and not at.warning
    assert any("settings changed" in i.value for i in at.info)
    _check(at, "arch", posed.answer)  # read again: now it is judged
    assert any(s.value.startswith("Right") for s in at.success)
