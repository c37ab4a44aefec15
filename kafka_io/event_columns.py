"""A batch of decoded records as columns (one list per field) rather than as Events.

What a bulk decode produces (``kafka_io.bulk_decode``) and what the index's column
batches are made from: a million Events cost a tuple each, and the index only wants
their fields side by side.  ``of_events`` turns Events into columns with C-level passes
(an itemgetter mapped over the batch per field), so both paths meet here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from kafka_io.event import Event, Headers

_FIELDS = ("topic", "partition", "offset", "timestamp_ms", "key", "type", "aggregate")
_GETTERS = [itemgetter(Event._fields.index(f)) for f in (*_FIELDS, "headers", "error", "value")]


@dataclass
class EventColumns:
    """Record i is ``topics[i], partitions[i], ...`` (``data`` is not kept: the index
    stores the value bytes and decodes again when someone looks)."""

    topics: list[str]
    partitions: list[int]
    offsets: list[int]
    timestamps: list[int]
    keys: list[str | bytes | None]
    types: list[str]
    aggregates: list[str | None]
    headers: list[Headers]
    errors: list[str | None]
    values: list[bytes | None]
    # The values back to back, when whoever made the columns already joined them (and
    # none is None): saves the columnizer the same join.
    joined: bytes | None = field(default=None, kw_only=True)

    def __len__(self) -> int:
        return len(self.offsets)

    @classmethod
    def of_events(cls, events: Sequence[Event]) -> EventColumns:
        return cls(*(list(map(get, events)) for get in _GETTERS))

    def _columns(self) -> tuple[list[Any], ...]:
        return (
            self.topics, self.partitions, self.offsets, self.timestamps, self.keys,
            self.types, self.aggregates, self.headers, self.errors, self.values,
        )  # fmt: skip

    def put(self, rows: Sequence[int], events: Sequence[Event]) -> None:
        """Overwrite records ``rows`` with ``events`` (decoded some other way)."""
        for column, get in zip(self._columns(), _GETTERS, strict=True):
            for row, event in zip(rows, events, strict=True):
                column[row] = get(event)

    def reordered(self, order: list[int]) -> EventColumns:
        """The records in the given order (an itemgetter picks them at C speed; ``joined``
        is dropped: the order of the bytes changed)."""
        if len(order) == 1:
            return EventColumns(*([c[order[0]]] for c in self._columns()))
        pick = itemgetter(*order)
        return EventColumns(*(list(pick(c)) for c in self._columns()))
