"""TopicIndex: columns, lazy decoding, log order, sparse fields."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from evfactory import BASE_MS, envelope, log_sorted, random_events

from app.index.topic_index import TopicIndex
from kafka_io.decode import Decoder
from kafka_io.event import Event, EventRef


def build(events: list[Event], batch: int = 97, **kw: object) -> TopicIndex:
    index = TopicIndex(events[0].topic if events else "t", **kw)  # type: ignore[arg-type]
    for i in range(0, len(events), batch):
        index.append(events[i : i + batch])
    return index


def comparable(ev: Event) -> tuple[object, ...]:
    return (ev.topic, ev.partition, ev.offset, ev.timestamp_ms, ev.key, ev.type, ev.aggregate,
            ev.headers, ev.value)  # fmt: skip


def test_every_stored_field_comes_back() -> None:
    events = random_events(700)
    index = build(events)
    assert len(index) == 700
    for row, ev in enumerate(events):
        got = index.event(row)
        assert comparable(got) == comparable(ev)
        assert index.ref(row) == EventRef.of(ev)
        assert index.error_of(row) == ev.error
        assert index.value_size(row) == len(ev.value or b"")
    # the odd records the factory made are really there
    assert any(isinstance(e.key, bytes) for e in events)
    assert any(e.key is None for e in events)
    assert any(e.value is None for e in events)


def test_decoding_through_the_real_decoder_matches_the_read() -> None:
    events = random_events(200, seed=3)
    index = build(events, decoder=Decoder())
    for row, ev in enumerate(events):
        got = index.event(row)
        if ev.value is not None:
            assert got.data == orjson.loads(ev.value)
        # the stored type/aggregate win, so queries and events always agree
        assert (got.type, got.aggregate) == (ev.type, ev.aggregate)
        if ev.error is not None:
            assert got.error is not None


def test_without_decoder_values_are_read_as_json() -> None:
    ev = envelope("t", 0, 0, BASE_MS, "a", "T", {"x": 1})
    bad = envelope("t", 0, 1, BASE_MS, "a", "T", None, value=b"\x00\x01 not json")
    index = build([ev, bad])
    assert index.event(0).data == {"eventType": "T", "aggregateId": "a", "payload": {"x": 1}}
    assert index.event(1).data is None
    assert "not JSON" in (index.event(1).error or "")


def test_events_are_private_copies() -> None:
    index = build(random_events(20))
    first = index.event(3)
    first.data["payload"]["amount"] = -1
    again = index.event(3)
    assert again.data["payload"]["amount"] != -1
    assert index.event(3) is not index.event(3)


def test_names_are_interned_once() -> None:
    events = random_events(1000, aggregates=12)
    index = build(events)
    assert sorted(index.type_names) == sorted({e.type for e in events})
    assert sorted(index.aggregate_names) == sorted({e.aggregate for e in events if e.aggregate})
    assert index.aggregate_id("nope") is None
    # only keys that differ from the aggregate are stored
    differing = {e.key for e in events if e.key is not None and e.key != e.aggregate}
    assert set(index.key_names) == differing


def test_headers_are_sparse_and_exact() -> None:
    events = random_events(100)
    index = build(events)
    with_headers = [i for i, e in enumerate(events) if e.headers]
    assert 0 < len(with_headers) < 100
    assert len(index._headers.rows.view()) == len(with_headers)
    assert index.headers_of(0) == (("traceId", b"t0"), ("empty", None))
    assert index.headers_of(1) == ()


@pytest.mark.parametrize("step_back", [False, True])
@pytest.mark.parametrize("batch", [1, 13, 10_000])
def test_log_order_matches_the_definition(step_back: bool, batch: int) -> None:
    events = random_events(600, seed=11, step_back=step_back)
    index = build(events, batch=batch)
    expected = [(e.partition, e.offset) for e in log_sorted(events)]
    order = index.log_order()
    assert [(int(index.partition_col[r]), int(index.offset_col[r])) for r in order] == expected
    rank = index.rank()
    assert np.array_equal(rank[order], np.arange(len(order)))


def test_log_order_keeps_up_with_appends() -> None:
    events = random_events(500, seed=5)
    index = TopicIndex("bank-accounts")
    for i in range(0, 500, 50):
        index.append(events[i : i + 50])
        index.log_order()  # computed, then extended or recomputed by the next append
        index.rank()
    fresh = build(events, batch=500)
    assert np.array_equal(index.log_order(), fresh.log_order())
    assert np.array_equal(index.rank(), fresh.rank())


def test_a_clock_stepping_back_never_reorders_a_partition() -> None:
    ts = [BASE_MS + 100, BASE_MS + 50, BASE_MS + 200]  # offset 1 is "earlier" than offset 0
    events = [envelope("t", 0, i, t, "a", "T", {}) for i, t in enumerate(ts)]
    events.append(envelope("t", 1, 0, BASE_MS + 75, "b", "T", {}))
    index = build(events)
    order = index.log_order().tolist()
    assert order == [3, 0, 1, 2]  # p1@75, then partition 0 in offset order
    assert index.effective_timestamp_col.tolist() == [BASE_MS + 100, BASE_MS + 100,
                                                      BASE_MS + 200, BASE_MS + 75]  # fmt: skip


def test_offsets_arriving_unsorted_are_still_ordered() -> None:
    events = [envelope("t", 0, o, BASE_MS + o, "a", "T", {}) for o in (5, 3, 4)]
    index = build(events, batch=1)
    assert [int(index.offset_col[r]) for r in index.log_order()] == [3, 4, 5]


def test_rows_for_aggregate_are_in_log_order() -> None:
    events = random_events(800, seed=9)
    index = build(events)
    want = [(e.partition, e.offset) for e in log_sorted(events) if e.aggregate == "acc-007"]
    rows = index.rows_for_aggregate("acc-007")
    assert [(int(index.partition_col[r]), int(index.offset_col[r])) for r in rows] == want
    assert len(index.rows_for_aggregate("missing")) == 0


def test_partition_bookkeeping_and_positions() -> None:
    events = random_events(300, partitions=3)
    index = build(events)
    for p in range(3):
        mine = [e for e in events if e.partition == p]
        st = index.partitions[p]
        assert st.count == len(mine)
        assert st.first_offset == mine[0].offset
        assert st.next_offset == mine[-1].offset + 1
        assert st.first_timestamp_ms == mine[0].timestamp_ms
    index.mark_position(0, 10_000)
    assert index.partitions[0].next_offset == 10_000
    index.mark_position(0, 5)  # never goes back
    assert index.partitions[0].next_offset == 10_000


def test_several_topics_in_one_index() -> None:
    a = envelope("orders", 0, 0, BASE_MS, "o1", "OrderPlaced", {})
    b = envelope("payments", 0, 0, BASE_MS + 1, "o1", "PaymentProcessed", {})
    index = TopicIndex("orders")
    index.append([a, b])
    assert [index.event(0).topic, index.event(1).topic] == ["orders", "payments"]


def test_memory_is_compact() -> None:
    events = random_events(5000)
    index = build(events, batch=5000)
    value_bytes = sum(len(e.value or b"") for e in events)
    # columns cost tens of bytes per event on top of the values themselves
    assert index.memory_bytes() - value_bytes < 5000 * 80


def test_readers_and_a_saver_work_while_another_thread_appends(tmp_path: object) -> None:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from app.index import store as index_store
    from app.index.query import Query, run_query
    from app.replay.replayer import Replayer

    events = random_events(20_000, seed=31, partitions=4, aggregates=50)
    index = TopicIndex("bank-accounts", cluster_id="c")
    index.append(events[:1000])
    done = threading.Event()
    errors: list[BaseException] = []

    def guard(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                while not done.is_set():
                    fn()
            except BaseException as exc:  # reported by the test below
                errors.append(exc)
                done.set()

        return run

    def query() -> None:
        n = len(index)
        rows = run_query(index, Query(text="rent", types=frozenset({"MoneyDeposited"})))
        assert len(rows) == 0 or rows.max() < len(index)
        assert len(run_query(index, Query())) >= n

    def replay() -> None:
        rp = Replayer.from_index(index, "acc-007", lambda s, e: (s or 0) + 1)
        assert rp.state() == len(rp)

    def save() -> None:
        index_store.save(index, Path(str(tmp_path)))

    workers = [threading.Thread(target=guard(f)) for f in (query, replay, save)]
    for w in workers:
        w.start()
    for i in range(1000, len(events), 250):
        index.append(events[i : i + 250])
    done.set()
    for w in workers:
        w.join(60)
    assert not errors, errors
    saved, note = index_store.load_or_new("c", "bank-accounts", cache_dir=Path(str(tmp_path)))
    assert note is None and 1000 <= len(saved) <= len(events)
    assert all(saved.event(r) == index.event(r) for r in range(0, len(saved), 97))
    assert np.array_equal(index.log_order(), build(events, batch=20_000).log_order())


def test_fingerprints_owed_stay_few_however_many_batches_are_appended() -> None:
    """A follow appends a small batch many times a second: only the current first and
    last row of each partition are owed a fingerprint, and what a snapshot resolves is
    what one append of everything gives."""
    from app.index.state import snapshot

    events = random_events(3000, seed=8, partitions=3)
    followed, whole = TopicIndex("t", Decoder()), TopicIndex("t", Decoder())
    for i in range(0, len(events), 20):
        followed.append(events[i : i + 20])
        assert len(followed._book._unresolved) <= 2 * 3
    whole.append(events)
    assert snapshot(followed).partitions == snapshot(whole).partitions
