"""The as-of options (``--as-of T``, ``--as-of-offsets 0:120,1:98``) and the history note.

Shared by ``events``, ``states`` and ``audit``; the rules live in ``app.audit.as_of``.
"""

from __future__ import annotations

import argparse
import sys

from app.audit.as_of import AsOf, AsOfError
from app.audit.history import history_notes
from app.cli.common import UsageError, parse_time
from app.sources import ClusterSource, Source


def add_as_of_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--as-of", metavar="ISO8601", help="only what had been written by this moment"
    )
    group.add_argument(
        "--as-of-offsets",
        metavar="P:O,...",
        help="only offsets up to these, inclusive, per partition (partitions not named: none)",
    )


def as_of_from(args: argparse.Namespace) -> AsOf | None:
    if getattr(args, "as_of", None) is not None:
        return AsOf.moment(_time(args.as_of))
    if getattr(args, "as_of_offsets", None) is not None:
        return offsets_arg(args.as_of_offsets)
    return None


def offsets_arg(text: str) -> AsOf:
    try:
        return AsOf.parse_offsets(text)
    except AsOfError as exc:
        raise UsageError(str(exc)) from exc


def _time(text: str) -> int:
    at = parse_time(text)
    assert at is not None
    return at


def at_or_offset(
    at: str | None, offset: str | None, home: int | None, required: bool = False
) -> AsOf | None:
    """``--at T`` or ``--offset N`` (on the aggregate's partition ``home``) or
    ``--offset P:N,...``."""
    if at is not None:
        return AsOf.moment(_time(at))
    if offset is None:
        if required:
            raise UsageError("give --at ISO8601 or --offset N")
        return None
    if ":" in offset:
        return offsets_arg(offset)
    try:
        value = int(offset)
    except ValueError:
        raise UsageError(f"--offset: not an offset: {offset!r}") from None
    if home is None:
        raise UsageError(
            "--offset N needs the aggregate's partition; give --offset PARTITION:OFFSET"
        )
    return AsOf.at_offsets({home: value})


def history_gone(source: Source, topic: str, partitions: list[int] | None) -> list[str]:
    """One sentence per partition (of those given; None: all) whose early records are
    gone: its low watermark is above 0.  Only a cluster knows its watermarks."""
    if not isinstance(source, ClusterSource):
        return []
    marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    return history_notes(topic, marks, partitions)


def warn_history_gone(
    source: Source, topic: str, aggregate: str | None = None, command: str = "state"
) -> None:
    """A line on stderr per partition whose history is gone (see ``history_gone``)."""
    partitions = source.partitions_for_aggregate(topic, aggregate) if aggregate else None
    for line in history_gone(source, topic, partitions):
        print(f"event-explorer {command}: {line}", file=sys.stderr)
