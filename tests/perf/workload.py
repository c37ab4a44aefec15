"""Shared by the benchmarks: a broker to measure against and a realistic event workload."""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import broker as broker_harness

BASE_MS = 1_700_000_000_000


def kafka() -> contextlib.AbstractContextManager[str]:
    """The broker named by EVENT_EXPLORER_BOOTSTRAP, or a fresh one for this run."""
    return broker_harness.running()


def aggregate_plan(n: int, aggregates: int, big: int, seed: int = 7) -> list[int]:
    """Aggregate number per event: aggregate 0 gets ``big`` events, the rest share the others."""
    rng = random.Random(seed)
    plan = [0] * big + [rng.randrange(1, aggregates) for _ in range(n - big)]
    rng.shuffle(plan)
    return plan


def value(i: int, agg: int, ts_ms: int) -> tuple[str, bytes]:
    kind = "MoneyWithdrawn" if i % 4 == 3 else "MoneyDeposited"
    amount = (i % 97) + 1
    body = (
        f'{{"eventId":"e{i}","eventType":"{kind}","aggregateId":"acc-{agg}",'
        f'"timestamp":{ts_ms},"payload":{{"amount":{amount}}}}}'
    )
    return kind, body.encode()


def produce_events(*args: object, **kwargs: object) -> float:
    """``fill_topic`` in a child process, so the producer's buffers never count in the
    benchmark's own peak memory; returns the seconds it took."""
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    proc = ctx.Process(target=fill_topic, args=args, kwargs=kwargs)
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"producing the workload failed (exit {proc.exitcode})")
    return time.monotonic() - started


def fill_topic(
    bootstrap: str,
    topic: str,
    n: int,
    partitions: int = 12,
    aggregates: int = 10_000,
    big: int = 0,
    step_ms: int = 10,
) -> float:
    """Create ``topic`` and fill it with ``n`` JSON envelopes keyed by aggregate; seconds taken."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
        }
    )
    plan = aggregate_plan(n, aggregates, big) if big else [i % aggregates for i in range(n)]
    started = time.monotonic()
    for i, agg in enumerate(plan):
        ts = BASE_MS + i * step_ms
        _, body = value(i, agg, ts)
        while True:
            try:
                producer.produce(topic, body, f"acc-{agg}".encode(), timestamp=ts)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 50_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0
    return time.monotonic() - started


def kcat_path() -> str | None:
    return shutil.which("kcat") or shutil.which("kafkacat")


def time_kcat(bootstrap: str, topic: str, extra: list[str] | None = None) -> float:
    """Seconds for kcat to consume the whole topic to /dev/null (the peer)."""
    exe = kcat_path()
    if exe is None:
        raise SystemExit("kcat is not installed (tests/run installs Debian's kcat)")
    started = time.monotonic()
    subprocess.run(
        [exe, "-C", "-b", bootstrap, "-t", topic, "-e", "-o", "beginning", "-q", *(extra or [])],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.monotonic() - started
