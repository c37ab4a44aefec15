"""The kept log order rewrites only the merged end of its tail when nobody holds a view
of it: appends with no reads between them still give the order of one sort, and a view
handed out before a merge keeps what it showed."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_log_order import interleaved, partition_runs

from app.index.log_order import LogOrder, log_order_of


@settings(max_examples=150, deadline=None)
@given(
    runs=st.lists(partition_runs, min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 30), min_size=1, max_size=20),
    seed=st.integers(0, 2**16),
    look_every=st.integers(1, 6),
)
def test_appends_between_looks_give_the_order_of_one_sort(
    runs: list[list[int]], cuts: list[int], seed: int, look_every: int
) -> None:
    parts, offs, ts = interleaved(runs, seed)
    kept = LogOrder()
    base, step = 0, 0
    seen: list[tuple[np.ndarray, np.ndarray]] = []  # views handed out, and a copy of each
    for cut in cuts * (len(parts) // max(1, sum(cuts)) + 1):
        if base >= len(parts):
            break
        end = min(len(parts), base + cut)
        kept.extend(ts[:end], parts[:end], offs[:end], base)
        base, step = end, step + 1
        if step % look_every == 0:
            _, tail = kept.parts(ts[:end], parts[:end], offs[:end])
            seen.append((tail, tail.copy()))
    order = kept.order(ts[:base], parts[:base], offs[:base])
    assert np.array_equal(order, log_order_of(parts[:base], offs[:base], ts[:base]))
    for view, copy in seen:
        assert np.array_equal(view, copy)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    cut=st.integers(1, 300),
    share=st.sampled_from([0.005, 0.02, 0.1, 0.5, 1.0]),
)
def test_some_rows_sorted_into_log_order(seed: int, cut: int, share: float) -> None:
    """A few rows (one aggregate's) or many, of an index whose order has a long tail."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, 4, size=(6, 400))
    runs = [list(map(int, row)) for row in steps]
    parts, offs, ts = interleaved(runs, seed)
    kept = LogOrder()
    for base in range(0, len(parts), cut):
        end = min(len(parts), base + cut)
        kept.extend(ts[:end], parts[:end], offs[:end], base)
    rows = np.flatnonzero(rng.random(len(parts)) < share).astype(np.int64)
    rng.shuffle(rows)
    rank = np.argsort(log_order_of(parts, offs, ts))
    expected = rows[np.argsort(rank[rows])]
    assert np.array_equal(kept.sort_rows(rows, ts, parts, offs), expected)


def test_the_tail_is_copied_only_while_someone_holds_a_view_of_it() -> None:
    """A follow's table looks at the order after every few batches; once its views are
    gone the next merge rewrites the tail's end in place, and a view still held keeps
    what it showed (the tail is copied for that merge only)."""
    # Two partitions whose timestamps interleave: every batch merges into the tail.
    n = 4000
    parts = np.arange(n, dtype=np.int64) % 2
    offs = np.arange(n, dtype=np.int64) // 2
    ts = 1000 + (np.arange(n, dtype=np.int64) ^ 1)  # each pair arrives in reverse order
    kept = LogOrder()
    kept.extend(ts[:101], parts[:101], offs[:101], 0)
    base = 101  # odd cuts split a pair: each batch's first row sorts before the last
    columns: list[object] = []  # the tail after each merge (held: their ids stay apart)
    ends = range(301, n, 200)
    for i, end in enumerate(ends):
        _, tail = kept.parts(ts[:base], parts[:base], offs[:base])
        held = tail.copy() if i % 3 == 2 else None
        if held is None:
            del tail  # looked at, then let go (as a refresh does)
        kept.extend(ts[:end], parts[:end], offs[:end], base)
        if held is not None:
            assert np.array_equal(tail, held)  # the view held keeps what it showed
            del tail
        columns.append(kept._tail)
        base = end
    cols = ts[:base], parts[:base], offs[:base]
    assert np.array_equal(kept.order(*cols), log_order_of(cols[1], cols[2], cols[0]))
    # A new tail only for the merges made while a view was held: the others rewrote it
    # in place.
    copies = len({id(c) for c in columns}) - 1
    assert copies == len(ends) // 3 > 0
