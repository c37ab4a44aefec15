"""CLI commands that read: ``topics`` and ``events`` (``export`` is in ``app.cli.export``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.audit.as_of import filter_rows
from app.cli import profile_option
from app.cli.as_of import add_as_of_options, as_of_from
from app.cli.common import (
    ExitCode,
    NothingMatched,
    UsageError,
    add_connection_options,
    add_source_options,
    incomplete_exit,
    out,
    profile_from,
    source_from,
)
from app.cli.filters import (
    Filters,
    add_filter_options,
    filters_from,
    say_not_in_its_partition,
    say_reading_everything,
)
from app.cli.follow import follow_events
from app.cli.masking import masker_from, may_use_cache
from app.index.query import run_query
from app.index.topic_cache import CachedSource, open_topic
from app.index.topic_index import TopicIndex
from app.output.event_json import dumps, event_record
from app.sources import FileSource, ReadReport, Source, SourceSettings
from kafka_io.event import iso_utc
from kafka_io.metadata import Cluster


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("topics", help="list the topics of a cluster or an event file")
    add_connection_options(p)
    p.add_argument(
        "--file", "-f", type=Path,
        help="event file: an export (Avro), kcat -J lines, or events --json lines",
    )  # fmt: skip
    p.add_argument("--internal", action="store_true", help="include __internal topics")
    p.add_argument("--json", action="store_true", help="one JSON object per topic")
    p.set_defaults(func=run_topics)

    p = sub.add_parser("events", help="print events of a topic or an event file")
    add_source_options(p)
    add_filter_options(p)
    p.add_argument("--limit", type=int, help="print at most N events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    add_as_of_options(p)
    p.add_argument(
        "--no-cache", action="store_true", help="do not use or update the persisted index"
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="print the events produced from now on (or from --from on) until Ctrl-C",
    )
    p.set_defaults(func=run_events)


def run_topics(args: argparse.Namespace) -> int:
    if args.file is not None:
        return _file_topics(args)
    cluster = Cluster(profile_from(args))
    topics = profile_option.visible_topics(args, cluster.topics(include_internal=args.internal))
    for t in topics:
        if args.json:
            out(
                dumps(
                    {
                        "topic": t.name,
                        "partitions": len(t.partitions),
                        "count": t.count,
                        "cleanup_policy": t.cleanup_policy,
                        "retention_ms": t.retention_ms,
                        "watermarks": [
                            {"partition": p.partition, "low": p.low, "high": p.high}
                            for p in t.partitions
                        ],
                    }
                )
            )
        else:
            out(f"{t.name}\t{len(t.partitions)} partitions\t{t.count} records\t{t.cleanup_policy}")
    if not topics and not args.json:
        print("(no topics)", file=sys.stderr)
    return ExitCode.OK


def _file_topics(args: argparse.Namespace) -> int:
    """An event file's topics, with the partitions and records found in it."""
    if not args.file.exists():
        raise UsageError(f"no such file: {args.file}")
    counts: dict[str, dict[int, int]] = {}
    read = FileSource(args.file, SourceSettings()).read(None)
    for batch in read:
        for ev in batch:
            per = counts.setdefault(ev.topic, {})
            per[ev.partition] = per.get(ev.partition, 0) + 1
    for name in sorted(counts):
        per = counts[name]
        if args.json:
            partitions = [{"partition": p, "count": n} for p, n in sorted(per.items())]
            out(dumps({"topic": name, "partitions": len(per), "count": sum(per.values()),
                       "per_partition": partitions}))  # fmt: skip
        else:
            out(f"{name}\t{len(per)} partitions\t{sum(per.values())} records\tfile")
    if not counts and not args.json:
        print("(no topics)", file=sys.stderr)
    return incomplete_exit(read.report, "topics")  # a damaged file: counts up to the damage


def run_events(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: give 1 or more")
    source, topic = source_from(args)
    filters = filters_from(args)
    if args.follow:
        return follow_events(args, source, topic, filters)
    masker = masker_from(args, "events")
    cache = not args.no_cache and may_use_cache(args, "events")
    if isinstance(source, CachedSource) and not filters.narrows_read and cache:
        # The whole topic: through the persisted index, so a rerun reads only what is new.
        cached = open_topic(source, topic)
        index, report = cached.index, cached.report
    else:
        index, report = _aggregate_or_window(source, topic, filters)
    rows = filter_rows(index, run_query(index, filters.query()), as_of_from(args))
    for row in rows[: args.limit]:
        ev = masker.event(index.event(int(row)))
        if args.json:
            out(dumps(event_record(ev)))
        else:
            mark = f"  !! {ev.error}" if ev.error else ""
            out(
                f"{iso_utc(ev.timestamp_ms)}  {ev.partition}:{ev.offset}  "
                f"{ev.aggregate or '-'}  {ev.type}{mark}"
            )
    if report.incomplete is None and not len(rows):
        raise NothingMatched(filters.nothing_matched(topic))
    return incomplete_exit(report, "events")


def _aggregate_or_window(
    source: Source, topic: str, filters: Filters
) -> tuple[TopicIndex, ReadReport]:
    aggregate = filters.aggregate
    partitions = source.partitions_for_aggregate(topic, aggregate) if aggregate else None
    if aggregate and partitions is None:
        say_reading_everything("events", source, topic)
    index, report = _read_index(source, topic, partitions, filters)
    if partitions and report.complete and index.aggregate_id(aggregate or "") is None:
        say_not_in_its_partition("events", source, topic, aggregate or "", partitions)
        index, report = _read_index(source, topic, None, filters)
    return index, report


def _read_index(
    source: Source, topic: str, partitions: list[int] | None, filters: Filters
) -> tuple[TopicIndex, ReadReport]:
    index = TopicIndex(topic, decoder=source.make_decoder())
    read = source.read(
        topic, partitions=partitions, from_ms=filters.since_ms, to_ms=filters.until_ms
    )
    for batch in read:
        index.append(batch)
    return index, read.report
