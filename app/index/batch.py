"""Events as columns: what a reader (a worker process, or the reading thread) hands the
index, so that appending is a few array copies and no per-event Python work.

A ``RowBlock`` is a run of rows as numpy columns plus the values (and headers) back to
back.  Names (types, aggregates, keys, topics, error messages) are small integer codes;
a ``ColumnBatch`` is a block with the names its stream introduced since the stream's
previous batch, so a name crosses a process boundary once per read, not once per event.

Codes: aggregate -1 none; key -2 "the key is the aggregate" (nothing stored), -1 no
key; error -1 none.  ``flags`` bit 0: the value was null (a tombstone).
"""

from __future__ import annotations

import itertools
import marshal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.index.columns import ROW_COLUMNS, Interner
from kafka_io.event import Event, Headers
from kafka_io.event_columns import EventColumns

KEY_IS_AGGREGATE = -2
NO_KEY = -1
NO_AGGREGATE = -1
NO_ERROR = -1
NULL_VALUE = 1  # flags bit: the record's value was None

# The per-row columns a block carries: the index's own, but value ends (relative to the
# block's values) and headers, which are handled apart.
BLOCK_COLUMNS: dict[str, Any] = {k: t for k, t in ROW_COLUMNS.items() if k != "value_end"}
NAME_KINDS = ("type", "aggregate", "key", "topic", "error")
_streams = itertools.count(1)


def new_stream_id() -> int:
    """An id for a new stream of batches (0 is an index's own: codes are its ids)."""
    return next(_streams) + (id(_streams) << 20)


@dataclass
class RowBlock:
    cols: dict[str, np.ndarray]
    value_end: np.ndarray  # int64, relative to ``values``
    values: bytes
    header_rows: np.ndarray  # int64 rows of this block that have headers, ascending
    header_end: np.ndarray  # int64, relative to ``headers``
    headers: bytes

    def __len__(self) -> int:
        return len(self.value_end)

    def value_starts(self) -> np.ndarray:
        ends = self.value_end
        starts = np.empty_like(ends)
        if len(ends):
            starts[0] = 0
            starts[1:] = ends[:-1]
        return starts

    def slice(self, lo: int, hi: int) -> RowBlock:
        """Rows [lo, hi) (cheap: contiguous)."""
        if lo == 0 and hi == len(self):
            return self
        v0 = int(self.value_end[lo - 1]) if lo else 0
        v1 = int(self.value_end[hi - 1]) if hi > lo else v0
        h_lo, h_hi = np.searchsorted(self.header_rows, [lo, hi])
        h0 = int(self.header_end[h_lo - 1]) if h_lo else 0
        h1 = int(self.header_end[h_hi - 1]) if h_hi > h_lo else h0
        return RowBlock(
            {k: a[lo:hi] for k, a in self.cols.items()},
            self.value_end[lo:hi] - v0,
            self.values[v0:v1],
            self.header_rows[h_lo:h_hi] - lo,
            self.header_end[h_lo:h_hi] - h0,
            self.headers[h0:h1],
        )

    def take(self, rows: np.ndarray) -> RowBlock:
        """The given rows, in the given order (values and headers gathered)."""
        rows = np.asarray(rows, np.int64)
        cols = {k: a[rows] for k, a in self.cols.items()}
        starts, ends = self.value_starts(), self.value_end
        values = _gather(self.values, starts[rows], ends[rows])
        value_end = np.cumsum(ends[rows] - starts[rows])
        hrows = self.header_rows
        if len(hrows):
            pos = np.minimum(np.searchsorted(hrows, rows), len(hrows) - 1)
            has = hrows[pos] == rows
            picked = pos[has]
            hstarts = np.concatenate([[0], self.header_end[:-1]])[picked]
            hends = self.header_end[picked]
            headers = _gather(self.headers, hstarts, hends)
            header_rows = np.flatnonzero(has).astype(np.int64)
            header_end = np.cumsum(hends - hstarts)
        else:
            headers, header_rows, header_end = b"", _EMPTY, _EMPTY
        return RowBlock(cols, value_end.astype(np.int64), values, header_rows, header_end, headers)


_EMPTY = np.empty(0, np.int64)


def _gather(blob: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """Byte ranges of ``blob`` joined in the given order.  ``map`` over slices runs the
    per-row work at C speed: a third cheaper than a comprehension."""
    return b"".join(map(blob.__getitem__, map(slice, starts.tolist(), ends.tolist())))


def concat(blocks: Sequence[RowBlock]) -> RowBlock:
    if len(blocks) == 1:
        return blocks[0]
    cols = {k: np.concatenate([b.cols[k] for b in blocks]) for k in BLOCK_COLUMNS}
    value_ends, header_rows, header_ends = [], [], []
    v_base = h_base = r_base = 0
    for b in blocks:
        value_ends.append(b.value_end + v_base)
        header_rows.append(b.header_rows + r_base)
        header_ends.append(b.header_end + h_base)
        v_base += len(b.values)
        h_base += len(b.headers)
        r_base += len(b)
    return RowBlock(
        cols,
        np.concatenate(value_ends),
        b"".join(b.values for b in blocks),
        np.concatenate(header_rows),
        np.concatenate(header_ends),
        b"".join(b.headers for b in blocks),
    )


@dataclass
class ColumnBatch:
    """A block whose codes belong to ``stream``, with the names that stream introduced
    since its previous batch (``names_from``: how many of each kind it had sent)."""

    block: RowBlock
    stream: int
    names_from: dict[str, int] = field(default_factory=dict)
    new_names: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.block)

    def parts(self, rows: int) -> Iterator[ColumnBatch]:
        """This batch in parts of at most ``rows`` rows, in order (appending each is
        short enough to let the window paint in between).  The names the batch brings
        go with its first part; the others bring none."""
        if len(self) <= rows:
            yield self
            return
        sent = self.names_from
        after = {k: sent.get(k, 0) + len(self.new_names.get(k) or ()) for k in NAME_KINDS}
        for lo in range(0, len(self), rows):
            part = self.block.slice(lo, min(lo + rows, len(self)))
            if lo == 0:
                yield ColumnBatch(part, self.stream, self.names_from, self.new_names)
            else:
                yield ColumnBatch(part, self.stream, dict(after), {})


class StreamNames:
    """The names of one stream of batches, and how many of each it has sent so far."""

    def __init__(self, stream: int | None = None) -> None:
        self.stream = new_stream_id() if stream is None else stream
        self.lists: dict[str, list[Any]] = {kind: [] for kind in NAME_KINDS}
        seeds: dict[str, dict[Any, int]] = {
            "aggregate": {None: NO_AGGREGATE},
            "key": {None: NO_KEY},
            "error": {None: NO_ERROR},
        }
        self.ids = {kind: Interner(self.lists[kind], seeds.get(kind)) for kind in NAME_KINDS}
        self.sent = dict.fromkeys(NAME_KINDS, 0)

    def batch(self, block: RowBlock) -> ColumnBatch:
        """``block`` as the stream's next batch, with the names not yet sent."""
        names_from = dict(self.sent)
        new = {k: self.lists[k][self.sent[k] :] for k in NAME_KINDS}
        self.sent = {k: len(self.lists[k]) for k in NAME_KINDS}
        return ColumnBatch(block, self.stream, names_from, new)


def columnize(events: Sequence[Event] | EventColumns, names: StreamNames) -> RowBlock:
    """A batch (Events, or records decoded to columns) as a block coded with ``names``.

    The work is C-level passes over the columns (map over dicts, fromiter), with no
    per-event Python code in the usual case: keys equal to aggregates, no error, no
    headers, no null value.
    """
    c = events if isinstance(events, EventColumns) else EventColumns.of_events(events)
    n = len(c)
    ids = names.ids
    cols: dict[str, np.ndarray] = {
        "partition": np.fromiter(c.partitions, np.int32, n),
        "offset": np.fromiter(c.offsets, np.int64, n),
        "timestamp": np.fromiter(c.timestamps, np.int64, n),
        "type": np.fromiter(map(ids["type"].__getitem__, c.types), np.int32, n),
        "aggregate": np.fromiter(map(ids["aggregate"].__getitem__, c.aggregates), np.int32, n),
        "key": _key_codes(c.keys, c.aggregates, ids["key"], n),
        "topic": _topic_codes(c.topics, ids["topic"], n),
    }
    errors = c.errors
    if errors.count(None) == n:
        cols["error"] = np.full(n, NO_ERROR, np.int32)
    else:
        cols["error"] = np.fromiter(map(ids["error"].__getitem__, errors), np.int32, n)
    flags = np.zeros(n, np.uint8)
    values = c.values
    if None in values:
        flags[[i for i, v in enumerate(values) if v is None]] = NULL_VALUE
        values = [b"" if v is None else v for v in values]
    cols["flags"] = flags
    value_end = np.cumsum(np.fromiter(map(len, values), np.int64, n))  # type: ignore[arg-type]
    headers = c.headers
    if headers.count(()) == n:
        header_rows, header_end, header_blob = _EMPTY, _EMPTY, b""
    else:
        rows = [i for i, h in enumerate(headers) if h]
        encoded = [_encode_headers(headers[i]) for i in rows]
        header_rows = np.asarray(rows, np.int64)
        header_end = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        header_blob = b"".join(encoded)
    blob = b"".join(values) if c.joined is None else c.joined  # type: ignore[arg-type]
    return RowBlock(cols, value_end, blob, header_rows, header_end, header_blob)


def columnize_by_partition(events: Sequence[Event] | EventColumns, names: StreamNames) -> RowBlock:
    """``columnize`` with the rows grouped by partition (offset order kept within each):
    what the log-order merge takes apart by slicing instead of gathering."""
    c = events if isinstance(events, EventColumns) else EventColumns.of_events(events)
    n = len(c)
    if n > 1:
        parts = np.fromiter(c.partitions, np.int32, n)
        if bool(np.any(parts[1:] < parts[:-1])):
            # stable: offsets stay ascending; itemgetter picks the rows at C speed
            c = c.reordered(np.argsort(parts, kind="stable").tolist())
    return columnize(c, names)


def _topic_codes(topics: list[str], ids: Interner, n: int) -> np.ndarray:
    if n and topics.count(topics[0]) == n:  # a read is of one topic: one lookup
        return np.full(n, ids[topics[0]], np.int16)
    return np.fromiter(map(ids.__getitem__, topics), np.int16, n)


def _key_codes(keys: Sequence[Any], aggs: Sequence[Any], ids: Interner, n: int) -> np.ndarray:
    if keys == aggs:  # one C-level comparison covers the usual case
        return np.full(n, KEY_IS_AGGREGATE, np.int32)
    codes = (
        KEY_IS_AGGREGATE if k == a and k is not None else ids[k]
        for k, a in zip(keys, aggs, strict=True)
    )
    return np.fromiter(codes, np.int32, n)


def _encode_headers(headers: Headers) -> bytes:
    return marshal.dumps(tuple(headers))


def decode_headers(raw: bytes) -> Headers:
    decoded: Headers = marshal.loads(raw)
    return decoded


class Columnizer:
    """Turns each batch of a read into the stream's next ColumnBatch; picklable, so a
    worker process can be handed one (see ``kafka_io.parallel_read``)."""

    def __init__(self, stream: int | None = None, *, by_partition: bool = True) -> None:
        self.names = StreamNames(stream)
        self.by_partition = by_partition

    def __call__(self, events: Sequence[Event] | EventColumns) -> ColumnBatch:
        make = columnize_by_partition if self.by_partition else columnize
        return self.names.batch(make(events, self.names))
