"""``event-explorer verify DIR``: check an audit report offline and, with ``-b``, on the
cluster.  Exit 0 "verified", 1 naming the first thing that does not match, 2 when the
check cannot run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.audit.verify import verify_offline
from app.audit.verify_cluster import verify_on_cluster
from app.cli.common import add_connection_options, out, profile_from
from app.sources import ClusterSource


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check an audit report (offline, and on a cluster)")
    p.add_argument("folder", type=Path, metavar="DIR", help="the report's folder")
    add_connection_options(p)
    p.add_argument("--key", type=Path, metavar="PUB", help="check the signature with this key")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    verdict = verify_offline(args.folder, args.key)
    for note in verdict.notes:
        print(f"event-explorer verify: note: {note}", file=sys.stderr)
    if verdict.problem is not None:
        print(f"event-explorer verify: not verified: {verdict.problem}", file=sys.stderr)
        return 1
    checked = list(verdict.checked)
    if args.bootstrap or args.config:
        on_cluster = verify_on_cluster(verdict, ClusterSource(profile_from(args)))
        if on_cluster.problem is not None:
            for line in checked:
                out(f"ok: {line}")
            print(f"event-explorer verify: not verified: {on_cluster.problem}", file=sys.stderr)
            return 1
        checked += on_cluster.checked
    for line in checked:
        out(f"ok: {line}")
    manifest = verdict.manifest
    complete = manifest["completeness"]
    if not complete["provable"]:
        for why in complete["not_provable_because"]:
            print(f"event-explorer verify: note: not provably complete: {why}", file=sys.stderr)
    out(
        f"verified: {manifest['aggregate']} on {manifest['source']['topic']}, "
        f"{manifest['as_of'].get('timestamp') or manifest['as_of'].get('offsets')}, "
        f"{manifest['events_applied']} events, state SHA-256 {manifest['state_sha256']}"
    )
    return 0
