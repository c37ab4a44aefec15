"""Comparing two indexes: the same rows in the same order, the same ids and bytes."""

from __future__ import annotations

import numpy as np

from app.index.topic_index import TopicIndex

COLUMNS = ("partition", "offset", "timestamp", "type", "aggregate", "key", "topic",
           "value_end", "error", "flags")  # fmt: skip


def same_index(a: TopicIndex, b: TopicIndex) -> None:
    assert len(a) == len(b)
    for name in COLUMNS:
        assert np.array_equal(getattr(a, f"{name}_col"), getattr(b, f"{name}_col")), name
    for kind in ("type", "aggregate", "key", "topic", "error"):
        assert a.names(kind) == b.names(kind), kind
    assert all(a.value_of(r) == b.value_of(r) for r in range(len(a)))
    assert all(a.headers_of(r) == b.headers_of(r) for r in range(len(a)))
    assert a.partitions == b.partitions


def positions_in_log_order(index: TopicIndex) -> list[tuple[int, int]]:
    parts, offs = index.partition_col, index.offset_col
    return [(int(parts[r]), int(offs[r])) for r in index.log_order()]
