"""Deciding what a reopen must read: incremental catch-up, truncated and recreated topics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from evfactory import random_events

from app.index import catch_up, store
from app.index.query import Query, run_query
from app.index.topic_index import TopicIndex
from kafka_io.event import Event

EVENTS = random_events(2500, seed=17, partitions=3, aggregates=25, step_back=True)
CLUSTER = "cluster-A"


def build(events: list[Event]) -> TopicIndex:
    index = TopicIndex("bank-accounts", cluster_id=CLUSTER)
    for i in range(0, len(events), 400):
        index.append(events[i : i + 400])
    return index


def same_index(a: TopicIndex, b: TopicIndex) -> None:
    assert len(a) == len(b)
    assert all(a.event(r) == b.event(r) for r in range(len(a)))
    assert np.array_equal(a.log_order(), b.log_order())
    for q in (Query(text="rent"), Query(aggregate="acc-01", aggregate_prefix=True),
              Query(errors_only=True)):  # fmt: skip
        assert np.array_equal(run_query(a, q), run_query(b, q))


def watermarks(events: list[Event]) -> dict[int, tuple[int, int]]:
    marks: dict[int, tuple[int, int]] = {}
    for e in events:
        low, high = marks.get(e.partition, (e.offset, e.offset))
        marks[e.partition] = (min(low, e.offset), max(high, e.offset + 1))
    return marks


def test_reopening_reads_only_what_is_new(tmp_path: Path) -> None:
    old, new = EVENTS[:1500], EVENTS[1500:]
    store.save(build(old), tmp_path)
    back, _ = store.load_or_new(CLUSTER, "bank-accounts", cache_dir=tmp_path)
    plan = catch_up.catch_up_plan(back, watermarks(EVENTS))
    first_new = {p: min(e.offset for e in new if e.partition == p) for p in (0, 1, 2)}
    assert plan == first_new
    back.append([e for e in new if e.offset >= plan[e.partition]])
    same_index(back, build(EVENTS))
    assert catch_up.catch_up_plan(back, watermarks(EVENTS)) == {}
    # saving again replaces the generation
    folder = store.save(back, tmp_path)
    assert len(list(folder.glob("gen-*"))) == 1


def test_a_truncated_topic_is_detected() -> None:
    index = build(EVENTS)
    marks = watermarks(EVENTS)
    low, high = marks[1]
    with pytest.raises(catch_up.StaleIndexError, match="high watermark"):
        catch_up.catch_up_plan(index, {**marks, 1: (low, high - 3)})
    with pytest.raises(catch_up.StaleIndexError, match="low watermark"):
        catch_up.catch_up_plan(index, {**marks, 1: (low + 1, high)})
    with pytest.raises(catch_up.StaleIndexError, match="no longer exists"):
        catch_up.catch_up_plan(index, {0: marks[0], 1: marks[1]})


def test_a_recreated_topic_with_the_same_offsets_is_detected() -> None:
    index = build(EVENTS)
    targets = catch_up.fingerprint_offsets(index)
    last = {p: max(e.offset for e in EVENTS if e.partition == p) for p in (0, 1, 2)}
    assert targets == {p: [0, last[p]] for p in (0, 1, 2)}
    found: dict[tuple[int, int], Event | None] = {
        (e.partition, e.offset): e for e in EVENTS if e.offset in (0, last[e.partition])
    }
    catch_up.check_fingerprints(index, found)  # the same records: fine
    first_replaced = {**found, (2, 0): found[(2, 0)]._replace(value=b'{"other": "record"}')}  # type: ignore[union-attr]
    with pytest.raises(catch_up.StaleIndexError, match=r"first record .* differs"):
        catch_up.check_fingerprints(index, first_replaced)
    key = (1, last[1])
    last_replaced = {**found, key: found[key]._replace(timestamp_ms=1)}  # type: ignore[union-attr]
    with pytest.raises(catch_up.StaleIndexError, match=r"last record .* differs"):
        catch_up.check_fingerprints(index, last_replaced)
    with pytest.raises(catch_up.StaleIndexError, match="gone"):
        catch_up.check_fingerprints(index, {**found, (0, 0): None})


def test_reconcile_swaps_in_a_fresh_index(tmp_path: Path) -> None:
    index = build(EVENTS)
    store.save(index, tmp_path)
    marks = watermarks(EVENTS)
    ok = catch_up.reconcile(index, marks, cache_dir=tmp_path)
    assert ok.index is index and ok.plan == {} and ok.rebuilt is None
    shrunk = {p: (0, 2) for p in marks}
    redo = catch_up.reconcile(index, shrunk, cache_dir=tmp_path)
    assert redo.index is not index and len(redo.index) == 0
    assert redo.plan == {0: 0, 1: 0, 2: 0} and redo.rebuilt is not None
    # The stored index is gone (the folder keeps only its lock file).
    assert not (store.index_dir(CLUSTER, "bank-accounts", tmp_path) / "meta.json").exists()


def test_new_partitions_are_read_from_their_low_watermark() -> None:
    index = build(EVENTS)
    marks = {**watermarks(EVENTS), 3: (5, 9), 4: (0, 0)}
    assert catch_up.catch_up_plan(index, marks) == {3: 5}


def test_positions_marked_past_the_last_record_are_respected() -> None:
    index = build(EVENTS)
    marks = watermarks(EVENTS)
    low, high = marks[0]
    index.mark_position(0, high + 2)  # e.g. transaction markers at the end of the log
    assert 0 not in catch_up.catch_up_plan(index, {**marks, 0: (low, high + 2)})
