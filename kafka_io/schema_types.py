"""What a schema lookup gives: the resolved schema, or a SchemaError worded for an Event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafka_io.avro_guard import ValueGuard


class SchemaError(LookupError):
    """A schema id that cannot be used; the message is one line, ready for Event.error."""


@dataclass(frozen=True)
class ResolvedSchema:
    schema_id: int
    text: str  # self-contained JSON: what an event file stores to decode with no registry
    parsed: Any  # fastavro's parsed form, given to schemaless_reader
    record_name: str | None  # short name of a top-level record, a default event type
    # Set for schemas whose values must be vetted before fastavro reads them (recursive,
    # very deep, or with arrays of zero-byte items): see kafka_io.avro_guard.
    guard: ValueGuard | None = None
    kind: str = "AVRO"  # the registry's schemaType: AVRO, PROTOBUF or JSON
    reader: Any = None  # for PROTOBUF: a kafka_io.proto_decode.ProtoReader
