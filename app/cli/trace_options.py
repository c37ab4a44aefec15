"""Options the ``trace`` and ``health`` commands share: the source (a cluster, a saved
profile or a file, every topic of it by default, a profile's locked topics at most), how
records decode, where the ids are, and what is masked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import profile_option
from app.cli.common import UsageError, add_connection_options, add_mask_option, profile_from
from app.cli.masking import masker_from, may_use_cache
from app.masking.masker import Masker
from app.profiles import TopicLock, source_for
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
    add_mask_option(parser)


def trace_source_from(args: argparse.Namespace) -> Source:
    try:
        given = TopicSettings(args.type_rule, args.aggregate_rule, ValueFormat(args.format))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    settings = SourceSettings(given)
    if profile_option.uses_profile(args):
        return _profile_source(args, given)
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


def _profile_source(args: argparse.Namespace, given: TopicSettings) -> Source:
    """``--profile``: its cluster, rules and fold folder; only the topics it allows."""
    profile = profile_option.load_profile(args)
    lock = TopicLock(profile.locked_topics, profile.name)
    for pattern in args.topics or ():
        for name in pattern.split(","):
            if name.strip() and not any(c in name for c in "*?["):
                lock.check(name.strip())  # before any password is asked for
    if profile.fold_folder and isinstance(getattr(args, "fold_paths", None), list):
        args.fold_paths.append(Path(profile.fold_folder).expanduser())
    topics = {t: given.over(s) for t, s in profile.topics.items()}
    settings = SourceSettings(given.over(profile.defaults), topics)
    return source_for(profile, profile_option.profile_connection(args), settings)


def masking_from(args: argparse.Namespace, command: str) -> tuple[Masker, bool]:
    """The masker in force, and whether the persisted index may be used (a profile may
    forbid keeping unmasked values on disk)."""
    masker = masker_from(args, command)
    return masker, not args.no_cache and may_use_cache(args, command)
