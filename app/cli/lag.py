"""``event-explorer lag``: consumer-group lag per partition, once or every N seconds.

    event-explorer lag --bootstrap HOST:PORT [--group G ...] [--json] [--watch SECONDS]

Reads only: the sampler never joins or commits to a group.  With ``--watch`` a rolling
history also gives each group its Burrow-style status and time to catch up.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from app.cli import profile_option
from app.cli.common import add_connection_options, profile_from, seconds_arg
from app.lag.history import LagHistory, format_duration
from app.output.event_json import dumps
from kafka_io.clients import LIBRDKAFKA_LOG
from kafka_io.event import iso_utc
from kafka_io.lag import LagSample, LagSampler
from kafka_io.profile import ProfileError

PROG = "event-explorer lag"
COLUMNS = ("GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "STATE", "MEMBERS")


def add_lag_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lag",
        help="consumer group lag: committed offsets against high watermarks",
        description="Print each consumer group's committed offset, high watermark and lag "
        "per partition. Never joins or commits to a group.",
    )
    add_connection_options(parser)
    parser.add_argument(
        "--group", "-g", action="append", metavar="GROUP",
        help="only this group (repeatable; default: every group of the cluster)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--watch", type=seconds_arg, metavar="SECONDS",
        help="sample again every SECONDS (until Ctrl-C); adds status and catch-up time",
    )  # fmt: skip
    parser.set_defaults(func=run_lag)


def run_lag(args: argparse.Namespace) -> int:
    """0 when every round was read; 2 when the cluster could not be reached."""
    try:
        profile = profile_from(args)
    except ProfileError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    if LIBRDKAFKA_LOG.level == logging.NOTSET:
        # librdkafka repeats every failed connect; the one line below says it once.
        # (``main`` sets the level itself, and --verbose lifts it.)
        LIBRDKAFKA_LOG.setLevel(logging.CRITICAL)
    sampler = LagSampler(profile, groups=args.group, timeout_s=args.timeout)
    watch: float | None = args.watch
    history = LagHistory(window_s=max(60.0, 10 * watch)) if watch else None
    printer = _print_json if args.json else _print_table
    reached = False
    next_round = time.monotonic()
    try:
        while True:
            sample = profile_option.visible_lag(args, sampler.sample())
            if sample.error is not None:
                print(f"{PROG}: {sample.error}", file=sys.stderr)
                # Once the cluster has answered, a watch rides out outages; before, or
                # without --watch, there is nothing to show.
                if not (watch and reached):
                    return 2
            else:
                reached = True
                if history is not None:
                    history.add(sample)
                printer(sample, history, sys.stdout)
                sys.stdout.flush()
            if not watch:
                return 0
            next_round += watch
            time.sleep(max(0.0, next_round - time.monotonic()))
    except KeyboardInterrupt:
        return 0


def _rows(sample: LagSample) -> list[dict[str, Any]]:
    rows = []
    for group in sorted(sample.groups, key=lambda g: g.group):
        base = {"group": group.group, "state": group.state, "members": group.members}
        if group.error is not None:
            rows.append({**base, "error": group.error})
        rows.extend(
            {
                **base,
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
                "end": p.end,
                "lag": p.lag,
                **({"error": p.error} if p.error else {}),
            }
            for p in group.partitions
        )
        if not group.partitions and group.error is None:
            empty = dict.fromkeys(("topic", "partition", "committed", "end", "lag"))
            rows.append({**base, **empty})
    return rows


def _print_json(sample: LagSample, history: LagHistory | None, out: TextIO) -> None:
    stamp = iso_utc(sample.time_ms)
    for row in _rows(sample):
        out.write(dumps({"time": stamp, **row}) + "\n")
    if history is not None:
        for status in history.statuses():
            line = {
                "time": stamp,
                "group": status.group,
                "status": status.status.value,
                "rule": status.rule,
                "lag": status.lag,
                "lag_seconds": status.lag_seconds,
                "catch_up_seconds": status.catch_up_seconds,
            }
            out.write(dumps(line) + "\n")


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _print_table(sample: LagSample, history: LagHistory | None, out: TextIO) -> None:
    rows = _rows(sample)
    if history is not None:
        out.write(f"\n# {iso_utc(sample.time_ms)}\n")
    if not rows:
        out.write("no consumer groups\n")
        return
    keys = ("group", "topic", "partition", "committed", "end", "lag", "state", "members")
    table = [list(COLUMNS)] + [[_cell(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    numeric = {2, 3, 4, 5, 7}
    for line, row in zip(table, [None, *rows], strict=True):
        cells = [
            c.rjust(w) if i in numeric and row is not None else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        text = "  ".join(cells).rstrip()
        if row is not None and row.get("error"):
            text += f"  error: {row['error']}"
        out.write(text + "\n")
    if history is not None:
        _print_statuses(history, out.write)


def _print_statuses(history: LagHistory, write: Callable[[str], object]) -> None:
    for status in history.statuses():
        extra = ""
        if status.lag:
            extra = (
                f" [lag {format_duration(status.lag_seconds)}, "
                f"catch-up {format_duration(status.catch_up_seconds)}]"
            )
        write(f"{status.group}: {status.status.value}{extra} - {status.rule}\n")
