"""What an event's value was written with, for a person: the schema type, its id, the
Protobuf message type and the schema's text (``.proto`` form, JSON Schema, Avro)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.proto_decode import PlainProto, message_type_of
from kafka_io.proto_text import file_text
from kafka_io.registry_kinds import from_stored
from kafka_io.schema_types import ResolvedSchema, SchemaError

_KINDS = {"AVRO": "Avro", "PROTOBUF": "Protobuf", "JSON": "JSON Schema"}


@dataclass(frozen=True)
class SchemaView:
    kind: str  # "Protobuf", "JSON Schema" or "Avro"
    schema_id: int | None  # None for plain Protobuf read with a descriptor set
    message: str | None  # the Protobuf message type, fully qualified
    text: str  # the schema, as text to read
    source: str = "registry"  # where the schema came from: "registry" or the descriptor set

    @property
    def title(self) -> str:
        parts = [self.kind]
        if self.message:
            parts.append(self.message)
        parts.append(f"schema id {self.schema_id}" if self.schema_id is not None else self.source)
        return " · ".join(parts)


class SchemaViews:
    """Schema views of the events a decoder decoded (each schema compiled once)."""

    def __init__(self) -> None:
        self._resolved: dict[tuple[int, str], ResolvedSchema | None] = {}

    def of_event(self, decoder: Decoder, ev: Event) -> SchemaView | None:
        """The view of what ``ev``'s value was written with; None for schemaless values."""
        if ev.schema_id is None:
            proto = decoder.protos_used.get(ev.topic)
            return of_plain(proto) if proto is not None else None
        text = decoder.schemas_used.get(ev.schema_id)
        if text is None:  # the id did not resolve: the event's error says why
            return None
        key = (ev.schema_id, text)
        if key not in self._resolved:
            try:
                self._resolved[key] = from_stored(ev.schema_id, text)
            except SchemaError:
                self._resolved[key] = None
        found = self._resolved[key]
        if found is None:
            return SchemaView("Avro", ev.schema_id, None, json.dumps(json.loads(text), indent=2))
        return of_registry(found, ev.value)


def of_registry(schema: ResolvedSchema, value: bytes | None) -> SchemaView:
    """A schema id's view; ``value`` (the framed record) says which Protobuf message."""
    kind = _KINDS.get(schema.kind, schema.kind)
    if schema.kind == "PROTOBUF":
        proto = schema.reader.schema
        message = message_type_of(proto, value) if value is not None else None
        return SchemaView(kind, schema.schema_id, message, file_text(proto.main))
    stored: Any = json.loads(schema.text)
    if schema.kind == "JSON":
        stored = _json_or_text(stored["schema"])
    return SchemaView(kind, schema.schema_id, None, json.dumps(stored, indent=2))


def of_plain(proto: PlainProto) -> SchemaView | None:
    """A plain Protobuf topic's view: its message type and the file that declares it."""
    schema = proto.schema()
    if schema is None:
        return None
    main = schema.file_of(proto.message)
    return SchemaView("Protobuf", None, proto.message, file_text(main), "descriptor set")


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
