"""The lag sampler against the real broker: a group that lags, stops and catches up."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from app.lag.history import LagHistory
from app.lag.status import Status
from kafka_io.lag import LagSample, LagSampler
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka

RATE = 200  # events/s produced
INTERVAL = 0.5  # s between samples
WINDOW = 2.5  # s the status rules look back over


class SteadyProducer(threading.Thread):
    """Writes RATE events/s round-robin over the partitions until stopped."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.halt = threading.Event()
        self.sent = 0
        self.ends = [0] * partitions  # per partition: last delivered offset + 1
        self.errors: list[str] = []
        self.started_ms = self.stopped_ms = 0

    def _delivered(self, err: object, msg: object) -> None:
        if err is not None:
            self.errors.append(str(err))
        else:
            p, o = msg.partition(), msg.offset()  # type: ignore[attr-defined]
            self.ends[p] = max(self.ends[p], o + 1)

    def run(self) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5})
        tick, per_tick = 0.01, RATE // 100
        self.started_ms = now_ms()
        next_tick = time.monotonic()
        while not self.halt.is_set():
            for _ in range(per_tick):
                partition = self.sent % self.partitions
                producer.produce(self.topic, b"e", partition=partition, on_delivery=self._delivered)
                self.sent += 1
            producer.poll(0)
            next_tick += tick
            time.sleep(max(0.0, next_tick - time.monotonic()))
        self.stopped_ms = now_ms()
        assert producer.flush(30) == 0

    def stop(self) -> None:
        self.halt.set()
        self.join(30)


@pytest.fixture
def cleanup_groups(kafka_bootstrap: str) -> Iterator[list[str]]:
    """Groups a test creates, deleted afterwards so the shared broker stays tidy."""
    made: list[str] = []
    yield made
    if made:
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        for future in admin.delete_consumer_groups(made, request_timeout=10).values():
            future.exception(timeout=15)  # a group that never came to be is fine


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def consume(
    bootstrap: str, group: str, topic: str, seconds: float, batch: int, pause: float
) -> tuple[Consumer, dict[int, int], int]:
    """A real member of ``group``: subscribes, consumes, commits after every batch.

    Consumes for ``seconds`` from its first commit, whose time (ms) it returns as well:
    joining the group can take seconds on a loaded machine.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    committed: dict[int, int] = {}
    first_ms, deadline = 0, time.monotonic() + 60  # the join must not take a minute
    while time.monotonic() < deadline:
        msgs = [m for m in consumer.consume(num_messages=batch, timeout=0.1) if not m.error()]
        if msgs:
            for tp in consumer.commit(asynchronous=False) or ():
                committed[tp.partition] = tp.offset
            if not first_ms:
                first_ms, deadline = now_ms(), time.monotonic() + seconds
        if pause:
            time.sleep(pause)
    assert first_ms, "the member never got to consume"
    return consumer, committed, first_ms


def test_lag_rises_stops_and_catches_up(
    kafka_bootstrap: str, make_topic: Callable[..., str], cleanup_groups: list[str]
) -> None:
    topic = make_topic(partitions=3)
    group = f"lag-accept-{uuid.uuid4().hex[:8]}"
    cleanup_groups.append(group)
    samples: list[LagSample] = []
    sampler = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[group], topics=[topic])
    stop_sampling = threading.Event()
    sampling = threading.Thread(
        target=sampler.run, args=(samples.append, stop_sampling, INTERVAL), daemon=True
    )
    producer = SteadyProducer(kafka_bootstrap, topic, 3)
    producer.start()
    sampling.start()
    try:
        # 1. A consumer at about half the production rate: lag grows.
        slow, last_commit, slow_from = consume(kafka_bootstrap, group, topic, 6, 10, 0.1)
        slow.close()
        # 2. Nobody consumes: offsets stand still, no members.
        stopped_from = now_ms()
        time.sleep(4)
        # 3. A new member of the same group, three times faster than production,
        #    works the backlog off; then production stops and it drains the rest.
        resumed_from = now_ms()
        fast, _, fast_from = consume(kafka_bootstrap, group, topic, 3, 30, 0.05)
        producer.stop()
        produced_ms = (producer.started_ms, producer.stopped_ms)
        ends = producer.ends

        def drained() -> bool:
            got = fast.committed([TopicPartition(topic, p) for p in range(3)], timeout=5)
            return [tp.offset for tp in got] == ends

        while not drained():
            if [m for m in fast.consume(num_messages=500, timeout=0.2) if not m.error()]:
                fast.commit(asynchronous=False)
        time.sleep(WINDOW + 2 * INTERVAL)  # let the window see it caught up
        fast.close()
    finally:
        stop_sampling.set()
        sampling.join(30)
        producer.halt.set()
    assert not producer.errors

    assert samples and all(s.error is None for s in samples), [s.error for s in samples]
    times = np.array([s.time_ms for s in samples])
    history = LagHistory(capacity=1000, window_s=WINDOW)
    verdicts = []
    for s in samples:
        history.add(s)
        verdicts.append(history.status(group))
    lag = history.group_lag(group).values

    def phase(start_ms: int, end_ms: int) -> np.ndarray:
        return np.flatnonzero((times >= start_ms) & (times < end_ms))

    slow_phase = phase(slow_from + 1000, stopped_from)
    stopped_phase = phase(stopped_from, resumed_from)
    # Lag rose while the slow consumer ran, and again while nobody consumed.
    assert lag[slow_phase[-1]] > lag[slow_phase[0]] + 150
    assert Status.WARNING in {verdicts[i].status for i in slow_phase}
    assert lag[stopped_phase[-1]] > lag[stopped_phase[0]] + 300
    stuck = [verdicts[i] for i in stopped_phase if verdicts[i].status is not Status.WARNING]
    assert stuck and {v.status for v in stuck} <= {Status.STALLED, Status.STOPPED}
    assert stuck[-1].status is Status.STOPPED and "no members" in stuck[-1].rule
    # The sampler saw exactly what the consumer had committed before it left.
    last_stopped = samples[stopped_phase[-1]].groups[0]
    assert {p.partition: p.committed for p in last_stopped.partitions} == last_commit
    assert last_stopped.members == 0
    # Lag in seconds: the oldest waiting event is older than the pause, but not
    # older than the whole run.
    age = verdicts[stopped_phase[-1]].lag_seconds
    assert age is not None
    paused_s = (times[stopped_phase[-1]] - stopped_from) / 1000
    assert paused_s - INTERVAL <= age <= (times[stopped_phase[-1]] - produced_ms[0]) / 1000 + 1

    # Then it fell to zero and the group is OK.
    final = samples[-1].groups[0]
    assert [p.end for p in final.partitions] == ends
    assert [p.lag for p in final.partitions] == [0, 0, 0]
    catching_up = phase(fast_from + 1000, produced_ms[1])
    assert lag[catching_up[0]] < lag[stopped_phase[-1]]
    assert lag[catching_up[-1]] < lag[catching_up[0]]
    assert lag[-1] == 0
    etas = [verdicts[i].catch_up_seconds for i in catching_up]
    assert any(eta is not None and 0 < eta < 60 for eta in etas), etas
    assert verdicts[-1].status is Status.OK and verdicts[-1].lag_seconds == 0.0

    # The live rate from watermark deltas matches what was produced.
    (rates,) = history.topic_rates([topic])
    steady = phase(produced_ms[0] + 1000, produced_ms[1] - 500)
    measured = float(np.nanmean(rates.values[steady]))
    actual = producer.sent * 1000 / (produced_ms[1] - produced_ms[0])
    assert abs(measured - actual) <= 0.2 * actual, (measured, actual)


def _committed_group(bootstrap: str, topic: str, offsets: dict[int, int]) -> str:
    """A group with commits and no members (assign + commit, never subscribe)."""
    group = f"lag-idle-{uuid.uuid4().hex[:8]}"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    tps = [TopicPartition(topic, p, o) for p, o in offsets.items()]
    consumer.assign(tps)
    consumer.commit(offsets=tps, asynchronous=False)
    consumer.close()
    return group


def _fill(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for p in range(partitions):
        for _ in range(per_partition):
            producer.produce(topic, b"e", partition=p)
    assert producer.flush(30) == 0


def test_sampling_never_joins_or_commits(
    kafka_bootstrap: str, make_topic: Callable[..., str], cleanup_groups: list[str]
) -> None:
    topic = make_topic(partitions=2)
    _fill(kafka_bootstrap, topic, 2, 10)
    group = _committed_group(kafka_bootstrap, topic, {0: 3, 1: 7})
    cleanup_groups.append(group)
    sampler = LagSampler(ConnectionProfile(kafka_bootstrap))  # every group
    for _ in range(3):
        sample = sampler.sample()
    assert sample.error is None
    (seen,) = [g for g in sample.groups if g.group == group]
    assert (seen.state, seen.members) == ("EMPTY", 0)
    rows = [(p.topic, p.partition, p.committed, p.end, p.lag) for p in seen.partitions]
    assert rows == [(topic, 0, 3, 10, 7), (topic, 1, 7, 10, 3)]
    assert seen.total_lag == 10

    # Asked directly, the group is as it was: still no member, offsets untouched.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    desc = admin.describe_consumer_groups([group])[group].result()
    assert len(desc.members) == 0 and desc.state.name == "EMPTY"
    request = [ConsumerGroupTopicPartitions(group)]
    result = admin.list_consumer_group_offsets(request)[group].result()
    assert sorted((tp.partition, tp.offset) for tp in result.topic_partitions) == [(0, 3), (1, 7)]


def test_watched_topics_and_missing_ones(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=2)
    _fill(kafka_bootstrap, topic, 2, 4)
    missing = f"no-such-{uuid.uuid4().hex[:6]}"
    sampler = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[], topics=[topic, missing])
    sample = sampler.sample()
    assert sample.error is None and sample.groups == ()
    assert dict(sample.watermarks) == {(topic, 0): 4, (topic, 1): 4}
    assert any(missing in w for w in sample.warnings)


def test_unknown_group_is_reported_empty(kafka_bootstrap: str) -> None:
    name = f"never-existed-{uuid.uuid4().hex[:6]}"
    sample = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[name]).sample()
    assert sample.error is None
    (group,) = sample.groups
    assert group.group == name and group.partitions == () and group.members == 0
    assert group.state in {"DEAD", "UNKNOWN"}


def test_unreachable_cluster_is_reported_and_retried() -> None:
    sampler = LagSampler(ConnectionProfile("127.0.0.1:1"), timeout_s=3)
    samples: list[LagSample] = []
    stop = threading.Event()
    loop = threading.Thread(target=sampler.run, args=(samples.append, stop, 0.2), daemon=True)
    loop.start()
    deadline = time.monotonic() + 20
    while len(samples) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert loop.is_alive()  # errors never end the loop
    stop.set()
    loop.join(10)
    assert not loop.is_alive()
    assert len(samples) >= 3
    for s in samples:
        assert s.error is not None and "127.0.0.1:1" in s.error
        assert s.groups == () and not s.watermarks
