"""The causation tree of a correlation id: across topics, broken links, causes from
another correlation, cycles of any length, duplicates, and very large traces."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from trace_helpers import ev, space_of

from app.index.topic_index import TopicIndex
from app.trace.space import parse_position
from app.trace.tree import Trace, trace_correlation, trace_event
from kafka_io.event import Event


def ids(trace: Trace, nodes: Iterable[Any]) -> list[str]:
    """``topic:offset`` of each node."""
    return [f"{trace.topic_name(int(n))}:{int(trace.offset[int(n)])}" for n in nodes]


def tree_of(trace: Trace, node: int) -> object:
    """The subtree as nested (position, [children]) built with the public API."""
    return (ids(trace, [node])[0], [tree_of(trace, int(c)) for c in trace.children(node)])


def test_a_saga_across_three_topics_is_one_tree_with_gaps() -> None:
    space = space_of(
        ev("orders", 0, 1_000, "o1", "c", None),
        ev("payments", 0, 3_000, "p1", "c", "o1"),
        ev("orders", 1, 6_000, "o2", "c", "p1"),
        ev("shipments", 0, 7_000, "s1", "c", "o2"),
        ev("shipments", 1, 8_500, "s2", "c", "o2"),
        ev("orders", 2, 9_000, "other", "d", None),
    )
    trace = trace_correlation(space, "c")
    assert len(trace) == 5
    assert ids(trace, trace.roots) == ["orders:0"]
    assert tree_of(trace, int(trace.roots[0])) == (
        "orders:0",
        [("payments:0", [("orders:1", [("shipments:0", []), ("shipments:1", [])])])],
    )
    assert [trace.gap_ms(n) for n in range(5)] == [None, 2_000, 3_000, 1_000, 2_500]
    assert [trace.step_gap_ms(n) for n in range(5)] == [None, 2_000, 3_000, 1_000, 1_500]
    assert not trace.broken.any() and trace.cycles == [] and len(trace.orphans) == 0


def test_broken_links_and_causes_from_another_correlation_are_orphans() -> None:
    space = space_of(
        ev("orders", 0, 1_000, "o1", "c", None),
        ev("orders", 1, 2_000, "o2", "c", "lost"),
        ev("orders", 2, 2_500, "o3", "c", "o2"),
        ev("payments", 0, 500, "x1", "other", None),
        ev("payments", 1, 3_000, "p1", "c", "x1"),
    )
    trace = trace_correlation(space, "c")
    assert ids(trace, trace.roots) == ["orders:0"]
    assert ids(trace, trace.orphans) == ["orders:1", "payments:1"]
    broken = {ids(trace, [n])[0]: bool(trace.broken[n]) for n in range(len(trace))}
    assert broken == {"orders:0": False, "orders:1": True, "orders:2": False,
                      "payments:1": False}  # fmt: skip
    outside = trace.external[trace.node_of("payments", 0, 1) or 0]
    assert (outside.topic, outside.offset) == ("payments", 0)
    assert trace.gap_ms(trace.node_of("payments", 0, 1) or 0) == 2_500  # since x1
    assert ids(trace, trace.children(trace.node_of("orders", 0, 1) or 0)) == ["orders:2"]


def test_cycles_are_listed_once_and_never_walked_forever() -> None:
    space = space_of(
        ev("t", 0, 1_000, "a", "c", None),
        ev("t", 1, 2_000, "self", "c", "self"),  # causes itself
        ev("t", 2, 3_000, "x", "c", "z"),  # x <- z <- y <- x
        ev("t", 3, 4_000, "y", "c", "x"),
        ev("t", 4, 5_000, "z", "c", "y"),
        ev("t", 5, 6_000, "hang", "c", "y"),  # caused by a cycle member
    )
    trace = trace_correlation(space, "c")
    assert ids(trace, trace.roots) == ["t:0"] and len(trace.orphans) == 0
    cycles = sorted(ids(trace, c) for c in trace.cycles)
    assert cycles == [["t:1"], ["t:2", "t:3", "t:4"]]
    # each member caused by the one before it, the first by the last
    big = next(c for c in trace.cycles if len(c) == 3)
    for before, member in zip(big.tolist(), big.tolist()[1:] + big.tolist()[:1], strict=True):
        assert int(trace.parent[member]) == before
    y = trace.node_of("t", 0, 3) or 0
    assert sorted(ids(trace, trace.children(y))) == ["t:4", "t:5"]


def test_duplicate_event_ids_attach_children_to_the_first() -> None:
    space = space_of(
        ev("t", 0, 1_000, "a", "c", None),
        ev("t", 1, 2_000, "a", "c", None),  # delivered twice
        ev("t", 2, 3_000, "b", "c", "a"),
    )
    trace = trace_correlation(space, "c")
    assert ids(trace, trace.roots) == ["t:0", "t:1"]
    assert ids(trace, trace.children(0)) == ["t:2"] and trace.child_count(1) == 0


def test_an_event_without_a_correlation_id_is_its_own_trace_with_a_note() -> None:
    space = space_of(ev("t", 0, 1_000, "a", None, None), ev("t", 1, 2_000, "b", "c", None))
    trace = trace_event(space, "t", 0, 0)
    assert trace is not None and len(trace) == 1 and trace.note
    assert "no correlation id" in trace.note
    assert trace_event(space, "t", 0, 99) is None
    followed = trace_event(space, "t", 0, 1)
    assert followed is not None and followed.correlation == "c"


def test_an_unknown_correlation_id_is_an_empty_trace_that_says_where_it_looked() -> None:
    data = orjson.dumps({"x": 1})
    plain = Event("plain", 0, 0, 1, "k", "T", "k", (), {"x": 1}, None, None, data)
    space = space_of(ev("t", 0, 1_000, "a", "c", None), plain)
    trace = trace_correlation(space, "nope")
    assert len(trace) == 0 and trace.note is not None
    assert "'nope'" in trace.note and "plain" in trace.note and "correlationId" in trace.note


def test_a_hundred_thousand_events_of_one_correlation() -> None:
    """One root causing everything, and a chain far deeper than any recursion limit."""
    n = 100_000
    flat = [ev("t", i, 1_000 + i, f"e{i}", "c", "e0" if i else None) for i in range(n)]
    chain = [ev("u", i, 1_000 + i, f"k{i}", "d", f"k{i - 1}" if i else None) for i in range(n)]
    space = space_of(*flat[:1])
    space.indexes["t"].append(flat[1:])
    space.indexes["u"] = TopicIndex("u")
    space.indexes["u"].append(chain)
    wide = trace_correlation(space, "c")
    assert len(wide) == n and wide.child_count(int(wide.roots[0])) == n - 1
    deep = trace_correlation(space, "d")
    assert len(deep) == n and len(deep.roots) == 1 and deep.cycles == []
    node, depth = int(deep.roots[0]), 0
    while deep.child_count(node):
        node, depth = int(deep.children(node)[0]), depth + 1
    assert depth == n - 1


def test_positions_parse_with_colons_in_the_topic() -> None:
    assert parse_position("orders:2:17") == ("orders", 2, 17)
    assert parse_position("ns:orders:0:5") == ("ns:orders", 0, 5)
    for bad in ("orders", "orders:x:1", "orders:1"):
        try:
            parse_position(bad)
        except ValueError as exc:
            assert "TOPIC:PARTITION:OFFSET" in str(exc)
        else:
            raise AssertionError(bad)
