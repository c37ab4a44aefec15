"""Keys written through registry serializers (subject ``TOPIC-key``; confluent-kafka's
for Avro and JSON Schema): Avro, Protobuf and JSON Schema keys are decoded like values,
so ``key:PATH`` rules read their fields; against the real registry and broker, and from
an event file with none."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kafka_helpers import Rec, produce
from proto_helpers import descriptor_set, frame, message_classes, register_proto
from registry_helpers import SERDE_CONF

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import open_event_file, write_event_file
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import read_topic
from kafka_io.registry import make_registry
from kafka_io.rules import EventRules

pytestmark = pytest.mark.kafka

KEY_AVRO = {
    "type": "record",
    "name": "OrderKey",
    "fields": [{"name": "orderId", "type": "string"}, {"name": "region", "type": "string"}],
}
KEY_PROTO = """syntax = "proto3";
package shop.keys;
message OrderKey { string orderId = 1; string region = 2; }
"""
KEY_JSON = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "OrderKey",
        "type": "object",
        "properties": {"orderId": {"type": "string"}, "region": {"type": "string"}},
    }
)
KEYS = [{"orderId": "o-1", "region": "eu"}, {"orderId": "o-2", "region": "us"}]
BY_KEY_FIELD = EventRules(type_rule="key:region", aggregate_rule="key:orderId")


def _serializer(
    kind: str, client: SchemaRegistryClient, topic: str, tmp: Path
) -> Callable[[dict[str, Any]], Any]:
    """A confluent-kafka serializer of ``kind`` for keys: what a producer's key.serializer is."""
    if kind == "avro":
        avro = AvroSerializer(client, json.dumps(KEY_AVRO), conf=dict(SERDE_CONF))
        return lambda key: avro(key, SerializationContext(topic, MessageField.KEY))
    if kind == "json":
        js = JSONSerializer(KEY_JSON, client, conf=dict(SERDE_CONF))
        return lambda key: js(key, SerializationContext(topic, MessageField.KEY))
    # confluent-kafka's Python ProtobufSerializer registers (and with use.latest.version
    # reads back) a base64 descriptor, which Apicurio does not serve: register the .proto
    # text under TOPIC-key and frame the key as Java and Go serializers do.
    sid = register_proto(client, f"{topic}-key", KEY_PROTO)
    cls = message_classes(descriptor_set(tmp, {"key.proto": KEY_PROTO}, "key.proto"))[
        "shop.keys.OrderKey"
    ]
    return lambda key: frame(sid, [0], cls(**key).SerializeToString())


def _produce_keyed(
    bootstrap: str, client: SchemaRegistryClient, topic: str, kind: str, tmp: Path
) -> list[bytes]:
    serialize = _serializer(kind, client, topic, tmp)
    keys = [serialize(k) for k in KEYS]
    assert all(k is not None and k[:1] == b"\x00" for k in keys)
    values = [json.dumps({"eventType": "OrderPlaced", "n": i}).encode() for i in range(2)]
    produce(bootstrap, topic, [Rec(v, key=k) for v, k in zip(values, keys, strict=True)])
    return keys


@pytest.fixture
def keyed_topic(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    tmp_path: Path,
) -> Callable[[str], tuple[str, list[bytes]]]:
    """Makes a topic of two records keyed through the registry's ``kind`` serializer;
    gives the topic and the keys as Kafka holds them."""

    def make(kind: str) -> tuple[str, list[bytes]]:
        topic = make_topic()
        client = make_registry_client(schema_registry_url)
        return topic, _produce_keyed(kafka_bootstrap, client, topic, kind, tmp_path)

    return make


def _read(bootstrap: str, url: str | None, topic: str, rules: EventRules) -> list[Event]:
    profile = ConnectionProfile(bootstrap, registry_url=url)
    decoder = Decoder(rules=rules, registry=make_registry(profile.registry_config()))
    return [ev for batch in read_topic(profile, topic, decoder) for ev in batch]


@pytest.mark.parametrize("kind", ["avro", "protobuf", "json"])
def test_a_key_rule_reads_a_field_of_a_registry_serialized_key(
    kind: str,
    kafka_bootstrap: str,
    schema_registry_url: str,
    keyed_topic: Callable[[str], tuple[str, list[bytes]]],
) -> None:
    topic, keys = keyed_topic(kind)

    events = _read(kafka_bootstrap, schema_registry_url, topic, BY_KEY_FIELD)

    assert [ev.error for ev in events] == [None, None]
    assert [ev.aggregate for ev in events] == ["o-1", "o-2"]
    assert [ev.type for ev in events] == ["eu", "us"]
    assert [ev.key_bytes for ev in events] == keys  # the raw key is kept as Kafka holds it
    assert [ev.data["n"] for ev in events] == [0, 1]


def test_default_rules_name_the_aggregate_by_the_decoded_key(
    kafka_bootstrap: str,
    schema_registry_url: str,
    keyed_topic: Callable[[str], tuple[str, list[bytes]]],
) -> None:
    topic, _ = keyed_topic("avro")

    events = _read(kafka_bootstrap, schema_registry_url, topic, EventRules())

    assert [ev.aggregate for ev in events] == [
        '{"orderId":"o-1","region":"eu"}',
        '{"orderId":"o-2","region":"us"}',
    ]
    assert [ev.type for ev in events] == ["OrderPlaced", "OrderPlaced"]


def test_a_key_the_registry_cannot_decode_is_an_error_only_when_a_rule_reads_it(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
) -> None:
    topic = make_topic()
    unknown_id = b"\x00" + (2**31 - 7).to_bytes(4, "big") + b"\x02x"
    binary = b"\x00\x9a\x41"  # a binary id that merely begins with a zero byte
    value = b'{"eventType": "OrderPlaced"}'
    produce(kafka_bootstrap, topic, [Rec(value, key=unknown_id), Rec(value, key=binary)])

    ruled = _read(kafka_bootstrap, schema_registry_url, topic, BY_KEY_FIELD)
    plain = _read(kafka_bootstrap, schema_registry_url, topic, EventRules())

    assert ruled[0].error is not None and ruled[0].error.startswith("key not decoded: ")
    assert f"unknown schema id {2**31 - 7}" in ruled[0].error
    assert ruled[1].error == "key not decoded: 3 bytes, shorter than the registry frame"
    assert [ev.data for ev in ruled] == [{"eventType": "OrderPlaced"}] * 2  # the value is kept
    assert [ev.error for ev in plain] == [None, None]
    assert plain[1].aggregate == binary.hex()


def test_key_schemas_travel_in_the_event_file(
    kafka_bootstrap: str,
    schema_registry_url: str,
    keyed_topic: Callable[[str], tuple[str, list[bytes]]],
    tmp_path: Path,
) -> None:
    topic, _ = keyed_topic("protobuf")
    profile = ConnectionProfile(kafka_bootstrap, registry_url=schema_registry_url)
    decoder = Decoder(rules=BY_KEY_FIELD, registry=make_registry(profile.registry_config()))
    live = [ev for batch in read_topic(profile, topic, decoder) for ev in batch]
    path = tmp_path / "keys.avro"
    write_event_file(path, live, decoder=decoder)

    stored = open_event_file(path)
    from_file = [
        ev
        for batch in stored.iter_batches(decoder=stored.decoder(None, BY_KEY_FIELD))
        for ev in batch
    ]

    assert [ev.aggregate for ev in from_file] == ["o-1", "o-2"]
    assert [ev.error for ev in from_file] == [None, None]
