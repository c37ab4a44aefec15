"""An index as plain parts and back: a consistent snapshot for readers and savers.

These functions are the index's own serialisation, kept apart from its building and
querying; they reach into its fields, as a method would.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.index.batch import NULL_VALUE
from app.index.columns import ROW_COLUMNS, IndexState, ValueDecoder
from app.index.log_order import LogOrder
from app.index.partitions import PartitionBook
from app.index.sparse import SparseBytes
from app.index.storage import MemBlob, MemColumn
from app.index.topic_index import TopicIndex


def snapshot(index: TopicIndex) -> IndexState:
    """A consistent snapshot of the index as plain parts.

    Cheap: arrays are views of committed rows (never written again) and the blobs are
    shared with their committed sizes; only the small containers are copied.  The
    value blob is bytes-like: a bytearray (memory) or a read-only array over the mapped
    file; slice it.
    """
    with index._lock:
        index._book.resolve(index._fingerprint)
        n = len(index)
        arrays = {name: index._cols[name].view()[:n] for name in ROW_COLUMNS}
        arrays["header_rows"] = index._headers.rows.view()
        arrays["header_end"] = index._headers.ends.view()
        if index._eff is not None or index._book.out_of_order:
            arrays["effective_ts"] = index.effective_timestamp_col
        errors = arrays["error"]
        error_rows = np.flatnonzero(errors >= 0)
        return IndexState(
            topic=index.topic,
            cluster_id=index.cluster_id,
            arrays=arrays,
            value_blob=_bytes_like(index._values, index._values.size),
            header_blob=_bytes_like(index._headers.blob, index._headers.blob.size),
            type_names=list(index.type_names),
            aggregate_names=list(index.aggregate_names),
            key_names=list(index.key_names),
            topic_names=list(index.topic_names),
            errors={int(r): index.error_names[int(errors[r])] for r in error_rows.tolist()},
            none_values=np.flatnonzero(arrays["flags"] & NULL_VALUE).tolist(),
            partitions={p: replace(s) for p, s in index._book.states.items()},
            part_max_ts=dict(index._book.max_ts),
            value_size=index._values.size,
            header_size=index._headers.blob.size,
            error_names=list(index.error_names),
        )


def _bytes_like(blob: object, size: int) -> object:
    if isinstance(blob, MemBlob):
        return blob.data  # sliced by readers (copies): never pinned, free to grow
    view = getattr(blob, "view", None)
    return view()[:size] if view is not None else b""


def restore(state: IndexState, decoder: ValueDecoder | None = None) -> TopicIndex:
    """An in-memory index from parts already validated by the caller."""
    index = TopicIndex(state.topic, decoder, cluster_id=state.cluster_id)
    index.type_names = list(state.type_names)
    index.aggregate_names = list(state.aggregate_names)
    index.key_names = list(state.key_names)
    index.topic_names = list(state.topic_names)
    index.error_names = list(state.error_names)
    index._cols = {name: MemColumn(dt, state.arrays[name]) for name, dt in ROW_COLUMNS.items()}
    index._values = MemBlob(bytes(state.value_blob[: state.value_size]))
    index._headers = SparseBytes(
        MemColumn(np.int64, state.arrays["header_rows"]),
        MemColumn(np.int64, state.arrays["header_end"]),
        MemBlob(bytes(state.header_blob[: state.header_size])),
    )
    if "effective_ts" in state.arrays:
        index._eff = MemColumn(np.int64, state.arrays["effective_ts"])
    index._book = PartitionBook(state.partitions, state.part_max_ts)
    index._n = len(state.arrays["offset"])
    index._order = LogOrder.unknown()
    index._reset_derived()
    return index
