"""``event-explorer compare``: two folds over the same history, the aggregates that differ.

The usual question is "my change against what runs in production": the other fold is
another fold of the loaded files (``--against NAME``), or the same fold from another
file or folder (``--against-folds PATH``), or from another git revision of its file
(``--against-git REV``).  Exit 0 when no aggregate differs, 1 when some do, 2 on error
(a fold or upcaster that failed on some aggregate is listed, then exits 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.cli.change_text import print_changes, short
from app.cli.common import (
    ExitCode,
    UsageError,
    add_source_options,
    out,
    parse_time,
    say,
    source_from,
)
from app.cli.filters import TIME_HELP
from app.cli.masking import masker_from
from app.cli.state import loaded_library, pick_fold, topic_upcasting
from app.output.event_json import dumps
from app.replay.compare import AggregateDiff
from app.replay.compare_run import CompareFailed, CompareReport, compare_topic
from app.replay.diff import Change
from app.replay.discovery import FoldLibrary, discover_folds, load_definitions
from app.replay.fold_git import FoldAtRevision, GitError
from app.replay.folds import FoldSpec
from app.replay.masked_diff import mask_diff


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="replay every aggregate with two folds; list those whose states differ"
    )
    add_source_options(p)
    p.add_argument("--fold", required=True, help="the fold to compare (yours)")
    p.add_argument(
        "--against", metavar="FOLD",
        help="the fold to compare it with (default: the same name, from --against-folds "
        "or --against-git)",
    )  # fmt: skip
    p.add_argument(
        "--against-folds", type=Path, metavar="PATH",
        help="take the other fold from this file or folder",
    )  # fmt: skip
    p.add_argument(
        "--against-git", metavar="REV",
        help="take the other fold from its file as it was at this git revision",
    )  # fmt: skip
    p.add_argument(
        "--folds", dest="fold_paths", action="append", default=[], type=Path, metavar="PATH",
        help="fold file or folder (repeatable)",
    )  # fmt: skip
    p.add_argument("--at", metavar="TIME", help=f"every event with timestamp <= this: {TIME_HELP}")
    p.add_argument("--processes", type=int, metavar="N", help="worker processes (default: cores)")
    p.add_argument(
        "--json", action="store_true",
        help="one object per differing aggregate, then a summary {aggregates, differ}",
    )  # fmt: skip
    p.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    if args.processes is not None and args.processes < 1:
        raise UsageError(f"--processes {args.processes}: give 1 or more")
    if args.against_folds is not None and args.against_git is not None:
        raise UsageError("give --against-folds or --against-git, not both")
    at_ms = parse_time(args.at)
    source, topic = source_from(args)
    library = loaded_library(args, "compare")
    fold_a = pick_fold(library, args.fold, topic)
    upcast = topic_upcasting(library, source, topic)
    with ExitStack() as stack:
        fold_b, label_b = _other_fold(args, library, fold_a, stack)
        if fold_b.function is fold_a.function:
            say("compare", f"warning: {fold_a.name} is compared with itself")
        try:
            report = compare_topic(
                source, topic, fold_a, fold_b, upcast=upcast, at_ms=at_ms,
                processes=args.processes, progress=_progress_line(),
            )  # fmt: skip
        except CompareFailed as exc:
            raise UsageError(str(exc)) from exc
        finally:
            _clear_progress()
    masker = masker_from(args, "compare")
    for found in report.differ:
        _print(replace(found, diff=mask_diff(masker, found.diff)), args.json)
    label_a = _label(fold_a)
    if args.json:
        out(dumps(report.summary()))
    else:
        out(_summary(report, label_a, label_b))
    for why in report.incomplete:
        say("compare", f"incomplete read: {why}")
    if report.failed or report.incomplete:
        return ExitCode.ERROR
    return ExitCode.NO_MATCH if report.differ else ExitCode.OK


def _label(spec: FoldSpec) -> str:
    where = spec.source.rsplit("/", 1)[-1]
    return spec.name if spec.source in ("built-in", "code") else f"{spec.name} ({where})"


def _other_fold(
    args: argparse.Namespace, library: FoldLibrary, fold_a: FoldSpec, stack: ExitStack
) -> tuple[FoldSpec, str]:
    name = args.against or fold_a.name
    if args.against_folds is not None:
        path = args.against_folds
        if not path.exists():
            raise UsageError(f"no such fold file or folder: {path}")
        other = discover_folds([path], use_user_dir=False, use_examples=False,
                               use_entry_points=False)  # fmt: skip
        failed = other.given_errors()
        if failed:
            raise UsageError(f"could not load {failed[0].message}")
        found = {s.name: s for s in other.given_specs()}
        if name not in found:
            defined = ", ".join(sorted(found)) or "none"
            raise UsageError(f"{path} defines no fold named {name!r} (it defines: {defined})")
        return found[name], _label(found[name])
    if args.against_git is not None:
        base = pick_fold(library, name, "")
        if not base.source.endswith(".py"):
            raise UsageError(
                f"fold {name!r} comes from {base.source}, not a file: "
                "--against-git needs a fold file in a git work tree"
            )
        try:
            at_rev = stack.enter_context(FoldAtRevision(Path(base.source), args.against_git))
        except GitError as exc:
            raise UsageError(str(exc)) from exc
        try:
            specs = load_definitions(at_rev.path).folds
        except Exception as exc:  # the old file does not load: say so in one line
            raise UsageError(f"could not load {at_rev.label}: {type(exc).__name__}: {exc}") from exc
        for spec in specs:
            if spec.name == name:
                return spec, f"{name} ({at_rev.label})"
        raise UsageError(f"{at_rev.label} defines no fold named {name!r}")
    if args.against is None:
        raise UsageError("give --against FOLD, --against-folds PATH or --against-git REV")
    other_spec = pick_fold(library, args.against, "")
    return other_spec, _label(other_spec)


def _print(found: AggregateDiff, as_json: bool) -> None:
    if as_json:
        out(dumps(found.to_json()))
        return
    first = found.first
    where = (
        f"first differs after event {found.step} of {found.events}: "
        f"p{first.partition}@{first.offset} {first.type}"
        if first is not None
        else "differs"
    )
    out(f"{found.aggregate}  {where}")
    for side, failure in found.failures:
        out(f"    fold {side.upper()}: {failure.describe()}")
    changes = found.diff.changes
    print_changes(changes, _change_text)


def _change_text(change: Change) -> str:
    path = change.path or "(state)"
    if change.kind == "added":
        return f"{path}: {short(change.new)} (only B)"
    if change.kind == "removed":
        return f"{path}: {short(change.old)} (only A)"
    return f"{path}: {short(change.old)} → {short(change.new)}"


def _summary(report: CompareReport, label_a: str, label_b: str) -> str:
    cores = f"{report.processes} process{'es' if report.processes != 1 else ''}"
    return (
        f"{len(report.differ):,} of {report.aggregates:,} aggregates differ: A {label_a}, "
        f"B {label_b} ({report.events:,} events, {cores}, {report.seconds:.1f} s)"
    )


_shown = [False]


def _progress_line() -> Any:
    """Progress on stderr, when it is a terminal (a pipe gets none)."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2:
            return
        last[0] = now
        of = f" of {total:,}" if total else ""
        sys.stderr.write(f"\rcompared {done:,}{of} events")
        sys.stderr.flush()
        _shown[0] = True

    return show


def _clear_progress() -> None:
    if _shown[0]:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        _shown[0] = False
