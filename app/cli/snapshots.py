"""``event-explorer snapshots check``: the snapshots that disagree with their events,
and ``state --from-snapshot`` (an aggregate's state from its latest usable snapshot).

A snapshot topic is paired with event topics by an adapter in the fold files
(``@snapshots("bank-account-snapshots", for_topics=["bank-*"])``).  Exit 0 when every
snapshot agrees with the fold, 1 when one drifted or cannot be used (its adapter
raised, it is ahead of the history), 2 on error (the fold failed, a read ended early).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.change_text import print_changes, short
from app.cli.common import ExitCode, UsageError, add_source_options, out, say, source_from
from app.cli.masking import masker_from
from app.cli.snapshot_state import snapshot_spec
from app.cli.state import loaded_library, pick_fold, topic_upcasting
from app.masking.masker import Masker
from app.output.event_json import dumps
from app.replay.diff import Change
from app.replay.folds import FoldSpec
from app.replay.masked_diff import mask_diff
from app.replay.snapshot_check import (
    SnapshotCheck,
    Verdict,
    check_snapshots,
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshots", help="snapshots of a topic's aggregates (see: check)")
    inner = p.add_subparsers(dest="snapshots_command", required=True)
    c = inner.add_parser(
        "check", help="replay each snapshotted aggregate; list snapshots that disagree (drift)"
    )
    add_source_options(c)
    c.add_argument("--fold", help="the fold the snapshots should agree with")
    c.add_argument(
        "--folds", dest="fold_paths", action="append", default=[], type=Path, metavar="PATH",
        help="fold file or folder, with the snapshot adapter (repeatable)",
    )  # fmt: skip
    c.add_argument("--all", action="store_true", help="list the snapshots that agree too")
    c.add_argument(
        "--json", action="store_true",
        help="one object per snapshot listed, then a summary",
    )  # fmt: skip
    c.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    library = loaded_library(args, "snapshots")
    fold = pick_fold(library, args.fold, topic)
    spec = snapshot_spec(library, topic)
    if spec.snapshot_topic not in source.topic_names():
        raise UsageError(f"no snapshot topic {spec.snapshot_topic!r} (its adapter: {spec.source})")
    upcast = topic_upcasting(library, source, topic)
    check = check_snapshots(source, topic, spec, fold, upcast=upcast)
    masker = masker_from(args, "snapshots")
    listed = [v for v in check.verdicts if args.all or v.status != "agrees"]
    for verdict in listed:
        _print(verdict, masker, args.json)
    for rec in check.deleted:
        if args.json:
            out(dumps(rec.to_json()))
        else:
            out(f"deleted  {rec.aggregate}  tombstone at {rec.where}: its snapshots are gone")
    out(dumps(check.summary()) if args.json else _summary(check, fold))
    for why in check.incomplete:
        say("snapshots", f"incomplete read: {why}")
    if check.incomplete or check.of("unchecked"):
        return ExitCode.ERROR
    return ExitCode.NO_MATCH if check.of("drift") or check.of("unusable") else ExitCode.OK


def _print(verdict: Verdict, masker: Masker, as_json: bool) -> None:
    diff = None if verdict.diff is None else mask_diff(masker, verdict.diff)
    if as_json:
        doc = verdict.to_json()
        doc["diff"] = None if diff is None else diff.to_json()
        out(dumps(doc))
        return
    rec = verdict.record
    head = f"{verdict.status:<8} {rec.aggregate}  snapshot {rec.label} ({rec.where})"
    if verdict.status in ("agrees", "drift"):
        head += f" against its first {verdict.events} events"
    out(head)
    if verdict.problem is not None:
        out(f"    {verdict.problem}")
    changes = [] if diff is None else list(diff.changes)
    print_changes(changes, _change_text)


def _change_text(change: Change) -> str:
    path = change.path or "(state)"
    if change.kind == "added":
        return f"{path}: {short(change.new)} (only in the snapshot)"
    if change.kind == "removed":
        return f"{path}: {short(change.old)} (only from the events)"
    return f"{path}: events give {short(change.old)}, the snapshot says {short(change.new)}"


def _summary(check: SnapshotCheck, fold: FoldSpec) -> str:
    s = check.summary()
    return (
        f"{s['snapshots']:,} snapshots of {check.topic} in {check.snapshot_topic} checked "
        f"with {fold.name}: {s['drift']} drifted, {s['unusable']} unusable, "
        f"{s['unchecked']} unchecked; {s['tombstones']} tombstones, "
        f"{s['compacted_away']:,} records compacted away"
    )
