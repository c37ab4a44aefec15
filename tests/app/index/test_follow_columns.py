"""Following a topic in a worker process, against the real broker: new records arrive as
column batches that the index appends to exactly the records produced (with the topic's
rules applied in the worker), a deleted topic and a killed worker end the follow with a
clear message, stopping leaves the worker ready for the next job, and a broker restart
loses and duplicates nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import broker as broker_harness
import orjson
import psutil
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from app.index.follow_columns import FollowColumns, FollowEnded, FollowWorkerDied
from app.index.topic_index import TopicIndex
from app.sources import ClusterSource, SourceSettings, TopicSettings
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.profile import ConnectionProfile
from kafka_io.worker_pool import WorkerPool

pytestmark = pytest.mark.kafka


class Follower:
    """Follows in a thread, appending every batch to an index (as the window does)."""

    def __init__(self, follow: FollowColumns) -> None:
        self.follow = follow
        self.index = TopicIndex(follow.topic, Decoder())
        self.positions: dict[int, int] = {}
        self.statuses: list[str] = []
        follow.on_status = self.statuses.append
        self.ended: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for delivery in self.follow:
                for part in delivery.batch.parts(7):  # slices keep the names right
                    self.index.append_columns(part)
                self.positions.update(delivery.positions)
        except BaseException as exc:  # the test looks at how it ended
            self.ended = exc
        finally:
            self.done.set()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out ({len(self.index)} events)"
            assert self.ended is None, self.ended
            time.sleep(0.05)

    def stop(self) -> None:
        self.follow.cancel.cancel()
        assert self.done.wait(30)


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    made = WorkerPool()
    yield made
    made.shutdown()


def numbered(n: int, start: int = 0) -> list[Rec]:
    return [
        Rec(orjson.dumps({"kind": "Counted", "acc": f"acc-{i % 3}", "n": i}), f"k{i % 5}".encode())
        for i in range(start, start + n)
    ]


def test_new_records_arrive_as_columns_with_the_topics_rules(
    kafka_bootstrap: str, make_topic: Callable[..., str], pool: WorkerPool
) -> None:
    topic = make_topic(partitions=3)
    produce(kafka_bootstrap, topic, numbered(10))  # before following: not followed
    rules = TopicSettings(type_rule="field:kind", aggregate_rule="field:acc")
    source = ClusterSource(
        ConnectionProfile(kafka_bootstrap), SourceSettings().with_topic(topic, rules)
    )
    follower = Follower(FollowColumns(source, topic, CancelToken(), pool=pool))
    follower.wait_for(lambda: follower.follow.pid is not None)
    # Produced while the worker process is still starting: new all the same (following
    # starts from the ends as they were when it was asked to, not when the worker is up).
    delivered = produce(kafka_bootstrap, topic, numbered(500, start=10))
    worker = follower.follow.pid
    assert worker is not None and worker != os.getpid()  # followed in a worker process
    follower.wait_for(lambda: psutil.Process(worker).nice() > os.nice(0))  # the window first
    follower.wait_for(lambda: len(follower.index) >= 500)
    time.sleep(0.5)
    follower.stop()
    index = follower.index
    assert len(index) == 500  # nothing produced before following, nothing twice
    events = [index.event(r) for r in range(len(index))]
    assert sorted(orjson.loads(e.value or b"")["n"] for e in events) == list(range(10, 510))
    assert {e.type for e in events} == {"Counted"}  # the topic's type rule, in the worker
    assert {e.aggregate for e in events} == {"acc-0", "acc-1", "acc-2"}
    assert all(e.key == f"k{orjson.loads(e.value or b'')['n'] % 5}" for e in events)
    assert sorted((e.partition, e.offset) for e in events) == sorted(delivered)
    last = {p: max(o for q, o in delivered if q == p) + 1 for p, _ in delivered}
    assert {p: follower.positions[p] for p in last} == last
    # Stopped, the worker (at a lower priority now) is not left for a read to take.
    assert not psutil.pid_exists(worker)
    assert pool.take(1)[0].pid != worker


def test_a_killed_worker_ends_the_follow_with_a_message(
    kafka_bootstrap: str, make_topic: Callable[..., str], pool: WorkerPool
) -> None:
    topic = make_topic()
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    follower = Follower(FollowColumns(source, topic, CancelToken(), start={0: 0}, pool=pool))
    produce(kafka_bootstrap, topic, numbered(20))
    follower.wait_for(lambda: len(follower.index) == 20)
    pid = follower.follow.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert follower.done.wait(30)
    assert isinstance(follower.ended, FollowWorkerDied)
    assert str(follower.ended) == (
        f"the worker process following {topic} died (killed by signal 9): "
        "following stopped; Follow live starts it again"
    )
    assert len(follower.index) == 20  # what arrived is kept
    # Following again takes another worker and goes on from where the first stopped.
    again = Follower(
        FollowColumns(source, topic, CancelToken(), start=follower.positions, pool=pool)
    )
    again.wait_for(lambda: again.follow.pid is not None)
    assert again.follow.pid != pid
    produce(kafka_bootstrap, topic, numbered(5, start=20))
    again.wait_for(lambda: len(again.index) == 5)
    again.stop()


def test_a_deleted_topic_ends_the_follow(kafka_bootstrap: str, pool: WorkerPool) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topic = f"doomed-{time.monotonic_ns()}"
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    follower = Follower(FollowColumns(source, topic, CancelToken(), start={0: 0}, pool=pool))
    produce(kafka_bootstrap, topic, numbered(1))
    follower.wait_for(lambda: len(follower.index) == 1)  # following, for sure
    admin.delete_topics([topic])[topic].result(30)
    assert follower.done.wait(60)
    assert isinstance(follower.ended, FollowEnded)
    assert not isinstance(follower.ended, FollowWorkerDied)
    assert str(follower.ended) == f"the topic {topic} was deleted: following ended"


@pytest.mark.slow
def test_a_broker_restart_loses_and_duplicates_nothing(pool: WorkerPool) -> None:
    handle = broker_harness.start()
    try:
        admin = AdminClient({"bootstrap.servers": handle.bootstrap})
        admin.create_topics([NewTopic("live", 2, 1)])["live"].result(30)
        source = ClusterSource(ConnectionProfile(handle.bootstrap))
        follow = FollowColumns(source, "live", CancelToken(), start={0: 0, 1: 0}, pool=pool)
        follower = Follower(follow)
        produce(handle.bootstrap, "live", numbered(300))
        follower.wait_for(lambda: len(follower.index) >= 300)
        handle = broker_harness.restart(handle, down_s=3)
        producer = Producer({"bootstrap.servers": handle.bootstrap})
        for r in numbered(300, start=300):
            producer.produce("live", key=r.key, value=r.value)
        assert producer.flush(60) == 0
        follower.wait_for(lambda: len(follower.index) >= 600, timeout=120)
        time.sleep(1)
        follower.stop()
        index = follower.index
        values = [orjson.loads(index.event(r).value or b"")["n"] for r in range(len(index))]
        assert sorted(values) == list(range(600))  # each once
        assert any(s.startswith("reconnecting") for s in follower.statuses)
    finally:
        broker_harness.stop(handle)
