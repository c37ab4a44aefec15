"""CLI commands about the index cache: ``cache list`` and ``cache clear``."""

from __future__ import annotations

import argparse
import sys
import time

from app.cli.common import out
from app.index.cache_budget import budget_bytes, clear, list_cached
from app.index.store_files import default_cache_dir
from app.output.event_json import dumps


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="the persisted indexes: list them, or clear them")
    cache_sub = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    listing = cache_sub.add_parser("list", help="every cached index, most recently used first")
    listing.add_argument("--json", action="store_true", help="one JSON object per index")
    listing.set_defaults(func=run_list)
    clearing = cache_sub.add_parser(
        "clear", help="delete cached indexes (all of them unless narrowed); not those in use"
    )
    clearing.add_argument("--cluster", help="only indexes of this cluster id")
    clearing.add_argument("--topic", "-t", help="only indexes of this topic")
    clearing.set_defaults(func=run_clear)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def run_list(args: argparse.Namespace) -> int:
    root = default_cache_dir()
    entries = list_cached(root)
    for e in entries:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used_s))
        if args.json:
            out(dumps({
                "cluster_id": e.cluster_id, "topic": e.topic, "events": e.rows,
                "disk_bytes": e.disk_bytes, "last_used": used, "in_use": e.in_use,
                "window": e.window, "folder": str(e.folder), "problem": e.problem,
            }))  # fmt: skip
        else:
            flags = " (in use)" if e.in_use else ""
            flags += f" (window {e.window})" if e.window else ""
            flags += f" (unreadable: {e.problem})" if e.problem else ""
            out(f"{e.cluster_id}\t{e.topic}\t{e.rows:,} events\t{_mb(e.disk_bytes)}\t{used}{flags}")
    total = sum(e.disk_bytes for e in entries)
    print(
        f"{len(entries)} cached indexes, {_mb(total)} of a {_mb(budget_bytes())} budget, in {root}",
        file=sys.stderr,
    )
    return 0


def run_clear(args: argparse.Namespace) -> int:
    removed, busy = clear(default_cache_dir(), cluster=args.cluster, topic=args.topic)
    freed = sum(e.disk_bytes for e in removed)
    print(f"removed {len(removed)} cached indexes, {_mb(freed)} freed", file=sys.stderr)
    for e in busy:
        print(f"kept {e.cluster_id} {e.topic}: another window uses it", file=sys.stderr)
    return 1 if busy else 0
