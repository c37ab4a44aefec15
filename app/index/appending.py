"""Appending column batches to an index: codes translated to the index's ids, then each
column written, all or nothing.

A batch of another stream (a worker process, the log-order merge) carries codes of its
own and the names it introduced since its previous batch; ``StreamMap`` keeps, per
stream, the lookup tables from its codes to the receiving side's ids, so translating a
batch is one numpy gather per column.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

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


_UNSET = -9  # a stream code whose name the receiver has not interned yet


class StreamMap:
    """One stream's codes -> the receiver's ids.

    Names arrive with the batches (each batch brings the ones its stream introduced);
    the receiver interns a name when a row first uses it, in row order.  So the ids of
    an index depend only on its rows, not on which reader sent which name first: a
    build by eight workers gives the same ids as a build by one, or as appending the
    same events one by one.
    """

    def __init__(self) -> None:
        self.names: dict[str, list[Any]] = {k: [] for k in NAME_KINDS}
        self.luts: dict[str, np.ndarray] = {k: np.empty(0, np.int32) for k in NAME_KINDS}

    def learn(self, batch: ColumnBatch) -> None:
        for kind in NAME_KINDS:
            names = self.names[kind]
            if batch.names_from.get(kind, 0) != len(names):
                raise ValueError(
                    f"a batch of stream {batch.stream} arrived out of sequence "
                    f"({kind} names from {batch.names_from.get(kind)}, {len(names)} known)"
                )
            new = batch.new_names.get(kind) or []
            if new:
                names.extend(new)
                lut = self.luts[kind]
                if len(names) > len(lut):  # grown geometrically: 100k names, few copies
                    grown = np.full(max(len(names), 2 * len(lut)), _UNSET, np.int32)
                    grown[: len(lut)] = lut
                    self.luts[kind] = grown

    def translate(self, block: RowBlock, interners: dict[str, Interner]) -> RowBlock:
        cols = dict(block.cols)
        for kind in NAME_KINDS:
            codes = cols[kind]
            if len(codes) == 0:
                continue
            lut = self.luts[kind]
            valid = codes >= 0  # below zero: "none", or "the key is the aggregate"
            if not bool(valid.any()):
                continue
            used = codes[valid]
            fresh = used[lut[used] == _UNSET]
            if len(fresh):
                uniq, first = np.unique(fresh, return_index=True)
                codes_in_order = uniq[np.argsort(first)]
                names = self.names[kind]
                ids = interners[kind].intern_all([names[c] for c in codes_in_order.tolist()])
                lut[codes_in_order] = ids
            mapped = np.where(valid, lut[np.where(valid, codes, 0)], codes)
            cols[kind] = mapped.astype(codes.dtype, copy=False)
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
