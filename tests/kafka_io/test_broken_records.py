"""Every kind of bad record read from the real broker arrives as an Event with its error
and its bytes; nothing is dropped and nothing raises out of the read."""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Callable

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from kafka_helpers import Rec, produce

from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import read_topic
from kafka_io.registry import make_registry

pytestmark = pytest.mark.kafka

SCHEMA = {
    "type": "record",
    "name": "MoneyDeposited",
    "namespace": "bank",
    "fields": [{"name": "accountId", "type": "string"}, {"name": "amount", "type": "long"}],
}


def _wire(schema_id: int, record: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(SCHEMA), record)
    return b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()


def _read(bootstrap: str, topic: str, decoder: Decoder) -> dict[int, Event]:
    events = [
        ev for batch in read_topic(ConnectionProfile(bootstrap), topic, decoder) for ev in batch
    ]
    return {ev.offset: ev for ev in events}


def test_avro_topic_with_broken_records(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    sid = client.register_schema(f"{topic}-value", Schema(json.dumps(SCHEMA), "AVRO"))
    good = _wire(sid, {"accountId": "acc-1", "amount": 250})
    unknown = 2_000_000_000  # far beyond any id a test session registers
    values = [
        good,  # 0: fine
        good[:-3],  # 1: truncated Avro body
        _wire(unknown, {"accountId": "acc-1", "amount": 1}),  # 2: unknown schema id
        os.urandom(64).replace(b"\x00", b"\x01"),  # 3: random bytes, no magic byte
        None,  # 4: tombstone
    ]
    produce(kafka_bootstrap, topic, [Rec(v, key=b"acc-1") for v in values])
    registry = make_registry({"url": schema_registry_url})
    events = _read(kafka_bootstrap, topic, Decoder(ValueFormat.AVRO, registry=registry))

    assert len(events) == len(values), "nothing is dropped"
    ok = events[0]
    assert ok.error is None
    assert ok.data == {"accountId": "acc-1", "amount": 250}
    assert ok.type == "MoneyDeposited"
    assert ok.schema_id == sid
    for offset in (1, 2, 3):
        assert events[offset].error, f"offset {offset} should carry an error"
        assert events[offset].value == values[offset], "raw bytes are kept"
        assert events[offset].data is None
    assert str(unknown) in (events[2].error or "")
    assert events[4].value is None and events[4].error is None


def test_json_topic_with_broken_records(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    envelope = {
        "eventId": "e1",
        "eventType": "OrderPlaced",
        "aggregateId": "order-9",
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": {"total": 12},
    }
    big = json.dumps({"eventType": "Blob", "payload": {"pad": "x" * 5_000_000}}).encode()
    values = [
        json.dumps(envelope).encode(),  # 0: envelope
        b'{"eventType": "OrderPlaced", "payload": {"tot',  # 1: truncated JSON
        b"\x8f\x00\x13\xff",  # 2: not JSON, not UTF-8
        big,  # 3: 5 MB value
        None,  # 4: tombstone
    ]
    keys = [b"order-9", b"order-9", b"\xc3\x28bad-utf8", b"big", b"order-9"]
    produce(kafka_bootstrap, topic, [Rec(v, key=k) for v, k in zip(values, keys, strict=True)])
    events = _read(kafka_bootstrap, topic, Decoder(ValueFormat.JSON))

    assert len(events) == len(values)
    assert events[0].error is None and events[0].type == "OrderPlaced"
    assert events[0].aggregate == "order-9"
    assert events[0].data["payload"] == {"total": 12}
    assert events[1].error and "JSON" in events[1].error.upper()
    assert events[1].value == values[1]
    assert events[2].error and events[2].value == values[2]
    assert events[2].key == keys[2], "a non-UTF-8 key stays bytes"
    assert events[3].error is None and len(events[3].value or b"") == len(big)
    assert events[3].data["payload"]["pad"] == "x" * 5_000_000
    assert events[4].value is None and events[4].error is None
