"""``event-explorer health``: check topics for what goes wrong in event-sourced systems.

Exit codes: 0 nothing above info was found, 1 warnings or errors were found, 2 bad input
or a read that did not complete, so a team can run it in CI against a staging topic.
Ids and versions read from masked fields are printed as the mark (``--mask``, a profile).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import ExitCode, UsageError, out, parse_time
from app.cli.trace_options import (
    add_trace_source_options,
    id_rules_from,
    masking_from,
    trace_source_from,
    warn_incomplete,
)
from app.health.check import HealthReport, check_health
from app.health.config import (
    HealthConfig,
    parse_duration,
    parse_severity,
    parse_types,
)
from app.health.findings import Finding, Kind
from app.output.event_json import dumps
from app.replay.discovery import discover_folds
from app.trace.loading import index_topics


def add_health_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "health",
        help="check topics: version gaps, duplicates, split aggregates, broken sagas...",
        description="Check a topic (or the topics of a business process together) and "
        "list each finding with its aggregate, partition, offset and a sentence. "
        "Exit 0 when nothing above info was found, 1 with warnings or errors, 2 on error.",
    )
    add_trace_source_options(p)
    p.add_argument(
        "--topic",
        "-t",
        dest="topics",
        action="append",
        metavar="TOPIC",
        help="topic to check (glob, repeatable; required with --bootstrap; a file: all)",
    )
    p.add_argument("--json", action="store_true", help="one finding per line, then a summary")
    p.add_argument(
        "--saga-end",
        action="append",
        metavar="TYPES",
        help="event types that end a saga, e.g. 'OrderShipped|OrderCancelled' "
        "(without: unfinished sagas are not checked)",
    )
    p.add_argument(
        "--saga-start", action="append", metavar="TYPES", help="only sagas starting with these"
    )
    p.add_argument(
        "--saga-window", default="24h", metavar="DURATION", help="how long a saga may run (24h)"
    )
    p.add_argument(
        "--now", metavar="ISO8601", help="judge sagas at this time (default: the last event)"
    )
    p.add_argument(
        "--clock-tolerance",
        default="1s",
        metavar="DURATION",
        help="how far a timestamp may go back within an aggregate (1s)",
    )
    p.add_argument(
        "--correlation-share",
        type=float,
        default=0.9,
        metavar="FRACTION",
        help="events without a correlation id are findings when this share has one (0.9)",
    )
    p.add_argument(
        "--severity",
        action="append",
        default=[],
        metavar="KIND=LEVEL",
        help="change a kind's severity, e.g. unhandled_type=warning (repeatable)",
    )
    p.add_argument("--skip", action="append", default=[], metavar="KIND", help="a check not to run")
    p.add_argument(
        "--folds",
        dest="fold_paths",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="fold file or folder, for the types no fold handles (repeatable)",
    )
    p.set_defaults(func=run_health)


def config_from(args: argparse.Namespace) -> HealthConfig:
    try:
        severities = dict(parse_severity(s) for s in args.severity)
        skip = frozenset(Kind(k.strip()) for k in args.skip)
        return HealthConfig(
            clock_tolerance_ms=parse_duration(args.clock_tolerance),
            correlation_share=args.correlation_share,
            saga_ends=parse_types(args.saga_end),
            saga_starts=parse_types(args.saga_start),
            saga_window_ms=parse_duration(args.saga_window, "h"),
            now_ms=parse_time(args.now),
            severities=severities,
            skip=skip,
        )
    except ValueError as exc:
        if "is not a valid Kind" in str(exc):
            kinds = ", ".join(k.value for k in Kind)
            raise UsageError(f"--skip: {exc.args[0]}; kinds: {kinds}") from exc
        raise UsageError(str(exc)) from exc


def run_health(args: argparse.Namespace) -> int:
    source = trace_source_from(args)
    if not source.preloads and not args.topics:
        raise UsageError("give --topic TOPIC (repeatable) with --bootstrap")
    config = config_from(args)
    rules = id_rules_from(args)
    for path in args.fold_paths:
        if not path.exists():
            raise UsageError(f"no such fold file or folder: {path}")
    library = discover_folds(args.fold_paths)
    masker, use_cache = masking_from(args, "health")
    indexed = index_topics(source, args.topics, use_cache=use_cache)
    incomplete = warn_incomplete(indexed, "health")
    report = check_health(
        indexed.indexes, config, rules=rules, registry=library.registry,
        decoders=source.make_decoder, masker=masker,
    )  # fmt: skip
    print_report(report, as_json=args.json)
    return ExitCode.ERROR if incomplete else report.exit_code


def print_report(report: HealthReport, *, as_json: bool) -> None:
    if as_json:
        for finding in report.findings:
            out(dumps(finding.to_json()))
        summary = report.summary.to_json()
        summary["topics"] = report.topics
        summary["events"] = report.events
        summary["notes"] = report.notes
        out(dumps(summary))
        return
    for finding in report.findings:
        out(finding_line(finding))
    for note in report.notes:
        out(f"note: {note}")
    out(f"{report.events:,} events in {', '.join(report.topics)}: {report.summary.line()}")


def finding_line(f: Finding) -> str:
    other = f" (other: {f.other.topic} p{f.other.partition}@{f.other.offset})" if f.other else ""
    return (
        f"{f.severity.upper():<7}  {f.kind:<19}  {f.where}  {f.aggregate or '-'}  {f.detail}{other}"
    )
