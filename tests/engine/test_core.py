"""engine.core's thread and device helpers, checked against what torch reports in each thread."""

from __future__ import annotations

import pickle
import threading

import torch

from engine.core import N_, Msg, Phrase, default_device, intra_op_threads

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


def test_a_phrase_is_its_english_text_and_keeps_its_id_and_parameters():
    phrase = Phrase(N_("{what} of {n}"), what=N_("half"), n=3)
    assert phrase == "half of 3" and phrase.template == "{what} of {n}"
    assert phrase.params == {"what": "half", "n": 3} and isinstance(phrase.params["what"], Msg)
    assert phrase.plural is None
    assert Phrase("{braces} kept") == "{braces} kept"  # no params: the id as it is


def test_a_counted_phrase_picks_english_singular_at_one_and_plural_otherwise():
    def steps(n: int) -> Phrase:
        return Phrase.counted("{n} step of {k}", "{n} steps of {k}", n, k=9)

    assert [steps(n) for n in (0, 1, 2)] == ["0 steps of 9", "1 step of 9", "2 steps of 9"]
    assert {(p.template, p.plural) for p in map(steps, (0, 1, 2))} == {
        ("{n} step of {k}", "{n} steps of {k}")
    }
    assert steps(2).params == {"n": 2, "k": 9}


def test_a_phrase_survives_pickling_as_cached_results_do():
    for phrase in (Phrase("a {x}", x=1.5), Phrase.counted("{n} a", "{n} as", 2)):
        back = pickle.loads(pickle.dumps(phrase))
        assert back == phrase and isinstance(back, Phrase)
        assert (back.template, back.params, back.plural) == (
            phrase.template,
            phrase.params,
            phrase.plural,
        )
