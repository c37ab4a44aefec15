"""``export`` with the filters of ``events``, against the real broker: the file holds
exactly the matching records, byte for byte, and reads back like the cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main
from kafka_io.event import iso_utc
from kafka_io.eventfile import open_event_file
from kafka_io.murmur2 import partition_for_key

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000
PARTITIONS = 4


def _value(i: int) -> bytes:
    kind = ("Opened", "Deposited", "Withdrawn")[i % 3]
    return json.dumps({"eventType": kind, "payload": {"amount": i, "memo": f"m{i % 7}"}}).encode()


def _records() -> list[Rec]:
    recs = [
        Rec(_value(i), f"acc-{i % 5}".encode(), timestamp_ms=T0 + i * 1000,
            headers=[("trace", f"t{i}".encode()), ("bin", b"\xff\x00")] if i % 4 == 0 else [])
        for i in range(60)
    ]  # fmt: skip
    recs.append(Rec(b"\xff\x00not json", b"acc-3", timestamp_ms=T0 + 61_000))
    recs.append(Rec(None, b"acc-3", timestamp_ms=T0 + 62_000))
    # acc-3's key, in a partition murmur2 does not give it: an aggregate read skips it.
    stray = (partition_for_key(b"acc-3", PARTITIONS) + 1) % PARTITIONS
    recs.append(Rec(_value(99), b"acc-3", partition=stray, timestamp_ms=T0 + 63_000))
    # An aggregate that lives only where murmur2 does not put it.
    elsewhere = (partition_for_key(b"loner", PARTITIONS) + 1) % PARTITIONS
    recs.append(Rec(_value(42), b"loner", partition=elsewhere, timestamp_ms=T0 + 64_000))
    return recs


@pytest.fixture
def topic(kafka_bootstrap: str, make_topic: Callable[..., str]) -> tuple[str, list[Rec]]:
    name = make_topic(PARTITIONS)
    recs = _records()
    produce(kafka_bootstrap, name, recs)
    return name, recs


def _exported(path: Path) -> list[tuple[bytes | None, bytes | None, int, list]]:
    return sorted(
        ((e.key_bytes, e.value, e.timestamp_ms, list(e.headers))
         for e in open_event_file(path).iter_events()),
        key=lambda r: r[2],
    )  # fmt: skip


def _expected(recs: list[Rec]) -> list[tuple[bytes | None, bytes | None, int, list]]:
    return sorted(((r.key, r.value, r.timestamp_ms or 0, r.headers) for r in recs),
                  key=lambda r: r[2])  # fmt: skip


def test_export_an_aggregate_by_type_and_time(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, recs = topic
    out = tmp_path / "acc-3.avro"
    since, until = T0 + 10_000, T0 + 50_000
    argv = ["-b", kafka_bootstrap, "-t", name, "--aggregate", "acc-3", "--type", "Deposited",
            "--type", "Withdrawn", "--from", iso_utc(since), "--to", str(until)]  # fmt: skip
    assert main(["export", *argv, "--out", str(out)]) == 0
    capsys.readouterr()
    home = partition_for_key(b"acc-3", PARTITIONS)
    wanted = [
        r for i, r in enumerate(recs[:60])
        if r.key == b"acc-3" and i % 3 in (1, 2) and since <= (r.timestamp_ms or 0) <= until
    ]  # fmt: skip
    assert wanted and _exported(out) == _expected(wanted)
    assert {e.partition for e in open_event_file(out).iter_events()} == {home}
    # The file answers as the cluster does.
    assert main(["events", "--file", str(out), "--json"]) == 0
    from_file = capsys.readouterr().out
    assert main(["events", *argv, "--json"]) == 0
    assert from_file == capsys.readouterr().out


def test_export_by_text_keeps_errors_and_tombstones_byte_exact(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, recs = topic
    out = tmp_path / "m3.avro"
    c = ["-b", kafka_bootstrap, "-t", name, "--out", str(out)]
    assert main(["export", *c, "--text", '"memo": "m3"']) == 0
    assert _exported(out) == _expected([r for r in recs if r.value and b'"memo": "m3"' in r.value])
    # The whole aggregate: its undecodable record and its tombstone too.  Five keys
    # cannot prove a partitioner, so every partition is read and the record with acc-3's
    # key in another partition is acc-3's too.
    assert main(["export", *c, "-a", "acc-3"]) == 0
    assert "reading every partition" in capsys.readouterr().err
    assert _exported(out) == _expected([r for r in recs if r.key == b"acc-3"])
    # Told the partitioner, the read keeps to acc-3's partition and skips the stray.
    assert main(["export", *c, "-a", "acc-3", "--partitioner", "murmur2"]) == 0
    stray = recs[62]
    assert _exported(out) == _expected([r for r in recs[:62] if r.key == b"acc-3"])
    assert stray.value not in {e.value for e in open_event_file(out).iter_events()}


def test_export_an_aggregate_written_with_another_partitioner(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, recs = topic
    out = tmp_path / "loner.avro"
    c = ["export", "-b", kafka_bootstrap, "-t", name, "-a", "loner", "-o", str(out)]
    assert main(c) == 0
    assert "reading every partition" in capsys.readouterr().err
    assert _exported(out) == _expected([recs[-1]])
    # Even told murmur2, an aggregate missing from its partition is looked for everywhere.
    out.unlink()
    assert main([*c, "--partitioner", "murmur2"]) == 0
    err = capsys.readouterr().err
    assert "'loner' is not in partition" in err and "reading every partition" in err
    assert _exported(out) == _expected([recs[-1]])
