"""The dot source of a set of pictures, recorded before ``viz.edges._contract`` became linear in T (issue #18,
item 12): a faster contraction must draw exactly the same pictures, edge for edge and number for number.

The sources name nodes by ``id()``, which changes from run to run; ``normalized`` renames them n1, n2, …
in order of appearance. ``python tests/viz/test_viz_golden.py`` rewrites the recording (only do that on
purpose, when a picture is meant to change, and look at the pictures).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import micrornn as mr
from micrornn import unroll as U
from micrornn import viz
from micrornn.nn import GRU, LSTM, RNN, Elman, Jordan

pytestmark = [pytest.mark.lesson_pictures]  # this file's lessons: pytest -m lesson_pictures

RECORDING = Path(__file__).resolve().parents[1] / "data" / "viz_golden.json.gz"


def _net(kind: type, **kw: object) -> object:
    return kind(2, 3, 2, seed=0, **kw)


def _unrolled(make: Callable[[np.random.Generator], U.Unrolled]) -> U.Unrolled:
    u = make(np.random.default_rng(1))
    u.backward()
    return u


def _expression() -> mr.Value:
    a, b = mr.Value(2.0, label="a"), mr.Value(-3.0, label="b")
    c = a * b + b**2
    out = (c * a).tanh() + c.exp() * 0.01
    out.backward()
    return out


def _tokens() -> U.Unrolled:
    u = U.many_to_many(RNN(5, 3, 5, token_ids=True, seed=0), np.array([1, 2, 3, 4, 1]), np.array([2, 3, 4, 1, 2]))
    u.backward()
    return u


# name → the pictures' sources (a stepper gives one source per frame)
CASES: dict[str, Callable[[], list[str]]] = {}


def _case(name: str, obj: Callable[[], object], **kw: object) -> None:
    CASES[name] = lambda: [viz.draw(obj(), **kw).source]


for _kind in (RNN, LSTM, GRU, Elman, Jordan):
    _k = _kind.__name__.lower()
    _case(f"{_k}_many_to_many_4", lambda k=_kind: _unrolled(lambda r: U.many_to_many(_net(k), r.normal(size=(4, 2)),
                                                                                     np.arange(4) % 2)))
    _case(f"{_k}_many_to_one_4", lambda k=_kind: _unrolled(lambda r: U.many_to_one(_net(k), r.normal(size=(4, 2)), 1)))
for _kind in (RNN, LSTM, GRU):
    _k = _kind.__name__.lower()
    _case(f"{_k}_one_to_many_3", lambda k=_kind: _unrolled(lambda r: U.one_to_many(_net(k), r.normal(size=2),
                                                                                   np.arange(3) % 2)))
    _case(f"{_k}_bidirectional_many_to_many_4", lambda k=_kind: _unrolled(
        lambda r: U.many_to_many(_net(k, bidirectional=True), r.normal(size=(4, 2)), np.arange(4) % 2)))
    _case(f"{_k}_stacked_many_to_one_4", lambda k=_kind: _unrolled(
        lambda r: U.many_to_one(_net(k, num_layers=2), r.normal(size=(4, 2)), 1)))
    _case(f"{_k}_seq2seq_3_2", lambda k=_kind: _unrolled(
        lambda r: U.seq2seq(_net(k), k(2, 3, 2, seed=1), r.normal(size=(3, 2)), r.normal(size=(2, 2)))))
_case("rnn_truncate2_many_to_many_5", lambda: _unrolled(
    lambda r: U.many_to_many(_net(RNN, truncate=2), r.normal(size=(5, 2)), np.arange(5) % 2)))
_case("rnn_many_to_many_30_folded", lambda: _unrolled(
    lambda r: U.many_to_many(_net(RNN), r.normal(size=(30, 2)), np.arange(30) % 2)))
_case("lstm_many_to_many_12_folded", lambda: _unrolled(
    lambda r: U.many_to_many(_net(LSTM), r.normal(size=(12, 2)), np.arange(12) % 2)))
_case("rnn_many_to_many_6_full_ops", lambda: _unrolled(
    lambda r: U.many_to_many(_net(RNN), r.normal(size=(6, 2)), np.arange(6) % 2)), view="ops", max_width=None)
# Value graphs: the coarse view prints the derivative along the contracted paths on each edge
_case("rnn_scalar_many_to_many_3", lambda: _unrolled(
    lambda r: U.many_to_many(_net(RNN), r.normal(size=(3, 2)), np.arange(3) % 2, scalar=True)))
_case("lstm_scalar_many_to_one_3", lambda: _unrolled(
    lambda r: U.many_to_one(_net(LSTM), r.normal(size=(3, 2)), 1, scalar=True)))
_case("gru_scalar_many_to_many_2", lambda: _unrolled(
    lambda r: U.many_to_many(_net(GRU), r.normal(size=(2, 2)), np.arange(2) % 2, scalar=True)))
_case("elman_scalar_many_to_many_3", lambda: _unrolled(
    lambda r: U.many_to_many(_net(Elman), r.normal(size=(3, 2)), np.arange(3) % 2, scalar=True)))
_case("rnn_scalar_many_to_many_4_full", lambda: _unrolled(
    lambda r: U.many_to_many(_net(RNN), r.normal(size=(4, 2)), np.arange(4) % 2, scalar=True)), max_width=None)
_case("lstm_scalar_bidirectional_many_to_many_2_full", lambda: _unrolled(
    lambda r: U.many_to_many(_net(LSTM, bidirectional=True), r.normal(size=(2, 2)), np.arange(2) % 2, scalar=True)),
    max_width=None)
_case("rnn_scalar_many_to_one_3_ops", lambda: _unrolled(
    lambda r: U.many_to_one(_net(RNN), r.normal(size=(3, 2)), 1, scalar=True)), view="ops")
_case("expression_ops", _expression)
_case("expression_coarse", _expression, view="coarse")
_case("tokens_many_to_many_5", _tokens, tokens="_abcd")
CASES["rnn_backward_frames_4"] = lambda: [g.source for g, _ in viz.backward_frames(_unrolled(
    lambda r: U.many_to_many(_net(RNN), r.normal(size=(4, 2)), np.arange(4) % 2)))]
CASES["lstm_forward_frames_3"] = lambda: [g.source for g, _ in viz.forward_frames(_unrolled(
    lambda r: U.many_to_one(_net(LSTM), r.normal(size=(3, 2)), 1)))]


def normalized(source: str) -> str:
    """``source`` with every n<id>/op<id> node name replaced by n1, n2, … in order of first appearance."""
    names: dict[str, str] = {}
    return re.sub(r"\b(n|op)\d{6,}\b", lambda m: names.setdefault(m.group(0), f"{m.group(1)}{len(names) + 1}"),
                  source)


def _record() -> dict[str, list[str]]:
    return {name: [normalized(s) for s in make()] for name, make in CASES.items()}


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[str]]:
    with gzip.open(RECORDING, "rt", encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.parametrize("name", sorted(CASES))
def test_picture_source_is_the_recorded_one(name: str, recorded: dict[str, list[str]]) -> None:
    got = [normalized(s) for s in CASES[name]()]
    assert len(got) == len(recorded[name])
    for i, (a, b) in enumerate(zip(got, recorded[name])):
        assert a == b, f"{name}, picture {i}: the dot source differs from the recording"


def test_every_case_is_recorded(recorded: dict[str, list[str]]) -> None:
    assert set(recorded) == set(CASES)


if __name__ == "__main__":
    sources = _record()
    RECORDING.parent.mkdir(exist_ok=True)
    with gzip.open(RECORDING, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(sources, f, sort_keys=True, ensure_ascii=False, indent=0)
    print(f"{len(sources)} cases, {sum(map(len, sources.values()))} pictures → {RECORDING}", file=sys.stderr)
