"""``event-explorer trace``: every event of one business process, across topics.

Exit codes (``ExitCode``): 0 the trace was found and is whole, 1 nothing matched or the
trace has broken links or cycles, 2 bad input or errors.  Ids read from masked fields or
headers are printed as the mark (``--mask``, a profile's masking).
"""

from __future__ import annotations

import argparse
import sys

from app.cli.common import ExitCode, UsageError
from app.cli.trace_options import (
    add_trace_source_options,
    id_rules_from,
    masking_from,
    trace_source_from,
    warn_incomplete,
)
from app.trace.details import TraceTexts
from app.trace.export import write_json, write_text, write_timeline
from app.trace.loading import index_topics
from app.trace.space import TraceSpace, parse_position
from app.trace.tree import Trace, trace_correlation, trace_event


def add_trace_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trace",
        help="every event of one correlation id across topics, as a causation tree",
        description="Follow a business process across topics: every event with the same "
        "correlation id, as a tree of causes (parent = the event whose id is the causation "
        "id), with the time between steps and the broken links.",
    )
    add_trace_source_options(p)
    p.add_argument(
        "--topics",
        action="append",
        metavar="GLOB",
        help="topics to look in (glob, repeatable or comma-separated; default: all)",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--correlation", "-c", metavar="ID", help="the correlation id")
    what.add_argument("--event", "-e", metavar="TOPIC:PARTITION:OFFSET", help="trace of this event")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object: roots, orphans, cycles")
    out.add_argument("--timeline", action="store_true", help="events in time order, with gaps")
    p.set_defaults(func=run_trace)


def run_trace(args: argparse.Namespace) -> int:
    source = trace_source_from(args)
    rules = id_rules_from(args)
    event = None
    if args.event is not None:
        try:
            event = parse_position(args.event)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if args.correlation is not None and not args.correlation.strip():
        raise UsageError("--correlation: give a non-empty id")
    masker, use_cache = masking_from(args, "trace")
    indexed = index_topics(source, args.topics, use_cache=use_cache)
    incomplete = warn_incomplete(indexed, "trace")
    space = TraceSpace(indexed.indexes, rules, source.make_decoder)
    trace: Trace | None
    if event is not None:
        trace = trace_event(space, *event)
        if trace is None:
            topic = event[0]
            where = "" if topic in space.indexes else f" (no topic {topic!r} was indexed)"
            print(f"event-explorer trace: no event at {args.event}{where}", file=sys.stderr)
            return ExitCode.NO_MATCH
    else:
        trace = trace_correlation(space, args.correlation.strip())
    texts = TraceTexts.of_space(trace, space, masker)
    write = sys.stdout.write
    if args.json:
        write_json(trace, texts, write)
    elif not len(trace):
        pass  # nothing to show: the one line on stderr below says why, as grep would
    elif args.timeline:
        write_timeline(trace, texts, write)
    else:
        write_text(trace, texts, write)
    if not len(trace) and trace.note:
        print(f"event-explorer trace: {trace.note}", file=sys.stderr)
    if incomplete:
        return ExitCode.ERROR
    whole = len(trace) and not trace.broken.any() and not trace.cycles
    return ExitCode.OK if whole else ExitCode.NO_MATCH
