"""``events --json`` output is an event file: a real topic printed, saved and read back
gives the same lines and the same states."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000

BALANCE = """from app.replay.folds import fold


@fold("balance", topics=["*"])
def balance(state, event):
    state = dict(state or {"balance": 0, "seen": 0})
    state["seen"] += 1
    if event.type == "Deposited":
        state["balance"] += event.data["payload"]["amount"]
    elif event.type == "Withdrawn":
        state["balance"] -= event.data["payload"]["amount"]
    return state
"""


def _records() -> list[Rec]:
    recs = []
    for i in range(45):
        kind = ("Opened", "Deposited", "Deposited", "Withdrawn")[i % 4]
        body = {"eventType": kind, "payload": {"amount": i + 1, "note": "é ☃"}}
        headers: list[tuple[str, bytes | None]] = (
            [("kind", kind.encode()), ("raw", bytes([0xFF, i]))] if i % 3 == 0 else []
        )
        recs.append(Rec(json.dumps(body).encode(), f"acc-{i % 4}".encode(),
                        timestamp_ms=T0 + i * 1500, headers=headers))  # fmt: skip
    recs.append(Rec(b"\xff\xfe not json", b"acc-1", timestamp_ms=T0 + 90_000))
    recs.append(Rec(None, b"acc-2", timestamp_ms=T0 + 91_000))
    recs.append(Rec(b'{"eventType": "Odd"}', b"\x00\xff\xfe", timestamp_ms=T0 + 92_000))
    return recs


def _expected_balance(recs: list[Rec], key: bytes) -> dict[str, int]:
    balance = seen = 0
    for r in recs:
        if r.key != key:
            continue
        seen += 1
        body = json.loads(r.value) if r.value and r.value.startswith(b"{") else {}
        amount = body.get("payload", {}).get("amount", 0)
        balance += {"Deposited": amount, "Withdrawn": -amount}.get(body.get("eventType", ""), 0)
    return {"balance": balance, "seen": seen}


@pytest.fixture
def topic(kafka_bootstrap: str, make_topic: Callable[..., str]) -> tuple[str, list[Rec]]:
    name = make_topic(3)
    recs = _records()
    produce(kafka_bootstrap, name, recs)
    return name, recs


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_printed_then_read_back_gives_the_same_lines(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, recs = topic
    printed = _out(capsys, "events", "-b", kafka_bootstrap, "-t", name, "--json")
    assert len(printed.splitlines()) == len(recs)
    own = tmp_path / "own.jsonl"
    own.write_text(printed)
    again = _out(capsys, "events", "--file", str(own), "--json")
    assert again.splitlines() == printed.splitlines()
    rows = [json.loads(line) for line in again.splitlines()]
    assert sum(r["type"] == "tombstone" for r in rows) == 1
    assert sum(r["error"] is not None for r in rows) == 1
    assert min(r["timestamp"] for r in rows) == "2023-11-14T22:13:20.000Z"
    # Filters work on the file as on the cluster.
    narrow = ["--aggregate", "acc-1", "--type", "Deposited", "--json"]
    assert _out(capsys, "events", "--file", str(own), *narrow) == _out(
        capsys, "events", "-b", kafka_bootstrap, "-t", name, *narrow
    )


def test_types_decided_by_rules_stay_as_printed(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, _ = topic
    rule = ["--type-rule", "header:kind", "--json"]
    printed = _out(capsys, "events", "-b", kafka_bootstrap, "-t", name, "--aggregate", "acc-0",
                   *rule)  # fmt: skip
    assert {json.loads(line)["type"] for line in printed.splitlines()} == {"Opened", "unknown"}
    own = tmp_path / "acc-0.jsonl"
    own.write_text(printed)
    assert _out(capsys, "events", "--file", str(own), "--json") == printed


def test_state_from_the_json_lines_equals_the_cluster(
    kafka_bootstrap: str, topic: tuple[str, list[Rec]], tmp_path: Path, capsys
) -> None:
    name, recs = topic
    own = tmp_path / "own.jsonl"
    own.write_text(_out(capsys, "events", "-b", kafka_bootstrap, "-t", name, "--json"))
    folds = tmp_path / "balance.py"
    folds.write_text(BALANCE)
    for acc in ("acc-1", "acc-2"):
        args = ["-a", acc, "--folds", str(folds), "--blame", "--json"]
        on_cluster = json.loads(_out(capsys, "state", "-b", kafka_bootstrap, "-t", name, *args))
        from_file = json.loads(_out(capsys, "state", "--file", str(own), *args))
        assert from_file == on_cluster
        assert from_file["state"] == _expected_balance(recs, acc.encode())
