"""A read under read_committed reaches the last stable offset, not the high watermark.

An index that recorded the high watermark while a transaction was open would never read
the transaction's records once committed; the reader's ``reached`` is what it may record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Producer
from kafka_helpers import Rec, produce

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, TopicReader, plan_ranges

pytestmark = pytest.mark.kafka


def _all(batches: Iterator[list[Event]]) -> list[Event]:
    return [ev for batch in batches for ev in batch]


def test_an_open_transaction_stops_reached_at_the_last_stable_offset(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    # Partition 1 has plain records only: it must reach its planned end regardless.
    produce(
        kafka_bootstrap, topic, [Rec(b'{"eventType":"Plain"}', partition=p) for p in (0, 1)] * 10
    )
    tx = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    tx.init_transactions(30)
    tx.begin_transaction()
    for i in range(5):
        tx.produce(topic, f'{{"eventType":"InTx","i":{i}}}'.encode(), partition=0)
    tx.flush(30)

    profile = ConnectionProfile(kafka_bootstrap)
    plan = plan_ranges(Cluster(profile).topic(topic))
    assert plan == [PartitionRange(0, 0, 15), PartitionRange(1, 0, 10)]  # high watermarks
    reader = TopicReader(profile, topic, Decoder())
    events = _all(reader.read(plan))
    assert sorted((e.partition, e.offset) for e in events) == [
        (p, o) for p in (0, 1) for o in range(10)
    ]
    assert reader.stats.reached == {0: 10, 1: 10}  # the LSO of 0, the end of 1
    assert reader.stats.pending == {0: 5}
    assert reader.stats.gaps == {}
    assert reader.stats.complete

    tx.commit_transaction(30)
    # The next run starts where the first one really got to, and finds the records.
    (p0,) = [p for p in Cluster(profile).topic(topic).partitions if p.partition == 0]
    assert p0.high == 16  # five records and the commit marker
    again = TopicReader(profile, topic, Decoder())
    later = _all(again.read([PartitionRange(0, reader.stats.reached[0], p0.high)]))
    assert [(e.offset, e.type) for e in later] == [(o, "InTx") for o in range(10, 15)]
    assert again.stats.reached == {0: 16}
    assert again.stats.pending == {}
    assert again.stats.gaps == {0: 1}  # the marker


def test_an_aborted_transaction_is_skipped_and_reached_goes_past_it(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    tx = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    tx.init_transactions(30)
    tx.begin_transaction()
    for _ in range(4):
        tx.produce(topic, b'{"eventType":"Aborted"}')
    tx.flush(30)  # in the log, then aborted (abort alone would only drop them unsent)
    tx.abort_transaction(30)
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"After"}')] * 3)
    profile = ConnectionProfile(kafka_bootstrap)
    reader = TopicReader(profile, topic, Decoder())
    events = _all(reader.read(plan_ranges(Cluster(profile).topic(topic))))
    assert [e.type for e in events] == ["After"] * 3
    assert [e.offset for e in events] == [5, 6, 7]  # 0-3 aborted, 4 the abort marker
    assert reader.stats.reached == {0: 8}
    assert reader.stats.gaps == {0: 5}
    assert reader.stats.complete


def test_reached_counts_the_records_a_key_filter_skipped(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    produce(kafka_bootstrap, topic, [Rec(b"{}", key=f"k{i % 4}".encode()) for i in range(40)])
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder(), key=b"k3")
    events = _all(reader.read([PartitionRange(0, 0, 30)]))
    assert [e.offset for e in events] == list(range(3, 30, 4))
    assert reader.stats.reached == {0: 30}
    assert reader.stats.gaps == {}  # the other keys' records were there, only skipped


def test_a_cancelled_read_reached_only_what_it_yielded(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    from kafka_io.cancel import CancelToken

    topic = make_topic(1)
    produce(kafka_bootstrap, topic, [Rec(b"{}")] * 3000)
    cancel = CancelToken()
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder(), batch_size=200)
    got: list[Event] = []
    for batch in reader.read([PartitionRange(0, 0, 3000)], cancel):
        got += batch
        cancel.cancel()
    assert reader.stats.cancelled
    assert reader.stats.incomplete == "cancelled"
    assert not reader.stats.complete
    assert 0 < len(got) < 3000
    assert reader.stats.reached == {0: got[-1].offset + 1}
    assert reader.stats.pending == {}  # unread, not unreadable
