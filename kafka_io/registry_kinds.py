"""Registry schemas that are not Avro: Protobuf and JSON Schema.

The three Confluent frames look alike (magic byte, schema id); only the schema's type
says how the rest is read, so it comes from the registry's ``schemaType`` or from the
event file that stored the schema, never from a guess.  An event file stores such a
schema as a small JSON object beginning ``{"schemaType":`` (Avro schemas never have that
key): a Protobuf schema as its self-contained descriptor set, a JSON Schema as its text.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

import orjson

from kafka_io.proto_decode import ProtoReader
from kafka_io.proto_schema import ProtoError, from_registry, load_descriptor_set
from kafka_io.schema_types import ResolvedSchema, SchemaError

_STORED_PREFIX = '{"schemaType":'
_WIRE_HEADER = 5
_MAX_REFERENCE_DEPTH = 32
# data, schema_id, record name, error: what Decoder._value returns
Decoded = tuple[Any, int | None, str | None, str | None]
FetchVersion = Callable[[str, int], Any]


def resolve_other(schema_id: int, kind: str, schema: Any, fetch: FetchVersion) -> ResolvedSchema:
    """A PROTOBUF or JSON schema from the registry (references fetched with ``fetch``)."""
    if kind == "JSON":
        return _json_schema(schema_id, schema.schema_str)
    if kind != "PROTOBUF":
        raise SchemaError(f"schema id {schema_id} is a {kind} schema, which is not decoded")
    texts: dict[str, str] = {}
    for ref in getattr(schema, "references", None) or []:
        _add_reference(schema_id, ref, texts, fetch, 0)
    try:
        compiled = from_registry(schema.schema_str, texts)
    except ProtoError as exc:
        raise SchemaError(f"schema id {schema_id}: {exc}") from exc
    return _protobuf(schema_id, compiled.descriptor_set, compiled)


def _add_reference(
    schema_id: int, ref: Any, texts: dict[str, str], fetch: FetchVersion, depth: int
) -> None:
    if depth > _MAX_REFERENCE_DEPTH:
        raise SchemaError(f"schema id {schema_id}: schema references nest too deeply")
    if ref.name in texts:
        return
    registered = fetch(ref.subject, ref.version)
    texts[ref.name] = registered.schema.schema_str
    for inner in getattr(registered.schema, "references", None) or []:
        _add_reference(schema_id, inner, texts, fetch, depth + 1)


def from_stored(schema_id: int, text: str) -> ResolvedSchema | None:
    """A schema as an event file stores it, or None when ``text`` is an Avro schema."""
    if not text.startswith(_STORED_PREFIX):
        return None
    try:
        stored = json.loads(text)
        kind = stored["schemaType"]
        if kind == "JSON":
            return _json_schema(schema_id, str(stored["schema"]))
        if kind != "PROTOBUF":
            raise SchemaError(f"schema id {schema_id}: stored schema type {kind!r} is unknown")
        data = base64.b64decode(stored["descriptors"], validate=True)
        compiled = load_descriptor_set(data, stored.get("file"))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:  # ProtoError too
        raise SchemaError(f"schema id {schema_id}: stored schema unusable: {exc}") from exc
    return _protobuf(schema_id, data, compiled)


def _protobuf(schema_id: int, descriptor_set: bytes, compiled: Any) -> ResolvedSchema:
    stored = {
        "schemaType": "PROTOBUF",
        "file": compiled.main.name,
        "descriptors": base64.b64encode(descriptor_set).decode("ascii"),
    }
    text = json.dumps(stored, separators=(",", ":"))
    reader = ProtoReader(compiled, f"schema id {schema_id}")
    return ResolvedSchema(schema_id, text, None, None, kind="PROTOBUF", reader=reader)


def _json_schema(schema_id: int, schema_text: str) -> ResolvedSchema:
    text = json.dumps({"schemaType": "JSON", "schema": schema_text}, separators=(",", ":"))
    title = None
    try:
        parsed = json.loads(schema_text)
        if isinstance(parsed, dict) and isinstance(parsed.get("title"), str):
            title = parsed["title"]
    except ValueError:
        pass  # the schema is only shown, never used to validate: its text is enough
    return ResolvedSchema(schema_id, text, None, title, kind="JSON")


def decode_framed(schema: ResolvedSchema, value: bytes) -> Decoded:
    """A Confluent-framed Protobuf or JSON Schema value, by its schema's type."""
    sid = schema.schema_id
    if schema.kind == "JSON":
        try:
            return orjson.loads(value[_WIRE_HEADER:]), sid, schema.record_name, None
        except orjson.JSONDecodeError as exc:
            return None, sid, schema.record_name, f"invalid JSON for schema id {sid}: {exc.msg}"
    data, name, error = schema.reader.framed(value)
    return data, sid, name and name.rsplit(".", 1)[-1], error
