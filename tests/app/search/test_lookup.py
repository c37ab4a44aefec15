"""One id, every topic: the support engineer's search, against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from confluent_kafka import Producer

from app.replay.folds import FoldRegistry
from app.search.lookup import search_aggregate
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


def produce(bootstrap: str, topic: str, rows: list[tuple[str, str, int]]) -> dict[str, int]:
    """(key, type, ts) rows with librdkafka's default partitioner; key -> partition."""
    producer = Producer({"bootstrap.servers": bootstrap})
    placed: dict[str, int] = {}

    def delivered(err: object, msg: object) -> None:
        assert err is None
        placed[msg.key().decode()] = msg.partition()  # type: ignore[attr-defined]

    for key, etype, ts in rows:
        body = {"eventType": etype, "payload": {"by": key, "at": ts}}
        producer.produce(topic, key=key, value=orjson.dumps(body), timestamp=ts,
                         on_delivery=delivered)  # fmt: skip
    assert producer.flush(30) == 0
    return placed


def test_an_id_is_found_in_every_topic_from_its_one_partition(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    orders, payments, other = make_topic(6), make_topic(6), make_topic(3)
    t0 = 1_760_000_000_000
    customers = [f"cust-{i}" for i in range(50)]
    produce(kafka_bootstrap, orders, [(c, "OrderPlaced", t0 + i) for i, c in enumerate(customers)])
    paid = produce(
        kafka_bootstrap, payments,
        [(c, "PaymentCaptured", t0 + 1000 + i) for i, c in enumerate(customers)]
        + [("cust-7", "RefundIssued", t0 + 5000)],
    )  # fmt: skip
    produce(kafka_bootstrap, other, [("someone-else", "Noise", t0)])
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    result = search_aggregate(
        source, "cust-7", [orders, payments, other], folds=FoldRegistry.with_builtins()
    )
    assert result.searched == sorted([orders, payments, other]) and not result.problems
    by_topic = {m.topic: m for m in result.matches}
    assert [e.type for e in by_topic[orders].events] == ["OrderPlaced"]
    assert [e.type for e in by_topic[payments].events] == ["PaymentCaptured", "RefundIssued"]
    assert by_topic[payments].partitions == [paid["cust-7"]]  # one partition read
    assert by_topic[other].events == []
    timeline = result.timeline()
    assert [e.type for e in timeline] == ["OrderPlaced", "PaymentCaptured", "RefundIssued"]
    # Each topic's fold (here the built-in merge) gives a state.
    assert by_topic[payments].state == {"by": "cust-7", "at": t0 + 5000}
