"""``event-explorer lag``: consumer-group lag per partition, once or every N seconds.

    event-explorer lag --bootstrap HOST:PORT [--group G ...] [--json] [--watch SECONDS]

Reads only: the sampler never joins or commits to a group.  Each partition's lag in
seconds (the age of its oldest waiting record, from that record's timestamp) is there
from the first sample.  With ``--watch`` a rolling history also gives each group its
Burrow-style status and time to catch up, and estimates the age where the record
could not be read.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from app.cli import profile_option
from app.cli.common import ExitCode, add_connection_options, profile_from, seconds_arg
from app.lag.history import LagHistory
from app.lag.status import GroupStatus, PartitionStatus, format_age, format_duration
from app.output.event_json import dumps
from kafka_io.clients import LIBRDKAFKA_LOG
from kafka_io.event import iso_utc
from kafka_io.lag import LagSample, LagSampler
from kafka_io.profile import ProfileError

PROG = "event-explorer lag"
COLUMNS = ("GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "AGE", "STATE", "MEMBERS")
_KEYS = ("group", "topic", "partition", "committed", "end", "lag", "age", "state", "members")
_NUMERIC = {2, 3, 4, 5, 6, 8}


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
    """0 when every round was read; 1 when there is no such group (or none at all);
    2 when the cluster could not be reached; 130 on Ctrl-C (which ends ``--watch``)."""
    try:
        profile = profile_from(args)
    except ProfileError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    if LIBRDKAFKA_LOG.level == logging.NOTSET:
        # librdkafka repeats every failed connect; the one line below says it once.
        # (``main`` sets the level itself, and --verbose lifts it.)
        LIBRDKAFKA_LOG.setLevel(logging.CRITICAL)
    sampler = LagSampler(profile, groups=args.group, timeout_s=args.timeout)
    watch: float | None = args.watch
    # Even a single sample goes through a history: it turns record timestamps into ages.
    history = LagHistory(window_s=max(60.0, 10 * watch)) if watch else LagHistory(capacity=2)
    printer = _print_json if args.json else _print_table
    reached = False
    warned: set[str] = set()
    next_round = time.monotonic()
    try:
        while True:
            sample = profile_option.visible_lag(args, sampler.sample())
            if sample.error is not None:
                print(f"{PROG}: {sample.error}", file=sys.stderr)
                # Once the cluster has answered, a watch rides out outages; before, or
                # without --watch, there is nothing to show.
                if not (watch and reached):
                    return ExitCode.ERROR
            else:
                reached = True
                history.add(sample)
                printer(sample, history.statuses(), bool(watch), sys.stdout)
                sys.stdout.flush()
                # Why an age is estimated (say, no read permission on a topic), once.
                for warning in sample.warnings:
                    if warning not in warned:
                        warned.add(warning)
                        print(f"{PROG}: warning: {warning}", file=sys.stderr)
            if not watch:
                # DEAD with no offsets is how Kafka describes a group it does not know.
                if any(g.state != "DEAD" or g.partitions for g in sample.groups):
                    return ExitCode.OK
                print(f"{PROG}: no such consumer group", file=sys.stderr)
                return ExitCode.NO_MATCH
            next_round += watch
            time.sleep(max(0.0, next_round - time.monotonic()))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    finally:
        sampler.close()


def _rows(sample: LagSample, statuses: list[GroupStatus]) -> list[dict[str, Any]]:
    ages: dict[tuple[str, str, int], PartitionStatus] = {
        (s.group, p.topic, p.partition): p for s in statuses for p in s.partitions
    }
    rows = []
    for group in sorted(sample.groups, key=lambda g: g.group):
        base = {"group": group.group, "state": group.state, "members": group.members}
        if group.error is not None:
            rows.append({**base, "error": group.error})
        for p in group.partitions:
            age = ages.get((group.group, p.topic, p.partition))
            row = {
                **base,
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
                "end": p.end,
                "lag": p.lag,
                # The age of the oldest waiting record, and where it came from.
                "lag_seconds": age.lag_seconds if age else None,
                "age_source": age.age_source if age else None,
            }
            if p.oldest_source == "next_record":
                row["oldest_offset"] = p.oldest_offset
            if p.error:
                row["error"] = p.error
            rows.append(row)
        if not group.partitions and group.error is None:
            empty = ("topic", "partition", "committed", "end", "lag", "lag_seconds", "age_source")
            rows.append({**base, **dict.fromkeys(empty)})
    return rows


def _print_json(
    sample: LagSample, statuses: list[GroupStatus], watching: bool, out: TextIO
) -> None:
    stamp = iso_utc(sample.time_ms)
    for row in _rows(sample, statuses):
        out.write(dumps({"time": stamp, **row}) + "\n")
    if not watching:
        return
    for status in statuses:
        line = {
            "time": stamp,
            "group": status.group,
            "status": status.status.value,
            "rule": status.rule,
            "lag": status.lag,
            "lag_seconds": status.lag_seconds,
            "age_source": status.age_source,
            "catch_up_seconds": status.catch_up_seconds,
        }
        out.write(dumps(line) + "\n")


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _print_table(
    sample: LagSample, statuses: list[GroupStatus], watching: bool, out: TextIO
) -> None:
    rows = _rows(sample, statuses)
    if watching:
        out.write(f"\n# {iso_utc(sample.time_ms)}\n")
    if not rows:
        out.write("no consumer groups\n")
        return
    for r in rows:
        r["age"] = _short_age(r.get("lag_seconds"), r.get("age_source"))
    table = [list(COLUMNS)] + [[_cell(r.get(k)) for k in _KEYS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line, row in zip(table, [None, *rows], strict=True):
        cells = [
            c.rjust(w) if i in _NUMERIC and row is not None else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        text = "  ".join(cells).rstrip()
        if row is not None and row.get("oldest_offset") is not None:
            text += (
                f"  note: offset {row['committed']} holds no record any more;"
                f" age of the next one, at offset {row['oldest_offset']}"
            )
        if row is not None and row.get("error"):
            text += f"  error: {row['error']}"
        out.write(text + "\n")
    if watching:
        _print_statuses(statuses, out.write)


def _short_age(seconds: float | None, source: str | None) -> str | None:
    """A duration without spaces for the table: 0.4s, 42s, 9m05s, 2h05m, 3d04h."""
    if seconds is None:
        return None
    s = round(seconds)
    if seconds < 10:
        text = f"{seconds:.1f}s"
    elif s < 60:
        text = f"{s}s"
    elif s < 3600:
        text = f"{s // 60}m{s % 60:02d}s"
    elif s < 86400:
        text = f"{s // 3600}h{s % 3600 // 60:02d}m"
    else:
        text = f"{s // 86400}d{s % 86400 // 3600:02d}h"
    return f"~{text}" if source == "estimate" else text


def _print_statuses(statuses: list[GroupStatus], write: Callable[[str], object]) -> None:
    for status in statuses:
        extra = ""
        if status.lag:
            extra = (
                f" [lag {format_age(status.lag_seconds, status.age_source)}, "
                f"catch-up {format_duration(status.catch_up_seconds)}]"
            )
        write(f"{status.group}: {status.status.value}{extra} - {status.rule}\n")
