"""A build split across worker processes, against the real broker: the same index as a
build in one thread, cancel and a killed worker mid-build, and the cluster undisturbed."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from evfactory import log_sorted
from index_helpers import positions_in_log_order, same_index
from kafka_helpers import BASE_MS, Rec, produce

from app.index.build import BuildRead
from app.index.topic_cache import build_plan, finish_topic, open_topic, plan_topic
from app.index.topic_index import TopicIndex
from app.sources import ClusterSource, Progress
from kafka_io.cancel import CancelToken
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


def _records(n: int, seed: int = 3) -> list[Rec]:
    """Keyed JSON envelopes, with some headers, null values, undecodable values and
    clocks that step back, on partitions given explicitly."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        agg = rng.randrange(300)
        value: bytes | None = f'{{"eventType":"T{i % 5}","aggregateId":"a{agg}","i":{i}}}'.encode()
        if i % 97 == 0:
            value = None
        elif i % 89 == 0:
            value = b"{not json"
        headers: list[tuple[str, bytes | None]] = (
            [("trace", f"t{i}".encode())] if i % 11 == 0 else []
        )
        ts = BASE_MS + i * 3 - (500 if i % 41 == 0 else 0)
        out.append(Rec(value, f"a{agg}".encode(), agg % 6, ts, headers))
    return out


@pytest.fixture(scope="module")
def big_topic(kafka_bootstrap: str) -> str:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    from confluent_kafka.admin import NewTopic

    name = f"parallel-{os.getpid()}-{random.randrange(10**6)}"
    admin.create_topics([NewTopic(name, 6, 1)])[name].result(30)
    produce(kafka_bootstrap, name, _records(40_000))
    return name


def _source(bootstrap: str) -> ClusterSource:
    return ClusterSource(ConnectionProfile(bootstrap))


def test_worker_processes_build_exactly_the_index_one_thread_builds(
    kafka_bootstrap: str, big_topic: str, tmp_path: Path
) -> None:
    one = open_topic(_source(kafka_bootstrap), big_topic, cache_dir=tmp_path / "a", workers=0)
    three = open_topic(_source(kafka_bootstrap), big_topic, cache_dir=tmp_path / "b", workers=3)
    assert one.report.incomplete is None and three.report.incomplete is None
    assert len(one.index) == 40_000
    same_index(one.index, three.index)
    # ...which is the index of the same events appended one by one in log order.
    events = list(_source(kafka_bootstrap).read(big_topic).events())
    direct = TopicIndex(big_topic)
    direct.append(log_sorted(events))
    same_index(direct, three.index)
    assert three.index.order_parts()[0] == 40_000  # rows were appended in log order


def test_cancel_mid_build_stops_the_workers_and_saves_nothing(
    kafka_bootstrap: str, big_topic: str, tmp_path: Path
) -> None:
    source = _source(kafka_bootstrap)
    plan = plan_topic(source, big_topic, tmp_path)
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.done > 0:
            token.cancel()

    read = build_plan(source, plan, workers=2, cancel=token, on_progress=progress)
    assert isinstance(read, BuildRead)
    for batch in read:
        plan.index.append_columns(batch)
    assert read.report.cancelled
    assert len(plan.index) < 40_000
    assert not list(tmp_path.rglob("meta.json"))  # a cancelled read is not saved
    # The workers go on serving reads.
    again = open_topic(source, big_topic, cache_dir=tmp_path / "again", workers=2)
    assert len(again.index) == 40_000 and again.report.incomplete is None


def test_a_killed_worker_is_reported_and_a_retry_completes_the_index(
    kafka_bootstrap: str, big_topic: str, tmp_path: Path
) -> None:
    source = _source(kafka_bootstrap)
    plan = plan_topic(source, big_topic, tmp_path)
    killed: list[int] = []
    holder: list[BuildRead] = []

    def progress(p: Progress) -> None:
        if p.done > 0 and not killed and holder and holder[0].pids:
            killed.append(holder[0].pids[0])
            os.kill(killed[0], signal.SIGKILL)

    read = build_plan(source, plan, workers=2, on_progress=progress)
    assert isinstance(read, BuildRead)
    holder.append(read)
    for batch in read:
        plan.index.append_columns(batch)
    assert killed, "the read ended before a worker could be killed"
    report = read.report
    assert report.incomplete is not None and "died" in report.incomplete
    got = len(plan.index)
    assert got < 40_000
    finish_topic(plan, report, tmp_path)  # saved up to where each partition really got
    retry = open_topic(source, big_topic, cache_dir=tmp_path, workers=2)
    assert retry.report.incomplete is None
    assert (retry.reused, retry.reused + retry.read) == (got, 40_000)
    clean = open_topic(source, big_topic, cache_dir=tmp_path / "clean", workers=0)
    # The retry appended the rest after what the first read got: the rows are in
    # another order than a clean build's, but they are the same records, in log order.
    assert positions_in_log_order(retry.index) == positions_in_log_order(clean.index)
    by_pos = {(e.partition, e.offset): e.value for e in map(clean.index.event, range(40_000))}
    assert all(
        by_pos[(e.partition, e.offset)] == e.value for e in map(retry.index.event, range(40_000))
    )


def test_a_parallel_build_leaves_a_real_groups_offsets_as_they_were(
    kafka_bootstrap: str, big_topic: str, tmp_path: Path, make_topic: Callable[..., str]
) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions

    group = f"real-group-{big_topic}"
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    consumer.subscribe([big_topic])
    seen = 0
    while seen < 500:
        seen += len([m for m in consumer.consume(200, timeout=5) if m.error() is None])
    consumer.commit(asynchronous=False)
    consumer.close()
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})

    def committed() -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        for g in admin.list_consumer_groups(request_timeout=10).result().valid:
            req = [ConsumerGroupTopicPartitions(g.group_id)]
            res = admin.list_consumer_group_offsets(req, request_timeout=10)[g.group_id].result()
            offs = {tp.partition: tp.offset for tp in res.topic_partitions
                    if tp.topic == big_topic}  # fmt: skip
            if offs:
                out[g.group_id] = offs
        return out

    before = committed()
    assert set(before) == {group}
    built = open_topic(_source(kafka_bootstrap), big_topic, cache_dir=tmp_path, workers=3)
    assert len(built.index) == 40_000
    assert committed() == before
    listed = admin.list_consumer_groups(request_timeout=10).result().valid
    assert not [g.group_id for g in listed if g.group_id.startswith("event-explorer-")]
