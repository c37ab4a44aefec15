"""Protobuf records for the decode benchmark: the same order events as its JSON and Avro
ones, as a registry's .proto text compiled at run time, framed in the Confluent format."""

from __future__ import annotations

import base64
import json
import struct

from confluent_kafka import Message
from google.protobuf import json_format, message_factory

from kafka_io.proto_schema import ProtoSchema, from_registry

ORDER_PROTO = """syntax = "proto3";
package bench;
message Payload { int32 qty = 1; }
message OrderEvent {
  string eventId = 1;
  string eventType = 2;
  string aggregateId = 3;
  int64 timestamp = 4;
  Payload payload = 5;
}
"""
SCHEMA_ID = 2


def compiled() -> ProtoSchema:
    return from_registry(ORDER_PROTO, {})


def stored_schema(schema: ProtoSchema) -> str:
    """The schema as an event file stores it (kafka_io.registry_kinds)."""
    encoded = base64.b64encode(schema.descriptor_set).decode("ascii")
    return json.dumps({"schemaType": "PROTOBUF", "file": schema.main.name, "descriptors": encoded})


def protobuf_messages(
    schema: ProtoSchema, n: int, types: tuple[str, ...], base_ms: int
) -> list[Message]:
    cls = message_factory.GetMessageClass(schema.pool.FindMessageTypeByName("bench.OrderEvent"))
    header = b"\x00" + struct.pack(">I", SCHEMA_ID) + b"\x02\x02"  # message index [1]
    out = []
    for i in range(n):
        msg = cls(
            eventId=f"e-{i}",
            eventType=types[i % 4],
            aggregateId=f"order-{i % 5000}",
            timestamp=base_ms + i,
        )
        msg.payload.qty = i % 9
        out.append(
            Message(
                topic="orders-protobuf",
                partition=i % 12,
                offset=i,
                key=f"order-{i % 5000}".encode(),
                value=header + msg.SerializeToString(),
                timestamp=(1, base_ms + i),
            )
        )
    return out


def message_to_dict_all(schema: ProtoSchema, msgs: list[Message]) -> int:
    """The generic converter over the same records, for comparison."""
    cls = message_factory.GetMessageClass(schema.pool.FindMessageTypeByName("bench.OrderEvent"))
    done = 0
    for m in msgs:
        value = m.value()
        assert value is not None
        json_format.MessageToDict(cls.FromString(value[7:]), preserving_proto_field_name=True)
        done += 1
    return done
