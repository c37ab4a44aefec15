"""Partitioner detection: the cost of hashing a sample with every candidate, and of taking
the key sample from a real topic.

    .venv/bin/python tests/perf/bench_partitioner.py [--events 1000000] [--partitions 12]
        [--runs 5] [--no-kafka]

(a) ``detect_partitioner`` over 2,000 keys x 3 candidates, for three shapes of key (short
text ids, UUIDs, random binary), median and p95 of 200 runs (wall clock, and the median
CPU time, steadier on a busy machine), beside the same placements computed one key at a
time in Python; (b) ``sample_keys`` plus
detection on a topic of ``--events`` records in ``--partitions`` partitions, median and
worst of ``--runs`` (each a fresh consumer, as the app would do it).  Prints one JSON
object.  Goals: (a) a few ms; (b) well under a second, whatever the topic's size.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid

from confluent_kafka.admin import AdminClient
from workload import kafka, produce_events

from kafka_io.key_sample import detect_topic_partitioner
from kafka_io.partition_detect import detect_partitioner
from kafka_io.partitioners import PARTITIONERS, partition_for
from kafka_io.profile import ConnectionProfile


def key_shapes(n: int) -> dict[str, list[bytes]]:
    rng = random.Random(1)
    return {
        "text_ids": [f"acc-{rng.randrange(10**7)}".encode() for _ in range(n)],
        "uuids": [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(n)],
        "binary_1_64": [rng.randbytes(rng.randrange(1, 65)) for _ in range(n)],
    }


def time_detection(runs: int = 200, keys: int = 2000, partitions: int = 12) -> dict[str, object]:
    out: dict[str, object] = {}
    for shape, ks in key_shapes(keys).items():
        samples = [(k, partition_for("crc32", k, partitions)) for k in ks]
        assert detect_partitioner(samples, partitions).partitioner == "crc32"
        times, cpu = [], []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            detect_partitioner(samples, partitions)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        times.sort()
        # The same placements one key at a time in Python: what the batch hashing saves.
        started = time.perf_counter()
        for chosen in PARTITIONERS.values():
            [chosen.partition(k, partitions) for k in ks]
        out[shape] = {
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(len(times) * 0.95)], 3),
            "cpu_median_ms": round(statistics.median(cpu), 3),
            "one_key_at_a_time_ms": round((time.perf_counter() - started) * 1000, 3),
        }
    return out


def time_sampling(bootstrap: str, events: int, partitions: int, runs: int) -> dict[str, object]:
    topic = f"bench-partitioner-{uuid.uuid4().hex[:8]}"
    produce_s = produce_events(bootstrap, topic, events, partitions)
    profile = ConnectionProfile(bootstrap)
    seconds, described, records = [], "", 0
    try:
        for _ in range(runs):
            started = time.monotonic()
            detection, sample = detect_topic_partitioner(profile, topic)
            seconds.append(time.monotonic() - started)
            described, records = detection.describe(), sample.records
            assert sample.complete and detection.partitioner == "murmur2", described
    finally:
        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])
    return {
        "events": events,
        "partitions": partitions,
        "produce_s": round(produce_s, 1),
        "records_sampled": records,
        "detection": described,
        "sample_and_detect_median_s": round(statistics.median(seconds), 3),
        "sample_and_detect_worst_s": round(max(seconds), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-kafka", action="store_true", help="only the detection figures")
    args = parser.parse_args()
    result: dict[str, object] = {"detect_2000_keys_3_candidates": time_detection()}
    if not args.no_kafka:
        with kafka() as bootstrap:
            result["sample_topic"] = time_sampling(
                bootstrap, args.events, args.partitions, args.runs
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
