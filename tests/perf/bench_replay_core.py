"""Benchmark of the app core alone (no Kafka): index build, filters, replay, stepping.

    .venv/bin/python tests/perf/bench_replay_core.py [--events 1000000] [--seed 7]
    .venv/bin/python tests/perf/bench_replay_core.py --events 10000000 --on-disk /tmp/idx

Builds an in-memory index of synthetic Events (12 partitions, 10,000 aggregates, one
aggregate with 10% of the events), then prints one JSON object:

* ``append_events_per_s``: TopicIndex.append alone (making the Events is not timed);
* ``first_log_order_ms``: the one lexsort after the build;
* ``filter_ms``: type + aggregate + time range query, p50/p95 over random queries;
* ``state_at_timestamp_warm_ms``: a random aggregate at a random timestamp from the
  index (Replayer built each time, events decoded by the real Decoder), p50/p95;
* ``big_aggregate_first_pass_s`` and ``step_ms``: the 100,000-event aggregate's first
  pass, then random steps, p50/p95; ``blame_*`` the same for blame;
* ``rss_mb`` after the build and ``peak_rss_mb`` for the whole run (psutil / getrusage);
  with ``--on-disk`` the index lives in files of a cache folder (as the app keeps it)
  and is saved after the build, and ``private_mb`` (RssAnon + RssShmem) is given too.

Not collected by pytest (no ``test_`` prefix); tests/perf/bench_replay.py adds Kafka.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memwatch import now_mb

from app.index.query import Query, run_query
from app.index.storage import release_free_memory
from app.index.store import load_or_new, save
from app.index.topic_index import TopicIndex
from app.replay.replayer import Replayer
from kafka_io.decode import Decoder
from kafka_io.event import Event

PARTITIONS = 12
AGGREGATES = 10_000
BASE_MS = 1_700_000_000_000
BATCH = 10_000  # what the reader hands over per batch


def plan(n: int, seed: int) -> list[int]:
    """Aggregate number per event: aggregate 0 gets n/10 events, the rest share."""
    rng = random.Random(seed)
    big = n // 10
    aggs = [0] * big + [rng.randrange(1, AGGREGATES) for _ in range(n - big)]
    rng.shuffle(aggs)
    return aggs


def make_batch(start: int, aggs: list[int], next_offset: list[int]) -> list[Event]:
    out = []
    for i in range(start, min(start + BATCH, len(aggs))):
        agg = aggs[i]
        name = f"acc-{agg}"
        p = agg % PARTITIONS
        ts = BASE_MS + i * 10
        kind = "MoneyWithdrawn" if i % 4 == 3 else "MoneyDeposited"
        value = (
            f'{{"eventId":"e{i}","eventType":"{kind}","aggregateId":"{name}",'
            f'"timestamp":{ts},"payload":{{"amount":{i % 97 + 1}}}}}'
        ).encode()
        out.append(Event("bank-accounts", p, next_offset[p], ts, name, kind, name, (), None,
                         None, None, value))  # fmt: skip
        next_offset[p] += 1
    return out


def pct(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
    }


def balance(state: Any, event: Event) -> Any:
    amount = event.data["payload"]["amount"]
    state = dict(state or {"balance": 0, "moves": 0})
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    state["moves"] += 1
    return state


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--on-disk", type=Path, help="build the index in this cache folder")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    proc = psutil.Process()
    aggs = plan(args.events, args.seed)

    if args.on_disk is not None:
        index, _note = load_or_new("bench", "bank-accounts", Decoder(), cache_dir=args.on_disk)
    else:
        index = TopicIndex("bank-accounts", Decoder())
    offsets = [0] * PARTITIONS
    append_s = 0.0
    for start in range(0, args.events, BATCH):
        batch = make_batch(start, aggs, offsets)
        t0 = time.perf_counter()
        index.append(batch)
        append_s += time.perf_counter() - t0
    del batch
    if args.on_disk is not None:
        t0 = time.perf_counter()
        save(index, args.on_disk)
        save_s = time.perf_counter() - t0
    gc.collect()
    release_free_memory()
    t0 = time.perf_counter()
    index.log_order()
    index.rank()
    first_order_ms = (time.perf_counter() - t0) * 1000
    rss_after_build = proc.memory_info().rss
    private_after_build = now_mb()["private_mb"]

    span = args.events * 10
    filters = []
    for _ in range(args.queries):
        since = BASE_MS + rng.randrange(span)
        q = Query(
            aggregate=f"acc-{rng.randrange(AGGREGATES)}",
            types=frozenset({"MoneyDeposited"}),
            since_ms=since,
            until_ms=since + rng.randrange(span // 2),
        )
        t0 = time.perf_counter()
        run_query(index, q)
        filters.append((time.perf_counter() - t0) * 1000)

    warm = []
    for _ in range(args.queries):
        agg = f"acc-{rng.randrange(1, AGGREGATES)}"
        at = BASE_MS + rng.randrange(span)
        t0 = time.perf_counter()
        result = Replayer.from_index(index, agg, balance).state_at(timestamp_ms=at)
        warm.append((time.perf_counter() - t0) * 1000)
        assert result.ok, result.failure

    t0 = time.perf_counter()
    big = Replayer.from_index(index, "acc-0", balance)
    first = big.run()
    first_pass_s = time.perf_counter() - t0
    assert first.ok and first.events_applied == len(big)
    steps = []
    for _ in range(args.queries):
        i = rng.randrange(len(big) + 1)
        t0 = time.perf_counter()
        big.step(i)
        steps.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    big.blame()
    blame_first_s = time.perf_counter() - t0
    blames = []
    for _ in range(args.queries):
        i = rng.randrange(len(big) + 1)
        t0 = time.perf_counter()
        big.blame(i)
        blames.append((time.perf_counter() - t0) * 1000)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "events": args.events,
                "partitions": PARTITIONS,
                "aggregates": AGGREGATES,
                "big_aggregate_events": len(big),
                "append_events_per_s": round(args.events / append_s),
                "first_log_order_ms": round(first_order_ms, 1),
                "filter_ms": pct(filters),
                "state_at_timestamp_warm_ms": pct(warm),
                "big_aggregate_first_pass_s": round(first_pass_s, 3),
                "step_ms": pct(steps),
                "blame_first_pass_s": round(blame_first_s, 3),
                "blame_step_ms": pct(blames),
                "index_bytes": index.memory_bytes(),
                "rss_mb": round(rss_after_build / 2**20, 1),
                "private_mb_after_build": private_after_build,
                "save_s": round(save_s, 2) if args.on_disk is not None else None,
                "load_avg": [round(x, 2) for x in os.getloadavg()],
                "peak_rss_mb": round(peak / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
