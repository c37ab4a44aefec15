"""The in-memory index of one topic: compact numpy columns, values in one byte blob.

A ``TopicIndex`` holds what a read saw — partition, offset, timestamp, type, aggregate,
key, headers and the raw value of every record — in about 40 bytes per event plus the
value bytes, so that filtering a million events is a handful of vectorised numpy
operations (see ``app.index.query``) and no Python object per event stays alive.  Values
are decoded again on demand, through the decoder the read used (``app.index.values``).
The columns are described in ``app.index.columns``.  Rows are in read order;
``log_order()`` gives them in log order (see ``app.index.log_order``).
"""

from __future__ import annotations

import marshal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.index.columns import (
    ROW_COLUMNS,
    Column,
    Interner,
    PartitionState,
    SparseBlob,
    ValueDecoder,
)
from app.index.log_order import LogOrder, effective_timestamps
from app.index.partitions import PartitionBook
from app.index.values import decode_row
from kafka_io.event import Event, EventRef, Headers

__all__ = ["PartitionState", "TopicIndex", "ValueDecoder"]

NO_AGGREGATE = -1
KEY_IS_AGGREGATE = -2
NO_KEY = -1


class _Committed:
    """A column of the index as an attribute: its committed rows."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, index: TopicIndex, owner: type | None = None) -> np.ndarray:
        return index._col(self.name)


class TopicIndex:
    """Every event read from one topic of one cluster (or one event file), as columns.

    One thread appends; other threads may query, replay and save meanwhile.  Rows are
    only ever added, and the row count is committed last, so a reader that takes
    ``len(index)`` first sees complete rows, and arrays and row ids it holds stay
    valid.  ``append`` and ``app.index.state.snapshot`` share a lock, so a save running on a worker
    writes a consistent snapshot.
    """

    def __init__(
        self,
        topic: str,
        decoder: ValueDecoder | None = None,
        *,
        cluster_id: str = "",
    ) -> None:
        self.topic = topic
        self.cluster_id = cluster_id
        self.decoder = decoder
        self.type_names: list[str] = []
        self.aggregate_names: list[str] = []
        self.key_names: list[str | bytes] = []
        self.topic_names: list[str] = [topic]
        self._cols = {name: Column(dtype) for name, dtype in ROW_COLUMNS.items()}
        self._blob = bytearray()
        self._headers = SparseBlob()
        self._none_values: set[int] = set()
        self._errors: dict[int, str] = {}
        self._eff_ts: Column | None = None  # only once some partition's clock stepped back
        self._book = PartitionBook()
        self._n = 0  # committed rows: set last in append()
        self._lock = threading.Lock()
        self._reset_derived()

    def _reset_derived(self) -> None:
        self._type_ids = Interner(self.type_names)
        self._aggregate_ids = Interner(self.aggregate_names, {None: NO_AGGREGATE})
        self._key_ids = Interner(self.key_names, {None: NO_KEY})
        self._topic_ids = Interner(self.topic_names)
        self._order = LogOrder()
        self._sorted_aggregates: list[str] | None = None
        self.generation = 0  # bumps on every append, so views can tell they are stale

    # ------------------------------------------------------------------ building

    def __len__(self) -> int:
        return self._n

    def append(self, events: Sequence[Event]) -> None:
        """Add a batch of read events (in read order; offsets ascending per partition).

        Each event's type, aggregate, key, headers, error and raw value are kept; its
        decoded ``data`` is dropped (decoded again on demand).  The work is a few
        C-level passes over the batch, with no per-event Python code in the usual case.
        """
        if len(events) == 0:
            return
        with self._lock:
            self._append(events)

    def _append(self, events: Sequence[Event]) -> None:
        n = len(events)
        base = self._n
        (topics, parts, offs, tss, keys, types, aggs, headers, _d, _s, errors, values) = zip(
            *events, strict=True
        )
        part_arr = np.fromiter(parts, np.int32, n)
        off_arr = np.fromiter(offs, np.int64, n)
        ts_arr = np.fromiter(tss, np.int64, n)
        cols = self._cols
        cols["type"].extend(np.fromiter(map(self._type_ids.__getitem__, types), np.int32, n))
        cols["aggregate"].extend(
            np.fromiter(map(self._aggregate_ids.__getitem__, aggs), np.int32, n)
        )
        cols["key"].extend(self._key_codes(keys, aggs, n))
        if topics.count(self.topic) == n:
            cols["topic"].extend(np.zeros(n, np.int16))
        else:
            cols["topic"].extend(np.fromiter(map(self._topic_ids.__getitem__, topics), np.int16, n))
        if None in values:
            self._none_values.update(base + i for i, v in enumerate(values) if v is None)
            values = tuple(b"" if v is None else v for v in values)
        ends = np.cumsum(np.fromiter(map(len, values), np.int64, n))
        ends += len(self._blob)
        self._blob += b"".join(values)
        cols["value_end"].extend(ends)
        if headers.count(()) != n:
            self._append_headers(headers, base)
        if errors.count(None) != n:
            self._errors.update((base + i, e) for i, e in enumerate(errors) if e is not None)
        self._track_partitions(events, part_arr, off_arr, ts_arr)
        cols["partition"].extend(part_arr)
        cols["offset"].extend(off_arr)
        cols["timestamp"].extend(ts_arr)
        self._n = base + n
        if self._book.out_of_order:
            self._order.invalidate()
        else:
            self._order.extend(
                self.effective_timestamp_col, self.partition_col, self.offset_col, base
            )
        self._sorted_aggregates = None
        self.generation += 1

    def _key_codes(self, keys: tuple[Any, ...], aggs: tuple[Any, ...], n: int) -> np.ndarray:
        if keys == aggs:  # one C-level comparison covers the usual case
            return np.full(n, KEY_IS_AGGREGATE, np.int32)
        ids = self._key_ids
        codes = (
            KEY_IS_AGGREGATE if k == a and k is not None else ids[k]
            for k, a in zip(keys, aggs, strict=True)
        )
        return np.fromiter(codes, np.int32, n)

    def _append_headers(self, headers: tuple[Headers, ...], base: int) -> None:
        rows = [i for i, h in enumerate(headers) if h]
        encoded = [marshal.dumps(tuple(headers[i])) for i in rows]
        self._headers.extend(np.asarray(rows, np.int64) + base, encoded)

    def _track_partitions(
        self, events: Sequence[Event], part_arr: np.ndarray, off_arr: np.ndarray, ts_arr: np.ndarray
    ) -> None:
        """Per-partition bookkeeping and the effective (running max) timestamps."""
        eff = self._book.track(events, part_arr, off_arr, ts_arr)
        if eff is None and self._eff_ts is None:
            return
        if self._eff_ts is None:
            self._eff_ts = Column(np.int64, self.timestamp_col)
        self._eff_ts.extend(ts_arr if eff is None else eff)

    @property
    def partitions(self) -> dict[int, PartitionState]:
        """Partition -> what is indexed of it (positions, fingerprint, count)."""
        return self._book.states

    def mark_position(self, partition: int, next_offset: int, low: int | None = None) -> None:
        """Record that a read of ``partition`` got up to ``next_offset`` (past transaction
        markers, say) and, optionally, the low watermark seen."""
        with self._lock:  # a save may be taking a snapshot on a worker
            self._book.mark_position(partition, next_offset, low)

    def relabel(self, row: int, etype: str, aggregate: str | None, error: str | None) -> None:
        """A row decoded again (its registry answers now): new type, aggregate, error.
        The key is kept as it was (an aggregate-equals-key row stores its key first)."""
        with self._lock:
            key = self.key_of(row)
            cols = self._cols
            if int(cols["key"].data[row]) == KEY_IS_AGGREGATE and key != aggregate:
                cols["key"].data[row] = self._key_ids[key]
            cols["type"].data[row] = self._type_ids[etype]
            cols["aggregate"].data[row] = self._aggregate_ids[aggregate]
            if error is None:
                self._errors.pop(row, None)
            else:
                self._errors[row] = error
            self._sorted_aggregates = None
            self.generation += 1

    # ------------------------------------------------------------------ columns

    def _col(self, name: str) -> np.ndarray:
        return self._cols[name].data[: self._n]

    # The committed rows of each column (views: do not modify).
    partition_col = _Committed("partition")
    offset_col = _Committed("offset")
    timestamp_col = _Committed("timestamp")
    type_col = _Committed("type")
    aggregate_col = _Committed("aggregate")
    key_col = _Committed("key")
    topic_col = _Committed("topic")
    value_end_col = _Committed("value_end")

    @property
    def effective_timestamp_col(self) -> np.ndarray:
        """Timestamps as log order sees them (running max per partition)."""
        if self._book.out_of_order:
            eff = effective_timestamps(self.partition_col, self.offset_col, self.timestamp_col)
            self._eff_ts = Column(np.int64, eff)
            self._book.out_of_order = False
        return self.timestamp_col if self._eff_ts is None else self._eff_ts.data[: self._n]

    @property
    def value_blob(self) -> bytearray:
        """All values back to back (row r spans ``value_span(r)``); do not modify."""
        return self._blob

    @property
    def error_rows(self) -> Mapping[int, str]:
        return self._errors

    def type_id(self, name: str) -> int | None:
        return self._type_ids.get(name)

    def aggregate_id(self, name: str) -> int | None:
        got = self._aggregate_ids.get(name)
        return None if got is None or got < 0 else got

    # ------------------------------------------------------------------ rows

    def _check(self, row: int) -> int:
        if not 0 <= row < self._n:
            raise IndexError(f"row {row} out of range (0..{self._n - 1})")
        return row

    def value_span(self, row: int) -> tuple[int, int]:
        ends = self._cols["value_end"].data
        return (int(ends[row - 1]) if row else 0), int(ends[self._check(row)])

    def value_of(self, row: int) -> bytes | None:
        if self._check(row) in self._none_values:
            return None
        start, end = self.value_span(row)
        return bytes(self._blob[start:end])

    def value_size(self, row: int) -> int:
        start, end = self.value_span(row)
        return end - start

    def type_of(self, row: int) -> str:
        return self.type_names[self._cols["type"].data[self._check(row)]]

    def aggregate_of(self, row: int) -> str | None:
        aid = int(self._cols["aggregate"].data[self._check(row)])
        return None if aid < 0 else self.aggregate_names[aid]

    def key_of(self, row: int) -> str | bytes | None:
        code = int(self._cols["key"].data[self._check(row)])
        if code == KEY_IS_AGGREGATE:
            return self.aggregate_of(row)
        return None if code == NO_KEY else self.key_names[code]

    def topic_of(self, row: int) -> str:
        return self.topic_names[self._cols["topic"].data[self._check(row)]]

    def headers_of(self, row: int) -> Headers:
        raw = self._headers.get(row)
        if raw is None:
            return ()
        decoded: Headers = marshal.loads(raw)
        return decoded

    def error_of(self, row: int) -> str | None:
        return self._errors.get(row)

    def ref(self, row: int) -> EventRef:
        """Partition, offset, type and timestamp of a row, without decoding it."""
        c = self._cols
        return EventRef(
            int(c["partition"].data[self._check(row)]),
            int(c["offset"].data[row]),
            self.type_names[c["type"].data[row]],
            int(c["timestamp"].data[row]),
        )

    def event(self, row: int, *, decoder: ValueDecoder | None = None) -> Event:
        """The full Event of a row, freshly decoded from the stored bytes (see
        ``app.index.values``): a caller may keep or mutate it.  ``decoder`` overrides
        the index's own (decoders cache, so each thread that decodes needs its own)."""
        return decode_row(self, self._check(row), decoder or self.decoder)

    # ------------------------------------------------------------------ order

    def log_order(self) -> np.ndarray:
        """Row ids in log order (a permutation of ``range(len(self))``); do not modify."""
        eff = self.effective_timestamp_col
        return self._order.order(eff, self.partition_col, self.offset_col)

    def rank(self) -> np.ndarray:
        """``rank[row]`` is the row's position in log order (inverse of ``log_order``)."""
        eff = self.effective_timestamp_col
        return self._order.rank(eff, self.partition_col, self.offset_col)

    def sort_log_order(self, rows: np.ndarray) -> np.ndarray:
        """The given row ids rearranged into log order."""
        rows = np.asarray(rows, np.int64)
        if len(rows) <= 1:
            return rows
        result: np.ndarray = rows[np.argsort(self.rank()[rows], kind="stable")]
        return result

    def rows_for_aggregate(self, aggregate: str) -> np.ndarray:
        """Row ids of one aggregate's events, in log order (empty if unknown)."""
        aid = self.aggregate_id(aggregate)
        if aid is None:
            return np.empty(0, np.int64)
        return self.sort_log_order(np.flatnonzero(self.aggregate_col == aid))

    def sorted_aggregates(self) -> list[str]:
        """Aggregate names sorted (for prefix completion with bisect)."""
        if self._sorted_aggregates is None:
            self._sorted_aggregates = sorted(self.aggregate_names)
        return self._sorted_aggregates

    def memory_bytes(self) -> int:
        """Approximate bytes held by columns and blobs (not by the name lists)."""
        arrays = list(self._cols.values())
        if self._eff_ts is not None:
            arrays.append(self._eff_ts)
        return sum(c.data.nbytes for c in arrays) + len(self._blob) + self._headers.nbytes
