"""Log order: offset order within a partition, across partitions by time.

The sort key is (effective timestamp, partition, offset) where the effective timestamp
is the running maximum of a partition's timestamps in offset order.  Producers' clocks
can step back within a partition; the running max never reorders a partition's own
offsets, yet interleaves partitions by time, and it equals the plain timestamp whenever
timestamps do not step back.
"""

from __future__ import annotations

import threading

import numpy as np


def effective_timestamps(partitions: np.ndarray, offsets: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Running max of each partition's timestamps, in offset order."""
    by_offset = np.lexsort((offsets, partitions))
    parts = partitions[by_offset]
    eff_sorted = ts[by_offset].copy()
    bounds = np.flatnonzero(np.diff(parts)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [len(parts)]]).tolist()
    for lo, hi in zip(starts, ends, strict=True):
        np.maximum.accumulate(eff_sorted[lo:hi], out=eff_sorted[lo:hi])
    eff = np.empty_like(eff_sorted)
    eff[by_offset] = eff_sorted
    return eff


def log_order_of(partitions: np.ndarray, offsets: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Indices that put events (given as columns) into log order."""
    if len(offsets) == 0:
        return np.empty(0, np.int64)
    eff = effective_timestamps(partitions, offsets, ts)
    return np.lexsort((offsets, partitions, eff)).astype(np.int64, copy=False)


class LogOrder:
    """The log-order permutation of an index's rows and its inverse, kept lazily.

    An appended batch is merged in: its rows and the existing rows that sort after its
    first one are sorted again, so a batch in time order (a catch-up, a live batch) costs
    O(batch + overlap), not a sort of the index.  Thread-safe: the appending thread and
    query/replay workers may call it at the same time.
    """

    def __init__(self) -> None:
        self._order: np.ndarray | None = None
        self._rank: np.ndarray | None = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._order = self._rank = None

    def extend(
        self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray, base: int
    ) -> None:
        """Rows ``base..len(eff)`` were appended (columns already hold them)."""
        with self._lock:
            self._extend(eff, partitions, offsets, base)

    def _extend(
        self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray, base: int
    ) -> None:
        if self._order is None or len(self._order) != base:
            return
        if len(eff) == base:
            return
        new = np.lexsort((offsets[base:], partitions[base:], eff[base:])).astype(np.int64) + base
        order = self._order
        # Where the batch's first row goes: only the rows from there on are sorted again,
        # so a live batch overlapping the last one in time costs its overlap, not the index.
        first = int(new[0])
        key = (int(eff[first]), int(partitions[first]), int(offsets[first]))
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            row = int(order[mid])
            if (int(eff[row]), int(partitions[row]), int(offsets[row])) < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(order):
            rows = np.concatenate([order[lo:], new])
            new = rows[np.lexsort((offsets[rows], partitions[rows], eff[rows]))]
        self._order = np.concatenate([order[:lo], new])
        if self._rank is not None:
            rank = np.empty(len(eff), np.int64)
            rank[:base] = self._rank[:base]
            rank[new] = np.arange(lo, lo + len(new), dtype=np.int64)
            self._rank = rank

    def order(self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The permutation for the rows the given columns hold."""
        with self._lock:
            return self._order_locked(eff, partitions, offsets)

    def _order_locked(
        self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray
    ) -> np.ndarray:
        n = len(eff)
        order = self._order
        if order is not None and len(order) == n:
            return order
        if order is not None and len(order) > n:
            # A reader whose columns predate the latest append: the same order, cut.
            cut: np.ndarray = order[order < n]
            return cut
        order = np.lexsort((offsets, partitions, eff)).astype(np.int64, copy=False)
        self._order, self._rank = order, None
        return order

    def rank(self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Position of each row in log order (may cover more rows than asked for)."""
        with self._lock:
            if self._rank is not None and len(self._rank) >= len(eff):
                return self._rank
            order = self._order_locked(eff, partitions, offsets)
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order), dtype=np.int64)
            if order is self._order:
                self._rank = rank
            return rank
