"""The in-memory index of one topic: compact numpy columns, values in one byte blob.

A ``TopicIndex`` holds what a read saw — partition, offset, timestamp, type, aggregate,
key, headers and the raw value of every record — in about 40 bytes per event plus the
value bytes, so that filtering a million events is a handful of vectorised numpy
operations (see ``app.index.query``) and no Python object per event stays alive.  Values are
decoded again on demand, through the decoder the read used, behind a bounded LRU cache.

Layout (row ``r`` is the r-th appended event):

* ``partition`` int32, ``offset`` int64, ``timestamp_ms`` int64;
* ``type`` / ``aggregate`` int32 ids into interned name lists (aggregate -1: none);
* ``key`` int32: -2 the key equals the aggregate text (the usual case: nothing
  stored), -1 no key, >= 0 an id into an interned list of the keys that differ;
* ``topic`` int16 (an event file may carry several topics);
* ``value_end`` int64: the value of row r is ``blob[value_end[r-1]:value_end[r]]``;
* sparse: rows whose value is None, rows with headers (marshal-encoded in a second
  blob, found by binary search), rows carrying a read/decode error.

Rows are in read order; ``log_order()`` gives them in log order (see ``app.index.log_order``).
"""

from __future__ import annotations

import marshal
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import orjson

from app.index.columns import (
    ROW_COLUMNS,
    Column,
    IndexState,
    Interner,
    PartitionState,
    ValueDecoder,
    key_bytes,
    record_crc,
)
from app.index.log_order import LogOrder, effective_timestamps
from kafka_io.event import Event, EventRef, Headers

__all__ = ["PartitionState", "TopicIndex", "ValueDecoder"]

NO_AGGREGATE = -1
KEY_IS_AGGREGATE = -2
NO_KEY = -1
DEFAULT_CACHE_SIZE = 4096


class TopicIndex:
    """Every event read from one topic of one cluster (or one event file), as columns.

    One thread appends; other threads may query, replay and save meanwhile.  Rows are
    only ever added, and the row count is committed last, so a reader that takes
    ``len(index)`` first sees complete rows, and arrays and row ids it holds stay
    valid.  ``append`` and ``export_state`` share a lock, so a save running on a worker
    writes a consistent snapshot.  The display cache (``event(row)`` with
    ``cached=True``) is for one thread, the GUI's.
    """

    def __init__(
        self,
        topic: str,
        decoder: ValueDecoder | None = None,
        *,
        cluster_id: str = "",
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.topic = topic
        self.cluster_id = cluster_id
        self.decoder = decoder
        self.cache_size = cache_size
        #: Why a persisted index was not trusted (set by ``index_store.load_or_new``).
        self.cache_note: str | None = None
        self.type_names: list[str] = []
        self.aggregate_names: list[str] = []
        self.key_names: list[str | bytes] = []
        self.topic_names: list[str] = [topic]
        self._cols = {name: Column(dtype) for name, dtype in ROW_COLUMNS.items()}
        self._blob = bytearray()
        self._header_rows = Column(np.int64)
        self._header_end = Column(np.int64)
        self._header_blob = bytearray()
        self._none_values: set[int] = set()
        self._errors: dict[int, str] = {}
        self._eff_ts: Column | None = None  # only once some partition's clock stepped back
        self.partitions: dict[int, PartitionState] = {}
        self._part_max_ts: dict[int, int] = {}
        self._out_of_order = False  # a partition's offsets arrived unsorted
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
        self._cache: OrderedDict[int, Event] = OrderedDict()
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
        if self._out_of_order:
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
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        ends += len(self._header_blob)
        self._header_blob += b"".join(encoded)
        self._header_rows.extend(np.asarray(rows, np.int64) + base)
        self._header_end.extend(ends)

    def _track_partitions(
        self, events: Sequence[Event], part_arr: np.ndarray, off_arr: np.ndarray, ts_arr: np.ndarray
    ) -> None:
        """Per-partition bookkeeping and the effective (running max) timestamps."""
        uniq = np.unique(part_arr).tolist()
        eff: np.ndarray | None = None
        for p in uniq:
            sel = None if len(uniq) == 1 else np.flatnonzero(part_arr == p)
            offs = off_arr if sel is None else off_arr[sel]
            tss = ts_arr if sel is None else ts_arr[sel]
            state = self.partitions.setdefault(p, PartitionState())
            if state.first_offset < 0:
                ev = events[0 if sel is None else int(sel[0])]
                state.first_offset = state.low = int(offs[0])
                state.first_timestamp_ms = int(tss[0])
                state.first_crc = record_crc(ev.key, ev.value)
            if offs[0] < state.next_offset or (len(offs) > 1 and bool(np.any(np.diff(offs) <= 0))):
                self._out_of_order = True
            state.count += len(offs)
            state.next_offset = max(state.next_offset, int(offs.max()) + 1)
            running = np.maximum.accumulate(tss)
            prev = self._part_max_ts.get(p)
            if prev is not None:
                np.maximum(running, prev, out=running)
            self._part_max_ts[p] = int(running[-1])
            if not np.array_equal(running, tss):
                eff = ts_arr.copy() if eff is None else eff
                eff[slice(None) if sel is None else sel] = running
        if eff is None and self._eff_ts is None:
            return
        if self._eff_ts is None:
            self._eff_ts = Column(np.int64, self.timestamp_col)
        self._eff_ts.extend(ts_arr if eff is None else eff)

    def mark_position(self, partition: int, next_offset: int, low: int | None = None) -> None:
        """Record that a read of ``partition`` got up to ``next_offset`` (say, the high
        watermark, past transaction markers) and, optionally, the low watermark seen."""
        state = self.partitions.setdefault(partition, PartitionState())
        state.next_offset = max(state.next_offset, next_offset)
        if low is not None and state.first_offset < 0:
            state.low = low

    # ------------------------------------------------------------------ columns

    def _col(self, name: str) -> np.ndarray:
        return self._cols[name].data[: self._n]

    @property
    def partition_col(self) -> np.ndarray:
        return self._col("partition")

    @property
    def offset_col(self) -> np.ndarray:
        return self._col("offset")

    @property
    def timestamp_col(self) -> np.ndarray:
        return self._col("timestamp")

    @property
    def effective_timestamp_col(self) -> np.ndarray:
        """Timestamps as log order sees them (running max per partition)."""
        if self._out_of_order:
            eff = effective_timestamps(self.partition_col, self.offset_col, self.timestamp_col)
            self._eff_ts = Column(np.int64, eff)
            self._out_of_order = False
        return self.timestamp_col if self._eff_ts is None else self._eff_ts.data[: self._n]

    @property
    def type_col(self) -> np.ndarray:
        return self._col("type")

    @property
    def aggregate_col(self) -> np.ndarray:
        return self._col("aggregate")

    @property
    def key_col(self) -> np.ndarray:
        return self._col("key")

    @property
    def topic_col(self) -> np.ndarray:
        return self._col("topic")

    @property
    def value_end_col(self) -> np.ndarray:
        return self._col("value_end")

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
        rows = self._header_rows.view()
        i = int(np.searchsorted(rows, row))
        if i == len(rows) or rows[i] != row:
            return ()
        start = int(self._header_end.data[i - 1]) if i else 0
        decoded: Headers = marshal.loads(bytes(self._header_blob[start : self._header_end.data[i]]))
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

    def event(self, row: int, *, cached: bool = True, decoder: ValueDecoder | None = None) -> Event:
        """The full Event of a row, decoded from the stored bytes.

        With ``cached`` (the default) the result comes from / goes to a bounded LRU
        cache: right for display, but that Event (and its ``data``) is shared.  Replay
        asks for ``cached=False``, so a fold always gets a private, freshly decoded one.
        ``decoder`` overrides the index's own (decoders cache, so each thread that
        decodes should have its own; uncached only).
        """
        if decoder is not None:
            return self._decode(row, decoder)
        if cached:
            hit = self._cache.get(row)
            if hit is not None:
                self._cache.move_to_end(row)
                return hit
        ev = self._decode(row)
        if cached and self.cache_size > 0:
            self._cache[row] = ev
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return ev

    def events(self, rows: Sequence[int] | np.ndarray, *, cached: bool = False) -> Iterator[Event]:
        """Events of many rows, in the given order (fresh decodes unless ``cached``)."""
        for row in rows:
            yield self.event(int(row), cached=cached)

    def _decode(self, row: int, decoder: ValueDecoder | None = None) -> Event:
        ref = self.ref(row)
        topic, key, value = self.topic_of(row), self.key_of(row), self.value_of(row)
        headers, aggregate = self.headers_of(row), self.aggregate_of(row)
        stored_error = self._errors.get(row)
        decoder = decoder or self.decoder
        if decoder is not None:
            ev = decoder.decode(
                topic, ref.partition, ref.offset, ref.timestamp_ms, key_bytes(key), value, headers
            )
            # The stored columns are what queries matched: keep the Event consistent
            # with them even if the decoder's rules changed since the read.
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

    def clear_cache(self) -> None:
        self._cache.clear()

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
        arrays = [*self._cols.values(), self._header_rows, self._header_end]
        if self._eff_ts is not None:
            arrays.append(self._eff_ts)
        return sum(c.data.nbytes for c in arrays) + len(self._blob) + len(self._header_blob)

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> IndexState:
        """A consistent snapshot of the index as plain parts (what ``index_store`` saves).

        Cheap: arrays are views of committed rows (never written again) and the blobs
        are shared with their committed sizes; only the small containers are copied.
        """
        with self._lock:
            arrays = {name: self._col(name) for name in ROW_COLUMNS}
            arrays["header_rows"] = self._header_rows.view()
            arrays["header_end"] = self._header_end.view()
            if self._eff_ts is not None or self._out_of_order:
                arrays["effective_ts"] = self.effective_timestamp_col
            return IndexState(
                topic=self.topic,
                cluster_id=self.cluster_id,
                arrays=arrays,
                value_blob=self._blob,
                header_blob=self._header_blob,
                type_names=list(self.type_names),
                aggregate_names=list(self.aggregate_names),
                key_names=list(self.key_names),
                topic_names=list(self.topic_names),
                errors=dict(self._errors),
                none_values=sorted(self._none_values),
                partitions={p: replace(s) for p, s in self.partitions.items()},
                part_max_ts=dict(self._part_max_ts),
                value_size=len(self._blob),
                header_size=len(self._header_blob),
            )

    @classmethod
    def from_state(
        cls,
        state: IndexState,
        decoder: ValueDecoder | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> TopicIndex:
        """Rebuild an index from parts already validated by the caller (index_store)."""
        index = cls(state.topic, decoder, cluster_id=state.cluster_id, cache_size=cache_size)
        index.type_names = list(state.type_names)
        index.aggregate_names = list(state.aggregate_names)
        index.key_names = list(state.key_names)
        index.topic_names = list(state.topic_names)
        index._cols = {name: Column(dt, state.arrays[name]) for name, dt in ROW_COLUMNS.items()}
        index._header_rows = Column(np.int64, state.arrays["header_rows"])
        index._header_end = Column(np.int64, state.arrays["header_end"])
        if "effective_ts" in state.arrays:
            index._eff_ts = Column(np.int64, state.arrays["effective_ts"])
        index._blob = state.value_blob
        index._header_blob = state.header_blob
        index._errors = dict(state.errors)
        index._none_values = set(state.none_values)
        index.partitions = dict(state.partitions)
        index._part_max_ts = dict(state.part_max_ts)
        index._n = len(state.arrays["offset"])
        index._reset_derived()
        return index
