"""Log order: offset order within a partition, across partitions by time.

The sort key is (effective timestamp, partition, offset) where the effective timestamp
is the running maximum of a partition's timestamps in offset order.  Producers' clocks
can step back within a partition; the running max never reorders a partition's own
offsets, yet interleaves partitions by time, and it equals the plain timestamp whenever
timestamps do not step back.

An index built from a whole-topic read appends its rows in log order (see
``app.index.merge``), so the permutation is mostly the identity.  ``LogOrder`` keeps it
as a prefix length ``p`` (rows ``0..p-1`` are in log order and come before every other
row) plus an explicit tail for the rest: nothing at all for a fresh build, a few
thousand rows after a catch-up whose first records interleave with the last stored ones.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from app.index.storage import MemColumn

# A tail merge that would move more rows than this falls back to one full sort later.
_MERGE_LIMIT = 1_000_000


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


def _in_log_order(
    rows: np.ndarray, eff: np.ndarray, parts: np.ndarray, offs: np.ndarray
) -> np.ndarray:
    return rows[np.lexsort((offs[rows], parts[rows], eff[rows]))]


def _viewed(column: MemColumn) -> bool:
    """Whether a view of the column's array is alive anywhere: every numpy view holds a
    reference to the array it views, so beyond the column's own and this call's there
    is one per view (CPython counts them exactly; the log order's lock keeps new ones
    from being made meanwhile)."""
    return sys.getrefcount(column.data) > 2


def _key(eff: np.ndarray, parts: np.ndarray, offs: np.ndarray, row: int) -> tuple[int, int, int]:
    return int(eff[row]), int(parts[row]), int(offs[row])


class LogOrder:
    """The log-order permutation of an index's rows as identity prefix + explicit tail.

    Thread-safe: the appending thread and query/replay workers may call it at once.
    """

    def __init__(self, prefix: int = 0, tail: np.ndarray | None = None, rows: int = -1) -> None:
        self._prefix = prefix
        self._tail = MemColumn(np.int64, tail if tail is not None else np.empty(0, np.int64))
        self._rows = rows if rows >= 0 else prefix + self._tail.size  # rows covered
        self._valid = True
        self._full: np.ndarray | None = None
        self._rank: np.ndarray | None = None
        self._tail_rank: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def unknown(cls) -> LogOrder:
        """An order to be computed on first use (one sort)."""
        order = cls()
        order._valid = False
        return order

    # -- state --------------------------------------------------------------------------

    def invalidate(self) -> None:
        with self._lock:
            self._valid = False
            self._drop_caches()

    def _drop_caches(self) -> None:
        self._full = self._rank = self._tail_rank = None

    def parts(
        self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray
    ) -> tuple[int, np.ndarray]:
        """(p, tail) for the rows the given columns hold: rows ``0..p-1`` in order, then
        ``tail`` (do not modify).  Rows a concurrent append added are left out."""
        n = len(eff)
        with self._lock:
            self._ensure(eff, partitions, offsets)
            prefix, tail = self._prefix, self._tail.view()
        if prefix > n:
            return n, np.empty(0, np.int64)
        if self._rows_after(n, prefix, tail):
            tail = tail[tail < n]
        return prefix, tail

    def _rows_after(self, n: int, prefix: int, tail: np.ndarray) -> bool:
        return prefix + len(tail) > n

    def _ensure(self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray) -> None:
        n = len(eff)
        if self._valid and self._rows >= n:
            return
        if self._valid and self._rows >= 0 and n - self._rows <= _MERGE_LIMIT:
            self._extend(eff, partitions, offsets, self._rows)
            if self._valid:
                return
        order = np.lexsort((offsets, partitions, eff)).astype(np.int64, copy=False)
        off_place = np.flatnonzero(order != np.arange(n, dtype=np.int64))
        prefix = int(off_place[0]) if len(off_place) else n
        self._prefix = prefix
        self._tail = MemColumn(np.int64, order[prefix:])
        self._rows = n
        self._valid = True
        self._drop_caches()

    # -- growth ---------------------------------------------------------------------------

    def extend(
        self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray, base: int
    ) -> None:
        """Rows ``base..len(eff)`` were appended (columns already hold them)."""
        with self._lock:
            if not self._valid or self._rows != base:
                self._valid = False
                self._drop_caches()
                return
            self._extend(eff, partitions, offsets, base)

    def _extend(self, eff: np.ndarray, parts: np.ndarray, offs: np.ndarray, base: int) -> None:
        n = len(eff)
        if n == base:
            return
        new = np.lexsort((offs[base:], parts[base:], eff[base:])).astype(np.int64) + base
        prefix, tail = self._prefix, self._tail
        last = int(tail.data[tail.size - 1]) if tail.size else prefix - 1
        first_new = _key(eff, parts, offs, int(new[0]))
        self._drop_caches()
        if last < 0 or _key(eff, parts, offs, last) < first_new:
            if tail.size == 0 and prefix == base and int(new[-1]) == n - 1 and _is_run(new):
                self._prefix = n
            else:
                tail.extend(new)
            self._rows = n
            return
        # The new rows interleave with the last ones: merge them into the tail.
        total = base
        q = self._first_position_after(eff, parts, offs, first_new, total)
        if total - q > _MERGE_LIMIT:
            self._valid = False
            return
        if q < prefix:  # the merge reaches into the prefix: the tail is made again
            segment = np.concatenate([np.arange(q, prefix, dtype=np.int64), tail.view(), new])
            self._tail = MemColumn(np.int64, _in_log_order(segment, eff, parts, offs))
            prefix = q
        else:
            k = q - prefix
            segment = _in_log_order(np.concatenate([tail.view()[k:], new]), eff, parts, offs)
            if not _viewed(tail):
                # Nobody holds a view of the tail: rewrite only its merged end (a follow
                # merges each live batch; copying the whole tail each time grew with it).
                tail.truncate(k)
                tail.extend(segment)
            else:  # a reader holds the old tail: it keeps it intact
                self._tail = MemColumn(np.int64, np.concatenate([tail.view()[:k], segment]))
        self._prefix = prefix
        self._rows = n

    def _first_position_after(
        self,
        eff: np.ndarray,
        parts: np.ndarray,
        offs: np.ndarray,
        key: tuple[int, int, int],
        total: int,
    ) -> int:
        """The first position (of ``total``) whose row sorts after ``key``."""
        prefix, tail = self._prefix, self._tail.data
        lo, hi = 0, total
        while lo < hi:
            mid = (lo + hi) // 2
            row = mid if mid < prefix else int(tail[mid - prefix])
            if _key(eff, parts, offs, row) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # -- whole permutations -----------------------------------------------------------------

    def order(self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The permutation for the rows the given columns hold (do not modify)."""
        n = len(eff)
        prefix, tail = self.parts(eff, partitions, offsets)
        with self._lock:
            full = self._full
            if full is not None and len(full) == n:
                return full
            full = np.concatenate([np.arange(prefix, dtype=np.int64), tail])
            if prefix + len(tail) == self._rows:
                self._full = full
            return full

    def rank(self, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Position of each row in log order (may cover more rows than asked for)."""
        n = len(eff)
        prefix, tail = self.parts(eff, partitions, offsets)
        with self._lock:
            if self._rank is not None and len(self._rank) >= n:
                return self._rank
            rank = np.arange(prefix + len(tail), dtype=np.int64)
            rank[tail] = np.arange(prefix, prefix + len(tail), dtype=np.int64)
            if prefix + len(tail) == self._rows:
                self._rank = rank
            return rank

    def sort_rows(
        self, rows: np.ndarray, eff: np.ndarray, partitions: np.ndarray, offsets: np.ndarray
    ) -> np.ndarray:
        """``rows`` rearranged into log order, without materialising the permutation."""
        prefix, tail = self.parts(eff, partitions, offsets)
        head = np.sort(rows[rows < prefix])
        rest = rows[rows >= prefix]
        if len(rest) == 0:
            return head
        if len(rest) * 8 < len(tail):
            # A few rows of a long tail (one aggregate's, while following): sorting them
            # by the log-order key costs less than the tail's ranks, rebuilt after
            # every append.  The tail is that sort, so the order is the same.
            rest = rest[np.lexsort((offsets[rest], partitions[rest], eff[rest]))]
            return np.concatenate([head, rest])
        with self._lock:
            tail_rank = self._tail_rank
            if tail_rank is None or len(tail_rank) != len(tail):
                tail_rank = np.empty(len(tail), np.int64)
                tail_rank[tail - prefix] = np.arange(len(tail), dtype=np.int64)
                self._tail_rank = tail_rank
        rest = rest[np.argsort(tail_rank[rest - prefix], kind="stable")]
        return np.concatenate([head, rest])

    def saved_form(self) -> tuple[int, np.ndarray, int]:
        """(prefix, tail copy, rows covered) for the store; rows -1 if not known."""
        with self._lock:
            if not self._valid:
                return 0, np.empty(0, np.int64), -1
            return self._prefix, self._tail.view().copy(), self._rows


def _is_run(rows: np.ndarray) -> bool:
    """Whether sorted-by-key rows are consecutive ascending row ids."""
    return bool(int(rows[-1]) - int(rows[0]) == len(rows) - 1 and np.all(np.diff(rows) == 1))
