"""Where a window of a topic starts, per partition, on a cluster."""

from __future__ import annotations

from app.index.window import LAST_PER_PARTITION, WindowSpec
from app.sources import ClusterSource
from kafka_io.reader import offsets_for_time


def window_starts(
    source: ClusterSource,
    topic: str,
    spec: WindowSpec,
    marks: dict[int, tuple[int, int]],
) -> dict[int, int]:
    """partition -> the first offset of the window (``marks``: partition -> low, high).

    The last N events of a partition start N offsets before its end (offsets without a
    record, under compaction or transactions, make that a little fewer events); a time
    starts at the first offset whose timestamp is at or after it, as the broker's time
    index says (the end of the partition when none is)."""
    if spec.kind == LAST_PER_PARTITION:
        return {p: max(low, high - spec.value) for p, (low, high) in marks.items()}
    since = spec.since_ms()
    if since is None:
        return {p: low for p, (low, _high) in marks.items()}
    found = offsets_for_time(source.profile, topic, list(marks), since)
    starts = {}
    for p, (low, high) in marks.items():
        offset = found.get(p)
        starts[p] = high if offset is None else min(max(low, offset), high)
    return starts
