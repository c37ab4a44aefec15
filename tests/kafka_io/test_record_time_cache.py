"""The record-time cache on its own: least recently used, expiring, asked before the log.

No broker here: a lookup that the cache answers must not even open a consumer, so the
profile points at a port nobody listens on.  (The same through the sampler, against
the real broker, is in test_lag_age.py.)
"""

from __future__ import annotations

import math
import time

from kafka_io.profile import ConnectionProfile
from kafka_io.record_time import CachedLookup, RecordTime, RecordTimeCache, RecordTimes

FOREVER = math.inf


def found(ts: int, offset: int, expires: float = FOREVER) -> CachedLookup:
    return CachedLookup(RecordTime(ts, offset), None, expires)


def test_least_recently_used_is_evicted_first() -> None:
    cache = RecordTimeCache(capacity=2)
    cache.put(("t", 0, 1), found(100, 1))
    cache.put(("t", 0, 2), found(200, 2))
    assert cache.get(("t", 0, 1), 0.0) is not None  # now the most recently used
    cache.put(("t", 0, 3), found(300, 3))
    assert len(cache) == 2
    assert cache.get(("t", 0, 2), 0.0) is None
    hit = cache.get(("t", 0, 1), 0.0)
    assert hit is not None and hit.found == RecordTime(100, 1)


def test_expired_answers_are_dropped() -> None:
    cache = RecordTimeCache()
    cache.put(("t", 0, 1), found(100, 4, expires=10.0))  # the next record: rechecked
    cache.put(("t", 0, 2), CachedLookup(None, "nothing readable", 10.0))
    assert cache.get(("t", 0, 1), 9.9) is not None
    assert cache.get(("t", 0, 1), 10.0) is None
    assert cache.get(("t", 0, 2), 10.5) is None
    assert len(cache) == 0


def test_capacity_grows_to_hold_two_rounds() -> None:
    cache = RecordTimeCache(capacity=10)
    cache.fit(40)
    assert cache.capacity == 80
    cache.fit(5)
    assert cache.capacity == 80


def test_cached_offsets_cost_no_read() -> None:
    times = RecordTimes(ConnectionProfile("127.0.0.1:1"))
    times.cache.put(("t", 0, 7), found(1_000, 7))
    times.cache.put(("t", 1, 3), found(2_000, 5, expires=time.monotonic() + 60))
    times.cache.put(("t", 2, 9), CachedLookup(None, "nothing readable", time.monotonic() + 60))
    result = times.lookup([("t", 0, 7), ("t", 1, 3), ("t", 2, 9)], time.monotonic() + 1)
    assert result.read == 0 and times.reads == 0
    assert result.found == {("t", 0, 7): RecordTime(1_000, 7), ("t", 1, 3): RecordTime(2_000, 5)}
    assert result.missing == {("t", 2, 9): "nothing readable"}
    assert times._consumer is None  # never needed one
