"""The JSON form of an Event, one definition for ``events --json`` and "Copy as JSON"."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson

from app.output.json_text import dumps_deep, nests_within
from kafka_io.event import Event, timestamp_error, timestamp_json


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
    """JSON text for any value the app holds, however deep (see ``json_text``)."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if pretty else 0)
    if nests_within(obj):  # orjson itself is only safe on shallow values
        try:
            return orjson.dumps(obj, default=_default, option=option).decode()
        except TypeError:  # an integer past 64 bits, or ``default`` nesting too deep
            pass
    return dumps_deep(obj, _default, option)


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
    headers ([name, value] pairs, in order: Kafka allows repeats), data, schema_id, error.

    A timestamp outside the years 1 to 9999 is given as its raw milliseconds, and
    ``error`` says so (after the event's own error, if it has one).
    """
    error = ev.error
    stamp_error = timestamp_error(ev.timestamp_ms)
    if stamp_error is not None:
        error = f"{error}; {stamp_error}" if error else stamp_error
    return {
        "topic": ev.topic,
        "partition": ev.partition,
        "offset": ev.offset,
        "timestamp": timestamp_json(ev.timestamp_ms),
        "key": text_or_base64(ev.key) if isinstance(ev.key, bytes) else ev.key,
        "type": ev.type,
        "aggregate": ev.aggregate,
        "headers": [[name, text_or_base64(value)] for name, value in ev.headers],
        "data": ev.data,
        "schema_id": ev.schema_id,
        "error": error,
    }
