"""Index, query and replay at scale against the real broker, with today's pipeline as the peer.

    .venv/bin/python tests/perf/bench_replay.py [--events 1000000]

1M JSON events on 12 partitions, 10,000 aggregates, skewed: one aggregate (acc-0) holds
100,000 of them.  Prints one JSON object with: index build rate and its ratio to kcat's raw
consume; filter latency p50/p95; state of a random aggregate at a random time, cold
(partition-only read, no index) and warm (indexed) p50/p95; step to a random position of
the 100,000-event aggregate p95; the same state question through `kcat -J | jq` and our
ratios against it; peak RSS with everything indexed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import time
import uuid
from typing import Any

import numpy as np
import psutil
from workload import BASE_MS, kafka, kcat_path, produce_events, time_kcat

from app.index.query import Query, run_query
from app.index.topic_index import TopicIndex
from app.replay.cold_read import aggregate_events
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

STEP_MS = 10


def balance(state: Any, event: Any) -> Any:
    state = dict(state or {"balance": 0})
    amount = event.data["payload"]["amount"]
    state["balance"] += amount if event.type == "MoneyDeposited" else -amount
    return state


FOLD = FoldSpec(name="balance", topics=("*",), function=balance, source="bench")


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pct(samples: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(samples), q)) * 1000, 3)


def jq_state(bootstrap: str, topic: str, aggregate: str, at_ms: int) -> tuple[float, int]:
    """Today's pipeline: kcat -J | jq, selecting the key and reducing the amounts."""
    program = (
        f'reduce (inputs | select(.key == "{aggregate}" and .ts <= {at_ms}) | .payload | fromjson'
        ' | if .eventType == "MoneyDeposited" then .payload.amount else -.payload.amount end)'
        " as $a (0; . + $a)"
    )
    started = time.monotonic()
    kcat = subprocess.Popen(
        [
            kcat_path() or "kcat",
            "-C",
            "-b",
            bootstrap,
            "-t",
            topic,
            "-J",
            "-e",
            "-o",
            "beginning",
            "-q",
        ],
        stdout=subprocess.PIPE,
    )
    result = subprocess.run(
        ["jq", "-n", program], stdin=kcat.stdout, capture_output=True, check=True
    )
    kcat.wait()
    return time.monotonic() - started, int(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--jq-runs", type=int, default=3)
    args = parser.parse_args()
    n, big = args.events, args.events // 10
    rng = random.Random(11)
    out: dict[str, Any] = {
        "events": n,
        "partitions": 12,
        "aggregates": 10_000,
        "big_aggregate": big,
    }
    with kafka() as bootstrap:
        topic = f"bench-replay-{uuid.uuid4().hex[:8]}"
        out["produce_s"] = round(produce_events(bootstrap, topic, n, 12, 10_000, big, STEP_MS), 2)
        kcat_s = time_kcat(bootstrap, topic)
        out["kcat_events_per_s"] = round(n / kcat_s)

        source = ClusterSource(ConnectionProfile(bootstrap))
        index = TopicIndex(topic, decoder=source.make_decoder())
        started = time.monotonic()
        for batch in source.read(topic):
            index.append(batch)
        build_s = time.monotonic() - started
        assert len(index) == n
        # The memory goal is about holding 1M indexed events: measured here, before the
        # cold reads and replays below add their own (transient) working sets.
        out["peak_rss_through_index_build_mb"] = _peak_rss_mb()
        out["rss_with_1m_indexed_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
        out["index_build_events_per_s"] = round(n / build_s)
        out["index_build_ratio_to_kcat"] = round((n / build_s) / (n / kcat_s), 3)

        end_ms = BASE_MS + n * STEP_MS
        types = sorted(index.type_names)
        lat = []
        for _ in range(args.samples):
            lo = rng.randrange(BASE_MS, end_ms)
            q = Query(
                aggregate=f"acc-{rng.randrange(10_000)}",
                types=frozenset([rng.choice(types)]),
                since_ms=lo,
                until_ms=lo + rng.randrange(1, end_ms - lo + 1),
            )
            t = time.perf_counter()
            run_query(index, q)
            lat.append(time.perf_counter() - t)
        out["filter_p50_ms"], out["filter_p95_ms"] = pct(lat, 50), pct(lat, 95)

        warm, cold, answers = [], [], []
        for i in range(args.samples):
            agg = f"acc-{rng.randrange(1, 10_000)}"
            at = rng.randrange(BASE_MS, end_ms)
            t = time.perf_counter()
            state = Replayer.from_index(index, agg, FOLD).state_at(timestamp_ms=at).state
            warm.append(time.perf_counter() - t)
            if i < 20:  # a cold read costs a partition read: fewer samples
                t = time.perf_counter()
                events = aggregate_events(source, topic, agg, at, None)
                cold_state = (
                    Replayer.from_events(events, FOLD, aggregate=agg)
                    .state_at(timestamp_ms=at)
                    .state
                )
                cold.append(time.perf_counter() - t)
                assert cold_state == state, (agg, at, cold_state, state)
                answers.append((agg, at, (state or {}).get("balance", 0)))
        out["warm_state_p50_ms"], out["warm_state_p95_ms"] = pct(warm, 50), pct(warm, 95)
        out["cold_state_p50_ms"], out["cold_state_p95_ms"] = pct(cold, 50), pct(cold, 95)

        replayer = Replayer.from_index(index, "acc-0", FOLD)
        t = time.perf_counter()
        replayer.run()
        out["big_aggregate_first_pass_ms"] = round((time.perf_counter() - t) * 1000, 1)
        steps = []
        for _ in range(args.samples):
            pos = rng.randrange(len(replayer) + 1)
            t = time.perf_counter()
            replayer.step(pos)
            steps.append(time.perf_counter() - t)
        out["step_p50_ms"], out["step_p95_ms"] = pct(steps, 50), pct(steps, 95)

        jq_times = []
        for agg, at, expected in answers[: args.jq_runs]:
            seconds, value = jq_state(bootstrap, topic, agg, at)
            assert value == expected, (agg, at, value, expected)
            jq_times.append(seconds)
        jq_s = statistics.median(jq_times)
        out["kcat_jq_state_median_ms"] = round(jq_s * 1000, 1)
        out["cold_speedup_vs_kcat_jq"] = round(jq_s / statistics.median(cold), 1)
        out["warm_speedup_vs_kcat_jq"] = round(jq_s / statistics.median(warm), 1)
        out["peak_rss_whole_run_mb"] = _peak_rss_mb()
        out["index_memory_mb"] = round(index.memory_bytes() / 2**20, 1)
        out["goals"] = {
            "index_build_ratio_to_kcat": ">= 0.5",
            "filter_p95_ms": "<= 50",
            "warm_state_p95_ms": "<= 20",
            "step_p95_ms": "<= 5",
            "cold_speedup_vs_kcat_jq": ">= 10",
            "peak_rss_through_index_build_mb": "<= 400",
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
