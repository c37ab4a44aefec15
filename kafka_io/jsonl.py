"""Events from the app's own JSON lines (``event-explorer events --json``), read back.

Each line is one object: ``topic, partition, offset, timestamp`` (ISO 8601 UTC),
``key, type, aggregate, headers`` ([name, value] pairs), ``data, schema_id, error``;
text that is not UTF-8 (a key, a header value) is ``{"base64": ...}``.  Such a file is a
natural thing to hand someone, so it opens like any event file:

* coordinates, timestamp, key and headers come back exactly (bytes included);
* ``type`` and ``aggregate`` are kept as printed: the rules decided them when the line
  was written, and the value they read may not be in the file;
* the value bytes are made again from ``data``: the text itself in a topic of text
  values (its first value is a string), else the JSON of ``data``; ``{"base64": ...}``
  alone is raw bytes.  They decode back to the same ``data``, but they are not the
  record's original bytes (an Avro value comes back as its JSON);
* ``data`` null is a null value: a tombstone, or, with an ``error``, a record that did
  not decode, which stays an error event with its error and type.

A line that is not such a record becomes an error event (partition -1, offset = line
number, the line as its value) naming the line, as ``kafka_io.kcat`` does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from kafka_io.decode import Decoder, Row, gc_paused
from kafka_io.event import Event
from kafka_io.kcat import MAX_LINE_BYTES, TOO_LONG, bounded_lines

BATCH = 5000
# What tells these lines from kcat -J's (which has "ts" and "payload" instead).
RECORD_KEYS = frozenset({"topic", "partition", "offset", "timestamp", "type", "data"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_INT32_MAX = (1 << 31) - 1
_INT64_MAX = (1 << 63) - 1


def is_event_json_record(rec: object) -> bool:
    """Whether a parsed line is one of ``events --json``'s objects."""
    return isinstance(rec, dict) and rec.keys() >= RECORD_KEYS


class _BadLine(ValueError):
    """A line that is not an ``events --json`` record, and why."""


@dataclass(frozen=True, slots=True)
class _Printed:
    """A line's record: the row to decode, and what the line says decoding cannot."""

    row: Row
    type: str
    aggregate: str | None
    schema_id: int | None
    error: str | None


def read_event_jsonl(path: str | Path, decoder: Decoder | None = None) -> Iterator[Event]:
    for batch in iter_event_jsonl_batches(path, BATCH, decoder):
        yield from batch


def iter_event_jsonl_batches(
    path: str | Path, batch_size: int = BATCH, decoder: Decoder | None = None
) -> Iterator[list[Event]]:
    """Events in file order, ``batch_size`` lines at a time."""
    dec = decoder or Decoder()
    text_topics: dict[str, bool] = {}  # topic -> its values are text (decided once)
    last_topic = ""
    with Path(path).open("rb") as fo:
        numbered = enumerate(bounded_lines(fo), 1)
        while True:
            items: list[_Printed | Event] = []
            consumed = 0
            with gc_paused():
                for lineno, line in islice(numbered, batch_size):
                    consumed += 1
                    stripped = line.strip() if line is not TOO_LONG else line
                    if not stripped:
                        continue
                    try:
                        if stripped is TOO_LONG:
                            raise _BadLine(f"longer than {MAX_LINE_BYTES} bytes")
                        printed = _parse(stripped, text_topics)
                    except _BadLine as exc:
                        error = f"line {lineno}: not an events --json record: {exc}"
                        items.append(
                            Event(last_topic, -1, lineno, -1, None, "unknown", None, (),
                                  None, None, error, stripped)
                        )  # fmt: skip
                        continue
                    last_topic = printed.row[0]
                    items.append(printed)
                batch = _decode(dec, items)
            if batch:
                yield batch
            if consumed < batch_size:
                return


def _decode(dec: Decoder, items: Sequence[_Printed | Event]) -> list[Event]:
    """Decode the records' values in one pass, then put back what the lines said."""
    decoded = iter(dec.decode_rows([p.row for p in items if isinstance(p, _Printed)]))
    out: list[Event] = []
    for item in items:
        if isinstance(item, Event):
            out.append(item)
            continue
        ev = next(decoded)
        out.append(
            ev._replace(
                type=item.type,
                aggregate=item.aggregate,
                schema_id=item.schema_id if item.schema_id is not None else ev.schema_id,
                # An error met now wins over the printed one, as when an index re-decodes.
                error=ev.error or item.error,
            )
        )
    return out


def _parse(line: bytes, text_topics: dict[str, bool]) -> _Printed:
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _BadLine(f"invalid JSON: {exc.msg}") from None
    if not isinstance(rec, dict):
        raise _BadLine(f"a JSON {type(rec).__name__}, not an object")
    missing = sorted(RECORD_KEYS - rec.keys())
    if missing:
        raise _BadLine(f"missing field {', '.join(missing)}")
    topic = _typed(rec, "topic", str)
    etype = _typed(rec, "type", str)
    aggregate = _typed(rec, "aggregate", str, optional=True)
    error = _typed(rec, "error", str, optional=True)
    schema_id = _typed(rec, "schema_id", int, optional=True)
    data = rec["data"]
    row: Row = (
        topic,
        _in_range(_typed(rec, "partition", int), "partition", 0, _INT32_MAX),
        _in_range(_typed(rec, "offset", int), "offset", 0, _INT64_MAX),
        _timestamp(rec["timestamp"]),
        _bytes(rec.get("key"), "key"),
        _value(data, topic, schema_id, error, text_topics),
        _headers(rec.get("headers")),
    )
    return _Printed(row, etype, aggregate, schema_id, error)


def _typed(rec: dict[str, Any], name: str, kind: type, optional: bool = False) -> Any:
    value = rec.get(name)
    if value is None and optional:
        return None
    # bool is an int to Python, never a partition or an offset here.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _BadLine(f"{name} is not {'an integer' if kind is int else 'a string'}")
    return value


def _in_range(value: int, name: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise _BadLine(f"{name} {value} is out of range")
    return value


def _timestamp(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # epoch milliseconds, from a hand-made file
    if not isinstance(value, str):
        raise _BadLine("timestamp is not an ISO 8601 string")
    raw = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise _BadLine(f"timestamp {value!r} is not ISO 8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return (dt - _EPOCH) // _MS
    except OverflowError:  # 0001-01-01 in a zone east of UTC
        raise _BadLine(f"timestamp {value!r} is out of range") from None


def _base64(value: Any) -> bytes | None:
    """The bytes of ``{"base64": ...}``, or None if ``value`` is not that."""
    if not (isinstance(value, dict) and len(value) == 1 and "base64" in value):
        return None
    try:
        return base64.b64decode(value["base64"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise _BadLine("invalid base64") from None


def _bytes(value: Any, what: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    raw = _base64(value)
    if raw is None:
        raise _BadLine(f'{what} is neither text nor {{"base64": ...}}')
    return raw


def _headers(value: Any) -> list[tuple[str, bytes | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _BadLine("headers is not a list of [name, value] pairs")
    out = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise _BadLine("headers is not a list of [name, value] pairs")
        out.append((pair[0], _bytes(pair[1], f"header {pair[0]!r}")))
    return out


def _value(
    data: Any, topic: str, schema_id: int | None, error: str | None, text_topics: dict[str, bool]
) -> bytes | None:
    """Bytes that decode to ``data`` (see the module doc)."""
    if data is None:
        return None
    if schema_id is None and error is None:
        raw = _base64(data)
        if raw is not None:
            return raw
    # The first value of a topic tells how it was read; the decoder that reads these
    # bytes back decides the same way on the same first value.
    text = text_topics.setdefault(topic, isinstance(data, str))
    if text and isinstance(data, str):
        return data.encode()
    return orjson.dumps(data)
