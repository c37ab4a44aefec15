"""The headless commands ``topics``, ``events`` and ``export`` against the real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main
from app.sources import ClusterSource
from kafka_io.eventfile import open_event_file
from kafka_io.murmur2 import partition_for_key
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000


def _records(n: int) -> list[Rec]:
    return [
        Rec(
            json.dumps(
                {"eventType": "Deposited" if i % 3 else "Opened", "payload": {"amount": i}}
            ).encode(),
            key=f"acc-{i % 10}".encode(),
            timestamp_ms=T0 + i * 1000,
            headers=[("source", b"test")] if i % 2 else [],
        )
        for i in range(n)
    ]


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_topics_json(kafka_bootstrap: str, make_topic: Callable[..., str], capsys) -> None:
    topic = make_topic(4)
    produce(kafka_bootstrap, topic, _records(20))
    assert main(["topics", "--bootstrap", kafka_bootstrap, "--json"]) == 0
    by_name = {o["topic"]: o for o in _lines(capsys)}
    assert by_name[topic]["partitions"] == 4
    assert by_name[topic]["count"] == 20


def test_topics_of_an_event_file_as_the_cluster_had_them(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path, capsys
) -> None:
    topic = make_topic(3)
    produce(kafka_bootstrap, topic, _records(45))
    exported = tmp_path / "x.avro"
    assert main(["export", "-b", kafka_bootstrap, "-t", topic, "-o", str(exported)]) == 0
    capsys.readouterr()
    assert main(["topics", "--file", str(exported), "--json"]) == 0
    (listed,) = _lines(capsys)
    assert listed["topic"] == topic and listed["count"] == 45
    cluster = ClusterSource(ConnectionProfile(kafka_bootstrap)).partitions(topic)
    assert {p["partition"]: p["count"] for p in listed["per_partition"]} == {
        p.partition: p.high - p.low for p in cluster if p.high > p.low
    }


def test_topics_of_a_damaged_file_count_what_is_intact_and_say_so(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path, capsys
) -> None:
    topic = make_topic(1)
    produce(kafka_bootstrap, topic, _records(3000))
    exported = tmp_path / "x.avro"
    assert main(["export", "-b", kafka_bootstrap, "-t", topic, "-o", str(exported)]) == 0
    cut = tmp_path / "cut.avro"
    cut.write_bytes(exported.read_bytes()[: exported.stat().st_size // 2])
    capsys.readouterr()
    assert main(["topics", "--file", str(cut), "--json"]) == 2
    captured = capsys.readouterr()
    (listed,) = [json.loads(line) for line in captured.out.splitlines()]
    assert 0 < listed["count"] < 3000
    (line,) = captured.err.strip().splitlines()
    assert "damaged after" in line


def test_topics_of_a_file_that_is_not_one_is_one_line(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n")
    assert main(["topics", "--file", str(junk)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an event file" in err[0]


def test_events_json_filters_and_keys(
    kafka_bootstrap: str, make_topic: Callable[..., str], capsys
) -> None:
    topic = make_topic(3)
    produce(kafka_bootstrap, topic, _records(90))
    args = ["events", "-b", kafka_bootstrap, "-t", topic, "--json"]
    assert main([*args, "--aggregate", "acc-4", "--type", "Deposited"]) == 0
    rows = _lines(capsys)
    expected = [i for i in range(90) if i % 10 == 4 and i % 3]
    assert [r["data"]["payload"]["amount"] for r in rows] == expected
    assert set(rows[0]) >= {
        "topic",
        "partition",
        "offset",
        "timestamp",
        "key",
        "type",
        "aggregate",
        "headers",
        "data",
        "error",
    }
    assert rows[0]["timestamp"].endswith("Z")
    assert main([*args, "--from", "2023-11-14T22:14:00Z", "--to", "2023-11-14T22:14:09Z"]) == 0
    stamps = [r["timestamp"] for r in _lines(capsys)]
    assert stamps and all("2023-11-14T22:14:0" in s for s in stamps)
    assert main([*args, "--limit", "5"]) == 0
    assert len(_lines(capsys)) == 5


def test_aggregate_read_touches_only_its_partition(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(6)
    produce(kafka_bootstrap, topic, _records(60))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    parts = source.partitions_for_aggregate(topic, "acc-7")
    assert parts == [partition_for_key(b"acc-7", 6)]
    read = source.read(topic, partitions=parts, key=b"acc-7")
    events = list(read.events())
    assert read.report.assigned == parts
    assert {e.partition for e in events} == set(parts)
    assert {e.aggregate for e in events} == {"acc-7"}  # the others were skipped undecoded
    assert [e.data["payload"]["amount"] for e in events] == list(range(7, 60, 10))


def test_export_then_file_is_byte_exact(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
    capsys,
) -> None:
    topic = make_topic(2)
    recs = [*_records(40), Rec(None, key=b"acc-1"), Rec(b"\xff\x00broken", key=b"\x00\x01")]
    produce(kafka_bootstrap, topic, recs)
    out = tmp_path / "export.avro"
    assert main(["export", "-b", kafka_bootstrap, "-t", topic, "--out", str(out)]) == 0
    capsys.readouterr()
    from confluent_kafka import Consumer, TopicPartition

    raw: dict[tuple[int, int], tuple[Any, ...]] = {}
    c = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    c.assign([TopicPartition(topic, p, 0) for p in range(2)])
    while len(raw) < len(recs):
        for m in c.consume(100, timeout=2):
            raw[(int(m.partition() or 0), int(m.offset() or 0))] = (
                m.key(),
                m.value(),
                m.timestamp()[1],
                m.headers() or [],
            )
    c.close()
    exported = {(e.partition, e.offset): e for e in open_event_file(out).iter_events()}
    assert set(exported) == set(raw)
    for pos, (key, value, ts, headers) in raw.items():
        ev = exported[pos]
        assert ev.key_bytes == key and ev.value == value and ev.timestamp_ms == ts
        assert list(ev.headers) == [tuple(h) for h in headers]
    # And the file answers like the cluster does.
    assert main(["events", "--file", str(out), "--json", "--aggregate", "acc-3"]) == 0
    from_file = _lines(capsys)
    assert (
        main(["events", "-b", kafka_bootstrap, "-t", topic, "--json", "--aggregate", "acc-3"]) == 0
    )
    assert from_file == _lines(capsys)


def test_unreachable_broker_is_one_line_and_fast() -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "app", "topics", "--bootstrap", "127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "127.0.0.1:9" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 15
