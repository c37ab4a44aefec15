"""Protobuf and JSON Schema through the real registry (Apicurio) and the real broker:
v1 and v2 of a subject, a schema with a reference, oneof, well-known types, a nested
message's index path, every bad input, and an export read back with no registry."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kafka_helpers import Rec, produce
from proto_helpers import descriptor_set, frame, message_classes, register_proto
from registry_helpers import SERDE_CONF, schema_id_of

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import open_event_file, write_event_file
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import read_topic
from kafka_io.registry import make_registry

pytestmark = pytest.mark.kafka

MONEY = """syntax = "proto3";
package shop.common;
message Money { string currency = 1; int64 cents = 2; }
"""
SHIPMENT_V1 = """syntax = "proto3";
package shop.shipping;
import "money.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
message ShipmentEvent {
  enum Carrier { CARRIER_UNSPECIFIED = 0; DHL = 1; UPS = 2; }
  message Parcel { string id = 1; uint64 grams = 2; bytes label = 3; }
  string eventType = 1;
  string shipmentId = 2;
  int64 sequence = 3;
  Carrier carrier = 4;
  shop.common.Money cost = 5;
  repeated Parcel parcels = 6;
  map<string, int32> counts = 7;
  oneof destination { string address = 8; string locker = 9; }
  google.protobuf.Timestamp at = 10;
  google.protobuf.Duration eta = 11;
  google.protobuf.StringValue note = 12;
  google.protobuf.Struct extra = 13;
  fixed64 big = 14;
}
"""
SHIPMENT_V2 = SHIPMENT_V1.replace(
    "  fixed64 big = 14;\n", "  fixed64 big = 14;\n  string insuredBy = 15;\n"
)
BIG = (1 << 64) - 5  # beyond double precision and int64: must come back exact


def _read(bootstrap: str, url: str, topic: str) -> list[Event]:
    profile = ConnectionProfile(bootstrap, registry_url=url)
    decoder = Decoder(registry=make_registry(profile.registry_config()))
    return [ev for batch in read_topic(profile, topic, decoder) for ev in batch]


def _shipment(classes: dict[str, Any], seq: int, **extra: Any) -> Any:
    cls = classes["shop.shipping.ShipmentEvent"]
    msg = cls(
        eventType="ShipmentDispatched",
        shipmentId=f"shp-{seq}",
        sequence=(1 << 53) + seq,
        carrier=2,
        **extra,
    )
    msg.cost.currency, msg.cost.cents = "EUR", 1299
    parcel = msg.parcels.add()
    parcel.id, parcel.grams, parcel.label = "p1", 1500, b"\x00\xffLBL"
    msg.counts["boxes"] = 2
    msg.locker = "L-17"
    msg.at.FromJsonString("2025-10-01T12:30:00.250Z")
    msg.eta.FromJsonString("3600.5s")
    msg.note.value = "fragile"
    msg.extra.update({"gift": True, "tags": ["a", "b"]})
    msg.big = BIG
    return msg


@pytest.fixture
def shipping(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    v1 = message_classes(
        descriptor_set(
            tmp_path / "v1", {"money.proto": MONEY, "shipment.proto": SHIPMENT_V1}, "shipment.proto"
        )
    )
    v2 = message_classes(
        descriptor_set(
            tmp_path / "v2", {"money.proto": MONEY, "shipment.proto": SHIPMENT_V2}, "shipment.proto"
        )
    )
    return v1, v2


def test_protobuf_v1_and_v2_with_a_reference_oneof_and_well_known_types(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    shipping: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    v1, v2 = shipping
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    sid1 = register_proto(client, f"{topic}-value", SHIPMENT_V1, {"money.proto": MONEY})
    sid2 = register_proto(client, f"{topic}-value", SHIPMENT_V2, {"money.proto": MONEY})
    assert sid1 != sid2
    first = frame(sid1, [0], _shipment(v1, 1).SerializeToString())
    second = frame(sid2, [0], _shipment(v2, 2, insuredBy="Allianz").SerializeToString())
    produce(kafka_bootstrap, topic, [Rec(first, key=b"shp-1"), Rec(second, key=b"shp-2")])

    events = _read(kafka_bootstrap, schema_registry_url, topic)

    assert [ev.error for ev in events] == [None, None]
    assert [ev.schema_id for ev in events] == [sid1, sid2]
    data = events[0].data
    assert data["eventType"] == "ShipmentDispatched" and events[0].type == "ShipmentDispatched"
    assert data["sequence"] == (1 << 53) + 1 and isinstance(data["sequence"], int)
    assert data["big"] == BIG
    assert data["carrier"] == "UPS"
    assert data["cost"] == {"currency": "EUR", "cents": 1299}
    assert data["parcels"] == [
        {"id": "p1", "grams": 1500, "label": base64.b64encode(b"\x00\xffLBL").decode()}
    ]
    assert data["counts"] == {"boxes": 2}
    assert data["locker"] == "L-17" and "address" not in data
    assert data["at"] == "2025-10-01T12:30:00.250Z"
    assert data["eta"] == "3600.500s"
    assert data["note"] == "fragile"
    assert data["extra"] == {"gift": True, "tags": ["a", "b"]}
    assert "insuredBy" not in data
    assert events[1].data["insuredBy"] == "Allianz"
    assert events[1].data["shipmentId"] == "shp-2"


def test_proto_text_registered_as_a_java_producer_does_with_nested_message_index(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    shipping: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """.proto text with a reference, and a record whose message index points at a nested type."""
    v1, _ = shipping
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    sid = register_proto(client, f"{topic}-value", SHIPMENT_V1, {"money.proto": MONEY})
    parcel = v1["shop.shipping.ShipmentEvent.Parcel"](id="p9", grams=(1 << 40))
    whole = _shipment(v1, 3)
    produce(
        kafka_bootstrap,
        topic,
        [
            Rec(frame(sid, [0], whole.SerializeToString()), key=b"a"),
            Rec(frame(sid, [0, 0], parcel.SerializeToString()), key=b"b"),
        ],
    )

    events = _read(kafka_bootstrap, schema_registry_url, topic)

    assert [ev.error for ev in events] == [None, None]
    assert events[0].data["shipmentId"] == "shp-3"
    assert events[1].data == {"id": "p9", "grams": 1 << 40, "label": ""}
    assert events[1].type == "Parcel"  # the message's name, as an Avro record's


def test_json_schema_frames_decode_as_json_with_their_schema_id(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    schema = (
        '{"$schema":"http://json-schema.org/draft-07/schema#","title":"Refund","type":"object",'
        '"properties":{"eventType":{"type":"string"},"amount":{"type":"integer"}}}'
    )
    serializer = JSONSerializer(schema, client, conf={**SERDE_CONF})
    ctx = SerializationContext(topic, MessageField.VALUE)
    values = [serializer({"eventType": "RefundIssued", "amount": 12}, ctx)]
    assert values[0] is not None
    produce(kafka_bootstrap, topic, [Rec(values[0], key=b"r-1")])

    [event] = _read(kafka_bootstrap, schema_registry_url, topic)

    assert event.error is None
    assert event.data == {"eventType": "RefundIssued", "amount": 12}
    assert event.schema_id == schema_id_of(values[0])
    assert event.type == "RefundIssued"


def test_bad_protobuf_input_becomes_undecodable_events_and_the_rest_is_read(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    shipping: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    v1, _ = shipping
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    sid = register_proto(client, f"{topic}-value", SHIPMENT_V1, {"money.proto": MONEY})
    good = [frame(sid, [0], _shipment(v1, 5).SerializeToString())]
    broken = client.register_schema(
        f"{topic}-broken",
        Schema('syntax = "proto3";\nmessage Broken { Missing x = 1; }\n', "PROTOBUF"),
    )
    records = [
        frame(2_000_000_000, [0], b""),  # an id the registry does not know
        frame(sid, [3], b""),  # a message index past the file's messages
        frame(sid, [0], b"\xff\xff\xff"),  # bytes that are not a ShipmentEvent
        frame(broken, [0], b"\x08\x01"),  # a schema that does not compile
        good[0],
    ]
    produce(kafka_bootstrap, topic, [Rec(v, key=b"k") for v in records])

    events = _read(kafka_bootstrap, schema_registry_url, topic)

    errors = [ev.error for ev in events]
    assert errors[0] == "unknown schema id 2000000000 (not in registry)"
    assert errors[1] is not None and "message index [3] points past the 1 message(s)" in errors[1]
    assert errors[2] is not None and "not a shop.shipping.ShipmentEvent" in errors[2]
    assert (
        errors[3] is not None
        and "does not compile" in errors[3]
        and '"Missing" is not defined' in errors[3]
    )
    assert errors[4] is None and events[4].data["shipmentId"] == "shp-5"
    assert all(ev.data is None and ev.value is not None for ev in events[:4])


def test_export_keeps_protobuf_and_json_schema_decodable_with_no_registry(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    shipping: tuple[dict[str, Any], dict[str, Any]],
    tmp_path: Path,
) -> None:
    v1, _ = shipping
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    sid = register_proto(client, f"{topic}-value", SHIPMENT_V1, {"money.proto": MONEY})
    produce(kafka_bootstrap, topic, [Rec(frame(sid, [0], _shipment(v1, 7).SerializeToString()))])
    profile = ConnectionProfile(kafka_bootstrap, registry_url=schema_registry_url)
    decoder = Decoder(registry=make_registry(profile.registry_config()))
    live = [ev for batch in read_topic(profile, topic, decoder) for ev in batch]
    path = tmp_path / "shipping.avro"
    write_event_file(path, live, decoder=decoder)

    from_file = [ev for batch in open_event_file(path).iter_batches() for ev in batch]

    assert [ev.data for ev in from_file] == [ev.data for ev in live]
    assert from_file[0].data["big"] == BIG and from_file[0].error is None
