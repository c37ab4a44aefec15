"""The index against the real broker: incremental catch-up reads only what is new, a
recreated topic is caught, and replay from the index matches an independent fold."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from app.index.topic_cache import CachedRead, open_topic
from app.replay.replayer import Replayer
from app.sources import ClusterSource
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, TopicReader

pytestmark = pytest.mark.kafka
BASE_MS = 1_760_000_000_000
ACCOUNTS = [f"acc-{i}" for i in range(8)]


def records(start: int, n: int, tag: str = "") -> list[Rec]:
    out = []
    for i in range(start, start + n):
        agg = ACCOUNTS[i % len(ACCOUNTS)]
        body = {
            "eventId": f"{tag}{i}",
            "eventType": "MoneyWithdrawn" if i % 5 == 4 else "MoneyDeposited",
            "aggregateId": agg,
            "payload": {"amount": i % 17 + 1},
        }
        out.append(Rec(orjson.dumps(body), agg.encode(), timestamp_ms=BASE_MS + i * 1000))
    return out


def read(profile: ConnectionProfile, topic: str, plan: dict[int, tuple[int, int]]) -> list[Event]:
    reader = TopicReader(profile, topic, Decoder())
    ranges = [PartitionRange(p, start, end) for p, (start, end) in plan.items() if end > start]
    return [e for batch in reader.read(ranges) for e in batch] if ranges else []


def catch_up(profile: ConnectionProfile, topic: str, tmp: Path) -> CachedRead:
    """What the app does on opening a topic (the CLI's and the GUI's code)."""
    return open_topic(ClusterSource(profile), topic, cache_dir=tmp)


def balance(events: list[Event]) -> int:
    total = 0
    for e in events:
        amount = orjson.loads(e.value or b"{}")["payload"]["amount"]
        total += -amount if e.type == "MoneyWithdrawn" else amount
    return total


def fold_balance(state: int | None, event: Event) -> int:
    amount = event.data["payload"]["amount"]
    return (state or 0) + (-amount if event.type == "MoneyWithdrawn" else amount)


def recreate(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([topic])[topic].result(30)
    deadline = time.monotonic() + 60
    while True:
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_catch_up_and_recreated_topic(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    profile = ConnectionProfile(kafka_bootstrap)
    topic = make_topic(partitions=3)
    produce(kafka_bootstrap, topic, records(0, 240))

    first = catch_up(profile, topic, tmp_path)
    assert (first.read, first.reused, first.note) == (240, 0, None)
    assert len(first.index) == 240 and first.report.complete

    produce(kafka_bootstrap, topic, records(240, 90))
    second = catch_up(profile, topic, tmp_path)
    assert second.reused == 240 and second.read == 90  # only the new records were fetched
    assert second.note is None and len(second.index) == 330

    highs = {p.partition: (0, p.high) for p in Cluster(profile).topic(topic).partitions}
    everything = read(profile, topic, highs)
    caught_up = second.index
    key = {(caught_up.ref(r).partition, caught_up.ref(r).offset) for r in range(len(caught_up))}
    assert key == {(e.partition, e.offset) for e in everything}

    # replay from the (persisted, caught-up) index equals an independent fold
    agg = "acc-3"
    mine = sorted((e for e in everything if e.aggregate == agg), key=lambda e: e.timestamp_ms)
    at = mine[len(mine) // 2].timestamp_ms
    rp = Replayer.from_index(caught_up, agg, fold_balance)
    result = rp.state_at(timestamp_ms=at)
    want = [e for e in mine if e.timestamp_ms <= at]
    assert result.state == balance(want) and result.events_applied == len(want)
    assert rp.state_at().state == balance(mine)

    # the topic is deleted and recreated with *more* records: offsets line up, the
    # watermarks look plausible, only the fingerprint of the first records differs
    recreate(kafka_bootstrap, topic, 3)
    produce(kafka_bootstrap, topic, records(1000, 400, tag="new-"))
    third = catch_up(profile, topic, tmp_path)
    assert third.note is not None and "differs" in third.note
    assert third.read == 400 and third.reused == 0 and len(third.index) == 400
