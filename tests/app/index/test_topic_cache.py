"""Reopening a topic reads only what is new; a recreated topic or a corrupt cache is
detected and rebuilt.  Against the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from app.index.topic_cache import open_topic
from app.sources import ClusterSource
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


def _recs(n: int, tag: str) -> list[Rec]:
    return [
        Rec(f'{{"eventType":"{tag}","i":{i}}}'.encode(), key=f"a{i % 9}".encode()) for i in range(n)
    ]


def _recreate(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([topic])[topic].result(30)
    deadline = time.monotonic() + 30
    while True:
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
            return
        except Exception:  # still being deleted: the broker says so until it is gone
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_reopen_reads_only_new_records(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(3)
    produce(kafka_bootstrap, topic, _recs(100, "First"))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    first = open_topic(source, topic, cache_dir=tmp_path)
    assert (first.read, first.reused, len(first.index)) == (100, 0, 100)

    produce(kafka_bootstrap, topic, _recs(50, "Second"))
    again = open_topic(ClusterSource(ConnectionProfile(kafka_bootstrap)), topic, cache_dir=tmp_path)
    assert (again.read, again.reused, len(again.index)) == (50, 100, 150)
    assert again.note is None
    assert sorted(again.index.type_names) == ["First", "Second"]

    unchanged = open_topic(source, topic, cache_dir=tmp_path)
    assert (unchanged.read, unchanged.reused) == (0, 150)


def test_recreated_topic_is_detected_and_rebuilt(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(2)
    produce(kafka_bootstrap, topic, _recs(40, "Old"))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    assert len(open_topic(source, topic, cache_dir=tmp_path).index) == 40

    _recreate(kafka_bootstrap, topic, 2)
    produce(kafka_bootstrap, topic, _recs(60, "New"))  # more records than before
    reopened = open_topic(
        ClusterSource(ConnectionProfile(kafka_bootstrap)), topic, cache_dir=tmp_path
    )
    assert reopened.note and "recreated" in reopened.note
    assert len(reopened.index) == 60
    assert reopened.index.type_names == ["New"]


def test_corrupt_cache_is_rebuilt(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(1)
    produce(kafka_bootstrap, topic, _recs(30, "E"))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    open_topic(source, topic, cache_dir=tmp_path)
    stored = list(tmp_path.rglob("offset*.bin"))
    assert stored
    stored[0].write_bytes(b"garbage")
    reopened = open_topic(source, topic, cache_dir=tmp_path)
    assert reopened.note and "discarded" in reopened.note
    assert (reopened.read, len(reopened.index)) == (30, 30)
