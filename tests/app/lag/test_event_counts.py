"""Event counts per time bucket and type (the rate chart's data), against a plain count."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from app.lag.rates import OTHER_TYPES, count_events, keep_top_types


def _naive_counts(ts: np.ndarray, ids: np.ndarray, width: int) -> Counter[tuple[int, int]]:
    pairs = zip(ts.tolist(), ids.tolist(), strict=True)
    return Counter((t // width * width, k) for t, k in pairs if t >= 0)


@pytest.mark.parametrize("spread_ms", [3_600_000 * 5, 3_600_000 * 24 * 365 * 20])
def test_count_events_matches_a_plain_count(spread_ms: int) -> None:
    rng = np.random.default_rng(7)
    n, names = 5000, ["Created", "Renamed", "Deleted", "Archived"]
    ts = 1_600_000_000_000 + rng.integers(0, spread_ms, n)
    ts[:10] = -1  # no timestamp: left out
    ids = rng.integers(0, len(names), n)
    counts = count_events(ts, ids, names, "minute")
    expected = _naive_counts(ts, ids, 60_000)
    got = Counter(
        {
            (int(start), k): int(counts.counts[i, k])
            for i, start in enumerate(counts.starts_ms)
            for k in range(len(names))
            if counts.counts[i, k]
        }
    )
    assert got == expected
    assert counts.totals.sum() == n - 10
    assert np.all(np.diff(counts.starts_ms) > 0)
    assert np.all(counts.totals > 0)  # only non-empty buckets


def test_bucket_lookup_and_time_range() -> None:
    counts = count_events([0, 59_999, 3_600_000 + 5], [0, 1, 1], ["a", "b"], "hour")
    assert counts.starts_ms.tolist() == [0, 3_600_000]
    assert counts.counts.tolist() == [[1, 1], [0, 1]]
    assert counts.bucket_at(3_600_000 + 100) == 1
    assert counts.time_range(1) == (3_600_000, 7_200_000)
    sparse = count_events([0, 3 * 3_600_000], [0, 0], ["a"], "hour")
    assert sparse.bucket_at(3_600_000 + 1) is None  # an empty hour between


def test_count_events_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="type ids"):
        count_events([1, 2], [0, 5], ["a"])
    with pytest.raises(ValueError, match="bucket width"):
        count_events([1], [0], ["a"], "fortnight")
    with pytest.raises(ValueError, match="timestamps"):
        count_events([1, 2], [0], ["a"])
    empty = count_events(np.zeros(0), np.zeros(0), ["a"])
    assert len(empty) == 0 and empty.counts.shape == (0, 1)


def test_keep_top_types_folds_the_rest_into_other() -> None:
    rng = np.random.default_rng(1)
    names = [f"Type{i}" for i in range(15)]
    ids = rng.zipf(1.5, 4000) % 15
    ts = rng.integers(0, 600_000, 4000)
    counts = count_events(ts, ids, names)
    top = keep_top_types(counts, keep=4)
    assert len(top.type_names) == 5 and top.type_names[-1] == OTHER_TYPES
    np.testing.assert_array_equal(top.totals, counts.totals)
    per_type = counts.counts.sum(axis=0)
    assert top.counts[:, 0].sum() == per_type.max()
    few = keep_top_types(count_events([1, 2], [0, 1], ["a", "b"]), keep=4)
    assert few.type_names == ("a", "b")
