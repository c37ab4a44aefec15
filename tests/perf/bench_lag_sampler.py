"""CPU cost of lag sampling: 200 groups x 12 partitions every 5 s.

    .venv/bin/python tests/perf/bench_lag_sampler.py [--groups 200] [--partitions 12]
        [--shared-topics 0] [--interval 5] [--duration 30]

Sets up the benchmark's own groups (one 12-partition topic per group by default, the
worst case for the watermark call; ``--shared-topics N`` spreads the groups over N
topics instead), each with committed offsets (assign + commit, which is fine here:
they are this run's groups), then runs ``LagSampler.run`` for ``--duration`` seconds
and measures the process CPU time it used: the sampler thread plus librdkafka's
threads, nothing else runs meanwhile.  Also times the GUI-side work per sample
(``LagHistory.add`` + every group's status).  Prints one JSON object.
Goal: ``cpu_percent_of_one_core`` < 5.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from workload import kafka

from app.lag.history import LagHistory
from kafka_io.lag import LagSample, LagSampler
from kafka_io.profile import ConnectionProfile


def setup(bootstrap: str, groups: int, partitions: int, shared: int) -> tuple[list[str], list[str]]:
    tag = uuid.uuid4().hex[:6]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [f"bench-lag-{tag}-{i}" for i in range(shared or groups)]
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics]
    )
    for future in futures.values():
        future.result(timeout=120)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for topic in topics:
        for p in range(partitions):
            for _ in range(20):
                producer.produce(topic, b"e", partition=p)
            producer.poll(0)
    assert producer.flush(120) == 0
    names = [f"bench-lag-{tag}-g{i}" for i in range(groups)]
    for i, group in enumerate(names):
        topic = topics[i % len(topics)]
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        offsets = [TopicPartition(topic, p, (i + p) % 20) for p in range(partitions)]
        consumer.assign(offsets)
        consumer.commit(offsets=offsets, asynchronous=False)
        consumer.close()
    return topics, names


def teardown(bootstrap: str, topics: list[str], groups: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_consumer_groups(groups, request_timeout=60).values():
        future.result(timeout=60)
    for future in admin.delete_topics(topics, request_timeout=60).values():
        future.result(timeout=60)


def measure(
    bootstrap: str, groups: list[str], interval: float, duration: float
) -> dict[str, object]:
    samples: list[LagSample] = []
    stop = threading.Event()
    # The sampler lists every group of the cluster, as the GUI does by default; the
    # check below makes sure ours were all in it.
    sampler = LagSampler(ConnectionProfile(bootstrap))
    loop = threading.Thread(target=sampler.run, args=(samples.append, stop, interval))
    cpu0, wall0 = time.process_time(), time.monotonic()
    loop.start()
    time.sleep(duration)
    stop.set()
    loop.join()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    errors = [s.error for s in samples if s.error]
    assert not errors, errors
    seen = {g.group for g in samples[-1].groups}
    assert set(groups) <= seen, f"{len(set(groups) - seen)} groups missing"
    partitions = sum(len(g.partitions) for g in samples[-1].groups if g.group in set(groups))

    history = LagHistory()
    gui0 = time.perf_counter()
    for sample in samples:
        history.add(sample)
        statuses = history.statuses()
    gui = (time.perf_counter() - gui0) / len(samples)
    assert len(statuses) >= len(groups)
    return {
        "samples": len(samples),
        "group_partitions": partitions,
        "watermark_partitions": len(samples[-1].watermarks),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 3),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "cpu_ms_per_sample": round(1000 * cpu / len(samples), 1),
        "round_trip_ms_median": round(
            1000 * sorted(s.elapsed_s for s in samples)[len(samples) // 2], 1
        ),
        "gui_ms_per_sample_add_and_status": round(1000 * gui, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--shared-topics", type=int, default=0, help="0: one topic per group")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    with kafka() as bootstrap:
        started = time.monotonic()
        topics, groups = setup(bootstrap, args.groups, args.partitions, args.shared_topics)
        setup_s = time.monotonic() - started
        try:
            result = measure(bootstrap, groups, args.interval, args.duration)
        finally:
            teardown(bootstrap, topics, groups)
    result.update(
        {
            "benchmark": "lag_sampler",
            "groups": args.groups,
            "partitions_per_group": args.partitions,
            "topics": len(topics),
            "interval_s": args.interval,
            "setup_s": round(setup_s, 1),
            "goal": "cpu_percent_of_one_core < 5",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
