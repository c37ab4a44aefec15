"""Decoder: every format, every failure, and nothing ever raises."""

from __future__ import annotations

import gc
import io
import json
import random
import socket
import struct
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from confluent_kafka import Message
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from fastavro import parse_schema, schemaless_writer
from registry_helpers import avro_values

from kafka_io.decode import JSON_ATTEMPTS, Decoder, ValueFormat, gc_paused
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from kafka_io.registry import SchemaCache, SchemaError, make_registry
from kafka_io.rules import EventRules, RuleBook

ORDER_SCHEMA = {
    "type": "record",
    "name": "OrderPlaced",
    "namespace": "com.shop.orders",
    "fields": [
        {"name": "orderId", "type": "string"},
        {"name": "amount", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}


def mock_registry() -> Any:
    """confluent-kafka's in-process registry: for tests about decoding bytes only.  The
    tests that claim to work with a registry use the real one (schema_registry_url)."""
    return SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})


def register(registry: Any, schema: dict[str, Any], subject: str = "orders-value") -> int:
    return int(registry.register_schema(subject, Schema(json.dumps(schema), "AVRO")))


def subject(name: str) -> str:
    """A subject of its own in the session's shared registry."""
    return f"{name}-{uuid.uuid4().hex[:10]}-value"


def wire(schema_id: int, schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    body = io.BytesIO()
    schemaless_writer(body, parse_schema(schema), record)
    return b"\x00" + struct.pack(">I", schema_id) + body.getvalue()


def decode(dec: Decoder, value: bytes | None, key: bytes | None = b"k1", **kw: Any) -> Event:
    topic = kw.pop("topic", "orders")
    headers = kw.pop("headers", None)
    return dec.decode(topic, 0, kw.pop("offset", 0), 1_700_000_000_000, key, value, headers)


def envelope(i: int, **extra: Any) -> bytes:
    doc = {
        "eventId": f"e-{i}",
        "eventType": "OrderPlaced",
        "aggregateId": f"order-{i % 3}",
        "timestamp": 1_700_000_000_000 + i,
        "payload": {"qty": i},
    }
    doc.update(extra)
    return orjson.dumps(doc)


# -- JSON ------------------------------------------------------------------------------


def test_json_envelope_gives_type_aggregate_and_data() -> None:
    dec = Decoder()
    ev = decode(dec, envelope(4), key=None)
    assert ev.type == "OrderPlaced"
    assert ev.aggregate == "order-1"
    assert ev.data["payload"] == {"qty": 4}
    assert ev.error is None and ev.schema_id is None
    assert ev.value == envelope(4)
    assert dec.format_for("orders") is ValueFormat.JSON
    assert dec.format is ValueFormat.JSON


def test_truncated_json_in_a_json_topic_is_an_error_event() -> None:
    dec = Decoder()
    decode(dec, envelope(1))
    cut = envelope(2)[:-7]
    ev = decode(dec, cut, offset=1)
    assert ev.error == f"invalid JSON: unexpected end of data at byte {len(cut)}"
    assert ev.data is None and ev.value == cut
    assert ev.type == "unknown" and ev.aggregate == "k1"


def test_json_error_position_counts_bytes_not_characters() -> None:
    dec = Decoder(ValueFormat.JSON)
    value = '{"name": "héllo" oops}'.encode()
    ev = decode(dec, value)
    assert ev.error is not None and ev.error.endswith(f"at byte {value.index(b'oops')}")


def test_json_topic_keeps_its_format_for_text_records() -> None:
    dec = Decoder()
    decode(dec, b'["a", 1]')
    ev = decode(dec, b"hello world", offset=1)
    assert ev.error is not None and ev.error.startswith("invalid JSON:")
    assert dec.format_for("orders") is ValueFormat.JSON


def test_explicit_json_accepts_scalars_and_rejects_empty() -> None:
    dec = Decoder(ValueFormat.JSON)
    assert decode(dec, b"42").data == 42
    assert decode(dec, b"").error == "invalid JSON: empty value"


def test_decode_messages_matches_decode() -> None:
    values: list[bytes | None] = [envelope(i) for i in range(5)]
    values += [b'{"type": "Other", "aggregate_id": "x"}', b"{broken", None]
    headers: list[Any] = [None] * 7 + [[("eventType", b"Deleted")]]
    msgs = [
        Message(
            topic="orders",
            partition=2,
            offset=i,
            key=None if i % 2 else f"k{i}".encode(),
            value=v,
            headers=headers[i],
            timestamp=(1, 1_700_000_000_000 + i),
        )
        for i, v in enumerate(values)
    ]
    batch = Decoder().decode_messages(msgs)
    one_by_one = Decoder()
    singles = [
        one_by_one.decode("orders", 2, i, 1_700_000_000_000 + i, m.key(), m.value(), headers[i])
        for i, m in enumerate(msgs)
    ]
    assert batch == singles
    assert [e.type for e in batch][-3:] == ["Other", "unknown", "Deleted"]
    assert batch[5].aggregate == "x"
    assert batch[1].aggregate == "order-1"  # no key: the envelope's aggregateId
    assert batch[-1].data is None and batch[-1].error is None


# -- keys, headers, tombstones, odd values -----------------------------------------------


def test_non_utf8_key_stays_bytes() -> None:
    dec = Decoder()
    ev = decode(dec, b'{"x": 1}', key=b"\xff\x00\x10")
    assert ev.key == b"\xff\x00\x10"
    assert ev.aggregate == "ff0010"
    ev = decode(dec, b'{"aggregateId": "a-7"}', key=b"\xff\x00\x10")
    assert ev.aggregate == "a-7"
    assert decode(dec, b"{}", key="ключ".encode()).key == "ключ"


def test_tombstone_is_a_clean_event() -> None:
    dec = Decoder()
    ev = decode(dec, None, key=b"order-9")
    assert (ev.data, ev.error, ev.value, ev.schema_id) == (None, None, None, None)
    assert ev.type == "tombstone" and ev.aggregate == "order-9"
    typed = decode(dec, None, headers=[("eventType", b"OrderDeleted")])
    assert typed.type == "OrderDeleted"
    assert dec.format_for("orders") is ValueFormat.AUTO  # a tombstone decides nothing


def test_headers_are_kept_exactly_and_feed_the_type() -> None:
    dec = Decoder()
    headers = [("ce_type", b"com.shop.Placed"), ("trace", None), ("trace", b"\x00\xff")]
    ev = decode(dec, b'{"eventType": "Field"}', headers=headers)
    assert ev.headers == tuple(headers)
    assert ev.type == "com.shop.Placed"
    assert ev.header("trace") == "\x00\ufffd"


def test_random_bytes_in_each_format() -> None:
    rng = random.Random(11)
    blob = b"\xfe" + rng.randbytes(300)
    auto = Decoder()
    ev = decode(auto, blob)
    assert (ev.data, ev.error, ev.value) == (None, None, blob)
    assert auto.format_for("orders") is ValueFormat.BYTES
    assert decode(Decoder(ValueFormat.TEXT), blob).error == "not UTF-8 text: invalid byte at 0"
    json_error = decode(Decoder(ValueFormat.JSON), blob).error
    assert json_error is not None and json_error.startswith("invalid JSON")
    avro = decode(Decoder(ValueFormat.AVRO, registry=mock_registry()), blob)
    assert avro.error == "not Avro: missing magic byte"
    assert decode(Decoder(ValueFormat.AVRO), b"\x00\x01").error == (
        "not Avro: 2 bytes, shorter than the header"
    )


def test_text_topic_sticks_and_flags_binary() -> None:
    dec = Decoder()
    assert decode(dec, b"plain line").data == "plain line"
    ev = decode(dec, b"\xc3\x28 broken", offset=1)
    assert ev.error == "not UTF-8 text: invalid byte at 0"
    assert dec.format_for("orders") is ValueFormat.TEXT


def test_log_lines_that_look_like_json_end_up_text() -> None:
    dec = Decoder()
    lines = [f"[INFO] line {i}".encode() for i in range(JSON_ATTEMPTS + 2)]
    events = [decode(dec, line, offset=i) for i, line in enumerate(lines)]
    assert all(e.error and e.error.startswith("invalid JSON") for e in events[:JSON_ATTEMPTS])
    assert [e.data for e in events[JSON_ATTEMPTS:]] == [
        line.decode() for line in lines[JSON_ATTEMPTS:]
    ]
    assert dec.format_for("orders") is ValueFormat.TEXT


def test_five_megabyte_values() -> None:
    big = "x" * (5 * 1024 * 1024)
    ev = decode(Decoder(), orjson.dumps({"eventType": "Blob", "body": big}))
    assert ev.error is None and len(ev.data["body"]) == len(big)
    registry = mock_registry()
    schema = {"type": "record", "name": "Blob", "fields": [{"name": "body", "type": "bytes"}]}
    sid = register(registry, schema)
    raw = bytes(range(256)) * (5 * 4096)
    ev = decode(Decoder(registry=registry), wire(sid, schema, {"body": raw}))
    assert ev.error is None and ev.data["body"] == raw and ev.type == "Blob"


# -- Avro ---------------------------------------------------------------------------------


def test_avro_through_the_registry(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    sid = register(make_registry_client(schema_registry_url), ORDER_SCHEMA, subject("orders"))
    dec = Decoder(registry=make_registry({"url": schema_registry_url}))
    record = {"orderId": "o-1", "amount": 1250, "note": None}
    ev = decode(dec, wire(sid, ORDER_SCHEMA, record), key=None)
    assert ev.data == record and ev.error is None and ev.schema_id == sid
    assert ev.type == "OrderPlaced"  # the record's short name
    assert ev.aggregate is None
    assert dec.format_for("orders") is ValueFormat.AVRO
    assert json.loads(dec.schemas_used[sid]) == ORDER_SCHEMA


def test_avro_written_by_confluents_serializer(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    client = make_registry_client(schema_registry_url)
    record = {"orderId": "o-2", "amount": 7, "note": "gift"}
    topic = f"orders-{uuid.uuid4().hex[:10]}"
    (value,) = avro_values(client, topic, ORDER_SCHEMA, [record])
    ev = decode(Decoder(registry=make_registry({"url": schema_registry_url})), value)
    assert ev.data == record and ev.error is None
    assert ev.schema_id == client.get_latest_version(f"{topic}-value").schema_id


def test_truncated_avro() -> None:
    registry = mock_registry()
    sid = register(registry, ORDER_SCHEMA)
    full = wire(sid, ORDER_SCHEMA, {"orderId": "order-123456", "amount": 99, "note": "n"})
    ev = decode(Decoder(registry=registry), full[:9])
    assert ev.error == f"Avro decode failed for schema id {sid}: record is truncated"
    assert ev.data is None and ev.value == full[:9] and ev.schema_id == sid


def test_unknown_schema_id_is_an_error_and_not_requeried(schema_registry_url: str) -> None:
    registry = CountingRegistry(make_registry({"url": schema_registry_url}))
    dec = Decoder(ValueFormat.AVRO, registry=registry)
    unknown = 2_000_000_000  # far beyond any id a test session registers
    value = b"\x00" + struct.pack(">I", unknown) + b"\x02"
    events = [decode(dec, value, offset=i) for i in range(50)]
    assert {e.error for e in events} == {f"unknown schema id {unknown} (not in registry)"}
    assert {e.schema_id for e in events} == {unknown}
    assert registry.calls == 1


def test_auto_waits_for_a_known_schema_id() -> None:
    registry = mock_registry()
    sid = register(registry, ORDER_SCHEMA)
    dec = Decoder(registry=registry)
    unknown = b"\x00" + struct.pack(">I", sid + 50) + b"\x00"
    assert decode(dec, unknown).error == f"unknown schema id {sid + 50} (not in registry)"
    assert dec.format_for("orders") is ValueFormat.AUTO
    good = wire(sid, ORDER_SCHEMA, {"orderId": "a", "amount": 1, "note": None})
    assert decode(dec, good).error is None
    assert dec.format_for("orders") is ValueFormat.AVRO


def test_wire_format_without_a_registry_says_so() -> None:
    ev = decode(Decoder(), b"\x00\x00\x00\x00\x07\x02ab")
    assert ev.error == "Confluent wire format with schema id 7, but no schema registry configured"
    assert ev.schema_id == 7


def test_avro_from_given_schemas_needs_no_registry() -> None:
    value = wire(31, ORDER_SCHEMA, {"orderId": "z", "amount": -4, "note": None})
    dec = Decoder(schemas={31: json.dumps(ORDER_SCHEMA)})
    assert decode(dec, value).data == {"orderId": "z", "amount": -4, "note": None}
    other = b"\x00" + struct.pack(">I", 32) + b"\x00"
    assert decode(dec, other).error == "unknown schema id 32 (not in the event file)"


def test_schema_references_resolve_and_export_self_contained(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    registry = make_registry_client(schema_registry_url)
    money_subject, refunds_subject = subject("money"), subject("refunds")
    money = {
        "type": "record",
        "name": "Money",
        "namespace": "com.shop",
        "fields": [{"name": "cents", "type": "long"}, {"name": "currency", "type": "string"}],
    }
    register(registry, money, money_subject)
    refund = {
        "type": "record",
        "name": "Refunded",
        "namespace": "com.shop",
        "fields": [{"name": "paid", "type": "com.shop.Money"}, {"name": "back", "type": "Money"}],
    }
    sid = registry.register_schema(
        refunds_subject,
        Schema(json.dumps(refund), "AVRO", [SchemaReference("com.shop.Money", money_subject, 1)]),
    )
    named: dict[str, Any] = {}
    parse_schema(money, named)
    body = io.BytesIO()
    record = {"paid": {"cents": 500, "currency": "EUR"}, "back": {"cents": 200, "currency": "EUR"}}
    schemaless_writer(body, parse_schema(refund, named), record)
    value = b"\x00" + struct.pack(">I", sid) + body.getvalue()
    dec = Decoder(registry=make_registry({"url": schema_registry_url}))
    ev = decode(dec, value)
    assert ev.data == record and ev.type == "Refunded"
    alone = Decoder(schemas=dec.schemas_used)  # what an event file carries
    assert decode(alone, value).data == record


def test_a_json_schema_frame_is_read_as_json_never_as_avro(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    json_schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"a": {"type": "integer"}},
    }
    sid = make_registry_client(schema_registry_url).register_schema(
        subject("j"), Schema(json.dumps(json_schema), "JSON")
    )
    value = b"\x00" + struct.pack(">I", sid) + b'{"a": 1}'
    registry = make_registry({"url": schema_registry_url})
    ev = decode(Decoder(ValueFormat.AVRO, registry=registry), value)
    assert (ev.error, ev.data, ev.schema_id) == (None, {"a": 1}, sid)


def test_unreachable_registry_fails_fast_after_the_first_attempt() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = CountingRegistry(
        SchemaRegistryClient({"url": f"http://127.0.0.1:{port}", "max.retries": 0})
    )
    dec = Decoder(ValueFormat.AVRO, registry=registry)
    first = decode(dec, b"\x00\x00\x00\x00\x01\x00")
    assert first.error is not None
    assert first.error.startswith("schema registry unreachable for schema id 1:")
    second = decode(dec, b"\x00\x00\x00\x00\x02\x00")
    assert second.error is not None and second.error.startswith(
        "schema registry unavailable for schema id 2:"
    )
    assert registry.calls == 1  # one wait for a down registry, not one per schema id


def test_negative_cache_expires() -> None:
    now = [0.0]
    registry = CountingRegistry(mock_registry())
    cache = SchemaCache(registry, negative_ttl_s=30, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(SchemaError, match="unknown schema id 1"):
            cache.lookup(1)
    assert registry.calls == 1
    sid = register(registry.inner, ORDER_SCHEMA)
    assert sid == 1
    now[0] = 31.0
    assert cache.lookup(1).record_name == "OrderPlaced"
    assert registry.calls == 2


def test_make_registry_from_a_profile_config(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    assert make_registry(None) is None
    assert make_registry(ConnectionProfile("unused:9092").registry_config()) is None
    profile = ConnectionProfile("unused:9092", registry_url=schema_registry_url)
    registry = make_registry(profile.registry_config())
    assert registry is not None
    sid = register(make_registry_client(schema_registry_url), ORDER_SCHEMA, subject("orders"))
    value = wire(sid, ORDER_SCHEMA, {"orderId": "m", "amount": 3, "note": None})
    assert decode(Decoder(registry=registry), value).data["orderId"] == "m"


def test_make_registry_still_makes_the_in_process_mock() -> None:
    registry = make_registry({"url": f"mock://{uuid.uuid4().hex}"})
    assert registry is not None
    with pytest.raises(SchemaError, match="unknown schema id 5 "):
        SchemaCache(registry).lookup(5)


# -- the collector pause --------------------------------------------------------------------


def test_gc_state_is_restored_around_a_batch() -> None:
    msgs = [Message(topic="t", partition=0, offset=0, value=b'{"a": 1}', timestamp=(1, 5))]
    assert gc.isenabled()
    assert Decoder().decode_messages(msgs)[0].data == {"a": 1}
    assert gc.isenabled()
    gc.disable()
    try:
        Decoder().decode_messages(msgs)
        assert not gc.isenabled()  # the application's choice is left alone
    finally:
        gc.enable()


def test_gc_pause_leaves_an_applications_frozen_objects_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            [{"n": i} for i in range(1000)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# -- rules --------------------------------------------------------------------------------


def test_per_topic_rules_in_the_decoder() -> None:
    book = RuleBook(
        overrides={"payments*": EventRules(type_rule="header:kind", aggregate_rule="field:acct")}
    )
    dec = Decoder(rules=book)
    pay = decode(
        dec,
        b'{"acct": "A-1", "eventType": "X"}',
        topic="payments-eu",
        headers=[("kind", b"Charged")],
    )
    assert (pay.type, pay.aggregate) == ("Charged", "A-1")
    other = decode(dec, b'{"acct": "A-1", "eventType": "X"}', topic="orders")
    assert (other.type, other.aggregate) == ("X", "k1")


def test_per_topic_formats() -> None:
    dec = Decoder(formats={"raw": "bytes", "logs": ValueFormat.TEXT})
    assert decode(dec, b'{"a": 1}', topic="raw").data is None
    assert decode(dec, b'{"a": 1}', topic="logs").data == '{"a": 1}'
    assert decode(dec, b'{"a": 1}', topic="other").data == {"a": 1}
    assert dec.formats == {"raw": "bytes", "logs": "text", "other": "json"}
    assert dec.format is ValueFormat.AUTO


class CountingRegistry:
    """A real registry client, counting the schema lookups that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def get_schema(self, schema_id: int) -> Any:
        self.calls += 1
        return self.inner.get_schema(schema_id)

    def get_version(self, subject_name: str, version: int) -> Any:
        return self.inner.get_version(subject_name, version)
