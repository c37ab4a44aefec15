"""``event-explorer states``: the state of every aggregate of a topic at a moment.

Through the topic's index (the persisted one on a cluster, so a rerun reads only what
is new); see ``app.audit.states`` for the rule and the speed.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import IO

from app.audit.as_of import format_moment
from app.audit.parallel import usable_workers
from app.audit.states import StatesResult, states_at
from app.audit.states_output import json_lines, write_csv
from app.cli.as_of import at_or_offset, warn_history_gone
from app.cli.common import ExitCode, add_source_options, incomplete_exit, source_from
from app.cli.masking import masker_from, may_use_cache
from app.cli.state import add_folds_option, library_from, pick_fold
from app.index.topic_cache import CachedSource, open_topic
from app.index.topic_index import TopicIndex
from app.output.event_json import dumps
from app.replay.results import ReplayResult
from app.sources import ReadReport, Source


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("states", help="the state of every aggregate at a moment, by a fold")
    add_source_options(p)
    p.add_argument("--fold", help="fold name (default: the first whose topics match)")
    add_folds_option(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--at", metavar="ISO8601", help="every event with timestamp <= this")
    where.add_argument(
        "--offset", metavar="P:O,...", help="offsets up to these, inclusive, per partition"
    )
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object per aggregate")
    form.add_argument("--csv", action="store_true", help="CSV, the state flattened to columns")
    p.add_argument("--out", "-o", type=Path, help="write to FILE instead of stdout")
    p.add_argument("--no-cache", action="store_true", help="do not use the persisted index")
    p.add_argument("--workers", type=int, help="processes folding (default: one per core, max 2)")
    p.set_defaults(func=run_states)


def run_states(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    spec = pick_fold(library_from(args), args.fold, topic)
    as_of = at_or_offset(args.at, args.offset, None)
    masker = masker_from(args, "states")
    index, report = _index(source, topic, args.no_cache or not may_use_cache(args, "states"))
    warn_history_gone(source, topic, command="states")
    for p, state in sorted(index.partitions.items()):
        if not isinstance(source, CachedSource) and state.first_offset > 0:
            print(
                f"event-explorer states: partition {p} of the file starts at offset "
                f"{state.first_offset}: earlier records are not in it",
                file=sys.stderr,
            )
    result = states_at(index, spec, as_of, workers=usable_workers(args.workers))
    if masker.active:  # folded on the real values; shown masked
        result = replace(
            result, rows=[replace(r, state=masker.state(r.state)) for r in result.rows]
        )
    with (
        args.out.open("w", encoding="utf-8", newline="") if args.out else nullcontext(sys.stdout)
    ) as out:
        _print(result, args, out)
    code = incomplete_exit(report, "states")
    if code:
        return code
    return _verdict(result)


def _index(source: Source, topic: str, no_cache: bool) -> tuple[TopicIndex, ReadReport]:
    if isinstance(source, CachedSource) and not no_cache:
        cached = open_topic(source, topic)
        return cached.index, cached.report
    index = TopicIndex(topic, decoder=source.make_decoder())
    read = source.read(topic)
    for batch in read:
        index.append(batch)
    return index, read.report


def _print(result: StatesResult, args: argparse.Namespace, out: IO[str]) -> None:
    if args.csv:
        write_csv(result.rows, out)
        return
    if args.json:
        for line in json_lines(result.rows):
            out.write(line + "\n")
        return
    for row in result.rows:
        out.write(_text_row(row) + "\n")


def _text_row(row: ReplayResult) -> str:
    last = row.last_event
    where = "-" if last is None else f"{last.partition}:{last.offset}  {last.timestamp}"
    state = f"!! {row.failure.describe()}" if row.failure is not None else dumps(row.state)
    return f"{row.aggregate}  {row.events_applied} events  {where}  {state}"


def _verdict(result: StatesResult) -> int:
    failures = result.failures
    if failures:
        first = failures[0]
        why = first.failure.describe() if first.failure is not None else ""
        print(
            f"event-explorer states: the fold failed on {len(failures)} aggregates; first: "
            f"{first.aggregate}: {why}",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    if not result.rows:
        when = ""
        if result.as_of is not None:
            when = " " + result.as_of.label().replace("As of", "by", 1)
        start = result.first_timestamp_ms
        hint = "" if start is None else f" (the topic's first event is at {format_moment(start)})"
        print(f"event-explorer states: no aggregate had an event{when}{hint}", file=sys.stderr)
        return 1
    return 0
