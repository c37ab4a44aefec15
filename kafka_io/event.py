"""The one Event record every layer shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

Headers = tuple[tuple[str, bytes | None], ...]


class Event(NamedTuple):
    """One Kafka record, decoded as far as it could be.

    A NamedTuple rather than a dataclass: it is immutable, small, and constructing
    one is several times cheaper than a frozen dataclass, which matters when a read
    makes a million of them.  A record that could not be decoded is still an Event:
    ``error`` says what failed and ``value`` keeps the bytes.
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | bytes | None
    type: str
    aggregate: str | None
    headers: Headers
    data: Any
    schema_id: int | None
    error: str | None
    value: bytes | None

    @property
    def timestamp(self) -> datetime:
        """The record timestamp as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    @property
    def key_bytes(self) -> bytes | None:
        key = self.key
        return key.encode() if isinstance(key, str) else key

    def header(self, name: str) -> str | None:
        """The last header called ``name`` as text (Kafka allows repeats; last wins)."""
        for hname, hvalue in reversed(self.headers):
            if hname == name:
                return None if hvalue is None else hvalue.decode("utf-8", "replace")
        return None

    @property
    def position(self) -> tuple[int, int]:
        return (self.partition, self.offset)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The milliseconds a datetime can hold: 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
_FIRST_MS = -62_135_596_800_000
_LAST_MS = 253_402_300_799_999


def iso_utc(timestamp_ms: int) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as every face prints timestamps.

    A Kafka timestamp is any 64-bit number of milliseconds; one outside the years 1 to
    9999 (which no ISO date without an expanded year can show) is given as its raw
    milliseconds, e.g. ``"253402300800000 ms"``, rather than stopping whoever prints it.
    """
    if not _FIRST_MS <= timestamp_ms <= _LAST_MS:
        return f"{timestamp_ms} ms"
    # Integer arithmetic, not fromtimestamp(): exact, and the same on every platform.
    dt = _EPOCH + timedelta(milliseconds=timestamp_ms)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond // 1000:03d}Z"
    )


def timestamp_error(timestamp_ms: int) -> str | None:
    """Why ``iso_utc`` cannot show this timestamp as a date, or None when it can."""
    if _FIRST_MS <= timestamp_ms <= _LAST_MS:
        return None
    return f"timestamp {timestamp_ms} ms is outside the years 1 to 9999"


def timestamp_json(timestamp_ms: int) -> str | int:
    """A timestamp for JSON output: ISO 8601, or the raw milliseconds when out of range."""
    return timestamp_ms if timestamp_error(timestamp_ms) else iso_utc(timestamp_ms)


@dataclass(frozen=True, slots=True)
class EventRef:
    """Where an event is and what it was, without its payload (for results and blame)."""

    partition: int
    offset: int
    type: str
    timestamp_ms: int

    @property
    def timestamp(self) -> str:
        return iso_utc(self.timestamp_ms)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "partition": self.partition,
            "offset": self.offset,
            "type": self.type,
            "timestamp": timestamp_json(self.timestamp_ms),
        }
        error = timestamp_error(self.timestamp_ms)
        if error:
            doc["error"] = error
        return doc

    @classmethod
    def of(cls, event: Event) -> EventRef:
        return cls(event.partition, event.offset, event.type, event.timestamp_ms)
