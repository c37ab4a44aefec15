"""Records that failed to decode only because the schema registry could not answer are
decoded again when a stored index is reopened: a registry that was down then must not
leave "unknown" events in the index for good."""

from __future__ import annotations

from app.index.columns import ValueDecoder, key_bytes
from app.index.topic_index import TopicIndex
from kafka_io.registry import is_transient_error


def redecode_transient(index: TopicIndex, decoder: ValueDecoder) -> int:
    """Decode the rows with a transient error again; how many now decode."""
    rows = [row for row, error in index.error_rows.items() if is_transient_error(error)]
    fixed = 0
    for row in sorted(rows):
        ref = index.ref(row)
        ev = decoder.decode(
            index.topic_of(row), ref.partition, ref.offset, ref.timestamp_ms,
            key_bytes(index.key_of(row)), index.value_of(row), index.headers_of(row),
        )  # fmt: skip
        index.relabel(row, ev.type, ev.aggregate, ev.error)
        fixed += ev.error is None
    return fixed
