"""Small types the index is built from: PartitionState, name interning, the saved state.

Layout (row ``r`` is the r-th appended event; a whole-topic build appends in log order):

* ``partition`` int32, ``offset`` int64, ``timestamp`` int64 (ms);
* ``type`` / ``aggregate`` int32 ids into interned name lists (aggregate -1: none);
* ``key`` int32: -2 the key equals the aggregate text (the usual case: nothing
  stored), -1 no key, >= 0 an id into an interned list of the keys that differ;
* ``topic`` int16 (an event file may carry several topics);
* ``value_end`` int64: the value of row r is ``values[value_end[r-1]:value_end[r]]``;
* ``error`` int32: -1, or an id into the interned read/decode error messages;
* ``flags`` uint8: bit 0, the value was null (a tombstone);
* sparse: rows with headers (marshal-encoded in a second blob, found by binary search).

Where the columns live (memory, or files mapped into memory) is ``app.index.storage``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from app.index.storage import MemColumn
from kafka_io.event import Event, Headers


class ValueDecoder(Protocol):
    """What the index needs of ``kafka_io.decode.Decoder``: turn stored bytes into an Event."""

    def decode(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp_ms: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
    ) -> Event: ...


@dataclass
class PartitionState:
    """What the index holds of one partition; persisted to detect a changed topic.

    ``next_offset`` is where a catch-up read resumes (past the last record read, or
    the high watermark the read reached when transaction markers end the log).
    ``first_*`` fingerprint the first record indexed, so a deleted-and-recreated topic
    whose offsets happen to line up is still noticed.  ``first_offset`` is -1 while no
    record of the partition is indexed.
    """

    low: int = 0
    next_offset: int = 0
    first_offset: int = -1
    first_timestamp_ms: int = 0
    first_crc: int = 0
    count: int = 0
    # The last record indexed, fingerprinted too: a topic recreated with the same first
    # records is caught by its later ones.
    last_offset: int = -1
    last_timestamp_ms: int = 0
    last_crc: int = 0
    # Rows holding the first and the last record (-1: unknown), so a reopened index
    # checks them against its columns without a pass over every row.
    first_row: int = -1
    last_row: int = -1


def key_bytes(key: str | bytes | None) -> bytes | None:
    return key.encode() if isinstance(key, str) else key


def record_crc(key: str | bytes | None, value: bytes | None) -> int:
    """A fingerprint of a record's content (key and value), for cache validation."""
    crc = zlib.crc32(key_bytes(key) or b"\x00")
    return zlib.crc32(value or b"\x00", crc)


class Interner(dict[Any, int]):
    """name -> id, assigning the next id to an unseen name on lookup.

    A dict subclass so that ``map(interner.__getitem__, names)`` runs at C speed and
    only an unseen name pays for a Python call.
    """

    def __init__(self, names: list[Any], seed: Mapping[Any, int] | None = None) -> None:
        super().__init__(seed or {})
        self.names = names
        # zip at C speed: a reopen interns 100k names
        self.update(zip(names, range(len(names)), strict=True))

    def intern_all(self, names: list[Any]) -> list[int]:
        """Ids of ``names``, new ones assigned in order of first appearance, in bulk: a
        batch that brings ten thousand new aggregates pays no Python call per name."""
        missing = [n for n in dict.fromkeys(names) if n not in self]
        if missing:
            start = len(self.names)
            self.update(zip(missing, range(start, start + len(missing)), strict=True))
            self.names.extend(missing)
        return list(map(self.__getitem__, names))

    def __missing__(self, name: Any) -> int:
        new_id = len(self.names)
        self.names.append(name)
        self[name] = new_id
        return new_id


# Row columns of an index and their dtypes (also the persisted column files).
ROW_COLUMNS: dict[str, Any] = {
    "partition": np.int32,
    "offset": np.int64,
    "timestamp": np.int64,
    "type": np.int32,
    "aggregate": np.int32,
    "key": np.int32,
    "topic": np.int16,
    "value_end": np.int64,
    "error": np.int32,
    "flags": np.uint8,
}


@dataclass
class IndexState:
    """Everything a TopicIndex holds, as plain parts (what ``index_store`` persists).

    ``arrays`` has the ROW_COLUMNS, ``header_rows``/``header_end`` and, only if some
    partition's clock stepped back, ``effective_ts``.  The blobs are bytes-like (a
    bytearray, or a read-only array over a mapped file): slice them, do not keep
    exported buffers of a bytearray (a live index must stay free to grow it).
    ``errors`` and ``none_values`` are derived from the ``error`` and ``flags``
    columns, for readers that want them as plain containers.
    """

    topic: str
    cluster_id: str
    arrays: dict[str, np.ndarray]
    value_blob: Any
    header_blob: Any
    type_names: list[str]
    aggregate_names: list[str]
    key_names: list[str | bytes]
    topic_names: list[str]
    errors: dict[int, str]
    none_values: list[int]
    partitions: dict[int, PartitionState]
    part_max_ts: dict[int, int]
    # The blobs may be shared with a live index that keeps growing: these many bytes
    # belong to the snapshot.
    value_size: int = -1
    header_size: int = -1
    error_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.value_size < 0:
            self.value_size = len(self.value_blob)
        if self.header_size < 0:
            self.header_size = len(self.header_blob)


# Old name of the in-memory column, kept for code that builds its own columns.
Column = MemColumn
