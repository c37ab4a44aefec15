"""Following a topic against the real broker: new records arrive in order, old ones are
not repeated, added partitions are picked up, a deleted topic ends the follow, a broker
restart loses and duplicates nothing, and no group's offsets move."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sized

import broker as broker_harness
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from kafka_helpers import Rec, produce

from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.event_columns import EventColumns
from kafka_io.follow import FollowEnded, TopicFollower
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


class Collector:
    """Follows a topic in a thread; what arrived, and how following ended."""

    def __init__(self, follower: TopicFollower) -> None:
        self.follower = follower
        self.cancel = CancelToken()
        self.events: list[Event] = []
        self.statuses: list[str] = []
        self.ended: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.follower.follow(self.cancel, self.statuses.append):
                self.events.extend(batch)
        except BaseException as exc:  # the test looks at how it ended
            self.ended = exc

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out ({len(self.events)} events)"
            assert self.ended is None, self.ended
            time.sleep(0.05)

    def stop(self) -> None:
        self.cancel.cancel()
        self.thread.join(30)


def numbered(n: int, start: int = 0, key: bytes = b"k") -> list[Rec]:
    return [Rec(f'{{"eventType":"E","n":{i}}}'.encode(), key) for i in range(start, start + n)]


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    made: list[Collector] = []
    yield made
    for c in made:
        c.stop()


def test_new_records_arrive_old_ones_do_not(
    kafka_bootstrap: str, make_topic: Callable[..., str], collectors: list[Collector]
) -> None:
    topic = make_topic(partitions=3)
    produce(kafka_bootstrap, topic, numbered(50))  # before following: not wanted
    follower = TopicFollower(ConnectionProfile(kafka_bootstrap), topic, Decoder())
    collectors.append(c := Collector(follower))
    c.wait_for(lambda: len(follower.state.positions) == 3)
    produce(kafka_bootstrap, topic, numbered(200, start=50))
    c.wait_for(lambda: len(c.events) >= 200)
    time.sleep(0.5)  # nothing more may come
    assert sorted(e.data["n"] for e in c.events) == list(range(50, 250))
    per_partition: dict[int, list[int]] = {}
    for e in c.events:
        per_partition.setdefault(e.partition, []).append(e.offset)
    assert all(offs == sorted(offs) for offs in per_partition.values())


def test_followed_batches_decoded_in_bulk_are_the_events_decoded_whole(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    """What a follow worker hands on (``follow_columns``) is exactly what decoding each
    record gives, envelopes and damaged records alike."""
    topic = make_topic(partitions=2)
    records = [*numbered(300), Rec(None, b"k"), Rec(b"not json", b"k"), Rec(b"{}", None),
               Rec(b'{"eventType":"Big","x":1e999}', b"k2"), *numbered(20, 300, b"k3")]  # fmt: skip
    produce(kafka_bootstrap, topic, records)
    profile, start = ConnectionProfile(kafka_bootstrap), {0: 0, 1: 0}

    def until_all(batches: Iterator[Sized], cancel: CancelToken) -> list[Sized]:
        got: list[Sized] = []
        for batch in batches:
            got.append(batch)
            if sum(map(len, got)) >= len(records):
                cancel.cancel()
        return got

    cancel = CancelToken()
    follower = TopicFollower(profile, topic, Decoder(), start=start)
    whole = [e for b in until_all(follower.follow(cancel), cancel) for e in b]  # type: ignore[attr-defined]
    cancel = CancelToken()
    follower = TopicFollower(profile, topic, Decoder(), start=start)
    bulk = [
        b for b in until_all(follower.follow_columns(cancel), cancel) if isinstance(b, EventColumns)
    ]
    assert len(whole) == sum(map(len, bulk)) == len(records)
    names = ("partitions", "offsets", "keys", "types", "aggregates", "errors", "values")

    def rows(columns: list[EventColumns]) -> list[tuple[object, ...]]:
        # The two follows may interleave the partitions differently: compare by record.
        return sorted(
            (row for c in columns for row in zip(*(getattr(c, n) for n in names), strict=True)),
            key=lambda row: (row[0], row[1]),
        )

    expected = rows([EventColumns.of_events(whole)])
    assert rows(bulk) == expected
    assert sum(row[5] is not None for row in expected) == 2  # not JSON, infinity


def test_one_key_only_and_added_partitions(
    kafka_bootstrap: str, make_topic: Callable[..., str], collectors: list[Collector]
) -> None:
    topic = make_topic(partitions=2)
    follower = TopicFollower(ConnectionProfile(kafka_bootstrap), topic, Decoder(), key=b"acc-1")
    collectors.append(c := Collector(follower))
    c.wait_for(lambda: len(follower.state.positions) == 2)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_partitions([NewPartitions(topic, 4)])[topic].result(30)
    time.sleep(1)
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"E"}', b"acc-1", partition=3)])
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"Other"}', b"acc-2", partition=0)])
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"E"}', b"acc-1", partition=1)])
    c.wait_for(lambda: len(c.events) >= 2, timeout=60)
    assert {(e.partition, e.key) for e in c.events} == {(3, "acc-1"), (1, "acc-1")}


def test_a_deleted_topic_ends_the_follow(kafka_bootstrap: str, collectors: list[Collector]) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topic = f"doomed-{time.monotonic_ns()}"
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    follower = TopicFollower(ConnectionProfile(kafka_bootstrap), topic, Decoder())
    collectors.append(c := Collector(follower))
    c.wait_for(lambda: len(follower.state.positions) == 1)
    admin.delete_topics([topic])[topic].result(30)
    c.thread.join(60)
    assert isinstance(c.ended, FollowEnded) and "deleted" in str(c.ended)


def test_following_commits_nothing(
    kafka_bootstrap: str, make_topic: Callable[..., str], collectors: list[Collector]
) -> None:
    topic = make_topic()
    produce(kafka_bootstrap, topic, numbered(20))
    group = f"billing-{topic[-6:]}"
    real = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    real.commit(offsets=[TopicPartition(topic, 0, 7)], asynchronous=False)
    real.close()
    profile = ConnectionProfile(
        kafka_bootstrap, {"group.id": group, "enable.auto.commit": "true"}
    )  # a user's -X must not turn following into a member of their group
    follower = TopicFollower(profile, topic, Decoder(), start={0: 0})
    collectors.append(c := Collector(follower))
    c.wait_for(lambda: len(c.events) == 20)
    c.stop()
    check = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    committed = check.committed([TopicPartition(topic, 0)], timeout=10)
    check.close()
    assert committed[0].offset == 7


@pytest.mark.slow
def test_a_broker_restart_loses_and_duplicates_nothing() -> None:
    handle = broker_harness.start()
    try:
        admin = AdminClient({"bootstrap.servers": handle.bootstrap})
        admin.create_topics([NewTopic("live", 2, 1)])["live"].result(30)
        follower = TopicFollower(ConnectionProfile(handle.bootstrap), "live", Decoder())
        c = Collector(follower)
        c.wait_for(lambda: len(follower.state.positions) == 2)
        produce(handle.bootstrap, "live", numbered(300))
        c.wait_for(lambda: len(c.events) >= 300)
        handle = broker_harness.restart(handle, down_s=3)
        producer = Producer({"bootstrap.servers": handle.bootstrap})
        for r in numbered(300, start=300):
            producer.produce("live", key=r.key, value=r.value)
        assert producer.flush(60) == 0
        c.wait_for(lambda: len(c.events) >= 600, timeout=120)
        time.sleep(1)
        c.stop()
        assert sorted(e.data["n"] for e in c.events) == list(range(600))  # each once
        assert any(s.startswith("reconnecting") for s in c.statuses)
    finally:
        broker_harness.stop(handle)
