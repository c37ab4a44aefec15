"""``event-explorer versions``: per event type, the schema versions a topic holds, how
many events of each and their first and last offsets (before dropping an upcaster)."""

from __future__ import annotations

import argparse

from app.cli.common import ExitCode, add_source_options, incomplete_exit, out, source_from
from app.index.topic_index import TopicIndex
from app.output.event_json import dumps
from app.replay.versions import VersionFact, schema_version_lookup, version_facts
from kafka_io.event import EventRef


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "versions", help="per event type: which versions occur, how many, first and last"
    )
    add_source_options(p)
    p.add_argument("--json", action="store_true", help="one object per type and version")
    p.set_defaults(func=run_versions)


def _where(ref: EventRef) -> str:
    return f"p{ref.partition}@{ref.offset}"


def run_versions(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    index = TopicIndex(topic, decoder=source.make_decoder())
    read = source.read(topic)
    for batch in read:
        index.append(batch)
    rule = source.settings.for_topic(topic).versions
    facts = version_facts(index, rule, schema_version=schema_version_lookup(source, topic))
    if args.json:
        for fact in facts:
            out(dumps(fact.to_json()))
    else:
        _table(facts, str(rule))
    code = incomplete_exit(read.report, "versions")
    if code:
        return code
    return ExitCode.OK if facts else ExitCode.NO_MATCH


def _table(facts: list[VersionFact], rule: str) -> None:
    rows = [("TYPE", "VERSION", "EVENTS", "FIRST", "LAST")]
    rows += [
        (f.type, f.version or "(none)", f"{f.count:,}", _where(f.first), _where(f.last))
        for f in facts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        cells = [
            c.rjust(w) if i == 2 else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out("  ".join(cells).rstrip())
    out(f"(versions by the rule: {rule})")
