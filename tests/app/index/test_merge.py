"""The log-order merge and column batches: any split of the rows into readers, and any
interleaving of their batches, gives the rows in log order with the same ids."""

from __future__ import annotations

import random

import pytest
from evfactory import log_sorted, random_events
from index_helpers import same_index

from app.index.batch import Columnizer
from app.index.merge import LogMerge
from app.index.topic_index import TopicIndex
from kafka_io.event import Event


def merged_build(events: list[Event], readers: int, seed: int, limit: int = 10**9) -> TopicIndex:
    """Deal partitions to ``readers``, cut each reader's records into batches in random
    interleavings, and push them through column batches and the merge."""
    rng = random.Random(seed)
    parts = sorted({e.partition for e in events})
    owner = {p: i % readers for i, p in enumerate(parts)}
    streams: list[list[list[Event]]] = []
    for r in range(readers):
        mine = [e for e in events if owner[e.partition] == r]  # read order within a reader
        cuts = sorted(rng.sample(range(1, max(len(mine), 2)), min(len(mine) - 1, 9)))
        streams.append([mine[a:b] for a, b in zip([0, *cuts], [*cuts, len(mine)], strict=True)])
    columnizers = [Columnizer(1000 + r) for r in range(readers)]
    merge = LogMerge(parts, limit=limit)
    index = TopicIndex(events[0].topic)
    left = {r: list(s) for r, s in enumerate(streams)}
    done: set[int] = set()
    while any(left.values()):
        r = rng.choice([r for r, s in left.items() if s])
        batch = left[r].pop(0)
        merge.add(columnizers[r](batch))
        if not left[r]:
            done.update(p for p in parts if owner[p] == r)
        merge.finished(done)
        out = merge.release()
        if out is not None:
            index.append_columns(out)
    rest = merge.flush()
    if rest is not None:
        index.append_columns(rest)
    return index


@pytest.mark.parametrize("readers", [1, 2, 3, 5])
@pytest.mark.parametrize("step_back", [False, True])
def test_any_split_gives_the_log_sorted_index(readers: int, step_back: bool) -> None:
    events = random_events(3000, seed=readers, partitions=6, aggregates=40, step_back=step_back)
    expected = TopicIndex(events[0].topic)
    expected.append(log_sorted(events))
    for seed in (1, 2):
        built = merged_build(events, readers, seed)
        same_index(built, expected)
        prefix, tail = built.order_parts()
        assert (prefix, len(tail)) == (len(built), 0)  # appended in log order


def test_a_lagging_partition_past_the_limit_still_gives_log_order() -> None:
    events = random_events(2000, seed=4, partitions=4, aggregates=20)
    built = merged_build(events, 2, seed=3, limit=50)  # forced releases
    expected = [(e.partition, e.offset) for e in log_sorted(events)]
    got = [(int(built.partition_col[r]), int(built.offset_col[r])) for r in built.log_order()]
    assert got == expected


def test_column_batches_carry_every_field() -> None:
    events = random_events(500, seed=8)
    direct = TopicIndex(events[0].topic)
    direct.append(events)
    via = TopicIndex(events[0].topic)
    columnize = Columnizer(77, by_partition=False)
    for i in range(0, 500, 64):
        via.append_columns(columnize(events[i : i + 64]))
    same_index(direct, via)
    assert any(via.error_of(r) for r in range(500)) and any(
        via.value_of(r) is None for r in range(500)
    )


def test_a_batch_out_of_sequence_is_refused() -> None:
    events = random_events(100, seed=2)
    columnize = Columnizer(5)
    first, second = columnize(events[:50]), columnize(events[50:])
    assert second.names_from["type"] > 0  # the first batch brought the types
    index = TopicIndex(events[0].topic)
    with pytest.raises(ValueError, match="out of sequence"):
        index.append_columns(second)  # its names continue a batch never seen
    assert len(index) == 0
    index.append_columns(first)
    index.append_columns(second)
    assert len(index) == 100
