"""Benchmark of ``compare``: two folds over every aggregate of a real topic.

    .venv/bin/python tests/perf/bench_compare.py [--events 1000000] [--aggregates 10000]
        [--processes N] [--also-one]

Produces the workload once (12 partitions of JSON envelopes keyed by account, as
``tests/perf/bench_read.py`` does) to the broker named by EVENT_EXPLORER_BOOTSTRAP (or a
fresh one), then compares a balance fold with a changed copy of it (withdrawals over 90
pay a fee) from fold files, as a user would, and prints one JSON object:

* ``seconds``: the whole comparison, worker start-up, reads and the merge included;
* ``events_per_s``; ``processes`` used and the machine's ``cores``;
* ``cpu_seconds``: parent and worker processes together (what the work costs, whatever
  else the machine was doing), and ``load_before``/``load_after`` (1-minute load
  average), because on a shared machine the wall time says as much about the others;
* ``differ``: aggregates that differ (a check that the work was done);
* ``one_process_seconds`` with ``--also-one``: the same in one process.

Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workload import kafka, produce_events

from app.replay.compare_run import compare_topic, cores
from app.replay.discovery import load_definitions
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

FOLDS = """
from app.folds import fold, payload

@fold("balance", topics=["bench-*"])
def balance(state, event):
    state = dict(state or {"balance": 0, "moves": 0})
    amount = payload(event)["amount"]
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    state["moves"] += 1
    return state

@fold("balance-with-fee", topics=["bench-*"])
def balance_with_fee(state, event):
    state = dict(state or {"balance": 0, "moves": 0})
    amount = payload(event)["amount"]
    if event.type == "MoneyWithdrawn":
        state["balance"] -= amount + (1 if amount > 90 else 0)
    else:
        state["balance"] += amount
    state["moves"] += 1
    return state
"""


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(source: ClusterSource, topic: str, folds: Path, processes: int | None) -> dict[str, Any]:
    specs = {s.name: s for s in load_definitions(folds).folds}
    load_before = os.getloadavg()[0]
    cpu0 = cpu_seconds()
    started = time.monotonic()
    report = compare_topic(
        source, topic, specs["balance"], specs["balance-with-fee"], processes=processes
    )
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 2),
        "events": report.events,
        "events_per_s": round(report.events / seconds),
        "processes": report.processes,
        "cpu_seconds": round(cpu_seconds() - cpu0, 2),
        "aggregates": report.aggregates,
        "differ": len(report.differ),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--aggregates", type=int, default=10_000)
    ap.add_argument("--processes", type=int, default=None)
    ap.add_argument("--also-one", action="store_true", help="also time one process")
    args = ap.parse_args()
    with kafka() as bootstrap, tempfile.TemporaryDirectory() as tmp:
        topic = f"bench-compare-{uuid.uuid4().hex[:8]}"
        produce_s = produce_events(
            bootstrap, topic, args.events, partitions=12, aggregates=args.aggregates
        )
        folds = Path(tmp) / "bench_folds.py"
        folds.write_text(FOLDS)
        source = ClusterSource(ConnectionProfile(bootstrap))
        result: dict[str, Any] = {"cores": cores(), "produce_s": round(produce_s, 1)}
        result |= run(source, topic, folds, args.processes)
        if args.also_one:
            result["one_process"] = run(source, topic, folds, 1)
        from confluent_kafka.admin import AdminClient

        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
