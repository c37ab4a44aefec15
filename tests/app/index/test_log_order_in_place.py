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
