"""Shared by the decoder tests: an Avro schema, registry helpers, framed values, envelopes."""

from __future__ import annotations

import io
import json
import struct
import uuid
from typing import Any

import orjson
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import parse_schema, schemaless_writer

from kafka_io.decode import Decoder
from kafka_io.event import Event

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
