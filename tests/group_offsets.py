"""A real consumer group's committed offsets: set some, and read them all, to prove that
reading with the explorer changes none of them."""

from __future__ import annotations

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient


def commit_some(bootstrap: str, topic: str, at_least: int) -> str:
    """A consumer group that consumed at least ``at_least`` records of ``topic`` and
    committed; returns its id."""
    group = f"real-group-{topic}"
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    consumed = 0
    while consumed < at_least:
        consumed += len([m for m in consumer.consume(50, timeout=5) if m.error() is None])
    consumer.commit(asynchronous=False)
    consumer.close()
    return group


def committed_by_group(bootstrap: str, topic: str) -> dict[str, dict[int, int]]:
    """Every group's committed offsets on ``topic``, by partition."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    out: dict[str, dict[int, int]] = {}
    for g in admin.list_consumer_groups(request_timeout=10).result().valid:
        req = [ConsumerGroupTopicPartitions(g.group_id)]
        res = admin.list_consumer_group_offsets(req, request_timeout=10)[g.group_id].result()
        offsets = {tp.partition: tp.offset for tp in res.topic_partitions if tp.topic == topic}
        if offsets:
            out[g.group_id] = offsets
    return out
