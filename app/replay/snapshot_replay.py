"""An aggregate's timeline that starts from a snapshot: the snapshot is its first step.

The inspector steps, diffs and blames along a timeline.  Started from a snapshot, that
timeline is the snapshot (one step that sets the state the adapter gives), then the
aggregate's events after the ones it covers.  Making the snapshot a step of an ordinary
``Replayer`` keeps checkpoints, failures at their event, diffs and blame working
unchanged, and blames every field the snapshot set on the snapshot record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from app.index.topic_index import TopicIndex, ValueDecoder
from app.replay.event_sources import IndexEvents, ReplayEvents, copy_state
from app.replay.folds import FoldFunction, FoldSpec, Origin
from app.replay.replayer import Replayer
from app.replay.snapshots import SnapshotRecord, SnapshotStart, choose_start
from app.replay.upcasting import Upcasting
from kafka_io.event import Event, EventRef

__all__ = [
    "SnapshotReplayer",
    "events_covered",
    "replayer_from",
    "snapshot_title",
    "start_at",
    "timeline_step",
]


def start_at(
    records: Sequence[SnapshotRecord],
    offsets: np.ndarray,
    target: int,
    *,
    written_by_ms: int | None = None,
) -> SnapshotStart:
    """Where a replay of the first ``target`` of an aggregate's events (whose offsets,
    in log order, are ``offsets``) starts.  ``written_by_ms``: only snapshots (and
    tombstones) written by then count, as in as-of mode."""
    if written_by_ms is not None:
        records = [r for r in records if r.timestamp_ms <= written_by_ms]

    def position_of(offset: int) -> int:
        hits = np.flatnonzero(offsets <= offset)
        return int(hits[-1]) + 1 if len(hits) else 0

    return choose_start(records, target, len(offsets), position_of)


class _FromSnapshot(ReplayEvents):
    """The snapshot as a stand-in event, then the index rows after what it covers."""

    def __init__(self, snapshot: Event, later: IndexEvents) -> None:
        self.snapshot, self.later = snapshot, later
        self.partitions = np.concatenate([[snapshot.partition], later.partitions]).astype(np.int64)
        self.offsets = np.concatenate([[snapshot.offset], later.offsets]).astype(np.int64)
        self.timestamps = np.concatenate([[snapshot.timestamp_ms], later.timestamps]).astype(
            np.int64
        )
        self.effective = np.maximum.accumulate(self.timestamps)
        self.types = [snapshot.type, *later.types]

    def events(self, start: int, stop: int) -> Iterator[Event]:
        if start == 0 and stop > 0:
            yield self.snapshot
            start = 1
        if stop > start:
            yield from self.later.events(start - 1, stop - 1)


class SnapshotReplayer(Replayer):
    """A Replayer whose step 1 is the snapshot's state and whose later steps are the
    events after the ones the snapshot covers (``start.position`` of them)."""

    def __init__(
        self,
        index: TopicIndex,
        aggregate: str,
        fold: FoldSpec | FoldFunction,
        start: SnapshotStart,
        rows: np.ndarray,
        *,
        snapshot_topic: str,
        decoder: ValueDecoder | None = None,
        upcast: Upcasting | None = None,
        **kw: Any,
    ) -> None:
        record = start.record
        if record is None or record.snapshot is None:
            raise ValueError("a snapshot replay needs a usable snapshot")
        marker = object()  # the stand-in event's data: only it makes the state the snapshot's
        state = record.snapshot.state
        function = fold.function if isinstance(fold, FoldSpec) else fold

        def from_snapshot(current: Any, event: Event) -> Any:
            return copy_state(state) if event.data is marker else function(current, event)

        name = fold.name if isinstance(fold, FoldSpec) else getattr(fold, "__name__", "fold")
        wrapped = (
            FoldSpec(name, fold.topics, from_snapshot, fold.source, fold.origin)
            if isinstance(fold, FoldSpec)
            else FoldSpec(name, ("*",), from_snapshot, "code", Origin.CODE)
        )
        super().__init__([], wrapped, aggregate=aggregate, upcast=upcast, **kw)
        self.start = start
        self.covered = start.position
        stand_in = Event(
            snapshot_topic, record.partition, record.offset, record.timestamp_ms, aggregate,
            f"snapshot {record.label}", aggregate, (), marker, None, None, None,
        )  # fmt: skip
        self._from = _FromSnapshot(stand_in, IndexEvents(index, rows[start.position :], decoder))
        self._src = self._from
        self._last_covered = int(rows[start.position - 1]) if start.position else None

    def row_id(self, i: int) -> int | None:
        """The snapshot step stands for the last event it covers (None if it covers none)."""
        if i == 0:
            return self._last_covered
        return int(self._from.later.rows[i - 1])


def topic_event_of(replayer: Replayer, index: TopicIndex, step: int) -> EventRef | None:
    """The event of the topic a timeline step stands for: the step's own event, or for a
    snapshot step the last event the snapshot covers (None if it covers none)."""
    if not isinstance(replayer, SnapshotReplayer):
        return replayer.ref(step)
    row = replayer.row_id(step)
    return None if row is None else index.ref(row)


def events_covered(replayer: Replayer) -> int:
    """How many of the aggregate's events the replayer's timeline stands for."""
    if isinstance(replayer, SnapshotReplayer):
        return replayer.covered + len(replayer) - 1
    return len(replayer)


def timeline_step(replayer: Replayer, position: int) -> int:
    """The timeline step that shows the aggregate's event number ``position`` (0-based):
    an event inside the snapshot is shown by the snapshot step."""
    if isinstance(replayer, SnapshotReplayer):
        return max(0, position - replayer.covered + 1)
    return position


def replayer_from(
    index: TopicIndex,
    aggregate: str,
    fold: FoldSpec | FoldFunction,
    rows: np.ndarray,
    start: SnapshotStart | None,
    snapshot_topic: str = "",
    *,
    decoder: ValueDecoder | None = None,
    upcast: Upcasting | None = None,
    **kw: Any,
) -> Replayer:
    """The replay of ``rows`` (the aggregate's, in log order), from ``start``'s snapshot
    when it has one, else from the first event."""
    if start is not None and start.record is not None:
        return SnapshotReplayer(
            index, aggregate, fold, start, rows, snapshot_topic=snapshot_topic,
            decoder=decoder, upcast=upcast, **kw,
        )  # fmt: skip
    return Replayer.from_index(
        index, aggregate, fold, decoder=decoder, rows=rows, upcast=upcast, **kw
    )


def snapshot_title(replayer: SnapshotReplayer, fields: int) -> str:
    """What the state of the snapshot step is."""
    ref = replayer.ref(0)
    return (
        f"State of {ref.type} (p{ref.partition}@{ref.offset} of its snapshot topic, "
        f"covering {replayer.covered} event{'s' if replayer.covered != 1 else ''}) · "
        f"{fields} field{'s' if fields != 1 else ''} set"
    )
