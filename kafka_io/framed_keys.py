"""Record keys written through a registry serializer (Avro, Protobuf, JSON Schema).

Such a key is framed like a value (magic byte, 4-byte schema id) and is decoded the same
way, so a rule can read one of its fields (``key:PATH``).  The raw key stays the Event's
key: the index, event files and partitioners keep working on the bytes Kafka holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEY_ATTEMPTS = 3
_WIRE_HEADER = 5
# data, schema_id, record_name, error: how a framed value decodes
ReadFramed = Callable[[bytes], tuple[Any, int | None, str | None, str | None]]


@dataclass
class FramedKeys:
    """One topic's keys that begin with a zero byte: registry frames, or binary keys.

    A key error is an event error only when a rule reads the key's fields; otherwise the
    raw key serves as before, and a topic whose first such keys do not decode is taken
    to have binary keys, so a topic of binary ids is not one registry lookup per key.
    """

    needed: bool  # a type or aggregate rule reads a field of the key
    framed: bool | None = None  # True once a key decoded; False: binary keys, stop trying
    misses: int = 0

    def decode(self, key: bytes, read: ReadFramed, can_resolve: bool) -> tuple[Any, str | None]:
        """The decoded key (None if it is not one), and the error to report, if any."""
        if len(key) < _WIRE_HEADER or not can_resolve:
            why = "no schema registry configured"
            if len(key) < _WIRE_HEADER:
                why = f"{len(key)} bytes, shorter than the registry frame"
            return None, f"key not decoded: {why}" if self.needed else None
        data, _, _, error = read(key)
        if error is None:
            self.framed = True
            return data, None
        if not self.framed:
            self.misses += 1
            if self.misses >= KEY_ATTEMPTS and not self.needed:
                self.framed = False
        return None, f"key not decoded: {error}" if self.needed or self.framed else None
