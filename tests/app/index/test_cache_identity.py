"""The persisted index serves only what the same inputs would read again: the registry
and the isolation level are part of its identity, records that failed only because the
registry was down are decoded again, and a recreated topic or an edited position is
caught (reliability issue, items 5 and 6)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from kafka_helpers import Rec, produce
from registry_helpers import produce_avro
from registry_proxy import RegistryProxy

from app.index.topic_cache import open_topic
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka
SCHEMA = {
    "type": "record",
    "name": "AccountOpened",
    "fields": [{"name": "owner", "type": "string"}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_registry_added_later_is_not_ignored(
    kafka_bootstrap: str,
    schema_registry_url: str,
    make_topic: Callable[..., str],
    make_registry_client: Callable[..., SchemaRegistryClient],
    tmp_path: Path,
) -> None:
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    produce_avro(kafka_bootstrap, client, topic, SCHEMA, [{"owner": f"o{i}"} for i in range(5)])
    without = open_topic(
        ClusterSource(ConnectionProfile(kafka_bootstrap)), topic, cache_dir=tmp_path
    )
    assert {without.index.type_of(r) for r in range(5)} == {"unknown"}
    with_registry = ClusterSource(
        ConnectionProfile(kafka_bootstrap, registry_url=schema_registry_url)
    )
    again = open_topic(with_registry, topic, cache_dir=tmp_path)
    assert again.read == 5 and again.reused == 0  # another identity: read again
    assert {again.index.type_of(r) for r in range(5)} == {"AccountOpened"}
    assert again.index.error_rows == {}


def test_records_the_registry_could_not_serve_are_decoded_when_it_can(
    kafka_bootstrap: str,
    schema_registry_url: str,
    make_topic: Callable[..., str],
    make_registry_client: Callable[..., SchemaRegistryClient],
    tmp_path: Path,
) -> None:
    topic = make_topic()
    client = make_registry_client(schema_registry_url)
    produce_avro(kafka_bootstrap, client, topic, SCHEMA, [{"owner": f"o{i}"} for i in range(5)])
    port = free_port()  # nothing listens there yet: the registry is down
    path = schema_registry_url.split("/", 3)[3]
    url = f"http://127.0.0.1:{port}/{path}"
    source = ClusterSource(ConnectionProfile(kafka_bootstrap, registry_url=url))
    first = open_topic(source, topic, cache_dir=tmp_path)
    errors = set(first.index.error_rows.values())
    assert len(first.index) == 5 and errors and all("unreachable" in e for e in errors)
    with RegistryProxy(schema_registry_url, port=port):
        back = open_topic(source.clone(), topic, cache_dir=tmp_path)
        assert back.reused == 5 and back.read == 0  # the same identity: not read again...
        assert back.index.error_rows == {}  # ...but its undecoded records are decoded now
        assert {back.index.type_of(r) for r in range(5)} == {"AccountOpened"}


def test_read_uncommitted_does_not_leak_into_the_default(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic()
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"Committed"}', b"a")])
    tx = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    tx.init_transactions(30)
    tx.begin_transaction()
    tx.produce(topic, key=b"a", value=b'{"eventType":"Aborted"}')
    tx.flush(30)
    tx.abort_transaction(30)
    uncommitted = ConnectionProfile(kafka_bootstrap, {"isolation.level": "read_uncommitted"})
    dirty = open_topic(ClusterSource(uncommitted), topic, cache_dir=tmp_path)
    assert {dirty.index.type_of(r) for r in range(len(dirty.index))} == {"Committed", "Aborted"}
    clean = open_topic(ClusterSource(ConnectionProfile(kafka_bootstrap)), topic, cache_dir=tmp_path)
    assert [clean.index.type_of(r) for r in range(len(clean.index))] == ["Committed"]


def test_a_topic_recreated_with_the_same_first_records_is_caught(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic()
    same_start = [
        Rec(orjson.dumps({"eventType": "A", "n": i}), b"k", timestamp_ms=1_700_000_000_000 + i)
        for i in range(5)
    ]
    produce(
        kafka_bootstrap,
        topic,
        [*same_start, Rec(b'{"eventType":"Old"}', b"k", timestamp_ms=1_700_000_001_000)],
    )
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    first = open_topic(source, topic, cache_dir=tmp_path)
    assert len(first.index) == 6
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.delete_topics([topic])[topic].result(30)
    for _ in range(120):  # the broker takes a moment to forget the deleted topic
        try:
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
            break
        except Exception:
            time.sleep(0.5)
    # The same first five records, then different ones: offsets and watermarks line up.
    produce(
        kafka_bootstrap,
        topic,
        [*same_start, Rec(b'{"eventType":"New"}', b"k", timestamp_ms=1_700_000_002_000)],
    )
    again = open_topic(source.clone(), topic, cache_dir=tmp_path)
    assert again.note is not None and "last record" in again.note
    assert [again.index.type_of(r) for r in range(6)][-1] == "New"


def test_an_edited_resume_position_is_not_trusted(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic()
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"E"}', b"k") for _ in range(10)])
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    open_topic(source, topic, cache_dir=tmp_path)
    (meta_path,) = tmp_path.rglob("meta.json")
    meta = json.loads(meta_path.read_text())
    meta["partitions"]["0"]["next_offset"] = 5  # say, edited by hand
    meta_path.write_text(json.dumps(meta))
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"E"}', b"k") for _ in range(3)])
    again = open_topic(source.clone(), topic, cache_dir=tmp_path)
    assert again.note is not None and "positions were changed" in again.note
    offsets = [again.index.ref(r).offset for r in range(len(again.index))]
    assert offsets == list(range(13))  # every record once: none skipped, none twice


def test_records_of_an_open_transaction_are_read_once_it_commits(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic()
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"Before"}', b"k") for _ in range(10)])
    tx = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    tx.init_transactions(30)
    tx.begin_transaction()
    for _ in range(5):
        tx.produce(topic, key=b"k", value=b'{"eventType":"InTransaction"}')
    tx.flush(30)
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    during = open_topic(source, topic, cache_dir=tmp_path)
    assert len(during.index) == 10  # read_committed: the open transaction is not visible
    tx.commit_transaction(30)
    produce(kafka_bootstrap, topic, [Rec(b'{"eventType":"After"}', b"k") for _ in range(3)])
    after = open_topic(source.clone(), topic, cache_dir=tmp_path)
    types = [after.index.type_of(r) for r in range(len(after.index))]
    assert after.reused == 10
    assert types == ["Before"] * 10 + ["InTransaction"] * 5 + ["After"] * 3
