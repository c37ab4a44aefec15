"""The shipping service writes Protobuf in the registry's wire format, not JSON.

Its envelope has the same fields as the JSON topics (the payload is a
``google.protobuf.Struct``), so folds, trace and health read it like the others.  The
service upgraded once: ``ShipmentEvent`` v2 added ``serviceVersion``, the evolution a
Protobuf topic meets in real life.  Schema ids 11 and 12, as a registry would hand them
out after the orders' Avro schemas; the event file stores both as descriptor sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from google.protobuf import json_format

from kafka_io.proto_schema import ProtoSchema, from_registry
from kafka_io.registry_kinds import stored_protobuf
from resources.demo.domains import SPAN_MS, START_MS, Draft

TOPIC = "shipments"
V1_ID, V2_ID = 11, 12
MESSAGE = "shop.shipping.ShipmentEvent"
V2_FROM_MS = START_MS + int(SPAN_MS * 0.8)
SERVICE_VERSION = "shipping-service 2.0"
SHIPMENT_V1 = """syntax = "proto3";
package shop.shipping;
import "google/protobuf/struct.proto";

message ShipmentEvent {
  string eventId = 1;
  string eventType = 2;
  string aggregateId = 3;
  int64 aggregateVersion = 4;
  string correlationId = 5;
  string causationId = 6;
  google.protobuf.Struct payload = 7;
}
"""
SHIPMENT_V2 = SHIPMENT_V1.replace(
    "  google.protobuf.Struct payload = 7;\n",
    "  google.protobuf.Struct payload = 7;\n  string serviceVersion = 8;\n",
)


@cache
def _schema(schema_id: int) -> ProtoSchema:
    return from_registry(SHIPMENT_V2 if schema_id == V2_ID else SHIPMENT_V1, {})


def schemas() -> dict[int, str]:
    """Schema id -> the schema as the event file stores it."""
    return {sid: stored_protobuf(s.descriptor_set, s.main.name) for sid in (V1_ID, V2_ID)
            if (s := _schema(sid))}  # fmt: skip


def encode(drafts: Iterable[Draft]) -> Iterator[Draft]:
    """Shipment drafts as the Protobuf records the service writes; others unchanged."""
    for d in drafts:
        if d.topic != TOPIC or d.data is None:
            yield d
            continue
        sid = V2_ID if d.timestamp_ms >= V2_FROM_MS else V1_ID
        data: dict[str, Any] = dict(d.data)
        if sid == V2_ID:
            data["serviceVersion"] = SERVICE_VERSION
        yield replace(d, data=data, value=_framed(sid, data), schema_id=sid)


def _framed(schema_id: int, data: dict[str, Any]) -> bytes:
    cls, _ = _schema(schema_id).reader(MESSAGE)
    message = json_format.ParseDict(data, cls())
    # Deterministic: a Struct is a map, whose order on the wire is otherwise unspecified.
    body = message.SerializeToString(deterministic=True)
    # Magic byte, schema id, then the message-index path [0] (the file's first message).
    return b"\x00" + schema_id.to_bytes(4, "big") + b"\x00" + body
