"""Queries against a brute-force filter over the same events."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from evfactory import BASE_MS, TYPES, envelope, log_sorted, random_events

from app.index import text_search as query_mod
from app.index.query import (
    Query,
    TypeCounts,
    complete_aggregate,
    count_by_aggregate,
    count_by_type,
    run_query,
)
from app.index.topic_index import TopicIndex
from kafka_io.event import Event

EVENTS = random_events(3000, seed=21, aggregates=40, step_back=True)


@pytest.fixture(scope="module")
def index() -> TopicIndex:
    idx = TopicIndex("bank-accounts")
    for i in range(0, len(EVENTS), 500):
        idx.append(EVENTS[i : i + 500])
    return idx


def key_text(ev: Event) -> str | bytes | None:
    return ev.key


def brute(events: list[Event], q: Query) -> list[tuple[int, int]]:
    def matches(e: Event) -> bool:
        if q.aggregate is not None:
            agg = e.aggregate or ""
            if q.aggregate_prefix:
                if e.aggregate is None or not agg.startswith(q.aggregate):
                    return False
            elif e.aggregate != q.aggregate:
                return False
        if q.types is not None and e.type not in q.types:
            return False
        if q.since_ms is not None and e.timestamp_ms < q.since_ms:
            return False
        if q.until_ms is not None and e.timestamp_ms > q.until_ms:
            return False
        if q.errors_only and e.error is None:
            return False
        if q.text:
            needle = q.text.encode()
            hay_value = e.value or b""
            key = e.key
            hay_key = key.encode() if isinstance(key, str) else (key or b"")
            if q.ignore_case:
                needle, hay_value, hay_key = needle.lower(), hay_value.lower(), hay_key.lower()
            if needle not in hay_value and needle not in hay_key:
                return False
        return True

    return [(e.partition, e.offset) for e in log_sorted(events) if matches(e)]


def got(index: TopicIndex, q: Query) -> list[tuple[int, int]]:
    rows = run_query(index, q)
    return [(int(index.partition_col[r]), int(index.offset_col[r])) for r in rows]


def random_query(rng: random.Random) -> Query:
    span = EVENTS[-1].timestamp_ms - BASE_MS
    since = BASE_MS + rng.randrange(span) if rng.random() < 0.5 else None
    until = (since or BASE_MS) + rng.randrange(span) if rng.random() < 0.5 else None
    agg = None
    prefix = False
    roll = rng.random()
    if roll < 0.3:
        agg = f"acc-{rng.randrange(45):03d}"  # some do not exist
    elif roll < 0.5:
        agg, prefix = rng.choice(["acc-0", "acc-01", "acc-", "zzz", ""]), True
    types = (
        frozenset(rng.sample([*TYPES, "Nope"], rng.randrange(1, 3))) if rng.random() < 0.5 else None
    )
    text = rng.choice([None, None, "rent", "salary", '"amount":1', "acc-00", "other-3",
                       "RENT", "\xff", "zz-none"])  # fmt: skip
    return Query(
        aggregate=agg,
        aggregate_prefix=prefix,
        types=types,
        since_ms=since,
        until_ms=until,
        text=text,
        ignore_case=rng.random() < 0.3,
        errors_only=rng.random() < 0.1,
    )


def test_random_queries_match_brute_force(index: TopicIndex) -> None:
    rng = random.Random(4)
    for _ in range(300):
        q = random_query(rng)
        assert got(index, q) == brute(EVENTS, q), q


def test_everything_and_nothing(index: TopicIndex) -> None:
    assert got(index, Query()) == brute(EVENTS, Query())
    assert len(run_query(index, Query(aggregate="nobody"))) == 0
    assert len(run_query(index, Query(types=frozenset()))) == 0


@pytest.mark.parametrize("text", ["rent", "a", '"', "RENT", "Salary"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_text_search_scan_paths_agree(
    index: TopicIndex, monkeypatch: pytest.MonkeyPatch, text: str, ignore_case: bool
) -> None:
    q = Query(text=text, ignore_case=ignore_case)
    expected = brute(EVENTS, q)
    assert got(index, q) == expected
    # force the vectorised scan, with chunks small enough to split matches
    monkeypatch.setattr(query_mod, "_FIND_LOOP_LIMIT", 0)
    monkeypatch.setattr(query_mod, "_SCAN_CHUNK", 1000)
    assert got(index, q) == expected
    # and the row-by-row path for selective queries
    q2 = Query(text=text, ignore_case=ignore_case, aggregate="acc-003")
    assert got(index, q2) == brute(EVENTS, q2)


def test_a_match_across_two_values_is_not_a_match() -> None:
    a = envelope("t", 0, 0, BASE_MS, "a", "T", None, value=b"xxab")
    b = envelope("t", 0, 1, BASE_MS, "b", "T", None, value=b"cdyy")
    idx = TopicIndex("t")
    idx.append([a, b])
    assert len(run_query(idx, Query(text="abcd"))) == 0
    assert run_query(idx, Query(text="ab")).tolist() == [0]


def test_counts(index: TopicIndex) -> None:
    q = Query(types=frozenset({"MoneyDeposited", "MoneyWithdrawn"}))
    rows = run_query(index, q)
    sel = [e for e in EVENTS if e.type in q.types]  # type: ignore[operator]
    assert count_by_type(index, rows) == dict(Counter(e.type for e in sel))
    by_agg = Counter(e.aggregate for e in sel if e.aggregate)
    full = count_by_aggregate(index, rows)
    assert dict(full) == dict(by_agg)
    assert [c for _, c in full] == sorted(by_agg.values(), reverse=True)
    first_seen: dict[str | None, int] = {}
    for e in EVENTS:  # ties keep the order of first appearance
        first_seen.setdefault(e.aggregate, len(first_seen))
    assert full == sorted(by_agg.items(), key=lambda t: (-t[1], first_seen[t[0]]))
    top = count_by_aggregate(index, rows, limit=3)
    assert top == full[:3]


def test_completion(index: TopicIndex) -> None:
    names = sorted({e.aggregate for e in EVENTS if e.aggregate})
    assert complete_aggregate(index, "acc-01") == [n for n in names if n.startswith("acc-01")]
    assert complete_aggregate(index, "acc-", limit=5) == names[:5]
    assert complete_aggregate(index, "zzz") == []


def test_results_follow_appends() -> None:
    idx = TopicIndex("bank-accounts")
    idx.append(EVENTS[:1000])
    q = Query(types=frozenset({"AccountOpened"}))
    assert got(idx, q) == brute(EVENTS[:1000], q)
    idx.append(EVENTS[1000:])
    assert got(idx, q) == brute(EVENTS, q)
    assert isinstance(run_query(idx, q), np.ndarray)


def test_type_counts_follow_a_growing_index_counting_only_what_was_appended() -> None:
    idx = TopicIndex("bank-accounts")
    counts = TypeCounts()
    assert counts.of(idx) == {}
    seen = 0
    for size in (1, 7, 500, 1200, 3000):
        idx.append(EVENTS[seen:size])
        seen = size
        assert counts.of(idx) == dict(Counter(e.type for e in EVENTS[:size]))
    assert counts.of(idx) == counts.of(idx)  # asked again: nothing counted twice
    other = TopicIndex("bank-accounts")
    other.append(EVENTS[:10])
    assert counts.of(other) == dict(Counter(e.type for e in EVENTS[:10]))  # a new index
