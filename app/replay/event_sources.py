"""Where a Replayer's events come from: an index's rows or a plain list of Events.

Both give one aggregate's events in log order, with their positions as columns, and
hand every pass freshly decoded (index) or freshly copied (list) events, so that a fold
that mutates its event never affects the caller, the display cache or a later pass.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.index.log_order import log_order_of
from app.index.topic_index import TopicIndex, ValueDecoder
from kafka_io.event import Event, EventRef

_ATOMIC = frozenset({str, int, float, bool, type(None), bytes})


class StateError(Exception):
    """A state the app cannot keep: it contains itself, nests past Python's recursion
    limit, or holds something that cannot be copied (a lock, a generator, a socket)."""


def copy_state(value: Any) -> Any:
    """A deep copy, fast for the JSON-like values states are usually made of.

    Raises StateError for a value that cannot be copied or shown: the runner turns it
    into a failure of the fold that returned it.
    """
    try:
        return _copy(value, set())
    except RecursionError:
        raise StateError("it nests too deeply") from None


def _copy(value: Any, path: set[int]) -> Any:
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict or kind is list or kind is tuple:
        ident = id(value)
        if ident in path:
            raise StateError(f"it contains itself (a {kind.__name__} inside itself)")
        path.add(ident)
        try:
            if kind is dict:
                return {k: (v if type(v) in _ATOMIC else _copy(v, path)) for k, v in value.items()}
            if kind is list:
                return [v if type(v) in _ATOMIC else _copy(v, path) for v in value]
            return tuple(_copy(v, path) for v in value)
        finally:
            path.discard(ident)
    try:
        return copy.deepcopy(value)
    except RecursionError:
        raise
    except Exception as exc:
        raise StateError(
            f"it holds a {kind.__name__} that cannot be copied ({type(exc).__name__}: {exc})"
        ) from None


class ReplayEvents:
    """One aggregate's events in log order, with their positions as columns."""

    partitions: np.ndarray
    offsets: np.ndarray
    timestamps: np.ndarray
    # Running max of the timestamps: position(timestamp_ms=T) is the longest prefix
    # whose events all have timestamps <= T (exactly "every event <= T" unless a
    # producer's clock stepped back).
    effective: np.ndarray
    types: list[str]

    def __len__(self) -> int:
        return len(self.offsets)

    def events(self, start: int, stop: int) -> Iterator[Event]:
        raise NotImplementedError

    def ref(self, i: int) -> EventRef:
        return EventRef(
            int(self.partitions[i]), int(self.offsets[i]), self.types[i], int(self.timestamps[i])
        )


class IndexEvents(ReplayEvents):
    def __init__(
        self, index: TopicIndex, rows: np.ndarray, decoder: ValueDecoder | None = None
    ) -> None:
        self.index = index
        self.decoder = decoder
        self.rows = rows
        self.partitions = index.partition_col[rows]
        self.offsets = index.offset_col[rows]
        self.timestamps = index.timestamp_col[rows]
        self.effective = np.maximum.accumulate(self.timestamps) if len(rows) else self.timestamps
        names = index.type_names
        self.types = [names[t] for t in index.type_col[rows].tolist()]

    def extended(self, rows: np.ndarray) -> IndexEvents | None:
        """These events and the ones that came after them (``rows``: all of them, these
        first); None when ``rows`` does not only add events after these."""
        n = len(self.rows)
        if len(rows) <= n or not np.array_equal(rows[:n], self.rows):
            return None
        return IndexEvents(self.index, rows, self.decoder)

    def events(self, start: int, stop: int) -> Iterator[Event]:
        event, decoder = self.index.event, self.decoder
        for row in self.rows[start:stop].tolist():
            # A fresh decode: the fold may keep or mutate it.
            yield event(row, decoder=decoder)


class ListEvents(ReplayEvents):
    def __init__(self, events: list[Event]) -> None:
        parts = np.fromiter((e.partition for e in events), np.int64, len(events))
        offs = np.fromiter((e.offset for e in events), np.int64, len(events))
        ts = np.fromiter((e.timestamp_ms for e in events), np.int64, len(events))
        order = log_order_of(parts, offs, ts)
        self._events = [events[i] for i in order.tolist()]
        self.partitions = parts[order]
        self.offsets = offs[order]
        self.timestamps = ts[order]
        self.effective = np.maximum.accumulate(self.timestamps) if events else self.timestamps
        self.types = [e.type for e in self._events]

    def events(self, start: int, stop: int) -> Iterator[Event]:
        for ev in self._events[start:stop]:
            # The caller's Events are shared; the fold gets a private copy of the data.
            yield ev._replace(data=_private(ev.data))


def _private(data: Any) -> Any:
    """A copy of decoded data for a fold; data nested too deeply to copy (JSON allows
    1024 levels) is handed over as it is rather than not at all."""
    try:
        return copy_state(data)
    except StateError:
        return data
