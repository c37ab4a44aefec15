"""As-of masks over an index, checked against the rule computed the slow, obvious way."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from evfactory import BASE_MS, random_events

from app.audit.as_of import AsOf, AsOfError, filter_rows, rows_as_of
from app.index.query import Query, run_query
from app.index.topic_index import TopicIndex
from kafka_io.event import Event


def _index(events: list[Event]) -> TopicIndex:
    index = TopicIndex("bank-accounts")
    for start in range(0, len(events), 97):
        index.append(events[start : start + 97])
    return index


def _written_by(events: list[Event], at_ms: int) -> set[tuple[int, int]]:
    """Per partition in offset order: stop for good at the first record stamped after T."""
    kept: set[tuple[int, int]] = set()
    by_partition: dict[int, list[Event]] = {}
    for ev in events:
        by_partition.setdefault(ev.partition, []).append(ev)
    for evs in by_partition.values():
        for ev in sorted(evs, key=lambda e: e.offset):
            if ev.timestamp_ms > at_ms:
                break
            kept.add(ev.position)
    return kept


@pytest.mark.parametrize("step_back", [False, True])
def test_a_moment_keeps_what_each_partition_had_written_by_then(step_back: bool) -> None:
    events = random_events(3000, seed=5, step_back=step_back)
    index = _index(events)
    stamps = sorted(ev.timestamp_ms for ev in events)
    for at in (stamps[0] - 1, stamps[10], stamps[1500], stamps[-1]):
        mask = rows_as_of(index, AsOf.moment(at))
        assert mask is not None
        got = {
            (int(index.partition_col[r]), int(index.offset_col[r])) for r in np.flatnonzero(mask)
        }
        assert got == _written_by(events, at)
    # Moving T forward never takes a record away.
    earlier = rows_as_of(index, AsOf.moment(stamps[1000]))
    later = rows_as_of(index, AsOf.moment(stamps[2000]))
    assert earlier is not None and later is not None
    assert not np.any(earlier & ~later) and later.sum() > earlier.sum()


def test_offsets_keep_named_partitions_up_to_their_offset_inclusive() -> None:
    events = random_events(800, seed=2, partitions=4)
    index = _index(events)
    as_of = AsOf.parse_offsets("0:10, 2:0")
    mask = rows_as_of(index, as_of)
    assert mask is not None
    got = sorted(
        (int(index.partition_col[r]), int(index.offset_col[r])) for r in np.flatnonzero(mask)
    )
    want = sorted(
        ev.position for ev in events if (ev.partition, ev.offset) <= (0, 10) and ev.partition == 0
    )
    want += [(2, 0)]
    assert got == sorted(want)


def test_filter_rows_narrows_a_query_and_keeps_log_order() -> None:
    events = random_events(1000, seed=9)
    index = _index(events)
    rows = run_query(index, Query(types=frozenset({"MoneyDeposited"})))
    at = BASE_MS + 5_000
    kept = filter_rows(index, rows, AsOf.moment(at))
    assert set(kept.tolist()) <= set(rows.tolist()) and 0 < len(kept) < len(rows)
    rank = index.rank()
    assert list(rank[kept]) == sorted(rank[kept])
    assert filter_rows(index, rows, None) is rows


def test_labels_and_bad_input() -> None:
    quarter_end = int(datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)
    assert AsOf.moment(quarter_end).label() == "As of 2026-03-31 23:59:59 UTC"
    assert AsOf.moment(quarter_end + 500).label() == "As of 2026-03-31 23:59:59.500 UTC"
    assert "0:120, 1:98" in AsOf.parse_offsets("1:98,0:120").label()
    for bad in ("0-120", "x:1", "0:1,0:2", ""):
        with pytest.raises(AsOfError):
            AsOf.parse_offsets(bad)
    with pytest.raises(AsOfError):
        AsOf(at_ms=1, offsets={0: 1})
    for as_of in (AsOf.moment(5), AsOf.parse_offsets("3:7,0:1")):
        assert AsOf.from_json(as_of.to_json()) == as_of
