"""The filters ``events`` and ``export`` share: aggregate, event types, time range, text."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from app.cli.common import UsageError, say, time_range
from app.cli.masking import masker_from
from app.index.query import Query
from app.sources import Source

TIME_HELP = "ISO 8601 (no zone: UTC) or epoch milliseconds"


@dataclass(frozen=True)
class Filters:
    """What the user asked for; every field left at None matches everything."""

    aggregate: str | None = None
    types: frozenset[str] | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    text: str | None = None

    def query(self) -> Query:
        return Query(
            aggregate=self.aggregate,
            types=self.types,
            since_ms=self.since_ms,
            until_ms=self.until_ms,
            text=self.text,
        )

    @property
    def narrows_read(self) -> bool:
        """Whether the read itself is narrowed (one partition, a time window), not only
        what is kept of it."""
        return not (self.aggregate is None and self.since_ms is None and self.until_ms is None)

    def nothing_matched(self, topic: str) -> str:
        if self == Filters():
            return f"{topic} has no events"
        if self.aggregate is not None and self.types is None and self.text is None:
            when = "" if self.since_ms is None and self.until_ms is None else " in that time range"
            return f"aggregate {self.aggregate!r} has no events in {topic}{when}"
        return f"no events of {topic} match"


def add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aggregate", "-a", help="only this aggregate (reads only its partition)")
    p.add_argument("--type", dest="types", action="append", help="event type (repeatable)")
    p.add_argument(
        "--from", dest="since", metavar="TIME", help=f"first timestamp, inclusive: {TIME_HELP}"
    )
    p.add_argument(
        "--to", dest="until", metavar="TIME", help=f"last timestamp, inclusive: {TIME_HELP}"
    )
    p.add_argument("--text", help="text in the key or the value (case-sensitive)")


def filters_from(args: argparse.Namespace) -> Filters:
    """The filters of a command line; a bad time or an empty range is a UsageError, and
    so is ``--text`` under masking (it would tell which events hold a masked value)."""
    if args.text and masker_from(args, args.command).active:
        raise UsageError("--text searches the raw values, which masking hides: not with masking")
    since, until = time_range(args.since, args.until)
    return Filters(
        aggregate=args.aggregate,
        types=frozenset(args.types) if args.types else None,
        since_ms=since,
        until_ms=until,
        text=args.text or None,
    )


def say_not_in_its_partition(
    command: str, source: Source, topic: str, aggregate: str, partitions: list[int]
) -> None:
    """Not where the topic's partitioner puts the key (another producer wrote it)."""
    where = ", ".join(str(p) for p in partitions)
    say(
        command,
        f"{aggregate!r} is not in partition {where}, where its key is placed "
        f"({source.pruning_note(topic)}); reading every partition",
    )


def say_reading_everything(command: str, source: Source, topic: str) -> None:
    """An aggregate asked for, but its partition cannot be told: say why, once."""
    why = source.pruning_note(topic)
    if why is not None:
        say(command, f"reading every partition: {why}")
