"""The JSON form of an Event, one definition for ``events --json`` and "Copy as JSON"."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson

from kafka_io.event import Event, iso_utc


def _default(obj: Any) -> Any:
    """What orjson cannot write itself: bytes (Avro ``bytes``), Decimals, sets."""
    if isinstance(obj, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def dumps(obj: Any, pretty: bool = False) -> str:
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if pretty else 0)
    return orjson.dumps(obj, default=_default, option=option).decode()


def text_or_base64(value: bytes | None) -> Any:
    """UTF-8 text as a string; other bytes as ``{"base64": ...}``."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode()}


def event_record(ev: Event) -> dict[str, Any]:
    """topic, partition, offset, timestamp (ISO 8601 UTC), key, type, aggregate,
    headers ([name, value] pairs, in order: Kafka allows repeats), data, schema_id, error."""
    return {
        "topic": ev.topic,
        "partition": ev.partition,
        "offset": ev.offset,
        "timestamp": iso_utc(ev.timestamp_ms),
        "key": text_or_base64(ev.key) if isinstance(ev.key, bytes) else ev.key,
        "type": ev.type,
        "aggregate": ev.aggregate,
        "headers": [[name, text_or_base64(value)] for name, value in ev.headers],
        "data": ev.data,
        "schema_id": ev.schema_id,
        "error": ev.error,
    }
