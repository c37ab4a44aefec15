"""Options and output shared by every CLI command: connection, source, times, exit codes."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path

from app.cli import profile_option
from app.sources import (
    ClusterSource,
    FileSource,
    ReadReport,
    Source,
    SourceSettings,
    TopicSettings,
)
from app.sources.proto_rule import ProtoRule
from kafka_io.decode import ValueFormat
from kafka_io.partitioners import partitioner as named_partitioner
from kafka_io.profile import ConnectionProfile


class ExitCode(IntEnum):
    """What every command exits with, as grep and diff do."""

    OK = 0
    NO_MATCH = 1  # the command ran and nothing matched (no events, no such aggregate)
    ERROR = 2  # bad input, or something failed (a fold, a read that ended early)
    INTERRUPTED = 130  # Ctrl-C


class UsageError(Exception):
    """A command line that cannot be carried out; shown as one line, exit 2."""


class NothingMatched(Exception):
    """The command ran and found nothing to show; shown as one line, exit 1."""


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
    parser.add_argument(
        "--file", "-f", type=Path,
        help="event file: an export (Avro), kcat -J lines, or events --json lines",
    )  # fmt: skip
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
    add_mask_option(parser)
    add_proto_options(parser)
    parser.add_argument(
        "--partitioner",
        help="how producers placed keys: murmur2 (Java), crc32 (librdkafka's default), "
        "fnv1a (Sarama), or librdkafka's names (default: detected from a sample of keys)",
    )
    parser.add_argument(
        "--version-rule",
        help="where the event's schema version is: field:PATH | header:NAME | schema "
        "(default: eventVersion, event_version or schemaVersion, as a header or field)",
    )


def add_proto_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--proto-descriptors", metavar="FILE",
        help="plain Protobuf values: a descriptor set (protoc --descriptor_set_out=FILE "
        "--include_imports); with --proto-message",
    )  # fmt: skip
    parser.add_argument(
        "--proto-message", metavar="pkg.Type", help="the message type of plain Protobuf values"
    )


def add_mask_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mask", metavar="GLOB", action="append", default=[],
        help="hide this field in what is shown, printed or written (repeatable): a glob "
        "over the value's dotted field path (payload.cardNumber, *.email) or header:NAME",
    )  # fmt: skip


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
        partitioner = getattr(args, "partitioner", None)
        if partitioner is not None:
            partitioner = named_partitioner(partitioner).name
        proto = ProtoRule.parse(
            getattr(args, "proto_descriptors", None), getattr(args, "proto_message", None)
        )
        given = TopicSettings(
            args.type_rule, args.aggregate_rule, ValueFormat(args.format), partitioner,
            getattr(args, "version_rule", None), proto,
        )  # fmt: skip
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Epoch milliseconds from 1973-03-03 on have 12 digits or more.  A shorter number is far
# more likely epoch seconds or a compact date (20251001) than a time in 1970-1973, so it
# is refused rather than silently read as milliseconds.
MIN_EPOCH_MS = 100_000_000_000


def parse_time(text: str | None) -> int | None:
    """A time given on the command line, as epoch milliseconds.

    ISO 8601 (a time without a zone is UTC; finer than a millisecond is floored), or
    epoch milliseconds as a bare integer of 12 digits or more.  Raises UsageError.
    """
    if text is None:
        return None
    raw = text.strip()
    if raw.isdigit():
        ms = int(raw)
        if ms < MIN_EPOCH_MS:
            raise UsageError(
                f"{raw} is too small for epoch milliseconds (12 digits or more); "
                "for epoch seconds add 000, for a date write YYYY-MM-DD"
            )
        return ms
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"not a time: {text!r} (give ISO 8601 or epoch milliseconds)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = (dt - _EPOCH) // _MS
    if ms < 0:
        raise UsageError(f"{text} is before 1970: Kafka timestamps start at 1970-01-01")
    return ms


def time_range(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """``--from`` and ``--to`` (both inclusive); an empty range is a usage error."""
    since_ms, until_ms = parse_time(since), parse_time(until)
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise UsageError(f"--from {since} is later than --to {until}: the range is empty")
    return since_ms, until_ms


def out(line: str) -> None:
    sys.stdout.write(line + "\n")


def say(command: str, message: str) -> None:
    """One line on stderr, in the form every command uses."""
    print(f"event-explorer {command}: {message}", file=sys.stderr)


def incomplete_exit(report: ReadReport, command: str) -> ExitCode:
    """After what was read was printed: exit 2, saying why, if the read ended early."""
    if report.incomplete is None:
        return ExitCode.OK
    say(command, f"incomplete read: {report.incomplete}")
    return ExitCode.ERROR
