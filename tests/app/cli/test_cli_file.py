"""Commands on an event file honour the same type and aggregate rules as on a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from app.cli.main import main
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file


def _file(path: Path) -> Path:
    events = [
        Event(
            "payments",
            0,
            i,
            1_700_000_000_000 + i,
            f"pay-{i}",
            "",
            None,
            (("tenant", f"t{i % 2}".encode()),),
            None,
            None,
            None,
            orjson.dumps({"kind": "Captured" if i % 3 else "Refunded", "amount": i}),
        )
        for i in range(12)
    ]
    write_event_file(path, events, formats={"payments": "json"})
    return path


def test_rules_apply_to_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path / "payments.avro")
    args = ["events", "--file", str(path), "--json"]
    rules = ["--aggregate-rule", "header:tenant", "--type-rule", "field:kind"]
    assert main([*args, *rules, "--aggregate", "t1", "--type", "Refunded"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["offset"] for r in rows] == [i for i in range(12) if i % 2 and not i % 3]
    assert {(r["aggregate"], r["type"]) for r in rows} == {("t1", "Refunded")}
    # Without the rules the key is the aggregate and nothing names a type.
    assert main([*args, "--aggregate", "pay-3"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["aggregate"] == "pay-3"
