"""Reopening a cached index: time to a usable table, memory, queries, at any size.

    .venv/bin/python tests/perf/bench_reopen.py --topic scale-10m-100k --cache-dir DIR

``DIR`` is a cache folder holding the topic's index (``bench_build.py --keep-last``
prints one); without it the index is built first.  Prints one JSON object: the seconds
from nothing to a usable table (the stored index planned against the broker, its first
page of rows decoded), with the page cache warm and after the index's files were
dropped from it (``posix_fadvise``, this index's files only), the background checksum
pass, memory (private = RssAnon + RssShmem, and plain RSS), and p50/p95 of a filter
(type + aggregate + time range), the state of a random aggregate at a random time from
the index, and a step of the largest aggregate.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from memwatch import now_mb
from workload import kafka

from app.index.query import Query, run_query
from app.index.storage import release_free_memory
from app.index.store import release
from app.index.topic_cache import open_topic, plan_topic
from app.replay.replayer import Replayer
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile


def balance(state: Any, event: Any) -> Any:
    state = dict(state or {"balance": 0})
    amount = event.data["payload"]["amount"]
    state["balance"] += amount if event.type == "MoneyDeposited" else -amount
    return state


def pct(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000
    return {"p50": round(float(np.percentile(arr, 50)), 2),
            "p95": round(float(np.percentile(arr, 95)), 2)}  # fmt: skip


def drop_from_page_cache(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def reopen(source: ClusterSource, topic: str, cache: Path) -> tuple[Any, float]:
    started = time.monotonic()
    plan = plan_topic(source, topic, cache)
    rows = run_query(plan.index, Query())
    [plan.index.event(int(r)) for r in rows[:60]]
    return plan, time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--topic", required=True)
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    out: dict[str, Any] = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    with kafka() as bootstrap:
        source = ClusterSource(ConnectionProfile(bootstrap))
        cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="bench-reopen-"))
        if args.cache_dir is None:
            built = open_topic(source, args.topic, cache_dir=cache)
            release(built.index)
            del built
        gc.collect()
        release_free_memory()
        timings = {}
        for label in ("warm", "cold", "warm_again"):
            if label == "cold":
                drop_from_page_cache(cache)
            plan, seconds = reopen(source, args.topic, cache)
            timings[label] = round(seconds, 3)
            if label != "warm_again":
                plan.index.verification.wait()  # one background check at a time, as in the app
                release(plan.index)
                del plan
                gc.collect()
        index = plan.index
        out["events"] = len(index)
        out["reopen_to_usable_table_s"] = timings
        out["memory_after_reopen"] = now_mb()
        started = time.monotonic()
        out["checksums_ok"] = index.verification.wait() is None
        out["background_checksums_s"] = round(time.monotonic() - started, 2)
        rng = random.Random(3)
        ts = index.timestamp_col
        lo_ms, hi_ms = int(ts[0]), int(ts[len(index) - 1])
        types = sorted(index.type_names)
        aggs = index.aggregate_names
        filters, warm = [], []
        for _ in range(args.samples):
            since = rng.randrange(lo_ms, hi_ms)
            q = Query(aggregate=rng.choice(aggs), types=frozenset([rng.choice(types)]),
                      since_ms=since, until_ms=rng.randrange(since, hi_ms + 1))  # fmt: skip
            t = time.perf_counter()
            run_query(index, q)
            filters.append(time.perf_counter() - t)
        for _ in range(args.samples):
            agg, at = rng.choice(aggs), rng.randrange(lo_ms, hi_ms)
            t = time.perf_counter()
            result = Replayer.from_index(index, agg, balance).state_at(timestamp_ms=at)
            warm.append(time.perf_counter() - t)
            assert result.ok, result.failure
        counts = np.bincount(index.aggregate_col[index.aggregate_col >= 0])
        biggest = aggs[int(np.argmax(counts))]
        replayer = Replayer.from_index(index, biggest, balance)
        replayer.run()
        steps = []
        for _ in range(args.samples):
            pos = rng.randrange(len(replayer) + 1)
            t = time.perf_counter()
            replayer.step(pos)
            steps.append(time.perf_counter() - t)
        out["filter_ms"] = pct(filters)
        out["warm_state_ms"] = pct(warm)
        out["step_ms"] = pct(steps)
        out["step_aggregate_events"] = len(replayer)
        out["memory_after_queries"] = now_mb()
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out["goals"] = {"reopen_to_usable_table_s": "<= 1.5", "filter_p95_ms": "<= 100",
                    "warm_state_p95_ms": "<= 20", "step_p95_ms": "<= 5",
                    "private_mb_with_10m_indexed": "<= 600"}  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
