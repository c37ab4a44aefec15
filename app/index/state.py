"""An index as plain parts and back: what ``app.index.store`` writes and reads.

These two functions are the index's own serialisation, kept apart from its building and
querying; they reach into its fields, as a method would.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.index.columns import ROW_COLUMNS, Column, IndexState, SparseBlob, ValueDecoder
from app.index.partitions import PartitionBook
from app.index.topic_index import TopicIndex


def snapshot(index: TopicIndex) -> IndexState:
    """A consistent snapshot of the index as plain parts (what ``app.index.store`` saves).

    Cheap: arrays are views of committed rows (never written again) and the blobs
    are shared with their committed sizes; only the small containers are copied.
    """
    with index._lock:
        arrays = {name: index._col(name) for name in ROW_COLUMNS}
        arrays["header_rows"] = index._headers.rows.view()
        arrays["header_end"] = index._headers.ends.view()
        if index._eff_ts is not None or index._book.out_of_order:
            arrays["effective_ts"] = index.effective_timestamp_col
        return IndexState(
            topic=index.topic,
            cluster_id=index.cluster_id,
            arrays=arrays,
            value_blob=index._blob,
            header_blob=index._headers.blob,
            type_names=list(index.type_names),
            aggregate_names=list(index.aggregate_names),
            key_names=list(index.key_names),
            topic_names=list(index.topic_names),
            errors=dict(index._errors),
            none_values=sorted(index._none_values),
            partitions={p: replace(s) for p, s in index._book.states.items()},
            part_max_ts=dict(index._book.max_ts),
            value_size=len(index._blob),
            header_size=len(index._headers.blob),
        )


def restore(state: IndexState, decoder: ValueDecoder | None = None) -> TopicIndex:
    """Rebuild an index from parts already validated by the caller (app.index.store)."""
    index = TopicIndex(state.topic, decoder, cluster_id=state.cluster_id)
    index.type_names = list(state.type_names)
    index.aggregate_names = list(state.aggregate_names)
    index.key_names = list(state.key_names)
    index.topic_names = list(state.topic_names)
    index._cols = {name: Column(dt, state.arrays[name]) for name, dt in ROW_COLUMNS.items()}
    index._headers = SparseBlob(
        state.arrays["header_rows"], state.arrays["header_end"], state.header_blob
    )
    if "effective_ts" in state.arrays:
        index._eff_ts = Column(np.int64, state.arrays["effective_ts"])
    index._blob = state.value_blob
    index._errors = dict(state.errors)
    index._none_values = set(state.none_values)
    index._book = PartitionBook(state.partitions, state.part_max_ts)
    index._n = len(state.arrays["offset"])
    index._reset_derived()
    return index
