"""The index of one topic: compact numpy columns, values in one byte blob.

A ``TopicIndex`` holds what a read saw — partition, offset, timestamp, type, aggregate,
key, headers, errors and the raw value of every record — in about 50 bytes per event
plus the value bytes, so that filtering millions of events is a handful of vectorised
numpy operations (see ``app.index.query``) and no Python object per event stays alive.
Values are decoded again on demand, through the decoder the read used
(``app.index.values``).  The columns are described in ``app.index.columns``; where they
live (memory, or files mapped from the cache folder) in ``app.index.storage``.  Rows are
in append order; ``log_order()`` gives them in log order (``app.index.log_order``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.index.aggregate_index import AggregateIndex
from app.index.appending import StreamMap, append_block
from app.index.batch import (
    KEY_IS_AGGREGATE,
    NAME_KINDS,
    NO_AGGREGATE,
    NO_KEY,
    NULL_VALUE,
    ColumnBatch,
    StreamNames,
    columnize,
    decode_headers,
)
from app.index.columns import ROW_COLUMNS, Interner, PartitionState, ValueDecoder, record_crc
from app.index.log_order import LogOrder, effective_timestamps
from app.index.partitions import PartitionBook
from app.index.sparse import ErrorRows, SparseBytes
from app.index.storage import Column, MemoryStorage, Storage
from app.index.values import decode_row
from kafka_io.event import Event, EventRef, Headers

__all__ = [
    "KEY_IS_AGGREGATE",
    "NO_AGGREGATE",
    "NO_KEY",
    "PartitionState",
    "ReadOnlyIndexError",
    "TopicIndex",
    "ValueDecoder",
]


class ReadOnlyIndexError(RuntimeError):
    """The index is another window's last saved state: it cannot grow here."""


class _Committed:
    """A column of the index as an attribute: its committed rows."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, index: TopicIndex, owner: type | None = None) -> np.ndarray:
        return index._cols[self.name].view()[: index._n]


class TopicIndex:
    """Every event read from one topic of one cluster (or one event file), as columns.

    One thread appends; other threads may query, replay and save meanwhile.  Rows are
    only ever added, and the row count is committed last, so a reader that takes
    ``len(index)`` first sees complete rows, and arrays and row ids it holds stay
    valid.  ``append`` and ``app.index.state.snapshot`` share a lock, so a save running
    on a worker writes a consistent snapshot.
    """

    def __init__(
        self,
        topic: str,
        decoder: ValueDecoder | None = None,
        *,
        cluster_id: str = "",
        storage: Storage | None = None,
    ) -> None:
        self.topic = topic
        self.cluster_id = cluster_id
        self.decoder = decoder
        self._storage: Storage = storage or MemoryStorage()
        self.type_names: list[str] = []
        self.aggregate_names: list[str] = []
        self.key_names: list[str | bytes] = []
        self.topic_names: list[str] = [topic]
        self.error_names: list[str] = []
        st = self._storage
        self._cols: dict[str, Column] = {n: st.column(n, dt) for n, dt in ROW_COLUMNS.items()}
        self._values = st.blob("values")
        self._headers = SparseBytes(
            st.column("header_rows", np.int64),
            st.column("header_end", np.int64),
            st.blob("headers"),
        )
        self._eff: Column | None = None  # only once some partition's clock stepped back
        self._book = PartitionBook()
        self._n = 0  # committed rows: set last in append()
        self._lock = threading.Lock()
        self._order = LogOrder()
        # What is shown of the topic when it is not all of it (``app.index.window``).
        self.window: Any = None
        # Another window writes this topic's index: this one shows its saved state.
        self.read_only = False
        # Set when a background check found the stored files damaged.
        self.damaged: str | None = None
        self.agg_index: AggregateIndex | None = None
        # The topic's lock, while this index may write its files (``app.index.store``),
        # and the background check of their checksums.
        self.lock: Any = None
        self.verification: Any = None
        # Set when this window let go of the lock after a save: takes it back (True) if
        # nobody saved the topic since, so following can go on appending.
        self.reclaim: Any = None
        self._reset_derived()

    def _reset_derived(self) -> None:
        self._interners = {
            "type": Interner(self.type_names),
            "aggregate": Interner(self.aggregate_names, {None: NO_AGGREGATE}),
            "key": Interner(self.key_names, {None: NO_KEY}),
            "topic": Interner(self.topic_names),
            "error": Interner(self.error_names, {None: -1}),
        }
        # Direct appends of Events code names with the index's own interners.
        self._own = StreamNames.__new__(StreamNames)
        self._own.stream, self._own.sent = 0, {}
        self._own.lists = {
            "type": self.type_names, "aggregate": self.aggregate_names, "key": self.key_names,
            "topic": self.topic_names, "error": self.error_names,
        }  # fmt: skip
        self._own.ids = self._interners
        self._streams: dict[int, StreamMap] = {}
        self._errors = ErrorRows(lambda: self.error_col, self.error_names)
        self._sorted_aggregates: list[str] | None = None
        self.generation = 0  # bumps on every change, so views can tell they are stale

    def _derived_changed(self) -> None:
        self._sorted_aggregates = None
        self._errors.changed()
        self.generation += 1

    # ------------------------------------------------------------------ building

    def __len__(self) -> int:
        return self._n

    @property
    def persistent(self) -> bool:
        """Whether the columns live in files of the cache folder (else in memory)."""
        return self._storage.persistent

    def append(self, events: Sequence[Event]) -> None:
        """Add a batch of read events (in read order; offsets ascending per partition).

        Each event's type, aggregate, key, headers, error and raw value are kept; its
        decoded ``data`` is dropped (decoded again on demand).
        """
        if len(events) == 0:
            return
        with self._lock:
            self._check_writable()
            append_block(self, columnize(events, self._own))

    def append_columns(self, batch: ColumnBatch) -> None:
        """Add a batch already in columns (a worker process's, or the log-order merge's).

        Cheap enough for the GUI thread: a gather per column and the writes."""
        with self._lock:
            self._check_writable()
            block = batch.block
            if batch.stream != 0:
                smap = self._streams.setdefault(batch.stream, StreamMap())
                smap.learn(batch)
                block = smap.translate(block, self._interners)
            append_block(self, block)

    def _check_writable(self) -> None:
        if self.read_only and not (self.reclaim is not None and self.reclaim()):
            raise ReadOnlyIndexError(
                f"the index of {self.topic} is being written by another window; "
                "this one shows its last saved state"
            )

    @property
    def partitions(self) -> dict[int, PartitionState]:
        """Partition -> what is indexed of it (positions, fingerprint, count)."""
        self._book.resolve(self._fingerprint)
        return self._book.states

    def _fingerprint(self, row: int) -> int:
        return record_crc(self.key_of(row), self.value_of(row))

    def mark_position(self, partition: int, next_offset: int, low: int | None = None) -> None:
        """Record that a read of ``partition`` got up to ``next_offset`` (past transaction
        markers, say) and, optionally, the low watermark seen."""
        with self._lock:  # a save may be taking a snapshot on a worker
            self._book.mark_position(partition, next_offset, low)

    def relabel(self, row: int, etype: str, aggregate: str | None, error: str | None) -> None:
        """A row decoded again (its registry answers now): new type, aggregate, error.
        The key is kept as it was (an aggregate-equals-key row stores its key first)."""
        with self._lock:
            self._check_writable()
            key = self.key_of(row)
            cols, ids = self._cols, self._interners
            if int(cols["key"].view()[row]) == KEY_IS_AGGREGATE and key != aggregate:
                cols["key"].put(row, ids["key"][key])
            cols["type"].put(row, ids["type"][etype])
            cols["aggregate"].put(row, ids["aggregate"][aggregate])
            cols["error"].put(row, ids["error"][error])
            self.agg_index = None  # its rows no longer match
            self._derived_changed()

    # ------------------------------------------------------------------ columns

    # The committed rows of each column (views: do not modify).
    partition_col = _Committed("partition")
    offset_col = _Committed("offset")
    timestamp_col = _Committed("timestamp")
    type_col = _Committed("type")
    aggregate_col = _Committed("aggregate")
    key_col = _Committed("key")
    topic_col = _Committed("topic")
    value_end_col = _Committed("value_end")
    error_col = _Committed("error")
    flags_col = _Committed("flags")

    @property
    def effective_timestamp_col(self) -> np.ndarray:
        """Timestamps as log order sees them (running max per partition)."""
        if self._book.out_of_order:
            eff = effective_timestamps(self.partition_col, self.offset_col, self.timestamp_col)
            self._eff = self._storage.new_column("effective_ts", np.int64)
            self._eff.extend(eff)
            self._book.out_of_order = False
        return self.timestamp_col if self._eff is None else self._eff.view()[: self._n]

    @property
    def clock_steps_back(self) -> bool:
        """Whether some partition's timestamps step back (then timestamps in log order
        are not sorted; effective ones are)."""
        return self._eff is not None or self._book.out_of_order

    @property
    def value_blob(self) -> Any:
        """All values back to back (row r spans ``value_span(r)``), as a ``Blob``:
        ``find(needle, start, end)`` and ``read(start, end)``; do not modify."""
        return self._values

    @property
    def error_rows(self) -> Mapping[int, str]:
        return self._errors

    def type_id(self, name: str) -> int | None:
        return self._interners["type"].get(name)

    def aggregate_id(self, name: str) -> int | None:
        got = self._interners["aggregate"].get(name)
        return None if got is None or got < 0 else got

    def names(self, kind: str) -> list[Any]:
        """The interned names of one kind (see ``app.index.batch.NAME_KINDS``)."""
        assert kind in NAME_KINDS
        return self._own.lists[kind]

    # ------------------------------------------------------------------ rows

    def _check(self, row: int) -> int:
        if not 0 <= row < self._n:
            raise IndexError(f"row {row} out of range (0..{self._n - 1})")
        return row

    def value_span(self, row: int) -> tuple[int, int]:
        ends = self._cols["value_end"].view()
        return (int(ends[row - 1]) if row else 0), int(ends[self._check(row)])

    def value_of(self, row: int) -> bytes | None:
        if int(self._cols["flags"].view()[self._check(row)]) & NULL_VALUE:
            return None
        start, end = self.value_span(row)
        return self._values.read(start, end)

    def value_size(self, row: int) -> int:
        start, end = self.value_span(row)
        return end - start

    def type_of(self, row: int) -> str:
        return self.type_names[self._cols["type"].view()[self._check(row)]]

    def aggregate_of(self, row: int) -> str | None:
        aid = int(self._cols["aggregate"].view()[self._check(row)])
        return None if aid < 0 else self.aggregate_names[aid]

    def key_of(self, row: int) -> str | bytes | None:
        code = int(self._cols["key"].view()[self._check(row)])
        if code == KEY_IS_AGGREGATE:
            return self.aggregate_of(row)
        return None if code == NO_KEY else self.key_names[code]

    def topic_of(self, row: int) -> str:
        return self.topic_names[self._cols["topic"].view()[self._check(row)]]

    def headers_of(self, row: int) -> Headers:
        raw = self._headers.get(row)
        return () if raw is None else decode_headers(raw)

    def error_of(self, row: int) -> str | None:
        code = int(self._cols["error"].view()[self._check(row)])
        return None if code < 0 else self.error_names[code]

    def ref(self, row: int) -> EventRef:
        """Partition, offset, type and timestamp of a row, without decoding it."""
        c = self._cols
        self._check(row)
        return EventRef(
            int(c["partition"].view()[row]),
            int(c["offset"].view()[row]),
            self.type_names[c["type"].view()[row]],
            int(c["timestamp"].view()[row]),
        )

    def event(self, row: int, *, decoder: ValueDecoder | None = None) -> Event:
        """The full Event of a row, freshly decoded from the stored bytes (see
        ``app.index.values``): a caller may keep or mutate it.  ``decoder`` overrides
        the index's own (decoders cache, so each thread that decodes needs its own)."""
        return decode_row(self, self._check(row), decoder or self.decoder)

    # ------------------------------------------------------------------ order

    def _order_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.effective_timestamp_col, self.partition_col, self.offset_col

    def log_order(self) -> np.ndarray:
        """Row ids in log order (a permutation of ``range(len(self))``); do not modify."""
        return self._order.order(*self._order_columns())

    def order_parts(self) -> tuple[int, np.ndarray]:
        """Log order without materialising it: ``(p, tail)``, rows ``0..p-1`` in log
        order and before every other row, then ``tail`` (row ids; do not modify)."""
        return self._order.parts(*self._order_columns())

    def rank(self) -> np.ndarray:
        """``rank[row]`` is the row's position in log order (inverse of ``log_order``)."""
        return self._order.rank(*self._order_columns())

    def sort_log_order(self, rows: np.ndarray) -> np.ndarray:
        """The given row ids rearranged into log order."""
        rows = np.asarray(rows, np.int64)
        if len(rows) <= 1:
            return rows
        return self._order.sort_rows(rows, *self._order_columns())

    def rows_for_aggregate(self, aggregate: str) -> np.ndarray:
        """Row ids of one aggregate's events, in log order (empty if unknown)."""
        aid = self.aggregate_id(aggregate)
        if aid is None:
            return np.empty(0, np.int64)
        return self.sort_log_order(self.rows_of_aggregate_id(aid))

    def rows_of_aggregate_id(self, aid: int, n: int | None = None) -> np.ndarray:
        """Rows (ascending) of aggregate id ``aid`` among the first ``n`` rows."""
        n = self._n if n is None else n
        col = self.aggregate_col[:n]
        found = self.agg_index
        if found is not None:
            return found.rows(aid, col)
        return np.flatnonzero(col == aid)

    def sorted_aggregates(self) -> list[str]:
        """Aggregate names sorted (for prefix completion with bisect)."""
        if self._sorted_aggregates is None:
            self._sorted_aggregates = sorted(self.aggregate_names)
        return self._sorted_aggregates

    def memory_bytes(self) -> int:
        """Approximate bytes of the process's own memory held by columns and blobs (not
        by the name lists); columns mapped from files count nothing."""
        columns = [*self._cols.values(), *([self._eff] if self._eff is not None else [])]
        return (
            sum(c.private_bytes for c in columns)
            + self._values.private_bytes
            + self._headers.private_bytes
        )
