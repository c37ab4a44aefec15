"""CLI commands that read: ``topics``, ``events`` and ``export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import profile_option
from app.cli.common import (
    UsageError,
    add_connection_options,
    add_source_options,
    out,
    parse_time,
    profile_from,
    source_from,
)
from app.index.query import Query, run_query
from app.index.topic_cache import CachedSource, open_topic
from app.index.topic_index import TopicIndex
from app.output.event_json import dumps, event_record
from app.sources import ClusterSource, ReadReport, Source
from kafka_io.event import iso_utc
from kafka_io.eventfile import write_event_file
from kafka_io.metadata import Cluster


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("topics", help="list the topics of a cluster")
    add_connection_options(p)
    p.add_argument("--internal", action="store_true", help="include __internal topics")
    p.add_argument("--json", action="store_true", help="one JSON object per topic")
    p.set_defaults(func=run_topics)

    p = sub.add_parser("events", help="print events of a topic or an event file")
    add_source_options(p)
    p.add_argument("--aggregate", "-a", help="only this aggregate (reads only its partition)")
    p.add_argument("--type", dest="types", action="append", help="event type (repeatable)")
    p.add_argument("--from", dest="since", metavar="ISO8601", help="first timestamp (inclusive)")
    p.add_argument("--to", dest="until", metavar="ISO8601", help="last timestamp (inclusive)")
    p.add_argument("--text", help="text in key or value")
    p.add_argument("--limit", type=int, help="print at most N events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--no-cache", action="store_true", help="do not use or update the persisted index"
    )
    p.set_defaults(func=run_events)

    p = sub.add_parser("export", help="export a topic to a self-contained Avro event file")
    add_source_options(p)
    p.add_argument("--out", "-o", type=Path, required=True, help="FILE.avro to write")
    p.add_argument("--from", dest="since", metavar="ISO8601")
    p.add_argument("--to", dest="until", metavar="ISO8601")
    p.set_defaults(func=run_export)


def run_topics(args: argparse.Namespace) -> int:
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
    return 0


def run_events(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    since, until = parse_time(args.since), parse_time(args.until)
    whole_topic = not (args.aggregate or since is not None or until is not None)
    if isinstance(source, CachedSource) and whole_topic and not args.no_cache:
        # The whole topic: through the persisted index, so a rerun reads only what is new.
        cached = open_topic(source, topic)
        index, report = cached.index, cached.report
    else:
        index, report = _aggregate_or_window(source, topic, args.aggregate, since, until)
    query = Query(
        aggregate=args.aggregate,
        types=frozenset(args.types) if args.types else None,
        since_ms=since,
        until_ms=until,
        text=args.text,
    )
    rows = run_query(index, query)
    if args.limit is not None:
        rows = rows[: args.limit]
    for row in rows:
        ev = index.event(int(row))
        if args.json:
            out(dumps(event_record(ev)))
        else:
            mark = f"  !! {ev.error}" if ev.error else ""
            out(
                f"{iso_utc(ev.timestamp_ms)}  {ev.partition}:{ev.offset}  "
                f"{ev.aggregate or '-'}  {ev.type}{mark}"
            )
    return incomplete_exit(report)


def incomplete_exit(report: ReadReport) -> int:
    """Exit 2 (after what was read was printed) when the read did not get everything."""
    if report.incomplete is None:
        return 0
    print(f"event-explorer: incomplete read: {report.incomplete}", file=sys.stderr)
    return 2


def _aggregate_or_window(
    source: Source, topic: str, aggregate: str | None, since: int | None, until: int | None
) -> tuple[TopicIndex, ReadReport]:
    partitions = source.partitions_for_aggregate(topic, aggregate) if aggregate else None
    index, report = _read_index(source, topic, partitions, since, until)
    if partitions is not None and index.aggregate_id(aggregate or "") is None:
        # Not where the Java partitioner puts it: the producer used another partitioner.
        print(
            f"{aggregate!r} is not in partition {partitions[0]} (where murmur2 puts "
            "its key); reading every partition",
            file=sys.stderr,
        )
        index, report = _read_index(source, topic, None, since, until)
    return index, report


def _read_index(
    source: Source,
    topic: str,
    partitions: list[int] | None,
    since: int | None,
    until: int | None,
) -> tuple[TopicIndex, ReadReport]:
    index = TopicIndex(topic, decoder=source.make_decoder())
    read = source.read(topic, partitions=partitions, from_ms=since, to_ms=until)
    for batch in read:
        index.append(batch)
    return index, read.report


def run_export(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    if not isinstance(source, ClusterSource):
        raise UsageError("export reads from a cluster: give --bootstrap and --topic")
    since, until = parse_time(args.since), parse_time(args.until)
    decoder = source.make_decoder()
    read = source.read(topic, from_ms=since, to_ms=until, decoder=decoder)
    count = write_event_file(args.out, read.events(), decoder=decoder)
    print(f"exported {count} events of {topic} to {args.out}", file=sys.stderr)
    return incomplete_exit(read.report)
