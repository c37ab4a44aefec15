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

from app.index import store as store
from app.index.topic_index import TopicIndex
from app.replay.replayer import Replayer
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


def catch_up(
    profile: ConnectionProfile, topic: str, index: TopicIndex, tmp: Path
) -> tuple[store.CatchUp, int]:
    """What the app does on opening a topic; returns the decision and records read."""
    cluster = Cluster(profile)
    marks = {p.partition: (p.low, p.high) for p in cluster.topic(topic).partitions}
    probes = {
        p: next(iter(read(profile, topic, {p: (off, off + 1)})), None)
        for p, off in store.fingerprint_offsets(index).items()
        if off < marks.get(p, (0, 0))[1]
    }
    decision = store.reconcile(index, marks, probes, cache_dir=tmp)
    new = read(profile, topic, {p: (start, marks[p][1]) for p, start in decision.plan.items()})
    for i in range(0, len(new), 100):
        decision.index.append(new[i : i + 100])
    for p, (low, high) in marks.items():
        decision.index.mark_position(p, high, low)
    store.save(decision.index, tmp)
    return decision, len(new)


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
    cluster_id = Cluster(profile).cluster_id() or kafka_bootstrap
    produce(kafka_bootstrap, topic, records(0, 240))

    index = store.load_or_new(cluster_id, topic, Decoder(), cache_dir=tmp_path)
    first, n_read = catch_up(profile, topic, index, tmp_path)
    assert n_read == 240 and first.rebuilt is None and len(first.index) == 240

    produce(kafka_bootstrap, topic, records(240, 90))
    reopened = store.load_or_new(cluster_id, topic, Decoder(), cache_dir=tmp_path)
    assert len(reopened) == 240 and reopened.cache_note is None
    second, n_read = catch_up(profile, topic, reopened, tmp_path)
    assert n_read == 90  # only the new records were fetched
    assert second.rebuilt is None and len(second.index) == 330

    highs = {p.partition: (0, p.high) for p in Cluster(profile).topic(topic).partitions}
    everything = read(profile, topic, highs)
    full = TopicIndex(topic, Decoder())
    full.append(everything)
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
    third, n_read = catch_up(
        profile, topic, store.load_or_new(cluster_id, topic, Decoder(), cache_dir=tmp_path),
        tmp_path,
    )  # fmt: skip
    assert third.rebuilt is not None and "differs" in third.rebuilt
    assert n_read == 400 and len(third.index) == 400
