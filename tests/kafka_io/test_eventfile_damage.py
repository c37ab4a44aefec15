"""Damaged event files: what survives, and the one line that says what is wrong.

None of these can crash or exhaust memory (those are in test_hostile_files.py), so they
run in process, through kafka_io and through the ``events`` command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest
from hostile import SYNC, container, kafka_record

from app.cli.main import main
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import (
    META_COUNT,
    META_FORMATS,
    META_SCHEMAS,
    META_TOPICS,
    RECORD_SCHEMA,
    EventFileError,
    open_event_file,
    write_event_file,
)


def events(n: int, topic: str = "orders") -> list[Event]:
    return Decoder("json").decode_rows(
        (topic, i % 3, i, 1_700_000_000_000 + i, f"k-{i}".encode(), orjson.dumps({"i": i}), None)
        for i in range(n)
    )


def coordinates(evs: list[Event]) -> list[tuple[Any, ...]]:
    return [(e.topic, e.partition, e.offset, e.key_bytes, e.value) for e in evs]


def read_until_damage(path: Path, batch_size: int = 100) -> tuple[list[Event], str | None]:
    got: list[Event] = []
    try:
        for batch in open_event_file(path).iter_batches(batch_size):
            got += batch
    except EventFileError as exc:
        return got, str(exc)
    return got, None


@pytest.mark.parametrize("codec", ["null", "deflate", "xz", "bzip2"])
def test_a_truncated_export_yields_every_whole_event_first(tmp_path: Path, codec: str) -> None:
    original = events(3000)
    path = tmp_path / "full.avro"
    write_event_file(path, original, codec=codec, block_bytes=16 * 1024)
    data = path.read_bytes()
    assert open_event_file(path).count == 3000
    with path.open("rb") as fo:  # where each block ends, and how many events came before
        ends = [(b.offset + b.size, b.num_records) for b in fastavro.block_reader(fo)]
    for cut in (len(data) - 1, len(data) * 3 // 4, len(data) // 2, len(data) // 5):
        short = tmp_path / f"cut-{cut}.avro"
        short.write_bytes(data[:cut])
        got, error = read_until_damage(short, batch_size=5000)
        assert error is not None and f"damaged after {len(got)} events" in error
        assert coordinates(got) == coordinates(original[: len(got)])
        whole_blocks = sum(n for end, n in ends if end <= cut)
        assert len(got) >= whole_blocks, (codec, cut, len(got), whole_blocks)


def test_a_truncated_export_prints_its_events_through_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.avro"
    write_event_file(path, events(2000), block_bytes=16 * 1024)
    path.write_bytes(path.read_bytes()[:-100])
    assert main(["events", "--file", str(path), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "damaged after" in err and "truncated" in err


def test_damage_in_the_middle_stops_at_the_damaged_block(tmp_path: Path) -> None:
    original = events(3000)
    path = tmp_path / "orders.avro"
    write_event_file(path, original, block_bytes=16 * 1024)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    got, error = read_until_damage(path)
    assert error is not None and f"damaged after {len(got)} events" in error
    assert 500 < len(got) < 2000
    assert coordinates(got) == coordinates(original[: len(got)])


def test_a_wrong_sync_marker_is_damage(tmp_path: Path) -> None:
    record = kafka_record("t", 0, 0, 0, b"{}")
    good = container(RECORD_SCHEMA, [(1, record), (1, record)], metadata=_topics({"t": 2}))
    path = tmp_path / "sync.avro"
    path.write_bytes(good[: -len(SYNC)] + b"x" * len(SYNC))
    got, error = read_until_damage(path)
    assert len(got) == 1
    assert error is not None and "block 1 does not end in the sync marker" in error


def _topics(topics: dict[str, int]) -> dict[str, bytes]:
    return {META_TOPICS: json.dumps(topics).encode()}


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (META_FORMATS, b'["json"]', "event_explorer.formats is a list, not an object"),
        (META_SCHEMAS, b'["{}"]', "event_explorer.schemas is a list, not an object"),
        (META_TOPICS, b'[{"name": "t"}]', "event_explorer.topics is a list"),
        (META_TOPICS, b'{"t": "many"}', "not an object of counts"),
        (META_SCHEMAS, b'{"abc": "{}"}', "'abc' where a schema id belongs"),
        (META_SCHEMAS, b'{"7": {"type": "long"}}', "gives schema id 7 as an object"),
        (META_FORMATS, b'{"t": "thrift"}', "unknown format 'thrift'"),
        (META_COUNT, b"1e400", "event_explorer.count is the float inf, not a count"),
        (META_COUNT, b"-3", "not a count"),
        (META_FORMATS, b"\xff\xfe", "event_explorer.formats is not JSON"),
        (META_TOPICS, b"[" * 100_000, "event_explorer.topics nests too deeply"),
    ],
)
def test_metadata_of_the_wrong_shape_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: bytes, expected: str
) -> None:
    meta = {**_topics({"t": 1}), key: value}
    path = tmp_path / "meta.avro"
    path.write_bytes(
        container(RECORD_SCHEMA, [(1, kafka_record("t", 0, 0, 0, b"{}"))], metadata=meta)
    )
    with pytest.raises(EventFileError, match="damaged event file metadata") as caught:
        open_event_file(path)
    assert expected in str(caught.value)
    assert main(["events", "--file", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_metadata_that_names_other_topics_is_an_error_not_an_empty_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [kafka_record("payments", 0, i, i, b"{}") for i in range(3)]
    meta = _topics({"orders": 3})
    path = tmp_path / "mismatch.avro"
    path.write_bytes(container(RECORD_SCHEMA, [(3, b"".join(records))], metadata=meta))
    with pytest.raises(EventFileError, match="damaged after 0 events") as caught:
        list(open_event_file(path).iter_events())
    assert "in topic 'payments', which its metadata does not list" in str(caught.value)
    assert main(["events", "--file", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "'payments'" in captured.err


def test_fewer_records_than_the_metadata_promises(tmp_path: Path) -> None:
    meta = {**_topics({"t": 5}), META_COUNT: b"5"}
    records = [kafka_record("t", 0, i, i, b"{}") for i in range(3)]
    path = tmp_path / "short.avro"
    path.write_bytes(container(RECORD_SCHEMA, [(3, b"".join(records))], metadata=meta))
    got, error = read_until_damage(path)
    assert [e.offset for e in got] == [0, 1, 2]
    assert error is not None and "damaged after 3 events: its metadata promises 5" in error


def test_an_export_lookalike_with_other_field_types_opens_as_foreign(tmp_path: Path) -> None:
    schema = json.loads(json.dumps(RECORD_SCHEMA))
    schema["fields"][1] = {"name": "partition", "type": "string"}
    rows: list[dict[str, Any]] = [
        {
            "key": None,
            "value": None,
            "topic": "t",
            "partition": "p0",
            "offset": 1,
            "timestamp_ms": 5,
            "headers": [],
        }
    ]
    path = tmp_path / "odd.avro"
    with path.open("wb") as fo:
        fastavro.writer(fo, fastavro.parse_schema(schema), rows)
    opened = open_event_file(path)
    assert not opened.native
    (ev,) = list(opened.iter_events())
    assert ev.partition == 0 and ev.data["partition"] == "p0" and ev.timestamp_ms == 5


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Obj\x01\x02\x14avro.codec\x0csnappy\x00" + SYNC, "unsupported codec 'snappy'"),
        (b"Obj\x01\x00" + SYNC, "no avro.schema"),
        (b"Obj\x01\x02\x16avro.schema\x06{{{\x00" + SYNC, "its schema is not valid Avro"),
        (b'Obj\x01\x02\x16avro.schema\x12"Nowhere"\x00' + SYNC, "not valid Avro"),
        (b"Obj\x01\x02\x16avro.schema\x7f", "the header is truncated"),
        (b"Obj\x01\x00" + SYNC[:5], "no sync marker"),
    ],
)
def test_broken_headers(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "header.avro"
    path.write_bytes(data)
    with pytest.raises(EventFileError, match="not a readable Avro container file") as caught:
        open_event_file(path)
    assert expected in str(caught.value)


@pytest.mark.parametrize("codec", ["null", "deflate", "xz", "bzip2"])
def test_every_codec_round_trips_through_the_bounded_reader(tmp_path: Path, codec: str) -> None:
    original = events(1200, "t")
    path = tmp_path / f"{codec}.avro"
    write_event_file(path, original, codec=codec, block_bytes=4096)
    got, error = read_until_damage(path, batch_size=333)
    assert error is None
    assert coordinates(got) == coordinates(original)
    assert [e.data for e in got] == [e.data for e in original]


def test_a_foreign_file_written_by_fastavro_reads_the_same(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "Reading",
        "fields": [
            {"name": "sensor", "type": "string"},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "values", "type": {"type": "array", "items": "double"}},
        ],
    }
    rows = [{"sensor": f"s{i}", "ts": 1_700_000_000_000 + i, "values": [i / 2]} for i in range(50)]
    path = tmp_path / "readings.avro"
    with path.open("wb") as fo:
        fastavro.writer(fo, fastavro.parse_schema(schema), rows, codec="deflate", sync_interval=200)
    with path.open("rb") as fo:
        expected = list(fastavro.reader(fo))
    got = list(open_event_file(path).iter_events())
    assert [e.data for e in got] == expected
    assert [e.timestamp_ms for e in got] == [r["ts"] for r in rows]
