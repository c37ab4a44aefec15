"""Bounded reads from the real broker: by offset, by time, whole topic, cancel, progress."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kafka_helpers import Rec, produce

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import (
    CancelToken,
    PartitionRange,
    ReadProgress,
    TopicReader,
    clip_to_times,
    plan_ranges,
    read_topic,
)

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000


def _all(batches: object) -> list[Event]:
    return [ev for batch in batches for ev in batch]  # type: ignore[attr-defined]


def _fill(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    produce(
        bootstrap,
        topic,
        [
            Rec(
                f'{{"eventType":"Tick","n":{i}}}'.encode(),
                key=f"agg-{p}".encode(),
                partition=p,
                timestamp_ms=T0 + i * 1000,
            )
            for p in range(partitions)
            for i in range(per_partition)
        ],
    )


def test_reads_a_partition_from_offset_a_to_b(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    _fill(kafka_bootstrap, topic, 2, 50)
    profile = ConnectionProfile(kafka_bootstrap)
    reader = TopicReader(profile, topic, Decoder())
    events = _all(reader.read([PartitionRange(1, 10, 20)]))
    assert [(e.partition, e.offset) for e in events] == [(1, o) for o in range(10, 20)]
    assert [e.data["n"] for e in events] == list(range(10, 20))
    assert reader.stats.assigned == [1]


def test_whole_topic_read_ends_at_the_watermarks_and_reports_progress(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    _fill(kafka_bootstrap, topic, 3, 400)
    seen: list[ReadProgress] = []
    profile = ConnectionProfile(kafka_bootstrap)
    events = _all(read_topic(profile, topic, Decoder(), on_progress=seen.append))
    assert len(events) == 1200
    assert {(e.partition, e.offset) for e in events} == {
        (p, o) for p in range(3) for o in range(400)
    }
    last = seen[-1]
    assert last.total == {0: 400, 1: 400, 2: 400}
    assert last.read == last.total
    assert all(e.type == "Tick" and e.aggregate == f"agg-{e.partition}" for e in events)


def test_read_by_timestamp_uses_offsets_for_times(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    _fill(kafka_bootstrap, topic, 2, 60)
    profile = ConnectionProfile(kafka_bootstrap)
    info = Cluster(profile).topic(topic)
    ranges = clip_to_times(profile, topic, plan_ranges(info), T0 + 10_000, T0 + 19_000)
    assert ranges == [PartitionRange(0, 10, 20), PartitionRange(1, 10, 20)]
    events = _all(read_topic(profile, topic, Decoder(), from_ms=T0 + 55_000))
    assert sorted((e.partition, e.offset) for e in events) == [
        (p, o) for p in range(2) for o in range(55, 60)
    ]
    assert all(e.timestamp_ms >= T0 + 55_000 for e in events)


def test_a_read_can_be_cancelled(kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic(1)
    _fill(kafka_bootstrap, topic, 1, 5000)
    cancel = CancelToken()
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder(), batch_size=500)
    got = 0
    for batch in reader.read([PartitionRange(0, 0, 5000)], cancel=cancel):
        got += len(batch)
        cancel.cancel()
    assert reader.stats.cancelled
    assert 0 < got < 5000


def test_empty_ranges_end_at_once(kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic(2)
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder())
    assert _all(reader.read([PartitionRange(0, 0, 0), PartitionRange(1, 0, 0)])) == []
    assert reader.stats.assigned == []


def test_headers_and_binary_keys_round_trip(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    headers = [("eventType", b"Hdr"), ("trace", b"\x00\xff"), ("empty", None), ("trace", b"2")]
    produce(kafka_bootstrap, topic, [Rec(b'{"a":1}', key=b"\xff\xfe", headers=headers)])
    (ev,) = _all(read_topic(ConnectionProfile(kafka_bootstrap), topic, Decoder()))
    assert ev.headers == tuple(headers)
    assert ev.key == b"\xff\xfe"
    assert ev.type == "Hdr"
    assert ev.header("trace") == "2"


def test_records_deleted_after_planning_end_the_read_and_are_reported(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    topic = make_topic(1)
    _fill(kafka_bootstrap, topic, 1, 50)
    profile = ConnectionProfile(kafka_bootstrap)
    ranges = plan_ranges(Cluster(profile).topic(topic))
    assert ranges == [PartitionRange(0, 0, 50)]
    # Retention (here: an explicit delete) removes offsets 0..29 before the read runs.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    for fut in admin.delete_records([TopicPartition(topic, 0, 30)]).values():
        fut.result(timeout=30)
    reader = TopicReader(profile, topic, Decoder())
    events = _all(reader.read(ranges))
    assert [e.offset for e in events] == list(range(30, 50))
    assert reader.stats.gaps == {0: 30}


def test_transaction_markers_do_not_keep_a_read_waiting(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    from confluent_kafka import Producer

    topic = make_topic(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, f'{{"eventType":"T","i":{i}}}'.encode(), b"k")
    producer.commit_transaction(30)
    profile = ConnectionProfile(kafka_bootstrap)
    (part,) = Cluster(profile).topic(topic).partitions
    assert part.high == 11  # ten records and the commit marker
    reader = TopicReader(profile, topic, Decoder())
    events = _all(reader.read(plan_ranges(Cluster(profile).topic(topic))))
    assert [e.offset for e in events] == list(range(10))
    assert reader.stats.gaps == {0: 1}


def test_a_key_filtered_read_decodes_only_that_key(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    produce(
        kafka_bootstrap,
        topic,
        [Rec(b'{"eventType":"E"}', key=f"agg-{i % 3}".encode()) for i in range(90)],
    )
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder(), key=b"agg-1")
    events = _all(reader.read([PartitionRange(0, 0, 60)]))
    assert [e.offset for e in events] == list(range(1, 60, 3))
    assert {e.aggregate for e in events} == {"agg-1"}
