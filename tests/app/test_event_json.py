"""The JSON output (``events --json``, ``state``, Copy as JSON) for whatever was read.

orjson parses JSON 1024 levels deep but writes only 254, so ``events --json`` died with
``TypeError: Recursion limit reached`` on values it had read; a timestamp in year 10000
(or before year 1) stopped ``events`` and ``state --history`` at that record.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hostile import run_limited

from app.cli.main import main
from app.output.event_json import _default, dumps, event_record
from app.output.json_text import dumps_deep
from kafka_io.event import Event, EventRef, iso_utc, timestamp_error
from kafka_io.eventfile import write_event_file

YEAR_10000 = 253_402_300_800_000  # 10000-01-01T00:00:00Z
BEFORE_YEAR_1 = -62_135_596_800_001
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@pytest.fixture
def deep_parsing() -> Iterator[None]:
    """json.loads recurses once per level; the test's parser needs room for 5,000."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    yield
    sys.setrecursionlimit(old)


def nest(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [253, 254, 255, 1023, 1024, 5000])
def test_deep_values_print_faithfully(depth: int, deep_parsing: None) -> None:
    value = nest(depth)
    for pretty in (False, True):
        text = dumps({"data": value}, pretty=pretty)
        assert json.loads(text) == {"data": value}


def test_the_deep_writer_matches_orjson_where_orjson_can_write() -> None:
    value = {
        "a": [1, 2.5, None, True, "x\u2603\n", {"b": []}, {}],
        "bytes": b"\x00\xff",
        1: {"nested": [[], [[]], {"c": {}}]},
        None: frozenset(),
        "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    for option in (orjson.OPT_NON_STR_KEYS, orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2):
        assert (
            dumps_deep(value, _default, option)
            == orjson.dumps(value, default=_default, option=option).decode()
        )


def test_integers_past_64_bits_and_circular_values() -> None:
    assert json.loads(dumps({"big": 2**80, "small": -(2**70)})) == {"big": 2**80, "small": -(2**70)}
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        dumps(loop)


def _event(ts: int, value: bytes, offset: int) -> Event:
    return Event("t", 0, offset, ts, "k", "", None, (), None, None, None, value)


def test_out_of_range_timestamps_are_raw_milliseconds_with_an_error() -> None:
    for ts in (YEAR_10000, BEFORE_YEAR_1, 2**63 - 1, -(2**63)):
        record = event_record(_event(ts, b"{}", 0))
        assert record["timestamp"] == ts
        assert record["error"] == f"timestamp {ts} ms is outside the years 1 to 9999"
        assert iso_utc(ts) == f"{ts} ms"
    ok = event_record(_event(LAST_MS, b"{}", 0))
    assert ok["timestamp"] == "9999-12-31T23:59:59.999Z" and ok["error"] is None
    both = event_record(_event(YEAR_10000, b"{}", 0)._replace(error="invalid JSON: x"))
    assert both["error"] == f"invalid JSON: x; {timestamp_error(YEAR_10000)}"
    ref = EventRef(0, 5, "T", YEAR_10000).to_json()
    assert ref["timestamp"] == YEAR_10000 and "outside the years" in ref["error"]
    assert "error" not in EventRef(0, 5, "T", 0).to_json()


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (-59_011_459_200_000, "0100-01-01T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (LAST_MS, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_iso_utc_at_known_instants(ts: int, text: str) -> None:
    assert iso_utc(ts) == text


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    values = [
        (1_700_000_000_000, orjson.dumps({"eventType": "Opened"})),
        (1_700_000_000_001, b"[" * 1024 + b"]" * 1024),  # as deep as the parser reads
        (YEAR_10000, orjson.dumps({"eventType": "Future"})),
        (1_700_000_000_003, json.dumps(nest(300)).encode()),
        (BEFORE_YEAR_1, orjson.dumps({"eventType": "Ancient"})),
        (1_700_000_000_005, orjson.dumps({"eventType": "Closed"})),
    ]
    path = tmp_path / "hostile.avro"
    write_event_file(
        path, [_event(ts, v, i) for i, (ts, v) in enumerate(values)], formats={"t": "json"}
    )
    return path


def test_events_json_prints_every_event(
    hostile_file: Path, capsys: pytest.CaptureFixture[str], deep_parsing: None
) -> None:
    assert main(["events", "--file", str(hostile_file), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = {r["offset"]: r for r in map(json.loads, captured.out.splitlines())}
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]
    assert rows[1]["data"] == json.loads(b"[" * 1024 + b"]" * 1024) and rows[1]["error"] is None
    assert rows[3]["data"] == nest(300)
    assert rows[2]["timestamp"] == YEAR_10000 and "outside the years" in rows[2]["error"]
    assert rows[4]["timestamp"] == BEFORE_YEAR_1 and "outside the years" in rows[4]["error"]
    assert rows[5]["timestamp"] == "2023-11-14T22:13:20.005Z" and rows[5]["error"] is None


def test_events_text_prints_every_event(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "--file", str(hostile_file)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 6
    assert f"{YEAR_10000} ms  0:2" in out and f"{BEFORE_YEAR_1} ms  0:4" in out


def test_state_history_goes_past_an_out_of_range_timestamp(
    hostile_file: Path, capsys: pytest.CaptureFixture[str], deep_parsing: None
) -> None:
    args = ["state", "--file", str(hostile_file), "-a", "k", "--fold", "events", "--history"]
    assert main(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 6
    stamps = {r["event"]["offset"]: r["event"]["timestamp"] for r in rows}
    assert stamps[2] == YEAR_10000 and stamps[4] == BEFORE_YEAR_1
    assert [r["event"].get("error") is None for r in rows].count(False) == 2


def test_deep_tuples_never_reach_orjson() -> None:
    """orjson does not count tuples against its depth limit: 5,000 of them crashed it."""
    script = (
        "from app.output.event_json import dumps\n"
        "value = None\n"
        "for level in range(5000):\n"
        "    value = (value,)\n"
        "print(len(dumps({'state': value})))\n"
    )
    done = run_limited([sys.executable, "-c", script])
    assert done.returncode == 0, done.describe()
    assert done.stdout.strip() == str(len('{"state":}') + 5000 * 2 + len("null"))
