"""Options and output shared by every CLI command: connection, source, times, JSON."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.cli import profile_option
from app.sources import ClusterSource, FileSource, Source, SourceSettings, TopicSettings
from kafka_io.decode import ValueFormat
from kafka_io.profile import ConnectionProfile


class UsageError(Exception):
    """A command line that cannot be carried out; shown as one line, exit 2."""


def add_connection_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    group = parser.add_argument_group("connection")
    profile_option.add_profile_option(group)
    group.add_argument("--bootstrap", "-b", required=required, help="HOST:PORT[,HOST:PORT]")
    group.add_argument(
        "-X",
        dest="x_options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="librdkafka property, as with kcat (repeatable): SASL, SSL, ...",
    )
    group.add_argument(
        "--config",
        "-F",
        metavar="FILE",
        help="properties file (kcat -F / Java client.properties format)",
    )
    group.add_argument("--registry", metavar="URL", help="Confluent-compatible schema registry")
    group.add_argument("--registry-auth", metavar="USER:PASSWORD", help="registry basic auth")
    group.add_argument(
        "--timeout", type=seconds_arg, default=6.0, metavar="SECONDS",
        help="give up on an unanswering cluster after this long (default: 6)",
    )  # fmt: skip


def add_source_options(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser)
    parser.add_argument("--topic", "-t", help="topic to read (with --bootstrap)")
    parser.add_argument("--file", "-f", type=Path, help="event file: Avro container or kcat -J")
    parser.add_argument(
        "--format",
        choices=[f.value for f in ValueFormat],
        default="auto",
        help="value format of the topic (default: detected)",
    )
    parser.add_argument(
        "--type-rule", help="where the event type is: key | header:NAME | field:PATH"
    )
    parser.add_argument(
        "--aggregate-rule", help="where the aggregate id is: key | header:NAME | field:PATH"
    )


def profile_from(args: argparse.Namespace) -> ConnectionProfile:
    if profile_option.uses_profile(args):
        return profile_option.profile_connection(args)
    return ConnectionProfile.from_args(
        args.bootstrap, args.x_options, args.config, args.registry, args.registry_auth,
        timeout_s=args.timeout,
    )  # fmt: skip


def seconds_arg(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def source_from(args: argparse.Namespace) -> tuple[Source, str]:
    """The source and topic the user named; a file may hold several topics."""
    try:
        given = TopicSettings(args.type_rule, args.aggregate_rule, ValueFormat(args.format))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    settings = SourceSettings(given)
    if profile_option.uses_profile(args):
        return profile_option.profile_source(args, given)
    if args.file is not None:
        if not args.file.exists():
            raise UsageError(f"no such file: {args.file}")
        source: Source = FileSource(args.file, settings)
        topics = source.topic_names()
        topic = args.topic or (topics[0] if len(topics) == 1 else None)
        if topic is None:
            raise UsageError(
                f"{args.file} holds several topics; pick one with --topic: {', '.join(topics)}"
            )
        if topic not in topics:
            raise UsageError(f"{args.file} has no topic {topic!r}; it has: {', '.join(topics)}")
        return source, topic
    if not args.bootstrap and not args.config:
        raise UsageError("give --bootstrap HOST:PORT --topic T, or --file F")
    if not args.topic:
        raise UsageError("give --topic T")
    return ClusterSource(profile_from(args), settings), args.topic


def parse_time(text: str | None) -> int | None:
    """ISO 8601 to epoch milliseconds; a time without a zone is taken as UTC."""
    if text is None:
        return None
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise UsageError(f"not an ISO 8601 time: {text!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
