"""The kept log order merges each appended batch in; after any sequence of appends it is
the order one sort of all the rows gives, and its rank is its inverse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.index.log_order import LogOrder, log_order_of

# One partition's records: (timestamp step, how many). Steps of zero make ties.
partition_runs = st.lists(st.integers(0, 3), min_size=0, max_size=40)


def interleaved(runs: list[list[int]], seed: int) -> tuple[np.ndarray, ...]:
    """Rows as a reader delivers them: each partition in offset order, partitions
    interleaved at random (so batches overlap in time)."""
    rng = np.random.default_rng(seed)
    queues = [[(p, o, 1000 + sum(steps[: o + 1])) for o in range(len(steps))]
              for p, steps in enumerate(runs)]  # fmt: skip
    rows: list[tuple[int, int, int]] = []
    while any(queues):
        live = [q for q in queues if q]
        rows.append(live[int(rng.integers(len(live)))].pop(0))
    cols = np.array(rows, np.int64).reshape(-1, 3)
    return cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].copy()


@settings(max_examples=150, deadline=None)
@given(
    runs=st.lists(partition_runs, min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 30), min_size=1, max_size=20),
    seed=st.integers(0, 2**16),
    ask_rank=st.booleans(),
)
def test_appended_batches_give_the_order_of_one_sort(
    runs: list[list[int]], cuts: list[int], seed: int, ask_rank: bool
) -> None:
    parts, offs, ts = interleaved(runs, seed)
    kept = LogOrder()
    base = 0
    for cut in cuts * (len(parts) // max(1, sum(cuts)) + 1):
        if base >= len(parts):
            break
        end = min(len(parts), base + cut)
        # Timestamps do not step back here, so the effective timestamps are the timestamps.
        kept.extend(ts[:end], parts[:end], offs[:end], base)
        base = end
        order = kept.order(ts[:end], parts[:end], offs[:end])
        assert np.array_equal(order, log_order_of(parts[:end], offs[:end], ts[:end]))
        if ask_rank:
            rank = kept.rank(ts[:end], parts[:end], offs[:end])
            assert np.array_equal(rank[order], np.arange(end))
