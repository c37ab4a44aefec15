"""Snapshot drift: each snapshot of a snapshot topic against its aggregate's events.

A snapshot that disagrees with what the fold makes of the same events is a silent bug
in production (replays that start from it inherit the error).  ``check_snapshots``
reads the snapshot topic (what compaction left of it), adapts every record, replays
each snapshotted aggregate from its events and keeps, per snapshot, whether it agrees,
drifted (with the field diff), could not be used (the adapter raised, it claims more
events than the aggregate has) or could not be checked (the fold failed).

``replay_from_snapshot`` is the other use of snapshots: an aggregate's state from the
latest usable snapshot at or before a position, folding only the events after it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.replay.diff import StateDiff, diff_states
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.replay.runner import Cancellable, FoldFailure, run_fold
from app.replay.snapshots import (
    SnapshotRecord,
    SnapshotSpec,
    SnapshotStart,
    adapt_records,
    choose_start,
    covered,
    live_records,
    start_state,
)
from app.replay.upcasting import Upcasting
from app.sources import Source
from kafka_io.event import Event, EventRef

Status = Literal["agrees", "drift", "unusable", "unchecked"]


@dataclass(frozen=True)
class Verdict:
    """One live snapshot, checked."""

    record: SnapshotRecord
    status: Status
    events: int = 0  # the aggregate's events it covers
    diff: StateDiff | None = None  # fold's state -> snapshot's state, on drift
    problem: str | None = None  # why it is unusable or unchecked

    def to_json(self) -> dict[str, Any]:
        return {
            **self.record.to_json(),
            "status": self.status,
            "events": self.events,
            "diff": None if self.diff is None else self.diff.to_json(),
            "problem": self.problem,
        }


@dataclass
class SnapshotCheck:
    """Every live snapshot of a topic's aggregates, and what the snapshot topic shows."""

    snapshot_topic: str
    topic: str
    verdicts: list[Verdict] = field(default_factory=list)
    deleted: list[SnapshotRecord] = field(default_factory=list)  # tombstones still there
    records: int = 0  # records read from the snapshot topic (tombstones included)
    compacted: int = 0  # offsets the snapshot topic no longer holds (compaction)
    incomplete: list[str] = field(default_factory=list)

    def of(self, status: Status) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == status]

    def summary(self) -> dict[str, Any]:
        return {
            "snapshot_topic": self.snapshot_topic,
            "topic": self.topic,
            "snapshots": len(self.verdicts),
            "drift": len(self.of("drift")),
            "unusable": len(self.of("unusable")),
            "unchecked": len(self.of("unchecked")),
            "tombstones": len(self.deleted),
            "compacted_away": self.compacted,
        }


def read_snapshots(
    source: Source,
    spec: SnapshotSpec,
    *,
    aggregate: str | None = None,
    cancel: Cancellable | None = None,
) -> tuple[list[SnapshotRecord], int, list[str]]:
    """The snapshot topic's records adapted (one aggregate's when given), how many
    offsets compaction removed, and why the read is incomplete (if it is)."""
    key = None if aggregate is None else aggregate.encode()
    read = source.read(spec.snapshot_topic, key=key)
    events = [e for e in read.events() if aggregate is None or e.aggregate == aggregate]
    events.sort(key=lambda e: (e.partition, e.offset))
    records = adapt_records(spec, events, cancel=cancel)
    report = read.report
    why = [] if report.complete else [f"{spec.snapshot_topic}: {report.incomplete or 'cancelled'}"]
    return records, sum(report.gaps.values()), why


def _position_of(events: Sequence[Event]) -> Any:
    offsets = [e.offset for e in events]
    return lambda offset: bisect.bisect_right(offsets, offset)


def check_aggregate(
    records: Sequence[SnapshotRecord],
    events: Sequence[Event],
    fold: FoldSpec,
    upcast: Upcasting | None = None,
    cancel: Cancellable | None = None,
) -> list[Verdict]:
    """One aggregate's live snapshots against its events (in log order)."""
    replayer = Replayer.from_events(events, fold, upcast=upcast)
    position_of = _position_of(events)
    out = []
    for rec in records:
        got = covered(rec, len(events), position_of)
        if isinstance(got, str):
            out.append(Verdict(rec, "unusable", problem=got))
            continue
        result = replayer.step(got, cancel=cancel)
        if result.failure is not None:
            out.append(Verdict(rec, "unchecked", got, problem=result.failure.describe()))
            continue
        assert rec.snapshot is not None  # covered() refuses records without one
        diff = diff_states(result.state, rec.snapshot.state)
        out.append(Verdict(rec, "drift" if diff else "agrees", got, diff if diff else None))
    return out


def check_snapshots(
    source: Source,
    topic: str,
    spec: SnapshotSpec,
    fold: FoldSpec,
    *,
    upcast: Upcasting | None = None,
    cancel: Cancellable | None = None,
) -> SnapshotCheck:
    """Every live snapshot of ``spec``'s topic against ``topic``'s events."""
    records, compacted, incomplete = read_snapshots(source, spec, cancel=cancel)
    check = SnapshotCheck(spec.snapshot_topic, topic, records=len(records), compacted=compacted)
    check.incomplete.extend(incomplete)
    live = live_records(records)
    check.deleted = [r for r in records if r.tombstone]
    wanted: dict[str | None, list[SnapshotRecord]] = defaultdict(list)
    for rec in live:
        wanted[rec.aggregate].append(rec)
    by_aggregate: dict[str | None, list[Event]] = defaultdict(list)
    read = source.read(topic)
    for ev in read.events():
        if ev.aggregate in wanted:
            by_aggregate[ev.aggregate].append(ev)
    if not read.report.complete:
        check.incomplete.append(f"{topic}: {read.report.incomplete or 'cancelled'}")
    for aggregate, recs in wanted.items():
        if aggregate is None:
            check.verdicts.extend(
                Verdict(r, "unusable", problem="no aggregate id in the record") for r in recs
            )
            continue
        events = sorted(by_aggregate.get(aggregate, []), key=lambda e: (e.partition, e.offset))
        check.verdicts.extend(check_aggregate(recs, events, fold, upcast, cancel))
    check.verdicts.sort(key=lambda v: (v.record.partition, v.record.offset))
    return check


# ---------------------------------------------------------------------- state from a snapshot


@dataclass(frozen=True)
class SnapshotReplay:
    """An aggregate's state from a snapshot and the events after it."""

    start: SnapshotStart
    target: int
    state: Any
    events_applied: int  # after the snapshot
    last_event: EventRef | None
    failure: FoldFailure | None

    @property
    def note(self) -> str:
        return self.start.note(self.target)


def replay_from_snapshot(
    records: Sequence[SnapshotRecord],
    events: Sequence[Event],
    target: int,
    fold: FoldSpec,
    upcast: Upcasting | None = None,
    cancel: Cancellable | None = None,
) -> SnapshotReplay:
    """The state after ``target`` events, from the latest usable snapshot at or before
    it (the events from the first one when there is none)."""
    start = choose_start(records, target, len(events), _position_of(events))
    prepare = None if upcast is None else upcast.apply
    later = events[start.position : target]
    outcome = run_fold(fold, start_state(start), later, cancel=cancel, prepare=prepare)
    last = outcome.last
    if last is None and start.record is not None and start.position > 0:
        last = EventRef.of(events[start.position - 1])
    return SnapshotReplay(start, target, outcome.state, outcome.applied, last,
                          outcome.failure)  # fmt: skip
