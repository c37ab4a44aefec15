"""Options the ``trace`` and ``health`` commands share: the source (a cluster or a file,
every topic of it by default), how records decode, and where the ids are."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import UsageError, add_connection_options, profile_from
from app.sources import ClusterSource, FileSource, Source, SourceSettings, TopicSettings
from app.trace.loading import Indexed
from app.trace.rules import IdRuleBook, IdRules
from kafka_io.decode import ValueFormat

ID_RULE_HELP = "key | header:NAME | field:PATH | traceparent | none (default: detected)"


def add_trace_source_options(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser)
    parser.add_argument("--file", "-f", type=Path, help="event file: Avro container or kcat -J")
    parser.add_argument(
        "--format",
        choices=[f.value for f in ValueFormat],
        default="auto",
        help="value format of the topics (default: detected)",
    )
    parser.add_argument(
        "--type-rule", help="where the event type is: key | header:NAME | field:PATH"
    )
    parser.add_argument(
        "--aggregate-rule", help="where the aggregate id is: key | header:NAME | field:PATH"
    )
    ids = parser.add_argument_group("ids (each detected per topic when not given)")
    ids.add_argument("--event-id-rule", metavar="RULE", help=f"the event id: {ID_RULE_HELP}")
    ids.add_argument("--correlation-rule", metavar="RULE", help="the correlation id")
    ids.add_argument("--causation-rule", metavar="RULE", help="the causation id")
    ids.add_argument("--version-rule", metavar="RULE", help="the aggregate version")
    parser.add_argument(
        "--no-cache", action="store_true", help="do not use or update the persisted index"
    )


def trace_source_from(args: argparse.Namespace) -> Source:
    try:
        given = TopicSettings(args.type_rule, args.aggregate_rule, ValueFormat(args.format))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    settings = SourceSettings(given)
    if args.file is not None:
        if args.bootstrap:
            raise UsageError("give --bootstrap or --file, not both")
        if not args.file.exists():
            raise UsageError(f"no such file: {args.file}")
        return FileSource(args.file, settings)
    if not args.bootstrap and not args.config:
        raise UsageError("give --bootstrap HOST:PORT, or --file F")
    return ClusterSource(profile_from(args), settings)


def id_rules_from(args: argparse.Namespace) -> IdRuleBook:
    try:
        rules = IdRules(
            args.event_id_rule, args.correlation_rule, args.causation_rule, args.version_rule
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return IdRuleBook(rules)


def warn_incomplete(indexed: Indexed, command: str) -> bool:
    """Say (one line each) which reads stopped early; True if any did."""
    for topic, why in indexed.incomplete.items():
        where = f"{topic}: " if topic else ""
        print(f"event-explorer {command}: incomplete read: {where}{why}", file=sys.stderr)
    return bool(indexed.incomplete)
