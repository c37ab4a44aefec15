"""Diff between states, and blame: the event that last changed each leaf."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from evfactory import BASE_MS, envelope

from app.index.topic_index import TopicIndex
from app.replay.diff import BlameTracker, diff_states, format_path, leaf_paths
from app.replay.folds import merge_fold
from app.replay.replayer import Replayer
from kafka_io.event import Event, EventRef


def test_paths() -> None:
    assert format_path(()) == ""
    assert format_path(("a", "b", 2, "c")) == "a.b[2].c"
    assert format_path(("x.y", 0)) == '["x.y"][0]'
    assert format_path((3,)) == "[3]"
    assert format_path(("has space",)) == '["has space"]'


def test_added_removed_changed() -> None:
    old = {"a": 1, "b": {"c": 2, "d": [1, 2, 3]}, "gone": {"deep": True}, "same": "x"}
    new = {"a": 2, "b": {"c": 2, "d": [1, 5], "e": None}, "same": "x", "new": [1]}
    d = diff_states(old, new)
    assert d.to_json() == {
        "added": {"b.e": None, "new": [1]},
        "removed": {"b.d[2]": 3, "gone": {"deep": True}},
        "changed": {"a": {"old": 1, "new": 2}, "b.d[1]": {"old": 2, "new": 5}},
    }
    assert bool(d) and not diff_states(old, old)


def test_leaf_comparison_rules() -> None:
    assert not diff_states({"n": 1}, {"n": 1.0})  # same number
    assert not diff_states({"n": math.nan}, {"n": math.nan})
    assert diff_states({"n": 1}, {"n": "1"}).changed  # different type
    assert diff_states({"n": 1}, {"n": True}).changed
    assert diff_states({"n": {"a": 1}}, {"n": 5}).changed[0].old == {"a": 1}
    assert diff_states(None, {"a": 1}).changed[0].path == ""  # scalar root -> dict


def test_leaf_paths() -> None:
    assert leaf_paths({"a": {"b": 1, "c": []}, "d": [{"e": 2}], "f": {}}) == {
        "a.b": 1, "a.c": [], "d[0].e": 2, "f": {},
    }  # fmt: skip


def ref(offset: int) -> EventRef:
    return EventRef(0, offset, "T", BASE_MS + offset)


def test_blame_tracker_rules() -> None:
    t = BlameTracker()
    s1 = {"a": 1, "b": {"c": 1}}
    t.update(None, s1, ref(1))
    s2 = {"a": 1, "b": {"c": 2, "d": 0}}  # a unchanged, b.c changed, b.d new
    t.update(s1, s2, ref(2))
    s3 = {"a": 1, "b": 7}  # a subtree replaced by a scalar
    t.update(s2, s3, ref(3))
    assert t.result() == {"a": ref(1), "b": ref(3)}
    s4 = {"a": 1, "b": {"x": [1, 2]}}  # and back to a subtree
    t.update(s3, s4, ref(4))
    assert t.result() == {"a": ref(1), "b.x[0]": ref(4), "b.x[1]": ref(4)}
    s5 = {"b": {"x": [1]}}
    t.update(s4, s5, ref(5))
    assert t.result() == {"b.x[0]": ref(4)}


def make_events(n: int, seed: int = 1) -> list[Event]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        field = rng.choice(["owner", "balance", "status", "address.city", "address.zip"])
        value: Any = rng.choice([1, 2, "x", None, {"nested": rng.randrange(3)}])
        top, _, sub = field.partition(".")
        payload = {top: {sub: value}} if sub else {top: value}
        out.append(envelope("t", 0, i, BASE_MS + i, "agg", f"Set{top}", payload))
    return out


def brute_blame(events: list[Event], n: int) -> dict[str, EventRef]:
    """Replay from scratch, comparing leaf values before and after every event."""
    state: Any = None
    blame: dict[str, EventRef] = {}
    for e in events[:n]:
        before = leaf_paths(state) if state is not None else {}
        state = merge_fold(state, e)
        after = leaf_paths(state)
        for path, value in after.items():
            old = before.get(path, object())
            if path not in before or type(old) is not type(value) or old != value:
                blame[path] = EventRef.of(e)
        blame = {p: r for p, r in blame.items() if p in after}
    return blame


@pytest.mark.parametrize("every", [1, 3, 1000])
def test_replayer_blame_matches_brute_force(every: int) -> None:
    events = make_events(120)
    index = TopicIndex("t")
    index.append(events)
    rp = Replayer.from_index(index, "agg", merge_fold, checkpoint_every=every)
    for n in (120, 7, 60, 0, 61, 119):
        assert rp.blame(n) == dict(sorted(brute_blame(events, n).items())), n


def test_setting_the_same_value_keeps_the_old_blame() -> None:
    events = [
        envelope("t", 0, 0, BASE_MS, "a", "Open", {"status": "open", "n": 1}),
        envelope("t", 0, 1, BASE_MS + 1, "a", "Touch", {"status": "open"}),
        envelope("t", 0, 2, BASE_MS + 2, "a", "Bump", {"n": 2}),
    ]
    blame = Replayer.from_events(events, merge_fold).blame()
    assert blame["status"].offset == 0 and blame["status"].type == "Open"
    assert blame["n"].offset == 2


def test_replayer_diff_between_positions() -> None:
    events = make_events(30, seed=4)
    rp = Replayer.from_events(events, merge_fold, checkpoint_every=4)
    d = rp.diff(5, 20)
    assert d == diff_states(rp.state(n=5), rp.state(n=20))
    assert not rp.diff(9, 9)
