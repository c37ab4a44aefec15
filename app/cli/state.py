"""CLI commands over folds: ``state`` (an aggregate's state at a position) and ``folds``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.as_of import warn_history_gone
from app.cli.common import UsageError, add_source_options, out, parse_time, source_from
from app.output.event_json import dumps
from app.replay.cold_read import aggregate_events
from app.replay.discovery import FoldLibrary, discover_folds
from app.replay.folds import FoldSpec, UnknownFoldError
from app.replay.replayer import Replayer
from app.replay.results import ReplayResult
from app.replay.runner import FoldError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("state", help="an aggregate's state at a position, by a fold")
    add_source_options(p)
    p.add_argument("--aggregate", "-a", required=True, help="the aggregate id")
    p.add_argument("--fold", help="fold name (default: the first whose topics match)")
    _add_folds_option(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--at", metavar="ISO8601", help="every event with timestamp <= this")
    where.add_argument("--offset", type=int, help="every event up to this offset (inclusive)")
    where.add_argument("--n", type=int, help="the first N events of the aggregate")
    p.add_argument("--history", action="store_true", help="print the state after each event")
    p.add_argument("--blame", action="store_true", help="add which event last set each field")
    p.add_argument("--json", action="store_true", help="compact JSON (default: indented)")
    p.set_defaults(func=run_state)

    p = sub.add_parser("folds", help="list the folds found and where each comes from")
    _add_folds_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_folds)


def _add_folds_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--folds",
        dest="fold_paths",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="fold file or folder (repeatable)",
    )


def library_from(args: argparse.Namespace) -> FoldLibrary:
    for path in args.fold_paths:
        if not path.exists():
            raise UsageError(f"no such fold file or folder: {path}")
    return discover_folds(args.fold_paths)


def run_folds(args: argparse.Namespace) -> int:
    library = library_from(args)
    for row in library.describe():
        if args.json:
            out(dumps(row))
        else:
            topics = ", ".join(row["topics"]) or "*"
            out(f"{row['name']:<20} topics: {topics:<28} from {row['origin']}: {row['source']}")
    for source, err in library.errors.items():
        print(f"could not load {source}: {err}", file=sys.stderr)
    return 0


def pick_fold(library: FoldLibrary, name: str | None, topic: str) -> FoldSpec:
    if name is None:
        return library.registry.for_topic(topic)
    try:
        return library.registry.get(name)
    except UnknownFoldError as exc:
        raise UsageError(str(exc.args[0] if exc.args else exc)) from exc


def run_state(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    library = library_from(args)
    spec = pick_fold(library, args.fold, topic)
    warn_history_gone(source, topic, args.aggregate)
    at_ms = parse_time(args.at)
    events = aggregate_events(source, topic, args.aggregate, at_ms, args.offset)
    replayer = Replayer.from_events(events, spec, aggregate=args.aggregate)
    position: dict[str, int] = {}
    if at_ms is not None:
        position["timestamp_ms"] = at_ms
    elif args.offset is not None:
        position["offset"] = args.offset
    elif args.n is not None:
        position["n"] = args.n
    target = replayer.position(**position)
    if args.history:
        return _print_history(replayer, target, args)
    result = replayer.step(target)
    doc = result.to_json()
    if args.blame and result.failure is None:
        doc["blame"] = {path: ref.to_json() for path, ref in replayer.blame(target).items()}
    out(dumps(doc, pretty=not args.json))
    return _report_failure(result)


def _print_history(replayer: Replayer, target: int, args: argparse.Namespace) -> int:
    try:
        for step in replayer.history(0, target):
            row: dict[str, Any] = {
                "n": step.n,
                "event": step.event.to_json(),
                "state": step.state,
            }
            out(dumps(row))
    except FoldError as exc:
        print(f"event-explorer state: {exc.failure.describe()}", file=sys.stderr)
        return 1
    return 0


def _report_failure(result: ReplayResult) -> int:
    if result.failure is None:
        return 0
    print(f"event-explorer state: {result.failure.describe()}", file=sys.stderr)
    return 1
