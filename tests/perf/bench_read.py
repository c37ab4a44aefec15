"""Read throughput: kcat (the C peer) vs a bare confluent-kafka loop vs kafka_io into Events.

    .venv/bin/python tests/perf/bench_read.py [--events 1000000]

Prints one JSON object: events/s for (a) kcat -C -e -o beginning to /dev/null, (b) a bare
Python consume loop, (c) kafka_io's full read into decoded Events (type and aggregate
derived), and the ratios c/a and c/b.  Goal: c/a >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from workload import kafka, produce_events, time_kcat

from kafka_io.decode import Decoder
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import read_topic


def bare_loop(bootstrap: str, topic: str, n: int, partitions: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.queue.backoff.ms": 10,
            "queued.min.messages": 100_000,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    started = time.monotonic()
    seen = 0
    while seen < n:
        seen += len(consumer.consume(num_messages=10_000, timeout=1.0))
    elapsed = time.monotonic() - started
    consumer.close()
    return elapsed


def kafka_io_read(bootstrap: str, topic: str) -> tuple[float, int]:
    profile = ConnectionProfile(bootstrap)
    cluster = Cluster(profile)
    started = time.monotonic()
    count = 0
    for batch in read_topic(profile, topic, Decoder(), cluster=cluster):
        count += len(batch)
    return time.monotonic() - started, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=12)
    args = parser.parse_args()
    n = args.events
    with kafka() as bootstrap:
        topic = f"bench-read-{uuid.uuid4().hex[:8]}"
        produce_s = produce_events(bootstrap, topic, n, args.partitions)
        kcat_s = time_kcat(bootstrap, topic)
        bare_s = bare_loop(bootstrap, topic, n, args.partitions)
        ours_s, count = kafka_io_read(bootstrap, topic)
        assert count == n, f"kafka_io read {count} of {n}"
        a, b, c = n / kcat_s, n / bare_s, n / ours_s
        print(
            json.dumps(
                {
                    "events": n,
                    "partitions": args.partitions,
                    "produce_s": round(produce_s, 2),
                    "kcat_events_per_s": round(a),
                    "bare_confluent_kafka_events_per_s": round(b),
                    "kafka_io_events_per_s": round(c),
                    "ratio_c_over_a": round(c / a, 3),
                    "ratio_c_over_b": round(c / b, 3),
                    "goal_c_over_a": 0.5,
                }
            )
        )


if __name__ == "__main__":
    main()
