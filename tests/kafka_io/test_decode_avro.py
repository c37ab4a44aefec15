"""Decoder: Avro through the registry, given schemas, references, and every failure."""

from __future__ import annotations

import io
import json
import socket
import struct
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from decode_helpers import (
    ORDER_SCHEMA,
    CountingRegistry,
    decode,
    mock_registry,
    register,
    subject,
    wire,
)
from fastavro import parse_schema, schemaless_writer
from registry_helpers import avro_values

from kafka_io.decode import Decoder, ValueFormat
from kafka_io.profile import ConnectionProfile
from kafka_io.registry import SchemaCache, SchemaError, make_registry

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
