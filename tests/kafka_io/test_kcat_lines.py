"""kcat -J lines the reader promised to turn into error events, and used to die on.

An offset of 1e400 or Infinity, a partition of 1e10, a timestamp of 1e300, numbers past
64 bits and JSON nested deeper than 1024 levels each aborted the whole file; now each is
an error event at its line and the lines after it are read.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from app.cli.main import main
from kafka_io.kcat import bounded_lines, read_kcat_jsonl

GOOD = b'{"topic":"t","partition":0,"offset":%d,"ts":1700000000000,"key":"k","payload":"{}"}'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"topic":"t","partition":0,"offset":1e400,"payload":null}', "offset inf"),
        (b'{"topic":"t","partition":0,"offset":Infinity,"payload":null}', "offset inf"),
        (b'{"topic":"t","partition":0,"offset":NaN,"payload":null}', "offset nan"),
        (b'{"topic":"t","partition":0,"offset":9223372036854775808}', "out of range"),
        (b'{"topic":"t","partition":0,"offset":-2}', "offset -2 is out of range"),
        (b'{"topic":"t","partition":1e10,"offset":1}', "partition 1e+10 is out of range"),
        (b'{"topic":"t","partition":2147483648,"offset":1}', "partition 2147483648 is out"),
        (b'{"topic":"t","partition":0,"offset":1,"ts":1e300}', "ts 1e+300 is out of range"),
        (b'{"topic":"t","partition":0,"offset":1,"ts":1' + b"0" * 30 + b"}", "ts 1e+30 is out of"),
        (b'{"topic":"t","partition":true,"offset":1}', "partition True is not"),
        (b'{"topic":7,"partition":0,"offset":1}', "topic is not a string"),
        (b'{"topic":"t","partition":0,"offset":1,"headers":{"a":"b"}}', "headers is not a list"),
        (b'{"topic":"t","partition":0,"offset":1,"headers":[1,"v"]}', "header name is not"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'{"topic":"t","partition":0,"offset":1,"payload":' + b"[" * 5000, "nests too deeply"),
        (
            b'{"topic":"t","partition":0,"offset":1,"payload":' + b"[" * 2000 + b"]" * 2000 + b"}",
            "nests too deeply",
        ),
    ],
)
def test_a_bad_line_is_an_error_event_and_the_rest_is_read(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b"\n".join([GOOD % 0, line, GOOD % 2]) + b"\n")
    first, bad, last = read_kcat_jsonl(path)
    assert first.offset == 0 and last.offset == 2 and last.error is None
    assert bad.partition == -1 and bad.offset == 2 and bad.topic == "t"
    assert bad.error is not None and bad.error.startswith("line 2: not a kcat -J record: ")
    assert reason in bad.error
    assert bad.value == line


def test_values_past_orjsons_writer_depth_are_kept(tmp_path: Path) -> None:
    """kcat -s avro prints decoded values as JSON; one 500 deep (orjson writes 254) is kept."""
    deep = b"[" * 500 + b"]" * 500
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"topic":"t","partition":0,"offset":4,"payload":' + deep + b"}\n")
    (ev,) = read_kcat_jsonl(path)
    assert ev.error is None and ev.value == deep


def test_the_command_prints_every_event_of_a_file_with_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dump.jsonl"
    bad = b'{"topic":"t","partition":0,"offset":1e400,"payload":"{}"}'
    path.write_bytes(b"\n".join([GOOD % 0, bad, GOOD % 2, b'{"topic":"t","offset":Infinity}']))
    assert main(["events", "--file", str(path), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["partition"], r["offset"], r["error"] is None) for r in rows] == [
        (-1, 2, False),
        (-1, 4, False),
        (0, 0, True),
        (0, 2, True),
    ]


def test_lines_longer_than_the_limit_are_skipped_not_held() -> None:
    data = b"short\n" + b"x" * 5000 + b"\nafter\n" + b"y" * 5000
    lines = list(bounded_lines(io.BytesIO(data), limit=100))
    assert lines[0] == b"short\n" and lines[2] == b"after\n"
    assert lines[1] is lines[3]  # the stand-in for a line past the limit
    assert len(lines) == 4


def test_a_line_past_the_limit_is_an_error_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kafka_io.kcat as kcat

    monkeypatch.setattr(kcat, "MAX_LINE_BYTES", 200)
    path = tmp_path / "long.jsonl"
    long_line = orjson.dumps({"topic": "t", "partition": 0, "offset": 1, "payload": "z" * 500})
    path.write_bytes(b"\n".join([GOOD % 0, long_line, GOOD % 2]))
    first, long, last = read_kcat_jsonl(path)
    assert long.error == "line 2: not a kcat -J record: longer than 200 bytes"
    assert long.value is None and first.error is None and last.offset == 2
