"""``state --from-snapshot``: an aggregate's state from its latest usable snapshot and
the events after it (the adapter and the snapshot topic as ``snapshots check`` finds
them)."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import ExitCode, UsageError, out, say
from app.cli.masking import masker_from
from app.output.event_json import dumps
from app.replay.discovery import FoldLibrary
from app.replay.folds import FoldSpec
from app.replay.snapshot_check import SnapshotReplay, read_snapshots, replay_from_snapshot
from app.replay.snapshots import SnapshotSpec
from app.replay.upcasting import Upcasting
from app.sources import Source
from kafka_io.event import Event


def snapshot_spec(library: FoldLibrary, topic: str) -> SnapshotSpec:
    spec = library.extras.snapshots.for_topic(topic)
    if spec is None:
        raise UsageError(
            f"no snapshot adapter for {topic}: write one with "
            f'@snapshots("SNAPSHOT-TOPIC", for_topics=["{topic}"]) in a fold file'
        )
    return spec


def state_from_snapshot(
    library: FoldLibrary,
    source: Source,
    topic: str,
    aggregate: str,
    events: list[Event],
    target: int,
    fold: FoldSpec,
    upcast: Upcasting | None,
) -> SnapshotReplay:
    """The aggregate's state after ``target`` events, from its latest usable snapshot;
    says on stderr where it started and which snapshots it could not use."""
    spec = snapshot_spec(library, topic)
    records, _, incomplete = read_snapshots(source, spec, aggregate=aggregate)
    for why in incomplete:
        say("state", f"incomplete read of the snapshots: {why}")
    done = replay_from_snapshot(records, events, target, fold, upcast)
    for problem in done.start.problems:
        say("state", f"{problem}: not used")
    say("state", done.note)
    return done


def print_snapshot_state(
    args: argparse.Namespace,
    library: FoldLibrary,
    source: Source,
    topic: str,
    events: list[Event],
    target: int,
    fold: FoldSpec,
    upcast: Upcasting | None,
) -> ExitCode:
    """``state --from-snapshot``: the ``state`` object, plus where it started."""
    mine = [e for e in events if e.aggregate == args.aggregate]
    done = state_from_snapshot(library, source, topic, args.aggregate, mine, target, fold, upcast)
    rec = done.start.record
    doc: dict[str, Any] = {
        "aggregate": args.aggregate,
        "fold": fold.name,
        "state": masker_from(args, "state").state(done.state),
        "events_applied": done.start.position + done.events_applied,
        "last_event": None if done.last_event is None else done.last_event.to_json(),
        "snapshot": None if rec is None else {**rec.to_json(), "then_events": done.events_applied},
    }
    if done.failure is not None:
        doc["error"] = done.failure.to_json()
    out(dumps(doc, pretty=not args.json))
    if done.failure is None:
        return ExitCode.OK
    say("state", done.failure.describe())
    return ExitCode.ERROR
