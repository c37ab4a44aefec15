"""Event files: byte-exact Avro export/import, foreign Avro files, kcat -J lines."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.eventfile import (
    EventFileError,
    detect_file_kind,
    iter_file_batches,
    open_event_file,
    read_kcat_jsonl,
    write_event_file,
)
from kafka_io.registry import make_registry

SCHEMA = {
    "type": "record",
    "name": "Shipped",
    "namespace": "com.shop",
    "fields": [{"name": "orderId", "type": "string"}, {"name": "parcels", "type": "int"}],
}


def coordinates(ev: Event) -> tuple[Any, ...]:
    """Everything an export must keep byte for byte."""
    return (ev.topic, ev.partition, ev.offset, ev.timestamp_ms, ev.key_bytes, ev.headers, ev.value)


def avro_value(schema_id: int, record: dict[str, Any]) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(SCHEMA), record)
    return b"\x00" + struct.pack(">I", schema_id) + body.getvalue()


@pytest.fixture
def mixed_events(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> tuple[list[Event], Decoder]:
    """JSON, Avro (through the real registry), tombstones, binary keys, odd headers."""
    subject = f"shipping-{uuid.uuid4().hex[:10]}-value"
    client = make_registry_client(schema_registry_url)
    sid = client.register_schema(subject, Schema(json.dumps(SCHEMA), "AVRO"))
    dec = Decoder(registry=make_registry({"url": schema_registry_url}))
    raw: list[tuple[Any, ...]] = [
        ("orders", 0, 0, 1_700_000_000_000, b"o-1", b'{"eventType":"Placed","n":1}', None),
        ("orders", 1, 5, 1_700_000_000_001, b"\xff\xfe\x00", b'{"eventType":"Paid"}', None),
        ("orders", 0, 1, 1_700_000_000_002, b"o-1", None, [("eventType", b"Deleted")]),
        ("orders", 0, 2, 1_700_000_000_003, b"", b"", [("h", None), ("h", b""), ("b", b"\x00")]),
        ("orders", 0, 3, 1_700_000_000_004, None, b'{"eventType":"Bad"', None),
        (
            "shipping",
            3,
            9,
            1_700_000_000_005,
            b"o-1",
            avro_value(sid, {"orderId": "o-1", "parcels": 2}),
            None,
        ),
        ("shipping", 3, 10, 1_700_000_000_006, None, None, None),
        ("logs", 0, 0, 1_700_000_000_007, None, "naïve ☃".encode(), [("k", "v€".encode())]),
    ]
    return dec.decode_rows(raw), dec


def test_round_trip_is_byte_exact_and_needs_no_registry(
    tmp_path: Path, mixed_events: tuple[list[Event], Decoder]
) -> None:
    events, dec = mixed_events
    path = tmp_path / "export.avro"
    assert write_event_file(path, events, dec.schemas_used, dec.formats) == len(events)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.avro"]  # no temp left
    opened = open_event_file(path)
    assert opened.native and opened.count == len(events)
    assert opened.topics == ("orders", "shipping", "logs")
    assert dict(opened.formats) == {"orders": "json", "shipping": "avro", "logs": "text"}
    assert list(opened.schemas) == [events[5].schema_id]
    back = list(opened.iter_events())  # decoder built from the file alone
    assert [coordinates(e) for e in back] == [coordinates(e) for e in events]
    assert [(e.type, e.aggregate, e.data, e.error) for e in back] == [
        (e.type, e.aggregate, e.data, e.error) for e in events
    ]
    assert back[5].data == {"orderId": "o-1", "parcels": 2}
    assert back[1].key == b"\xff\xfe\x00" and back[3].headers == (
        ("h", None),
        ("h", b""),
        ("b", b"\x00"),
    )


def test_streaming_export_takes_schemas_from_the_decoder(
    tmp_path: Path, mixed_events: tuple[list[Event], Decoder]
) -> None:
    events, dec = mixed_events
    consumed: list[int] = []

    def stream() -> Iterator[Event]:
        for ev in events:
            consumed.append(ev.offset)
            yield ev

    path = tmp_path / "stream.avro"
    assert write_event_file(path, stream(), decoder=dec) == len(events)
    assert len(consumed) == len(events)
    opened = open_event_file(path)
    sid = events[5].schema_id
    assert sid is not None
    assert opened.schemas == {sid: dec.schemas_used[sid]}
    assert [e.data for e in opened.iter_events()] == [e.data for e in events]


def test_batches_and_an_explicit_decoder(tmp_path: Path) -> None:
    events = Decoder().decode_rows(
        ("t", i % 3, i, 1_000 + i, str(i).encode(), orjson.dumps({"i": i}), None)
        for i in range(1234)
    )
    path = tmp_path / "many.avro"
    write_event_file(path, events, {})
    opened = open_event_file(path)
    sizes = [len(b) for b in opened.iter_batches(500)]
    assert sizes == [500, 500, 234]
    as_text = list(opened.iter_events(Decoder(ValueFormat.TEXT)))
    assert as_text[7].data == '{"i":7}'
    assert [coordinates(e) for e in as_text] == [coordinates(e) for e in events]


def test_a_failing_stream_leaves_no_file(tmp_path: Path) -> None:
    def broken() -> Iterator[Event]:
        yield from Decoder().decode_rows([("t", 0, 0, 0, None, b"{}", None)])
        raise RuntimeError("read aborted")

    with pytest.raises(RuntimeError, match="read aborted"):
        write_event_file(tmp_path / "x.avro", broken(), {})
    assert list(tmp_path.iterdir()) == []


def test_foreign_avro_files_open_as_events(tmp_path: Path) -> None:
    path = tmp_path / "dump.avro"
    rows = [{"orderId": f"o-{i}", "parcels": i} for i in range(3)]
    with path.open("wb") as fo:
        fastavro.writer(fo, fastavro.parse_schema(SCHEMA), rows)
    opened = open_event_file(path)
    assert not opened.native and opened.topics == ("dump",) and opened.count is None
    events = list(opened.iter_events())
    assert [e.data for e in events] == rows
    assert {e.type for e in events} == {"Shipped"}
    assert [e.offset for e in events] == [0, 1, 2]


def test_a_damaged_file_raises_a_clear_error(tmp_path: Path) -> None:
    events = Decoder().decode_rows(
        ("t", 0, i, i, None, orjson.dumps({"i": i, "pad": "x" * 50}), None) for i in range(3000)
    )
    path = tmp_path / "damaged.avro"
    write_event_file(path, events, {})
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    opened = open_event_file(path)
    assert opened.count == 3000  # the header is intact
    with pytest.raises(EventFileError, match="damaged after"):
        for _ in opened.iter_batches(100):
            pass


def test_not_an_event_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x89PNG\r\n not events")
    with pytest.raises(EventFileError, match="not an event file"):
        detect_file_kind(junk)
    bad_avro = tmp_path / "bad.avro"
    bad_avro.write_bytes(b"Obj\x01\xff\xff\xff")
    assert detect_file_kind(bad_avro) == "avro"
    with pytest.raises(EventFileError, match="not a readable Avro"):
        open_event_file(bad_avro)
    with pytest.raises(EventFileError, match="cannot open"):
        open_event_file(tmp_path / "missing.avro")


# -- kcat -J ----------------------------------------------------------------------------------


def test_kcat_lines_with_binary_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    lines = [
        b"% Auto-selecting Consumer mode (use -P or -C to override)",
        b'{"topic":"t","partition":1,"offset":5,"tstype":"create","ts":1700000000000,"broker":1,'
        b'"headers":["eventType","Placed","n",null],"key":"k1","payload":"{\\"a\\": 1}"}',
        b"% Reached end of topic t [1] at offset 6",
        b"",
        # kcat writes non-ASCII bytes raw (not valid UTF-8 here) and escapes control bytes.
        b'{"topic":"t","partition":1,"offset":6,"ts":1700000000001,"key":"\xff\\u0000",'
        b'"payload":"\\u0000\\u0000\\u0000\\u0000\\u0007\x80\xc3\xa9\\"\\\\"}',
        b'{"topic":"t","partition":0,"offset":0,"ts":1700000000002,"key":null,"payload":null}',
        b'{"topic":"t","partition":0}',
        b"not json at all",
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert detect_file_kind(path) == "kcat-jsonl"
    events = list(read_kcat_jsonl(path))
    assert len(events) == 5
    first, binary, tomb, missing, garbage = events
    assert (first.key, first.type, first.data) == ("k1", "Placed", {"a": 1})
    assert first.headers == (("eventType", b"Placed"), ("n", None))
    assert binary.key == b"\xff\x00"
    assert binary.value == b'\x00\x00\x00\x00\x07\x80\xc3\xa9"\\'
    assert tomb.value is None and tomb.type == "tombstone" and tomb.partition == 0
    assert missing.partition == -1 and missing.offset == 7
    assert missing.error == "line 7: not a kcat -J record: missing field 'offset'"
    assert garbage.error is not None and garbage.error.startswith("line 8: not a kcat -J record")
    assert garbage.value == b"not json at all" and garbage.topic == "t"


@pytest.mark.kafka
@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not on PATH")
def test_real_kcat_output_reads_back_exactly(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(3)
    produced: list[tuple[int, bytes | None, bytes | None, list[Any]]] = [
        (
            0,
            b"order-1",
            b'{"eventType":"Placed","aggregateId":"order-1"}',
            [("eventType", b"Placed")],
        ),
        (0, b"order-1", None, []),
        (1, b"\xff\x00\x7f", b'\x00\x00\x00\x00\x01\x80\xffraw\n\t"\\', [("bin", b"\xfe\x01")]),
        (1, None, "plain ☃ text".encode(), [("empty", b""), ("null", None)]),
        (2, b"", b"", []),
    ]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i, (partition, key, value, headers) in enumerate(produced):
        producer.produce(
            topic,
            value,
            key,
            partition=partition,
            headers=headers or None,
            timestamp=1_700_000_000_000 + i,
        )
    assert producer.flush(30) == 0
    out = tmp_path / "kcat.jsonl"
    with out.open("wb") as fo:
        subprocess.run(
            ["kcat", "-C", "-J", "-e", "-q", "-b", kafka_bootstrap, "-t", topic],
            stdout=fo,
            check=True,
            timeout=60,
        )
    assert detect_file_kind(out) == "kcat-jsonl"
    events = sorted(read_kcat_jsonl(out), key=lambda e: (e.partition, e.offset))
    got = [(e.partition, e.key_bytes, e.value, e.headers, e.timestamp_ms) for e in events]
    want = [(p, k, v, tuple(h), 1_700_000_000_000 + i) for i, (p, k, v, h) in enumerate(produced)]
    assert got == want
    assert {e.topic for e in events} == {topic}
    assert events[0].type == "Placed" and events[1].type == "tombstone"
    # And the same events survive an export to an Avro event file.
    exported = tmp_path / "kcat.avro"
    write_event_file(exported, events, {})
    assert [coordinates(e) for e in open_event_file(exported).iter_events()] == [
        coordinates(e) for e in events
    ]
    assert sum(len(b) for b in iter_file_batches(exported)) == len(events)
    assert sum(len(b) for b in iter_file_batches(out, 2)) == len(events)
