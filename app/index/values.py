"""Reading values back: one indexed row as a full Event, decoded from its stored bytes.

The index keeps raw values only; an Event is decoded again whenever someone needs one
(the table, a replay, an export).  No cache lives here: a replay wants a private, fresh
Event every time, and the table keeps its own small cache of what it shows.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from app.index.columns import ValueDecoder, key_bytes
from kafka_io.event import Event, EventRef, Headers


class StoredRows(Protocol):
    """What decoding a row needs of the index: its stored parts."""

    def ref(self, row: int) -> EventRef: ...
    def topic_of(self, row: int) -> str: ...
    def key_of(self, row: int) -> str | bytes | None: ...
    def value_of(self, row: int) -> bytes | None: ...
    def headers_of(self, row: int) -> Headers: ...
    def aggregate_of(self, row: int) -> str | None: ...
    def error_of(self, row: int) -> str | None: ...


def decode_row(index: StoredRows, row: int, decoder: ValueDecoder | None) -> Event:
    """The Event of ``row``, decoded with ``decoder`` (JSON when there is none).

    The stored columns are what queries matched, so the Event keeps the stored type,
    aggregate and key even if the decoder's rules changed since the read, and keeps
    the error recorded at read time.
    """
    ref = index.ref(row)
    topic, key, value = index.topic_of(row), index.key_of(row), index.value_of(row)
    headers, aggregate = index.headers_of(row), index.aggregate_of(row)
    stored_error = index.error_of(row)
    if decoder is not None:
        ev = decoder.decode(
            topic, ref.partition, ref.offset, ref.timestamp_ms, key_bytes(key), value, headers
        )
        if ev.type != ref.type or ev.aggregate != aggregate or ev.key != key:
            ev = ev._replace(type=ref.type, aggregate=aggregate, key=key)
        if stored_error is not None and ev.error is None:
            ev = ev._replace(error=stored_error)
        return ev
    data: Any = None
    error = stored_error
    if value is not None:
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            error = error or "value is not JSON and the index has no decoder"
    return Event(
        topic, ref.partition, ref.offset, ref.timestamp_ms, key, ref.type, aggregate,
        headers, data, None, error, value,
    )  # fmt: skip
