"""Reading back the app's own ``events --json`` lines, as an event file."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from app.output.event_json import dumps, event_record
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import detect_file_kind, iter_file_batches
from kafka_io.jsonl import read_event_jsonl

# 2023-11-14T22:13:20Z in epoch milliseconds (19675 days and 22:13:20).
T = (19675 * 86400 + 22 * 3600 + 13 * 60 + 20) * 1000


def line(**fields: object) -> str:
    rec: dict[str, object] = {
        "topic": "bank",
        "partition": 0,
        "offset": 0,
        "timestamp": "2023-11-14T22:13:20.000Z",
        "key": None,
        "type": "T",
        "aggregate": None,
        "headers": [],
        "data": None,
        "schema_id": None,
        "error": None,
    }
    rec.update(fields)
    return json.dumps(rec)


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{ln}\n" for ln in lines))
    return path


def test_every_field_comes_back(tmp_path: Path) -> None:
    deposit = {"eventType": "Deposited", "payload": {"amount": 5, "note": "café"}}
    path = write(
        tmp_path / "own.jsonl",
        line(
            partition=3,
            offset=41,
            timestamp="2023-11-14T22:13:20.123Z",
            key="acc-1",
            type="Deposited",
            aggregate="acc-1",
            headers=[["source", "test"], ["bin", {"base64": "/wA="}], ["nil", None]],
            data=deposit,
        ),
        line(offset=1, key={"base64": "//4="}, timestamp="1969-12-31T23:59:59.999Z"),
    )
    assert detect_file_kind(path) == "events-jsonl"
    first, second = read_event_jsonl(path)
    assert (first.topic, first.partition, first.offset) == ("bank", 3, 41)
    assert first.timestamp_ms == T + 123
    assert first.key == "acc-1" and first.key_bytes == b"acc-1"
    assert first.headers == (("source", b"test"), ("bin", b"\xff\x00"), ("nil", None))
    assert first.data == deposit
    assert first.value is not None and orjson.loads(first.value) == deposit
    assert (first.type, first.aggregate, first.error) == ("Deposited", "acc-1", None)
    assert second.key == b"\xff\xfe"
    assert second.timestamp_ms == -1


def test_type_and_aggregate_stay_as_printed(tmp_path: Path) -> None:
    # Printed with a type rule and an aggregate rule the file cannot know about.
    path = write(
        tmp_path / "own.jsonl",
        line(key="pay-1", type="Captured", aggregate="t1", data={"kind": "Captured"}),
        line(offset=1, key="pay-2", type="Mystery", aggregate=None, data={"eventType": "X"}),
    )
    events = list(read_event_jsonl(path))
    assert [(e.type, e.aggregate) for e in events] == [("Captured", "t1"), ("Mystery", None)]


def test_errors_stay_errors_and_tombstones_stay_tombstones(tmp_path: Path) -> None:
    error = "invalid JSON: unexpected character at byte 0"
    path = write(
        tmp_path / "own.jsonl",
        line(key="acc-1", type="unknown", aggregate="acc-1", error=error),
        line(offset=1, key="acc-1", type="tombstone", aggregate="acc-1"),
        line(offset=2, type="Avro", data={"id": 7, "blob": {"base64": "AA=="}}, schema_id=12),
        line(topic="blobs", type="unknown", data={"base64": "/wAB"}),
    )
    bad, tomb, avro, raw = read_event_jsonl(path)
    assert (bad.type, bad.error, bad.data, bad.aggregate) == ("unknown", error, None, "acc-1")
    assert (tomb.type, tomb.value, tomb.data, tomb.error) == ("tombstone", None, None, None)
    assert avro.schema_id == 12 and avro.data == {"id": 7, "blob": {"base64": "AA=="}}
    assert raw.value == b"\xff\x00\x01" and raw.error is None


def test_text_values_come_back_as_the_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "log.jsonl",
        line(topic="log", type="unknown", data="GET /index.html 200"),
        line(topic="log", offset=1, type="unknown", data='{"looks": "like json"}'),
        line(topic="log", offset=2, type="unknown", data="  indented"),
    )
    events = list(read_event_jsonl(path))
    assert [e.value for e in events] == [
        b"GET /index.html 200",
        b'{"looks": "like json"}',
        b"  indented",
    ]
    assert [e.data for e in events] == [
        "GET /index.html 200",
        '{"looks": "like json"}',
        "  indented",
    ]


@pytest.mark.parametrize(
    "bad, says",
    [
        ("this is not json", "invalid JSON"),
        ("[1, 2]", "not an object"),
        ('{"topic": "bank", "partition": 0}', "missing field"),
        (line(timestamp="last tuesday"), "not ISO 8601"),
        (line(partition="0"), "partition is not an integer"),
        (line(key={"base64": "***"}), "invalid base64"),
        (line(headers=[["h"]]), "headers"),
    ],
)
def test_a_bad_line_is_an_error_event_naming_it(tmp_path: Path, bad: str, says: str) -> None:
    path = write(tmp_path / "own.jsonl", line(data={"a": 1}), bad, line(offset=1, data={"a": 2}))
    events = [e for batch in iter_file_batches(path) for e in batch]
    assert [e.offset for e in events] == [0, 2, 1]
    broken = events[1]
    assert broken.partition == -1 and broken.error is not None
    assert broken.error.startswith("line 2: not an events --json record")
    assert says in broken.error
    assert broken.value == bad.encode()
    assert [e.data for e in (events[0], events[2])] == [{"a": 1}, {"a": 2}]


def test_kcat_lines_are_still_kcat(tmp_path: Path) -> None:
    kcat = {"topic": "t", "partition": 0, "offset": 0, "ts": T, "key": "k", "payload": "{}"}
    path = write(tmp_path / "kcat.jsonl", json.dumps(kcat))
    assert detect_file_kind(path) == "kcat-jsonl"


def test_printed_then_read_gives_the_same_lines(tmp_path: Path) -> None:
    # Records as they come from Kafka, decoded as a read decodes them, printed as
    # ``events --json`` prints them; the file read back prints the same lines.
    rows = [
        ("bank", 0, 0, T, b"acc-1", b'{"eventType":"Opened","payload":{"n":1}}', None),
        ("bank", 0, 1, T + 1, b"\xff\xfe", b'{"eventType":"Deposited","x":[1,2.5,null]}',
         [("trace", b"abc"), ("raw", b"\x80")]),
        ("bank", 1, 0, T + 2, b"acc-2", None, None),
        ("bank", 1, 1, T + 3, b"acc-2", b"\xff\x00broken", None),
        ("bank", 1, 2, T + 4, None, b'"a JSON string"', None),
        ("logs", 0, 0, T + 5, None, b"plain text line", None),
    ]  # fmt: skip
    printed = [dumps(event_record(ev)) for ev in Decoder().decode_rows(rows)]
    path = write(tmp_path / "own.jsonl", *printed)
    again = [dumps(event_record(ev)) for ev in read_event_jsonl(path)]
    assert again == printed
    assert all(isinstance(e, Event) for e in read_event_jsonl(path))
