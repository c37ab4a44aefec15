"""The one Event record every layer shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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


def iso_utc(timestamp_ms: int) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as every face prints timestamps."""
    dt = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


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
        return {
            "partition": self.partition,
            "offset": self.offset,
            "type": self.type,
            "timestamp": self.timestamp,
        }

    @classmethod
    def of(cls, event: Event) -> EventRef:
        return cls(event.partition, event.offset, event.type, event.timestamp_ms)
