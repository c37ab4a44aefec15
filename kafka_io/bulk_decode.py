"""A batch of records decoded to columns in bulk: JSON envelopes labelled without being
decoded whole.

A whole-topic build keeps each record's type, aggregate and bytes, nothing else; decoding
every JSON value into dicts and strings (about 1 µs for a 110-byte envelope) only to read
``eventType`` is most of its work.  msgspec decodes that one field into a one-field
struct, skipping the rest while still checking its syntax, several times faster.

Exact, not approximate: a record is labelled in bulk only when the whole decode
(``Decoder.decode_messages``) would give the same type and aggregate and no error:

* its topic is decided JSON with the default rules (``Decoder.bulk_json``);
* it has no headers (a type header would win) and a non-empty UTF-8 key that cannot be
  a framed key (the key is then the aggregate);
* msgspec reads the value as an object whose ``eventType`` is a non-empty string;
* orjson would accept the value too: msgspec checks the syntax of what it skips but not
  that its strings are UTF-8 nor that a number fits a double, so a value that is not
  UTF-8, or has a number with a three-digit exponent or 200 digits in a row, is left to
  the whole decode.

Every other record is decoded whole, in its place (``put``; its value is the same bytes,
so the values joined for the checks still serve the columnizer).
``tests/kafka_io/test_bulk_decode.py`` checks the two paths agree on hostile values.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
import orjson
from confluent_kafka import Message

from kafka_io.decode import Decoder
from kafka_io.event_columns import EventColumns

_Envelope = msgspec.defstruct("_Envelope", [("eventType", object, msgspec.UNSET)])
_read_envelope = msgspec.json.Decoder(_Envelope).decode
_event_type = attrgetter("eventType")
# Numbers orjson may refuse (out of a double's range) where msgspec skips them have a
# digit, then an exponent of three digits or more, or 200 digits in a row.  Bytes are
# mapped to classes (digits "0", e/E "e", signs "+", the rest " ") to find them.
_CLASSES = bytes(
    ord("0") if chr(b).isdigit() and b < 128 else ord("e") if b in b"eE" else
    ord("+") if b in b"+-" else ord(" ")
    for b in range(256)
)  # fmt: skip
# On the classes a literal-prefix regex ("0e") finds exponents faster than two finds do.
_BIG_EXPONENT = re.compile(rb"0e\+?000")
_LONG_NUMBER = b"0" * 200
_KEY: Callable[[Message], Any] = Message.key
_VALUE: Callable[[Message], Any] = Message.value
_HEADERS: Callable[[Message], Any] = Message.headers
_PARTITION: Callable[[Message], Any] = Message.partition
_OFFSET: Callable[[Message], Any] = Message.offset
_TIMESTAMP: Callable[[Message], Any] = Message.timestamp
_SECOND = itemgetter(1)


def decode_columns(decoder: Decoder, records: list[Message]) -> EventColumns:
    """``records`` (of one topic, no error messages) decoded to columns: what
    ``EventColumns.of_events(decoder.decode_messages(records))`` gives, faster."""
    if not records:
        return EventColumns.of_events([])
    topic = records[0].topic() or ""
    bulk, framed = decoder.bulk_json(topic)
    if not bulk:
        return EventColumns.of_events(decoder.decode_messages(records))
    n = len(records)
    whole: set[int] = set()  # records for the whole decode
    headers = list(map(_HEADERS, records))
    if headers.count(None) != n:
        whole.update(i for i, h in enumerate(headers) if h is not None)
    keys = _keys(list(map(_KEY, records)), framed, whole)
    values = list(map(_VALUE, records))
    types = _types(values, whole)
    joined = _check_bytes(values, whole)
    columns = EventColumns(
        [topic] * n,
        list(map(_PARTITION, records)),
        list(map(_OFFSET, records)),
        list(map(_SECOND, map(_TIMESTAMP, records))),
        keys,
        types,
        list(keys),  # the default rules: a usable key is the aggregate
        [()] * n,
        [None] * n,
        values,
        joined=joined,
    )
    if whole:
        rows = sorted(whole)
        columns.put(rows, decoder.decode_messages([records[i] for i in rows]))
    return columns


def _keys(raw: list[Any], framed: bool, whole: set[int]) -> list[Any]:
    """The keys as text; keys that are not (None, not UTF-8, empty, maybe framed) are
    left to the whole decode."""
    try:
        keys: list[Any] = list(map(bytes.decode, raw))
        joined = "".join(keys)
    except (TypeError, UnicodeDecodeError):
        keys = []
        for i, key in enumerate(raw):
            try:
                keys.append(key.decode())
            except (AttributeError, UnicodeDecodeError):
                keys.append(key)
                whole.add(i)
        joined = "".join(k for k in keys if k.__class__ is str)
    if "" in keys:
        whole.update(i for i, k in enumerate(keys) if k == "")
    if framed and "\x00" in joined:
        whole.update(i for i, k in enumerate(keys) if k.__class__ is str and k[:1] == "\x00")
    return keys


def _types(values: list[Any], whole: set[int]) -> list[Any]:
    """Each value's ``eventType`` where it is a non-empty string; the others are left to
    the whole decode."""
    try:
        types = list(map(_event_type, map(_read_envelope, values)))
    except Exception:  # any refusal: syntax, not an object, None, too deep
        types = []
        for i, value in enumerate(values):
            try:
                types.append(_event_type(_read_envelope(value)))
            except Exception:
                types.append(None)
                whole.add(i)
    if set(map(type, types)) != {str} or "" in types:
        whole.update(i for i, t in enumerate(types) if t.__class__ is not str or not t)
    return types


def _check_bytes(values: list[Any], whole: set[int]) -> bytes | None:
    """Leave to the whole decode what orjson refuses and msgspec skips: strings that are
    not UTF-8, numbers out of a double's range.  Suspects are found with C-level passes
    over the batch's bytes (each byte mapped to its class, then plain substring
    searches), and orjson itself judges each suspect."""
    has_none = None in values
    blob = b"".join([v for v in values if v is not None] if has_none else values)
    found: list[int] = []
    if not blob.isascii():
        found.extend(i for i, v in enumerate(values) if v is not None and not v.isascii())
    classes = blob.translate(_CLASSES)
    hits = [m.start() for m in _BIG_EXPONENT.finditer(classes)]
    hits += _find_all(classes, _LONG_NUMBER)
    if hits:
        ends = list(accumulate(0 if v is None else len(v) for v in values))
        found.extend(bisect_right(ends, at) for at in hits)
    for i in set(found) - whole:
        try:
            orjson.loads(values[i])
        except orjson.JSONDecodeError:
            whole.add(i)
    # The whole decode keeps each record's bytes: the join stays right for the columns.
    return None if has_none else blob


def _find_all(data: bytes, pattern: bytes) -> list[int]:
    found: list[int] = []
    at = data.find(pattern)
    while at >= 0:
        found.append(at)
        at = data.find(pattern, at + len(pattern))
    return found
