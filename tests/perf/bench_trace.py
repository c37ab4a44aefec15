"""Benchmark of trace and health over the index alone (no broker): 1M events.

    .venv/bin/python tests/perf/bench_trace.py [--sagas 200000] [--lookups 300]

Builds in-memory indexes of checkout sagas (JSON envelopes with eventId, correlationId,
causationId, aggregateVersion) across three topics: each saga is five events (orders x3,
payments, shipments), so 200,000 sagas are 1M events.  Then prints one JSON object:

* ``ids_build_s`` / ``ids_build_cpu_s``: the id columns of all three topics, from the
  stored values (done once per index, then kept beside it);
* ``correlation_lookup_ms``: rows of a random correlation id across the three topics,
  p50/p95 (the indexed lookup: a binary search per topic); ``first_lookup_ms`` the first
  one, which also sorts each topic's correlation column (once per index);
* ``trace_ms``: the whole trace of a random correlation id (lookup, links, roots,
  cycles, children), p50/p95;
* ``health_s`` / ``health_cpu_s``: every check of the three topics with the id
  columns built; ``health_cold_s`` the same including the id columns;
* ``one_correlation_trace_s``: a trace of 1M events that share one correlation id,
  each caused by the one before (a million deep), and its id columns build;
* ``rss_mb``: resident memory at the end.

Not collected by pytest (no ``test_`` prefix).  Timings are wall clock unless ``cpu``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.health.check import check_health
from app.health.config import HealthConfig
from app.index.topic_index import TopicIndex
from app.trace.ids import CACHE
from app.trace.space import TraceSpace
from app.trace.tree import trace_correlation
from kafka_io.decode import Decoder
from kafka_io.event import Event

BASE_MS = 1_700_000_000_000
BATCH = 10_000
PARTITIONS = 12


def envelope(topic: str, agg: str, etype: str, eid: str, corr: str, cause: str | None,
             version: int, ts: int, offsets: dict[tuple[str, int], int]) -> Event:  # fmt: skip
    body = {"eventId": eid, "eventType": etype, "aggregateId": agg, "aggregateVersion": version,
            "correlationId": corr, "causationId": cause, "payload": {"amount": 7}}  # fmt: skip
    p = hash(agg) % PARTITIONS
    offset = offsets.get((topic, p), 0)
    offsets[(topic, p)] = offset + 1
    return Event(topic, p, offset, ts, agg, etype, agg, (), None, None, None, orjson.dumps(body))


def sagas(count: int) -> dict[str, TopicIndex]:
    indexes = {t: TopicIndex(t, Decoder()) for t in ("orders", "payments", "shipments")}
    pending: dict[str, list[Event]] = {t: [] for t in indexes}
    offsets: dict[tuple[str, int], int] = {}
    for s in range(count):
        corr, o, p, sh = f"chk-{s}", f"ORD-{s}", f"PAY-{s}", f"SHP-{s}"
        ts = BASE_MS + s * 1000
        for ev in (
            envelope("orders", o, "OrderPlaced", f"{o}.1", corr, None, 1, ts, offsets),
            envelope("payments", p, "PaymentAuthorized", f"{p}.1", corr, f"{o}.1", 1, ts + 1,
                     offsets),
            envelope("orders", o, "PaymentProcessed", f"{o}.2", corr, f"{p}.1", 2, ts + 2, offsets),
            envelope("shipments", sh, "ShipmentDispatched", f"{sh}.1", corr, f"{o}.2", 1, ts + 3,
                     offsets),
            envelope("orders", o, "OrderShipped", f"{o}.3", corr, f"{sh}.1", 3, ts + 4, offsets),
        ):  # fmt: skip
            batch = pending[ev.topic]
            batch.append(ev)
            if len(batch) >= BATCH:
                indexes[ev.topic].append(batch)
                pending[ev.topic] = []
    for topic, batch in pending.items():
        indexes[topic].append(batch)
    return indexes


def percentiles(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000
    return {"p50": round(float(np.percentile(arr, 50)), 2),
            "p95": round(float(np.percentile(arr, 95)), 2)}  # fmt: skip


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sagas", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    out: dict[str, Any] = {"events": args.sagas * 5}

    indexes, build_s, _ = timed(lambda: sagas(args.sagas))
    out["index_build_s"] = round(build_s, 1)
    space = TraceSpace(indexes, decoders=Decoder)
    _, wall, cpu = timed(space.all_columns)
    out["ids_build_s"], out["ids_build_cpu_s"] = round(wall, 2), round(cpu, 2)

    lookups, traces = [], []
    for _ in range(args.lookups):
        corr = f"chk-{rng.randrange(args.sagas)}"
        _, wall, _ = timed(lambda c=corr: space.rows_for_correlation(c))
        lookups.append(wall)
        trace, wall, _ = timed(lambda c=corr: trace_correlation(space, c))
        assert len(trace) == 5 and len(trace.roots) == 1
        traces.append(wall)
    # The first lookup also sorts each topic's correlation column (once per index).
    out["first_lookup_ms"] = round(lookups[0] * 1000, 1)
    out["correlation_lookup_ms"] = percentiles(lookups[1:])
    out["trace_ms"] = percentiles(traces)

    config = HealthConfig(saga_starts=frozenset({"OrderPlaced"}),
                          saga_ends=frozenset({"OrderShipped"}))  # fmt: skip
    report, wall, cpu = timed(lambda: check_health(indexes, config, decoders=Decoder))
    assert report.findings == [], report.summary.line()
    out["health_s"], out["health_cpu_s"] = round(wall, 2), round(cpu, 2)
    # Cold: a fresh cache, so the id columns are computed again inside the check.
    CACHE.clear()
    _, wall, cpu = timed(lambda: check_health(indexes, config, decoders=Decoder))
    out["health_cold_s"], out["health_cold_cpu_s"] = round(wall, 2), round(cpu, 2)
    indexes.clear()  # only the next part's index in memory from here on
    CACHE.clear()

    n = args.sagas * 5
    one = TopicIndex("one", Decoder())
    offsets: dict[tuple[str, int], int] = {}
    for lo in range(0, n, BATCH):
        one.append([envelope("one", f"A-{i % 1000}", "Step", f"e{i}", "the-one",
                             f"e{i - 1}" if i else None, i // 1000 + 1, BASE_MS + i, offsets)
                    for i in range(lo, min(n, lo + BATCH))])  # fmt: skip
    space = TraceSpace({"one": one}, decoders=Decoder)
    _, wall, _ = timed(space.all_columns)
    out["one_correlation_ids_s"] = round(wall, 2)
    trace, wall, _ = timed(lambda: trace_correlation(space, "the-one"))
    assert len(trace) == n and len(trace.roots) == 1
    out["one_correlation_trace_s"] = round(wall, 2)
    out["rss_mb"] = round(psutil.Process().memory_info().rss / 1e6)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
