"""A block keeps its values as one bytes object per row while it stays in the process
that made it; slicing, reordering and joining blocks give the same rows and bytes as
the joined form, and a pickled block (what a worker sends) carries the joined bytes."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
from evfactory import random_events

from app.index.batch import RowBlock, StreamNames, columnize, concat


def joined(block: RowBlock) -> RowBlock:
    """The same block with its values as one bytes object."""
    return replace(block, values=b"".join(block.row_values or []), row_values=None)


def rows_of(block: RowBlock) -> list[bytes]:
    blob, ends = block.blob(), block.value_end.tolist()
    return [blob[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def test_row_values_and_joined_values_agree_through_slice_take_concat() -> None:
    events = random_events(400, seed=7, partitions=4, aggregates=20)
    # Some tombstones: a null value is stored as no bytes, flagged.
    events = [e._replace(value=None) if i % 37 == 0 else e for i, e in enumerate(events)]
    block = columnize(events, StreamNames())
    assert block.row_values is not None and block.values == b""
    expected = [e.value or b"" for e in events]
    assert rows_of(block) == expected
    flat = joined(block)
    rng = np.random.default_rng(3)
    order = rng.permutation(len(events))
    for a, b in (
        (block.take(order), flat.take(order)),
        (block.slice(50, 321), flat.slice(50, 321)),
    ):
        assert a.row_values is not None and b.row_values is None
        assert a.blob() == b.blob()
        assert np.array_equal(a.value_end, b.value_end)
    assert rows_of(block.take(order)) == [expected[i] for i in order]
    parts = [block.slice(0, 100), block.slice(100, 250), block.slice(250, 400)]
    assert rows_of(concat(parts)) == expected
    mixed = concat([parts[0], joined(parts[1]), parts[2]])  # either form may meet the other
    assert rows_of(mixed) == expected


def test_a_pickled_block_carries_the_joined_values() -> None:
    events = random_events(200, seed=2, partitions=3, aggregates=10)
    block = columnize(events, StreamNames()).take(np.arange(199, -1, -1))
    back = pickle.loads(pickle.dumps(block))
    assert back.row_values is None
    assert back.values == b"".join(e.value or b"" for e in reversed(events))
    assert block.row_values is not None  # the sender's block is left as it was
