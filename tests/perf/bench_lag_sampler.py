"""CPU cost of lag sampling: 200 groups x 12 partitions every 5 s.

    .venv/bin/python tests/perf/bench_lag_sampler.py [--groups 200] [--partitions 12]
        [--shared-topics 0] [--interval 5] [--duration 30] [--moving 10]

Sets up the benchmark's own groups (one 12-partition topic per group by default, the
worst case for the watermark call; ``--shared-topics N`` spreads the groups over N
topics instead), each with committed offsets behind the end of every partition
(assign + commit, which is fine here: they are this run's groups), so every group
partition has lag and the sampler reads the timestamp of the record at each committed
offset.  While ``LagSampler.run`` samples for ``--duration`` seconds, a separate
process moves ``--moving`` groups forward by one record every interval, as consumers
now and then do, so each round has new offsets to look up.  Measures the CPU time the
sampling process used: the sampler thread plus librdkafka's threads (the mover's CPU
is its own process's), overall and in steady state (after the first round, which
looks up every offset).  Also times the GUI-side work per sample (``LagHistory.add``
+ every group's status).  Prints one JSON object.
Goal: ``cpu_percent_of_one_core`` < 5, in steady state.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time
import uuid

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
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
            for _ in range(RECORDS):
                while True:
                    try:
                        producer.produce(topic, b"e", partition=p)
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.poll(0)
    assert producer.flush(120) == 0
    names = [f"bench-lag-{tag}-g{i}" for i in range(groups)]
    for i, group in enumerate(names):
        topic = topics[i % len(topics)]
        consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
        )
        # Every partition lags, by 100 to 150 records; the movers have room to move.
        offsets = [TopicPartition(topic, p, (i + p) % 50) for p in range(partitions)]
        consumer.assign(offsets)
        consumer.commit(offsets=offsets, asynchronous=False)
        consumer.close()
    return topics, names


RECORDS = 200  # per partition


def move_groups(
    bootstrap: str, groups: list[str], moving: int, interval: float, stop: threading.Event
) -> None:
    """Every ``interval``, ``moving`` groups (in turn) commit one record further on."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    turn = 0
    while not stop.wait(interval):
        for _ in range(moving):
            group = groups[turn % len(groups)]
            turn += 1
            request = [ConsumerGroupTopicPartitions(group)]
            current = admin.list_consumer_group_offsets(request)[group].result(timeout=30)
            moved = [
                TopicPartition(tp.topic, tp.partition, tp.offset + 1)
                for tp in current.topic_partitions
            ]
            request = [ConsumerGroupTopicPartitions(group, moved)]
            admin.alter_consumer_group_offsets(request)[group].result(timeout=30)


def teardown(bootstrap: str, topics: list[str], groups: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_consumer_groups(groups, request_timeout=60).values():
        future.result(timeout=60)
    for future in admin.delete_topics(topics, request_timeout=60).values():
        future.result(timeout=60)


def measure(
    bootstrap: str, groups: list[str], interval: float, duration: float, moving: int
) -> dict[str, object]:
    samples: list[LagSample] = []
    clocks: list[tuple[float, float]] = []  # (cpu, wall) as each sample arrived

    def on_sample(sample: LagSample) -> None:
        clocks.append((time.process_time(), time.monotonic()))
        samples.append(sample)

    stop = threading.Event()
    # The mover runs in its own process: its CPU must not count as the sampler's.
    ctx = multiprocessing.get_context("spawn")
    stop_moving = ctx.Event()
    mover = ctx.Process(target=move_groups, args=(bootstrap, groups, moving, interval, stop_moving))
    mover.start()
    # The sampler lists every group of the cluster, as the GUI does by default; the
    # check below makes sure ours were all in it.
    sampler = LagSampler(ConnectionProfile(bootstrap))
    loop = threading.Thread(target=sampler.run, args=(on_sample, stop, interval))
    cpu0, wall0 = time.process_time(), time.monotonic()
    loop.start()
    time.sleep(duration)
    stop.set()
    loop.join()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop_moving.set()
    mover.join(60)
    assert mover.exitcode == 0, f"the mover failed (exit {mover.exitcode})"
    # Steady state: from the end of the first round (which looks up every offset) on.
    steady_cpu = clocks[-1][0] - clocks[0][0]
    steady_wall = clocks[-1][1] - clocks[0][1]
    errors = [s.error for s in samples if s.error]
    assert not errors, errors
    seen = {g.group for g in samples[-1].groups}
    assert set(groups) <= seen, f"{len(set(groups) - seen)} groups missing"
    partitions = sum(len(g.partitions) for g in samples[-1].groups if g.group in set(groups))
    ours = [p for g in samples[-1].groups if g.group in set(groups) for p in g.partitions]
    assert all(p.lag and p.oldest_ms for p in ours), "every partition lags and has its age"
    later = sorted(s.record_lookups for s in samples[1:]) or [0]

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
        "steady_cpu_percent_of_one_core": round(100 * steady_cpu / steady_wall, 2),
        "steady_cpu_ms_per_sample": round(1000 * steady_cpu / max(len(samples) - 1, 1), 1),
        "record_lookups_first_sample": samples[0].record_lookups,
        "record_lookups_per_later_sample_median": later[len(later) // 2],
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
    parser.add_argument(
        "--moving", type=int, default=10, help="groups that commit further on every interval"
    )
    args = parser.parse_args()
    with kafka() as bootstrap:
        started = time.monotonic()
        topics, groups = setup(bootstrap, args.groups, args.partitions, args.shared_topics)
        setup_s = time.monotonic() - started
        try:
            result = measure(bootstrap, groups, args.interval, args.duration, args.moving)
        finally:
            teardown(bootstrap, topics, groups)
    result.update(
        {
            "benchmark": "lag_sampler",
            "groups": args.groups,
            "partitions_per_group": args.partitions,
            "topics": len(topics),
            "interval_s": args.interval,
            "moving_groups_per_interval": args.moving,
            "setup_s": round(setup_s, 1),
            "goal": "steady_cpu_percent_of_one_core < 5",
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
