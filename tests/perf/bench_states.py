"""Benchmark: the state of every aggregate at a moment, through the index.

    .venv/bin/python tests/perf/bench_states.py [--events 1000000] [--aggregates 10000]

Produces the workload (JSON envelopes keyed by aggregate, 12 partitions) to the broker
named by EVENT_EXPLORER_BOOTSTRAP (or a fresh one), indexes the topic through the
persisted-index path (``open_topic``, as ``event-explorer states`` does), then folds every
aggregate with the example ``bank-account`` fold at a moment past the last event (every
event applied), with one process and with two.  Prints one JSON object:

* ``index_s``: reading and indexing the topic (not part of the goal);
* ``states_1_worker_s`` / ``states_2_workers_s``: wall seconds of ``states_at``, with
  ``*_events_per_s`` and the CPU seconds of this process and its children;
* ``goal_s``: 10 (10,000 aggregates over 1M indexed events on a 2-core machine);
* ``*_children_cpu_s``: of that, the forked second process's share (with two workers,
  the wall time on an idle machine is the larger of the two shares);
* ``as_of_filter_ms``: moving T on the 1M-row index (the mask and the table's rows
  narrowed to it), p50/p95 over 50 random moments;
* ``load_avg``: the 1-minute load average when it ran (the machine is shared).

Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import BASE_MS, kafka, produce_events

from app.audit.as_of import AsOf, filter_rows
from app.audit.states import states_at
from app.index.topic_cache import open_topic
from app.index.topic_index import TopicIndex
from app.replay.discovery import discover_folds
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile


def cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def children_cpu_s() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def as_of_ms(index: TopicIndex, runs: int = 50) -> dict[str, float]:
    """Moving T: the as-of mask and the table's rows narrowed to it, p50/p95."""
    rng = random.Random(3)
    rows = index.log_order()
    lo, hi = int(index.timestamp_col.min()), int(index.timestamp_col.max())
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        filter_rows(index, rows, AsOf.moment(rng.randrange(lo, hi)))
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return {"p50": round(took[runs // 2], 2), "p95": round(took[int(runs * 0.95)], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--aggregates", type=int, default=10_000)
    args = ap.parse_args()
    out: dict[str, object] = {"events": args.events, "aggregates": args.aggregates}
    with kafka() as bootstrap:
        topic = f"bank-states-{uuid.uuid4().hex[:8]}"
        out["produce_s"] = round(
            produce_events(bootstrap, topic, args.events, 12, args.aggregates), 2
        )
        source = ClusterSource(ConnectionProfile.from_args(bootstrap))
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            index = open_topic(source, topic, cache_dir=Path(cache)).index
            out["index_s"] = round(time.perf_counter() - started, 2)
        assert len(index) == args.events, len(index)
        out["as_of_filter_ms"] = as_of_ms(index)
        spec = discover_folds(use_user_dir=False).registry.get("bank-account")
        at = AsOf.moment(BASE_MS + args.events * 10)
        for workers in (1, 2):
            cpu0, kids0, started = cpu_s(), children_cpu_s(), time.perf_counter()
            result = states_at(index, spec, at, workers=workers)
            wall = time.perf_counter() - started
            assert len(result.rows) == args.aggregates and result.events_applied == args.events
            assert not result.failures
            name = f"states_{workers}_worker{'s' if workers > 1 else ''}"
            out[f"{name}_s"] = round(wall, 2)
            out[f"{name}_events_per_s"] = round(args.events / wall)
            out[f"{name}_cpu_s"] = round(cpu_s() - cpu0, 2)
            # With two, the wall time on an idle machine is the busier process's CPU time.
            out[f"{name}_children_cpu_s"] = round(children_cpu_s() - kids0, 2)
        out["goal_s"] = 10
        out["load_avg"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
