"""Trace output: the JSON object (roots, orphans, cycles, every node's fields), streamed
without recursion, and the text tree and timeline for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from trace_helpers import ev, space_of

from app.trace.details import TraceTexts
from app.trace.export import format_gap, write_json, write_text, write_timeline
from app.trace.tree import trace_correlation

FIELDS = {"topic", "partition", "offset", "type", "aggregate", "event_id", "causation_id",
          "timestamp", "gap_ms", "broken", "children"}  # fmt: skip


def render(writer: Any, correlation: str, *events: Any) -> str:
    space = space_of(*events)
    trace = trace_correlation(space, correlation)
    parts: list[str] = []
    writer(trace, TraceTexts.of_space(trace, space), parts.append)
    return "".join(parts)


def test_json_has_roots_orphans_and_cycles_with_every_field() -> None:
    text = render(
        write_json, "c",
        ev("orders", 0, 1_000, "o1", "c", None, "OrderPlaced"),
        ev("payments", 0, 4_000, "p1", "c", "o1", "PaymentAuthorized"),
        ev("orders", 1, 5_000, "o2", "c", "lost", "OrderShipped"),
        ev("orders", 2, 6_000, "s", "c", "s", "Loop"),
    )  # fmt: skip
    doc = json.loads(text)
    assert set(doc) == {"correlation", "events", "roots", "orphans", "cycles"}
    assert doc["correlation"] == "c" and doc["events"] == 4
    (root,) = doc["roots"]
    assert set(root) == FIELDS
    assert (root["topic"], root["offset"], root["type"], root["event_id"]) == (
        "orders", 0, "OrderPlaced", "o1",
    )  # fmt: skip
    assert root["causation_id"] is None and root["gap_ms"] is None and root["broken"] is False
    assert root["timestamp"] == "1970-01-01T00:00:01.000Z"
    (child,) = root["children"]
    assert (child["topic"], child["causation_id"], child["gap_ms"]) == ("payments", "o1", 3000)
    assert child["children"] == []
    (orphan,) = doc["orphans"]
    assert orphan["broken"] is True and orphan["causation_id"] == "lost"
    assert [[m["event_id"] for m in cycle] for cycle in doc["cycles"]] == [["s"]]


def test_json_of_an_unknown_correlation_is_empty_with_a_note() -> None:
    doc = json.loads(render(write_json, "nope", ev("t", 0, 1, "a", "c", None)))
    assert doc["roots"] == doc["orphans"] == doc["cycles"] == [] and doc["events"] == 0
    assert "nope" in doc["note"]


def test_json_of_a_chain_deeper_than_any_recursion_limit() -> None:
    n = 3_000
    chain = [ev("t", i, i, f"k{i}", "d", f"k{i - 1}" if i else None) for i in range(n)]
    text = render(write_json, "d", *chain)
    assert text.count('"children":[') == n
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # only to read it back here; the writer needs none
    try:
        doc = json.loads(text)
    finally:
        sys.setrecursionlimit(old)
    node, depth = doc["roots"][0], 0
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert depth == n - 1 and node["event_id"] == f"k{n - 1}"


def test_text_tree_and_timeline() -> None:
    events = (
        ev("orders", 0, 1_000, "o1", "c", None, "OrderPlaced"),
        ev("payments", 0, 61_000, "p1", "c", "o1", "PaymentAuthorized"),
        ev("orders", 1, 62_000, "o2", "c", "lost", "OrderShipped"),
    )
    tree = render(write_text, "c", *events).splitlines()
    assert tree[0].startswith("trace c: 3 events across orders, payments")
    assert "1 broken link" in tree[0]
    assert tree[1].startswith("OrderPlaced  orders p0@0")
    assert tree[2].startswith("  PaymentAuthorized  payments p0@0") and "+1 min 0 s" in tree[2]
    assert "!! caused by lost: no such event" in tree[-1]
    timeline = render(write_timeline, "c", *events).splitlines()
    assert ["start" in timeline[1], "+1 min 0 s" in timeline[2], "+1.0 s" in timeline[3]] == [
        True, True, True,
    ]  # fmt: skip
    assert timeline[3].endswith("!! broken link")


def test_gaps_read_as_durations() -> None:
    cases = {None: "", 0: "+0 ms", 999: "+999 ms", 1_500: "+1.5 s", 61_000: "+1 min 1 s",
             7_260_000: "+2 h 1 min", 90_000_000: "+1 d 1 h", -2_000: "-2.0 s"}  # fmt: skip
    assert {ms: format_gap(ms) for ms in cases} == cases
