"""Bulk decoding (kafka_io.bulk_decode) of records read from the real broker: a topic
written by a plain confluent-kafka producer (CRC32 partitioner), with hostile records
among plain envelopes, decodes to exactly the columns the whole decode gives; plain
envelopes never reach the whole decode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from confluent_kafka import Message, Producer

from kafka_io.bulk_decode import decode_columns
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.event_columns import EventColumns
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import TopicReader, plan_ranges

pytestmark = pytest.mark.kafka

HOSTILE: list[tuple[bytes | None, bytes | None, list[tuple[str, str | bytes | None]] | None]] = [
    (b"acc-1", b'{"eventType":"Big","x":1e999}', None),  # orjson: infinity
    (b"acc-1", b'{"eventType":"Long","x":' + b"9" * 320 + b"}", None),  # infinity too
    (b"acc-2", b'{"eventType":"Bytes","x":"\xff\xfe"}', None),  # not UTF-8
    (b"acc-2", b'{"eventType":"Surrogate","x":"\xed\xa0\x80"}', None),
    (b"acc-3", b'{"eventType":"Deep","x":' + b"[" * 600 + b"]" * 600 + b"}", None),  # both take it
    (b"acc-3", b'{"eventType":"", "type":"FromTypeField"}', None),
    (b"acc-3", b'{"type":"NoEventType"}', None),
    (b"acc-4", b"[1, 2]", None),
    (b"acc-4", b'{"eventType":"Broken",', None),
    (b"acc-4", None, None),  # a tombstone
    (None, b'{"eventType":"NoKey","aggregateId":"acc-9"}', None),
    (b"", b'{"eventType":"EmptyKey","aggregateId":"acc-8"}', None),
    (b"\xc3\x28", b'{"eventType":"BinaryKey"}', None),
    (b"acc-5", b'{"eventType":"Body"}', [("eventType", b"FromHeader")]),
    (b"acc-5", b'{"eventType":"Dup","eventType":"DupLast"}', None),
    (b"acc-5", b'{"eventType":"Uuid","id":"123e4567-e89b-12d3-a456-426614174000"}', None),
    (b"acc-6", b'{"eventType":"Exp","amount":2.5e-300,"n":1E+299}', None),
]


def read_back(bootstrap: str, topic: str) -> list[list[Message]]:
    profile = ConnectionProfile(bootstrap)
    ranges = plan_ranges(Cluster(profile).topic(topic))
    return list(TopicReader(profile, topic, Decoder()).records(ranges))


@pytest.fixture
def mixed_topic(kafka_bootstrap: str, make_topic: Callable[..., str]) -> str:
    topic = make_topic(3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
    for i in range(300):  # plain envelopes, then the hostile ones among more envelopes
        producer.produce(topic, b'{"eventType":"Plain","n":%d}' % i, b"acc-%d" % (i % 7))
    for i, (key, value, headers) in enumerate(HOSTILE):
        producer.produce(topic, value, key, headers=headers)
        producer.produce(topic, b'{"eventType":"After","n":%d}' % i, b"acc-%d" % i)
    assert producer.flush(30) == 0
    return topic


def test_hostile_records_decode_in_bulk_as_they_decode_whole(
    kafka_bootstrap: str, mixed_topic: str
) -> None:
    batches = read_back(kafka_bootstrap, mixed_topic)
    assert sum(map(len, batches)) == 300 + 2 * len(HOSTILE)
    whole, bulk = Decoder(ValueFormat.JSON), Decoder(ValueFormat.JSON)
    for records in batches:
        expected = EventColumns.of_events(whole.decode_messages(records))
        got = decode_columns(bulk, records)
        for name in ("partitions", "offsets", "timestamps", "keys", "types", "aggregates",
                     "headers", "errors", "values"):  # fmt: skip
            assert getattr(got, name) == getattr(expected, name), name
    types = {t for records in batches for t in decode_columns(Decoder("json"), records).types}
    assert {"FromTypeField", "NoEventType", "FromHeader", "DupLast", "Uuid"} <= types


def test_plain_envelopes_never_reach_the_whole_decode(
    kafka_bootstrap: str, mixed_topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoder = Decoder(ValueFormat.JSON)
    wholly: list[int] = []
    decode_messages = decoder.decode_messages

    def counting(records: Sequence[Any]) -> list[Event]:
        wholly.extend(r.offset() or 0 for r in records)
        return decode_messages(records)

    monkeypatch.setattr(decoder, "decode_messages", counting)
    decoded = [
        decode_columns(decoder, records) for records in read_back(kafka_bootstrap, mixed_topic)
    ]
    in_bulk = ("Plain", "After", "Deep", "Uuid", "Exp", "DupLast")
    assert sum(t in in_bulk for c in decoded for t in c.types) == 300 + len(HOSTILE) + 4
    # Only the hostile records that are not plain envelopes were decoded whole.
    assert len(wholly) == len(HOSTILE) - 4
