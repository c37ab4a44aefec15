"""Appending column batches to an index: codes translated to the index's ids, then each
column written, all or nothing.

A batch of another stream (a worker process, the log-order merge) carries codes of its
own and the names it introduced since its previous batch; ``StreamMap`` keeps, per
stream, the lookup tables from its codes to the receiving side's ids, so translating a
batch is one numpy gather per column.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np

from app.index.batch import NAME_KINDS, ColumnBatch, RowBlock
from app.index.columns import Interner
from app.index.log_order import LogOrder
from app.index.partitions import PartitionBook
from app.index.sparse import SparseBytes
from app.index.storage import Blob, Column, Storage


class Appendable(Protocol):
    """The parts of a TopicIndex an append writes (the index passes itself)."""

    _n: int
    _cols: dict[str, Column]
    _values: Blob
    _headers: SparseBytes
    _eff: Column | None
    _book: PartitionBook
    _order: LogOrder
    _storage: Storage

    @property
    def effective_timestamp_col(self) -> np.ndarray: ...
    @property
    def partition_col(self) -> np.ndarray: ...
    @property
    def offset_col(self) -> np.ndarray: ...
    def _derived_changed(self) -> None: ...


# Codes below zero mean "none" (and, for keys, "the key is the aggregate"): kept as is.
_SPECIALS = {"type": 0, "aggregate": 1, "key": 2, "topic": 0, "error": 1}


class StreamMap:
    """One stream's codes -> the receiver's ids, learnt batch by batch."""

    def __init__(self) -> None:
        self.luts: dict[str, np.ndarray] = {k: np.empty(0, np.int32) for k in NAME_KINDS}

    def learn(self, batch: ColumnBatch, interners: dict[str, Interner]) -> None:
        for kind in NAME_KINDS:
            lut = self.luts[kind]
            if batch.names_from.get(kind, 0) != len(lut):
                raise ValueError(
                    f"a batch of stream {batch.stream} arrived out of sequence "
                    f"({kind} names from {batch.names_from.get(kind)}, {len(lut)} known)"
                )
            new = batch.new_names.get(kind) or []
            if new:
                ids = np.fromiter(map(interners[kind].__getitem__, new), np.int32, len(new))
                self.luts[kind] = np.concatenate([lut, ids])

    def translate(self, block: RowBlock) -> RowBlock:
        cols = dict(block.cols)
        for kind in NAME_KINDS:
            codes = cols[kind]
            lut = self.luts[kind]
            if _SPECIALS[kind] == 0:
                cols[kind] = lut[codes].astype(codes.dtype, copy=False)
                continue
            if len(lut) == 0:
                continue  # only "none" codes can be present
            mapped = lut[np.maximum(codes, 0)]
            cols[kind] = np.where(codes >= 0, mapped, codes).astype(codes.dtype, copy=False)
        return replace(block, cols=cols)


def append_block(index: Appendable, block: RowBlock) -> None:
    """Write ``block`` (codes already the index's ids) after the committed rows.

    Called with the index's lock held.  Every column is written before the row count
    moves; if a write fails (a full disk), every column goes back to where it was and
    the error propagates: the index stays exactly as it was before the batch.
    """
    n = len(block)
    if n == 0:
        return
    base = index._n
    cols = index._cols
    values_before = index._values.size
    book_before = index._book.checkpoint()
    try:
        for name, column in cols.items():
            if name != "value_end":
                column.extend(block.cols[name])
        index._values.extend(block.values)
        cols["value_end"].extend(block.value_end + values_before)
        index._headers.extend(block.header_rows + base, block.header_end, block.headers)
        part, off, ts = block.cols["partition"], block.cols["offset"], block.cols["timestamp"]
        eff = index._book.track(part, off, ts, base)
        if eff is not None or index._eff is not None:
            if index._eff is None:
                index._eff = index._storage.column("effective_ts", np.int64)
                index._eff.extend(cols["timestamp"].view()[:base])
            index._eff.extend(ts if eff is None else eff)
    except BaseException:
        for column in cols.values():
            column.truncate(base)
        index._values.truncate(values_before)
        index._headers.truncate(base)
        if index._eff is not None:
            index._eff.truncate(base)
        index._book.rollback(book_before)
        raise
    index._n = base + n
    if index._book.out_of_order:
        index._order.invalidate()
    else:
        index._order.extend(
            index.effective_timestamp_col, index.partition_col, index.offset_col, base
        )
    index._derived_changed()
