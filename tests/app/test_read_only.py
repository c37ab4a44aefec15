"""Reading never disturbs the cluster: after the explorer lists, reads and exports a topic,
a real consumer group's committed offsets are unchanged, and no other group holds
committed offsets for the topic.  Following is covered in this process and in a worker
process (the window's way)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient
from kafka_helpers import Rec, produce

from app.cli.main import main
from app.index.follow_columns import FollowColumns
from app.sources import ClusterSource
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import read_topic
from kafka_io.worker_pool import WorkerPool

pytestmark = pytest.mark.kafka


def _committed_by_group(admin: AdminClient, topic: str) -> dict[str, dict[int, int]]:
    groups = admin.list_consumer_groups(request_timeout=10).result().valid
    out: dict[str, dict[int, int]] = {}
    for g in groups:
        req = [ConsumerGroupTopicPartitions(g.group_id)]
        res = admin.list_consumer_group_offsets(req, request_timeout=10)[g.group_id].result()
        offsets = {tp.partition: tp.offset for tp in res.topic_partitions if tp.topic == topic}
        if offsets:
            out[g.group_id] = offsets
    return out


def test_browsing_leaves_committed_offsets_untouched(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(3)
    produce(
        kafka_bootstrap,
        topic,
        [
            Rec(f'{{"eventType":"E","i":{i}}}'.encode(), key=f"k{i % 7}".encode())
            for i in range(300)
        ],
    )
    group = f"real-group-{topic}"
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    consumed = 0
    while consumed < 120:
        msgs = consumer.consume(50, timeout=5)
        consumed += len([m for m in msgs if m.error() is None])
    consumer.commit(asynchronous=False)
    consumer.close()

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    before = _committed_by_group(admin, topic)
    assert set(before) == {group}
    assert sum(before[group].values()) >= 120

    # Browse every way the explorer can: metadata, whole-topic read, partition read,
    # CLI listing, CLI events and export.
    profile = ConnectionProfile(kafka_bootstrap)
    cluster = Cluster(profile)
    cluster.topics()
    cluster.groups()
    assert sum(len(b) for b in read_topic(profile, topic, Decoder())) == 300
    assert sum(len(b) for b in read_topic(profile, topic, Decoder(), partitions=[1])) > 0
    assert main(["topics", "--bootstrap", kafka_bootstrap, "--json"]) == 0
    assert main(["events", "--bootstrap", kafka_bootstrap, "--topic", topic, "--json"]) == 0
    assert main(["events", "-b", kafka_bootstrap, "-t", topic, "--aggregate", "k3"]) == 0
    out = tmp_path / "x.avro"
    assert (
        main(["export", "--bootstrap", kafka_bootstrap, "--topic", topic, "--out", str(out)]) == 0
    )
    # Following, even told to use the real group and to auto-commit: still only a reader.
    cancel = CancelToken()
    hostile = ConnectionProfile(kafka_bootstrap, {"group.id": group, "enable.auto.commit": "true"})
    following = ClusterSource(hostile).follow(topic, cancel, start={0: 0, 1: 0, 2: 0})
    seen = 0
    for batch in following:
        seen += len(batch)
        if seen >= 300:
            cancel.cancel()
    assert seen == 300
    # Following as the window does it, in a worker process with its own consumer.
    cancel = CancelToken()
    pool = WorkerPool()
    try:
        in_worker = FollowColumns(
            ClusterSource(hostile), topic, cancel, start={0: 0, 1: 0, 2: 0}, pool=pool
        )
        seen = 0
        for delivery in in_worker:
            seen += len(delivery.batch)
            if seen >= 300:
                cancel.cancel()
        assert seen == 300 and in_worker.pid is not None
    finally:
        pool.shutdown()

    after = _committed_by_group(admin, topic)
    assert after == before, "a real group's committed offsets changed, or a new group committed"
    listed = admin.list_consumer_groups(request_timeout=10).result().valid
    assert not [g.group_id for g in listed if g.group_id.startswith("event-explorer-")]
