"""Producing Avro through the real schema registry, as a Confluent producer does."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kafka_helpers import Rec, produce

# confluent-kafka 2.16 defaults to an ASSOCIATED subject-name strategy that asks
# /associations/..., which Apicurio does not serve: name the subject after the topic, as
# every Confluent client did before.
SERDE_CONF = {"subject.name.strategy.type": "TOPIC"}


@dataclass(frozen=True)
class RegistryWithAuth:
    """A registry behind basic auth: its URL and the one user it lets in."""

    url: str
    user: str
    password: str

    @property
    def user_info(self) -> str:
        """``user:password``, as ``--registry-auth`` and ``basic.auth.user.info`` take it."""
        return f"{self.user}:{self.password}"


def registry_client(url: str, user_info: str | None = None) -> SchemaRegistryClient:
    """A client for producing test data; a timeout so a broken harness fails, not hangs."""
    conf: dict[str, Any] = {"url": url, "timeout": 10}
    if user_info is not None:
        conf["basic.auth.user.info"] = user_info
    return SchemaRegistryClient(conf)


def register(client: SchemaRegistryClient, subject: str, schema: Mapping[str, Any]) -> int:
    return int(client.register_schema(subject, Schema(json.dumps(schema), "AVRO")))


def avro_values(
    client: SchemaRegistryClient,
    topic: str,
    schema: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
) -> list[bytes]:
    """Serialise records with Confluent's AvroSerializer (registers ``TOPIC-value``)."""
    serializer = AvroSerializer(client, json.dumps(schema), conf=dict(SERDE_CONF))
    ctx = SerializationContext(topic, MessageField.VALUE)
    values = [serializer(dict(r), ctx) for r in records]
    assert all(v is not None for v in values)
    return [v for v in values if v is not None]


def schema_id_of(value: bytes) -> int:
    """The schema id a Confluent wire-format value names (bytes 1-4, big-endian)."""
    assert value[:1] == b"\x00", "not Confluent wire format"
    return int(struct.unpack(">I", value[1:5])[0])


def produce_avro(
    bootstrap: str,
    client: SchemaRegistryClient,
    topic: str,
    schema: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    key: bytes | None = None,
) -> list[bytes]:
    """Serialise through the registry and produce to the real broker; the values written."""
    values = avro_values(client, topic, schema, records)
    produce(bootstrap, topic, [Rec(v, key=key) for v in values])
    return values
