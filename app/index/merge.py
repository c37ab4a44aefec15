"""Batches of several readers merged into log order, so a whole-topic build appends its
rows in log order whatever the number of readers.

Each reader (a worker process, or the reading thread) delivers, per partition, rows in
offset order, so each partition's effective timestamps ascend.  A row can be released
once no partition still being read can deliver a row that sorts before it: rows whose
effective timestamp is below ``W``, the smallest "last effective timestamp received"
among the unfinished partitions.  Released rows are sorted by the log-order key
(effective timestamp, partition, offset) and handed on; every later row sorts after
them.  So the rows come out in exactly the order a sort of the whole topic gives:
identical for one reader or eight, and the index's log order stays an ordered prefix.

A partition whose clock lags far behind the others holds everything back; past
``limit`` buffered rows the merge releases what it holds anyway (sorted), and later
rows of the lagging partition are merged into log order by the index instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from app.index.appending import StreamMap
from app.index.batch import ColumnBatch, RowBlock, StreamNames, concat

DEFAULT_LIMIT = 1_000_000  # rows held back at most (about 150 MB of 110-byte events)


class LogMerge:
    """Merges ColumnBatches of several streams into ColumnBatches in log order."""

    def __init__(
        self,
        partitions: Iterable[int],
        max_ts: dict[int, int] | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.names = StreamNames()
        self._maps: dict[int, StreamMap] = {}
        self._open = set(partitions)
        self._max_ts = dict(max_ts or {})
        self._last: dict[int, int] = {}  # partition -> last effective timestamp received
        self._pending: dict[int, list[tuple[RowBlock, np.ndarray]]] = {}
        self._held = 0
        self.limit = limit
        self.forced = 0  # releases forced by the limit (log order then needs merging)

    @property
    def held(self) -> int:
        return self._held

    def add(self, batch: ColumnBatch) -> None:
        """Take a batch of one stream (rows of each partition in offset order)."""
        smap = self._maps.setdefault(batch.stream, StreamMap())
        smap.learn(batch)
        block = smap.translate(batch.block, self.names.ids)
        parts = block.cols["partition"]
        if len(parts) == 0:
            return
        if bool(np.any(np.diff(parts) < 0)):
            block = block.take(np.argsort(parts, kind="stable"))
            parts = block.cols["partition"]
        cuts = [0, *(np.flatnonzero(np.diff(parts)) + 1).tolist(), len(parts)]
        ts_all = block.cols["timestamp"]
        for lo, hi in itertools.pairwise(cuts):
            p = int(parts[lo])
            eff = np.maximum.accumulate(ts_all[lo:hi])
            prev = self._max_ts.get(p)
            if prev is not None:
                np.maximum(eff, prev, out=eff)
            self._max_ts[p] = int(eff[-1])
            self._last[p] = int(eff[-1])
            self._pending.setdefault(p, []).append((block.slice(lo, hi), eff))
        self._held += len(block)

    def finished(self, partitions: Iterable[int]) -> None:
        """These partitions will deliver no more rows."""
        self._open.difference_update(partitions)

    def release(self) -> ColumnBatch | None:
        """The rows no partition can precede any more, in log order (None: none yet)."""
        gates = [self._last.get(p) for p in self._open]
        if any(g is None for g in gates):
            if self._held <= self.limit:
                return None  # a partition has not delivered anything yet
            return self._force()
        bound = min((g for g in gates if g is not None), default=None)
        out = self._take(bound)
        if out is None and self._held > self.limit:
            return self._force()
        return out

    def flush(self) -> ColumnBatch | None:
        """Everything still held, in log order (the read ended, or stopped)."""
        return self._take(None)

    def _force(self) -> ColumnBatch | None:
        self.forced += 1
        return self._take(None)

    def _take(self, bound: int | None) -> ColumnBatch | None:
        """Release the rows with an effective timestamp below ``bound`` (None: all)."""
        pieces: list[RowBlock] = []
        effs: list[np.ndarray] = []
        for p in list(self._pending):
            queue = self._pending[p]
            while queue:
                block, eff = queue[0]
                k = len(eff) if bound is None else int(np.searchsorted(eff, bound, "left"))
                if k == 0:
                    break
                pieces.append(block.slice(0, k))
                effs.append(eff[:k])
                if k == len(eff):
                    queue.pop(0)
                else:
                    queue[0] = (block.slice(k, len(eff)), eff[k:])
                    break
            if not queue:
                del self._pending[p]
        if not pieces:
            return None
        block = concat(pieces)
        eff = np.concatenate(effs)
        order = np.lexsort((block.cols["offset"], block.cols["partition"], eff))
        if not bool(np.all(np.diff(order) == 1)):
            block = block.take(order)
        self._held -= len(block)
        return self.names.batch(block)
