"""The snapshot half of the Corrections dock, as text: the check's table rows and
summary, one verdict in full, and an aggregate's state started from its snapshot
(next to the state its events give, so a drifted start shows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.output.event_json import dumps
from app.replay.diff import diff_states
from app.replay.folds import FoldSpec
from app.replay.masked_diff import mask_diff
from app.replay.replayer import Replayer
from app.replay.runner import Cancellable
from app.replay.snapshot_check import (
    SnapshotCheck,
    SnapshotReplay,
    Verdict,
    read_snapshots,
    replay_from_snapshot,
)
from app.replay.snapshots import SnapshotSpec
from app.replay.upcasting import Upcasting
from app.sources import Source
from kafka_io.decode import Decoder


def snapshot_rows(check: SnapshotCheck) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for v in check.verdicts:
        n = len(v.diff.changes) if v.diff else 0
        problem = v.problem or (f"{n} field{'s differ' if n != 1 else ' differs'}" if n else "")
        rows.append((v.status, v.record.aggregate, v.record.label, v.record.where, problem))
    gone = "its snapshots are gone"
    rows += [("deleted", r.aggregate, "tombstone", r.where, gone) for r in check.deleted]
    return rows


def check_summary(check: SnapshotCheck) -> str:
    s = check.summary()
    text = (
        f"{s['snapshots']} snapshots in {check.snapshot_topic}: {s['drift']} drifted, "
        f"{s['unusable']} unusable, {s['unchecked']} unchecked; {s['tombstones']} "
        f"tombstones, {s['compacted_away']} records compacted away"
    )
    return text + "".join(f"; incomplete: {why}" for why in check.incomplete)


def verdict_text(verdict: Verdict, masker: Masker) -> str:
    lines = [f"{verdict.status}: {verdict.record.aggregate} snapshot {verdict.record.label}"]
    if verdict.problem:
        lines.append(verdict.problem)
    if verdict.diff is not None:
        lines += [
            f"{c.path}: events give {c.old!r}, the snapshot says {c.new!r}"
            for c in mask_diff(masker, verdict.diff).changes
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SnapshotState:
    aggregate: str
    replay: SnapshotReplay
    from_events: Any  # the state the events alone give at the same position


def snapshot_state(
    source: Source, spec: SnapshotSpec, index: TopicIndex, aggregate: str, row: int,
    fold: FoldSpec, upcast: Upcasting | None, decoder: Decoder, cancel: Cancellable,
) -> SnapshotState:  # fmt: skip
    """The aggregate's state after the event at ``row``, from its latest usable snapshot."""
    rows = index.rows_for_aggregate(aggregate).tolist()
    events = [index.event(r, decoder=decoder) for r in rows]
    target = rows.index(row) + 1 if row in rows else len(rows)
    records, _, _ = read_snapshots(source, spec, aggregate=aggregate, cancel=cancel)
    done = replay_from_snapshot(records, events, target, fold, upcast, cancel)
    plain = Replayer.from_events(events, fold, aggregate=aggregate, upcast=upcast)
    return SnapshotState(aggregate, done, plain.step(target, cancel=cancel).state)


def snapshot_state_text(got: SnapshotState, masker: Masker) -> str:
    done = got.replay
    lines = [f"{got.aggregate} after event {done.target}: {done.note}"]
    lines += [f"{problem}: not used" for problem in done.start.problems]
    if done.failure is not None:
        lines.append(done.failure.describe())
    drift = diff_states(got.from_events, done.state)
    if done.start.record is not None:
        if drift:
            lines.append("This differs from the replay of every event:")
            lines += [
                f"  {c.path}: events give {c.old!r}, from the snapshot {c.new!r}"
                for c in mask_diff(masker, drift).changes
            ]
        else:
            lines.append("The same as the replay of every event.")
    lines.append(dumps(masker.state(done.state), pretty=True))
    return "\n".join(lines)
