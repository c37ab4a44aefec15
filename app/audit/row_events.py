"""Many indexed rows back to Events at once, through the decoder's batch path.

``TopicIndex.event(row)`` decodes one row per call; folding every aggregate of a
million-row topic wants the decoder's batch path (``decode_rows``), which labels the
usual envelope without a Python call per record, and the index's sparse parts (headers,
null values, errors) looked up once for the whole batch.  The result is the same Event
that ``app.index.values.decode_row`` gives: stored type, aggregate, key and read-time
error win over what the decoder would say now.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.index.columns import IndexState, ValueDecoder, key_bytes
from app.index.state import snapshot
from app.index.topic_index import TopicIndex
from app.index.values import decode_row
from kafka_io.event import Event


class RowReader:
    """Reads rows of one index snapshot; make one per pass (it holds the snapshot)."""

    def __init__(self, index: TopicIndex, decoder: ValueDecoder | None) -> None:
        self.index = index
        self.decoder = decoder
        # A consistent snapshot (views, no copies of the columns): its sparse parts
        # answer "which of these rows have headers / a null value" in one pass.
        self._state: IndexState = snapshot(index)
        self._ends = self._state.arrays["value_end"]
        self._header_rows = self._state.arrays["header_rows"]
        self._none = frozenset(self._state.none_values)

    def events(self, rows: np.ndarray) -> list[Event]:
        """Fresh Events of ``rows`` (row ids), in the order given."""
        index, decoder = self.index, self.decoder
        batch_decode = getattr(decoder, "decode_rows", None)
        if batch_decode is None or len(rows) == 0:
            return [decode_row(index, int(r), decoder) for r in rows.tolist()]
        rows = np.asarray(rows, np.int64)
        row_list = rows.tolist()
        ends = self._ends[rows]
        starts = np.where(rows > 0, self._ends[np.maximum(rows - 1, 0)], 0)
        blob = self._state.value_blob
        none = self._none
        values: list[bytes | None] = [
            None if r in none else bytes(blob[s:e])
            for r, s, e in zip(row_list, starts.tolist(), ends.tolist(), strict=True)
        ]
        with_headers = np.isin(rows, self._header_rows).tolist()
        headers = [
            index.headers_of(r) if h else () for r, h in zip(row_list, with_headers, strict=True)
        ]
        keys = self._keys(rows, row_list)
        topic_names = index.topic_names
        tuples = zip(
            [topic_names[t] for t in index.topic_col[rows].tolist()],
            index.partition_col[rows].tolist(),
            index.offset_col[rows].tolist(),
            index.timestamp_col[rows].tolist(),
            keys,
            values,
            headers,
            strict=True,
        )
        events: list[Event] = batch_decode(tuples)
        return self._as_stored(row_list, rows, events)

    def _keys(self, rows: np.ndarray, row_list: list[int]) -> list[bytes | None]:
        index = self.index
        codes = index.key_col[rows]
        if bool(np.all(codes == -2)):  # every key is its aggregate's name: the usual case
            names = index.aggregate_names
            return [names[a].encode() for a in index.aggregate_col[rows].tolist()]
        return [key_bytes(index.key_of(r)) for r in row_list]

    def _as_stored(self, rows: list[int], row_arr: np.ndarray, events: list[Event]) -> list[Event]:
        """Keep what the index recorded at read time (as ``decode_row`` does)."""
        index = self.index
        type_names, aggregate_names = index.type_names, index.aggregate_names
        type_ids = index.type_col[row_arr].tolist()
        agg_ids = index.aggregate_col[row_arr].tolist()
        errors = self._state.errors
        out: list[Event] = []
        for row, ev, tid, aid in zip(rows, events, type_ids, agg_ids, strict=True):
            stored_type = type_names[tid]
            stored_agg: Any = aggregate_names[aid] if aid >= 0 else None
            if ev.type != stored_type or ev.aggregate != stored_agg:
                ev = ev._replace(type=stored_type, aggregate=stored_agg, key=index.key_of(row))
            if errors and ev.error is None and row in errors:
                ev = ev._replace(error=errors[row])
            out.append(ev)
        return out


def row_events(index: TopicIndex, rows: np.ndarray, decoder: ValueDecoder | None) -> list[Event]:
    """Fresh Events of ``rows``, in the order given (one-off: see ``RowReader``)."""
    return RowReader(index, decoder).events(rows)
