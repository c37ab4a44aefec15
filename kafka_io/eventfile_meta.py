"""What an exported event file says about itself: its record schema and its metadata.

Reading metadata trusts nothing: each entry must have the shape the writer gives it
(``event_explorer.topics`` an object of topic -> count, ``schemas`` an object of
schema id -> schema JSON, ``formats`` an object of topic -> value format, ``count`` a
number), or the file is reported as damaged in one line.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import fastavro

from kafka_io.decode import ValueFormat

META_VERSION = "event_explorer.version"
META_SCHEMAS = "event_explorer.schemas"  # JSON object: schema id -> Avro schema JSON
META_FORMATS = "event_explorer.formats"  # JSON object: topic -> value format
META_TOPICS = "event_explorer.topics"  # JSON object: topic -> record count
META_COUNT = "event_explorer.count"
# JSON object: topic -> {"message": full name, "descriptors": base64 FileDescriptorSet},
# for topics of plain Protobuf values (version 2 on; version 1 files have none).
META_PROTOS = "event_explorer.protobuf"
FILE_VERSION = "2"

RECORD_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "KafkaRecord",
    "namespace": "event_explorer",
    "fields": [
        {"name": "topic", "type": "string"},
        {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"},
        {"name": "timestamp_ms", "type": "long"},
        {"name": "key", "type": ["null", "bytes"]},
        {
            "name": "headers",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Header",
                    "fields": [
                        {"name": "name", "type": "string"},
                        {"name": "value", "type": ["null", "bytes"]},
                    ],
                },
            },
        },
        {"name": "value", "type": ["null", "bytes"]},
    ],
}
PARSED_RECORD_SCHEMA: Any = fastavro.parse_schema(RECORD_SCHEMA)
_FIELD_TYPES = {f["name"]: f["type"] for f in PARSED_RECORD_SCHEMA["fields"]}
_MAX_SCHEMA_ID = (1 << 32) - 1  # Confluent schema ids are 4 bytes on the wire


class EventFileError(ValueError):
    """A file that is not an event file, or is damaged beyond reading."""


def is_native(parsed: Any) -> bool:
    """True when records carry Kafka coordinates with exactly the types an export writes.

    Names alone are not enough: a ``partition`` that is a string, or a ``timestamp_ms``
    with a logical type, would make Events of the wrong shape.
    """
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        return False
    fields = {
        f.get("name"): f.get("type") for f in parsed.get("fields") or [] if isinstance(f, dict)
    }
    return all(fields.get(name, object()) == kind for name, kind in _FIELD_TYPES.items())


@dataclass(frozen=True)
class FileMeta:
    topics: tuple[str, ...]
    schemas: dict[int, str]
    formats: dict[str, str]
    count: int | None
    protos: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # message, descriptors


def parse_metadata(meta: Mapping[str, bytes]) -> FileMeta:
    """The event file's own metadata; raises ValueError saying what is wrong in one line."""
    topics_json = _json(meta, META_TOPICS)
    if topics_json is None:
        topics: tuple[str, ...] = ()
    elif isinstance(topics_json, dict) and all(_is_count(n) for n in topics_json.values()):
        topics = tuple(topics_json)
    else:
        raise ValueError(f"{META_TOPICS} is {_shape(topics_json)}, not an object of counts")
    schemas_json = _json(meta, META_SCHEMAS) or {}
    if not isinstance(schemas_json, dict):
        raise ValueError(f"{META_SCHEMAS} is {_shape(schemas_json)}, not an object")
    schemas: dict[int, str] = {}
    for key, text in schemas_json.items():
        if not (key.isascii() and key.isdigit() and int(key) <= _MAX_SCHEMA_ID):
            raise ValueError(f"{META_SCHEMAS} has {key[:40]!r} where a schema id belongs")
        if not isinstance(text, str):
            raise ValueError(f"{META_SCHEMAS} gives schema id {key} as {_shape(text)}")
        schemas[int(key)] = text
    formats_json = _json(meta, META_FORMATS) or {}
    if not isinstance(formats_json, dict):
        raise ValueError(f"{META_FORMATS} is {_shape(formats_json)}, not an object")
    known = {str(f) for f in ValueFormat}
    for topic, fmt in formats_json.items():
        if not isinstance(fmt, str) or fmt not in known:
            raise ValueError(
                f"{META_FORMATS} gives topic {topic[:80]!r} the unknown format {fmt!r}"
            )
    count = _json(meta, META_COUNT)
    if count is not None and not _is_count(count):
        raise ValueError(f"{META_COUNT} is {_shape(count)}, not a count")
    return FileMeta(topics, schemas, dict(formats_json), count, _protos(meta))


def _protos(meta: Mapping[str, bytes]) -> dict[str, tuple[str, bytes]]:
    found = _json(meta, META_PROTOS) or {}
    if not isinstance(found, dict):
        raise ValueError(f"{META_PROTOS} is {_shape(found)}, not an object")
    protos: dict[str, tuple[str, bytes]] = {}
    for topic, entry in found.items():
        message = entry.get("message") if isinstance(entry, dict) else None
        encoded = entry.get("descriptors") if isinstance(entry, dict) else None
        if not isinstance(message, str) or not isinstance(encoded, str):
            raise ValueError(f"{META_PROTOS} gives topic {topic[:80]!r} no message and descriptors")
        try:
            protos[topic] = (message, base64.b64decode(encoded, validate=True))
        except binascii.Error as exc:
            raise ValueError(f"{META_PROTOS} has topic {topic[:80]!r} descriptors: {exc}") from exc
    return protos


def _json(meta: Mapping[str, bytes], key: str) -> Any:
    raw = meta.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise ValueError(f"{key} nests too deeply") from exc
    except ValueError as exc:  # also UnicodeDecodeError
        raise ValueError(f"{key} is not JSON: {exc}") from exc


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"the {type(value).__name__} {str(value)[:40]}"
