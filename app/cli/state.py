"""CLI commands over folds: ``state`` (an aggregate's state at a position) and ``folds``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.as_of import warn_history_gone
from app.cli.common import (
    ExitCode,
    NothingMatched,
    UsageError,
    add_source_options,
    incomplete_exit,
    out,
    parse_time,
    say,
    source_from,
)
from app.cli.filters import TIME_HELP
from app.cli.follow import follow_state
from app.cli.masking import masker_from
from app.cli.snapshot_state import print_snapshot_state
from app.masking.masker import Masker
from app.output.event_json import dumps
from app.replay.cold_read import read_aggregate
from app.replay.discovery import FoldLibrary, discover_folds, user_folds_dir
from app.replay.folds import FoldSpec, UnknownFoldError
from app.replay.replayer import Replayer
from app.replay.runner import FoldError
from app.replay.upcasting import UpcastChainError, Upcasting
from app.replay.versions import upcasting_for
from app.sources import Source


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("state", help="an aggregate's state at a position, by a fold")
    add_source_options(p)
    p.add_argument("--aggregate", "-a", required=True, help="the aggregate id")
    p.add_argument(
        "--fold",
        help="fold name (default: the first whose topics match, from the --folds files "
        "when there are some)",
    )
    add_folds_option(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--at", metavar="TIME", help=f"every event with timestamp <= this: {TIME_HELP}"
    )
    where.add_argument("--offset", type=int, help="every event up to this offset (inclusive)")
    where.add_argument("--n", type=int, help="the first N events of the aggregate")
    p.add_argument("--history", action="store_true", help="print the state after each event")
    p.add_argument("--blame", action="store_true", help="add which event last set each field")
    p.add_argument("--json", action="store_true", help="compact JSON (default: indented)")
    p.add_argument(
        "--from-snapshot", action="store_true",
        help="start from the latest usable snapshot at or before the position (see snapshots)",
    )  # fmt: skip
    p.add_argument(
        "--follow", action="store_true",
        help="print the state now, then after each new event (as --history rows) until Ctrl-C",
    )  # fmt: skip
    p.set_defaults(func=run_state)

    p = sub.add_parser("folds", help="list the folds found and where each comes from")
    add_folds_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_folds)


def add_folds_option(p: argparse.ArgumentParser) -> None:
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
    """0, or 2 when a file given with --folds failed (others that fail are listed only)."""
    folder = user_folds_dir()
    note = "" if folder.is_dir() else " (does not exist yet: create it to add folds)"
    print(f"user folds folder: {folder}{note}", file=sys.stderr)
    library = library_from(args)
    for row in library.describe():
        if args.json:
            out(dumps(row))
        else:
            topics = ", ".join(row["topics"]) or "*"
            out(f"{row['name']:<20} topics: {topics:<28} from {row['origin']}: {row['source']}")
    for err in library.errors.values():
        say("folds", f"could not load {err.message}")
    return ExitCode.ERROR if library.given_errors() else ExitCode.OK


def pick_fold(library: FoldLibrary, name: str | None, topic: str) -> FoldSpec:
    """The fold asked for by name; else the user's own (``--folds``) first."""
    if name is not None:
        try:
            return library.registry.get(name)
        except UnknownFoldError as exc:
            raise UsageError(str(exc)) from exc
    if not library.paths:
        return library.registry.for_topic(topic)
    # The user pointed at their own folds: never substitute another one silently.
    given = library.given_specs()
    for spec in given:
        if spec.applies_to(topic):
            return spec
    files = ", ".join(str(p) for p in library.paths)
    if not given:
        raise UsageError(f"{files}: no folds defined; add @fold(...) or choose one with --fold")
    defined = "; ".join(f"{s.name} (topics: {', '.join(s.topics)})" for s in given)
    raise UsageError(
        f"no fold in {files} applies to topic {topic!r}: they define {defined}; "
        "choose one with --fold"
    )


def loaded_library(args: argparse.Namespace, command: str) -> FoldLibrary:
    """The folds (and upcasters, snapshot adapters) found; a ``--folds`` file that does
    not load is an error, anything else that fails is a warning."""
    library = library_from(args)
    failed = library.given_errors()
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise UsageError(f"could not load {failed[0].message}{more}")
    for err in library.errors.values():  # the user folder's, a plugin's: say, go on
        say(command, f"warning: could not load {err.message}")
    return library


def topic_upcasting(library: FoldLibrary, source: Source, topic: str) -> Upcasting | None:
    """The topic's upcasters (None when none applies); a broken chain is a usage error."""
    try:
        return upcasting_for(library.extras, source, topic)
    except UpcastChainError as exc:
        raise UsageError(str(exc)) from exc


def run_state(args: argparse.Namespace) -> int:
    """0; 1 when the aggregate has no events; 2 for bad input, a fold that fails, a load
    failure of a --folds file or a read that ended early."""
    for option in ("offset", "n"):
        value = getattr(args, option)
        if value is not None and value < 0:
            raise UsageError(f"--{option} {value}: give 0 or more")
    at_ms = parse_time(args.at)
    source, topic = source_from(args)
    library = loaded_library(args, "state")
    spec = pick_fold(library, args.fold, topic)
    upcast = topic_upcasting(library, source, topic)
    if args.from_snapshot and (args.history or args.blame or args.follow):
        raise UsageError("--from-snapshot gives one state: no --history, --blame or --follow")
    if args.follow:
        if at_ms is not None or args.offset is not None or args.n is not None:
            raise UsageError("--follow goes on from now: it takes no --at, --offset or --n")
        return follow_state(args, source, topic, spec, upcast)
    warn_history_gone(source, topic, args.aggregate)
    got = read_aggregate(source, topic, args.aggregate, at_ms, args.offset)
    if got.note is not None:
        say("state", got.note)
    if not got.events and got.report.complete:
        bounded = at_ms is not None or args.offset is not None
        _check_aggregate_exists(source, topic, args.aggregate, bounded)
    replayer = Replayer.from_events(got.events, spec, aggregate=args.aggregate, upcast=upcast)
    position: dict[str, int] = {}
    if at_ms is not None:
        position["timestamp_ms"] = at_ms
    elif args.offset is not None:
        position["offset"] = args.offset
    elif args.n is not None:
        position["n"] = args.n
    target = replayer.position(**position)
    if args.from_snapshot:
        code = print_snapshot_state(args, library, source, topic, got.events, target, spec, upcast)
    elif args.history:
        code = _print_history(replayer, target, masker_from(args, "state"))
    else:
        code = _print_state(replayer, target, args, masker_from(args, "state"))
    return code if code != ExitCode.OK else incomplete_exit(got.report, "state")


def _check_aggregate_exists(source: Source, topic: str, aggregate: str, bounded: bool) -> None:
    """No events up to the position: before the aggregate's first event is an answer
    (the state is None), an aggregate that has no events at all is not."""
    if not bounded or not read_aggregate(source, topic, aggregate).events:
        raise NothingMatched(f"aggregate {aggregate!r} has no events in {topic}")


def _print_state(
    replayer: Replayer, target: int, args: argparse.Namespace, masker: Masker
) -> ExitCode:
    result = replayer.step(target)
    doc = result.to_json()
    doc["state"] = masker.state(doc["state"])
    if args.blame and result.failure is None:
        doc["blame"] = {path: ref.to_json() for path, ref in replayer.blame(target).items()}
    out(dumps(doc, pretty=not args.json))
    if result.failure is None:
        return ExitCode.OK
    say("state", result.failure.describe())
    return ExitCode.ERROR


def _print_history(replayer: Replayer, target: int, masker: Masker) -> ExitCode:
    try:
        for step in replayer.history(0, target):
            state = masker.state(step.state)
            row: dict[str, Any] = {"n": step.n, "event": step.event.to_json(), "state": state}
            out(dumps(row))
    except FoldError as exc:
        say("state", exc.failure.describe())
        return ExitCode.ERROR
    return ExitCode.OK
